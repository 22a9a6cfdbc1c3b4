"""Artifacts → view specs: the small JSON dicts the front end renders as they are.

The kernel does every bit of parsing and validation here; the front end only
draws (``js/PROTOCOL.md``, "Artifact viewers"). Every builder either returns a
spec of its kind or raises :class:`SpecError` naming what was wrong, which the
caller turns into an ``error`` spec naming run, task and artifact. Nothing here
does I/O, and nothing here imports pandas.

Caps keep large content out of widget state: each is an attribute of
:data:`options` (``kfp_nb.options``) and may be overridden per call. A spec names
the caps applied in ``caps`` and in its messages.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "Part",
    "SpecError",
    "TableSource",
    "ViewOptions",
    "binary_spec",
    "classification_parts",
    "combine",
    "confusion_spec",
    "content_parts",
    "error_spec",
    "iter_specs",
    "metric_rows",
    "metrics_spec",
    "normalise_type",
    "options",
    "public_uri",
    "roc_spec",
    "sliced_parts",
    "sniff",
    "too_large_spec",
    "ui_metadata_parts",
    "unwrap",
]

MIB = 1024 * 1024
#: Properties the launcher adds to every artifact; never metrics (SEMANTICS §11).
RESERVED_PROPERTIES = frozenset({"display_name", "store_session_info"})
UI_METADATA = "mlpipeline-ui-metadata"
IMAGE_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
_HEX_BYTES = 512
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",\t;|"
_JSON_SNIFF = 16 * MIB


@dataclass
class ViewOptions:
    """Caps of the artifact viewers; set them on ``kfp_nb.options``.

    ``html_max_bytes``: HTML shown inline up to this size, else a download.
    ``markdown_max_bytes`` / ``text_max_bytes``: longer documents are truncated.
    ``image_max_bytes``: larger images are offered as a download only.
    ``table_max_rows`` / ``table_max_columns``: rows and columns of a table preview.
    ``table_max_bytes``: larger CSV/TSV files are not parsed for a preview.
    ``roc_max_points``: points per ROC curve (evenly thinned above).
    ``matrix_max_labels``: classes of a confusion matrix.
    ``download_max_bytes``: the most a download request sends to the browser.
    ``fetch_max_bytes``: the most :attr:`Artifact.data` reads from the server.
    """

    html_max_bytes: int = 5 * MIB
    markdown_max_bytes: int = 1 * MIB
    text_max_bytes: int = 1 * MIB
    image_max_bytes: int = 10 * MIB
    table_max_rows: int = 1000
    table_max_columns: int = 200
    table_max_bytes: int = 50 * MIB
    roc_max_points: int = 2000
    matrix_max_labels: int = 200
    download_max_bytes: int = 200 * MIB
    fetch_max_bytes: int = 200 * MIB

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in {f.name for f in fields(self)}:
            raise AttributeError(f"kfp_nb.options has no cap {name!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"kfp_nb.options.{name} must be a positive int, got {value!r}"
            )
        super().__setattr__(name, value)

    def with_overrides(self, overrides: Mapping[str, Any]) -> ViewOptions:
        """A copy with some caps changed (checked like attribute assignment)."""
        copy = replace(self)
        for name, value in overrides.items():
            setattr(copy, name, value)
        return copy


#: The caps in effect (exported as ``kfp_nb.options``).
options = ViewOptions()


class SpecError(ValueError):
    """An artifact's content cannot be shown; the text says what is wrong."""


@dataclass
class TableSource:
    """How a table spec was parsed, so ``to_frame`` reads the whole file alike."""

    text: str
    delimiter: str
    columns: list[str] | None  # given names (v1 ``header``), else None
    header_row: bool  # the first row holds the names


@dataclass
class Part:
    """One spec, its image bytes (image specs) and, for tables, the full source."""

    spec: dict[str, Any]
    image: bytes = b""
    table: TableSource | None = None
    frame: Any = None  # ("roc" | "confusion_matrix" | "metrics", data) for to_frame


# --- Helpers -------------------------------------------------------------------


def unwrap(value: Any) -> Any:
    """Drop ML Metadata's ``{"list": [...]}`` / ``{"struct": {...}}`` wrappers."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "list" and isinstance(inner, list):
                return [unwrap(v) for v in inner]
            if key == "struct" and isinstance(inner, dict):
                return unwrap(inner)
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def normalise_type(kind: str | None) -> str:
    """``system.Metrics`` / ``Metrics`` → ``Metric``; other titles lose ``system.``."""
    kind = str(kind) if kind is not None else ""
    name = kind.split(".")[-1] if kind.startswith("system.") else kind
    name = name or "Artifact"
    return {
        "Metrics": "Metric",
        "ClassificationMetrics": "ClassificationMetric",
        "SlicedClassificationMetrics": "SlicedClassificationMetric",
    }.get(name, name)


def public_uri(uri: str | None) -> str | None:
    """The URI without user-info, query or fragment (presigned URLs hold secrets)."""
    if not uri:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "(unparsable uri)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _number(value: Any) -> float | None:
    """A finite int/float (not bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _json_value(value: Any) -> Any:
    """A metric value as the protocol carries it: number, string or JSON text."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def sniff(data: bytes) -> str:
    """What the bytes are, from their first bytes: ``png``, ``json``, ``text``…"""
    if not data:
        return "empty"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PAR1"):
        return "parquet"
    if len(data) >= 262 and data[257:262] == b"ustar":
        return "tar"
    head = data[:_SNIFF_BYTES]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff limit
            return "binary"
        text = head[: exc.start].decode("utf-8-sig")
    if "\x00" in text:
        return "binary"
    start = text.lstrip()[:512].lower()
    if re.match(
        r"(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]",
        start,
        re.DOTALL,
    ):
        return "svg"
    if start.startswith(("<!doctype html", "<html")):
        return "html"
    # Parsing proves JSON; past _JSON_SNIFF bytes it is shown as text instead.
    if start[:1] in ("{", "[") and len(data) <= _JSON_SNIFF:
        try:
            json.loads(data.decode("utf-8-sig"))
            return "json"
        except (ValueError, UnicodeDecodeError):
            pass
    return "text"


def _image_problem(kind: str, data: bytes) -> str | None:
    """Why an image is incomplete (no end marker), else None."""
    if kind == "png" and not data.endswith(b"IEND\xaeB`\x82"):
        return "the PNG is truncated or corrupt (no IEND chunk at its end)"
    if kind == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "the JPEG is truncated (no end-of-image marker)"
    if kind == "gif" and not data.endswith(b";"):
        return "the GIF is truncated (no trailer byte)"
    if kind == "webp":
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            return f"the WebP is truncated ({len(data)} of {declared} bytes)"
    return None


def hex_dump(data: bytes, *, limit: int = _HEX_BYTES) -> str:
    """``offset  hex bytes  |ascii|`` lines of the first ``limit`` bytes."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  |{text}|")
    return "\n".join(lines)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"the {what} is not valid UTF-8 (byte {exc.start}: 0x{data[exc.start]:02x})"
        ) from None


def _cut(text: str, cap: int) -> tuple[str, bool]:
    """``text`` cut to at most ``cap`` UTF-8 bytes, on a character boundary."""
    raw = text.encode("utf-8")
    if len(raw) <= cap:
        return text, False
    return raw[:cap].decode("utf-8", errors="ignore"), True


# --- Spec skeletons ------------------------------------------------------------


def _base(
    kind: str,
    info: Mapping[str, Any],
    *,
    size: int | None = None,
    cap_bytes: int | None = None,
    cap_rows: int | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title if title is not None else info.get("title", ""),
        "artifact": {
            "run_id": info.get("run_id"),
            "task_id": info.get("task_id"),
            "name": info.get("name"),
            "type": info.get("type"),
            "uri": public_uri(info.get("uri")),
        },
        "size": size,
        "caps": {"bytes": cap_bytes, "rows": cap_rows},
    }


def where(info: Mapping[str, Any]) -> str:
    """``artifact 'x' of task 'y' in run 'z'`` (the parts that are known)."""
    text = f"artifact {info.get('name')!r}"
    task = info.get("task_name") or info.get("task_id")
    if task:
        text += f" of task {task!r}"
    if info.get("run_id"):
        text += f" in run {info.get('run_id')!r}"
    return text


def error_spec(
    info: Mapping[str, Any],
    problem: str,
    fix: str = "",
    *,
    size: int | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """An ``error`` spec: the artifact named, what was wrong, what to do."""
    spec = _base("error", info, size=size, title=title)
    message = f"Cannot show {where(info)}: {problem}."
    if fix:
        message += " " + fix
    spec["message"] = message
    return spec


def too_large_spec(
    info: Mapping[str, Any], *, size: int | None, cap: int, cap_name: str, sniffed: str
) -> dict[str, Any]:
    spec = _base("too_large", info, size=size, cap_bytes=cap)
    spec.update(cap=cap, sniffed=sniffed)
    shown = "more than the read limit" if size is None else f"{size:,} bytes"
    spec["message"] = (
        f"{where(info)} is {shown}, over the cap of {cap:,} bytes "
        f"(cap: {cap_name}={cap}); download it, or raise kfp_nb.options.{cap_name}"
    )
    return spec


def binary_spec(
    info: Mapping[str, Any], data: bytes, *, sniffed: str | None = None
) -> dict[str, Any]:
    spec = _base("binary", info, size=len(data), cap_bytes=_HEX_BYTES)
    spec.update(sniffed=sniffed or sniff(data), hex=hex_dump(data))
    return spec


def combine(
    parts: list[Part], info: Mapping[str, Any], *, layout: str = "column"
) -> tuple[dict[str, Any], bytes]:
    """One spec (and image) for the viewer: the part itself, or a ``stack``."""
    if len(parts) == 1:
        return parts[0].spec, parts[0].image
    spec = _base("stack", info)
    spec.update(layout=layout, specs=[p.spec for p in parts])
    return spec, b""


# --- Metrics -------------------------------------------------------------------


def metric_rows(
    name: str | None, number_value: Any, metadata: Mapping[str, Any]
) -> list[list[Any]]:
    """``[[name, value]]`` of one Metric artifact: its number, then its metadata.

    The PR's launcher writes ``number_value`` and ``{name: value}`` in metadata:
    the same metric, listed once. Reserved launcher properties are left out.
    """
    rows: list[list[Any]] = []
    seen: set[str] = set()
    if number_value is not None and name:
        rows.append([name, _json_value(number_value)])
        seen.add(name)
    for key, value in (metadata or {}).items():
        if key in RESERVED_PROPERTIES or key in seen:
            continue
        rows.append([str(key), _json_value(value)])
    return rows


def metrics_spec(
    info: Mapping[str, Any], groups: list[tuple[str, list[list[Any]]]]
) -> dict[str, Any]:
    spec = _base("metrics", info)
    spec["groups"] = [{"title": title, "rows": rows} for title, rows in groups]
    if not any(rows for _, rows in groups):
        spec["notes"] = ["no scalar metrics were logged"]
    return spec


# --- Classification metrics ----------------------------------------------------


def confusion_spec(
    info: Mapping[str, Any], matrix: Any, *, caps: ViewOptions, title: str | None = None
) -> dict[str, Any]:
    """Validate a ``confusionMatrix`` (either encoding) → ``confusion_matrix``."""
    matrix = unwrap(matrix)
    if not isinstance(matrix, dict):
        raise SpecError(f"confusionMatrix is a {type(matrix).__name__}, not an object")
    specs, rows = matrix.get("annotationSpecs"), matrix.get("rows")
    if not isinstance(specs, list) or not isinstance(rows, list):
        raise SpecError("confusionMatrix needs the lists 'annotationSpecs' and 'rows'")
    if not specs:
        raise SpecError("confusionMatrix has no annotationSpecs (no classes)")
    if len(specs) > caps.matrix_max_labels:
        raise SpecError(
            f"confusionMatrix has {len(specs)} classes, over the cap of "
            f"{caps.matrix_max_labels} (cap: matrix_max_labels="
            f"{caps.matrix_max_labels}); read it with to_frame()"
        )
    labels = []
    for i, item in enumerate(specs):
        name = item.get("displayName") if isinstance(item, dict) else None
        if not isinstance(name, (str, int, float)) or isinstance(name, bool):
            raise SpecError(f"annotationSpecs[{i}] has no displayName")
        labels.append(str(name))
    if len(rows) != len(labels):
        raise SpecError(
            f"confusionMatrix has {len(labels)} annotationSpecs but {len(rows)} rows"
        )
    out = []
    for i, row in enumerate(rows):
        cells = row.get("row") if isinstance(row, dict) else row
        if not isinstance(cells, list):
            raise SpecError(f"rows[{i}] has no 'row' list")
        if len(cells) != len(labels):
            raise SpecError(
                f"rows[{i}] has {len(cells)} entries, expected {len(labels)} "
                "(one per annotationSpec)"
            )
        values = []
        for j, cell in enumerate(cells):
            number = _number(cell)
            if number is None or number < 0:
                raise SpecError(
                    f"rows[{i}][{j}] is {cell!r}; counts must be numbers >= 0"
                )
            values.append(int(number) if number.is_integer() else number)
        out.append(values)
    spec = _base("confusion_matrix", info, cap_rows=caps.matrix_max_labels, title=title)
    spec.update(labels=labels, matrix=out)
    return spec


def _roc_points(points: Any, *, names: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Validated ``{fpr, tpr, threshold}`` points, sorted by fpr then tpr."""
    fpr_key, tpr_key, thr_key = names
    if not isinstance(points, list):
        raise SpecError(f"the ROC points are a {type(points).__name__}, not a list")
    if not points:
        raise SpecError("the ROC curve has no points")
    out = []
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            raise SpecError(f"ROC point {i} is not an object")
        fpr, tpr = _number(point.get(fpr_key)), _number(point.get(tpr_key))
        threshold = point.get(thr_key)
        thr_ok = (
            isinstance(threshold, (int, float))
            and not isinstance(threshold, bool)
            and not math.isnan(threshold)
        )
        if fpr is None or tpr is None or not thr_ok:
            raise SpecError(
                f"ROC point {i} needs numeric {thr_key}, {fpr_key} and {tpr_key}; "
                f"got {point!r}"[:300]
            )
        if not (0 <= fpr <= 1 and 0 <= tpr <= 1):
            raise SpecError(f"ROC point {i} has rates outside [0, 1]: {point!r}"[:300])
        # sklearn's first threshold is +inf: JSON cannot carry it, null can.
        out.append(
            {
                "fpr": fpr,
                "tpr": tpr,
                "threshold": float(threshold) if math.isfinite(threshold) else None,
            }
        )
    out.sort(key=lambda p: (p["fpr"], p["tpr"]))
    return out


def _thin(points: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    if len(points) <= cap:
        return points
    step = (len(points) - 1) / (cap - 1)
    return [points[round(i * step)] for i in range(cap)]


def roc_spec(
    info: Mapping[str, Any],
    curves: list[tuple[str, list[dict[str, Any]]]],
    *,
    caps: ViewOptions,
    title: str | None = None,
) -> dict[str, Any]:
    spec = _base("roc", info, cap_rows=caps.roc_max_points, title=title)
    spec["curves"] = []
    notes = []
    for label, points in curves:
        shown = _thin(points, caps.roc_max_points)
        if len(shown) < len(points):
            notes.append(
                f"{label}: showing {len(shown):,} of {len(points):,} points "
                f"(cap: roc_max_points={caps.roc_max_points})"
            )
        spec["curves"].append({"label": label, "points": shown})
    if notes:
        spec["notes"] = notes
    return spec


def classification_parts(
    info: Mapping[str, Any],
    metadata: Mapping[str, Any],
    *,
    caps: ViewOptions,
    label: str = "",
) -> list[Part]:
    """A ClassificationMetric's confusion matrix and ROC curve (each optional)."""
    parts: list[Part] = []
    label = label or str(info.get("name") or "ROC")
    if "confusionMatrix" in metadata:
        try:
            spec = confusion_spec(
                info,
                metadata["confusionMatrix"],
                caps=caps,
                title=f"{info.get('title', '')} · confusion matrix",
            )
            parts.append(Part(spec, frame=("confusion_matrix", spec)))
        except SpecError as exc:
            parts.append(
                Part(
                    error_spec(
                        info,
                        f"its confusionMatrix is invalid: {exc}",
                        "Check the component that logged it (log_confusion_matrix).",
                    )
                )
            )
    if "confidenceMetrics" in metadata:
        try:
            points = _roc_points(
                unwrap(metadata["confidenceMetrics"]),
                names=("falsePositiveRate", "recall", "confidenceThreshold"),
            )
            spec = roc_spec(
                info,
                [(label, points)],
                caps=caps,
                title=f"{info.get('title', '')} · ROC",
            )
            parts.append(Part(spec, frame=("roc", points)))
        except SpecError as exc:
            parts.append(
                Part(
                    error_spec(
                        info,
                        f"its confidenceMetrics (ROC) are invalid: {exc}",
                        "Check the component that logged them (log_roc_curve).",
                    )
                )
            )
    if not parts:
        keys = ", ".join(sorted(map(str, metadata))) or "none"
        parts.append(
            Part(
                error_spec(
                    info,
                    "the ClassificationMetric has neither confusionMatrix nor "
                    f"confidenceMetrics in its metadata (keys: {keys})",
                )
            )
        )
    return parts


def sliced_parts(
    info: Mapping[str, Any], metadata: Mapping[str, Any], *, caps: ViewOptions
) -> list[Part]:
    """Each slice of a SlicedClassificationMetric, as its own matrix and ROC."""
    slices = metadata.get("evaluationSlices")
    if not isinstance(slices, list) or not slices:
        return [
            Part(
                error_spec(
                    info, "the SlicedClassificationMetric has no evaluationSlices list"
                )
            )
        ]
    parts = []
    for i, item in enumerate(slices):
        item = item if isinstance(item, dict) else {}
        name = str(item.get("slice", i))
        inner = item.get("sliceClassificationMetrics")
        if not isinstance(inner, dict):
            parts.append(
                Part(
                    error_spec(
                        info, f"slice {name!r} has no sliceClassificationMetrics object"
                    )
                )
            )
            continue
        sub = {**info, "title": f"{info.get('title', '')} · slice {name}"}
        parts.extend(classification_parts(sub, inner, caps=caps, label=name))
    return parts


# --- Files ----------------------------------------------------------------------


def _mime(metadata: Mapping[str, Any]) -> str:
    value = metadata.get("mimeType") or metadata.get("mime_type") or ""
    return value.lower() if isinstance(value, str) else ""


def _suffix(info: Mapping[str, Any]) -> str:
    path = urlsplit(str(info.get("uri") or "")).path if info.get("uri") else ""
    name = path.rsplit("/", 1)[-1] or str(info.get("name") or "")
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_ui_metadata(info: Mapping[str, Any]) -> bool:
    names = (info.get("name"), info.get("output_key"))
    return any(n in (UI_METADATA, UI_METADATA + ".json") for n in names)


def content_parts(
    info: Mapping[str, Any],
    data: bytes,
    *,
    metadata: Mapping[str, Any],
    caps: ViewOptions,
) -> list[Part]:
    """A file artifact's bytes → the spec of its kind (by type, MIME, then sniffing)."""
    kind = normalise_type(info.get("type"))
    mime, suffix, sniffed = _mime(metadata), _suffix(info), sniff(data)
    fmt = str(metadata.get("format") or "").lower()
    try:
        if is_ui_metadata(info) and sniffed not in IMAGE_MIME:
            return ui_metadata_parts(info, data, caps=caps)
        if kind == "HTML" or mime == "text/html" or suffix in ("html", "htm"):
            return [Part(html_spec(info, data, caps=caps))]
        if kind == "Markdown" or mime == "text/markdown" or suffix == "md":
            return [Part(markdown_spec(info, data, caps=caps))]
        if sniffed in IMAGE_MIME:
            spec, image = image_spec(info, data, sniffed=sniffed, caps=caps)
            return [Part(spec, image=image)]
        tabular = (
            mime in ("text/csv", "text/tab-separated-values")
            or suffix in ("csv", "tsv")
            or fmt in ("csv", "tsv")
        )
        if sniffed == "text" and (tabular or kind == "Dataset"):
            tab = "\t" if "tab-separated" in mime or "tsv" in (suffix, fmt) else None
            spec, source = table_spec(info, data, caps=caps, delimiter=tab)
            return [Part(spec, table=source)]
        if sniffed in ("json", "text", "html", "empty"):
            return [Part(text_spec(info, data, sniffed=sniffed, caps=caps))]
        return [Part(binary_spec(info, data, sniffed=sniffed))]
    except _TooLarge as exc:
        return [
            Part(
                too_large_spec(
                    info, size=exc.size, cap=exc.cap, cap_name=exc.name, sniffed=sniffed
                )
            )
        ]
    except SpecError as exc:
        return [Part(error_spec(info, str(exc), _fix(kind), size=len(data)))]


def _fix(kind: str) -> str:
    return {
        "HTML": "Download the file to inspect it, or fix the component that wrote it.",
        "Markdown": "Download the file to inspect it, or fix the component that "
        "wrote it.",
        "Dataset": "Read it with artifact.data, or fix the component that wrote it.",
    }.get(kind, "Download the file (artifact.data or artifact.save()) to inspect it.")


def html_spec(
    info: Mapping[str, Any], data: bytes, *, caps: ViewOptions
) -> dict[str, Any]:
    """Raw HTML, unmodified: the front end renders it only in a sandboxed iframe."""
    cap = caps.html_max_bytes
    if len(data) > cap:
        return too_large_spec(
            info, size=len(data), cap=cap, cap_name="html_max_bytes", sniffed="html"
        )
    spec = _base("html", info, size=len(data), cap_bytes=cap)
    spec["html"] = _decode(data, "HTML file")
    return spec


def markdown_spec(
    info: Mapping[str, Any], data: bytes, *, caps: ViewOptions, text: str | None = None
) -> dict[str, Any]:
    cap = caps.markdown_max_bytes
    if text is None:
        text = _decode(data, "Markdown file")
    shown, truncated = _cut(text, cap)
    spec = _base("markdown", info, size=len(data), cap_bytes=cap)
    spec.update(markdown=shown, truncated=truncated)
    if truncated:
        spec["notes"] = [
            (
                f"showing the first {len(shown.encode()):,} of {len(data):,} bytes "
                f"(cap: markdown_max_bytes={cap})"
            )
        ]
    return spec


def text_spec(
    info: Mapping[str, Any], data: bytes, *, sniffed: str, caps: ViewOptions
) -> dict[str, Any]:
    cap = caps.text_max_bytes
    text = _decode(data, "file")
    language = "text"
    if sniffed == "json":
        language = "json"
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    shown, truncated = _cut(text, cap)
    spec = _base("text", info, size=len(data), cap_bytes=cap)
    spec.update(text=shown, language=language, truncated=truncated)
    if truncated:
        spec["notes"] = [
            (
                f"showing the first {len(shown.encode()):,} of "
                f"{len(text.encode()):,} bytes (cap: text_max_bytes={cap})"
            )
        ]
    elif not data:
        spec["notes"] = ["the file is empty (0 bytes)"]
    return spec


def image_spec(
    info: Mapping[str, Any], data: bytes, *, sniffed: str, caps: ViewOptions
) -> tuple[dict[str, Any], bytes]:
    cap = caps.image_max_bytes
    if len(data) > cap:
        return too_large_spec(
            info, size=len(data), cap=cap, cap_name="image_max_bytes", sniffed=sniffed
        ), b""
    problem = _image_problem(sniffed, data)
    if problem:
        raise SpecError(problem)
    spec = _base("image", info, size=len(data), cap_bytes=cap)
    spec["mime"] = IMAGE_MIME[sniffed]
    return spec, data


# --- Tables -----------------------------------------------------------------------


def _delimiter(text: str, given: str | None) -> str:
    if given:
        return given
    sample = text[:_SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        return "\t" if first.count("\t") > first.count(",") else ","


def _cell(value: str) -> Any:
    """A CSV cell: an int or finite float when it reads as one, else the text."""
    text = value.strip()
    if text and (text[0].isdigit() or text[0] in "+-."):
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return value
            return number if math.isfinite(number) else value
    return value


def _looks_like_header(row: list[str]) -> bool:
    """First row names the columns: every cell non-empty, non-numeric, distinct."""
    cells = [c.strip() for c in row]
    return (
        bool(cells)
        and all(cells)
        and len(set(cells)) == len(cells)
        and all(isinstance(_cell(c), str) for c in cells)
    )


def parse_table(
    text: str, *, delimiter: str | None = None, columns: list[str] | None = None
) -> TableSource:
    """Decide delimiter and header the way the preview and ``to_frame`` both use."""
    delim = _delimiter(text, delimiter)
    header_row = False
    if columns is None:
        try:
            first = next(
                csv.reader(io.StringIO(text[:_SNIFF_BYTES]), delimiter=delim), []
            )
        except csv.Error as exc:
            raise SpecError(f"the CSV cannot be parsed ({exc})") from None
        header_row = _looks_like_header(first)
    return TableSource(
        text=text, delimiter=delim, columns=columns, header_row=header_row
    )


def table_spec(
    info: Mapping[str, Any],
    data: bytes | None,
    *,
    caps: ViewOptions,
    delimiter: str | None = None,
    columns: list[str] | None = None,
    text: str | None = None,
    title: str | None = None,
) -> tuple[dict[str, Any], TableSource]:
    size = len(data) if data is not None else len((text or "").encode())
    if size > caps.table_max_bytes:
        raise _TooLarge(size, caps.table_max_bytes, "table_max_bytes")
    if text is None:
        text = _decode(data or b"", "table file")
    source = parse_table(text, delimiter=delimiter, columns=columns)
    rows: list[list[Any]] = []
    total = 0
    names = list(columns) if columns is not None else None
    reader = csv.reader(io.StringIO(text), delimiter=source.delimiter)
    try:
        for row in reader:
            if names is None and source.header_row:
                names = row
                continue
            if not row:
                continue
            total += 1
            if len(rows) < caps.table_max_rows:
                rows.append([_cell(c) for c in row[: caps.table_max_columns]])
    except csv.Error as exc:
        raise SpecError(
            f"the CSV is malformed at line {reader.line_num} ({exc})"
        ) from None
    width = max([len(names or [])] + [len(r) for r in rows])
    names = list(names or [])
    names += [f"column_{i + 1}" for i in range(len(names), width)]
    notes = []
    if width > caps.table_max_columns:
        notes.append(
            f"showing {caps.table_max_columns} of {width} columns "
            f"(cap: table_max_columns={caps.table_max_columns})"
        )
        names = names[: caps.table_max_columns]
    if total > len(rows):
        notes.append(
            f"showing the first {len(rows):,} of {total:,} rows "
            f"(cap: table_max_rows={caps.table_max_rows})"
        )
    spec = _base(
        "table",
        info,
        size=size,
        cap_bytes=caps.table_max_bytes,
        cap_rows=caps.table_max_rows,
        title=title,
    )
    spec.update(
        columns=[str(n) for n in names],
        rows=rows,
        total_rows=total,
        truncated=total > len(rows),
    )
    if notes:
        spec["notes"] = notes
    return spec, source


class _TooLarge(SpecError):
    def __init__(self, size: int, cap: int, name: str) -> None:
        super().__init__(f"{size} bytes over {name}={cap}")
        self.size, self.cap, self.name = size, cap, name


# --- v1 mlpipeline-ui-metadata ------------------------------------------------------


def ui_metadata_parts(
    info: Mapping[str, Any], data: bytes, *, caps: ViewOptions
) -> list[Part]:
    """Each output of a v1 ``mlpipeline-ui-metadata`` file as its own spec."""
    try:
        doc = json.loads(_decode(data, "mlpipeline-ui-metadata file"))
    except ValueError as exc:
        raise SpecError(
            f"the mlpipeline-ui-metadata file is not JSON ({exc})"
        ) from None
    outputs = doc.get("outputs") if isinstance(doc, dict) else None
    if not isinstance(outputs, list):
        raise SpecError("the mlpipeline-ui-metadata file has no 'outputs' list")
    if not outputs:
        return [
            Part(error_spec(info, "the mlpipeline-ui-metadata file lists no outputs"))
        ]
    parts = []
    for i, output in enumerate(outputs):
        kind = output.get("type") if isinstance(output, dict) else None
        title = f"{info.get('title', '')} · {kind or 'output'} #{i + 1}"
        sub = {**info, "title": title}
        try:
            parts.append(_ui_output(sub, output, caps=caps))
        except _TooLarge as exc:
            parts.append(
                Part(
                    too_large_spec(
                        sub,
                        size=exc.size,
                        cap=exc.cap,
                        cap_name=exc.name,
                        sniffed="csv",
                    )
                )
            )
        except SpecError as exc:
            parts.append(
                Part(
                    error_spec(
                        sub,
                        f"output #{i + 1} ({kind or 'no type'}) of its "
                        f"mlpipeline-ui-metadata: {exc}",
                        "Fix the component that wrote mlpipeline-ui-metadata.",
                    )
                )
            )
    return parts


def _inline_source(output: Mapping[str, Any]) -> str:
    source = output.get("source")
    if not isinstance(source, str):
        raise SpecError("it has no 'source' text")
    if output.get("storage") != "inline":
        raise SpecError(
            f"its source is stored at {public_uri(source)!r}, which the KFP API "
            "cannot serve; read that file from the object store (e.g. with "
            "gsutil or mc) or write it with storage: inline"
        )
    return source


def _csv_rows(text: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as exc:
        raise SpecError(f"its CSV source is malformed ({exc})") from None


def _schema_names(output: Mapping[str, Any], default: list[str]) -> list[str]:
    schema = output.get("schema")
    if isinstance(schema, list) and all(isinstance(s, dict) for s in schema):
        names = [str(s.get("name", "")) for s in schema]
        if len(names) == len(default):
            return names
    return default


def _ui_output(info: Mapping[str, Any], output: Any, *, caps: ViewOptions) -> Part:
    if not isinstance(output, dict):
        raise SpecError("the output is not an object")
    kind = output.get("type")
    if kind == "markdown":
        text = _inline_source(output)
        return Part(markdown_spec(info, text.encode(), caps=caps, text=text))
    if kind == "web-app":
        return Part(html_spec(info, _inline_source(output).encode(), caps=caps))
    if kind in ("table", "roc", "confusion_matrix"):
        fmt = output.get("format", "csv")
        if fmt != "csv":
            raise SpecError(f"format {fmt!r} is not supported (only csv)")
        text = _inline_source(output)
        if kind == "table":
            header = output.get("header")
            columns = [str(h) for h in header] if isinstance(header, list) else None
            spec, source = table_spec(
                info, None, caps=caps, text=text, delimiter=",", columns=columns
            )
            return Part(spec, table=source)
        if kind == "roc":
            return _ui_roc(info, output, text, caps=caps)
        return _ui_confusion(info, output, text, caps=caps)
    if kind == "tensorboard":
        raise SpecError(
            f"TensorBoard outputs are not shown in notebooks; run tensorboard "
            f"--logdir {public_uri(str(output.get('source', '')))!r}"
        )
    raise SpecError(f"unknown output type {kind!r}")


def _ui_roc(
    info: Mapping[str, Any], output: Mapping[str, Any], text: str, *, caps: ViewOptions
) -> Part:
    names = _schema_names(output, ["fpr", "tpr", "thresholds"])
    points = []
    for n, row in enumerate(_csv_rows(text)):
        if len(row) != len(names):
            raise SpecError(
                f"ROC row {n + 1} has {len(row)} values, expected "
                f"{len(names)} ({', '.join(names)})"
            )
        values = {}
        for name, cell in zip(names, row):
            number = _cell(cell)
            if isinstance(number, str):
                raise SpecError(f"ROC row {n + 1}: {name} is {cell!r}, not a number")
            values[name] = number
        points.append(values)
    keys = ("fpr", "tpr", "thresholds")
    if not set(keys) <= set(names):
        keys = tuple(names)  # type: ignore[assignment]
    parsed = _roc_points(points, names=keys)  # type: ignore[arg-type]
    spec = roc_spec(info, [(str(info.get("name") or "ROC"), parsed)], caps=caps)
    return Part(spec, frame=("roc", parsed))


def _ui_confusion(
    info: Mapping[str, Any], output: Mapping[str, Any], text: str, *, caps: ViewOptions
) -> Part:
    names = _schema_names(output, ["target", "predicted", "count"])
    labels = output.get("labels")
    labels = [str(x) for x in labels] if isinstance(labels, list) else []
    counts: dict[tuple[str, str], float] = {}
    for n, row in enumerate(_csv_rows(text)):
        if len(row) != 3:
            raise SpecError(
                f"confusion matrix row {n + 1} has {len(row)} values, "
                "expected 3 (target, predicted, count)"
            )
        cells = dict(zip(names, row))
        target = cells.get("target", row[0])
        predicted = cells.get("predicted", row[1])
        count = _cell(cells.get("count", row[2]))
        if isinstance(count, str) or count < 0:
            raise SpecError(
                f"confusion matrix row {n + 1}: count is {row[2]!r}; "
                "counts must be numbers >= 0"
            )
        for label in (target, predicted):
            if label not in labels:
                if output.get("labels") is not None:
                    raise SpecError(
                        f"row {n + 1} names label {label!r}, which is not in 'labels'"
                    )
                labels.append(label)
        counts[(target, predicted)] = counts.get((target, predicted), 0) + count
    matrix = {
        "annotationSpecs": [{"displayName": label} for label in labels],
        "rows": [{"row": [counts.get((t, p), 0) for p in labels]} for t in labels],
    }
    spec = confusion_spec(info, matrix, caps=caps)
    return Part(spec, frame=("confusion_matrix", spec))


def iter_specs(spec: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """The spec itself, or every spec inside a ``stack`` (depth first)."""
    if spec.get("kind") == "stack":
        for inner in spec.get("specs", []):
            yield from iter_specs(inner)
    else:
        yield spec
