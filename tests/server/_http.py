"""HTTP helpers for the embedded-server tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx


def create_run(
    client: httpx.Client, spec: dict[str, Any], name: str = "r", **params: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"display_name": name, "pipeline_spec": spec}
    if params:
        body["runtime_config"] = {"parameters": params}
    resp = client.post("/runs", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_for(
    client: httpx.Client,
    run_id: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll GetRun until ``done(run)``; fail with the last run seen."""
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = client.get(f"/runs/{run_id}").json()
        if done(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached the condition; last: {run}")


def wait_state(client: httpx.Client, run_id: str, *states: str, **kw: Any) -> dict:
    return wait_for(client, run_id, lambda r: r.get("state") in states, **kw)


def detail(resp: httpx.Response) -> str:
    return resp.json()["details"][0]["message"]
