"""``compare(client, run_ids)``: metrics across runs, ROC overlaid, matrices."""

from __future__ import annotations

import json

import pytest

from kfp_nb._compare import compare

from . import _fake
from .test_specs import cm_meta, roc_points


@pytest.fixture(scope="module")
def succeeded(kfp):
    runs = kfp.runs()
    ids = runs.loc[runs["state"] == "SUCCEEDED", "run_id"].tolist()
    assert len(ids) >= 10
    return ids


def classified(kfp, run_ids):
    """Runs that logged classification metrics (through the public listing)."""
    return [r for r in run_ids
            if (kfp.artifacts(r)["type"] == "ClassificationMetric").any()]  # fmt: skip


def test_two_runs_metrics_table_roc_and_matrices(kfp, succeeded):
    pair = classified(kfp, succeeded)[:2]
    result = compare(kfp, pair)
    frame = result.to_frame()
    assert list(frame.index.names) == ["task", "output", "metric"]
    assert list(frame.attrs["run_ids"].values()) == pair
    assert list(frame.columns) == result.labels
    for run_id, label in zip(pair, result.labels):
        metrics = kfp.artifacts(run_id)
        metrics = metrics[metrics["type"] == "Metric"]
        for row in metrics.itertuples():
            got = frame.loc[(row.task_path, row.output_key, row.name), label]
            assert got == pytest.approx(row.number_value)
    spec = result.view_spec()
    json.dumps(spec, allow_nan=False)
    table, roc, matrices = spec["specs"]
    assert table["kind"] == "table" and table["columns"][3:] == result.labels
    assert len(table["rows"]) == len(frame)
    assert [c["label"] for c in roc["curves"]] == result.labels
    assert matrices["layout"] == "row"
    assert [m["title"] for m in matrices["specs"]] == result.labels
    html = result._repr_mimebundle_()[0]["text/html"]
    assert html.count("<svg") == 3 and "<script" not in html


def test_ten_runs_and_the_limits(kfp, succeeded):
    ten = succeeded[:10]
    result = compare(kfp, ten)
    assert result.run_ids == ten and len(result.to_frame().columns) == 10
    roc = [s for s in result.view_spec()["specs"] if s["kind"] == "roc"]
    assert len(roc[0]["curves"]) == len(classified(kfp, ten)) <= 10
    with pytest.raises(ValueError, match="2 to 10 distinct runs, got 1"):
        compare(kfp, ten[:1])
    with pytest.raises(ValueError, match="got 11"):
        compare(kfp, [*ten, succeeded[10]])
    with pytest.raises(ValueError, match="got 1"):
        compare(kfp, [ten[0], ten[0]])  # the same run twice is one run
    with pytest.raises(TypeError, match="pass a list"):
        compare(kfp, ten[0])
    runs = kfp.runs().head(3)
    assert compare(kfp, runs).run_ids == runs["run_id"].tolist()


def test_runs_with_the_same_name_and_broken_metrics():
    good = _fake.task({
        "m": [_fake.artifact("acc", "Metric", number_value=0.9)],
        "cls": [_fake.artifact("cls", "ClassificationMetric", metadata={
            **cm_meta(), "confidenceMetrics": roc_points()})],
    })  # fmt: skip
    bad = _fake.task(
        {
            "cls": [
                _fake.artifact(
                    "cls",
                    "ClassificationMetric",
                    metadata={
                        **cm_meta(rows=((1,),)),
                        "confidenceMetrics": [{"recall": 2}],
                    },
                )
            ]
        }
    )
    fake = _fake.server([good])
    fake.routes.clear()
    answers = {"r1": [good], "r2": [bad]}
    fake.on(
        "GET",
        "/apis/v2beta1/tasks",
        lambda req: _fake.reply(200, {"tasks": answers[req.url.params["run_id"]]}),
    )
    fake.on("GET", "/apis/v2beta1/runs/r1", _fake.reply(200, _fake.run_body("r1")))
    fake.on(
        "GET",
        "/apis/v2beta1/runs/r2",
        _fake.reply(200, _fake.run_body("r2", display_name="run r1")),
    )
    result = compare(fake.client(), ["r1", "r2"])
    assert result.labels == ["run r1 (r1)", "run r1 (r2)"]
    frame = result.to_frame()
    assert frame.loc[("evaluate", "m", "acc")].tolist()[0] == 0.9
    assert frame.isna().to_numpy().sum() == 1
    spec = result.view_spec()
    notes = " ".join(spec["specs"][0]["notes"])
    assert "run r1 (r2)" in notes and "confusionMatrix" in notes
    assert len(spec["specs"][1]["curves"]) == 1
    name, mime, data = result._download(None)
    assert name == "comparison.csv"
    assert mime == "text/csv" and b"acc" in data
