"""``ArtifactViewer``: one artifact (or a run comparison) as a notebook panel.

The kernel builds the view spec (:mod:`kfp_nb._viewspec`); the front end draws
it (``js/PROTOCOL.md``, "Artifact viewers"). Traits hold the spec and, for
images, the capped image bytes; the full content travels only when the user
asks for a download, as a message buffer (capped at ``download_max_bytes``).
The helpers here also answer ``open_artifact`` / ``download`` requests of the
run table and run view, which show the same viewer in their detail pane.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import traitlets as t

from .. import _viewspec as vs
from .._client import Client
from ._base import Panel

__all__ = [
    "ArtifactViewer",
    "CompareView",
    "payload",
    "requested_artifact",
    "send_download",
]

_CACHE_SIZE = 8  # artifacts a panel keeps after open_artifact, for downloads
_cache_lock = threading.Lock()


def _text_field(content: dict, key: str, kind: str) -> str:
    value = content.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} needs {key} (a non-empty string)")
    return value


def requested_artifact(panel: Panel, content: dict) -> Any:
    """The artifact a request names (``run_id``, ``task_id``, ``name``), cached."""
    kind = str(content.get("kind"))
    key = tuple(_text_field(content, k, kind) for k in ("run_id", "task_id", "name"))
    if not isinstance(panel._client, Client):
        raise TypeError(f"{kind}: this panel has no client to read artifacts with")
    with _cache_lock:
        cache = panel.__dict__.setdefault("_artifact_cache", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    artifact = panel._client.artifact(*key)
    with _cache_lock:
        cache[key] = artifact
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return artifact


def payload(source: Any, caps: vs.ViewOptions | None = None) -> tuple[dict, bytes]:
    """``(spec, image bytes)`` of an artifact or comparison, under the caps."""
    return source._widget_payload(caps or vs.options)


def send_download(
    panel: Panel, source: Any, content: dict, caps: vs.ViewOptions | None = None
) -> None:
    name, mime, data = source._download(caps or vs.options)
    panel._push(
        {
            "id": content.get("id"),
            "kind": "download",
            "ok": True,
            "name": name,
            "mime": mime,
        },
        [data],
    )


class ArtifactViewer(Panel):
    """The viewer of one artifact: ``ArtifactViewer(artifact)`` or
    ``ArtifactViewer(client, run_id, task_id, name)``.

    Keyword arguments override caps of ``kfp_nb.options`` for this viewer
    (e.g. ``html_max_bytes=20_000_000``). ``spec`` is the view spec, ``image``
    the image bytes of an image spec (else empty).
    """

    _needs_client = False

    #: dict: the view spec (without image bytes), see js/PROTOCOL.md.
    spec = t.Dict().tag(sync=True)
    #: bytes: the image of an ``image`` spec, capped; empty otherwise.
    image = t.Bytes(b"").tag(sync=True)

    def __init__(
        self,
        source: Any,
        run_id: str | None = None,
        task_id: str | None = None,
        name: str | None = None,
        *,
        _payload: tuple[dict, bytes] | None = None,
        **caps: int,
    ) -> None:
        self._caps = vs.options.with_overrides(caps)
        client = None
        if run_id is not None or task_id is not None or name is not None:
            if not hasattr(source, "artifact") or not isinstance(source, Client):
                raise TypeError(
                    "ArtifactViewer(client, run_id, task_id, name) needs a "
                    f"kfp_nb.Client first, got {type(source).__name__}"
                )
            client, source = source, source.artifact(run_id, task_id, name)
        elif not hasattr(source, "_widget_payload"):
            raise TypeError(
                "ArtifactViewer takes an Artifact (client.artifact(...)) or "
                f"(client, run_id, task_id, name), got {type(source).__name__}"
            )
        else:
            client = getattr(source, "_client", None)
        self._source = source
        spec, image = _payload or payload(source, self._caps)
        super().__init__(
            client if isinstance(client, Client) else None,
            _panel="artifact_viewer", spec=spec, image=image,
        )  # fmt: skip

    @property
    def artifact(self) -> Any:
        """The artifact (or comparison) shown."""
        return self._source

    def _request_download(self, content: dict) -> None:
        if content.get("run_id"):  # another artifact, as in the other panels
            super()._request_download(content)
            return
        send_download(self, self._source, content, self._caps)

    def _summary(self) -> str:
        return f"{self.spec.get('kind', '')} of {self._source!r}"

    def _fallback_html(self) -> str:
        from .._artifact import static_html

        return static_html(self.spec, self.image)


class CompareView(ArtifactViewer):
    """Several runs side by side: ``CompareView(kfp_nb.compare(client, run_ids))``."""

    def __init__(self, comparison: Any, **caps: int) -> None:
        if not hasattr(comparison, "run_ids"):
            raise TypeError(
                f"CompareView takes kfp_nb.compare(...), got {type(comparison).__name__}"
            )
        super().__init__(comparison, **caps)
