"""Generated artifact contents: formats a viewer can read, deterministic bytes."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import struct
import tarfile
import zlib

import pytest

from kfp_nb.server._content import (
    artifact_content,
    classification_metrics,
    metric_values,
    tgz_single,
    ui_metadata,
)
from kfp_nb.server._pipelines import DEMO_PIPELINES, OutputPlan, plan_from_spec

PARAMS = {"learning_rate": 0.01, "epochs": 10, "optimizer": "adam"}
HOSTILE = "<script>alert(2)</script> 訓練 | 🚀"


def _content(output: OutputPlan, *, run_id: str = "run-1", params=None, seed=7):
    return artifact_content(
        run_id=run_id, task_name="evaluate", output=output,
        params=PARAMS if params is None else params, seed=seed,
    )


def _demo_outputs():
    for spec in DEMO_PIPELINES.values():
        for plan in plan_from_spec(spec):
            for output in plan.outputs:
                yield plan.name, output


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def _assert_png(data: bytes) -> tuple[int, int]:
    """A decodable 8-bit RGB PNG of at least 64×64; returns its size."""
    chunks = _png_chunks(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB",
                                                                 chunks[0][1])
    assert (depth, color, interlace) == (8, 2, 0)
    assert width >= 64 and height >= 64
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    assert all(raw[y * stride] == 0 for y in range(height))  # filter "None"
    pixels = {raw[i:i + 3] for y in range(height)
              for i in range(y * stride + 1, (y + 1) * stride, 3)}
    assert len(pixels) > 2, "an image, not a blank canvas"
    return width, height


# --- Determinism -------------------------------------------------------------


def test_every_demo_output_is_deterministic_and_run_specific():
    for task, output in _demo_outputs():
        first = artifact_content(run_id="r1", task_name=task, output=output,
                                 params=PARAMS, seed=3)
        again = artifact_content(run_id="r1", task_name=task, output=output,
                                 params=dict(PARAMS), seed=3)
        other = artifact_content(run_id="r2", task_name=task, output=output,
                                 params=PARAMS, seed=3)
        assert first == again, (task, output.key)
        assert first != other, (task, output.key)


def test_file_bytes_exactly_when_the_plan_names_a_file():
    for task, output in _demo_outputs():
        metadata, data = artifact_content(run_id="r", task_name=task, output=output,
                                          params={}, seed=0)
        assert isinstance(metadata, dict)
        json.dumps(metadata)  # storable as JSON
        assert (data is None) == (output.file_name is None), output


# --- Metrics -------------------------------------------------------------------


def test_metric_artifact_metadata_is_the_metric_values():
    metadata, data = _content(OutputPlan("metrics", "Metric", None))
    expected = metric_values(run_id="run-1", task_name="evaluate", params=PARAMS,
                             seed=7)
    assert data is None
    assert metadata == expected
    assert {"accuracy", "f1", "loss"} <= set(metadata)
    assert all(isinstance(v, float) for v in metadata.values())
    assert 0 < metadata["accuracy"] < 1 and metadata["loss"] > 0


def _accuracy(**params) -> float:
    values = [metric_values(run_id=f"r{i}", task_name="train", params=params, seed=1)
              for i in range(8)]
    return sum(v["accuracy"] for v in values) / len(values)


def test_metrics_respond_plausibly_to_parameters():
    assert _accuracy(learning_rate=0.01, epochs=20) > _accuracy(
        learning_rate=0.01, epochs=1)
    assert _accuracy(learning_rate=0.01, epochs=10) > _accuracy(
        learning_rate=1.0, epochs=10)
    # Parameters arrive as JSON values; numeric strings count, junk is ignored.
    assert _accuracy(learning_rate="0.01", epochs="20") == _accuracy(
        learning_rate=0.01, epochs=20)
    assert _accuracy(learning_rate="fast", epochs=True) == _accuracy()


def test_drift_tasks_log_drift_statistics():
    values = metric_values(run_id="r", task_name="check-drift", params={}, seed=0)
    assert set(values) == {"psi", "drifted_features", "rows_compared"}


def test_classification_metrics_are_valid_for_the_viewer():
    metadata, data = _content(OutputPlan("cm", "ClassificationMetric", None))
    assert data is None
    specs = metadata["confusionMatrix"]["annotationSpecs"]
    rows = metadata["confusionMatrix"]["rows"]

    assert len(specs) == len(rows) >= 2
    assert all(isinstance(s["displayName"], str) for s in specs)
    for index, entry in enumerate(rows):
        assert len(entry["row"]) == len(specs)
        assert all(isinstance(n, int) and n >= 0 for n in entry["row"])
        assert entry["row"][index] == max(entry["row"]), "diagonal dominates"

    points = metadata["confidenceMetrics"]
    assert len(points) >= 10
    for a, b in zip(points, points[1:]):
        assert b["confidenceThreshold"] < a["confidenceThreshold"]
        assert b["falsePositiveRate"] >= a["falsePositiveRate"]
        assert b["recall"] >= a["recall"]
    for p in points:
        assert 0 <= p["falsePositiveRate"] <= 1 and 0 <= p["recall"] <= 1
    assert (points[-1]["falsePositiveRate"], points[-1]["recall"]) == (1.0, 1.0)


def test_confusion_matrix_agrees_with_the_logged_accuracy():
    cm = classification_metrics(run_id="r", task_name="evaluate", params=PARAMS,
                                seed=0)
    rows = [r["row"] for r in cm["confusionMatrix"]["rows"]]
    hits = sum(row[i] for i, row in enumerate(rows))
    accuracy = metric_values(run_id="r", task_name="evaluate", params=PARAMS,
                             seed=0)["accuracy"]
    assert hits / sum(map(sum, rows)) == pytest.approx(accuracy, abs=0.06)


# --- Files -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["loss_plot", "confusion_heatmap", "histogram"])
def test_image_outputs_are_real_pngs(key):
    metadata, data = _content(OutputPlan(key, "Artifact", f"{key}.png"))
    width, height = _assert_png(data)
    assert metadata == {"mimeType": "image/png", "width": width, "height": height}


def test_html_report_is_self_contained_and_escapes_parameters():
    _, data = _content(OutputPlan("report", "HTML", "report.html"),
                       params={"note": HOSTILE, "epochs": 3})
    page = data.decode("utf-8")

    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>alert(2)</script>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt; 訓練" in page
    # Nothing is fetched from elsewhere: the only image is an inline PNG.
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    (encoded,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    _assert_png(base64.b64decode(encoded))


def test_markdown_summary_has_a_table_with_escaped_cells():
    _, data = _content(OutputPlan("summary", "Markdown", "summary.md"),
                       params={"note": HOSTILE, "lr": 0.1})
    text = data.decode("utf-8")
    lines = text.splitlines()

    assert lines[0] == "# Run summary"
    assert "| Parameter | Value |" in lines and "| Metric | Value |" in lines
    note = next(line for line in lines if line.startswith("| note |"))
    assert note.count(" | ") == 1 and "\\|" in note
    assert "<script>" not in text
    assert "| accuracy |" in text


def test_markdown_without_parameters_says_so():
    _, data = _content(OutputPlan("summary", "Markdown", "summary.md"), params={})
    assert "_No runtime parameters._" in data.decode()
    assert "| Parameter |" not in data.decode()


def test_dataset_is_a_csv_table_with_mixed_types():
    metadata, data = _content(OutputPlan("table", "Dataset", "table.csv"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, body = rows[0], rows[1:]

    assert metadata["columns"] == header and metadata["rows"] == len(body) == 50
    assert all(len(row) == len(header) for row in body)
    column = {name: [row[i] for row in body] for i, name in enumerate(header)}
    assert all(value.isdigit() for value in column["id"])
    assert all(float(value) > 0 for value in column["amount"])
    assert set(column["is_return"]) <= {"true", "false"}
    assert "" in column["score"], "some values are missing"
    assert any("," in value for value in column["region"]), "quoted commas survive"
    assert all(value.endswith("Z") for value in column["timestamp"])


def test_model_file_is_json():
    metadata, data = _content(OutputPlan("model", "Model", "model.json"))
    body = json.loads(data)
    assert body["hyperparameters"] == PARAMS
    assert len(body["weights"]) == len(body["classes"])
    assert metadata == {"framework": "kfp-nb-demo"}


def test_unknown_artifact_types_still_get_a_file():
    metadata, data = _content(OutputPlan("blob", "SomethingNew", "blob.json"))
    assert json.loads(data)["key"] == "blob"
    assert metadata["mimeType"] == "application/json"


# --- v1 UI metadata ----------------------------------------------------------------


def test_ui_metadata_inlines_one_output_per_v1_viewer():
    document = json.loads(ui_metadata(run_id="r", task_name="visualize",
                                      params=PARAMS, seed=2))
    outputs = {o["type"]: o for o in document["outputs"]}

    assert set(outputs) == {"confusion_matrix", "roc", "table", "markdown", "web-app"}
    assert all(o["storage"] == "inline" for o in outputs.values())

    cm = outputs["confusion_matrix"]
    triples = list(csv.reader(io.StringIO(cm["source"])))
    assert len(triples) == len(cm["labels"]) ** 2
    assert {t[0] for t in triples} == set(cm["labels"])
    assert [c["name"] for c in cm["schema"]] == ["target", "predicted", "count"]

    roc_csv = io.StringIO(outputs["roc"]["source"])
    roc = [list(map(float, row)) for row in csv.reader(roc_csv)]
    assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(roc, roc[1:]))

    table = outputs["table"]
    rows = list(csv.reader(io.StringIO(table["source"])))
    assert rows and all(len(r) == len(table["header"]) for r in rows)
    assert rows[0] != table["header"], "v1 tables carry the header separately"

    assert outputs["markdown"]["source"].startswith("# Run summary")
    assert outputs["web-app"]["source"].startswith("<!DOCTYPE html>")


def test_ui_metadata_output_dispatches_to_the_v1_document():
    output = OutputPlan("mlpipeline-ui-metadata", "Artifact",
                        "mlpipeline-ui-metadata.json")
    _, data = _content(output)
    assert data == ui_metadata(run_id="run-1", task_name="evaluate", params=PARAMS,
                               seed=7)


# --- Tarballs ---------------------------------------------------------------------


def test_tgz_single_holds_exactly_one_regular_file():
    payload = b"a,b\n1,2\n"
    blob = tgz_single("table.csv", payload)

    assert blob[:2] == b"\x1f\x8b"
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [(m.name, m.isreg(), m.size) for m in members] == [
            ("table.csv", True, len(payload))
        ]
        assert members[0].mtime == 0
        assert tar.extractfile(members[0]).read() == payload


def test_tgz_single_is_byte_for_byte_deterministic():
    assert tgz_single("x.bin", b"\x00\x01") == tgz_single("x.bin", b"\x00\x01")
    assert tgz_single("x.bin", b"\x00\x01") != tgz_single("x.bin", b"\x00\x02")


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../up.txt", "a/../b", "a//b"])
def test_tgz_single_refuses_unsafe_member_names(name):
    with pytest.raises(ValueError, match="plain relative path"):
        tgz_single(name, b"x")
