"""``compare(client, run_ids)``: metrics, ROC curves and confusion matrices of runs.

Everything compared lives in task metadata (Metric and ClassificationMetric
outputs, SEMANTICS §11), so a comparison lists each run's tasks and reads no
file. Rows of the metrics table are ``(task, output, metric)``; columns are
runs, labelled by display name (with a short id when names repeat).
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
    ) -> None:
        self._client = client
        self.run_ids = [run_id for run_id, _ in runs]
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

    def to_frame(self) -> pandas.DataFrame:
        """Metrics across runs: index (task, output, metric), one column per run.

        ``task`` is the task's path in the DAG (``tune-forest.fit``), as names
        repeat across sub-DAGs. ``frame.attrs["run_ids"]`` maps each column label to its run id.
        """
        import pandas as pd

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


def compare(client: Any, run_ids: Iterable[str]) -> Comparison:
    """Compare 2 to 10 runs: metrics table, overlaid ROC curves, confusion matrices.

    ``run_ids`` is a list of ids (or a runs DataFrame with a ``run_id`` column).
    """
    ids = _run_ids(run_ids)

    def read(run_id: str) -> tuple[str, str, list[dict[str, Any]]]:
        run = client.get_run(run_id)
        return run_id, run.display_name or "", client._run_task_dicts(run_id)

    with ThreadPoolExecutor(min(_WORKERS, len(ids)), "kfp_nb-compare") as pool:
        results = list(pool.map(read, ids))
    runs = [(run_id, name) for run_id, name, _ in results]
    return Comparison(client, runs, {run_id: tasks for run_id, _, tasks in results})
