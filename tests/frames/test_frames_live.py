"""runs_frame / tasks_frame over what the embedded server really sends."""

from __future__ import annotations

import pandas as pd

from kfp_nb._frames import (
    RUN_COLUMNS,
    TASK_COLUMNS,
    runs_frame,
    task_state_history,
    tasks_frame,
)


def _list(http, path, **params):
    response = http.get(path, params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_runs_frame_of_a_listing(seeded):
    http, _ = seeded
    body = _list(http, "/runs")
    experiments = _list(http, "/experiments").get("experiments", [])
    names = {e["experiment_id"]: e["display_name"] for e in experiments}
    df = runs_frame(body["runs"], experiment_names=names)
    assert len(df) == 4
    assert list(df.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    by_name = df.set_index("display_name")
    assert by_name.loc["gamma 50%", "storage_state"] == "ARCHIVED"
    assert by_name.loc["alpha two", "state"] == "FAILED"
    assert df["experiment_name"].notna().all()
    # Finished runs: real end times, a start from the history, no negative span.
    assert df["finished_at"].notna().all()
    started = df.dropna(subset=["started_at"])
    assert len(started) >= 3  # "alpha two" may be terminated before it runs
    assert (started["started_at"] <= started["finished_at"]).all()
    assert (df["duration"] >= pd.Timedelta(0)).all()
    assert by_name.loc["alpha-訓練", "error"].startswith("task 'report' failed")
    assert str(df["param.rows"].dtype) == "Int64"
    assert str(df["param.lr"].dtype) == "Float64"  # 0.5 and 1
    assert str(df["param.fail_task"].dtype) == "string"
    assert by_name["param.fail_task"].isna().sum() == 3


def test_empty_listing_frame(seeded):
    http, _ = seeded
    nothing = '{"predicates":[{"key":"display_name","operation":"EQUALS",' \
        '"string_value":"no such run"}]}'
    body = _list(http, "/runs", filter=nothing)
    assert "runs" not in body  # the server answers {} (case 03)
    df = runs_frame(body.get("runs", []))
    full = runs_frame(_list(http, "/runs")["runs"])
    assert len(df) == 0
    pd.testing.assert_series_equal(df.dtypes, full.dtypes[RUN_COLUMNS])


def test_tasks_frame_of_a_failed_run(seeded):
    http, runs = seeded
    run_id = runs["alpha-訓練"]["run_id"]
    tasks = _list(http, "/tasks", run_id=run_id)["tasks"]
    df = tasks_frame(tasks)
    assert list(df.columns) == TASK_COLUMNS
    root = df[df["parent_task_id"].isna()].iloc[0]
    report = df[df["name"] == "report"].iloc[0]
    assert root["type"] == "ROOT"
    assert report["type"] == "RUNTIME"
    assert report["parent_task_id"] == root["task_id"]
    assert report["state"] == "FAILED"
    assert "fail_task" in report["error"]
    assert report["task_id"] in root["child_task_ids"]
    assert len(report["pod_names"]) >= 1
    assert (df["run_id"] == run_id).all()
    history = task_state_history(tasks)
    assert set(history["task_id"]) == set(df["task_id"])
    assert list(history[history["task_id"] == report["task_id"]]["state"].astype(str))[
        -1
    ] == "FAILED"
