"""Find a credential in text, in every form a careless program could write it.

A secret counts as leaked when any of these appears: the whole value, any run of
8 or more of its leading characters, or its base64 (standard or URL-safe, at each
of the three byte alignments, so base64 of ``"Bearer " + token`` or of a
``user:token`` pair is caught too). Base64 blobs in widget state (buffers of
binary traits) are decoded and searched as well.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Leak", "forms", "leaks", "texts_of"]

PREFIX = 8
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


@dataclass(frozen=True)
class Leak:
    where: str
    form: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.form} in …{self.excerpt}…"


def _base64_cores(secret: bytes) -> list[str]:
    """The part of ``b64(pad + secret)`` that depends on the secret alone.

    Base64 works on 3-byte groups: with 0, 1 or 2 bytes in front, the secret's
    characters land in different groups. Characters of groups that mix a pad
    byte (at the start) or the unknown tail (at the end) are dropped.
    """
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode()
        head = (shift * 4 + 2) // 3  # characters touched by the pad bytes
        usable = (shift + len(secret)) // 3 * 4  # characters of whole groups
        core = encoded[head:usable]
        if len(core) >= 8:
            cores += [core, core.replace("+", "-").replace("/", "_")]
    return cores


def forms(secret: str) -> dict[str, str]:
    """``{form name: text}`` for every form of ``secret`` searched for."""
    found = {"value": secret, f"prefix of {PREFIX}": secret[:PREFIX]}
    for i, core in enumerate(_base64_cores(secret.encode())):
        found[f"base64 #{i}"] = core
    return found


def leaks(where: str, text: str, secrets: Iterable[str]) -> list[Leak]:
    """Every form of every secret found in ``text`` (and in base64 blobs in it)."""
    found = []
    for label, body in _bodies(where, text):
        for secret in secrets:
            for form, needle in forms(secret).items():
                at = body.find(needle)
                if at >= 0:
                    excerpt = body[max(0, at - 20) : at + len(needle) + 20]
                    found.append(Leak(label, form, excerpt))
    return found


def _bodies(where: str, text: str) -> Iterator[tuple[str, str]]:
    yield where, text
    for match in _B64_RUN.finditer(text):
        blob = match.group(0)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(blob + "=" * (-len(blob) % 4))
            except (binascii.Error, ValueError):
                continue
            if len(raw) >= PREFIX:
                yield f"{where} (base64 blob decoded)", raw.decode("latin-1")


def texts_of(value: Any) -> str:
    """A JSON-able value as one text (for searching nested state)."""
    return json.dumps(value, ensure_ascii=False, default=str)
