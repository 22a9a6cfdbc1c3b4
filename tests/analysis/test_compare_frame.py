"""``compare`` as data: the wide frame of parameters and metrics per run."""

from __future__ import annotations

import pandas as pd
import pytest

from kfp_nb._compare import Comparison, compare


def test_compare_a_runs_frame_with_metrics(lab):
    client, ids = lab
    frame = client.runs(metrics=True, progress=False)
    pair = frame[frame["run_id"].isin([ids["ok-1"], ids["ok-2"]])]
    wide = compare(pair)
    assert wide.index.name == "run_id"
    assert sorted(wide.index) == sorted([ids["ok-1"], ids["ok-2"]])
    assert wide.loc[ids["ok-1"], "param.learning_rate"] == 0.1
    assert wide.loc[ids["ok-2"], "param.learning_rate"] == 0.2
    assert "metric.train.accuracy" in wide.columns
    only = compare(pair, differs_only=True)
    # Same pipeline, same other parameters: only the name, the learning rate
    # and the metrics (seeded by run id) differ; metrics of validation are NA
    # in both and hidden.
    assert "pipeline_version_id" not in only.columns
    assert "param.learning_rate" in only.columns
    assert "metric.psi" not in only.columns
    assert only.columns[0] == "display_name"
    assert all(c.startswith(("display_name", "param.", "metric.")) for c in only)


def test_a_frame_without_metrics_gets_them_from_its_client(lab):
    client, ids = lab
    frame = client.runs()
    wide = compare(frame[frame["display_name"].isin(["ok-1", "bad-drift"])])
    assert "metric.train.accuracy" in wide.columns
    assert pd.isna(wide.loc[ids["bad-drift"], "metric.train.accuracy"])
    orphan = pd.DataFrame(frame.to_dict("list"))
    assert not any(c.startswith("metric.") for c in compare(orphan).columns)
    with pytest.raises(ValueError, match="client="):
        compare(orphan, metrics=True)
    assert "metric.psi" in compare(orphan, client=client).columns
    assert not any(
        c.startswith("metric.") for c in compare(frame, metrics=False).columns
    )


def test_comparison_view_keeps_its_frames_and_adds_wide(lab):
    client, ids = lab
    result = compare(client, [ids["ok-1"], ids["ok-2"]])
    assert isinstance(result, Comparison)
    table = result.to_frame()
    assert table.index.names == ["task", "output", "metric"]
    wide = result.to_wide()
    from_frame = compare(
        client.runs(metrics=True, progress=False).pipe(
            lambda f: f[f["run_id"].isin(result.run_ids)]
        )
    ).loc[result.run_ids]
    metric_columns = [c for c in wide.columns if c.startswith("metric.")]
    pd.testing.assert_frame_equal(
        wide[metric_columns],
        from_frame[[c for c in metric_columns]],
        check_names=False,
    )
    assert wide.loc[ids["ok-2"], "param.learning_rate"] == 0.2
    # differs_only hides metric rows equal in both runs and, in the wide
    # frame, the shared pipeline version.
    assert "pipeline_version_id" not in result.to_wide(differs_only=True)
    first, second = table.columns
    expected = table[table[first].ne(table[second])]
    differing = result.to_frame(differs_only=True)
    assert differing.index.tolist() == expected.index.tolist()
    assert (
        compare(client, result.run_ids, differs_only=True).to_frame().equals(differing)
    )


def test_differs_only_drops_rows_equal_everywhere():
    from kfp_nb._compare import _all_same

    assert _all_same([1.0, 1.0]) and _all_same([None, pd.NA, float("nan")])
    assert not _all_same([1.0, None]) and not _all_same([[1], [2]])
    assert _all_same([[1], [1]])


def test_compare_arguments_are_checked(lab):
    client, ids = lab
    with pytest.raises(TypeError, match="client and run ids"):
        compare(client)
    with pytest.raises(TypeError, match="filter the frame"):
        compare(client.runs(), [ids["ok-1"]])
