"""A scripted KFP server (httpx.MockTransport) serving one run's tasks and files.

For what the embedded server cannot produce: wrapped ML Metadata encodings,
hostile archives, failed reads.
"""

from __future__ import annotations

import base64
import io
import tarfile
from typing import Any

from tests.client._mock import FakeServer, reply, run_body

__all__ = ["RUN", "TASK", "artifact", "reply", "run_body", "server", "task", "tgz"]

RUN = "9d0c1e7a-0000-4000-8000-000000000032"
TASK = "task-eval"


def tgz(members: list[tuple[str, bytes]]) -> bytes:
    """A gzipped tar of regular files (names taken as given, even unsafe ones)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def artifact(
    name: str,
    type_: str,
    *,
    uri: str | None = None,
    metadata: dict | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {"artifact_id": f"id-{name}", "name": name, "type": type_,
            "metadata": metadata or {}, **extra}  # fmt: skip
    if uri:
        body["uri"] = uri
    return body


def task(
    outputs: dict[str, list[dict]], *, task_id: str = TASK, name: str = "evaluate"
) -> dict[str, Any]:
    groups = [{"artifact_key": key, "type": "OUTPUT", "artifacts": arts}
              for key, arts in outputs.items()]  # fmt: skip
    return {"task_id": task_id, "run_id": RUN, "name": name, "display_name": name,
            "state": "SUCCEEDED", "pods": [{"name": f"{name}-pod", "type": "EXECUTOR"}],
            "inputs": {}, "outputs": {"artifacts": groups}}  # fmt: skip


def server(tasks: list[dict], files: dict[str, Any] | None = None) -> FakeServer:
    """Tasks listing, plus ``files[output key]`` as read_artifact answers.

    A bytes value is sent base64-encoded; a str as is; an httpx.Response as is.
    """
    fake = FakeServer().on(
        "GET",
        "/apis/v2beta1/tasks",
        reply(200, {"tasks": tasks, "total_size": len(tasks)}),
    )
    for key, value in (files or {}).items():
        if isinstance(value, bytes):
            value = reply(200, {"data": base64.b64encode(value).decode()})
        elif isinstance(value, str):
            value = reply(200, {"data": value})
        fake.on("GET", f"/artifacts/{key}:read", value)
    return fake
