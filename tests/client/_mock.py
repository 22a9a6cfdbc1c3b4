"""A scripted fake KFP server for httpx.MockTransport, fed with real bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from kfp_nb import AsyncClient, Client

HOST = "https://kubeflow.example.com/pipeline"
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(status: int = 200, body: Any = None, headers: dict | None = None):
    """A response as a case file describes it: JSON for dict/list, else text."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        headers.setdefault("content-type", "application/json")
        return httpx.Response(
            status, content=json.dumps(body).encode(), headers=headers
        )
    return httpx.Response(status, content=(body or "").encode(), headers=headers)


def from_case(response: dict[str, Any]) -> httpx.Response:
    return reply(response["status"], response.get("body"), response.get("headers"))


class FakeServer:
    """Routes (method, path regex) to scripted replies; records every request.

    Each route replays its replies in order and repeats the last one.
    """

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern, list[Reply]]] = []
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *replies: Reply) -> FakeServer:
        self.routes.append((method, re.compile(path + "$"), list(replies)))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = unquote(request.url.raw_path.decode().split("?")[0])
        for method, pattern, replies in self.routes:
            if method == request.method and pattern.search(path):
                answer = replies.pop(0) if len(replies) > 1 else replies[0]
                if isinstance(answer, Exception):
                    raise answer
                if callable(answer) and not isinstance(answer, httpx.Response):
                    return answer(request)
                return answer
        return reply(404, {"code": 5, "message": "Not Found"})

    def client(self, host: str = HOST, **options: Any) -> Client:
        options.setdefault("backoff", 0)
        return Client(host, transport=httpx.MockTransport(self), **options)

    def async_client(self, host: str = HOST, **options: Any) -> AsyncClient:
        options.setdefault("backoff", 0)
        return AsyncClient(host, transport=httpx.MockTransport(self), **options)

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def run_body(run_id: str = "r1", state: str = "RUNNING", **extra: Any) -> dict:
    body = {
        "experiment_id": "e1",
        "run_id": run_id,
        "display_name": f"run {run_id}",
        "storage_state": "AVAILABLE",
        "created_at": "2024-02-05T21:26:07Z",
        "scheduled_at": "2024-02-05T21:26:07Z",
        "finished_at": "1970-01-01T00:00:00Z",
        "state": state,
    }
    body.update(extra)
    return body
