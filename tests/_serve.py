"""An ASGI app behind a real uvicorn on a loopback port, for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kfp_nb.server._process import free_port


@contextmanager
def serve(app: Any, **ssl: Any) -> Iterator[str]:
    """``app`` behind a real uvicorn on a loopback port, in a thread; yields its URL.

    ``ssl`` takes uvicorn's ``ssl_certfile`` / ``ssl_keyfile`` for an https server.
    """
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", lifespan="auto",
        **ssl,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        scheme = "https" if ssl else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
