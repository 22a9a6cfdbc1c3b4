"""The ``--demo`` data set: coverage over HTTP, determinism and idempotence."""

from __future__ import annotations

import base64
import io
import json
import tarfile
import time
from collections import Counter
from datetime import datetime

import httpx
import pytest

from kfp_nb.server._demo import seed_demo
from kfp_nb.server._store import Store

RUN_STATES = {
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELING",
    "CANCELED",
    "PAUSED",
}


@pytest.fixture(scope="module")
def demo_api(demo_server):
    with httpx.Client(base_url=demo_server.url + "/apis/v2beta1", timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def demo_runs(demo_api):
    body = demo_api.get("/runs", params={"page_size": 200, "view": "FULL"}).json()
    assert "next_page_token" not in body
    return body["runs"]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_experiments(demo_api):
    exps = demo_api.get("/experiments").json()["experiments"]
    names = {e["display_name"] for e in exps}
    assert len(names - {"Default"}) >= 3
    assert any(e["storage_state"] == "ARCHIVED" for e in exps)


def test_runs_cover_every_state_and_kind(demo_runs):
    assert len(demo_runs) >= 80
    states = Counter(r["state"] for r in demo_runs)
    assert RUN_STATES <= set(states), states
    assert any(r["storage_state"] == "ARCHIVED" for r in demo_runs)
    assert sum(1 for r in demo_runs if r.get("recurring_run_id")) >= 5
    created = [_ts(r["created_at"]) for r in demo_runs]
    assert max(created) - min(created) > 14 * 86400
    kinds = set()
    for run in demo_runs:
        for value in run.get("runtime_config", {}).get("parameters", {}).values():
            kinds.add(type(value).__name__)
    assert {"int", "float", "str", "bool"} <= kinds
    by_ref = [r for r in demo_runs if "pipeline_version_reference" in r]
    inline = [r for r in demo_runs if "pipeline_spec" in r]
    assert by_ref and inline


def test_failed_runs_carry_errors(demo_runs):
    failed = [r for r in demo_runs if r["state"] == "FAILED"]
    assert len(failed) >= 5
    for run in failed:
        assert run["state_history"][-1]["state"] == "FAILED"
        assert run["state_history"][-1]["error"]["message"]
        assert any(
            t["state"] == "FAILED" and t["error"]["message"] for t in run["tasks"]
        )
    terminated = [
        r for r in failed if "CANCELING" in [h["state"] for h in r["state_history"]]
    ]
    assert terminated, "a terminated run ends FAILED after CANCELING"


def test_tasks_have_artifacts_of_every_kind(demo_api, demo_runs):
    types = Counter()
    files = {}
    for run in demo_runs:
        for task in run.get("tasks", []):
            for group in task["outputs"].get("artifacts", []):
                for art in group["artifacts"]:
                    types[art["type"]] += 1
                    if art.get("uri"):
                        files.setdefault(group["artifact_key"], (run, task))
    want = {"Metric", "ClassificationMetric", "HTML", "Markdown", "Dataset", "Model",
            "Artifact"}  # fmt: skip
    assert want <= set(types), types
    # The image and the v1 ui-metadata file come back through read_artifact.
    for key, check in (
        ("loss_plot", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
        ("mlpipeline-ui-metadata", lambda b: "outputs" in json.loads(b)),
        ("predictions", lambda b: b.count(b"\n") > 1 and b"," in b),
        ("summary", lambda b: len(b) > 0),
    ):
        run, task = files[key]
        resp = demo_api.get(
            f"/runs/{run['run_id']}/nodes/{task['task_id']}/artifacts/{key}:read"
        )
        assert resp.status_code == 200, (key, resp.text)
        raw = base64.b64decode(resp.json()["data"])
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            (member,) = tar.getmembers()
            assert check(tar.extractfile(member).read()), key


def test_seed_is_idempotent_deterministic_and_has_live_runs(tmp_path):
    def seeded(path):
        store = Store(str(path))
        assert seed_demo(store, speed=1.0) is True
        return store

    first, second = seeded(tmp_path / "a.db"), seeded(tmp_path / "b.db")
    try:
        assert seed_demo(first, speed=1.0) is False  # already there: nothing added
        query = (
            "SELECT run_id, display_name, runtime_config, experiment_id FROM runs "
            "ORDER BY run_id"
        )
        with first.read() as db:
            rows_a = [tuple(r) for r in db.execute(query)]
            live = [
                json.loads(r["schedule"])["end"]
                for r in db.execute("SELECT schedule FROM runs WHERE state='RUNNING'")
            ]
        with second.read() as db:
            rows_b = [tuple(r) for r in db.execute(query)]
        assert rows_a == rows_b and len(rows_a) >= 80
        now = time.time()
        # At speed 1 some running runs finish within a few minutes.
        assert any(now < end < now + 300 for end in live)
    finally:
        first.close()
        second.close()


def test_action_rules_on_every_demo_state(tmp_path):
    """SEMANTICS §3 table, on a private demo server (the actions mutate it)."""
    from kfp_nb.server import launch

    from ._http import wait_state

    srv = launch(db=str(tmp_path / "d.db"), demo=True, speed=200.0)
    with srv, httpx.Client(base_url=srv.url + "/apis/v2beta1", timeout=30) as api:
        runs = api.get("/runs", params={"page_size": 200}).json()["runs"]
        first = {}
        for run in runs:
            first.setdefault(run["state"], run)
        for state in ("SUCCEEDED", "FAILED", "CANCELED", "CANCELING"):
            resp = api.post(f"/runs/{first[state]['run_id']}:terminate")
            assert resp.status_code == 400 and resp.json()["code"] == 3, state
        for state in ("SUCCEEDED", "CANCELED", "CANCELING", "PAUSED", "PENDING"):
            resp = api.post(f"/runs/{first[state]['run_id']}:retry")
            assert resp.status_code == 409 and resp.json()["code"] == 10, state
        for state in RUN_STATES:
            run_id = first[state]["run_id"]
            assert api.post(f"/runs/{run_id}:archive").json() == {}
            assert api.get(f"/runs/{run_id}").json()["state"] in RUN_STATES

        paused = first["PAUSED"]["run_id"]
        assert api.post(f"/runs/{paused}:terminate").json() == {}
        assert api.get(f"/runs/{paused}").json()["state"] == "CANCELING"
        assert wait_state(api, paused, "FAILED")["finished_at"] != EPOCH

        failed = next(
            r
            for r in runs
            if r["state"] == "FAILED"
            and "CANCELING" not in [h["state"] for h in r["state_history"]]
        )
        assert api.post(f"/runs/{failed['run_id']}:retry").json() == {}
        done = wait_state(api, failed["run_id"], "SUCCEEDED", "FAILED")
        assert done["state"] == "SUCCEEDED"
        assert [h["state"] for h in done["state_history"]][-3:] == [
            "FAILED",
            "RUNNING",
            "SUCCEEDED",
        ]

        legacy = next(
            e
            for e in api.get("/experiments").json()["experiments"]
            if e["storage_state"] == "ARCHIVED"
        )
        archived = api.get(
            "/runs", params={"experiment_id": legacy["experiment_id"]}
        ).json()["runs"][0]
        resp = api.post(f"/runs/{archived['run_id']}:unarchive")
        assert resp.status_code == 400 and resp.json()["code"] == 9


EPOCH = "1970-01-01T00:00:00Z"
