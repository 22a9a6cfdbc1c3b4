"""Runs and tasks, as the server sends them, → pandas DataFrames.

The input is wire JSON (dicts) exactly as a KFP server writes it (SEMANTICS.md
§1, §8): fields left out when empty, ``{}`` or ``null`` for lists, int64 as
strings, unknown enum values, and the 1970 epoch meaning "not set". Columns are
built in one pass over the dicts and converted once per column, so a listing of
100 000 runs takes well under a second.

Rules shared by every frame:

- **Index**: a default ``RangeIndex`` in input order; ``run_id`` / ``task_id``
  are ordinary columns (ids repeat when frames of several listings are joined).
- **Text**: pandas ``string`` dtype. The server leaves empty strings out, so an
  empty string and a missing field both become ``<NA>``. Text is kept verbatim
  (HTML, emoji); pandas escapes it in ``to_html``.
- **Times**: ``datetime64[ns, UTC]``, all parsed with one rule,
  ``pd.to_datetime(values, utc=True, format="ISO8601")``: any RFC 3339 offset is
  converted to UTC, a string without a zone is taken as UTC, nanoseconds are
  kept, and the "not set" forms become ``NaT``: the epoch instant in any
  spelling, Go's zero time ``0001-01-01T00:00:00Z``, ``""`` and ``None``.
  Python ``datetime`` objects are accepted too (naive = UTC).
- **Unreadable values** never hide the other rows: a time that is malformed
  or outside 1677–2262 (which pandas cannot hold, though the server accepts
  ``9999-12-31``), or an ``execution_id`` that is not an int64, becomes
  ``NaT`` / ``<NA>``, and one :class:`UnparsedValueWarning` per frame names
  the rows' ids, the columns and the raw values. The raw values stay in
  ``df.attrs["unparsed"]``: a list of ``{"row", "<run|task>_id", "column",
  "value", "problem"}`` dicts (absent when every value was read).
- **States**: categoricals whose categories are the known states (from
  :mod:`kfp_nb._states`, in their order) followed by any unknown value seen,
  sorted, so the dtype does not depend on row order and a new server state is
  kept, never turned into NaN. A missing state (the proto zero value, which the
  server leaves out) is ``RUNTIME_STATE_UNSPECIFIED``; a missing storage state
  is ``STORAGE_STATE_UNSPECIFIED``. An enum sent as a number is named.
- **Durations**: ``timedelta64[ns]``, end minus start (``started_at`` /
  ``start_time``, else the creation time); ``NaT`` while unfinished and when the
  end lies before the start (clock skew), never negative.
- Empty input gives an empty frame with the same columns and dtypes.

Runs (:func:`runs_frame`, columns :data:`RUN_COLUMNS`): ``started_at`` is the
``update_time`` of the last RUNNING entry of ``state_history`` (the latest
attempt after a retry), else ``NaT``. ``error`` is the run's ``error.message``,
else the error of the latest ``state_history`` entry (an error from before a
successful retry is not the run's error).
``pipeline_id`` / ``pipeline_version_id`` come from ``pipeline_version_reference``
(HEAD) or ``pipeline_reference`` (tasks-API PR). ``experiment_name`` comes from
the ``experiment_names`` mapping. A ``namespace`` column is added when any run
has one. Then one ``param.<name>`` column per runtime parameter seen in any
run, sorted by name, typed from the values present: all bool → ``boolean``, all
int → ``Int64``, int and float → ``Float64``, all str → ``string``, anything
else (dicts, lists, mixed kinds) → ``object`` with ``None`` where missing.

Tasks (:func:`tasks_frame`, columns :data:`TASK_COLUMNS`) accept both task
schemas: the tasks API of the PR (§8.3) and HEAD's ``run_details.task_details``
(§8.2). ``type``: the PR leaves ``ROOT`` (its zero value) out, so a PR-schema
task with no ``type`` and no parent is ``"ROOT"``; HEAD tasks have no task type
and get ``<NA>``. A task is PR-schema when it carries a field only that schema
has (``name``, ``pods``, ``scope_path``, ``type``, ``type_attributes``,
``status_metadata``, ``cache_fingerprint``) or ``inputs``/``outputs`` in the
PR's form (``{}`` or lists) rather than HEAD's map of artifact-id lists.
``start_time`` is the field when sent (HEAD), else the last RUNNING entry of
``state_history``. ``error`` is ``error.message``, else the last history error,
else ``status_metadata.message`` of a FAILED task. ``input_artifacts`` /
``output_artifacts`` list the artifact keys (output names, what
``read_artifact`` takes), one per key; ``n_inputs`` / ``n_outputs`` count the
artifacts; ``*_artifact_ids`` list their ids (an all-digit id, such as HEAD's
MLMD ids, as ``int``). ``child_task_ids`` holds each child's ``task_id``, or its
``pod_name`` (the Argo node id) in HEAD's schema. List columns and counts hold
``<NA>`` when the server left the field out and a list (maybe empty) when it
sent one. :func:`task_state_history` and :func:`run_state_history` give the
long table of state changes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from . import _states
from ._filters import _user_stacklevel
from ._warnings import UnparsedValueWarning

__all__ = [
    "RUN_COLUMNS",
    "TASK_COLUMNS",
    "UnparsedValueWarning",
    "run_state_history",
    "runs_frame",
    "task_state_history",
    "tasks_frame",
]

RUN_COLUMNS: list[str] = [
    "run_id",
    "display_name",
    "experiment_id",
    "experiment_name",
    "state",
    "storage_state",
    "created_at",
    "scheduled_at",
    "started_at",
    "finished_at",
    "duration",
    "pipeline_id",
    "pipeline_version_id",
    "recurring_run_id",
    "error",
    "description",
    "service_account",
]

TASK_COLUMNS: list[str] = [
    "task_id",
    "run_id",
    "parent_task_id",
    "name",
    "display_name",
    "type",
    "state",
    "create_time",
    "start_time",
    "end_time",
    "duration",
    "cache_fingerprint",
    "scope_path",
    "error",
    "pod_names",
    "child_task_ids",
    "n_inputs",
    "n_outputs",
    "input_artifacts",
    "output_artifacts",
    "execution_id",
    "input_artifact_ids",
    "output_artifact_ids",
]

HISTORY_COLUMNS: list[str] = ["state", "update_time", "error"]

PARAM_PREFIX = "param."

_UNSPECIFIED = "RUNTIME_STATE_UNSPECIFIED"
_STORAGE_UNSPECIFIED = "STORAGE_STATE_UNSPECIFIED"
_STORAGE_KNOWN = (*_states.STORAGE_STATES, _STORAGE_UNSPECIFIED)
_TASK_TYPES = (
    "ROOT",
    "RUNTIME",
    "CONDITION_BRANCH",
    "CONDITION",
    "LOOP",
    "EXIT_HANDLER",
    "IMPORTER",
    "DAG",
)
_PR_ONLY_FIELDS = (
    "name",
    "pods",
    "scope_path",
    "type",
    "type_attributes",
    "status_metadata",
    "cache_fingerprint",
)
#: Fields copied as sent, and the columns computed from several fields.
_RUN_FIELDS = (
    "run_id", "display_name", "experiment_id", "state", "storage_state",
    "created_at", "scheduled_at", "finished_at", "recurring_run_id",
    "description", "service_account", "namespace",
)
_RUN_DERIVED = ("started_at", "pipeline_id", "pipeline_version_id", "error")
_RUN_TAIL = (
    "pipeline_id", "pipeline_version_id", "recurring_run_id", "error",
    "description", "service_account",
)
_TASK_FIELDS = (
    "task_id", "run_id", "parent_task_id", "name", "display_name", "state",
    "create_time", "end_time", "cache_fingerprint", "scope_path", "execution_id",
)
_TASK_DERIVED = (
    "type", "start_time", "error", "pod_names", "child_task_ids", "inputs", "outputs",
)
_EPOCH = pd.Timestamp(0, tz="UTC")
_GO_ZERO = datetime(1, 1, 1)
_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")
_TIME_DTYPE = "datetime64[ns, UTC]"
_NOT_RFC3339 = "is not an RFC 3339 timestamp"
_OUT_OF_RANGE = "is outside the years 1677-2262 that pandas can hold"
_SHOWN = 5


#: Unreadable cells found while building one frame: row, id, column, value, why.
_Unparsed = list[dict[str, Any]]


# -- runs -------------------------------------------------------------------


def runs_frame(
    runs: Iterable[Mapping[str, Any]],
    *,
    experiment_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per run: the columns of :data:`RUN_COLUMNS`, then ``param.*``."""
    cols: dict[str, list[Any]] = {
        name: [] for name in (*_RUN_FIELDS, *_RUN_DERIVED)
    }
    params: dict[str, tuple[list[int], list[Any]]] = {}
    for row, raw in enumerate(runs):
        run = _as_dict(raw, "run", row)
        _collect_run(run, cols)
        config = run.get("runtime_config")
        values = config.get("parameters") if isinstance(config, dict) else None
        if isinstance(values, dict):
            for name, value in values.items():
                rows, vals = params.setdefault(name, ([], []))
                rows.append(row)
                vals.append(value)
    return _build_runs(cols, params, experiment_names or {})


def _collect_run(run: Mapping[str, Any], cols: dict[str, list[Any]]) -> None:
    get = run.get
    for name in _RUN_FIELDS:
        cols[name].append(get(name))
    ref = get("pipeline_version_reference") or get("pipeline_reference")
    ref = ref if isinstance(ref, dict) else {}
    cols["pipeline_id"].append(ref.get("pipeline_id"))
    cols["pipeline_version_id"].append(
        ref.get("pipeline_version_id") or get("pipeline_version_id")
    )
    history = _list(get("state_history"))
    cols["started_at"].append(_last_running(history))
    cols["error"].append(_message(get("error")) or _history_error(history))


def _build_runs(
    cols: dict[str, list[Any]],
    params: dict[str, tuple[list[int], list[Any]]],
    experiment_names: Mapping[str, str],
) -> pd.DataFrame:
    ids = cols["run_id"]
    bad: _Unparsed = []
    out: dict[str, Any] = {}
    for name in ("run_id", "display_name", "experiment_id"):
        out[name] = _text(cols[name])
    names = [experiment_names.get(e) if e else None for e in cols["experiment_id"]]
    out["experiment_name"] = _text(names)
    out["state"] = _category(
        cols["state"], _states.RUN_STATES, _states.RUN_STATE_NUMBERS, _UNSPECIFIED
    )
    out["storage_state"] = _category(
        cols["storage_state"],
        _STORAGE_KNOWN,
        _states.STORAGE_STATE_NUMBERS,
        _STORAGE_UNSPECIFIED,
    )
    for name in ("created_at", "scheduled_at", "started_at", "finished_at"):
        out[name] = _times(cols[name], column=name, ids=ids, what="run", bad=bad)
    out["duration"] = _duration(
        out["finished_at"], out["started_at"], out["created_at"]
    )
    for name in _RUN_TAIL:
        out[name] = _text(cols[name])
    if any(v is not None and v != "" for v in cols["namespace"]):
        out["namespace"] = _text(cols["namespace"])
    size = len(ids)
    for name in sorted(params):
        rows, values = params[name]
        out[PARAM_PREFIX + name] = _param_column(rows, values, size)
    return _report(pd.DataFrame(out, index=pd.RangeIndex(size)), bad, "run")


def _param_column(rows: list[int], values: list[Any], size: int) -> Any:
    """One parameter's values, typed from the kinds of values present."""
    present = [(r, v) for r, v in zip(rows, values) if v is not None]
    kinds = {type(v) for _, v in present}
    dtype = _param_dtype(kinds, [v for _, v in present])
    if dtype is None:
        column = np.full(size, None, dtype=object)
        for r, v in present:
            column[r] = v  # one by one: dict and list values stay whole
        return column
    filled: list[Any] = [None] * size
    for r, v in present:
        filled[r] = v
    return pd.array(filled, dtype=dtype)


def _param_dtype(kinds: set[type], values: list[Any]) -> str | None:
    if not kinds:
        return None
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        low, high = min(values), max(values)
        return "Int64" if -(2**63) <= low and high < 2**63 else None
    if kinds <= {int, float}:
        return "Float64"
    if kinds == {str}:
        return "string"
    return None


# -- tasks ------------------------------------------------------------------


def tasks_frame(tasks: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per task, in either task schema: the columns of :data:`TASK_COLUMNS`."""
    cols: dict[str, list[Any]] = {
        name: [] for name in (*_TASK_FIELDS, *_TASK_DERIVED)
    }
    for row, raw in enumerate(tasks):
        _collect_task(_as_dict(raw, "task", row), cols)
    return _build_tasks(cols)


def _collect_task(task: Mapping[str, Any], cols: dict[str, list[Any]]) -> None:
    get = task.get
    for name in _TASK_FIELDS:
        cols[name].append(get(name))
    history = _list(get("state_history"))
    cols["type"].append(_task_type(task))
    cols["start_time"].append(get("start_time") or _last_running(history))
    cols["error"].append(_task_error(task, history))
    cols["pod_names"].append(_pod_names(task))
    cols["child_task_ids"].append(_child_ids(task))
    cols["inputs"].append(_io_summary(task, "inputs"))
    cols["outputs"].append(_io_summary(task, "outputs"))


def _task_type(task: Mapping[str, Any]) -> str | None:
    kind = task.get("type")
    if isinstance(kind, int) and not isinstance(kind, bool):
        return _TASK_TYPES[kind] if 0 <= kind < len(_TASK_TYPES) else str(kind)
    if kind:
        return kind
    if _is_pr_task(task) and not task.get("parent_task_id"):
        return "ROOT"
    return None


def _is_pr_task(task: Mapping[str, Any]) -> bool:
    if any(field in task for field in _PR_ONLY_FIELDS):
        return True
    for field in ("inputs", "outputs"):
        io = task.get(field)
        if isinstance(io, dict) and not _is_map_io(io):
            return True
    return False


def _is_map_io(io: dict[str, Any]) -> bool:
    """HEAD's ``{key: {"artifact_ids": [...]}}`` rather than the PR's lists."""
    for field in ("artifacts", "parameters"):
        value = io.get(field)
        if field in io and not (isinstance(value, dict) and "artifact_ids" in value):
            return False  # a PR list, or {} / null standing for an empty one
    return bool(io) and all(isinstance(v, dict) for v in io.values())


def _task_error(task: Mapping[str, Any], history: list[Any]) -> str | None:
    message = _message(task.get("error")) or _history_error(history)
    if message:
        return message
    meta = task.get("status_metadata")
    if task.get("state") == "FAILED" and isinstance(meta, dict):
        return meta.get("message") or None
    return None


def _pod_names(task: Mapping[str, Any]) -> list[str] | None:
    if "pods" not in task and "pod_name" not in task:
        return None
    names = [p.get("name") for p in _list(task.get("pods")) if isinstance(p, dict)]
    names.append(task.get("pod_name"))
    return [n for n in names if n]


def _child_ids(task: Mapping[str, Any]) -> list[str] | None:
    if "child_tasks" not in task:
        return None
    children = [c for c in _list(task.get("child_tasks")) if isinstance(c, dict)]
    ids = [c.get("task_id") or c.get("pod_name") for c in children]
    return [i for i in ids if i]


def _io_summary(task: Mapping[str, Any], field: str) -> tuple | None:
    """``(keys, artifact ids, artifact count)`` of inputs or outputs; None if absent."""
    io = task.get(field)
    if io is None:
        return None
    if not isinstance(io, dict):
        raise ValueError(
            f"task {task.get('task_id')!r}: {field} should be an object, got {io!r}"
        )
    if _is_map_io(io):
        groups = [(key, _list(group.get("artifact_ids"))) for key, group in io.items()]
    else:
        groups = [
            (group.get("artifact_key"),
             [a.get("artifact_id") if isinstance(a, dict) else None
              for a in _list(group.get("artifacts"))])
            for group in _list(io.get("artifacts"))
            if isinstance(group, dict)
        ]
    keys = list(dict.fromkeys(key for key, _ in groups if key))
    ids = [_artifact_id(i) for _, group_ids in groups for i in group_ids if i]
    return keys, ids, sum(len(group_ids) for _, group_ids in groups)


def _artifact_id(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _build_tasks(cols: dict[str, list[Any]]) -> pd.DataFrame:
    ids = cols["task_id"]
    bad: _Unparsed = []
    out: dict[str, Any] = {}
    for name in ("task_id", "run_id", "parent_task_id", "name", "display_name"):
        out[name] = _text(cols[name])
    out["type"] = _text(cols["type"])
    out["state"] = _category(
        cols["state"], _states.TASK_STATES, _states.TASK_STATE_NUMBERS, _UNSPECIFIED
    )
    for name in ("create_time", "start_time", "end_time"):
        out[name] = _times(cols[name], column=name, ids=ids, what="task", bad=bad)
    out["duration"] = _duration(out["end_time"], out["start_time"], out["create_time"])
    for name in ("cache_fingerprint", "scope_path", "error"):
        out[name] = _text(cols[name])
    out["pod_names"] = _objects(cols["pod_names"])
    out["child_task_ids"] = _objects(cols["child_task_ids"])
    inputs, outputs = cols["inputs"], cols["outputs"]
    out["n_inputs"] = _counts(inputs)
    out["n_outputs"] = _counts(outputs)
    out["input_artifacts"] = _objects([s and s[0] for s in inputs])
    out["output_artifacts"] = _objects([s and s[0] for s in outputs])
    out["execution_id"] = _int64(cols["execution_id"], ids, bad)
    out["input_artifact_ids"] = _objects([s and s[1] for s in inputs])
    out["output_artifact_ids"] = _objects([s and s[1] for s in outputs])
    return _report(pd.DataFrame(out, index=pd.RangeIndex(len(ids))), bad, "task")


def _counts(summaries: list[Any]) -> Any:
    return pd.array([None if s is None else s[2] for s in summaries], "Int64")


def _int64(values: list[Any], ids: list[Any], bad: _Unparsed) -> Any:
    numbers: list[int | None] = []
    for row, value in enumerate(values):
        number = _int64_value(value)
        if number is None and value is not None and value != "":
            _note(bad, row, ids, "task", "execution_id", value, "is not an int64")
        numbers.append(number)
    return pd.array(numbers, dtype="Int64")


def _int64_value(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if -(2**63) <= number < 2**63 else None


# -- state histories --------------------------------------------------------


def task_state_history(tasks: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Long table of task state changes: ``task_id, state, update_time, error``.

    One row per ``state_history`` entry, in the order sent; a task without a
    history gives no row.
    """
    return _history(tasks, "task", _states.TASK_STATES, _states.TASK_STATE_NUMBERS)


def run_state_history(runs: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Long table of run state changes: ``run_id, state, update_time, error``."""
    return _history(runs, "run", _states.RUN_STATES, _states.RUN_STATE_NUMBERS)


def _history(
    items: Iterable[Mapping[str, Any]],
    what: str,
    known: tuple[str, ...],
    numbers: Mapping[int, str],
) -> pd.DataFrame:
    id_key = f"{what}_id"
    ids: list[Any] = []
    states: list[Any] = []
    times: list[Any] = []
    errors: list[Any] = []
    for row, raw in enumerate(items):
        item = _as_dict(raw, what, row)
        for entry in _list(item.get("state_history")):
            if not isinstance(entry, dict):
                continue
            ids.append(item.get(id_key))
            states.append(entry.get("state"))
            times.append(entry.get("update_time"))
            errors.append(_message(entry.get("error")))
    bad: _Unparsed = []
    frame = pd.DataFrame(
        {
            id_key: _text(ids),
            "state": _category(states, known, numbers, _UNSPECIFIED),
            "update_time": _times(
                times, column="update_time", ids=ids, what=what, bad=bad
            ),
            "error": _text(errors),
        },
        index=pd.RangeIndex(len(ids)),
    )
    return _report(frame, bad, what)


# -- shared column builders -------------------------------------------------


def _as_dict(item: Any, what: str, row: int) -> Mapping[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "model_dump"):  # a kfp_nb wire model: back to wire JSON
        from ._models import to_wire

        return to_wire(item)
    raise TypeError(
        f"{what} #{row} is a {type(item).__name__}, not the JSON object the "
        f"server sends; pass the {what} dicts of the response"
    )


def _list(value: Any) -> list[Any]:
    # The gateway writes {} or null where a list is empty.
    return value if isinstance(value, list) else []


def _message(status: Any) -> str | None:
    if isinstance(status, dict):
        return status.get("message") or None
    return None


def _last_running(history: list[Any]) -> Any:
    for entry in reversed(history):
        # By name only: the number of RUNNING differs between run and task enums.
        if isinstance(entry, dict) and entry.get("state") == "RUNNING":
            return entry.get("update_time")
    return None


def _history_error(history: list[Any]) -> str | None:
    # Only the latest entry counts: an error from before a successful retry is
    # history, not the run's error.
    for entry in reversed(history):
        if isinstance(entry, dict):
            return _message(entry.get("error")) or None
    return None


def _text(values: list[Any]) -> Any:
    array = np.array(values, dtype=object) if values else np.empty(0, dtype=object)
    if array.ndim != 1:  # values that are lists themselves
        array = _objects(values)
    array[array == ""] = None
    return pd.array(array, dtype="string")


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        array[i] = v  # one by one so lists stay whole cells
    return array


def _category(
    values: list[Any],
    known: tuple[str, ...],
    numbers: Mapping[int, str],
    missing: str,
) -> pd.Categorical:
    names = [
        missing
        if v is None or v == ""
        else numbers.get(v, str(v))
        if isinstance(v, int) and not isinstance(v, bool)
        else str(v)
        for v in values
    ]
    unknown = sorted(set(names).difference(known))
    return pd.Categorical(names, categories=[*known, *unknown])


def _times(
    values: list[Any], *, column: str, ids: list[Any], what: str, bad: _Unparsed
) -> Any:
    """RFC 3339 values → ``datetime64[ns, UTC]``; unset forms → NaT.

    A value that cannot be read is NaT too, and is noted in ``bad``.
    """
    kinds = set(map(type, values))
    if not all(k is str or k is type(None) or issubclass(k, datetime) for k in kinds):
        values = list(values)
        for row, value in enumerate(values):
            if not isinstance(value, (str, datetime, type(None))):
                _note(bad, row, ids, what, column, value, _NOT_RFC3339)
                values[row] = None
    array = np.array(values, dtype=object) if values else np.empty(0, dtype=object)
    parsed = pd.to_datetime(array, utc=True, format="ISO8601", errors="coerce")
    parsed = pd.DatetimeIndex(parsed)
    # Outside 1677–2262 a value has no nanosecond form (pandas parses it at a
    # coarser unit, or, in pandas 2, not at all).
    outside = parsed.notna() & ((parsed < _NS_MIN) | (parsed > _NS_MAX))
    failed = parsed.isna() & ~(pd.isna(array) | (array == ""))
    if failed.any() or outside.any():
        zero = np.array([_is_go_zero(v) for v in values], dtype=bool)
        for problem, mask in ((_NOT_RFC3339, failed), (_OUT_OF_RANGE, outside)):
            for row in np.flatnonzero(mask & ~zero):
                _note(bad, int(row), ids, what, column, values[row], problem)
        parsed = parsed.where(~(outside | zero))
    parsed = parsed.as_unit("ns")
    return pd.array(parsed.where(parsed != _EPOCH), dtype=_TIME_DTYPE)


def _is_go_zero(value: Any) -> bool:
    """Go's zero time, another "not set" written by some producers."""
    if isinstance(value, str):
        return value.startswith("0001-01-01T00:00:00")
    return isinstance(value, datetime) and value.replace(tzinfo=None) == _GO_ZERO


def _note(
    bad: _Unparsed,
    row: int,
    ids: list[Any],
    what: str,
    column: str,
    value: Any,
    problem: str,
) -> None:
    bad.append(
        {"row": row, f"{what}_id": ids[row], "column": column, "value": value,
         "problem": problem}
    )


def _report(frame: pd.DataFrame, bad: _Unparsed, what: str) -> pd.DataFrame:
    """Keep unreadable values in ``attrs["unparsed"]`` and warn once about them."""
    if not bad:
        return frame
    frame.attrs["unparsed"] = bad
    shown = "; ".join(
        f"{what} {b[f'{what}_id']!r} {b['column']} {b['value']!r} {b['problem']}"
        for b in bad[:_SHOWN]
    )
    more = f"; and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    warnings.warn(
        f"{len(bad)} value(s) could not be read and are shown as NaT/<NA>: "
        f"{shown}{more}. The raw values are in df.attrs['unparsed'] "
        "(expected times like '2024-05-01T12:00:00Z').",
        UnparsedValueWarning,
        stacklevel=_user_stacklevel(),
    )
    return frame


def _duration(end: Any, start: Any, created: Any) -> Any:
    end = pd.Series(end)
    begin = pd.Series(start).fillna(pd.Series(created))
    spent = end - begin
    spent = spent.where(spent >= pd.Timedelta(0))
    return pd.array(spent.astype("timedelta64[ns]"))
