"""User mistakes and wrong run ids get clear errors, not tracebacks or empty results."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import kfp_nb
from kfp_nb import plot
from kfp_nb._analysis import critical_path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _frame(states):
    n = len(states)
    return pd.DataFrame(
        {
            "created_at": pd.to_datetime(["2024-01-01T00:00:00Z"] * n, utc=True),
            "duration": pd.to_timedelta([60.0 * (i + 1) for i in range(n)], unit="s"),
            "state": pd.array(states, dtype="string"),
        }
    )


def test_plot_runs_draws_a_missing_state_as_unknown():
    ax = plot.runs(_frame(["SUCCEEDED", pd.NA, "FAILED"]))
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == ["FAILED", "SUCCEEDED", "unknown"]


@pytest.mark.parametrize("frame", [[1, 2], None, {"state": ["x"]}])
def test_plot_runs_wants_a_dataframe(frame):
    with pytest.raises(TypeError, match="plot.runs: frame must be a pandas DataFrame"):
        plot.runs(frame)


def test_wrong_run_id_is_not_found_everywhere(lab):
    client, _ = lab
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        critical_path(client, "nope")
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        plot.timeline(client, "nope")
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        client.artifacts("nope")
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        client.tasks("nope")


def test_timeline_wants_a_run_id(lab):
    client, _ = lab
    with pytest.raises(TypeError, match="run_id"):
        plot.timeline(client, None)


def test_accessor_client_must_be_a_client(lab):
    client, ids = lab
    frame = client.runs()
    with pytest.raises(TypeError, match="client must be a kfp_nb.Client, not str"):
        frame.kfp.archive(client="http://127.0.0.1:1")
