"""A small seeded embedded server for the live frames and filter tests.

Four runs, created over HTTP with httpx, all in a final state before any test
reads them (their states no longer change):

=============  =========  =========  ==========================================
display name   state      storage    how
=============  =========  =========  ==========================================
alpha-訓練     FAILED     AVAILABLE  ``fail_task`` makes its only task fail
beta+gamma     SUCCEEDED  AVAILABLE
gamma 50%      SUCCEEDED  ARCHIVED   created at least one second after the above
alpha two      FAILED     AVAILABLE  terminated at once (ends FAILED, as Argo does)
=============  =========  =========  ==========================================
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from kfp_nb import _states

#: The smallest compiled-pipeline IR the embedded server plans: one task.
TINY_SPEC = {
    "pipelineInfo": {"name": "tiny"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.7.0",
    "components": {"comp-report": {"executorLabel": "exec-report"}},
    "deploymentSpec": {
        "executors": {"exec-report": {"container": {"image": "python:3.11"}}}
    },
    "root": {
        "dag": {
            "tasks": {
                "report": {
                    "componentRef": {"name": "comp-report"},
                    "taskInfo": {"name": "report"},
                }
            }
        }
    },
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """``(httpx client on /apis/v2beta1, {display name: run JSON})``."""
    server = pytest.importorskip(
        "kfp_nb.server", reason="the embedded server (kfp_nb.server) is not built yet"
    )
    folder = tmp_path_factory.mktemp("frames-live")
    proc = server.launch(db=str(folder / "kfp.db"), demo=False, speed=20.0)
    try:
        base = proc.url + "/apis/v2beta1"
        with httpx.Client(base_url=base, timeout=30.0) as http:
            yield http, _seed(http)
    finally:
        proc.stop()


def _create(http: httpx.Client, name: str, **parameters) -> dict:
    body = {"display_name": name, "pipeline_spec": TINY_SPEC,
            "runtime_config": {"parameters": {"rows": 10, **parameters}}}
    response = http.post("/runs", json=body)
    response.raise_for_status()
    return response.json()


def _seed(http: httpx.Client) -> dict[str, dict]:
    first = _create(http, "alpha-訓練", fail_task="report")
    second = _create(http, "beta+gamma", lr=0.5)
    # The server stores whole seconds: let the clock pass the second one's second.
    created = datetime.fromisoformat(second["created_at"].replace("Z", "+00:00"))
    time.sleep(max(0.0, created.timestamp() + 1.01 - time.time()))
    third = _create(http, "gamma 50%", lr=1)
    fourth = _create(http, "alpha two")
    http.post(f"/runs/{fourth['run_id']}:terminate").raise_for_status()
    runs = [first, second, third, fourth]
    _wait_final(http, [r["run_id"] for r in runs])
    http.post(f"/runs/{third['run_id']}:archive").raise_for_status()
    fresh = [http.get(f"/runs/{r['run_id']}").json() for r in runs]
    return {run["display_name"]: run for run in fresh}


def _wait_final(http: httpx.Client, run_ids: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(run_ids)
    while pending:
        for run_id in sorted(pending):
            state = http.get(f"/runs/{run_id}").json().get("state")
            if state in _states.FINAL_RUN_STATES:
                pending.discard(run_id)
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"runs {sorted(pending)} did not finish in {timeout}s")
        time.sleep(0.05 if pending else 0)
