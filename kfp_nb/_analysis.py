"""Runs as data: ``failures``, ``stats``, ``diff`` and ``critical_path``.

Each takes a runs DataFrame (``client.runs()``) or run ids, and reads tasks
from the server only when it must (concurrently, at most 8 calls at once).
The client is ``client=`` when given, else the live client that built the
frame (see :mod:`kfp_nb._accessor`).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _accessor, _states
from ._metrics_frame import MAX_WORKERS

__all__ = [
    "RunDiff",
    "critical_path",
    "diff",
    "failures",
    "first_failed_task",
    "normalize_error",
    "stats",
]

_EXAMPLES = 3

# Variable parts of error texts, most specific first: each becomes a placeholder
# so that failures differing only by them fall into one group.
_I = re.IGNORECASE
_NOISE = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                r"(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"),]+", _I), "<path>"),
    (re.compile(r"(?<![\w.])(?:~|\.{1,2})?/(?:[\w.@%+-]+/)*[\w.@%+-]+"), "<path>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                _I), "<id>"),
    (re.compile(r"\b(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{5,}\b", _I), "<id>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", _I), "<n>"),
    (re.compile(r"\s+"), " "),
]  # fmt: skip


def normalize_error(text: Any) -> str | None:
    """An error message without its ids, uuids, numbers, paths and timestamps."""
    if not isinstance(text, str) and (text is None or pd.isna(text)):
        return None
    out = str(text)
    for pattern, placeholder in _NOISE:
        out = pattern.sub(placeholder, out)
    return out.strip() or None


# -- reading tasks --------------------------------------------------------------


def _client(frame: Any, client: Any, what: str) -> Any:
    if client is not None:
        return _accessor.require_sync(client, what)
    if isinstance(frame, pd.DataFrame):
        return _accessor.client_of(frame, None, what=what)
    raise ValueError(f"{what}: pass client=kfp_nb.Client(...)")


def _tasks_of(client: Any, run_ids: list[str]) -> dict[str, Any]:
    """``{run_id: tasks frame or the exception}``, read concurrently."""
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return {}

    def one(run_id: str) -> tuple[str, Any]:
        try:
            return run_id, client.tasks(run_id)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            return run_id, exc

    with ThreadPoolExecutor(min(MAX_WORKERS, len(ids)), "kfp_nb-tasks") as pool:
        return dict(pool.map(one, ids))


def _leaves(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks that are neither the root nor a DAG (no other task's parent)."""
    parents = set(tasks["parent_task_id"].dropna())
    is_dag = tasks["type"].isin(["ROOT", "DAG"]).fillna(False).astype(bool)
    return tasks[~tasks["task_id"].isin(parents) & ~is_dag]


def _task_label(task: Any) -> str:
    path = task.get("scope_path")
    if isinstance(path, str) and path:
        parts = path.split(".")
        return ".".join(parts[1:] if parts[0] == "root" and len(parts) > 1 else parts)
    for key in ("display_name", "name", "task_id"):
        value = task.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


# -- failures -----------------------------------------------------------------


def first_failed_task(tasks: pd.DataFrame) -> pd.Series | None:
    """The failed task whose error explains the run (the run view's rule).

    The first FAILED task by end time (unset last), then create time, then
    listing order — ignoring tasks with a failed child (a failure travels up
    to its DAGs and the root, usually with a summary message) unless only
    those failed.
    """
    failed = tasks[tasks["state"] == "FAILED"]
    if failed.empty:
        return None
    parents = set(failed["parent_task_id"].dropna())
    origins = failed[~failed["task_id"].isin(parents)]
    pool = origins if not origins.empty else failed
    pool = pool.assign(_order=range(len(pool)))
    pool = pool.sort_values(["end_time", "create_time", "_order"], na_position="last")
    return pool.iloc[0]


def failures(
    frame: pd.DataFrame, *, client: Any = None, per_run: bool = False
) -> pd.DataFrame:
    """Why the FAILED runs of ``frame`` failed: one row per cause.

    For each FAILED run the first failed task is found
    (:func:`first_failed_task`) and its error normalized
    (:func:`normalize_error`: ids, uuids, numbers, paths and timestamps
    become ``<id>``, ``<n>``, ``<path>``, ``<time>``). The result groups them
    by ``(task, error)`` with ``runs`` (count), ``run_ids`` (up to three
    examples) and ``example`` (one raw message), most frequent first.

    ``per_run=True`` gives the per-run rows instead: ``run_id, display_name,
    task_id, task, error, raw_error, end_time``. A run whose tasks show no
    failure (or cannot be read) keeps the run's own error with ``task``
    ``<NA>``. ``task`` is the task's DAG path (``tune-forest.fit``).
    """
    if "state" not in frame.columns or "run_id" not in frame.columns:
        raise ValueError("failures: expected a runs DataFrame from client.runs()")
    failed = frame[frame["state"] == "FAILED"].drop_duplicates("run_id")
    tasks = _tasks_of(_client(frame, client, "failures"), failed["run_id"].tolist())
    rows = []
    for run in failed.itertuples(index=False):
        found = tasks.get(run.run_id)
        task = first_failed_task(found) if isinstance(found, pd.DataFrame) else None
        raw = getattr(run, "error", None)
        if task is not None:
            raw = task["error"] if pd.notna(task["error"]) else raw
        rows.append(
            {
                "run_id": run.run_id,
                "display_name": getattr(run, "display_name", None),
                "task_id": None if task is None else task["task_id"],
                "task": None if task is None else _task_label(task),
                "error": normalize_error(raw),
                "raw_error": None if raw is None or pd.isna(raw) else str(raw),
                "end_time": pd.NaT if task is None else task["end_time"],
            }
        )
    runs = pd.DataFrame(
        rows,
        columns=["run_id", "display_name", "task_id", "task", "error", "raw_error",
                 "end_time"],
    )  # fmt: skip
    for column in ("run_id", "display_name", "task_id", "task", "error", "raw_error"):
        runs[column] = runs[column].astype("string")
    runs["end_time"] = pd.to_datetime(runs["end_time"], utc=True).astype(
        "datetime64[ns, UTC]"
    )
    if per_run:
        return runs
    return _group_failures(runs)


def _group_failures(runs: pd.DataFrame) -> pd.DataFrame:
    columns = ["task", "error", "runs", "run_ids", "example"]
    if runs.empty:
        out = pd.DataFrame({c: [] for c in columns})
        out["runs"] = out["runs"].astype("int64")
        return out
    grouped = runs.groupby(["task", "error"], dropna=False, sort=False)
    out = grouped.agg(
        runs=("run_id", "size"),
        run_ids=("run_id", lambda s: list(s)[:_EXAMPLES]),
        example=("raw_error", "first"),
    ).reset_index()
    out = out.sort_values(
        ["runs", "task", "error"], ascending=[False, True, True], na_position="last"
    )
    return out.reset_index(drop=True)[columns]


# -- stats ------------------------------------------------------------------------


def stats(
    frame: pd.DataFrame, by: str | list[str] = "pipeline_version_id", *,
    client: Any = None,
) -> pd.DataFrame:  # fmt: skip
    """Runs per group: counts by state, success rate, durations, cache hits.

    One row per value of ``by`` (a column or list of columns of ``frame``,
    e.g. ``"experiment_name"``; missing values form their own group), with:
    ``runs``; one column per run state seen in ``frame`` (counts);
    ``success_rate`` = SUCCEEDED / runs in a final state (SUCCEEDED, FAILED,
    CANCELED, SKIPPED; ``<NA>`` when none finished); ``median_duration`` and
    ``p90_duration`` over runs with a duration; ``cache_hit_ratio`` = CACHED
    tasks / leaf tasks of the group's runs — only with ``client=``, as it
    lists every run's tasks; without it the column is ``<NA>``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(
            f"stats: no column {missing[0]!r} in the frame; group by one of "
            f"{', '.join(map(str, frame.columns[:12]))}…"
        )
    data = frame.copy()
    for key in keys:  # a categorical key would add empty groups
        if isinstance(data[key].dtype, pd.CategoricalDtype):
            data[key] = data[key].astype("string")
    data["_state"] = data["state"].astype("string")
    seen = [s for s in _states.RUN_STATES if (data["_state"] == s).any()]
    seen += sorted(set(data["_state"].dropna()) - set(seen))
    grouped = data.groupby(keys, dropna=False, sort=True)
    out = grouped.size().rename("runs").to_frame()
    for state in seen:
        out[state] = grouped["_state"].agg(lambda s, st=state: int((s == st).sum()))
    final = data["_state"].isin(list(_states.FINAL_RUN_STATES))
    data["_final"] = final
    data["_ok"] = data["_state"] == "SUCCEEDED"
    finished = grouped["_final"].sum()
    ok = grouped["_ok"].sum()
    rate = (ok / finished.where(finished > 0)).astype("Float64")
    out["success_rate"] = rate
    out["median_duration"] = grouped["duration"].median()
    out["p90_duration"] = grouped["duration"].quantile(0.9)
    out["cache_hit_ratio"] = pd.array([pd.NA] * len(out), dtype="Float64")
    if client is not None:
        out["cache_hit_ratio"] = _cache_ratios(client, data, keys, out.index)
    return out


def _cache_ratios(client: Any, data: pd.DataFrame, keys: list[str], index: Any):
    tasks = _tasks_of(client, data["run_id"].tolist())
    cached: dict[str, tuple[int, int]] = {}
    for run_id, found in tasks.items():
        if isinstance(found, pd.DataFrame):
            leaves = _leaves(found)
            cached[run_id] = (int((leaves["state"] == "CACHED").sum()), len(leaves))
    data = data.assign(
        _cached=[cached.get(r, (0, 0))[0] for r in data["run_id"]],
        _tasks=[cached.get(r, (0, 0))[1] for r in data["run_id"]],
    )
    sums = data.groupby(keys, dropna=False, sort=True)[["_cached", "_tasks"]].sum()
    ratio = sums["_cached"] / sums["_tasks"].where(sums["_tasks"] > 0)
    return ratio.reindex(index).astype("Float64")


# -- diff -------------------------------------------------------------------------


@dataclass
class RunDiff:
    """What differs between two runs (``kfp_nb.diff``).

    ``parameters``: ``parameter, a, b`` for each runtime parameter whose value
    differs (or that only one run has; the other side is ``None``).
    ``pipeline``: ``field, a, b`` for pipeline_id / pipeline_version_id (an
    inline spec shows as ``"<inline spec>"``), only when they differ.
    ``tasks``: ``task, state_a, state_b`` for tasks (matched by DAG path)
    whose state differs, or that only one run has.
    """

    run_a: str
    run_b: str
    parameters: pd.DataFrame
    pipeline: pd.DataFrame
    tasks: pd.DataFrame
    labels: tuple[str, str] = field(default=("a", "b"))

    @property
    def empty(self) -> bool:
        """True when the runs differ in none of the three."""
        return self.parameters.empty and self.pipeline.empty and self.tasks.empty

    def __repr__(self) -> str:
        parts = [f"<kfp_nb.RunDiff {self.run_a} vs {self.run_b}:"]
        for name in ("parameters", "pipeline", "tasks"):
            table: pd.DataFrame = getattr(self, name)
            body = "  (same)" if table.empty else table.to_string(index=False)
            parts.append(f"{name}:\n{body}")
        return "\n".join(parts) + ">"

    def _repr_html_(self) -> str:
        import html

        parts = [
            f"<b>{html.escape(self.run_a)}</b> vs <b>{html.escape(self.run_b)}</b>"
        ]
        for name in ("parameters", "pipeline", "tasks"):
            table: pd.DataFrame = getattr(self, name)
            body = "<i>same</i>" if table.empty else table.to_html(index=False)
            parts.append(f"<h4>{name}</h4>{body}")
        return "".join(parts)


def _run_dict(client: Any, run_id: str) -> dict[str, Any]:
    from ._models import to_wire

    return to_wire(client.get_run(run_id))


def _pipeline_of(run: dict[str, Any]) -> dict[str, Any]:
    ref = run.get("pipeline_version_reference") or run.get("pipeline_reference") or {}
    if run.get("pipeline_spec") and not ref:
        return {"pipeline_id": "<inline spec>", "pipeline_version_id": "<inline spec>"}
    return {
        "pipeline_id": ref.get("pipeline_id"),
        "pipeline_version_id": ref.get("pipeline_version_id")
        or run.get("pipeline_version_id"),
    }


def diff(client: Any, run_a: str, run_b: str) -> RunDiff:
    """Differing parameters, pipeline version and task states of two runs."""
    if not all(isinstance(r, str) and r for r in (run_a, run_b)):
        raise TypeError("diff(client, run_a, run_b) takes two run ids")
    _accessor.require_sync(client, "diff")
    with ThreadPoolExecutor(4, "kfp_nb-diff") as pool:
        runs = list(pool.map(lambda r: _run_dict(client, r), (run_a, run_b)))
        tasks = list(pool.map(client.tasks, (run_a, run_b)))
    params = [(r.get("runtime_config") or {}).get("parameters") or {} for r in runs]
    rows = [
        (name, params[0].get(name), params[1].get(name))
        for name in sorted(set(params[0]) | set(params[1]))
        if name not in params[0] or name not in params[1]
        or params[0][name] != params[1][name]
    ]  # fmt: skip
    # object columns: parameter values keep their JSON type, a missing one is None
    parameters = pd.DataFrame(rows, columns=["parameter", "a", "b"], dtype=object)
    pipes = [_pipeline_of(r) for r in runs]
    pipeline = pd.DataFrame(
        [(k, pipes[0][k], pipes[1][k]) for k in pipes[0] if pipes[0][k] != pipes[1][k]],
        columns=["field", "a", "b"],
        dtype=object,
    )
    states = [_task_states(t) for t in tasks]
    names = sorted(set(states[0]) | set(states[1]))
    task_rows = [
        (n, states[0].get(n), states[1].get(n))
        for n in names
        if states[0].get(n) != states[1].get(n)
    ]
    task_frame = pd.DataFrame(task_rows, columns=["task", "state_a", "state_b"])
    for column in task_frame.columns:
        task_frame[column] = task_frame[column].astype("string")
    return RunDiff(run_a, run_b, parameters, pipeline, task_frame)


def _task_states(tasks: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for task in tasks.to_dict("records"):
        if task.get("type") == "ROOT":
            continue  # the root's state is the run's
        out.setdefault(_task_label(task), str(task["state"]))
    return out


# -- critical path ------------------------------------------------------------------


def critical_path(client: Any, run_id: str) -> pd.DataFrame:
    """The chain of tasks that set the run's duration, first to last.

    Rule: among leaf tasks (not the root or a DAG) with a start and an end,
    start from the one that finished last; its predecessor is the task that
    finished last at or before it started (ties: the later start, then the
    name); repeat until no task ended before the current one started. This
    follows the DAG's dependencies when every task starts as soon as its
    inputs are ready (as on the embedded server and Argo), without reading
    the pipeline spec. Columns: ``task_id, task, state, start_time,
    end_time, duration, wait`` (``wait``: time between the predecessor's end
    and this start).
    """
    tasks = _accessor.require_sync(client, "critical_path").tasks(run_id)
    return _chain(tasks)


def _chain(tasks: pd.DataFrame) -> pd.DataFrame:
    leaves = _leaves(tasks)
    leaves = leaves[leaves["start_time"].notna() & leaves["end_time"].notna()]
    leaves = leaves.assign(task=[_task_label(t) for t in leaves.to_dict("records")])
    order = leaves.sort_values(
        ["end_time", "start_time", "task"], ascending=[False, False, True]
    )
    chain: list[Any] = []
    used: set[str] = set()
    current = order.iloc[0] if len(order) else None
    while current is not None:
        chain.append(current)
        used.add(current["task_id"])
        before = order[
            (order["end_time"] <= current["start_time"]) & ~order["task_id"].isin(used)
        ]
        current = before.iloc[0] if len(before) else None
    columns = ["task_id", "task", "state", "start_time", "end_time", "duration"]
    path = (
        pd.DataFrame(chain[::-1])[columns].reset_index(drop=True)
        if chain
        else leaves[columns].iloc[:0].reset_index(drop=True)
    )
    path["wait"] = (path["start_time"] - path["end_time"].shift(1)).astype(
        "timedelta64[ns]"
    )
    return path
