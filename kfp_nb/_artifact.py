"""``Artifact``: one output of a task, as data, a DataFrame and a viewer.

``client.artifact(run_id, task_id, name)`` builds one; ``client.artifacts(run_id)``
lists every output artifact of a run as a DataFrame. ``name`` is an output key
or an artifact name:

- An output key selects everything under it. A ``Metric`` output (the SDK's
  ``system.Metrics``) is stored as one artifact per metric under one key, so
  ``artifact(run, task, "metrics")`` is the whole group (``type`` ``Metric``,
  every metric in ``metadata``) and ``artifact(run, task, "accuracy")`` one
  metric of it.
- Otherwise the artifact of that name (or id); a name found under several keys,
  or a key holding several non-metric artifacts (a list output), is an error
  listing ``"<key>/<name>"`` forms, which are also accepted.

``task_id`` may also be a unique task name or the task's path in the DAG
(``tune-forest.fit``), which tells apart tasks of the same name in sub-DAGs.

Content that lives in a file is read lazily through ``read_artifact`` (base64,
gzip and tar handled in memory by :mod:`kfp_nb._artifacts`; unsafe archive
members are skipped and named, never written). Nothing is written to disk
unless :meth:`Artifact.save` is called, and then only inside its directory.
"""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _errors, _svg
from . import _viewspec as vs
from ._artifacts import PayloadScan

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ARTIFACT_COLUMNS",
    "Artifact",
    "ArtifactNotFound",
    "artifact_rows",
    "artifacts_frame",
    "find_artifact",
    "static_html",
]

#: Columns of ``client.artifacts(run_id)``, in order.
ARTIFACT_COLUMNS = (
    "task_id",
    "task_name",
    "task_path",
    "output_key",
    "name",
    "type",
    "uri",
    "number_value",
    "metadata",
    "artifact_id",
    "run_id",
)
#: Kinds whose content is their metadata: no file to read (SEMANTICS §11).
METADATA_KINDS = frozenset(
    {"Metric", "ClassificationMetric", "SlicedClassificationMetric"}
)
_FALLBACK_TEXT = 20_000  # characters of text in a saved notebook's static copy
_FALLBACK_IMAGE = 512 * 1024
_FALLBACK_ROWS = 20


class ArtifactNotFound(_errors.ArtifactError, LookupError):
    """No task or artifact matches what was asked; the message lists what exists."""


# --- Listing ------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _task_name(task: Mapping[str, Any]) -> str:
    return str(
        task.get("display_name") or task.get("name") or task.get("task_id") or ""
    )


def task_path(task: Mapping[str, Any]) -> str:
    """The task's place in the DAG, ``tune-forest.fit`` (its name when unknown).

    Names repeat across sub-DAGs and loop iterations; the scope path does not.
    """
    path = task.get("scope_path")
    if isinstance(path, str) and path:
        parts = path.split(".")
        return ".".join(parts[1:] if parts[0] == "root" and len(parts) > 1 else parts)
    return _task_name(task)


def artifact_rows(tasks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One dict per output artifact of the tasks (tasks-API schema).

    Limitation: HEAD's ``run_details`` tasks list output artifact ids only (no
    type, uri or metadata), so they give no rows — the API has nothing more.
    """
    rows = []
    for task in tasks:
        outputs = task.get("outputs")
        if not isinstance(outputs, dict):
            continue
        for group in _list(outputs.get("artifacts")):
            if not isinstance(group, dict):
                continue
            for art in _list(group.get("artifacts")):
                if not isinstance(art, dict):
                    continue
                meta = art.get("metadata")
                meta = vs.unwrap(meta) if isinstance(meta, dict) else meta
                if not isinstance(meta, dict):  # a bare value: keep it, named
                    meta = {} if meta is None else {"value": meta}
                rows.append(
                    {
                        "task_id": _text(task.get("task_id")),
                        "task_name": _task_name(task),
                        "task_path": task_path(task),
                        "output_key": _text(group.get("artifact_key")),
                        "name": _text(art.get("name")),
                        "type": _text(art.get("type")),
                        "uri": _text(art.get("uri")),
                        "number_value": _float(art.get("number_value")),
                        "metadata": meta,
                        "artifact_id": _text(art.get("artifact_id")),
                        "run_id": _text(task.get("run_id")),
                        "_task": task,
                        "_raw": art,
                    }
                )
    return rows


def _text(value: Any) -> str | None:
    """A wire field as text (ids and names may come as numbers); None stays None."""
    return None if value is None or value == "" else str(value)


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def artifacts_frame(
    tasks: Iterable[Mapping[str, Any]], run_id: str
) -> pandas.DataFrame:
    """The artifacts of the tasks as a DataFrame (same columns when empty)."""
    import pandas as pd

    rows = artifact_rows(tasks)
    data = {col: [r[col] for r in rows] for col in ARTIFACT_COLUMNS}
    data["run_id"] = [r or run_id for r in data["run_id"]]
    frame = pd.DataFrame(
        {
            col: pd.Series(
                values,
                dtype="Float64"
                if col == "number_value"
                else object
                if col == "metadata"
                else "string",
            )
            for col, values in data.items()
        }
    )
    return frame


def node_id(task: Mapping[str, Any]) -> str:
    """What read_artifact takes as node id: the executor pod, else the task id."""
    pods = [p for p in _list(task.get("pods")) if isinstance(p, dict) and p.get("name")]
    executor = [p for p in pods if p.get("type") == "EXECUTOR"]
    if executor or pods:
        return str((executor or pods)[0]["name"])
    return str(task.get("pod_name") or task.get("task_id") or "")


def _pick_task(
    tasks: list[Mapping[str, Any]], run_id: str, task_id: str
) -> Mapping[str, Any]:
    several: list[Mapping[str, Any]] = []
    for key in ("task_id", "name", "display_name", "pod_name", "scope_path", "path"):
        hits = [
            t for t in tasks
            if (task_path(t) if key == "path" else t.get(key)) == task_id
        ]  # fmt: skip
        if len(hits) == 1 or (hits and key == "task_id"):
            return hits[0]
        several = several or hits
    if several:
        listed = ", ".join(f"{t.get('task_id')} ({task_path(t)})" for t in several)
        raise ArtifactNotFound(
            f"{task_id!r} names several tasks of run {run_id!r}: {listed}; pass a "
            "task_id or a task path such as 'tune-forest.fit'"
        )
    names = ", ".join(f"{t.get('task_id')} ({task_path(t)})" for t in tasks[:20])
    raise ArtifactNotFound(
        f"run {run_id!r} has no task {task_id!r}; its tasks: {names or 'none'}. "
        "Pass a task_id (or a unique task name or path) from client.tasks(run_id)."
    )


def find_artifact(
    tasks: list[Mapping[str, Any]], run_id: str, task_id: str, name: str
) -> tuple[Mapping[str, Any], str, list[dict[str, Any]]]:
    """``(task, output key, artifact rows)`` that ``name`` selects (module doc)."""
    task = _pick_task(tasks, run_id, task_id)
    rows = artifact_rows([task])
    by_key = [r for r in rows if r["output_key"] == name]
    metrics = all(vs.normalise_type(r["type"]) == "Metric" for r in by_key)
    if len(by_key) == 1 or (by_key and metrics):
        return task, name, by_key
    if by_key:  # a list output: several files under one key
        listed = ", ".join(f"{name}/{r['name'] or r['artifact_id']}" for r in by_key)
        raise ArtifactNotFound(
            f"output {name!r} of task {task.get('task_id')!r} in run {run_id!r} "
            f"holds {len(by_key)} artifacts: {listed}; pass one of these"
        )
    key, _, short = name.partition("/")
    hits = [r for r in rows if name in (r["name"], r["artifact_id"])]
    if not hits and short:
        hits = [r for r in rows if r["output_key"] == key and r["name"] == short]
    if len(hits) == 1:
        return task, hits[0]["output_key"] or "", hits
    listed = ", ".join(f"{r['output_key']}/{r['name']}" for r in (hits or rows)[:30])
    if hits:
        raise ArtifactNotFound(
            f"artifact name {name!r} is used under several outputs of task "
            f"{task.get('task_id')!r} in run {run_id!r}: {listed}; pass one of these"
        )
    keys = ", ".join(dict.fromkeys(str(r["output_key"]) for r in rows)) or "none"
    raise ArtifactNotFound(
        f"task {task.get('task_id')!r} ({_task_name(task)}) of run {run_id!r} has "
        f"no output artifact {name!r}; its output keys: {keys} (artifacts: "
        f"{listed or 'none'})"
    )


# --- The object ---------------------------------------------------------------


class Artifact:
    """One task output: ``type``, ``metadata``, lazily read ``data``, and views.

    ``metadata`` is unwrapped (ML Metadata's ``{"list": …}``/``{"struct": …}``
    layers removed). For a grouped ``Metric`` output it maps every metric name to
    its value. ``data`` is ``None`` for metadata-only kinds (Metric,
    ClassificationMetric); otherwise the file's bytes, read on first access.
    """

    def __init__(
        self,
        *,
        name: str,
        type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        uri: str | None = None,
        number_value: float | None = None,
        run_id: str = "",
        task_id: str = "",
        task_name: str = "",
        output_key: str = "",
        artifact_id: str | None = None,
        members: list[dict[str, Any]] | None = None,
        data: bytes | None = None,
        loader: Callable[[], PayloadScan] | None = None,
        client: Any = None,
    ) -> None:
        self.name = name
        self.type = vs.normalise_type(type)
        self.raw_type = type
        self.metadata: dict[str, Any] = vs.unwrap(dict(metadata or {}))
        self.uri = uri
        self.number_value = number_value
        self.run_id, self.task_id, self.task_name = run_id, task_id, task_name
        self.output_key = output_key or name
        self.artifact_id = artifact_id
        #: (name, number_value, metadata) of each metric of a grouped Metric output
        self._members = members or []
        self._client = client
        self._loader = loader
        self._scan: PayloadScan | None = (
            PayloadScan(kind="raw", files={"": data}) if data is not None else None
        )
        self._load_error: BaseException | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        name: str,
        type: str = "Artifact",
        metadata: Mapping[str, Any] | None = None,
        uri: str | None = None,
    ) -> Artifact:
        """An artifact from bytes you already have (a file, a test)."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data must be bytes, got {data.__class__.__name__}")
        return cls(name=name, type=type, metadata=metadata, uri=uri, data=bytes(data))

    @classmethod
    def _from_rows(
        cls,
        client: Any,
        run_id: str,
        task: Mapping[str, Any],
        key: str,
        rows: list[dict[str, Any]],
        *,
        name: str,
        loader: Callable[[], PayloadScan] | None,
    ) -> Artifact:
        first = rows[0]
        grouped = len(rows) > 1 or (
            first["output_key"] == name and vs.normalise_type(first["type"]) == "Metric"
        )
        if grouped:
            metadata: dict[str, Any] = {}
            members = []
            for r in rows:
                members.append((r["name"], r["number_value"], r["metadata"]))
                metadata.update(
                    {
                        k: v
                        for k, v in r["metadata"].items()
                        if k not in vs.RESERVED_PROPERTIES
                    }
                )
                if r["number_value"] is not None and r["name"]:
                    metadata.setdefault(r["name"], r["number_value"])
            kinds = {vs.normalise_type(r["type"]) for r in rows}
            return cls(
                name=name,
                type=kinds.pop() if len(kinds) == 1 else "Artifact",
                metadata=metadata,
                run_id=run_id,
                task_id=task.get("task_id") or "",
                task_name=_task_name(task),
                output_key=key,
                members=members,
                client=client,
            )
        kind = vs.normalise_type(first["type"])
        has_file = bool(first["uri"]) and kind not in METADATA_KINDS
        return cls(
            name=first["name"] or key,
            type=first["type"],
            metadata=first["metadata"],
            uri=first["uri"],
            number_value=first["number_value"],
            run_id=run_id,
            task_id=task.get("task_id") or "",
            task_name=_task_name(task),
            output_key=key,
            artifact_id=first["artifact_id"],
            members=[(first["name"], first["number_value"], first["metadata"])]
            if kind == "Metric"
            else None,
            loader=loader if has_file else None,
            client=client,
        )

    # Content ----------------------------------------------------------------

    @property
    def has_file(self) -> bool:
        """True when the content lives in a file (read through ``data``)."""
        return self._scan is not None or self._loader is not None

    def _load(self) -> PayloadScan | None:
        with self._lock:
            if self._scan is None and self._loader is not None:
                if self._load_error is not None:
                    raise self._load_error
                try:
                    self._scan = self._loader()
                except Exception as exc:
                    self._load_error = exc
                    raise
            return self._scan

    @property
    def data(self) -> bytes | None:
        """The file's bytes (read once, on first access); None for metadata kinds.

        A tar archive's first safe regular file; other safe files are in
        :attr:`files`, refused members (links, ``..``, absolute paths, devices) in
        :attr:`refused`.
        """
        scan = self._load()
        if scan is None:
            return None
        if not scan.files:
            refused = "; ".join(f"{n!r} ({why})" for n, why in scan.refused) or "none"
            raise _errors.ArtifactError(
                f"{self._where()}: the archive holds no readable file (refused: "
                f"{refused})"
            )
        return next(iter(scan.files.values()))

    @property
    def files(self) -> dict[str, bytes]:
        """Every safe regular file of the payload (name → bytes)."""
        scan = self._load()
        return dict(scan.files) if scan else {}

    @property
    def refused(self) -> list[tuple[str, str]]:
        """Archive members that were not read: ``(name, reason)``."""
        scan = self._load()
        return list(scan.refused) if scan else []

    def _where(self) -> str:
        return vs.where(self._info())

    def _info(self) -> dict[str, Any]:
        title = self.task_name or self.task_id
        label = (
            self.output_key
            if self.output_key == self.name
            else (f"{self.output_key}/{self.name}" if self.output_key else self.name)
        )
        return {
            "run_id": self.run_id or None,
            "task_id": self.task_id or None,
            "task_name": self.task_name or None,
            "name": self.name,
            "output_key": self.output_key,
            "type": self.type,
            "uri": self.uri,
            "title": f"{title} · {label}" if title else label,
        }

    # Views ------------------------------------------------------------------

    def _parts(self, caps: vs.ViewOptions) -> list[vs.Part]:
        info = self._info()
        try:
            return self._build_parts(info, caps)
        except Exception as exc:  # noqa: BLE001 - a viewer never crashes
            return [
                vs.Part(
                    vs.error_spec(
                        info,
                        f"unexpected {type(exc).__name__}: {exc}",
                        "Please report this with the artifact's metadata.",
                    )
                )
            ]

    def _build_parts(self, info: dict[str, Any], caps: vs.ViewOptions) -> list[vs.Part]:
        kind, meta = self.type, self.metadata
        if kind == "Metric" or (not self.has_file and self._members):
            return [self._metric_part(info)]
        if kind == "ClassificationMetric":
            return vs.classification_parts(info, meta, caps=caps)
        if kind == "SlicedClassificationMetric":
            return vs.sliced_parts(info, meta, caps=caps)
        if not self.has_file:
            if "confusionMatrix" in meta or "confidenceMetrics" in meta:
                return vs.classification_parts(info, meta, caps=caps)
            problem = (
                "it has no file (no uri) and no metadata to show"
                if not meta
                else "it has no file (no uri); its metadata is shown instead"
            )
            if not meta:
                return [vs.Part(vs.error_spec(info, problem))]
            return [
                vs.Part(
                    vs.metrics_spec(
                        info, [(self.output_key, vs.metric_rows(None, None, meta))]
                    )
                )
            ]
        try:
            scan = self._load()
        except _errors.ArtifactError as exc:
            if "max_bytes" in str(exc):
                return [
                    vs.Part(
                        vs.too_large_spec(
                            info,
                            size=None,
                            cap=caps.fetch_max_bytes,
                            cap_name="fetch_max_bytes",
                            sniffed="unknown",
                        )
                    )
                ]
            return [
                vs.Part(
                    vs.error_spec(
                        info,
                        str(exc),
                        "The payload is unsafe or corrupt; it was not read.",
                    )
                )
            ]
        except _errors.KFPError as exc:
            return [
                vs.Part(
                    vs.error_spec(
                        info,
                        f"the server could not return its file ({exc})",
                        f"Read {vs.public_uri(self.uri)!r} from the object store instead "
                        "(KFP v2 servers serve read_artifact only for Argo outputs).",
                    )
                )
            ]
        assert scan is not None
        notes = [f"skipped archive member {n!r}: {why}" for n, why in scan.refused]
        too_big = [why for _, why in scan.refused if "over max_bytes" in why]
        if not scan.files and too_big:
            size = int(too_big[0].split(" ", 1)[0])
            return [vs.Part(vs.too_large_spec(
                info, size=size, cap=caps.fetch_max_bytes,
                cap_name="fetch_max_bytes", sniffed="unknown",
            ))]  # fmt: skip
        if not scan.files:
            return [
                vs.Part(
                    vs.error_spec(
                        info,
                        "the archive holds no readable file ("
                        + "; ".join(notes or ["it is empty"])
                        + ")",
                        "Nothing was extracted; download the payload to inspect it.",
                    )
                )
            ]
        names = list(scan.files)
        if len(names) > 1:
            notes.append(
                f"showing {names[0]!r}; the archive also holds "
                + ", ".join(repr(n) for n in names[1:5])
                + " (see artifact.files)"
            )
        parts = vs.content_parts(info, scan.files[names[0]], metadata=meta, caps=caps)
        if notes:
            spec = parts[0].spec
            spec["notes"] = notes + list(spec.get("notes", []))
        return parts

    def _metric_part(self, info: dict[str, Any]) -> vs.Part:
        members = self._members or [(self.name, self.number_value, self.metadata)]
        rows: list[list[Any]] = []
        for name, number, meta in members:
            rows.extend(
                r
                for r in vs.metric_rows(name, number, meta)
                if r[0] not in {x[0] for x in rows}
            )
        spec = vs.metrics_spec(info, [(self.output_key or self.name, rows)])
        return vs.Part(spec, frame=("metrics", rows))

    def view_specs(self, **caps: int) -> list[dict[str, Any]]:
        """Every view spec of this artifact (several for a v1 ui-metadata file)."""
        return [p.spec for p in self._parts(vs.options.with_overrides(caps))]

    def view_spec(self, **caps: int) -> dict[str, Any]:
        """The spec the viewer shows (a ``stack`` when there are several).

        Keyword arguments override caps of ``kfp_nb.options`` for this call,
        e.g. ``view_spec(html_max_bytes=20_000_000)``.
        """
        return self._widget_payload(vs.options.with_overrides(caps))[0]

    def _widget_payload(self, caps: vs.ViewOptions) -> tuple[dict[str, Any], bytes]:
        return vs.combine(self._parts(caps), self._info())

    # Frames -------------------------------------------------------------------

    def to_frame(self, which: str | None = None) -> pandas.DataFrame:
        """A DataFrame of the content: metrics (name, value), a table (all rows),
        ROC points (threshold, fpr, tpr) or a confusion matrix (labels × labels).

        ``which`` (``"metrics"``, ``"table"``, ``"roc"``, ``"confusion_matrix"``)
        picks one when the artifact holds several (a ClassificationMetric with
        both, a v1 ui-metadata file); the first of that kind is returned.
        """
        import pandas as pd

        parts = self._parts(vs.options.with_overrides({}))
        usable = {}
        for part in parts:
            kind = part.spec["kind"]
            if part.table is not None:
                usable.setdefault("table", part)
            elif part.frame is not None:
                usable.setdefault(part.frame[0], part)
            elif kind == "too_large" and self._tabular():
                usable.setdefault("table", part)
        if which is not None and which not in usable:
            raise ValueError(
                f"{self._where()} has no {which!r} table; it has: "
                f"{', '.join(usable) or 'none'}"
            )
        if which is None:
            if not usable:
                raise _errors.ArtifactError(self._no_frame(parts))
            if len(usable) > 1:
                raise ValueError(
                    f"{self._where()} holds several tables ({', '.join(usable)}); "
                    f"pass one, e.g. to_frame({next(iter(usable))!r})"
                )
            which = next(iter(usable))
        part = usable[which]
        if which == "metrics":
            return pd.DataFrame(part.frame[1], columns=["name", "value"])
        if which == "roc":
            frame = pd.DataFrame(part.frame[1], columns=["threshold", "fpr", "tpr"])
            return frame.astype("float64")
        if which == "confusion_matrix":
            spec = part.frame[1]
            labels = spec["labels"]
            return pd.DataFrame(
                spec["matrix"],
                index=pd.Index(labels, name="true label"),
                columns=pd.Index(labels, name="predicted label"),
            )
        return self._table_frame(part.table)

    def _tabular(self) -> bool:
        return self.type == "Dataset" or vs._suffix(self._info()) in ("csv", "tsv")

    def _table_frame(self, source: vs.TableSource | None) -> pandas.DataFrame:
        import pandas as pd

        if source is None:  # over the preview cap: parse the whole file now
            text = (self.data or b"").decode("utf-8-sig", errors="replace")
            source = vs.parse_table(text)
        if source.columns is not None:
            header, names = None, source.columns
        else:
            header, names = (0 if source.header_row else None), None
        try:
            frame = pd.read_csv(
                io.StringIO(source.text),
                sep=source.delimiter,
                header=header,
                names=names,
            )
        except (ValueError, pd.errors.ParserError) as exc:
            raise _errors.ArtifactError(
                f"{self._where()}: the table cannot be read ({exc})"
            ) from None
        if header is None and names is None:
            frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
        return frame

    def _no_frame(self, parts: list[vs.Part]) -> str:
        kinds = [p.spec["kind"] for p in parts]
        errors = [p.spec["message"] for p in parts if p.spec["kind"] == "error"]
        if errors:
            return errors[0]
        return (
            f"{self._where()} is shown as {', '.join(kinds)}, which has no table "
            "form; read its bytes with .data (or .save())"
        )

    # Saving -------------------------------------------------------------------

    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        directory: str | os.PathLike[str] = ".",
        overwrite: bool = False,
    ) -> Path:
        """Write the file's bytes to ``directory/path`` and return that path.

        ``path`` defaults to the artifact's name. It must stay inside
        ``directory``: absolute paths, ``..`` and symbolic links (of the file
        or of a folder on the way) are refused. An existing file is kept
        unless ``overwrite=True``. Metadata-only kinds have no file to save.
        """
        data = self.data
        if data is None:
            raise _errors.ArtifactError(
                f"{self._where()} is a {self.type}: it has no file, only metadata; "
                "save to_frame() or .metadata instead"
            )
        return _safe_write(data, path or self.name, directory, overwrite=overwrite)

    # Display -------------------------------------------------------------------

    def _download(self, caps: vs.ViewOptions) -> tuple[str, str, bytes]:
        """``(file name, MIME type, bytes)`` offered by the viewer's download."""
        if self.has_file:
            data = self.data or b""
            sniffed = vs.sniff(data)
            mime = (
                vs.IMAGE_MIME.get(sniffed)
                or {
                    "HTML": "text/html",
                    "Markdown": "text/markdown",
                }.get(self.type)
                or {
                    "json": "application/json",
                    "text": "text/plain",
                    "html": "text/html",
                }.get(sniffed, "application/octet-stream")
            )
            name = self.name
        else:
            data = json.dumps(self.metadata, indent=2, default=str).encode()
            mime, name = "application/json", f"{self.name}.json"
        if len(data) > caps.download_max_bytes:
            raise _errors.ArtifactError(
                f"{self._where()} is {len(data):,} bytes, over the download cap "
                f"(cap: download_max_bytes={caps.download_max_bytes}); use "
                "artifact.save() in the kernel instead"
            )
        return _file_name(name), mime, data

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | dict:
        spec, image = self._widget_payload(vs.options)
        fallback = {"text/html": static_html(spec, image), "text/plain": repr(self)}
        try:
            from .widgets._viewer import ArtifactViewer

            viewer = ArtifactViewer(self, _payload=(spec, image))
            bundle = viewer._repr_mimebundle_(**kwargs)
        except ImportError:
            bundle = None
        if not bundle:
            return fallback
        data, metadata = bundle
        return {**data, **fallback}, metadata

    def __repr__(self) -> str:
        where = f" task {self.task_name or self.task_id!r}" if self.task_id else ""
        run = f" run {self.run_id!r}" if self.run_id else ""
        return f"<kfp_nb.Artifact {self.name!r} ({self.type}){where}{run}>"


def _file_name(name: str) -> str:
    """A plain file name for a download (no folders, no odd characters)."""
    base = os.path.basename(str(name).replace("\\", "/")) or "artifact"
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base)
    return cleaned.lstrip(".") or "artifact"


def _check_file_name(path: str | os.PathLike[str]) -> None:
    """ArtifactError (a ValueError) for a name no file system accepts."""
    text = os.fspath(path)
    if not isinstance(text, str) or not text:
        raise _errors.ArtifactError(
            f"save: the file name {text!r} is empty or not text"
        )
    if "\0" in text:
        raise _errors.ArtifactError(
            f"save: the file name {text!r} contains a NUL character; pass "
            "save(path=...) with another name"
        )
    longest = max(len(os.fsencode(p)) for p in Path(text).parts)
    if longest > 255:
        raise _errors.ArtifactError(
            f"save: the file name {text[:40]!r}... has a part of {longest} bytes, "
            "over the usual 255-byte limit; pass save(path=...) with a shorter name"
        )


def _safe_write(
    data: bytes,
    path: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    overwrite: bool,
) -> Path:
    _check_file_name(path)
    root = Path(directory)
    if not root.is_dir():
        raise _errors.ArtifactError(f"save: directory {str(root)!r} does not exist")
    rel = Path(path)
    text = str(path).replace("\\", "/")
    if rel.is_absolute() or text.startswith("/") or ".." in text.split("/"):
        raise _errors.ArtifactError(
            f"save: {str(path)!r} is not a relative path inside {str(root)!r} "
            "(absolute paths and '..' are refused)"
        )
    real_root = root.resolve()
    target = root / rel
    # Each folder on the way must be a real folder inside the root, not a link.
    current = root
    for piece in rel.parts[:-1]:
        current = current / piece
        if current.is_symlink():
            raise _errors.ArtifactError(
                f"save: {str(current)!r} is a symbolic link; refused"
            )
        current.mkdir(exist_ok=True)
    if target.is_symlink():
        raise _errors.ArtifactError(
            f"save: {str(target)!r} is a symbolic link; refused"
        )
    if not str(target.resolve()).startswith(str(real_root) + os.sep):
        raise _errors.ArtifactError(f"save: {str(path)!r} leaves {str(root)!r}")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if overwrite else os.O_EXCL
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise _errors.ArtifactError(
            f"save: {str(target)!r} exists; pass overwrite=True to replace it"
        ) from None
    except OSError as exc:
        raise _errors.ArtifactError(
            f"save: the file name {str(path)!r} cannot be written in "
            f"{str(root)!r} ({exc.strerror}); pass save(path=...) with another name"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return target


# --- Static fallback ----------------------------------------------------------


_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def _table(head: list[str], rows: Iterable[Iterable[Any]]) -> str:
    th = "".join(f'<th style="{_CELL}">{escape(str(h))}</th>' for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{_CELL}">{escape(str(c))}</td>' for c in row)
        + "</tr>"
        for row in rows
    )
    return (
        f'<table style="border-collapse:collapse;font-size:12px"><thead><tr>{th}'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )


def _spec_html(spec: Mapping[str, Any], image: bytes) -> str:
    kind = spec.get("kind")
    if kind == "stack":
        inner = "".join(_spec_html(s, b"") for s in spec.get("specs", []))
        style = (
            "display:flex;flex-wrap:wrap;gap:12px"
            if spec.get("layout") == "row"
            else ""
        )
        return f'<div style="{style}">{inner}</div>'
    parts = [f"<p><b>{escape(str(spec.get('title', '')))}</b></p>"]
    parts += [f"<p><i>{escape(n)}</i></p>" for n in spec.get("notes", [])]
    if kind == "metrics":
        for group in spec.get("groups", []):
            parts.append(f"<p>{escape(str(group['title']))}</p>")
            parts.append(_table(["name", "value"], group["rows"]))
    elif kind == "confusion_matrix":
        parts.append(_svg.confusion_svg(spec["labels"], spec["matrix"]))
    elif kind == "roc":
        parts.append(_svg.roc_svg(spec["curves"]))
    elif kind == "table":
        rows = spec.get("rows", [])[:_FALLBACK_ROWS]
        parts.append(_table(spec.get("columns", []), rows))
        parts.append(f"<p>{len(rows)} of {spec.get('total_rows', 0):,} rows shown</p>")
    elif kind == "image" and image and len(image) <= _FALLBACK_IMAGE:
        # An <img> never runs script, SVG included.
        data = base64.b64encode(image).decode("ascii")
        parts.append(
            f'<img alt="{escape(str(spec.get("title", "")))}" '
            f'src="data:{escape(spec["mime"])};base64,{data}">'
        )
    elif kind == "html":
        parts.append(
            f"<p>HTML report ({spec.get('size') or 0:,} bytes): shown only "
            "in a live kernel, in a sandboxed frame.</p>"
        )
    elif kind in ("markdown", "text"):
        text = spec.get("markdown", spec.get("text", ""))
        parts.append(
            f'<pre style="white-space:pre-wrap">{escape(text[:_FALLBACK_TEXT])}</pre>'
        )
    elif kind == "binary":
        parts.append(
            f"<p>{spec.get('size'):,} bytes ({escape(spec['sniffed'])})</p>"
            f"<pre>{escape(spec.get('hex', ''))}</pre>"
        )
    elif kind in ("error", "too_large"):
        parts.append(f"<p>{escape(spec.get('message', ''))}</p>")
    else:
        parts.append(
            f"<p>{escape(str(kind))} ({spec.get('size') or 0:,} bytes): "
            "run the cell in a live kernel to see it.</p>"
        )
    return f'<div class="kfp-nb-artifact">{"".join(parts)}</div>'


def static_html(spec: Mapping[str, Any], image: bytes = b"") -> str:
    """Plain, escaped HTML (tables, inline SVG) for notebooks saved without a kernel.

    An HTML artifact is never inlined here: outside the widget's sandbox it
    could run in the notebook's origin.
    """
    return _spec_html(spec, image)
