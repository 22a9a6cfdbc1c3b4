"""A page that runs the built panels against real kernel-side widgets, without Jupyter.

The browser loads ``kfp_nb/static/widget.js`` and ``widget.css`` from a small HTTP
server on 127.0.0.1 and renders them with a fake anywidget model (``fake_model.js``).
The model's other end is a real ``RunTable``/``RunView`` living in this process:

* the widget is built with a bridge comm instead of a kernel comm, so every trait
  change and custom message it sends reaches the page over server-sent events;
* what the page sends (``save_changes`` updates, ``send`` custom messages) is POSTed
  back and handed to the widget's own comm handler, as ipykernel would.

Like a kernel, one thread with a running asyncio loop owns the widgets: messages
from the page and calls from the tests (``Panel.call``) all run there, one at a time.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import comm as comm_pkg

import kfp_nb

__all__ = ["Harness", "Panel"]

log = logging.getLogger(__name__)

STATIC = Path(kfp_nb.__file__).resolve().parent / "static"  # the bundle under test
PAGE_JS = Path(__file__).with_name("fake_model.js")
_CLOSED = object()

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>kfp_nb panel harness</title>
<link rel="stylesheet" href="/widget.css">
<style>body { margin: 0; padding: 8px; font: 13px sans-serif; }
#host { width: 1200px; }</style></head>
<body><div id="host"></div>
<script type="module">
import { mount } from "/fake_model.js";
mount(document.getElementById("host"), %(model)s).catch((err) => {
  window.__harnessError = String(err && err.stack || err);
  throw err;
});
</script></body></html>
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class BridgeComm:
    """The comm a widget talks through: outbound to page subscribers, inbound from POSTs."""

    def __init__(self, *, data: dict[str, Any] | None = None, **_: Any) -> None:
        self.comm_id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue] = []
        self._handler: Callable[[dict[str, Any]], Any] | None = None
        self._close_handler: Callable[[dict[str, Any]], Any] | None = None
        self.closed = False
        self.sent: list[dict[str, Any]] = []  # every outbound message, for debugging

    # -- what ipywidgets calls ------------------------------------------------------
    def send(self, data=None, metadata=None, buffers=None) -> None:
        event = {
            "data": data or {},
            "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers or []],
        }
        with self._lock:
            self.sent.append(event)
            for sub in self._subscribers:
                sub.put(event)

    def on_msg(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        self._handler = callback

    def on_close(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        self._close_handler = callback

    def close(self, data=None, metadata=None, buffers=None, deleting=False) -> None:
        with self._lock:
            self.closed = True
            for sub in self._subscribers:
                sub.put(_CLOSED)

    # -- what the HTTP side calls ----------------------------------------------------
    def subscribe(
        self, snapshot: Callable[[], dict[str, Any]]
    ) -> tuple[queue.Queue, dict]:
        """A queue of later messages and the model state at the moment it was made."""
        sub: queue.Queue = queue.Queue()
        with self._lock:
            self._subscribers.append(sub)
            return sub, snapshot()

    def unsubscribe(self, sub: queue.Queue) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def deliver(self, data: dict[str, Any], buffers: list[bytes]) -> None:
        """A front-end message, shaped as the kernel's comm_msg handler receives it."""
        if self._handler is not None:
            msg = {
                "content": {"comm_id": self.comm_id, "data": data},
                "buffers": [memoryview(b) for b in buffers],
            }
            self._handler(msg)


class Panel:
    """One widget in the harness: its page URL and a way to run code in its 'kernel'."""

    def __init__(self, harness: Harness, widget: Any, comm: BridgeComm) -> None:
        self.harness = harness
        self.widget = widget
        self.comm = comm
        self.model_id = comm.comm_id
        self.url = f"{harness.url}/?model={self.model_id}"

    def call(self, fn: Callable[[Any], Any], *, timeout: float = 30.0) -> Any:
        """``fn(widget)`` on the kernel thread, as a notebook cell would run it."""
        return self.harness.run(lambda: fn(self.widget), timeout=timeout)

    def get(self, name: str) -> Any:
        return self.call(lambda w: getattr(w, name))

    def messages(self, kind: str) -> list[dict[str, Any]]:
        """Custom messages of ``kind`` the widget has sent so far."""
        found = []
        for event in list(self.comm.sent):
            data = event["data"]
            if data.get("method") == "custom" and data["content"].get("kind") == kind:
                found.append(data["content"])
        return found


class Harness:
    """The kernel stand-in thread plus the HTTP server the page talks to."""

    def __init__(self, *, esm: str | None = None) -> None:
        self._esm = esm  # module text served as /widget.js instead of the bundle
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, name="harness-kernel", daemon=True
        )
        self._thread.start()
        self.panels: dict[str, Panel] = {}
        self.errors: list[str] = []
        self._stopping = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="harness-http", daemon=True
        )
        self._http_thread.start()

    # -- kernel thread -------------------------------------------------------------------
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, fn: Callable[[], Any], *, timeout: float = 30.0) -> Any:
        """Run ``fn()`` on the kernel thread and return its result (or raise its error)."""
        future: concurrent.futures.Future = concurrent.futures.Future()

        def step() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(step)
        return future.result(timeout=timeout)

    def show(self, factory: Callable[[], Any]) -> Panel:
        """Build a widget with ``factory()`` on the kernel thread, wired to the page."""

        def build() -> tuple[Any, BridgeComm]:
            made: list[BridgeComm] = []
            original = comm_pkg.create_comm

            def create_comm(**kwargs: Any) -> BridgeComm:
                made.append(BridgeComm(**kwargs))
                return made[-1]

            comm_pkg.create_comm = create_comm
            try:
                widget = factory()
            finally:
                comm_pkg.create_comm = original
            return widget, next(c for c in made if c is widget.comm)

        widget, comm = self.run(build)
        panel = Panel(self, widget, comm)
        self.panels[panel.model_id] = panel
        return panel

    def _inbound(
        self, panel: Panel, data: dict[str, Any], buffers: list[bytes]
    ) -> None:
        def step() -> None:
            try:
                panel.comm.deliver(data, buffers)
            except Exception as exc:  # a kernel logs a failing handler, goes on
                log.exception("widget handler failed")
                self.errors.append(repr(exc))

        self._loop.call_soon_threadsafe(step)

    def close(self) -> None:
        self._stopping.set()
        for panel in list(self.panels.values()):
            try:
                self.run(panel.widget.close, timeout=10)
            except Exception:  # best effort at teardown
                log.exception("closing a panel failed")
        self._http.shutdown()
        self._http.server_close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # -- HTTP ----------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        harness = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path == "/":
                    model = json.dumps(dict(parse_qsl(url.query)).get("model", ""))
                    self._reply(200, "text/html", (_PAGE % {"model": model}).encode())
                elif url.path == "/fake_model.js":
                    self._file(PAGE_JS, "text/javascript")
                elif url.path == "/widget.js" and harness._esm is not None:
                    self._reply(200, "text/javascript", harness._esm.encode())
                elif url.path in ("/widget.js", "/widget.css"):
                    kind = "text/javascript" if url.path.endswith("js") else "text/css"
                    self._file(STATIC / url.path.lstrip("/"), kind)
                elif url.path.startswith("/events/"):
                    self._events(url.path.rsplit("/", 1)[-1])
                else:
                    self._reply(404, "text/plain", b"not found")

            def do_POST(self) -> None:
                url = urlparse(self.path)
                panel = harness.panels.get(url.path.rsplit("/", 1)[-1])
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if panel is None or not url.path.startswith("/send/"):
                    self._reply(404, "text/plain", b"no such model")
                    return
                buffers = [base64.b64decode(b) for b in body.get("buffers", [])]
                harness._inbound(panel, body["data"], buffers)
                self._reply(204, "text/plain", b"")

            def _file(self, path: Path, kind: str) -> None:
                if not path.exists():
                    self._reply(404, "text/plain", f"missing {path.name}".encode())
                    return
                self._reply(200, kind, path.read_bytes())

            def _reply(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _events(self, model_id: str) -> None:
                panel = harness.panels.get(model_id)
                if panel is None:
                    self._reply(404, "text/plain", b"no such model")
                    return
                # On the kernel thread: no kernel-side send can slip in between.
                sub, state = harness.run(
                    lambda: panel.comm.subscribe(panel.widget.get_state)
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                try:
                    self._event({"data": {"method": "state", "state": state}})
                    while not harness._stopping.is_set():
                        try:
                            event = sub.get(timeout=0.5)
                        except queue.Empty:
                            continue
                        if event is _CLOSED:
                            break
                        self._event(event)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    panel.comm.unsubscribe(sub)

            def _event(self, event: dict[str, Any]) -> None:
                text = json.dumps(event, default=_json_default)
                self.wfile.write(f"data: {text}\n\n".encode())
                self.wfile.flush()

        return Handler
