"""Metric columns for ``client.runs(metrics=True)``.

A run's metrics are the ``number_value`` of the Metric artifacts its tasks
output (SEMANTICS §11): listing a run's tasks gives them, no file is read.

Column naming rule: a metric name emitted by exactly one task path across
*all* the runs of the frame becomes ``metric.<name>``; a name emitted by two
or more task paths (``train`` and ``evaluate`` both log ``accuracy``) becomes
``metric.<task path>.<name>`` for every task emitting it, so a column always
means the same thing in every row. The task path is the task's place in the
DAG (``tune-forest.fit``), as names repeat across sub-DAGs. When one task
logs the same name twice (two outputs), the first value is kept. Columns are
``Float64``, sorted by name, ``<NA>`` where a run has no such metric.

Runs whose tasks cannot be read keep ``<NA>`` and are listed in
``frame.attrs["metric_errors"]`` (``{run_id: message}``), with one warning.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from . import _artifact
from . import _viewspec as vs
from ._filters import _user_stacklevel
from ._warnings import KFPWarning

__all__ = [
    "MAX_WORKERS",
    "add_metrics",
    "add_metrics_async",
    "metric_values",
    "metrics_columns",
]

#: Concurrent task listings while fetching metrics.
MAX_WORKERS = 8

# (task path, metric name) → value, for one run.
_RunMetrics = dict[tuple[str, str], float]


def metric_values(tasks: list[dict[str, Any]]) -> _RunMetrics:
    """Numeric metrics of one run's tasks (wire JSON), by (task path, name)."""
    found: _RunMetrics = {}
    for row in _artifact.artifact_rows(tasks):
        if vs.normalise_type(row["type"]) != "Metric":
            continue
        path = _artifact.task_path(row["_task"])
        for name, value in vs.metric_rows(
            row["name"], row["number_value"], row["metadata"]
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # a text "metric" is not a number to compare
            found.setdefault((path, str(name)), float(value))
    return found


def metrics_columns(per_run: list[_RunMetrics]) -> dict[str, list[float | None]]:
    """Column name → one value per run, by the naming rule of this module."""
    paths: dict[str, set[str]] = {}
    for metrics in per_run:
        for path, name in metrics:
            paths.setdefault(name, set()).add(path)
    names: dict[tuple[str, str], str] = {}
    for name, where in paths.items():
        for path in where:
            names[(path, name)] = (
                f"metric.{name}" if len(where) == 1 else f"metric.{path}.{name}"
            )
    columns: dict[str, list[float | None]] = {
        column: [None] * len(per_run) for column in sorted(set(names.values()))
    }
    for row, metrics in enumerate(per_run):
        for key, value in metrics.items():
            columns[names[key]][row] = value
    return columns


def fetch_metrics(
    client: Any, run_ids: list[str], *, progress: bool | None = None
) -> tuple[list[_RunMetrics], dict[str, str]]:
    """Each run's metrics (bounded thread pool, tqdm bar), and errors by run id."""
    from tqdm.auto import tqdm

    from .widgets._remote import short_error

    unique = list(dict.fromkeys(run_ids))
    found: dict[str, _RunMetrics] = {}
    errors: dict[str, str] = {}

    def one(run_id: str) -> tuple[str, Any]:
        try:
            return run_id, metric_values(client._run_task_dicts(run_id))
        except Exception as exc:  # noqa: BLE001 - reported per run, never raised
            return run_id, exc

    show = len(unique) > 1 if progress is None else progress
    bar = tqdm(total=len(unique), desc="metrics", unit="run", disable=not show)
    try:
        if unique:
            with ThreadPoolExecutor(
                min(MAX_WORKERS, len(unique)), "kfp_nb-metrics"
            ) as pool:
                for run_id, result in pool.map(one, unique):
                    if isinstance(result, BaseException):
                        errors[run_id] = short_error(result)
                    else:
                        found[run_id] = result
                    bar.update(1)
    finally:
        bar.close()
    return [found.get(run_id, {}) for run_id in run_ids], errors


def add_metrics(
    client: Any, frame: pd.DataFrame, *, progress: bool | None = None
) -> pd.DataFrame:
    """``frame`` with ``metric.*`` columns appended (one task listing per run)."""
    ids = [str(v) for v in frame["run_id"].tolist()] if len(frame) else []
    per_run, errors = fetch_metrics(client, ids, progress=progress)
    return _with_columns(frame, per_run, errors)


def _with_columns(
    frame: pd.DataFrame, per_run: list[_RunMetrics], errors: dict[str, str]
) -> pd.DataFrame:
    columns = metrics_columns(per_run)
    out = frame.copy()
    for name, values in columns.items():
        out[name] = pd.array(values, dtype="Float64")
    if errors:
        out.attrs["metric_errors"] = errors
        shown = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])
        warnings.warn(
            f"metrics of {len(errors)} run(s) could not be read and are <NA>: "
            f"{shown}. All errors are in df.attrs['metric_errors'].",
            KFPWarning,
            stacklevel=_user_stacklevel(),
        )
    return out


async def add_metrics_async(
    client: Any, frame: pd.DataFrame, *, progress: bool | None = None
) -> pd.DataFrame:
    """:func:`add_metrics` for ``AsyncClient``: at most ``MAX_WORKERS`` at once."""
    import asyncio

    from tqdm.auto import tqdm

    from .widgets._remote import short_error

    ids = [str(v) for v in frame["run_id"].tolist()] if len(frame) else []
    unique = list(dict.fromkeys(ids))
    gate = asyncio.Semaphore(MAX_WORKERS)
    show = len(unique) > 1 if progress is None else progress
    bar = tqdm(total=len(unique), desc="metrics", unit="run", disable=not show)

    async def one(run_id: str) -> Any:
        async with gate:
            try:
                return metric_values(await client._run_task_dicts(run_id))
            except Exception as exc:  # noqa: BLE001 - reported per run
                return exc
            finally:
                bar.update(1)

    try:
        results = dict(zip(unique, await asyncio.gather(*map(one, unique))))
    finally:
        bar.close()
    errors = {
        k: short_error(v) for k, v in results.items() if isinstance(v, BaseException)
    }
    per_run = [{} if isinstance(results[r], BaseException) else results[r] for r in ids]
    return _with_columns(frame, per_run, errors)
