"""The anywidget base of the panels: bundle, common traits, request dispatch.

The front end sends requests as custom messages (``{"kind", "id", ...}``); each
kind maps to a method. A failing method never kills the widget: its exception
becomes an ``ok: false`` reply naming the problem, is logged, and (for server
or network failures) is shown in the ``error`` trait.

The client is a plain Python attribute, never a trait: no token, cookie or
credentialed host reaches the front end, the saved notebook or a repr.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets as t

from .. import _errors, _states
from .._client import Client
from . import _remote

__all__ = ["NOT_BUILT", "Panel"]

logger = logging.getLogger("kfp_nb.widgets")

_STATIC = Path(__file__).resolve().parent.parent / "static"
NOT_BUILT = (
    "kfp_nb's front end is not built: run `make setup` "
    "(or pip install the package, which builds it)"
)
# Several lines, so anywidget takes it for source text rather than a file name.
_NOT_BUILT_ESM = f"""
function render({{ el }}) {{
  el.textContent = {json.dumps(NOT_BUILT)};
}}
export default {{ render }};
"""


def _bundle(name: str, missing: str) -> Path | str:
    """The built file, or ``missing`` in a fresh clone without a build."""
    path = _STATIC / name
    return path if path.is_file() else missing


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Panel(anywidget.AnyWidget):
    """Traits and message plumbing shared by :class:`RunTable` and :class:`RunView`."""

    _esm = _bundle("widget.js", _NOT_BUILT_ESM)
    _css = _bundle("widget.css", "")

    _panel = t.Unicode("").tag(sync=True)
    #: dict: the state rules of :func:`kfp_nb._states.rules_payload`.
    rules = t.Dict().tag(sync=True)
    #: str: IANA time zone for every time shown; ``""`` = the browser's.
    time_zone = t.Unicode("").tag(sync=True)
    #: str: the last server or network error, ``""`` when none.
    error = t.Unicode("").tag(sync=True)
    #: float: seconds between polls of active runs.
    poll_interval = t.Float(5.0).tag(sync=True)
    #: bool: live updates on or off.
    polling = t.Bool(True).tag(sync=True)
    #: str: ISO time of the last successful refresh, ``""`` before.
    updated_at = t.Unicode("").tag(sync=True)

    #: request kind → (method name, reply kind, run off the kernel's thread).
    _REQUESTS: ClassVar[dict[str, tuple[str, str, bool]]] = {
        "run_detail": ("_request_run_detail", "run_detail", True),
        "open_artifact": ("_request_open_artifact", "open_artifact", True),
        "download": ("_request_download", "download", True),
    }
    #: False for panels that can show data they already hold (ArtifactViewer).
    _needs_client: ClassVar[bool] = True

    def __init__(self, client: Any, **traits: Any) -> None:
        if self._needs_client and not isinstance(client, Client):
            raise TypeError(
                f"{type(self).__name__} needs a kfp_nb.Client (the panels make "
                "their own HTTP calls from the kernel, on threads, so not an "
                f"AsyncClient), got {type(client).__name__}"
            )
        # Set before the traits: ipywidgets may call close() from __del__ of a
        # half-built widget.
        self._client = client
        self._lock = threading.RLock()
        self._closed = False
        self._workers = ThreadPoolExecutor(4, thread_name_prefix="kfp_nb-panel")
        super().__init__(rules=_states.rules_payload(), **traits)
        self.on_msg(self._on_message)

    # Messages -------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> Future | None:
        """Dispatch one front-end request; returns the Future of background work."""
        if not isinstance(content, dict):
            logger.warning("kfp_nb panel: ignored a message that is not an object")
            return None
        kind = content.get("kind")
        spec = self._REQUESTS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            self._fail(content, str(kind), ValueError(f"unknown request kind {kind!r}"))
            return None
        name, reply_kind, background = spec
        handler = getattr(self, name)
        if not background:
            self._guarded(handler, content, reply_kind)
            return None
        if self._closed:
            return None
        return self._workers.submit(self._guarded, handler, content, reply_kind)

    def _guarded(self, handler: Any, content: dict, reply_kind: str) -> None:
        try:
            handler(content)
        except Exception as exc:
            logger.exception("kfp_nb panel: %s request failed", content.get("kind"))
            self._fail(content, reply_kind, exc)

    def _fail(self, content: dict, reply_kind: str, exc: BaseException) -> None:
        message = _remote.short_error(exc)
        if isinstance(exc, _errors.KFPError):
            self.error = message
        self._push(
            {"id": content.get("id"), "kind": reply_kind, "ok": False, "error": message}
        )

    def _push(
        self, content: dict[str, Any], buffers: list[bytes] | None = None
    ) -> None:
        """Send a message; dropped quietly once the widget is closed."""
        if self._closed or self.comm is None:
            return
        if content.get("id") is None:
            content.pop("id", None)
        try:
            self.send(content, buffers=buffers)
        except Exception:  # noqa: BLE001 - a comm closed under us: the view is gone
            logger.debug("kfp_nb panel: could not send %s", content.get("kind"))

    def _request_run_detail(self, content: dict) -> None:
        run_id = content.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise ValueError("run_detail needs a run_id (a non-empty string)")
        run, tasks = _remote.fetch_detail(self._client, run_id)
        self._got_detail(run, tasks)
        self._push(
            {
                "id": content.get("id"),
                "kind": "run_detail",
                "ok": True,
                "run": run,
                "tasks": tasks,
                "error": "",
            }
        )

    def _got_detail(self, run: dict, tasks: list[dict]) -> None:
        """Hook: a run's detail was read."""

    def _request_open_artifact(self, content: dict) -> None:
        """A task output opened from the detail pane: its view spec (+ image)."""
        from . import _viewer

        artifact = _viewer.requested_artifact(self, content)
        spec, image = _viewer.payload(artifact)
        reply = {"id": content.get("id"), "kind": "open_artifact", "ok": True,
                 "spec": spec}  # fmt: skip
        self._push(reply, [image] if image else None)

    def _request_download(self, content: dict) -> None:
        """The full bytes of an artifact opened in this panel (capped)."""
        from . import _viewer

        _viewer.send_download(self, _viewer.requested_artifact(self, content), content)

    # Life cycle -----------------------------------------------------------

    def _stop_background(self) -> None:
        """Hook: stop threads of the subclass."""

    def close(self) -> None:
        """Stop polling and loading, then close the widget's comm."""
        if getattr(self, "_closed", True):
            super().close()
            return
        self._closed = True
        self._stop_background()
        self._workers.shutdown(wait=True, cancel_futures=True)
        super().close()

    def __repr__(self) -> str:
        return f"<kfp_nb.{type(self).__name__} {self._summary()}>"

    def _summary(self) -> str:
        return ""

    def _fallback_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        """The widget view, plus text/html and text/plain for readers without a kernel."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data = {**data, "text/html": self._fallback_html(), "text/plain": repr(self)}
        return data, metadata
