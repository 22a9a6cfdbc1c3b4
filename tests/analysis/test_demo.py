"""The analysis functions on the demo data (deterministic: seeded, fixed ids)."""

from __future__ import annotations

import pytest

from kfp_nb import Client
from kfp_nb._analysis import failures, stats
from kfp_nb._compare import compare
from kfp_nb.server import launch

EXIT = "exit code <n> (requested by the run's fail_task parameter)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo server of this module's own: other tests act on the shared one."""
    folder = tmp_path_factory.mktemp("analysis-demo")
    proc = launch(db=str(folder / "demo.db"), demo=True, speed=20.0)
    try:
        with Client(proc.url, backoff=0) as client:
            yield client, client.runs(archived=None)
    finally:
        proc.stop()


def test_failures_of_the_demo_runs(demo):
    _, frame = demo
    grouped = failures(frame)
    assert grouped[["task", "error", "runs"]].values.tolist() == [
        ["evaluate", f"task 'evaluate' failed: {EXIT}", 2],
        ["validate-schema", f"task 'validate-schema' failed: {EXIT}", 2],
        ["check-drift", f"task 'check-drift' failed: {EXIT}", 1],
        ["load-data", "terminated", 1],
        ["prepare-data", "terminated", 1],
        ["train", f"task 'train' failed: {EXIT}", 1],
        ["tune-forest.score", f"task 'score' failed: {EXIT}", 1],
        ["tune-xgboost.fit", f"task 'fit' failed: {EXIT}", 1],
        ["visualize", f"task 'visualize' failed: {EXIT}", 1],
    ]
    per_run = failures(frame, per_run=True).set_index("display_name")
    assert per_run.loc["train-028", "task"] == "load-data"  # terminated
    assert per_run.loc["sweep-009", "task"] == "tune-forest.score"


def test_stats_of_the_demo_experiments(demo):
    _, frame = demo
    table = stats(frame, by="experiment_name")
    assert table.index.tolist() == [
        "churn-model", "data-quality", "hyperparameter-search",
        "legacy-dashboards", "viewer-edge-cases",
    ]  # fmt: skip
    assert table["runs"].tolist() == [34, 22, 22, 8, 2]
    assert table["FAILED"].tolist() == [4, 3, 3, 1, 0]
    assert table["CANCELED"].tolist() == [1, 1, 1, 0, 0]
    # Runs still going when the server started may have finished since.
    assert table.loc["churn-model", ["PENDING", "PAUSED", "CANCELING"]].tolist() == [
        1, 1, 1,
    ]  # fmt: skip
    assert table.loc["legacy-dashboards", "success_rate"] == pytest.approx(7 / 8)
    assert table.loc["viewer-edge-cases", "success_rate"] == 1.0
    assert table["cache_hit_ratio"].isna().all()


def test_compare_demo_training_runs(demo):
    _, frame = demo
    training = frame[frame["display_name"].isin(["train-010", "train-011"])]
    wide = compare(training, differs_only=True).set_index("display_name")
    # train-010 carries its spec inline (no pipeline version); the two runs
    # share every other parameter.
    assert wide.columns[:2].tolist() == ["pipeline_version_id", "param.learning_rate"]
    assert wide["param.learning_rate"].to_dict() == {
        "train-011": 0.01, "train-010": 0.003,
    }  # fmt: skip
    assert wide.loc["train-010", "metric.train.accuracy"] == 0.829
    assert wide.loc["train-011", "metric.evaluate.auc"] == 0.9433
    assert len([c for c in wide.columns if c.startswith("metric.")]) == 12
    full = compare(training, metrics=False).set_index("display_name")
    assert full.loc["train-010", ["param.batch_size", "param.optimizer"]].tolist() == [
        64, "adam",
    ]  # fmt: skip
    assert not any(c.startswith("metric.") for c in full.columns)
