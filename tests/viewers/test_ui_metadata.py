"""v1 ``mlpipeline-ui-metadata`` outputs become the same view specs as v2 ones."""

from __future__ import annotations

import json

import pytest

from kfp_nb._artifact import Artifact
from tests._data import API, sample

WHO = {"run_id": "run-1", "task_id": "t-1", "task_name": "visualize"}
ROC_CSV = (API / "samples" / "ui_eval-output_roc.csv").read_text()
TABLE_CSV = (API / "samples" / "ui_eval-output_table.csv").read_text()


def ui(doc, **extra) -> Artifact:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return Artifact(
        name="mlpipeline-ui-metadata", type="system.Artifact", data=data, **WHO, **extra
    )


def specs(doc) -> list[dict]:
    out = ui(doc).view_specs()
    json.dumps(out, allow_nan=False)
    return out


def inline(sample_name: str) -> dict:
    """A sample with its gs:// sources replaced by their inline content."""
    doc = sample(sample_name)
    for output in doc["outputs"]:
        source = output.get("source", "")
        if source.endswith("roc.csv"):
            output.update(storage="inline", source=ROC_CSV)
        elif source.endswith("table.csv"):
            output.update(storage="inline", source=TABLE_CSV)
    return doc


def test_samples_with_object_store_sources_explain_what_cannot_be_read():
    out = specs(sample("ui_model-output_metadata.json"))
    assert [s["kind"] for s in out] == ["markdown", "error", "error", "error"]
    assert out[0]["markdown"].startswith("# Title")
    assert "gs://bucket/confusionmatrix/confusion_matrix.csv" in out[1]["message"]
    assert "cannot serve" in out[1]["message"] and "run-1" in out[1]["message"]
    assert "hello-world.html" in out[2]["message"]


def test_inline_roc_and_table_from_the_samples():
    out = specs(inline("ui_eval-output_metadata.json"))
    assert [s["kind"] for s in out] == ["roc", "error", "table"]
    points = out[0]["curves"][0]["points"]
    assert len(points) == len(ROC_CSV.splitlines())
    assert [p["fpr"] for p in points] == sorted(p["fpr"] for p in points)
    assert (
        "TensorBoard" in out[1]["message"]
        and "gs://path/to/logdir" in out[1]["message"]
    )
    table = out[2]
    assert table["columns"][:3] == ["id", "category", "description"]
    assert table["total_rows"] == len(TABLE_CSV.splitlines())
    assert table["rows"][0][:2] == [100545619, "ARSON"]
    art = ui(inline("ui_eval-output_metadata.json"))
    frame = art.to_frame("table")
    assert list(frame.columns) == table["columns"] and len(frame) == table["total_rows"]
    assert len(art.to_frame("roc")) == len(points)
    with pytest.raises(ValueError, match="several tables"):
        art.to_frame()


def test_inline_confusion_matrix_markdown_and_web_app():
    labels = ["cat", "dog"]
    doc = {"outputs": [
        {"type": "confusion_matrix", "format": "csv", "storage": "inline",
         "labels": labels, "source": "cat,cat,5\ncat,dog,1\ndog,cat,2\ndog,dog,7\n"},
        {"type": "markdown", "storage": "inline", "source": "**bold**"},
        {"type": "web-app", "storage": "inline", "source": "<script>x()</script>"},
    ]}  # fmt: skip
    cm, md, html = specs(doc)
    assert cm["kind"] == "confusion_matrix" and cm["labels"] == labels
    assert cm["matrix"] == [[5, 1], [2, 7]]
    assert md["markdown"] == "**bold**"
    assert html["kind"] == "html" and html["html"] == "<script>x()</script>"
    spec = ui(doc).view_spec()
    assert spec["kind"] == "stack" and len(spec["specs"]) == 3


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ({"type": "roc", "storage": "inline", "source": "0.1,0.2\n"}, "2 values"),
        ({"type": "roc", "storage": "inline", "source": "a,0.2,0.3\n"}, "'a'"),
        ({"type": "confusion_matrix", "storage": "inline", "labels": ["a"],
          "source": "a,b,1\n"}, "not in 'labels'"),
        ({"type": "confusion_matrix", "storage": "inline", "source": "a,a,-1\n"},
         ">= 0"),
        ({"type": "table", "storage": "inline", "format": "json", "source": "[]"},
         "only csv"),
        ({"type": "markdown", "storage": "inline"}, "no 'source'"),
        ({"type": "surprise"}, "unknown output type"),
        ("not an object", "not an object"),
    ],
)  # fmt: skip
def test_a_malformed_output_is_an_error_and_the_others_still_show(output, words):
    doc = {"outputs": [output, {"type": "markdown", "storage": "inline",
                                "source": "still here"}]}  # fmt: skip
    bad, good = specs(doc)
    assert bad["kind"] == "error" and words in bad["message"], bad
    assert "output #1" in bad["message"] and "run-1" in bad["message"]
    assert good["markdown"] == "still here"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "not JSON"),
        (b'{"outputs": 3}', "no 'outputs' list"),
        (b'{"outputs": []}', "lists no outputs"),
        (b'{"outputs": ["\xff"]}', "not valid UTF-8"),
    ],
)
def test_a_malformed_file_is_one_error(data, words):
    (spec,) = ui(data).view_specs()
    assert spec["kind"] == "error" and words in spec["message"]


def test_oversized_inline_table_and_web_app_name_their_caps():
    doc = {"outputs": [
        {"type": "table", "storage": "inline", "format": "csv", "header": ["a"],
         "source": "1\n" * 500},
        {"type": "web-app", "storage": "inline", "source": "<p>" + "x" * 500},
    ]}  # fmt: skip
    table, web = ui(doc).view_specs(table_max_bytes=100, html_max_bytes=100)
    assert table["kind"] == "too_large" and "table_max_bytes=100" in table["message"]
    assert web["kind"] == "too_large" and "html_max_bytes=100" in web["message"]
