"""failures, stats, diff and critical_path on runs made with known parameters."""

from __future__ import annotations

import pandas as pd
import pytest

from kfp_nb._analysis import (
    critical_path,
    diff,
    failures,
    first_failed_task,
    normalize_error,
    stats,
)
from kfp_nb.server._demo import demo_pipeline_ids

from .conftest import TRAINING, VALIDATION

TRAIN_ERROR = (
    "task 'train' failed: exit code 1 (requested by the run's fail_task parameter)"
)


def test_normalize_error_strips_what_varies():
    one = normalize_error(
        "pod train-x7k2p-3305962 failed at 2024-05-01T12:00:03.25Z: "
        "open /tmp/run/4f1c2b7e-9a0d-4e5f-8a1b-2c3d4e5f6a7b/data.csv: "
        "read 4096 bytes from s3://bucket/a/b.csv"
    )
    two = normalize_error(
        "pod train-q9r4t-1180244 failed at 2024-06-11 08:15:00+02:00: "
        "open /var/tmp/x/data.csv: read 12 bytes from minio://other/key"
    )
    assert (
        one
        == two
        == (
            "pod train-<id>-<n> failed at <time>: open <path>: read <n> bytes from <path>"
        )
    )
    assert normalize_error(None) is None and normalize_error(pd.NA) is None
    assert normalize_error("  out of   memory ") == "out of memory"


def test_failures_one_line_per_cause(lab):
    client, ids = lab
    frame = client.runs()
    grouped = failures(frame)
    assert grouped.columns.tolist() == ["task", "error", "runs", "run_ids", "example"]
    assert grouped[["task", "error", "runs"]].values.tolist() == [
        ["train", normalize_error(TRAIN_ERROR), 2],
        ["check-drift", normalize_error(TRAIN_ERROR.replace("train", "check-drift")),
         1],
    ]  # fmt: skip
    assert sorted(grouped.at[0, "run_ids"]) == sorted(
        [ids["bad-train-1"], ids["bad-train-2"]]
    )
    assert grouped.at[0, "example"] == TRAIN_ERROR


def test_failures_per_run_names_the_first_failed_leaf(lab):
    client, ids = lab
    per_run = failures(client.runs(), per_run=True).set_index("run_id")
    assert sorted(per_run.index) == sorted(
        [ids["bad-train-1"], ids["bad-train-2"], ids["bad-drift"]]
    )
    tasks = client.tasks(ids["bad-drift"]).set_index("task_id")
    row = per_run.loc[ids["bad-drift"]]
    assert row["task"] == "check-drift"
    # The root failed too, with the same message: the leaf is the one named.
    assert tasks.loc[row["task_id"], "type"] == "RUNTIME"
    assert row["raw_error"] == TRAIN_ERROR.replace("train", "check-drift")
    assert row["end_time"] == tasks.loc[row["task_id"], "end_time"]


def test_first_failed_task_prefers_the_earliest_failed_leaf():
    t = pd.Timestamp("2024-01-01", tz="UTC")
    tasks = pd.DataFrame(
        {
            "task_id": ["root", "dag", "a", "b"],
            "parent_task_id": [None, "root", "dag", "dag"],
            "state": ["FAILED", "FAILED", "FAILED", "FAILED"],
            "end_time": [t, t, t + pd.Timedelta(2, "s"), t + pd.Timedelta(1, "s")],
            "create_time": [t, t, t, t],
        }
    )
    assert first_failed_task(tasks)["task_id"] == "b"
    assert first_failed_task(tasks.iloc[:2])["task_id"] == "dag"
    assert first_failed_task(tasks.assign(state="SUCCEEDED")) is None


def test_failures_needs_a_client_when_the_frame_has_none(lab):
    client, _ = lab
    frame = client.runs()
    orphan = pd.DataFrame(frame.to_dict("list"))  # as if read from a file
    with pytest.raises(ValueError, match="client="):
        failures(orphan)
    assert failures(orphan, client=client)["runs"].sum() == 3


def test_stats_by_pipeline_version(lab):
    client, ids = lab
    frame = client.runs()
    table = stats(frame, client=client)
    training = demo_pipeline_ids(TRAINING)[1]
    validation = demo_pipeline_ids(VALIDATION)[1]
    assert table.index.tolist() == sorted([training, validation])
    assert table.loc[training, ["runs", "SUCCEEDED", "FAILED"]].tolist() == [4, 2, 2]
    assert table.loc[validation, ["runs", "SUCCEEDED", "FAILED"]].tolist() == [2, 1, 1]
    assert table.loc[training, "success_rate"] == 0.5
    durations = frame.set_index("run_id")["duration"]
    train_runs = [ids[n] for n in ("ok-1", "ok-2", "bad-train-1", "bad-train-2")]
    assert table.loc[training, "median_duration"] == durations[train_runs].median()
    assert table.loc[training, "p90_duration"] == durations[train_runs].quantile(0.9)
    # The embedded server never caches a task.
    assert table["cache_hit_ratio"].tolist() == [0.0, 0.0]
    plain = stats(frame, by="experiment_name")
    assert plain.index.tolist() == ["Default"]
    assert plain["cache_hit_ratio"].isna().all()
    with pytest.raises(ValueError, match="no column 'nope'"):
        stats(frame, by="nope")


def test_stats_cache_ratio_counts_cached_leaves():
    from kfp_nb import _analysis

    tasks = pd.DataFrame(
        {
            "task_id": ["root", "a", "b", "c", "d"],
            "parent_task_id": [None, "root", "root", "root", "root"],
            "type": ["ROOT", "RUNTIME", "RUNTIME", "RUNTIME", "RUNTIME"],
            "state": ["SUCCEEDED", "CACHED", "SUCCEEDED", "CACHED", "CACHED"],
        }
    )

    class Tasks:
        def tasks(self, run_id):
            return tasks if run_id == "r1" else tasks.iloc[:2]

    frame = pd.DataFrame(
        {
            "run_id": ["r1", "r2"],
            "state": ["SUCCEEDED", "SUCCEEDED"],
            "duration": pd.to_timedelta([10, 20], unit="s"),
            "pipeline_version_id": ["v", "v"],
        }
    )
    table = _analysis.stats(frame, client=Tasks())
    assert table.loc["v", "cache_hit_ratio"] == pytest.approx(4 / 5)


def test_diff_of_two_runs(lab):
    client, ids = lab
    result = diff(client, ids["ok-1"], ids["bad-train-2"])
    assert result.parameters.values.tolist() == [
        ["duration_scale", None, 0.2],
        ["fail_task", None, "train"],
        ["learning_rate", 0.1, 0.3],
    ]
    assert result.pipeline.empty
    assert result.tasks.astype(object).fillna("-").values.tolist() == [
        ["evaluate", "SUCCEEDED", "-"],
        ["report", "SUCCEEDED", "-"],
        ["train", "SUCCEEDED", "FAILED"],
    ]
    other = diff(client, ids["ok-1"], ids["ok-check"])
    assert other.pipeline["field"].tolist() == ["pipeline_id", "pipeline_version_id"]
    assert other.pipeline.iloc[1].tolist() == [
        "pipeline_version_id",
        demo_pipeline_ids(TRAINING)[1],
        demo_pipeline_ids(VALIDATION)[1],
    ]
    same = diff(client, ids["ok-1"], ids["ok-1"])
    assert same.empty and "(same)" in repr(same)


def test_critical_path_follows_the_longest_chain(lab):
    client, ids = lab
    linear = critical_path(client, ids["ok-1"])
    assert linear["task"].tolist() == [
        "load-data", "preprocess", "train", "evaluate", "report",
    ]  # fmt: skip
    checks = critical_path(client, ids["ok-check"])
    # profile-data (35 s of work) outlasts validate-schema (20) and check-drift (25).
    assert checks["task"].tolist() == ["ingest", "profile-data", "publish"]
    assert (checks["wait"].iloc[1:] >= pd.Timedelta(0)).all()
    assert checks["end_time"].is_monotonic_increasing
