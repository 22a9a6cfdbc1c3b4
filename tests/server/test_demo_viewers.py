"""Demo data for the artifact viewers: every kind, plus hostile and malformed ones.

Over HTTP on the shared demo server: the "viewer-edge-cases" runs keep their
markup and non-ASCII names exactly, and every output reads back with the content
the viewers and the browser safety tests rely on.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kfp_nb.server._content import (
    BIG_TABLE_ROWS,
    CANARY_GLOBAL,
    CANARY_PATH,
    TABLE_COLUMNS,
)

EDGE_EXPERIMENT = "viewer-edge-cases"
RUN0_NAME = (
    "<img src=x onerror=\"window.__kfpNbPwned='run-name'\"> 訓練 🚀 & "
    "\"quoted\" </td><script>window.__kfpNbPwned='run-script'</script>"
)


@pytest.fixture(scope="module")
def demo_api(demo_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url + "/apis/v2beta1", timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def edge_runs(demo_api) -> list[dict[str, Any]]:
    exps = demo_api.get("/experiments", params={"page_size": 200}).json()
    (exp,) = [e for e in exps["experiments"] if e["display_name"] == EDGE_EXPERIMENT]
    runs = demo_api.get(
        "/runs",
        params={"experiment_id": exp["experiment_id"], "view": "FULL",
                "sort_by": "created_at"},
    ).json()["runs"]  # fmt: skip
    return runs


def _outputs(run: dict[str, Any]) -> dict[str, tuple[dict, list[dict]]]:
    """Output key → (task, artifacts) over the run's tasks."""
    found = {}
    for task in run.get("tasks", []):
        for group in task["outputs"].get("artifacts", []):
            found[group["artifact_key"]] = (task, group["artifacts"])
    return found


def _read(api: httpx.Client, run: dict, task: dict, key: str) -> tuple[str, bytes]:
    resp = api.get(
        f"/runs/{run['run_id']}/nodes/{task['task_id']}/artifacts/{key}:read"
    )
    assert resp.status_code == 200, (key, resp.text)
    blob = base64.b64decode(resp.json()["data"])
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        (member,) = tar.getmembers()
        return member.name, tar.extractfile(member).read()


def test_edge_runs_keep_markup_and_unicode_names_exactly(demo_api, edge_runs):
    assert [r["state"] for r in edge_runs] == ["SUCCEEDED", "SUCCEEDED"]
    names = [r["display_name"] for r in edge_runs]
    assert names[0] == RUN0_NAME
    assert "評価" in names[1] and "<b>bold?</b>" in names[1]
    assert edge_runs[0]["description"] == "line1\nline2 <b>bold?</b>"
    # Found again by a non-ASCII substring (UTF-8 in the percent-encoded filter).
    flt = {"predicates": [{"key": "display_name", "operation": "IS_SUBSTRING",
                           "string_value": "訓練 🚀"}]}  # fmt: skip
    found = demo_api.get("/runs", params={"filter": json.dumps(flt)}).json()["runs"]
    assert [r["run_id"] for r in found] == [edge_runs[0]["run_id"]]


def test_hostile_html_probes_every_way_out_of_its_frame(demo_api, edge_runs):
    run = edge_runs[0]
    task, (art,) = _outputs(run)["hostile_html"]
    assert art["type"] == "HTML" and art["uri"].startswith("minio://")
    name, data = _read(demo_api, run, task, "hostile_html")
    page = data.decode()
    assert name == "hostile_html.html"
    for probe in (
        "window.parent.document", "window.top.location.href =", "document.cookie",
        "localStorage.setItem", "sessionStorage", "window.open(",
        f'action="{CANARY_PATH}/form"', "fetch(url, init)", "/api/contents",
        'href="javascript:', 'id="probe"', "data:image/png;base64,",
    ):  # fmt: skip
        assert probe in page, probe
    assert page.count(CANARY_PATH) >= 2 and run["run_id"] in page


def test_unsafe_markdown_and_svg_carry_script_payloads(demo_api, edge_runs):
    run = edge_runs[1]
    outputs = _outputs(run)
    task, (md,) = outputs["unsafe_markdown"]
    assert md["type"] == "Markdown"
    _, text = _read(demo_api, run, task, "unsafe_markdown")
    markdown = text.decode()
    for payload in (
        "<script>",
        'onerror="',
        "](javascript:",
        "](JaVaScRiPt:",
        'href="javascript:',
        "<svg onload=",
        "<iframe",
        "<form",
    ):
        assert payload in markdown, payload
    assert markdown.count(CANARY_GLOBAL) >= 6
    task, _ = outputs["unsafe_svg"]
    name, svg = _read(demo_api, run, task, "unsafe_svg")
    assert name.endswith(".svg") and svg.startswith(b"<svg")
    assert b"<script>" in svg and b"onload=" in svg


def test_malformed_confusion_matrix_has_fewer_rows_than_labels(edge_runs):
    for run in edge_runs:
        _, (art,) = _outputs(run)["malformed_confusion_matrix"]
        assert art["type"] == "ClassificationMetric" and "uri" not in art
        matrix = art["metadata"]["confusionMatrix"]
        labels = matrix["annotationSpecs"]
        rows = [r["row"] for r in matrix["rows"]]
        assert len(rows) != len(labels)
        assert any(len(row) != len(labels) for row in rows)


def test_wrapped_classification_metrics_use_the_ml_metadata_layers(edge_runs):
    _, (art,) = _outputs(edge_runs[0])["wrapped_classification_metrics"]
    meta = art["metadata"]
    assert set(meta) == {
        "display_name",
        "store_session_info",
        "confusionMatrix",
        "confidenceMetrics",
    }
    rows = meta["confusionMatrix"]["struct"]["rows"]
    assert len(rows) == len(meta["confusionMatrix"]["struct"]["annotationSpecs"])
    points = meta["confidenceMetrics"]["list"]
    assert len(points) > 5
    assert {"confidenceThreshold", "falsePositiveRate", "recall"} <= set(points[0])


def test_metric_names_with_markup_are_artifact_names(edge_runs):
    _, arts = _outputs(edge_runs[0])["odd_metric_names"]
    names = {a["name"] for a in arts}
    assert any(n.startswith("<img src=x onerror=") for n in names)
    assert "訓練 accuracy 🚀" in names and 'a & b "quoted" </td>' in names
    for art in arts:
        assert art["type"] == "Metric"
        assert art["metadata"] == {art["name"]: art["number_value"]}


def test_binary_text_and_big_table_outputs(demo_api, edge_runs):
    run = edge_runs[0]
    outputs = _outputs(run)
    task, _ = outputs["weights_blob"]
    name, blob = _read(demo_api, run, task, "weights_blob")
    assert name == "weights_blob.bin" and blob.startswith(b"KFPW\x00")
    with pytest.raises(UnicodeDecodeError):
        blob.decode("utf-8")
    name, log = _read(demo_api, run, task, "run_log")
    assert name == "run_log.txt" and b"<script>" in log and log.count(b"\n") > 30
    name, table = _read(demo_api, run, task, "big_table")
    rows = list(csv.reader(io.StringIO(table.decode())))
    assert rows[0] == list(TABLE_COLUMNS) and len(rows) == BIG_TABLE_ROWS + 1


def test_every_viewer_kind_is_in_the_demo(demo_api, demo_server):
    """metrics, confusion matrix, ROC, HTML, Markdown, table, image, text/JSON,
    binary and v1 ui-metadata: each has at least one demo artifact."""
    body = demo_api.get("/runs", params={"page_size": 200, "view": "FULL"}).json()
    kinds: set[str] = set()
    reads: dict[str, tuple[dict, dict, str]] = {}
    for run in body["runs"]:
        for key, (task, arts) in _outputs(run).items():
            for art in arts:
                meta = art.get("metadata", {})
                if art["type"] == "Metric" and "number_value" in art:
                    kinds.add("metrics")
                if "confusionMatrix" in meta:
                    kinds.add("confusion_matrix")
                if "confidenceMetrics" in meta:
                    kinds.add("roc")
                if art.get("uri"):
                    reads.setdefault(key, (run, task, art["type"]))
    suffix_kind = {".html": "html", ".md": "markdown", ".csv": "table",
                   ".png": "image", ".json": "text", ".txt": "text",
                   ".bin": "binary"}  # fmt: skip
    for key, (run, task, _) in reads.items():
        name, data = _read(demo_api, run, task, key)
        if key == "mlpipeline-ui-metadata":
            kinds.add("v1")
            types = {o["type"] for o in json.loads(data)["outputs"]}
            assert {"confusion_matrix", "roc", "table", "markdown", "web-app"} <= types
        for suffix, kind in suffix_kind.items():
            if name.endswith(suffix):
                kinds.add(kind)
    assert kinds >= {
        "metrics", "confusion_matrix", "roc", "html", "markdown", "table", "image",
        "text", "binary", "v1",
    }, kinds  # fmt: skip
