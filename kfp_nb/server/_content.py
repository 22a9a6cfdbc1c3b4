"""The bytes and metadata the simulated tasks write as their outputs.

Everything here is a pure function of ``(run_id, task_name, output, params,
seed)``: the same run always shows the same metrics, tables and images, across
restarts and between the server and the tests. Numbers respond plausibly to the
run's parameters (``learning_rate``, ``epochs``) so comparing runs shows a trend.

Shapes follow what the KFP SDK writes (SEMANTICS.md §11): metric dicts and
classification metrics live in metadata only; HTML, Markdown, CSV tables, models
and images are files; a v1 ``mlpipeline-ui-metadata`` file inlines its sources.

The outputs named in ``EDGE_CASE_OUTPUTS`` (the "Viewer edge cases" pipeline) hold
what viewers must survive: a hostile HTML page that probes its sandbox, Markdown
and SVG with script, a malformed confusion matrix, metrics in the ML Metadata
wrapped form, metric names with markup, opaque binary, a text log and a table
past the row caps.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import html
import io
import json
import math
import random
import struct
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ._pipelines import UI_METADATA_KEY, OutputPlan

__all__ = [
    "BIG_TABLE_ROWS",
    "CANARY_GLOBAL",
    "CANARY_PATH",
    "EDGE_CASE_OUTPUTS",
    "artifact_content",
    "classification_metrics",
    "metric_values",
    "png_image",
    "tgz_single",
    "ui_metadata",
]

CLASS_LABELS: tuple[str, ...] = ("cat", "dog", "bird")
_REGIONS = ("north", "south", "east", "west", "São Paulo", "Portland, OR")
_EPOCH_BASE = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)

Params = Mapping[str, Any]


def _rng(*parts: object) -> random.Random:
    """A generator seeded from the parts (``hash()`` is salted per process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _number(params: Params, names: Sequence[str], default: float) -> float:
    """The first parameter of ``names`` that reads as a number, else ``default``."""
    for name in names:
        value = params.get(name)
        if isinstance(value, bool) or value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            return number
    return default


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


# --- Metrics -----------------------------------------------------------------


def _run_accuracy(*, run_id: str, params: Params, seed: int) -> float:
    """The run's underlying model quality: best near lr 0.01, better with epochs."""
    lr = _number(params, ("learning_rate", "lr", "learningRate"), 0.01)
    epochs = _number(params, ("epochs", "num_epochs", "n_epochs"), 10.0)
    lr_penalty = 0.07 * abs(math.log10(max(lr, 1e-8)) + 2.0)
    epoch_gain = 0.22 * (1.0 - math.exp(-max(epochs, 0.0) / 6.0))
    noise = _rng("run", run_id, seed).uniform(-0.015, 0.015)
    return _clamp(0.70 + epoch_gain - lr_penalty + noise, 0.35, 0.99)


def metric_values(
    *, run_id: str, task_name: str, params: Params, seed: int
) -> dict[str, float]:
    """Scalar metrics a task logs, e.g. ``{"accuracy": 0.91, "loss": 0.21, ...}``.

    Drift-checking tasks log drift statistics; every other task logs model
    quality, close to the run's accuracy with a little per-task spread.
    """
    rng = _rng("metrics", run_id, task_name, seed)
    if "drift" in task_name:
        threshold = _number(params, ("drift_threshold",), 0.2)
        psi = round(rng.uniform(0.02, 0.35), 4)
        return {
            "psi": psi,
            "drifted_features": float(rng.randint(0, 4) if psi > threshold else 0),
            "rows_compared": float(rng.randint(40_000, 60_000)),
        }
    acc = _clamp(_run_accuracy(run_id=run_id, params=params, seed=seed)
                 + rng.uniform(-0.005, 0.005), 0.3, 0.995)
    precision = _clamp(acc + rng.uniform(-0.03, 0.02), 0.3, 0.995)
    recall = _clamp(acc + rng.uniform(-0.03, 0.02), 0.3, 0.995)
    values = {
        "accuracy": acc,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "loss": -math.log(acc) * 1.4 + rng.uniform(0.0, 0.04),
        "auc": _clamp(acc + 0.04 + rng.uniform(0.0, 0.02), 0.5, 0.999),
    }
    return {name: round(value, 4) for name, value in values.items()}


def classification_metrics(
    *, run_id: str, task_name: str, params: Params, seed: int
) -> dict[str, Any]:
    """``{"confusionMatrix": ..., "confidenceMetrics": [...]}`` as the SDK logs it.

    The matrix is square over ``CLASS_LABELS`` with the run's accuracy on its
    diagonal; the ROC points never decrease in either rate as the threshold falls.
    """
    metrics = metric_values(run_id=run_id, task_name=task_name, params=params,
                            seed=seed)
    rows = _confusion_rows(metrics["accuracy"], _rng("cm", run_id, task_name, seed))
    return {
        "confusionMatrix": {
            "annotationSpecs": [{"displayName": label} for label in CLASS_LABELS],
            "rows": [{"row": row} for row in rows],
        },
        "confidenceMetrics": _roc_points(metrics["auc"]),
    }


def _confusion_rows(accuracy: float, rng: random.Random) -> list[list[int]]:
    size = len(CLASS_LABELS)
    rows = []
    for index in range(size):
        total = rng.randint(80, 140)
        hit = round(total * _clamp(accuracy + rng.uniform(-0.05, 0.05), 0.0, 1.0))
        row = [0] * size
        row[index] = hit
        for _ in range(total - hit):
            row[rng.choice([i for i in range(size) if i != index])] += 1
        rows.append(row)
    return rows


def _roc_points(auc: float, *, steps: int = 20) -> list[dict[str, float]]:
    """A curve ``tpr = fpr ** k`` whose area is ``auc`` (k = 1/auc - 1)."""
    power = 1.0 / _clamp(auc, 0.51, 0.999) - 1.0
    points = []
    for step in range(steps + 1):
        threshold = 1.0 - step / steps
        fpr = (1.0 - threshold) ** 1.6
        points.append({
            "confidenceThreshold": round(threshold, 4),
            "falsePositiveRate": round(fpr, 4),
            "recall": round(fpr ** power if fpr else 0.0, 4),
        })
    return points


# --- Images --------------------------------------------------------------------

_WHITE, _INK, _GRID = (255, 255, 255), (40, 44, 52), (225, 228, 234)
_BLUE, _ORANGE, _NAVY = (31, 119, 180), (255, 127, 14), (8, 48, 107)


class _Canvas:
    """An RGB pixel buffer with the three drawing operations the charts need."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(_WHITE * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: tuple) -> None:
        """Fill ``[x0, x1) × [y0, y1)``, clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        for y in range(max(0, y0), min(self.height, y1)):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + 3 * (x1 - x0)] = bytes(color) * (x1 - x0)

    def line(self, a: tuple[int, int], b: tuple[int, int], color: tuple) -> None:
        """A 2-pixel-thick segment (enough samples to leave no gaps)."""
        steps = max(abs(b[0] - a[0]), abs(b[1] - a[1]), 1)
        for i in range(steps + 1):
            x = round(a[0] + (b[0] - a[0]) * i / steps)
            y = round(a[1] + (b[1] - a[1]) * i / steps)
            self.rect(x, y, x + 2, y + 2, color)

    def png(self) -> bytes:
        row = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * row:(y + 1) * row])
            for y in range(self.height)
        )
        return png_image(self.width, self.height, raw)


def png_image(width: int, height: int, raw: bytes) -> bytes:
    """A PNG (8-bit RGB) from scanlines that each start with a filter byte."""
    if len(raw) != height * (1 + 3 * width):
        raise ValueError(f"need {height} scanlines of {1 + 3 * width} bytes")

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", header),
        chunk(b"IDAT", zlib.compress(raw, 9)),
        chunk(b"IEND", b""),
    ))


def _axes(canvas: _Canvas, *, left: int, bottom: int) -> None:
    for y in range(10, bottom, 20):
        canvas.rect(left, y, canvas.width - 6, y + 1, _GRID)
    canvas.rect(left, 6, left + 1, bottom + 1, _INK)
    canvas.rect(left, bottom, canvas.width - 6, bottom + 1, _INK)


def _line_chart(
    values: Sequence[float], *, width: int = 160, height: int = 120
) -> bytes:
    """Training-loss style curve over its index."""
    canvas = _Canvas(width, height)
    left, bottom, top = 12, height - 12, 8
    _axes(canvas, left=left, bottom=bottom)
    high, low = max(values), min(values)
    span = (high - low) or 1.0
    points = [
        (left + 2 + round(i * (width - left - 12) / max(len(values) - 1, 1)),
         top + round((high - v) / span * (bottom - top - 4)))
        for i, v in enumerate(values)
    ]
    for a, b in zip(points, points[1:]):
        canvas.line(a, b, _BLUE)
    return canvas.png()


def _bar_chart(
    counts: Sequence[int], *, width: int = 160, height: int = 120
) -> bytes:
    canvas = _Canvas(width, height)
    left, bottom = 12, height - 12
    _axes(canvas, left=left, bottom=bottom)
    slot = (width - left - 10) // len(counts)
    peak = max(counts) or 1
    for i, count in enumerate(counts):
        x = left + 3 + i * slot
        canvas.rect(x, bottom - round(count / peak * (bottom - 12)), x + slot - 3,
                    bottom, _ORANGE)
    return canvas.png()


def _heat_map(rows: Sequence[Sequence[int]], *, cell: int = 32) -> bytes:
    """Each cell shaded by its share of its row (white → dark blue)."""
    size = len(rows)
    canvas = _Canvas(size * cell, size * cell)
    for r, row in enumerate(rows):
        total = sum(row) or 1
        for c, count in enumerate(row):
            share = count / total
            color = tuple(
                round(w + (b - w) * share) for w, b in zip(_WHITE, _NAVY)
            )
            canvas.rect(c * cell + 1, r * cell + 1, (c + 1) * cell - 1,
                        (r + 1) * cell - 1, color)
    return canvas.png()


def _loss_curve(*, run_id: str, params: Params, seed: int) -> list[float]:
    epochs = _number(params, ("epochs", "num_epochs", "n_epochs"), 10.0)
    epochs = int(_clamp(epochs, 2, 200))
    final = -math.log(_run_accuracy(run_id=run_id, params=params, seed=seed))
    rng = _rng("loss", run_id, seed)
    return [
        final + 1.8 * math.exp(-epoch / max(epochs / 4, 1)) + rng.uniform(0, 0.04)
        for epoch in range(epochs)
    ]


def _image(
    *, run_id: str, task_name: str, key: str, params: Params, seed: int
) -> bytes:
    """A chart picked by the output's name: heat map, histogram or loss curve."""
    lowered = key.lower()
    if "heat" in lowered or "confusion" in lowered:
        metrics = classification_metrics(run_id=run_id, task_name=task_name,
                                         params=params, seed=seed)
        return _heat_map([r["row"] for r in metrics["confusionMatrix"]["rows"]])
    if "hist" in lowered:
        rng = _rng("hist", run_id, task_name, key, seed)
        centre = 4.5 + rng.uniform(-1, 1)
        return _bar_chart([
            round(100 * math.exp(-((i - centre) ** 2) / 6)) + rng.randint(0, 8)
            for i in range(10)
        ])
    return _line_chart(_loss_curve(run_id=run_id, params=params, seed=seed))


# --- Tables and documents ------------------------------------------------------

TABLE_COLUMNS: tuple[str, ...] = (
    "id", "timestamp", "region", "amount", "quantity", "is_return", "score",
    "label", "predicted",
)


def _table_rows(*, run_id: str, task_name: str, key: str, seed: int,
                count: int = 50) -> list[list[object]]:
    """Mixed-type rows: ints, ISO times, text (with commas, non-ASCII), floats,
    booleans, and a few missing scores (empty cells)."""
    rng = _rng("table", run_id, task_name, key, seed)
    rows = []
    for i in range(count):
        label = rng.choice(CLASS_LABELS)
        predicted = label if rng.random() < 0.85 else rng.choice(CLASS_LABELS)
        rows.append([
            1000 + i,
            (_EPOCH_BASE + timedelta(minutes=37 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            rng.choice(_REGIONS),
            round(rng.uniform(3.5, 480.0), 2),
            rng.randint(1, 12),
            "true" if rng.random() < 0.1 else "false",
            "" if rng.random() < 0.08 else round(rng.random(), 3),
            label,
            predicted,
        ])
    return rows


def _csv(rows: Sequence[Sequence[object]], *, header: Sequence[str] | None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _display(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _markdown_cell(value: object) -> str:
    """Escaped so a parameter value cannot break the table or inject markup."""
    return html.escape(_display(value)).replace("|", "\\|").replace("\n", " ")


def _markdown(*, run_id: str, task_name: str, params: Params,
              metrics: Mapping[str, float]) -> str:
    lines = [
        "# Run summary",
        "",
        f"Run `{run_id}`, task **{_markdown_cell(task_name)}**.",
        "",
        "| Parameter | Value |",
        "|---|---|",
        *(
            f"| {_markdown_cell(k)} | {_markdown_cell(v)} |"
            for k, v in sorted(params.items())
        ),
        "",
        "| Metric | Value |",
        "|---|---:|",
        *(f"| {name} | {value:.4f} |" for name, value in metrics.items()),
        "",
    ]
    if not params:
        lines[4:6] = ["_No runtime parameters._"]
    return "\n".join(lines)


def _html_report(*, run_id: str, task_name: str, params: Params,
                 metrics: Mapping[str, float], chart: bytes) -> str:
    """A self-contained page: tables, an inline PNG and a small inline script."""
    def row(name: object, value: object) -> str:
        return (f"<tr><td>{html.escape(_display(name))}</td>"
                f"<td>{html.escape(_display(value))}</td></tr>")

    image = base64.b64encode(chart).decode("ascii")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Report: {html.escape(task_name)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 8px}</style>",
        "</head><body>",
        f"<h1>Evaluation report</h1><p>Run <code>{html.escape(run_id)}</code></p>",
        "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>",
        *(row(name, value) for name, value in metrics.items()),
        "</table>",
        "<h2>Parameters</h2><table><tr><th>name</th><th>value</th></tr>",
        *(row(name, value) for name, value in sorted(params.items())),
        "</table>",
        f'<h2>Loss</h2><img alt="loss curve" src="data:image/png;base64,{image}">',
        '<p id="status">static page</p>',
        "<script>document.getElementById('status').textContent="
        "'interactive page (script ran)';</script>",
        "</body></html>",
        "",
    ])


def _model_file(*, run_id: str, task_name: str, params: Params, seed: int) -> bytes:
    rng = _rng("model", run_id, task_name, seed)
    body = {
        "format": "kfp-nb-demo-model/1",
        "classes": list(CLASS_LABELS),
        "hyperparameters": {k: params[k] for k in sorted(params)},
        "weights": [[round(rng.gauss(0, 0.5), 5) for _ in range(8)]
                    for _ in CLASS_LABELS],
    }
    return json.dumps(body, indent=1, ensure_ascii=False, default=str).encode()


# --- v1 output viewers -----------------------------------------------------------


def ui_metadata(*, run_id: str, task_name: str, params: Params, seed: int) -> bytes:
    """A v1 ``mlpipeline-ui-metadata`` document whose sources are all inline.

    Holds one output of each v1 viewer kind: confusion matrix, ROC, table,
    markdown and web-app.
    """
    metrics = metric_values(run_id=run_id, task_name=task_name, params=params,
                            seed=seed)
    cls = classification_metrics(run_id=run_id, task_name=task_name, params=params,
                                 seed=seed)
    matrix = [r["row"] for r in cls["confusionMatrix"]["rows"]]
    pairs = [[t, p, matrix[i][j]] for i, t in enumerate(CLASS_LABELS)
             for j, p in enumerate(CLASS_LABELS)]
    roc = [[p["falsePositiveRate"], p["recall"], p["confidenceThreshold"]]
           for p in cls["confidenceMetrics"]]
    rows = _table_rows(run_id=run_id, task_name=task_name, key="ui", seed=seed,
                       count=10)
    chart = _line_chart(_loss_curve(run_id=run_id, params=params, seed=seed))
    outputs = [
        {"type": "confusion_matrix", "format": "csv", "storage": "inline",
         "labels": list(CLASS_LABELS),
         "schema": [{"name": "target", "type": "CATEGORY"},
                    {"name": "predicted", "type": "CATEGORY"},
                    {"name": "count", "type": "NUMBER"}],
         "source": _csv(pairs, header=None)},
        {"type": "roc", "format": "csv", "storage": "inline",
         "schema": [{"name": "fpr", "type": "NUMBER"},
                    {"name": "tpr", "type": "NUMBER"},
                    {"name": "thresholds", "type": "NUMBER"}],
         "source": _csv(roc, header=None)},
        {"type": "table", "format": "csv", "storage": "inline",
         "header": list(TABLE_COLUMNS), "source": _csv(rows, header=None)},
        {"type": "markdown", "storage": "inline",
         "source": _markdown(run_id=run_id, task_name=task_name, params=params,
                             metrics=metrics)},
        {"type": "web-app", "storage": "inline",
         "source": _html_report(run_id=run_id, task_name=task_name, params=params,
                                metrics=metrics, chart=chart)},
    ]
    return json.dumps({"outputs": outputs}, indent=1, ensure_ascii=False).encode()


# --- Viewer edge cases ----------------------------------------------------------
# Outputs of the "Viewer edge cases" demo pipeline, picked by output key. They are
# what a careless or hostile pipeline could write; a viewer must show each safely.

#: What a hostile payload sets when it manages to run where it must not.
CANARY_GLOBAL = "__kfpNbPwned"
#: Path prefix of every request a hostile payload makes to the page's own origin
#: (relative URLs: they resolve against the notebook page that embeds them).
CANARY_PATH = "/kfp-nb-canary"

_DOT_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAA"
    "AABJRU5ErkJggg=="
)

_PROBE_SCRIPT = """
(function () {
  var out = {}, canary = "%(canary)s";
  function attempt(name, fn) {
    try { out[name] = "allowed: " + String(fn()).slice(0, 120); }
    catch (e) { out[name] = "blocked: " + ((e && e.name) || String(e)); }
  }
  attempt("parent_document", function () {
    var doc = window.parent.document;
    doc.body.setAttribute("data-kfp-nb-pwned", "parent_document");
    return doc.title + " " + doc.cookie;
  });
  attempt("parent_globals", function () {
    window.parent.%(flag)s = "parent_globals"; return Object.keys(window.parent).length;
  });
  attempt("top_location_read", function () { return window.top.location.href; });
  attempt("cookie_read", function () { return document.cookie; });
  attempt("cookie_write", function () {
    document.cookie = "kfp_nb_pwned=1; path=/"; return document.cookie;
  });
  attempt("local_storage", function () {
    localStorage.setItem("kfp_nb_pwned", "1"); return JSON.stringify(localStorage);
  });
  attempt("session_storage", function () {
    sessionStorage.setItem("kfp_nb_pwned", "1"); return sessionStorage.length;
  });
  attempt("window_open", function () {
    var w = window.open(canary + "/popup", "_blank");
    if (!w) { throw new Error("null window"); }
    return "opened";
  });
  // submit() never throws: whether the post left shows only on the server side.
  try { document.getElementById("probe-form").submit(); out.form_post = "submitted"; }
  catch (e) { out.form_post = "blocked: " + ((e && e.name) || String(e)); }
  attempt("top_navigation", function () {
    window.top.location.href = canary + "/top-navigation"; return "assigned";
  });
  document.getElementById("status").textContent = "script ran inside the sandbox";
  function report() {
    var pre = document.getElementById("probe");
    pre.textContent = JSON.stringify(out, null, 1);
    pre.setAttribute("data-done", "1");
  }
  function tryFetch(name, url, init) {
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        out[name] = "allowed: " + r.status + " " + t.slice(0, 60);
      });
    }, function (e) { out[name] = "blocked: " + ((e && e.name) || String(e)); });
  }
  var timer = new Promise(function (done) { setTimeout(done, 3000); });
  Promise.race([timer, Promise.all([
    tryFetch("fetch_get", canary + "/fetch", {credentials: "include"}),
    tryFetch("fetch_api", "/api/contents?kfp_nb_canary=fetch_api",
             {credentials: "include"}),
    tryFetch("fetch_post", canary + "/fetch-post",
             {method: "POST", body: "stolen", credentials: "include"})
  ])]).then(report, report);
})();
"""


def hostile_html(*, run_id: str) -> str:
    """An HTML report whose script tries to reach out of its frame (case 24).

    It writes what each attempt gave into ``<pre id="probe" data-done="1">`` as
    JSON (``{"parent_document": "blocked: SecurityError", ...}``) so a browser
    test can read the result; every request it makes goes to ``CANARY_PATH``
    or carries ``kfp_nb_canary`` so the server side can tell it arrived.
    """
    script = _PROBE_SCRIPT % {"canary": CANARY_PATH, "flag": CANARY_GLOBAL}
    return "\n".join([
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>hostile report</title></head>',
        "<body><h1>Hostile report</h1>",
        f"<p>Run <code>{html.escape(run_id)}</code></p>",
        '<p id="status">static text</p>',
        f'<img alt="one pixel" src="data:image/png;base64,{_DOT_PNG}">',
        f'<form id="probe-form" method="post" action="{CANARY_PATH}/form" '
        'target="_top"><input name="stolen" value="secret"></form>',
        f'<a id="js-link" href="javascript:window.{CANARY_GLOBAL}=\'html-link\'">'
        "javascript: link</a>",
        '<pre id="probe">pending</pre>',
        f"<script>{script}</script>",
        "</body></html>",
        "",
    ])  # fmt: skip


def unsafe_markdown(*, run_id: str) -> str:
    """Markdown with raw HTML that must never run: script, handlers, js links."""
    flag = CANARY_GLOBAL
    return "\n".join([
        "# Notes with unsafe markup",
        "",
        f"Run `{run_id}`.",
        "",
        "Plain **bold**, `code` and a [safe link](https://example.org/docs).",
        "",
        f"<script>window.{flag} = 'md-script';</script>",
        "",
        f'<img src="x" onerror="window.{flag} = \'md-onerror\'">',
        "",
        f"[a javascript: link](javascript:window.{flag}='md-link')",
        "",
        f"[mixed-case scheme](JaVaScRiPt:window.{flag}='md-link-case')",
        "",
        f'<a href="javascript:window.{flag}=\'md-raw-link\'">raw HTML link</a>',
        "",
        f'<svg onload="window.{flag} = \'md-svg\'"><circle r="4"/></svg>',
        "",
        f'<iframe src="{CANARY_PATH}/markdown-iframe"></iframe>',
        "",
        f'<form action="{CANARY_PATH}/markdown-form" method="post">'
        '<button id="md-submit">send</button></form>',
        "",
        "| column | value |",
        "|---|---|",
        "| escaped | <b>not bold?</b> & 訓練 🚀 |",
        "",
    ])  # fmt: skip


def unsafe_svg(*, run_id: str) -> bytes:
    """An SVG picture carrying a script and an ``onload`` handler."""
    flag = CANARY_GLOBAL
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" '
        f"onload=\"window.{flag}='svg-onload'\">"
        f"<script>window.{flag} = 'svg-script';</script>"
        '<rect width="120" height="60" fill="#1f77b4"/>'
        f'<text x="10" y="35" fill="#fff">SVG {html.escape(run_id[:8])}</text>'
        "</svg>"
    ).encode()


def malformed_confusion_matrix(*, run_id: str, seed: int) -> dict[str, Any]:
    """Three labels but two rows, the second one short (rows ≠ labels)."""
    rng = _rng("malformed-cm", run_id, seed)
    return {
        "confusionMatrix": {
            "annotationSpecs": [{"displayName": label} for label in CLASS_LABELS],
            "rows": [
                {"row": [rng.randint(20, 60), rng.randint(0, 9), rng.randint(0, 9)]},
                {"row": [rng.randint(0, 9), rng.randint(20, 60)]},
            ],
        }
    }


def wrapped_classification_metrics(
    *, run_id: str, task_name: str, params: Params, seed: int
) -> dict[str, Any]:
    """Classification metrics in the ML Metadata form: ``list``/``struct`` layers,
    plus the launcher's ``display_name`` and ``store_session_info`` properties."""
    plain = classification_metrics(
        run_id=run_id, task_name=task_name, params=params, seed=seed
    )
    return {
        "display_name": "wrapped_classification_metrics",
        "store_session_info": json.dumps({"Provider": "minio", "Params": {}}),
        "confusionMatrix": {"struct": plain["confusionMatrix"]},
        "confidenceMetrics": {"list": plain["confidenceMetrics"]},
    }


def odd_metric_names(*, run_id: str, seed: int) -> dict[str, float]:
    """Metric names with markup, quotes and non-ASCII text (case 38)."""
    rng = _rng("odd-metrics", run_id, seed)
    names = (
        f'<img src=x onerror="window.{CANARY_GLOBAL}=\'metric\'">',
        "訓練 accuracy 🚀",
        'a & b "quoted" </td>',
        "Évaluation — précision",
    )
    return {name: round(rng.uniform(0.5, 1.0), 4) for name in names}


def weights_blob(*, run_id: str, seed: int) -> bytes:
    """Opaque binary weights: a magic header then little-endian float32s."""
    rng = _rng("weights", run_id, seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(256)]
    return b"KFPW\x00\x01\x00\x00" + struct.pack(f"<{len(values)}f", *values)


def run_log(*, run_id: str, seed: int) -> bytes:
    """A plain-text log with markup-looking lines (must show as text)."""
    rng = _rng("log", run_id, seed)
    lines = [
        f"{(_EPOCH_BASE + timedelta(seconds=7 * i)).isoformat()} step={i} "
        f"loss={1.5 * math.exp(-i / 12) + rng.uniform(0, 0.05):.4f}"
        for i in range(40)
    ]
    lines.insert(3, "WARNING <script>alert('log')</script> & 訓練 not markup")
    return ("\n".join(lines) + "\n").encode()


def _edge_case(
    key: str, *, run_id: str, task_name: str, params: Params, seed: int
) -> tuple[dict[str, Any], bytes | None] | None:
    """``(metadata, bytes)`` of an edge-case output, or ``None`` for other keys."""
    common = {"run_id": run_id, "task_name": task_name, "params": params,
              "seed": seed}  # fmt: skip
    if key == "hostile_html":
        return {"mimeType": "text/html"}, hostile_html(run_id=run_id).encode()
    if key == "unsafe_markdown":
        text = unsafe_markdown(run_id=run_id)
        return {"mimeType": "text/markdown"}, text.encode()
    if key == "unsafe_svg":
        return {"mimeType": "image/svg+xml"}, unsafe_svg(run_id=run_id)
    if key == "malformed_confusion_matrix":
        return malformed_confusion_matrix(run_id=run_id, seed=seed), None
    if key == "wrapped_classification_metrics":
        return wrapped_classification_metrics(**common), None
    if key == "odd_metric_names":
        return odd_metric_names(run_id=run_id, seed=seed), None
    if key == "weights_blob":
        return {"framework": "kfp-nb-demo"}, weights_blob(run_id=run_id, seed=seed)
    if key == "run_log":
        return {"mimeType": "text/plain"}, run_log(run_id=run_id, seed=seed)
    if key == "big_table":
        rows = _table_rows(run_id=run_id, task_name=task_name, key=key, seed=seed,
                           count=BIG_TABLE_ROWS)  # fmt: skip
        meta = {"rows": len(rows), "columns": list(TABLE_COLUMNS), "format": "csv"}
        return meta, _csv(rows, header=TABLE_COLUMNS).encode()
    return None


#: Output keys with edge-case content, whichever pipeline writes them.
EDGE_CASE_OUTPUTS: tuple[str, ...] = (
    "hostile_html", "unsafe_markdown", "unsafe_svg", "malformed_confusion_matrix",
    "wrapped_classification_metrics", "odd_metric_names", "weights_blob", "run_log",
    "big_table",
)  # fmt: skip
#: Rows of ``big_table``: past a viewer's first page and its row cap.
BIG_TABLE_ROWS = 2500


# --- Packaging and dispatch --------------------------------------------------------


def tgz_single(name: str, data: bytes) -> bytes:
    """A gzipped tar holding one regular file, as Argo stores an output.

    Times, owners and the gzip header are fixed, so equal inputs give equal bytes.
    """
    parts = name.split("/")
    if not name or name.startswith("/") or ".." in parts or "" in parts:
        raise ValueError(f"tar member name must be a plain relative path: {name!r}")
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    info.type = tarfile.REGTYPE
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.GNU_FORMAT) as tar:
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def artifact_content(
    *, run_id: str, task_name: str, output: OutputPlan, params: Params, seed: int
) -> tuple[dict[str, Any], bytes | None]:
    """``(metadata, file bytes)`` for one output; bytes are ``None`` for metrics.

    For ``Metric`` the metadata is the whole ``{name: value}`` dict; splitting it
    into one artifact per metric is the caller's job.
    """
    common = {"run_id": run_id, "task_name": task_name, "params": params,
              "seed": seed}
    if output.key in EDGE_CASE_OUTPUTS:
        return _edge_case(output.key, **common)  # type: ignore[return-value]
    kind = output.artifact_type
    if kind == "Metric":
        return metric_values(**common), None
    if kind == "ClassificationMetric":
        return classification_metrics(**common), None
    if kind == "HTML":
        chart = _image(key="loss", **common)
        page = _html_report(run_id=run_id, task_name=task_name, params=params,
                            metrics=metric_values(**common), chart=chart)
        return {"mimeType": "text/html"}, page.encode()
    if kind == "Markdown":
        text = _markdown(run_id=run_id, task_name=task_name, params=params,
                         metrics=metric_values(**common))
        return {"mimeType": "text/markdown"}, text.encode()
    if kind == "Dataset":
        rows = _table_rows(run_id=run_id, task_name=task_name, key=output.key,
                           seed=seed)
        text = _csv(rows, header=TABLE_COLUMNS)
        meta = {"rows": len(rows), "columns": list(TABLE_COLUMNS), "format": "csv"}
        return meta, text.encode()
    if kind == "Model":
        return {"framework": "kfp-nb-demo"}, _model_file(**common)
    return _other_artifact(output=output, **common)


def _other_artifact(
    *, run_id: str, task_name: str, output: OutputPlan, params: Params, seed: int
) -> tuple[dict[str, Any], bytes]:
    """v1 UI metadata, an image (``.png`` file name) or a small JSON document."""
    if output.key == UI_METADATA_KEY:
        return {}, ui_metadata(run_id=run_id, task_name=task_name, params=params,
                               seed=seed)
    if (output.file_name or "").endswith(".png"):
        data = _image(run_id=run_id, task_name=task_name, key=output.key,
                      params=params, seed=seed)
        width, height = struct.unpack(">II", data[16:24])
        return {"mimeType": "image/png", "width": width, "height": height}, data
    rng = _rng("artifact", run_id, task_name, output.key, seed)
    body = {"key": output.key, "task": task_name,
            "values": [round(rng.random(), 4) for _ in range(5)]}
    return {"mimeType": "application/json"}, json.dumps(body).encode()
