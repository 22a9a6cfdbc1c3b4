"""``client.artifacts()`` and ``client.artifact()``: every demo kind over HTTP."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest

from kfp_nb import AsyncClient
from kfp_nb._artifact import ARTIFACT_COLUMNS, Artifact, ArtifactNotFound
from kfp_nb._viewspec import iter_specs

from ..client._mock import reply, run_body
from . import _fake
from .conftest import first
from .test_specs import cm_meta, wrapped


def kinds(spec: dict) -> list[str]:
    return [s["kind"] for s in iter_specs(spec)]


def test_artifacts_frame_lists_every_output(kfp, demo):
    run_id, _, _ = first(demo, "ClassificationMetric")
    frame = kfp.artifacts(run_id)
    assert tuple(frame.columns) == ARTIFACT_COLUMNS
    assert str(frame["number_value"].dtype) == "Float64"
    assert str(frame["task_id"].dtype) == "string"
    assert (frame["run_id"] == run_id).all()
    metrics = frame[frame["type"] == "Metric"]
    assert metrics["number_value"].notna().all() and metrics["uri"].isna().all()
    assert all(isinstance(m, dict) for m in frame["metadata"])
    cls = frame[frame["type"] == "ClassificationMetric"].iloc[0]
    assert "confusionMatrix" in cls["metadata"]
    tasks = kfp.tasks(run_id)
    assert set(frame["task_id"]) <= set(tasks["task_id"])


def test_empty_run_gives_the_same_columns_and_dtypes(kfp, demo):
    run_id, _, _ = first(demo, "Metric")
    full = kfp.artifacts(run_id)
    # An empty task list is checked with GetRun: the run must exist.
    fake = _fake.server([]).on(
        "GET", f"/apis/v2beta1/runs/{_fake.RUN}", reply(200, run_body(_fake.RUN))
    )
    empty = fake.client().artifacts(_fake.RUN)
    assert empty.empty and list(empty.columns) == list(full.columns)
    assert list(empty.dtypes) == list(full.dtypes)


def test_metric_output_key_groups_its_metrics(kfp, demo):
    run_id, task_id, key = first(demo, "Metric", "metrics")
    rows = kfp.artifacts(run_id)
    rows = rows[(rows["task_id"] == task_id) & (rows["output_key"] == key)]
    art = kfp.artifact(run_id, task_id, key)
    assert art.type == "Metric" and art.data is None and not art.has_file
    assert set(art.metadata) == set(rows["name"])
    frame = art.to_frame()
    assert dict(zip(frame["name"], frame["value"])) == dict(
        zip(rows["name"], rows["number_value"])
    )
    spec = art.view_spec()
    assert spec["kind"] == "metrics" and spec["groups"][0]["title"] == key
    one = kfp.artifact(run_id, task_id, "accuracy")
    assert one.name == "accuracy" and one.output_key == key
    assert one.to_frame()["name"].tolist() == ["accuracy"]
    assert kfp.artifact(run_id, task_id, f"{key}/accuracy").metadata == one.metadata


def test_every_demo_kind_has_its_viewer(kfp, demo):
    expected = {
        ("ClassificationMetric", "classification_metrics"):
            ["confusion_matrix", "roc"],
        ("HTML", "report"): ["html"],
        ("Markdown", "summary"): ["markdown"],
        ("Dataset", "predictions"): ["table"],
        ("Artifact", "loss_plot"): ["image"],
        ("Model", "model"): ["text"],
        ("Artifact", "mlpipeline-ui-metadata"):
            ["confusion_matrix", "roc", "table", "markdown", "html"],
    }  # fmt: skip
    for (kind, key), want in expected.items():
        run_id, task_id, key = first(demo, kind, key)
        art = kfp.artifact(run_id, task_id, key)
        spec, image = art._widget_payload(art_options())
        assert kinds(spec) == want, (kind, key, spec)
        json.dumps(spec, allow_nan=False)
        for inner in iter_specs(spec):
            assert inner["artifact"]["run_id"] == run_id
            assert inner["artifact"]["task_id"] == task_id
        if want == ["image"]:
            assert image == art.data and image.startswith(b"\x89PNG")
        if want == ["html"]:
            assert spec["html"] == art.data.decode() and "<script>" in spec["html"]
        if want == ["table"]:
            frame = art.to_frame()
            assert len(frame) == spec["total_rows"] == art.metadata["rows"]
            assert list(frame.columns) == art.metadata["columns"]


def art_options():
    from kfp_nb._viewspec import options

    return options


def test_task_may_be_named_and_lookups_fail_clearly(kfp, demo):
    run_id, task_id, key = first(demo, "HTML", "report")
    by_name = kfp.artifact(run_id, "report", key)
    assert by_name.task_id == task_id
    with pytest.raises(ArtifactNotFound, match="has no task 'nope'.*its tasks"):
        kfp.artifact(run_id, "nope", key)
    with pytest.raises(ArtifactNotFound, match="no output artifact 'nope'.*report"):
        kfp.artifact(run_id, task_id, "nope")
    with pytest.raises(ValueError, match="name must be a non-empty id"):
        kfp.artifact(run_id, task_id, "")
    with pytest.raises(TypeError, match="run_id"):
        kfp.artifacts(None)


def test_same_name_under_two_outputs_is_ambiguous():
    tasks = [_fake.task({
        "a": [_fake.artifact("acc", "Metric", number_value=0.9)],
        "b": [_fake.artifact("acc", "Metric", number_value=0.8)],
    })]  # fmt: skip
    client = _fake.server(tasks).client()
    with pytest.raises(ArtifactNotFound, match="several outputs.*a/acc, b/acc"):
        client.artifact(_fake.RUN, _fake.TASK, "acc")
    assert client.artifact(_fake.RUN, _fake.TASK, "b/acc").number_value == 0.8


def test_wrapped_metadata_is_unwrapped_in_frame_and_artifact():
    meta = wrapped(
        {
            **cm_meta(),
            "confidenceMetrics": [
                {"confidenceThreshold": 0.5, "falsePositiveRate": 0.2, "recall": 0.7}
            ],
        }
    )
    tasks = [_fake.task({"cls": [_fake.artifact(
        "cls", "ClassificationMetric", metadata=meta)]})]  # fmt: skip
    client = _fake.server(tasks).client()
    row = client.artifacts(_fake.RUN).iloc[0]
    assert row["metadata"]["confusionMatrix"]["rows"][0] == {"row": [5, 1]}
    art = client.artifact(_fake.RUN, _fake.TASK, "cls")
    assert kinds(art.view_spec()) == ["confusion_matrix", "roc"]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_fake.reply(404, {"code": 5, "message": "artifact not found: <nil>"}),
         "could not return its file"),
        (_fake.reply(400, {"code": 3, "message": "read artifact from run with v2 "
                           "IR spec is not supported"}), "v2 IR spec"),
        ("!!not base64!!", "not valid base64"),
    ],
)  # fmt: skip
def test_failed_reads_become_error_specs_and_data_raises(answer, words):
    tasks = [
        _fake.task(
            {
                "report": [
                    _fake.artifact(
                        "report",
                        "HTML",
                        uri="s3://user:pw@bucket/key?X-Amz-Signature=abc",
                    )
                ]
            }
        )
    ]
    client = _fake.server(tasks, {"report": answer}).client()
    art = client.artifact(_fake.RUN, _fake.TASK, "report")
    spec = art.view_spec()
    assert spec["kind"] == "error" and words in spec["message"]
    assert _fake.RUN in spec["message"] and "evaluate" in spec["message"]
    assert "pw" not in json.dumps(spec) and "Signature" not in json.dumps(spec)
    assert spec["artifact"]["uri"] == "s3://bucket/key"
    with pytest.raises(Exception, match=words.split()[-1]):
        _ = art.data
    # read once: the view and .data share the failed attempt
    assert (
        len(
            [
                r
                for r in client._http._transport.handler.requests
                if r.url.path.endswith(":read")
            ]
        )
        == 1
    )


def test_fetch_cap_is_a_too_large_spec():
    tasks = [_fake.task({"blob": [_fake.artifact("blob", "Model", uri="s3://b/k")]})]
    client = _fake.server(tasks, {"blob": _fake.tgz([("m", b"x" * 5000)])}).client()
    from kfp_nb._viewspec import options

    old = options.fetch_max_bytes
    options.fetch_max_bytes = 1000
    try:
        spec = client.artifact(_fake.RUN, _fake.TASK, "blob").view_spec()
    finally:
        options.fetch_max_bytes = old
    assert spec["kind"] == "too_large" and "fetch_max_bytes=1000" in spec["message"]


def test_async_client_reads_the_file_up_front(demo_server, demo):
    run_id, task_id, key = first(demo, "Markdown")

    async def main() -> tuple[pd.DataFrame, Artifact]:
        async with AsyncClient(demo_server.url) as client:
            return (await client.artifacts(run_id),
                    await client.artifact(run_id, task_id, key))  # fmt: skip

    frame, art = asyncio.run(main())
    assert key in set(frame["output_key"])
    assert art.data.startswith(b"# ") and art.view_spec()["kind"] == "markdown"


def test_repeated_task_names_are_told_apart_by_path(kfp, demo):
    run_id, _, key = first(demo, "Metric", "fit_metrics")
    frame = kfp.artifacts(run_id)
    paths = sorted(set(frame.loc[frame["output_key"] == key, "task_path"]))
    assert len(paths) == 2 and all(p.endswith(".fit") for p in paths)
    with pytest.raises(ArtifactNotFound, match="names several tasks.*task path"):
        kfp.artifact(run_id, "fit", key)
    by_path = kfp.artifact(run_id, paths[0], key)
    row = frame[(frame["task_path"] == paths[0]) & (frame["name"] == "accuracy")]
    assert by_path.metadata["accuracy"] == row["number_value"].iloc[0]


NASTY = [None, 3, "text", [], {}, {"list": [1, {"struct": {"a": None}}]},
         {"struct": {"confusionMatrix": None}}, {"confusionMatrix": {"rows": "x"}},
         {"confidenceMetrics": [None, {}]}, {"display_name": "x"},
         {"evaluationSlices": [None, {"slice": 1}]}, {"a": float("nan")}]  # fmt: skip
TYPES = ["Metric", "ClassificationMetric", "SlicedClassificationMetric", "HTML",
         "Dataset", None, 7]  # fmt: skip


def test_no_metadata_shape_or_type_crashes_the_listing_or_the_viewer():
    arts = [
        _fake.artifact(f"a{i}-{j}", kind, metadata=meta, number_value="0.5")
        for i, kind in enumerate(TYPES) for j, meta in enumerate(NASTY)
    ]  # fmt: skip
    for art in arts:
        art["metadata"] = art["metadata"] if art["metadata"] != {} else None
    tasks = [_fake.task({art["name"]: [art] for art in arts})]
    client = _fake.server(tasks).client()
    frame = client.artifacts(_fake.RUN)
    assert len(frame) == len(arts) and all(isinstance(m, dict) for m in frame.metadata)
    for art in arts:
        spec = client.artifact(_fake.RUN, _fake.TASK, art["name"]).view_spec()
        json.dumps(spec, allow_nan=False)
        for inner in iter_specs(spec):
            if inner["kind"] == "error":
                assert art["name"] in inner["message"]


def test_a_list_output_asks_which_artifact():
    tasks = [_fake.task({"shards": [
        _fake.artifact("part-0", "Dataset", uri="s3://b/0"),
        _fake.artifact("part-1", "Dataset", uri="s3://b/1"),
    ]})]  # fmt: skip
    client = _fake.server(tasks, {"shards": b"a,b\n1,2\n"}).client()
    with pytest.raises(ArtifactNotFound, match="holds 2 artifacts: shards/part-0"):
        client.artifact(_fake.RUN, _fake.TASK, "shards")
    art = client.artifact(_fake.RUN, _fake.TASK, "shards/part-1")
    assert art.name == "part-1" and art.uri == "s3://b/1"
