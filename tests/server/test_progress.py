"""Runs progress through their tasks; state survives restarts and kill -9."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx

from kfp_nb.server import launch

from ._http import create_run, wait_for, wait_state

API = "/apis/v2beta1"


def _tasks(api: httpx.Client, run_id: str) -> dict[str, dict]:
    full = api.get(f"/runs/{run_id}", params={"view": "FULL"}).json()
    return {t["name"]: t for t in full.get("tasks", [])}


def test_run_goes_pending_running_succeeded_with_tasks(api, training_spec):
    run = create_run(api, training_spec, "ok", epochs=3, learning_rate=0.1,
                     optimizer="sgd", use_augmentation=False)  # fmt: skip
    final = wait_state(api, run["run_id"], "SUCCEEDED", "FAILED")
    assert final["state"] == "SUCCEEDED"
    assert [h["state"] for h in final["state_history"]] == [
        "PENDING", "RUNNING", "SUCCEEDED"
    ]  # fmt: skip
    assert final["finished_at"] >= final["created_at"]
    tasks = _tasks(api, run["run_id"])
    assert set(tasks) == {
        "root",
        "load-data",
        "preprocess",
        "train",
        "evaluate",
        "report",
    }
    for task in tasks.values():
        assert task["state"] == "SUCCEEDED"
        assert [h["state"] for h in task["state_history"]] == ["RUNNING", "SUCCEEDED"]
        assert task["create_time"] <= task["end_time"]
    # Dependency order: nothing starts before what it depends on has ended.
    assert tasks["train"]["create_time"] >= tasks["preprocess"]["end_time"]
    assert tasks["report"]["create_time"] >= tasks["evaluate"]["end_time"]
    root = tasks["root"]
    params = {p["parameter_key"]: p["value"] for p in root["inputs"]["parameters"]}
    assert params == {"epochs": 3, "learning_rate": 0.1, "optimizer": "sgd",
                      "use_augmentation": False}  # fmt: skip
    groups = {g["artifact_key"]: g for g in tasks["evaluate"]["outputs"]["artifacts"]}
    metrics = groups["metrics"]["artifacts"]
    assert metrics and all(a["type"] == "Metric" and "uri" not in a for a in metrics)
    assert all(a["metadata"] == {a["name"]: a["number_value"]} for a in metrics)
    cls = groups["classification_metrics"]["artifacts"][0]
    assert cls["type"] == "ClassificationMetric" and "uri" not in cls
    assert (
        "confusionMatrix" in cls["metadata"] or "confidenceMetrics" in cls["metadata"]
    )
    executor = [p for p in tasks["train"]["pods"] if p["type"] == "EXECUTOR"]
    assert len(executor) == 1 and executor[0]["name"]


def test_fail_task_fails_the_run_deterministically(api, training_spec):
    runs = [
        create_run(api, training_spec, "bad", fail_task="preprocess") for _ in range(2)
    ]
    for run in runs:
        final = wait_state(api, run["run_id"], "SUCCEEDED", "FAILED")
        assert final["state"] == "FAILED"
        error = final["state_history"][-1]["error"]
        assert "preprocess" in error["message"]
        tasks = _tasks(api, run["run_id"])
        assert tasks["preprocess"]["state"] == "FAILED"
        assert tasks["preprocess"]["status_metadata"]["message"] == error["message"]
        assert tasks["root"]["state"] == "FAILED"
        assert not {"train", "evaluate", "report"} & set(tasks)
        assert tasks["load-data"]["state"] == "SUCCEEDED"


def test_independent_branch_still_runs_after_a_failure(api, sweep_spec):
    run = create_run(api, sweep_spec, "half", fail_task="tune-forest.fit")
    final = wait_state(api, run["run_id"], "SUCCEEDED", "FAILED")
    assert final["state"] == "FAILED"
    tasks = api.get("/tasks", params={"run_id": run["run_id"]}).json()["tasks"]
    by_scope = {t["scope_path"]: t["state"] for t in tasks}
    assert by_scope["root.tune-forest.fit"] == "FAILED"
    assert by_scope["root.tune-forest"] == "FAILED"
    assert by_scope["root.tune-xgboost.score"] == "SUCCEEDED"
    assert "root.select-best" not in by_scope


def test_terminate_pending_run(api, training_spec):
    run = create_run(api, training_spec, "early", duration_scale=100)
    # Terminate at once: PENDING (or just RUNNING) is terminable either way.
    assert api.post(f"/runs/{run['run_id']}:terminate").json() == {}
    final = wait_state(api, run["run_id"], "FAILED", "SUCCEEDED")
    assert final["state"] == "FAILED"
    states = [h["state"] for h in final["state_history"]]
    assert states[0] == "PENDING" and states[-2:] == ["CANCELING", "FAILED"]


def test_terminated_run_can_be_retried(api, training_spec):
    run = create_run(api, training_spec, "again", duration_scale=100)
    wait_state(api, run["run_id"], "RUNNING")
    wait_for(api, run["run_id"], lambda r: len(_tasks(api, r["run_id"])) >= 2)
    api.post(f"/runs/{run['run_id']}:terminate")
    wait_state(api, run["run_id"], "FAILED")
    assert api.post(f"/runs/{run['run_id']}:retry").json() == {}
    assert api.get(f"/runs/{run['run_id']}").json()["state"] == "RUNNING"
    tasks = _tasks(api, run["run_id"])
    assert tasks["load-data"]["state"] in ("RUNNING", "FAILED")


def test_state_survives_restart_and_kill(tmp_path, training_spec):
    db = str(tmp_path / "kfp.db")
    with launch(db=db, speed=200.0) as first:
        api = httpx.Client(base_url=first.url + API)
        exp = api.post("/experiments", json={"display_name": "kept"}).json()
        done = create_run(api, training_spec, "done")
        wait_state(api, done["run_id"], "SUCCEEDED")
        api.post(f"/runs/{done['run_id']}:archive")
        # Long enough to still be running when the process dies.
        live = create_run(api, training_spec, "live", duration_scale=8)
        wait_state(api, live["run_id"], "RUNNING")
        first.kill()  # SIGKILL: no shutdown hooks run
    # The file as the killed process left it (tests/load/test_kill.py repeats
    # this under a burst of concurrent writes).
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with launch(db=db, speed=200.0) as second:
        api = httpx.Client(base_url=second.url + API)
        assert (
            api.get(f"/experiments/{exp['experiment_id']}").json()["display_name"]
            == "kept"
        )
        got = api.get(f"/runs/{done['run_id']}").json()
        assert got["state"] == "SUCCEEDED" and got["storage_state"] == "ARCHIVED"
        final = wait_state(api, live["run_id"], "SUCCEEDED", "FAILED", timeout=30)
        assert final["state"] == "SUCCEEDED"
        assert [h["state"] for h in final["state_history"]] == [
            "PENDING", "RUNNING", "SUCCEEDED"
        ]  # fmt: skip
        assert len(_tasks(api, live["run_id"])) == 6
        defaults = api.get("/experiments").json()["experiments"]
        assert [e["display_name"] for e in defaults].count("Default") == 1
