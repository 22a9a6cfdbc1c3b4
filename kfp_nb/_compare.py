"""``compare``: runs side by side, as a view or as data.

Two forms:

- ``compare(frame)`` (a runs DataFrame, e.g. ``client.runs(metrics=True)``)
  returns a **DataFrame**, one row per run (index ``run_id``) with
  ``display_name``, ``pipeline_version_id``, every ``param.*`` and
  ``metric.*`` column. A frame without metric columns gets them fetched when
  its client is known (``client=`` or the client that built it), unless
  ``metrics=False``. Any number of runs.
- ``compare(client, run_ids)`` (2 to 10 runs) returns a :class:`Comparison`:
  a rich view (metrics table, ROC curves, confusion matrices) with
  ``to_frame()`` (metrics as rows ``(task, output, metric)``, runs as
  columns) and ``to_wide()`` (the same frame ``compare(frame)`` gives).

``differs_only=True`` (both forms, and both ``Comparison`` frames) hides what
is identical across the runs: columns of the wide frame (``display_name``
stays), rows of the metrics table. Missing equals missing.

Everything compared lives in run fields and task metadata (Metric and
ClassificationMetric outputs, SEMANTICS §11): no file is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from . import _artifact
from . import _viewspec as vs

if TYPE_CHECKING:
    import pandas

__all__ = ["Comparison", "compare"]

MIN_RUNS, MAX_RUNS = 2, 10
_WORKERS = 4


def _run_ids(run_ids: Any) -> list[str]:
    if isinstance(run_ids, str):
        raise TypeError("compare needs 2 to 10 run ids, got one string; pass a list")
    if hasattr(run_ids, "columns") and "run_id" in getattr(run_ids, "columns", ()):
        run_ids = run_ids["run_id"]  # a runs DataFrame
    try:
        ids = list(run_ids)
    except TypeError:
        raise TypeError(
            f"compare needs a list of run ids, got {type(run_ids).__name__}"
        ) from None
    for value in ids:
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"every run id must be a non-empty string, got {value!r}")
    ids = list(dict.fromkeys(ids))
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise ValueError(
            f"compare needs {MIN_RUNS} to {MAX_RUNS} distinct runs, got {len(ids)}; "
            "pick the runs to compare from client.runs()"
        )
    return ids


def _labels(runs: list[tuple[str, str]]) -> list[str]:
    names = [name or run_id for run_id, name in runs]
    return [
        f"{name} ({run_id[:8]})" if names.count(name) > 1 or not name else name
        for (run_id, _), name in zip(runs, names)
    ]


class Comparison:
    """The runs compared: ``to_frame()``, ``view_spec()`` and a rich display."""

    def __init__(
        self,
        client: Any,
        runs: list[tuple[str, str]],
        tasks: dict[str, list[dict[str, Any]]],
        params: dict[str, dict[str, Any]] | None = None,
        versions: dict[str, str | None] | None = None,
    ) -> None:
        self._client = client
        self._params = params or {}
        self._versions = versions or {}
        self._tasks = tasks
        self.run_ids = [run_id for run_id, _ in runs]
        self._names = dict(runs)
        self._differs_only = False
        self.labels = _labels(runs)
        self._rows = {
            run_id: _artifact.artifact_rows(tasks[run_id]) for run_id in self.run_ids
        }

    # The metrics table -------------------------------------------------------

    def _metrics(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        table: dict[tuple[str, str, str], dict[str, Any]] = {}
        for run_id, label in zip(self.run_ids, self.labels):
            for row in self._rows[run_id]:
                if vs.normalise_type(row["type"]) != "Metric":
                    continue
                for name, value in vs.metric_rows(
                    row["name"], row["number_value"], row["metadata"]
                ):
                    task = _artifact.task_path(row["_task"])
                    key = (task, row["output_key"] or "", name)
                    table.setdefault(key, {}).setdefault(label, value)
        return table

    def to_wide(self, *, differs_only: bool | None = None) -> pandas.DataFrame:
        """One row per run: name, pipeline version, ``param.*``, ``metric.*``."""
        import pandas as pd

        from . import _metrics_frame

        if differs_only is None:
            differs_only = self._differs_only
        per_run = [_metrics_frame.metric_values(self._tasks[r]) for r in self.run_ids]
        data: dict[str, Any] = {
            "display_name": [self._names.get(r) or None for r in self.run_ids],
            "pipeline_version_id": [self._versions.get(r) for r in self.run_ids],
        }
        names = sorted({k for r in self.run_ids for k in self._params.get(r, {})})
        for name in names:
            data[f"param.{name}"] = [
                self._params.get(r, {}).get(name) for r in self.run_ids
            ]
        for column, values in _metrics_frame.metrics_columns(per_run).items():
            data[column] = pd.array(values, dtype="Float64")
        index = pd.Index(self.run_ids, name="run_id", dtype=object)
        frame = pd.DataFrame(data, index=index)
        return _differing(frame) if differs_only else frame

    def to_frame(self, *, differs_only: bool | None = None) -> pandas.DataFrame:
        """Metrics across runs: index (task, output, metric), one column per run.

        ``task`` is the task's path in the DAG (``tune-forest.fit``), as names
        repeat across sub-DAGs. ``frame.attrs["run_ids"]`` maps each column
        label to its run id. ``differs_only=True`` drops the metrics whose
        value is the same in every run.
        """
        import pandas as pd

        if differs_only is None:
            differs_only = self._differs_only
        table = self._metrics()
        index = pd.MultiIndex.from_tuples(
            sorted(table) or [], names=["task", "output", "metric"]
        )
        frame = pd.DataFrame(
            {
                label: [table[k].get(label) for k in sorted(table)]
                for label in self.labels
            },
            index=index,
        )
        for label in self.labels:
            values = frame[label]
            if all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                for v in values
            ):
                frame[label] = values.astype("float64")
        frame.attrs["run_ids"] = dict(zip(self.labels, self.run_ids))
        if differs_only and len(frame):
            same = frame.astype(object).T.apply(_all_same)
            frame = frame[~same.to_numpy()]
        return frame

    # Views -----------------------------------------------------------------------

    def _info(self, title: str) -> dict[str, Any]:
        return {
            "run_id": ",".join(self.run_ids),
            "task_id": None,
            "name": "compare",
            "type": "Comparison",
            "uri": None,
            "title": title,
        }

    def _widget_payload(self, caps: vs.ViewOptions) -> tuple[dict[str, Any], bytes]:
        info = self._info(f"Comparison of {len(self.run_ids)} runs")
        table = self._metrics()
        keys = sorted(table)
        metrics = vs._base("table", info, cap_rows=None, title="Metrics across runs")
        metrics.update(
            columns=["task", "output", "metric", *self.labels],
            rows=[
                [*key, *(table[key].get(label) for label in self.labels)]
                for key in keys
            ],
            total_rows=len(keys),
            truncated=False,
        )
        if not keys:
            metrics["notes"] = ["none of these runs logged scalar metrics"]
        parts = [metrics]
        curves, matrices, notes = self._classification(caps)
        if curves:
            parts.append(
                vs.roc_spec(
                    self._info("ROC curves"), curves, caps=caps, title="ROC curves"
                )
            )
        if matrices:
            parts.append(
                {
                    **vs._base(
                        "stack",
                        self._info("Confusion matrices"),
                        title="Confusion matrices",
                    ),
                    "layout": "row",
                    "specs": matrices,
                }
            )
        if notes:
            parts[0].setdefault("notes", []).extend(notes)
        return {**vs._base("stack", info), "layout": "column", "specs": parts}, b""

    def _classification(
        self, caps: vs.ViewOptions
    ) -> tuple[list, list[dict[str, Any]], list[str]]:
        """One ROC curve and one confusion matrix per run (the first valid ones)."""
        curves, matrices, notes = [], [], []
        for run_id, label in zip(self.run_ids, self.labels):
            rows = [
                r
                for r in self._rows[run_id]
                if "confusionMatrix" in r["metadata"]
                or "confidenceMetrics" in r["metadata"]
            ]
            found_roc = found_cm = False
            for row in rows:
                info = {
                    "run_id": run_id,
                    "task_id": row["task_id"],
                    "task_name": row["task_name"],
                    "name": row["name"],
                    "type": row["type"],
                    "uri": row["uri"],
                    "title": label,
                }
                for part in vs.classification_parts(
                    info, row["metadata"], caps=caps, label=label
                ):
                    kind = part.spec["kind"]
                    if kind == "roc" and not found_roc:
                        curves.append((label, part.frame[1]))
                        found_roc = True
                    elif kind == "confusion_matrix" and not found_cm:
                        matrices.append({**part.spec, "title": label})
                        found_cm = True
                    elif kind == "error":
                        notes.append(f"{label}: {part.spec['message']}")
        return curves, matrices, notes

    def view_spec(self, **caps: int) -> dict[str, Any]:
        """The comparison as a ``stack`` spec: metrics table, ROC, matrices."""
        return self._widget_payload(vs.options.with_overrides(caps))[0]

    def _download(self, caps: vs.ViewOptions) -> tuple[str, str, bytes]:
        data = self.to_frame().reset_index().to_csv(index=False).encode()
        return "comparison.csv", "text/csv", data

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        spec, _ = self._widget_payload(vs.options)
        fallback = {"text/html": _artifact.static_html(spec), "text/plain": repr(self)}
        try:
            from .widgets._viewer import CompareView

            bundle = CompareView(self)._repr_mimebundle_(**kwargs)
        except ImportError:
            bundle = None
        if not bundle:
            return fallback
        data, metadata = bundle
        return {**data, **fallback}, metadata

    def __repr__(self) -> str:
        return f"<kfp_nb.Comparison of {len(self.run_ids)} runs: {self.labels}>"


def _all_same(values: Any) -> bool:
    """True when every value equals the first (missing equals missing)."""
    items = list(values)
    if not items:
        return True
    first = _key(items[0])
    return all(_key(v) == first for v in items[1:])


def _key(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, (list, dict)):
        return repr(value)
    return None if pd.isna(value) else value


def _differing(frame: pandas.DataFrame) -> pandas.DataFrame:
    """Columns whose values differ across the rows (``display_name`` kept)."""
    keep = [c for c in frame.columns if c == "display_name" or not _all_same(frame[c])]
    return frame[keep]


def _wide_from_runs(
    frame: pandas.DataFrame, *, differs_only: bool, metrics: bool | None,
    client: Any,
) -> pandas.DataFrame:  # fmt: skip
    from . import _accessor, _metrics_frame

    if "run_id" not in frame.columns:
        raise ValueError(
            "compare: the DataFrame has no run_id column; pass the "
            "frame client.runs() returned"
        )
    frame = frame.drop_duplicates("run_id")
    has_metrics = any(str(c).startswith("metric.") for c in frame.columns)
    if metrics or (metrics is None and not has_metrics):
        try:
            client = _accessor.client_of(frame, client, what="compare")
        except ValueError:
            if metrics:
                raise
            client = None
        if client is not None:
            frame = _metrics_frame.add_metrics(
                client, frame.drop(columns=[c for c in frame.columns
                                            if str(c).startswith("metric.")])
            )  # fmt: skip
    columns = [c for c in ("display_name", "pipeline_version_id") if c in frame]
    columns += sorted(c for c in frame.columns if str(c).startswith("param."))
    columns += sorted(c for c in frame.columns if str(c).startswith("metric."))
    wide = frame.set_index("run_id")[columns]
    wide.index = wide.index.astype(object).rename("run_id")
    return _differing(wide) if differs_only else wide


def compare(
    runs: Any,
    run_ids: Iterable[str] | None = None,
    *,
    differs_only: bool = False,
    metrics: bool | None = None,
    client: Any = None,
) -> Any:
    """Compare runs: ``compare(frame)`` → DataFrame; ``compare(client, ids)`` → view.

    See the module docstring: a runs DataFrame gives the wide frame of
    parameters and metrics (runs as rows); a client and 2 to 10 run ids give
    a :class:`Comparison` (``differs_only`` is then the default of its
    ``to_frame``/``to_wide``).
    """
    import sys

    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(runs, pandas.DataFrame):
        if run_ids is not None:
            raise TypeError(
                "compare(frame) takes the runs from the frame; to pick runs, "
                "filter the frame (frame[frame.run_id.isin(ids)])"
            )
        return _wide_from_runs(
            runs, differs_only=differs_only, metrics=metrics, client=client
        )
    if run_ids is None:
        raise TypeError(
            "compare needs a runs DataFrame, or a client and run ids: "
            "compare(client, ['run-1', 'run-2'])"
        )
    result = _compare_view(runs, run_ids)
    if differs_only:
        result._differs_only = True
    return result


def _compare_view(client: Any, run_ids: Iterable[str]) -> Comparison:
    """Compare 2 to 10 runs: metrics table, overlaid ROC curves, confusion matrices.

    ``run_ids`` is a list of ids (or a runs DataFrame with a ``run_id`` column).
    """
    ids = _run_ids(run_ids)

    def read(run_id: str) -> tuple[str, Any, list[dict[str, Any]]]:
        run = client.get_run(run_id)
        return run_id, run, client._run_task_dicts(run_id)

    with ThreadPoolExecutor(min(_WORKERS, len(ids)), "kfp_nb-compare") as pool:
        results = list(pool.map(read, ids))
    runs = [(run_id, run.display_name or "") for run_id, run, _ in results]
    return Comparison(
        client,
        runs,
        {run_id: tasks for run_id, _, tasks in results},
        params={run_id: _parameters(run) for run_id, run, _ in results},
        versions={run_id: _version(run) for run_id, run, _ in results},
    )


def _parameters(run: Any) -> dict[str, Any]:
    config = getattr(run, "runtime_config", None)
    return dict(getattr(config, "parameters", None) or {})


def _version(run: Any) -> str | None:
    ref = getattr(run, "pipeline_version_reference", None)
    return getattr(ref, "pipeline_version_id", None) or getattr(
        run, "pipeline_version_id", None
    )
