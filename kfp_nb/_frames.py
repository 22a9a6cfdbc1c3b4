"""Runs and tasks, as the server sends them, → pandas DataFrames.

The input is wire JSON (dicts) exactly as a KFP server writes it (SEMANTICS.md
§1, §8): fields left out when empty, ``{}`` or ``null`` for lists, int64 as
strings, unknown enum values, and the 1970 epoch meaning "not set".

Listings are read page by page: :class:`RunColumns` / :class:`TaskColumns` take
each page's dicts (``extend``), and every few pages turn what they hold into
typed column chunks (Arrow text, int64 times, categorical codes), so the dicts
can go and memory holds columns; ``frame()`` joins the chunks once. The
functions :func:`runs_frame` and :func:`tasks_frame` are the same on a list.

Rules shared by every frame:

- **Index**: a default ``RangeIndex`` in input order; ``run_id`` / ``task_id``
  are ordinary columns (ids repeat when frames of several listings are joined).
- **Text**: pandas ``string`` dtype. The server leaves empty strings out, so an
  empty string and a missing field both become ``<NA>``. Text is kept verbatim
  (HTML, emoji); pandas escapes it in ``to_html``. Limitation: a lone
  surrogate (only an invalid ``\\ud800`` escape makes one) shows as U+FFFD,
  as Arrow text is UTF-8.
- **Times**: ``datetime64[ns, UTC]``, all parsed with one rule,
  ``pd.to_datetime(values, utc=True, format="ISO8601")``: any RFC 3339 offset is
  converted to UTC, a string without a zone is taken as UTC, nanoseconds are
  kept, and the "not set" forms become ``NaT``: the epoch instant in any
  spelling, Go's zero time ``0001-01-01T00:00:00Z``, ``""`` and ``None``.
  Python ``datetime`` objects are accepted too (naive = UTC). The few values
  that rule refuses are read one by one as :func:`kfp_nb._models.parse_timestamp`
  reads them, so the frame and ``get_run`` agree on what a time is (RFC 3339's
  lowercase ``t`` / ``z`` included).
- **Unreadable values** never hide the other rows: a time that is malformed
  or outside 1677–2262 (a valid time, which the server accepts up to
  ``9999-12-31``, that a ``datetime64[ns]`` column cannot hold), or an
  ``execution_id`` that is not an int64, becomes ``NaT`` / ``<NA>``, and one
  :class:`UnparsedValueWarning` per frame names the rows' ids, the columns and
  the raw values, and says which of the two a time is. The raw values stay in
  ``df.attrs["unparsed"]``: a list of ``{"row", "<run|task>_id", "column",
  "value", "problem"}`` dicts (absent when every value was read).
  Limitation: a time that is no time at all (``2026-02-30``, ``T24:00:00``, a
  bare number such as ``1767225600``) is NaT plus a warning here, while
  ``get_run`` / ``iter_runs`` raise ``ResponseFormatError`` naming the run, the
  field and the value — the pydantic models stay strict because the embedded
  server validates what it stores with them.
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

import re
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import islice
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import _states
from ._filters import _user_stacklevel
from ._models import parse_timestamp
from ._warnings import UnparsedValueWarning

__all__ = [
    "RUN_COLUMNS",
    "TASK_COLUMNS",
    "RunColumns",
    "TaskColumns",
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
_RUN_TIMES = ("created_at", "scheduled_at", "started_at", "finished_at")
_TASK_TIMES = ("create_time", "start_time", "end_time")
#: Rows converted at once: at least this many, else a quarter of those held.
_CHUNK_MIN = 1000
_CHUNK_SHARE = 4
_BATCH = 1000
#: A read-only empty object standing for a missing one.
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_SURROGATE = re.compile("[\ud800-\udfff]")
_EPOCH = pd.Timestamp(0, tz="UTC")
_GO_ZERO = datetime(1, 1, 1)
_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")
_TIME_DTYPE = "datetime64[ns, UTC]"
_NOT_RFC3339 = "is not an RFC 3339 timestamp"
_OUT_OF_RANGE = (
    "is a valid time, but outside the years 1677-2262 that a datetime64[ns] "
    "column can hold"
)
_SHOWN = 5


#: Unreadable cells found while building one frame: row, id, column, value, why.
_Unparsed = list[dict[str, Any]]


# -- column accumulators -----------------------------------------------------


class _Columns:
    """Rows fed page by page, held as typed column chunks instead of dicts.

    Every few pages the pending raw values are converted to compact arrays, so a
    listing's dicts can be dropped after each page and memory holds columns.
    Chunks grow with the rows held (a quarter of them, at least
    ``_CHUNK_MIN``): few conversions on long listings, a small pending part on
    short ones. :meth:`frame` joins the chunks; the rules are the module's.
    """

    _what = ""
    #: Categorical columns → their known values, in order.
    _categories: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Columns whose unreadable values are noted, in the order they are reported.
    _noted: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._chunks: list[dict[str, Any]] = []
        self._done = 0
        self._waiting = 0
        self._pending = self._new_pending()
        self._bad: _Unparsed = []
        self._used = False

    def __len__(self) -> int:
        return self._done + self._waiting

    def extend(self, items: Iterable[Any]) -> None:
        """Add rows (wire JSON dicts, such as one page of a listing)."""
        self._check_unused()
        rows = iter(items)
        while batch := list(islice(rows, _BATCH)):
            if any(type(item) is not dict for item in batch):
                first = len(self)
                batch = [
                    _as_dict(item, self._what, first + i)
                    for i, item in enumerate(batch)
                ]
            self._add(batch)
            self._waiting += len(batch)
            if self._waiting >= max(_CHUNK_MIN, self._done // _CHUNK_SHARE):
                self._flush()

    def frame(self) -> pd.DataFrame:
        """The frame of every row added (once: the chunks are released)."""
        self._check_unused()
        if self._waiting or not self._chunks:
            self._flush()
        self._used = True
        chunks, self._chunks = self._chunks, []
        out: dict[str, Any] = {}
        for name in list(chunks[0]):
            parts = [chunk.pop(name) for chunk in chunks]
            known = self._categories.get(name)
            if known is None:
                out[name] = _join(parts)
            else:
                out[name] = _join_categories(parts, known)
            del parts  # each column's chunks go before the next is joined
        out = self._finish(out)
        order = {name: rank for rank, name in enumerate(self._noted)}
        bad = sorted(self._bad, key=lambda b: (order[b["column"]], b["row"]))
        frame = pd.DataFrame(out, index=pd.RangeIndex(self._done), copy=False)
        return _report(frame, bad, self._what)

    def _check_unused(self) -> None:
        if self._used:
            raise RuntimeError(
                f"these {self._what} columns already made their frame; start new ones"
            )

    def _flush(self) -> None:
        bad: _Unparsed = []
        chunk = self._convert(self._pending, bad)
        for note in bad:
            note["row"] += self._done
        self._bad.extend(bad)
        self._chunks.append(chunk)
        self._done += self._waiting
        self._waiting = 0
        self._pending = self._new_pending()

    def _new_pending(self) -> dict[str, Any]:
        raise NotImplementedError

    def _add(self, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _convert(self, pending: dict[str, Any], bad: _Unparsed) -> dict[str, Any]:
        raise NotImplementedError

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        return out


def _join(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    # Arrow-backed strings join as chunks, without a copy.
    return type(parts[0])._concat_same_type(parts)


def _join_categories(parts: list[pd.Categorical], known: tuple[str, ...]) -> Any:
    """Known values in order, then every unknown one seen, sorted."""
    seen = set().union(*(part.categories for part in parts))
    dtype = pd.CategoricalDtype([*known, *sorted(seen.difference(known))])
    codes = [part.set_categories(dtype.categories).codes for part in parts]
    return pd.Categorical.from_codes(_join(codes), dtype=dtype)


# -- runs -------------------------------------------------------------------


class RunColumns(_Columns):
    """Runs (wire JSON) gathered into the columns of :func:`runs_frame`.

    ``extend`` takes a page at a time, so a listing never holds all its dicts;
    ``frame`` gives the frame of every run added.
    """

    _what = "run"
    _categories: ClassVar = {
        "state": _states.RUN_STATES,
        "storage_state": _STORAGE_KNOWN,
    }
    _noted = _RUN_TIMES

    def __init__(self, *, experiment_names: Mapping[str, str] | None = None) -> None:
        self.experiment_names: Mapping[str, str] = experiment_names or {}
        self._param_chunks: list[tuple[int, dict[str, _ParamPart]]] = []
        self._has_namespace = False
        super().__init__()

    def _new_pending(self) -> dict[str, Any]:
        self._params: dict[str, list[Any]] = {}
        return {name: [] for name in (*_RUN_FIELDS, *_RUN_DERIVED)}

    def _add(self, runs: list[dict[str, Any]]) -> None:
        cols = self._pending
        for name in _RUN_FIELDS:
            cols[name] += [run.get(name) for run in runs]
        refs = [
            run.get("pipeline_version_reference") or run.get("pipeline_reference")
            for run in runs
        ]
        refs = [ref if isinstance(ref, dict) else _NOTHING for ref in refs]
        cols["pipeline_id"] += [ref.get("pipeline_id") for ref in refs]
        cols["pipeline_version_id"] += [
            ref.get("pipeline_version_id") or run.get("pipeline_version_id")
            for ref, run in zip(refs, runs)
        ]
        facts = [_history_facts(run.get("state_history")) for run in runs]
        cols["started_at"] += [started for started, _ in facts]
        errors = [run.get("error") for run in runs]
        cols["error"] += [
            (error.get("message") if isinstance(error, dict) else None) or last
            for error, (_, last) in zip(errors, facts)
        ]
        configs = [run.get("runtime_config") for run in runs]
        found = [c.get("parameters") if isinstance(c, dict) else None for c in configs]
        self._add_params([f if isinstance(f, dict) else _NOTHING for f in found])

    def _add_params(self, found: list[Mapping[str, Any]]) -> None:
        """One dense list per parameter name, ``None`` where a run has none."""
        columns = self._params
        for name in set().union(*found).difference(columns):
            columns[name] = [None] * self._waiting
        for name, values in columns.items():
            values += [params.get(name) for params in found]

    def _convert(self, cols: dict[str, Any], bad: _Unparsed) -> dict[str, Any]:
        ids = cols["run_id"]
        out: dict[str, Any] = {}
        for name in ("run_id", "display_name", "experiment_id"):
            out[name] = _text(cols[name])
        out["state"] = _category_part(
            cols["state"], _states.RUN_STATE_NUMBERS, _UNSPECIFIED
        )
        out["storage_state"] = _category_part(
            cols["storage_state"], _states.STORAGE_STATE_NUMBERS, _STORAGE_UNSPECIFIED
        )
        for name in _RUN_TIMES:
            out[name] = _times(cols[name], column=name, ids=ids, what="run", bad=bad)
        out["duration"] = _duration(
            out["finished_at"], out["started_at"], out["created_at"]
        )
        for name in _RUN_TAIL:
            out[name] = _text(cols[name])
        namespaces = cols["namespace"]
        out["namespace"] = _text(namespaces)
        self._has_namespace = self._has_namespace or any(
            v is not None and v != "" for v in namespaces
        )
        params = {name: _ParamPart.of(values) for name, values in self._params.items()}
        self._param_chunks.append((len(ids), params))
        return out

    def _finish(self, out: dict[str, Any]) -> dict[str, Any]:
        out["experiment_name"] = _experiment_names(
            out["experiment_id"], self.experiment_names
        )
        frame = {name: out[name] for name in RUN_COLUMNS}
        if self._has_namespace:
            frame["namespace"] = out["namespace"]
        chunks, self._param_chunks = self._param_chunks, []
        for name in sorted(set().union(*(params for _, params in chunks))):
            parts = [(size, params.pop(name, None)) for size, params in chunks]
            frame[PARAM_PREFIX + name] = _ParamPart.join(parts)
        return frame


def runs_frame(
    runs: Iterable[Mapping[str, Any]],
    *,
    experiment_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per run: the columns of :data:`RUN_COLUMNS`, then ``param.*``."""
    columns = RunColumns(experiment_names=experiment_names)
    columns.extend(runs)
    return columns.frame()


def _experiment_names(ids: Any, names: Mapping[str, str]) -> Any:
    """experiment_id → display name, looked up once per distinct id."""
    codes, uniques = pd.factorize(ids)
    found = np.array([*(names.get(u) for u in uniques), None], dtype=object)
    return _text(list(found[codes]))


class _ParamPart:
    """One parameter's values in one chunk: their kinds and a compact array.

    Values of one simple kind are kept typed (bool, int64, float, str); other
    chunks keep the objects, so the final dtype can still be any of them.
    """

    __slots__ = ("array", "fits", "kinds")

    def __init__(self, array: Any, kinds: set[type], fits: bool) -> None:
        self.array, self.kinds, self.fits = array, kinds, fits

    @classmethod
    def of(cls, values: list[Any]) -> _ParamPart:
        present = [v for v in values if v is not None]
        kinds = set(map(type, present))
        dtype = _param_dtype(kinds, present)
        fits = kinds != {int} or dtype is not None
        if len(kinds) == 1 and dtype is not None:
            return cls(_typed(values, dtype, len(present)), kinds, fits)
        return cls(_objects(values), kinds, fits)

    @staticmethod
    def join(parts: list[tuple[int, _ParamPart | None]]) -> Any:
        """The column over all chunks (``(rows, part)``), typed from every value."""
        present = [part for _, part in parts if part is not None]
        kinds = set().union(*(part.kinds for part in present))
        fits = all(part.fits for part in present)
        # Out-of-range ints make an all-int column objects; with floats, Float64.
        dtype = _param_dtype(kinds, []) if fits or kinds != {int} else None
        return _join([_ParamPart._as(part, dtype, size) for size, part in parts])

    @staticmethod
    def _as(part: _ParamPart | None, dtype: str | None, size: int) -> Any:
        if part is None and dtype is None:
            return np.full(size, None, dtype=object)
        if part is None:
            return pd.array([None] * size, dtype=dtype)
        array = part.array
        if dtype is None:
            if isinstance(array, np.ndarray):
                return array
            return array.to_numpy(dtype=object, na_value=None)
        if isinstance(array, np.ndarray):
            return pd.array(array, dtype=dtype)
        return array if array.dtype == dtype else array.astype(dtype)


_NUMPY_KIND = {"Int64": np.int64, "Float64": np.float64, "boolean": np.bool_}
_MASKED = {
    "Int64": pd.arrays.IntegerArray,
    "Float64": pd.arrays.FloatingArray,
    "boolean": pd.arrays.BooleanArray,
}


def _typed(values: list[Any], dtype: str, present: int) -> Any:
    """Values of one kind (and None) as a pandas array of ``dtype``."""
    if dtype == "string":
        strings = _arrow_strings(values)
        if strings is not None:
            return pd.arrays.ArrowStringArray(strings)
        return pd.array(values, dtype=dtype)
    if present == len(values):
        data, mask = np.array(values, dtype=_NUMPY_KIND[dtype]), None
    else:
        mask = np.array([v is None for v in values], dtype=bool)
        data = np.array([0 if v is None else v for v in values], _NUMPY_KIND[dtype])
    return _MASKED[dtype](data, np.zeros(len(values), bool) if mask is None else mask)


def _param_dtype(kinds: set[type], values: list[Any]) -> str | None:
    """The dtype of a parameter's values; ``values`` checks the int64 range."""
    if not kinds:
        return None
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        if not values:
            return "Int64"
        low, high = min(values), max(values)
        return "Int64" if -(2**63) <= low and high < 2**63 else None
    if kinds <= {int, float}:
        return "Float64"
    if kinds == {str}:
        return "string"
    return None


# -- tasks ------------------------------------------------------------------


class TaskColumns(_Columns):
    """Tasks (wire JSON, either schema) gathered into :func:`tasks_frame`'s columns."""

    _what = "task"
    _categories: ClassVar = {"state": _states.TASK_STATES}
    _noted = (*_TASK_TIMES, "execution_id")

    def _new_pending(self) -> dict[str, Any]:
        return {name: [] for name in (*_TASK_FIELDS, *_TASK_DERIVED)}

    def _add(self, tasks: list[dict[str, Any]]) -> None:
        cols = self._pending
        for task in tasks:
            _collect_task(task, cols)

    def _convert(self, cols: dict[str, Any], bad: _Unparsed) -> dict[str, Any]:
        return _build_tasks(cols, bad)


def tasks_frame(tasks: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per task, in either task schema: the columns of :data:`TASK_COLUMNS`."""
    columns = TaskColumns()
    columns.extend(tasks)
    return columns.frame()


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


def _build_tasks(cols: dict[str, list[Any]], bad: _Unparsed) -> dict[str, Any]:
    ids = cols["task_id"]
    out: dict[str, Any] = {}
    for name in ("task_id", "run_id", "parent_task_id", "name", "display_name"):
        out[name] = _text(cols[name])
    out["type"] = _text(cols["type"])
    out["state"] = _category_part(
        cols["state"], _states.TASK_STATE_NUMBERS, _UNSPECIFIED
    )
    for name in _TASK_TIMES:
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
    return out


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


def _history_facts(history: Any) -> tuple[Any, str | None]:
    """``(update_time of the last RUNNING entry, error of the latest entry)``.

    :func:`_last_running` and :func:`_history_error` in one pass, for runs.
    """
    if not isinstance(history, list):
        return None, None
    started = error = None
    latest = True
    for entry in reversed(history):
        if isinstance(entry, dict):
            if latest:
                error, latest = _message(entry.get("error")), False
            if entry.get("state") == "RUNNING":
                started = entry.get("update_time")
                break
    return started, error


def _history_error(history: list[Any]) -> str | None:
    # Only the latest entry counts: an error from before a successful retry is
    # history, not the run's error.
    for entry in reversed(history):
        if isinstance(entry, dict):
            return _message(entry.get("error")) or None
    return None


def _text(values: list[Any]) -> Any:
    strings = _arrow_strings(values)
    if strings is not None:
        empty = pc.equal(strings, "")
        if pc.any(empty).as_py():
            strings = pc.if_else(empty, pa.scalar(None, strings.type), strings)
        return pd.arrays.ArrowStringArray(strings)
    array = np.array(values, dtype=object) if values else np.empty(0, dtype=object)
    if array.ndim != 1:  # values that are lists themselves
        array = _objects(values)
    array[array == ""] = None
    try:
        return pd.array(array, dtype="string")
    except UnicodeEncodeError:
        clean = np.array([_no_surrogates(v) for v in array], dtype=object)
        return pd.array(clean, dtype="string")


def _arrow_strings(values: list[Any]) -> pa.Array | None:
    """str/None values as the Arrow array of pandas' ``string`` dtype, when it is one.

    None when pandas keeps strings as objects or a value is not a str; the
    caller then converts with pandas (which also turns numbers into text).
    """
    if pd.StringDtype().storage != "pyarrow":
        return None
    try:
        return pa.array(values, type=pa.large_string())
    except UnicodeEncodeError:
        return _arrow_strings([_no_surrogates(v) for v in values])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _no_surrogates(value: Any) -> Any:
    """A str with lone surrogates (invalid JSON escapes) with U+FFFD in their place.

    Arrow holds UTF-8 only, so pandas' ``string`` dtype cannot keep them.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    return value


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
    return _join_categories([_category_part(values, numbers, missing)], known)


def _category_part(
    values: list[Any], numbers: Mapping[int, str], missing: str
) -> pd.Categorical:
    """Enum names (a number named, missing → ``missing``), categories as seen.

    Each distinct value is named once; rows keep codes into those names.
    """
    array = np.empty(len(values), dtype=object)
    array[:] = values
    codes, uniques = pd.factorize(array)  # None (and a NaN) → -1
    names = [_enum_name(v, numbers, missing) for v in uniques]
    blank = np.flatnonzero(codes < 0)
    if len(blank):
        codes = codes.copy()
        codes[blank] = len(names)
        names.append(missing)
        for row in blank[np.array([v is not None for v in array[blank]], bool)]:
            codes[row] = len(names)  # a NaN (stdlib-read JSON) is named "nan"
            names.append(_enum_name(array[row], numbers, missing))
    categories = list(dict.fromkeys(names))
    position = np.array([categories.index(n) for n in names], dtype=np.int64)
    return pd.Categorical.from_codes(
        position[codes] if len(codes) else codes, categories=categories
    )


def _enum_name(value: Any, numbers: Mapping[int, str], missing: str) -> str:
    if value is None or value == "":
        return missing
    if isinstance(value, int) and not isinstance(value, bool):
        return numbers.get(value, str(value))
    return str(value)


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
    if not (failed.any() or outside.any()):
        parsed = parsed.as_unit("ns")
        return pd.array(parsed.where(parsed != _EPOCH), dtype=_TIME_DTYPE)
    zero = np.array([_is_go_zero(v) for v in values], dtype=bool)
    nanos = parsed.where(~(outside | zero)).as_unit("ns").asi8.copy()
    outside &= ~zero
    # The few values the vectorised parse refused are read one by one, as the
    # models read them: lowercase t/z, or a column at nanoseconds that a
    # far-off time cannot join (it then fails instead of being "outside").
    for row in np.flatnonzero(failed & ~zero):
        found = _one_time(values[row])
        if found is _OUTSIDE:
            outside[row] = True
        elif found is None:
            _note(bad, int(row), ids, what, column, values[row], _NOT_RFC3339)
        else:
            nanos[row] = found
    for row in np.flatnonzero(outside):
        _note(bad, int(row), ids, what, column, values[row], _OUT_OF_RANGE)
    parsed = pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC")
    return pd.array(parsed.where(parsed != _EPOCH), dtype=_TIME_DTYPE)


#: :func:`_one_time` of a valid time that a nanosecond column cannot hold.
_OUTSIDE = object()


def _one_time(value: Any) -> Any:
    """Nanoseconds since the epoch of one value pandas refused, ``_OUTSIDE``, or None.

    Valid means valid for :func:`kfp_nb._models.parse_timestamp` (so the frame
    and ``get_run`` agree); pandas then reads it again, with RFC 3339's
    lowercase ``t``/``z`` made uppercase, to keep its nanoseconds.
    """
    try:
        moment = parse_timestamp(value)
    except ValueError as exc:
        # Past year 9999 once in UTC (9999-12-31T23:59:59-01:00) is still a time.
        return _OUTSIDE if str(exc).startswith("outside") else None
    if moment is None:
        return _EPOCH.value
    if not _NS_MIN <= moment <= _NS_MAX:
        return _OUTSIDE
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(_upper_tz(value))
        except ValueError:
            pass  # a form fromisoformat reads and pandas does not: microseconds
        else:
            stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp
            return stamp.tz_convert("UTC").as_unit("ns").value
    return pd.Timestamp(moment).as_unit("ns").value


def _upper_tz(text: str) -> str:
    """RFC 3339 allows ``t`` and ``z``; pandas' ISO 8601 parser wants ``T``/``Z``."""
    text = text.strip()
    if text[10:11] == "t":
        text = text[:10] + "T" + text[11:]
    return text[:-1] + "Z" if text.endswith("z") else text


def _is_go_zero(value: Any) -> bool:
    """Go's zero time, another "not set" written by some producers."""
    if isinstance(value, str):
        return value[:19].upper() == "0001-01-01T00:00:00"
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
