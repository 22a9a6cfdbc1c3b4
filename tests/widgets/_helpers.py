"""Helpers of the panel tests: runs on the embedded server, captured messages."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from kfp_nb import _states

from ..frames.conftest import TINY_SPEC

__all__ = ["Outbox", "decode", "make_run", "prefix", "wait_final", "wait_for"]


def prefix() -> str:
    """A name prefix unique to one test, to list only its runs."""
    return f"w{uuid.uuid4().hex[:8]}-"


def make_run(client: Any, name: str, **parameters: Any) -> str:
    """Create a one-task run; ``duration_scale=200`` keeps it RUNNING for long."""
    run = client.create_run(
        display_name=name, pipeline_spec=TINY_SPEC, parameters=parameters or None
    )
    return run.run_id


def wait_for(check: Callable[[], Any], *, timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def wait_final(client: Any, run_ids: list[str]) -> None:
    client.wait(run_ids, timeout=60, poll_interval=0.1)


def wait_state(client: Any, run_id: str, states: set[str]) -> str:
    def state() -> str | None:
        current = client.get_run(run_id).state
        return current if current in states else None

    return wait_for(state, what=f"run {run_id} in {sorted(states)}")


def decode(buffer: Any) -> pa.Table:
    """An Arrow IPC stream (bytes or memoryview) → a table."""
    return pa.ipc.open_stream(pa.py_buffer(bytes(buffer))).read_all()


class Outbox:
    """Messages sent by panels: ``(widget, content, buffers)`` in order."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, dict, list]] = []
        self._lock = threading.Lock()

    def record(self, widget: Any, content: dict, buffers: Any = None) -> None:
        with self._lock:
            self.items.append((widget, dict(content), list(buffers or [])))

    def of(self, kind: str, widget: Any = None) -> list[tuple[dict, list]]:
        with self._lock:
            return [
                (content, buffers)
                for sender, content, buffers in self.items
                if content.get("kind") == kind and (widget is None or sender is widget)
            ]

    def reply(self, request_id: str, kind: str | None = None) -> tuple[dict, list]:
        """The message answering a request (waits for it)."""

        def find() -> Any:
            with self._lock:
                for _, content, buffers in self.items:
                    if content.get("id") == request_id and (
                        kind is None or content.get("kind") == kind
                    ):
                        return content, buffers
            return None

        return wait_for(find, what=f"a reply to {request_id}")


def states(client: Any, run_ids: list[str]) -> dict[str, str]:
    return {rid: client.get_run(rid).state for rid in run_ids}


ACTIVE = _states.ACTIVE_RUN_STATES
