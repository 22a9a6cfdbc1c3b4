"""``kfp_nb.plot``: the Gantt chart with its critical path, and runs over time."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from kfp_nb import plot
from kfp_nb._analysis import critical_path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_timeline_outlines_the_critical_path(lab):
    client, ids = lab
    ax = plot.timeline(client, ids["ok-check"])
    bars = [p for p in ax.patches if p.get_gid() in ("critical", "task")]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(
        ["ingest", "validate-schema", "profile-data", "check-drift", "publish"]
    )
    critical = {
        labels[round(p.get_y() + p.get_height() / 2)]
        for p in bars
        if p.get_gid() == "critical"
    }
    assert critical == set(critical_path(client, ids["ok-check"])["task"])
    assert critical == {"ingest", "profile-data", "publish"}
    assert all(p.get_linewidth() == 0 for p in bars if p.get_gid() == "task")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["SUCCEEDED"]


def test_timeline_draws_on_the_given_axes_and_colours_failures(lab):
    client, ids = lab
    _, ax = plt.subplots()
    assert plot.timeline(client, ids["bad-train-1"], ax=ax) is ax
    colours = {
        t.get_text(): p.get_facecolor()
        for t, p in zip(ax.get_yticklabels(), sorted(
            (p for p in ax.patches if p.get_gid()), key=lambda p: p.get_y()))
    }  # fmt: skip
    assert colours["train"] == matplotlib.colors.to_rgba(plot.STATE_COLORS["FAILED"])
    assert colours["load-data"] == matplotlib.colors.to_rgba(
        plot.STATE_COLORS["SUCCEEDED"]
    )


def test_runs_scatter_by_state(lab):
    client, _ = lab
    frame = client.runs()
    unfinished = pd.concat([frame, frame.iloc[:1].assign(duration=pd.NaT)])
    ax = plot.runs(unfinished)
    groups = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert groups == {"FAILED": 3, "SUCCEEDED": 3}
    minutes = sorted(y for c in ax.collections for _, y in c.get_offsets().tolist())
    expected = sorted(frame["duration"].dt.total_seconds() / 60)
    assert minutes == pytest.approx(expected)
    assert ax.get_title() == "6 runs; 1 without a duration left out"
    with pytest.raises(ValueError, match="no 'duration' column"):
        plot.runs(frame.drop(columns="duration"))
