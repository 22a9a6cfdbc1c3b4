"""Decoding ``read_artifact`` payloads: base64, then gzip and tar, all in memory.

Argo stores step outputs as gzipped tarballs holding one file, and the API hands
them back base64-encoded (SEMANTICS.md §10). Artifacts are written by pipeline
code, so a payload is untrusted input: every size is capped (encoded, compressed
and decompressed), nothing is written to disk, and tar members that are links,
devices, FIFOs, absolute paths or contain ``..`` are refused.

Two entry points:

- :func:`payload_bytes` is strict (used by ``Client.read_artifact``): it returns
  the single file's bytes or raises :class:`~kfp_nb.ArtifactError`.
- :func:`scan_payload` is lenient (for viewers): it returns every safe regular
  file and names each refused member with the reason, so a preview can show the
  good member and report the rest.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field

from ._errors import ArtifactError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PayloadScan",
    "decode_base64",
    "gunzip",
    "is_gzip",
    "is_tar",
    "payload_bytes",
    "scan_payload",
]

#: Cap on the decoded payload, the decompressed stream and the extracted file.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
#: Room for tar headers and record padding on top of the file size cap.
_TAR_OVERHEAD = 64 * 1024
#: More members than this is not an Argo output, whatever they contain.
_MAX_MEMBERS = 1000
_CHUNK = 64 * 1024


@dataclass
class PayloadScan:
    """What a payload holds: ``files`` (name → bytes) and ``refused`` members.

    ``kind`` is ``"tar"``, ``"gzip"`` (one compressed file) or ``"raw"``.
    ``refused`` lists ``(member name, reason)`` in archive order.
    """

    kind: str
    files: dict[str, bytes] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)


def decode_base64(data: str | bytes, *, max_bytes: int, where: str) -> bytes:
    """Standard base64 (as protojson writes ``bytes``) → bytes, size-capped."""
    if isinstance(data, str):
        data = data.encode("ascii", errors="replace")
    # 4 characters carry 3 bytes: refuse before allocating the decoded copy.
    if len(data) > (max_bytes // 3 + 1) * 4 + 4:
        raise ArtifactError(
            f"{where}: the payload is larger than max_bytes={max_bytes}; "
            "pass a larger max_bytes to read it"
        )
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        try:  # some proxies re-encode with the URL-safe alphabet
            # validate=True: a lenient decode turns garbage such as "%%%" into b"".
            return base64.b64decode(data, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise ArtifactError(
                f"{where}: the 'data' field is not valid base64 ({exc}); "
                "the server or a proxy altered the response"
            ) from None


def is_gzip(data: bytes) -> bool:
    return data[:2] == b"\x1f\x8b"


def is_tar(data: bytes) -> bool:
    """True for a POSIX/GNU tar: the ``ustar`` magic of the first header."""
    return len(data) >= 512 and data[257:262] == b"ustar"


def gunzip(data: bytes, *, max_bytes: int, where: str) -> bytes:
    """Decompress gzip (also concatenated members), stopping past ``max_bytes``."""
    out = bytearray()
    rest = data
    while is_gzip(rest):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pos = 0
        while not inflater.eof:
            chunk = inflater.unconsumed_tail
            if not chunk:
                if pos >= len(rest):
                    raise ArtifactError(f"{where}: truncated gzip data")
                chunk = rest[pos : pos + _CHUNK]
                pos += len(chunk)
            try:
                # The output cap is what stops a gzip bomb early.
                out += inflater.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise ArtifactError(f"{where}: corrupt gzip data ({exc})") from None
            if len(out) > max_bytes:
                raise ArtifactError(
                    f"{where}: the payload decompresses to more than {max_bytes} "
                    "bytes (possible gzip bomb); pass a larger max_bytes if it "
                    "is expected"
                )
        rest = inflater.unused_data + rest[pos:]
    return bytes(out)


def _refusal(member: tarfile.TarInfo) -> str | None:
    """Why a member must not be read, or None when it is a safe file or folder."""
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "path contains '..'"
    if member.issym() or member.islnk():
        return f"link to {member.linkname!r}"
    if member.ischr() or member.isblk():
        return "device node"
    if member.isfifo():
        return "FIFO"
    if not (member.isfile() or member.isdir()):
        return "not a regular file"
    return None


def _members(data: bytes, *, max_bytes: int, where: str):
    """Yield ``(member, refusal or None, tar)`` for each member, with caps."""
    try:
        # Opened outside ``with`` so only its own failure maps to ArtifactError.
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115
    except tarfile.TarError as exc:
        raise ArtifactError(f"{where}: not a readable tar archive ({exc})") from None
    with tar:
        count = 0
        try:
            for member in tar:
                count += 1
                if count > _MAX_MEMBERS:
                    raise ArtifactError(
                        f"{where}: the archive has more than {_MAX_MEMBERS} members"
                    )
                reason = _refusal(member)
                if reason is None and member.isfile() and member.size > max_bytes:
                    reason = f"{member.size} bytes, over max_bytes={max_bytes}"
                yield member, reason, tar
        except tarfile.TarError as exc:
            raise ArtifactError(f"{where}: corrupt tar archive ({exc})") from None


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def _unwrap(raw: bytes, *, max_bytes: int, where: str) -> tuple[str, bytes]:
    """Strip gzip if present: ``("tar" | "gzip" | "raw", bytes)``."""
    if is_gzip(raw):
        inner = gunzip(raw, max_bytes=max_bytes + _TAR_OVERHEAD, where=where)
        return ("tar" if is_tar(inner) else "gzip"), inner
    return ("tar" if is_tar(raw) else "raw"), raw


def _check_size(raw: bytes, *, max_bytes: int, where: str) -> None:
    if len(raw) > max_bytes + _TAR_OVERHEAD:
        raise ArtifactError(
            f"{where}: the payload is {len(raw)} bytes, over max_bytes={max_bytes}"
        )


def payload_bytes(
    data: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, where: str = "artifact"
) -> bytes:
    """The artifact's bytes from a ``read_artifact`` ``data`` field (strict).

    A gzipped tar or a plain tar must hold exactly one regular file (folders
    are allowed); any refused member, or a second file, raises ArtifactError.
    A gzip of a single file is decompressed; anything else is returned as is.
    """
    raw = decode_base64(data, max_bytes=max_bytes + _TAR_OVERHEAD, where=where)
    _check_size(raw, max_bytes=max_bytes, where=where)
    kind, inner = _unwrap(raw, max_bytes=max_bytes, where=where)
    if kind != "tar":
        if len(inner) > max_bytes:
            raise ArtifactError(f"{where}: more than max_bytes={max_bytes}")
        return inner
    found: list[tuple[str, bytes]] = []
    for member, reason, tar in _members(inner, max_bytes=max_bytes, where=where):
        if reason is not None:
            raise ArtifactError(
                f"{where}: refused archive member {member.name!r} ({reason}); "
                "the artifact was not read"
            )
        if member.isfile():
            found.append((member.name, _read(tar, member)))
            if len(found) > 1:
                names = ", ".join(repr(name) for name, _ in found)
                raise ArtifactError(
                    f"{where}: the archive holds more than one file ({names}); "
                    "use kfp_nb._artifacts.scan_payload to read several files"
                )
    if not found:
        raise ArtifactError(f"{where}: the archive holds no file")
    return found[0][1]


def scan_payload(
    data: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, where: str = "artifact"
) -> PayloadScan:
    """Every safe regular file of a payload, and every refused member by name.

    Meant for previews: an unsafe member never aborts the scan, it is listed in
    ``refused``. Size caps still raise ArtifactError, since nothing is safe to
    show from a payload that cannot be read within them. A name seen twice is
    refused the second time (it would overwrite the first on extraction).
    """
    raw = decode_base64(data, max_bytes=max_bytes + _TAR_OVERHEAD, where=where)
    _check_size(raw, max_bytes=max_bytes, where=where)
    kind, inner = _unwrap(raw, max_bytes=max_bytes, where=where)
    if kind != "tar":
        return PayloadScan(kind=kind, files={"": inner})
    scan = PayloadScan(kind="tar")
    total = 0
    seen: set[str] = set()
    for member, reason, tar in _members(inner, max_bytes=max_bytes, where=where):
        name = posixpath.normpath(member.name)
        if reason is None and name in seen:
            # On disk it would overwrite, or write through, the earlier member.
            reason = "name already used by an earlier member"
        seen.add(name)
        if reason is not None:
            scan.refused.append((member.name, reason))
        elif member.isfile():
            content = _read(tar, member)
            total += len(content)
            if total > max_bytes:
                raise ArtifactError(f"{where}: files exceed max_bytes={max_bytes}")
            scan.files[name] = content
    return scan
