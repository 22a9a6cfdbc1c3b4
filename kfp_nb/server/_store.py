"""SQLite storage of experiments, runs, tasks and pipelines.

``snapshot_runs`` / ``snapshot_artifacts`` hold what a replayed snapshot adds
(``_replay``): which runs are frozen, and their captured artifact payloads.

Writes go through one connection (stdlib ``sqlite3``, WAL, ``busy_timeout``,
``synchronous=FULL``) under a lock: each is one ``BEGIN IMMEDIATE`` … ``COMMIT``
finished before the response goes out, so an acknowledged write survives a
restart or ``kill -9``. Reads run on pooled connections of their own, each in
one snapshot, beside the writer and each other.

Listing at 100,000 runs stays fast (``benchmarks/server.py``): every sortable
field and the common filters have an index ending in the id, so a page is an
index range that a keyset token seeks into; ``total_size`` is counted once per
scope and filter and reused while the table's change counter (kept by
triggers, so any writer counts) is unchanged; and the DEFAULT view of a run is
written straight from its row (``_direct_run_wire``), with the pydantic models
and ``to_wire`` (:mod:`kfp_nb._models`) as the path for everything else.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import orjson

from .. import _states
from .._models import (
    Experiment,
    Run,
    RuntimeStatus,
    Task,
    format_timestamp,
    to_wire,
)
from ._query import ListQuery

__all__ = ["Store", "now_s"]

DEFAULT_EXPERIMENT_DESCRIPTION = (
    "All runs created without specifying an experiment will be grouped here."
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id TEXT PRIMARY KEY COLLATE NOCASE,
  display_name TEXT NOT NULL COLLATE NOCASE,
  description TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  created_at INTEGER NOT NULL,
  namespace TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  storage_state TEXT NOT NULL DEFAULT 'AVAILABLE' COLLATE NOCASE,
  last_run_created_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pipelines (
  pipeline_version_id TEXT PRIMARY KEY,
  pipeline_id TEXT NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY COLLATE NOCASE,
  experiment_id TEXT NOT NULL COLLATE NOCASE,
  display_name TEXT NOT NULL COLLATE NOCASE,
  description TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  storage_state TEXT NOT NULL COLLATE NOCASE,
  namespace TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  pipeline_spec TEXT,
  pipeline_id TEXT NOT NULL DEFAULT '',
  pipeline_version_id TEXT NOT NULL DEFAULT '',
  runtime_config TEXT,
  service_account TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  scheduled_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL COLLATE NOCASE,
  conditions TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  state_history TEXT NOT NULL DEFAULT '[]' COLLATE NOCASE,
  recurring_run_id TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  runtime_details TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  pipeline_name TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0,
  schedule TEXT,
  next_event REAL
);
-- Every sortable field (SEMANTICS §6) with the id after it, since ties break by
-- id: a page is an index range read in order (no sort), and a keyset token seeks
-- into it (SEARCH). Not indexed: state_history, runtime_details (long JSON).
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_name ON runs (display_name, run_id);
CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at, run_id);
CREATE INDEX IF NOT EXISTS runs_scheduled ON runs (scheduled_at, run_id);
CREATE INDEX IF NOT EXISTS runs_description ON runs (description, run_id);
CREATE INDEX IF NOT EXISTS runs_state ON runs (state, run_id);
CREATE INDEX IF NOT EXISTS runs_storage ON runs (storage_state, run_id);
CREATE INDEX IF NOT EXISTS runs_conditions ON runs (conditions, run_id);
CREATE INDEX IF NOT EXISTS runs_namespace ON runs (namespace, run_id);
CREATE INDEX IF NOT EXISTS runs_experiment_id ON runs (experiment_id, run_id);
CREATE INDEX IF NOT EXISTS runs_recurring ON runs (recurring_run_id, run_id);
-- Common filters and scopes followed by the default sort (and name for state).
-- (A run's namespace is always '' here: single user.)
DROP INDEX IF EXISTS runs_experiment;
CREATE INDEX IF NOT EXISTS runs_experiment_created
  ON runs (experiment_id, created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_state_created ON runs (state, created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_state_name ON runs (state, display_name, run_id);
CREATE INDEX IF NOT EXISTS runs_storage_created
  ON runs (storage_state, created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_next_event ON runs (next_event);
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY COLLATE NOCASE,
  run_id TEXT NOT NULL COLLATE NOCASE,
  plan_name TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  display_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  pods TEXT NOT NULL DEFAULT '[]' COLLATE NOCASE,
  cache_fingerprint TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  create_time INTEGER NOT NULL DEFAULT 0,
  start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0,
  state_num INTEGER NOT NULL DEFAULT 0,
  status_metadata TEXT COLLATE NOCASE,
  state_history TEXT NOT NULL DEFAULT '[]' COLLATE NOCASE,
  type_num INTEGER NOT NULL DEFAULT 0,
  type_attributes TEXT COLLATE NOCASE,
  error TEXT,
  parent_task_id TEXT COLLATE NOCASE,
  inputs TEXT NOT NULL DEFAULT '{}' COLLATE NOCASE,
  outputs TEXT NOT NULL DEFAULT '{}' COLLATE NOCASE,
  scope_path TEXT NOT NULL DEFAULT '' COLLATE NOCASE
);
CREATE INDEX IF NOT EXISTS tasks_run ON tasks (run_id, create_time);
CREATE INDEX IF NOT EXISTS tasks_parent ON tasks (parent_task_id);
CREATE TABLE IF NOT EXISTS snapshot_runs (run_id TEXT PRIMARY KEY COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS snapshot_artifacts (
  run_id TEXT NOT NULL COLLATE NOCASE,
  task_id TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '',
  data BLOB,
  PRIMARY KEY (run_id, task_id, name)
);
-- A change counter per listable table, bumped by triggers on every row change
-- (by any connection or process), so a cached total_size is reused only while
-- the table is unchanged in the reading transaction's snapshot.
CREATE TABLE IF NOT EXISTS list_generation (
  name TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO list_generation(name) VALUES ('runs'), ('experiments'),
  ('tasks');
"""

_LISTED_TABLES = ("runs", "experiments", "tasks")
_TRIGGERS = "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_generation "
    f"AFTER {event} ON {table} BEGIN UPDATE list_generation SET n = n + 1 "
    f"WHERE name = '{table}'; END;\n"
    for table in _LISTED_TABLES
    for event in ("INSERT", "UPDATE", "DELETE")
)

TASK_STATE_NUMBER = {name: num for num, name in _states.TASK_STATE_NUMBERS.items()}
TASK_TYPES = (
    "ROOT", "RUNTIME", "CONDITION_BRANCH", "CONDITION", "LOOP", "EXIT_HANDLER",
    "IMPORTER", "DAG",
)  # fmt: skip


#: Idle reader connections kept open: one per request thread (Starlette runs
#: handlers on anyio's 40 worker threads), so a busy server opens none anew.
_IDLE_READERS = 40
#: Page cache of the writing connection (readers keep SQLite's default 2 MiB).
_WRITER_CACHE_KIB = 65_536
#: Planner statistics are gathered at open once the runs table holds this many.
_ANALYZE_MIN_ROWS = 1000
#: total_size values remembered (per table, scope and filter; oldest dropped).
_CACHED_COUNTS = 256
#: Extra columns of a listing page: a run's task_count in the same statement.
_PAGE_EXTRA = {
    "runs": ", (SELECT COUNT(*) FROM tasks WHERE tasks.run_id = runs.run_id) "
    "AS task_count"
}


def now_s() -> int:
    """Server clock in whole seconds, as the real server stores times."""
    return int(time.time())


def _ts(seconds: float | None) -> str | None:
    if not seconds:
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()


def _json(text: str | None, default: Any = None) -> Any:
    return default if text is None or text == "" else json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Unusual(Exception):
    """A stored value ``_direct_run_wire`` leaves to the model path."""


#: 10000-01-01T00:00:00Z: later times do not fit RFC 3339 (the model refuses them).
_MAX_SECONDS = 253_402_300_800
_EPOCH_TEXT = "1970-01-01T00:00:00Z"
_PLAIN_TIME = re.compile(
    r"([1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(?:\+00:00|Z)"
)
#: orjson reads an integer literal past 64 bits as a float this large; ``json``
#: (the model path) keeps it an exact int.
_INEXACT = float(2**63)
_RUN_TEXT = ("experiment_id", "run_id", "display_name", "storage_state")
_HISTORY_KEYS = frozenset({"update_time", "state", "error"})
_STATUS_KEYS = frozenset({"code", "message"})
_CONFIG_KEYS = frozenset({"parameters", "pipeline_root"})


def _seconds_text(value: Any) -> str:
    """A stored whole-second time as the wire writes it (0 → the 1970 epoch)."""
    if type(value) is not int or not 0 <= value < _MAX_SECONDS:
        raise _Unusual
    if not value:
        return _EPOCH_TEXT
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))


def _history_time(text: Any) -> str | None:
    """A stored ``update_time`` → wire text (None: left out), as the model does.

    UTC times (``Z`` or ``+00:00``, up to 9 fraction digits, as this server
    and real ones write them) take a shortcut; anything else (other offsets,
    Go's zero time) is read by the model's own field. A ValueError sends the
    run to the model path, which raises it in its own words.
    """
    found = _PLAIN_TIME.fullmatch(text) if type(text) is str else None
    if found is None:
        when = RuntimeStatus.model_validate({"update_time": text}).update_time
        return None if when is None else format_timestamp(when)
    base, fraction = found.groups()
    datetime.fromisoformat(base)  # checks the ranges (month 13 is refused)
    micros = int(fraction[:6].ljust(6, "0")) if fraction else 0
    if not micros:
        return None if base == "1970-01-01T00:00:00" else base + "Z"
    # Digits past microseconds are dropped; fractions in groups of 3 digits.
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}Z"


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Unusual
    return value


def _status_wire(value: Any) -> dict[str, Any]:
    if type(value) is not dict or not value.keys() <= _STATUS_KEYS:
        raise _Unusual
    out: dict[str, Any] = {}
    code, message = value.get("code"), value.get("message")
    if code is not None:
        if type(code) is not int:
            raise _Unusual
        if code:
            out["code"] = code
    if message is not None and _text(message):
        out["message"] = message
    return out


def _history_wire(text: str | None) -> list[dict[str, Any]]:
    # orjson is exact here: a number past 64 bits could only stand where an
    # int or a string is expected (or under an unknown key), which is _Unusual.
    entries = [] if text is None or text == "" else orjson.loads(text)
    if entries is None or entries == {}:
        return []
    if type(entries) is not list:
        raise _Unusual
    out = []
    for entry in entries:
        if type(entry) is not dict or not entry.keys() <= _HISTORY_KEYS:
            raise _Unusual
        item: dict[str, Any] = {}
        when = entry.get("update_time")
        if when is not None:
            when = _history_time(when)
            if when:
                item["update_time"] = when
        state = entry.get("state")
        if state is not None and _text(state):
            item["state"] = state
        error = entry.get("error")
        if error is not None:
            error = _status_wire(error)
            if error:
                item["error"] = error
        out.append(item)
    return out


def _config_wire(text: str | None) -> dict[str, Any] | None:
    if text is None or text == "":
        return None
    config = orjson.loads(text)
    if type(config) is not dict or not config.keys() <= _CONFIG_KEYS:
        raise _Unusual
    out: dict[str, Any] = {}
    params, root = config.get("parameters"), config.get("pipeline_root")
    if params is not None:
        if type(params) is not dict:
            raise _Unusual
        if not _exact(params):
            params = json.loads(text)["parameters"]
        if params:
            out["parameters"] = params
    if root is not None and _text(root):
        out["pipeline_root"] = root
    return out or None


def _exact(params: dict[str, Any]) -> bool:
    """Whether orjson read these values as ``json`` does (else re-read them)."""
    for value in params.values():
        kind = type(value)
        if kind is float:
            if not -_INEXACT < value < _INEXACT:
                return False
        elif kind is dict or kind is list:
            return False  # nested values: leave them to json
    return True


def _direct_run_wire(row: sqlite3.Row, task_count: int) -> dict[str, Any]:
    """``run_wire_via_model``'s DEFAULT-view JSON, written straight from the row.

    Field order and omissions follow ``Run`` and ``to_wire`` (zero values left
    out, the three run times always written). A value in a shape this server
    does not store (odd types, unknown keys, times out of range) raises
    ``_Unusual`` and the caller takes the model path, so both paths agree; a
    test compares them on every kind of stored run. What orjson refuses
    (``Infinity``, say) raises a ValueError and takes the model path too.
    """
    out: dict[str, Any] = {}
    for name in _RUN_TEXT:
        value = _text(row[name])
        if value:
            out[name] = value
    if row["description"]:
        out["description"] = _text(row["description"])
    spec_text = row["pipeline_spec"]
    spec = None if spec_text is None or spec_text == "" else json.loads(spec_text)
    if spec is not None:
        if type(spec) is not dict:
            raise _Unusual
        if spec:
            out["pipeline_spec"] = spec
    elif row["pipeline_id"]:
        ref = {"pipeline_id": _text(row["pipeline_id"])}
        if row["pipeline_version_id"]:
            ref["pipeline_version_id"] = _text(row["pipeline_version_id"])
        out["pipeline_version_reference"] = ref
    config = _config_wire(row["runtime_config"])
    if config:
        out["runtime_config"] = config
    if row["service_account"]:
        out["service_account"] = _text(row["service_account"])
    created, scheduled = row["created_at"], row["scheduled_at"]
    out["created_at"] = _seconds_text(created)
    out["scheduled_at"] = (
        out["created_at"] if scheduled == created else _seconds_text(scheduled)
    )
    out["finished_at"] = _seconds_text(row["finished_at"])
    if _text(row["state"]):
        out["state"] = row["state"]
    if row["recurring_run_id"]:
        out["recurring_run_id"] = _text(row["recurring_run_id"])
    history = _history_wire(row["state_history"])
    if history:
        out["state_history"] = history
    if task_count:
        out["task_count"] = task_count
    return out


class Store:
    """The SQLite database behind one embedded server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Index pages of a large table stay cached: a run insert touches ~17.
        self._db.execute(f"PRAGMA cache_size=-{_WRITER_CACHE_KIB}")
        self._db.executescript(_SCHEMA + _TRIGGERS)
        self._analyze()
        # Readers get their own connections (WAL lets them run beside the
        # writer and each other); an in-memory database has only the one.
        self._pooled = path not in ("", ":memory:") and not path.startswith("file:")
        self._idle: list[sqlite3.Connection] = []
        self._readers: set[sqlite3.Connection] = set()
        self._pool_lock = threading.Lock()
        self._closed = False
        self._counts: dict[tuple[Any, ...], tuple[int, int]] = {}

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def _analyze(self) -> None:
        """Planner statistics for the runs indexes when missing or far out of date.

        Without them SQLite guesses that ``storage_state = ?`` picks a few rows
        and sorts them, where walking the sort index is far cheaper. A full
        ``ANALYZE`` (a sampled one misjudges such columns) takes about 0.2 s
        at 100,000 runs.
        """
        rows = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        if rows < _ANALYZE_MIN_ROWS:
            return
        known = self._db.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs' AND idx = 'runs_name'"
        ).fetchone() if self._has_stats() else None  # fmt: skip
        counted = int(known[0].split()[0]) if known else 0
        if counted and counted // 2 <= rows <= counted * 2:
            return
        self._db.execute("ANALYZE runs")

    def _has_stats(self) -> bool:
        return bool(
            self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).fetchone()
        )

    def close(self) -> None:
        with self._lock, self._pool_lock:
            self._closed = True
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self._idle.clear()
            self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed before the block's result is used."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (count and page from one snapshot).

        On a pooled reader connection, so reads neither wait for each other
        nor for the writer (WAL); an in-memory database reads under the lock.
        """
        if not self._pooled:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    yield self._db
                finally:
                    self._db.execute("COMMIT")
            return
        db = self._take_reader()
        try:
            db.execute("BEGIN")
        except BaseException:
            self._give_back(db, healthy=False)
            raise
        try:
            yield db
        finally:
            try:
                db.execute("COMMIT")
            except BaseException:
                self._give_back(db, healthy=False)
                raise
            self._give_back(db, healthy=True)

    def _take_reader(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            if self._idle:
                return self._idle.pop()
        db = self._connect()
        with self._pool_lock:
            self._readers.add(db)
        return db

    def _give_back(self, db: sqlite3.Connection, *, healthy: bool) -> None:
        with self._pool_lock:
            keep = healthy and not self._closed and len(self._idle) < _IDLE_READERS
            if keep and not db.in_transaction:
                self._idle.append(db)
                return
            self._readers.discard(db)
        db.close()

    # -- meta and experiments -------------------------------------------------

    @staticmethod
    def meta_get(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def meta_set(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def default_experiment_id(self, db: sqlite3.Connection) -> str:
        """Id of the experiment named ``Default``, created when missing."""
        exp_id = self.meta_get(db, "default_experiment")
        if exp_id and self.experiment_row(db, exp_id):
            return exp_id
        row = db.execute(
            "SELECT experiment_id FROM experiments WHERE display_name='Default' "
            "AND namespace=''"
        ).fetchone()
        exp_id = (
            row[0]
            if row
            else self.insert_experiment(
                db, "Default", DEFAULT_EXPERIMENT_DESCRIPTION, now_s()
            )
        )
        self.meta_set(db, "default_experiment", exp_id)
        return exp_id

    @staticmethod
    def insert_experiment(
        db: sqlite3.Connection,
        name: str,
        description: str,
        created_at: int,
        *,
        experiment_id: str | None = None,
        storage_state: str = "AVAILABLE",
    ) -> str:
        exp_id = experiment_id or str(uuid.uuid4())
        db.execute(
            "INSERT INTO experiments(experiment_id, display_name, description, "
            "created_at, storage_state) VALUES(?,?,?,?,?)",
            (exp_id, name, description, created_at, storage_state),
        )
        return exp_id

    @staticmethod
    def experiment_row(db: sqlite3.Connection, exp_id: str) -> sqlite3.Row | None:
        return db.execute(
            "SELECT * FROM experiments WHERE experiment_id=?", (exp_id,)
        ).fetchone()

    @staticmethod
    def experiment_wire(row: sqlite3.Row) -> dict[str, Any]:
        model = Experiment(
            experiment_id=row["experiment_id"],
            display_name=row["display_name"],
            description=row["description"] or None,
            created_at=_ts(row["created_at"]),
            namespace=row["namespace"] or None,
            storage_state=row["storage_state"],
            last_run_created_at=_ts(row["last_run_created_at"]),
        )
        return to_wire(model)

    # -- pipelines --------------------------------------------------------------

    @staticmethod
    def pipeline_spec(
        db: sqlite3.Connection, pipeline_id: str, version_id: str | None
    ) -> sqlite3.Row | None:
        """The version row named, or the newest version of the pipeline."""
        if version_id:
            row = db.execute(
                "SELECT * FROM pipelines WHERE pipeline_version_id=?", (version_id,)
            ).fetchone()
            return row
        return db.execute(
            "SELECT * FROM pipelines WHERE pipeline_id=? "
            "ORDER BY created_at DESC LIMIT 1",
            (pipeline_id,),
        ).fetchone()

    # -- runs -------------------------------------------------------------------

    @staticmethod
    def run_row(db: sqlite3.Connection, run_id: str) -> sqlite3.Row | None:
        return db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()

    def run_wire(
        self, db: sqlite3.Connection, row: sqlite3.Row, *, view: str = "DEFAULT"
    ) -> dict[str, Any]:
        """A run as GetRun returns it (PR view: ``task_count``, ``tasks`` on FULL).

        The DEFAULT view of a row in the shapes this server stores is written
        directly (``_direct_run_wire``: the same JSON as the model path, several
        times faster); anything else goes through the pydantic model.
        """
        if view == "FULL":
            return self.run_wire_via_model(db, row, view=view)
        try:
            count = row["task_count"]  # listing pages select it with the row
        except IndexError:
            count = db.execute(
                "SELECT COUNT(*) FROM tasks WHERE run_id=?", (row["run_id"],)
            ).fetchone()[0]
        try:
            return _direct_run_wire(row, count)
        except (_Unusual, ValueError, TypeError, OverflowError):
            return self.run_wire_via_model(db, row, view=view, task_count=count)

    def run_wire_via_model(
        self,
        db: sqlite3.Connection,
        row: sqlite3.Row,
        *,
        view: str = "DEFAULT",
        task_count: int | None = None,
    ) -> dict[str, Any]:
        """``run_wire`` through ``Run.model_validate`` and ``to_wire`` (any row)."""
        spec = _json(row["pipeline_spec"])
        data: dict[str, Any] = {
            "experiment_id": row["experiment_id"],
            "run_id": row["run_id"],
            "display_name": row["display_name"],
            "storage_state": row["storage_state"],
            "description": row["description"] or None,
            "pipeline_spec": spec,
            "runtime_config": _json(row["runtime_config"]),
            "service_account": row["service_account"] or None,
            "created_at": _ts(row["created_at"]),
            "scheduled_at": _ts(row["scheduled_at"]),
            "finished_at": _ts(row["finished_at"]),
            "state": row["state"],
            "recurring_run_id": row["recurring_run_id"] or None,
            "state_history": _json(row["state_history"], []),
        }
        if spec is None and row["pipeline_id"]:
            data["pipeline_version_reference"] = {
                "pipeline_id": row["pipeline_id"],
                "pipeline_version_id": row["pipeline_version_id"] or None,
            }
        if view == "FULL":
            tasks = [
                self.task_wire(db, t)
                for t in db.execute(
                    "SELECT * FROM tasks WHERE run_id=? ORDER BY create_time, task_id",
                    (row["run_id"],),
                )
            ]
            data["tasks"] = tasks
            data["task_count"] = len(tasks)
        elif task_count is not None:
            data["task_count"] = task_count
        else:
            data["task_count"] = db.execute(
                "SELECT COUNT(*) FROM tasks WHERE run_id=?", (row["run_id"],)
            ).fetchone()[0]
        wire = to_wire(Run.model_validate(data))
        if data.get("tasks"):
            # Tasks were already written in wire form; keep them as they are.
            wire["tasks"] = data["tasks"]
        return wire

    @staticmethod
    def append_history(
        history: list[dict[str, Any]],
        state: str,
        at: int,
        error: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Append ``{update_time, state}`` unless the last entry has that state."""
        if history and history[-1].get("state") == state:
            return history
        entry: dict[str, Any] = {"update_time": _ts(at) or "1970-01-01T00:00:00Z"}
        entry["state"] = state
        if error:
            entry["error"] = error
        return [*history, entry]

    # -- tasks ------------------------------------------------------------------

    @staticmethod
    def task_row(db: sqlite3.Connection, task_id: str) -> sqlite3.Row | None:
        return db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()

    @staticmethod
    def task_wire(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        children = [
            {"task_id": c["task_id"], "name": c["name"]}
            for c in db.execute(
                "SELECT task_id, name FROM tasks WHERE parent_task_id=? "
                "ORDER BY create_time, task_id",
                (row["task_id"],),
            )
        ]
        type_num = row["type_num"] or 0
        data = {
            "name": row["name"] or None,
            "display_name": row["display_name"] or None,
            "task_id": row["task_id"],
            "run_id": row["run_id"] or None,
            "pods": _json(row["pods"], []),
            "cache_fingerprint": row["cache_fingerprint"] or None,
            "create_time": _ts(row["create_time"]),
            "end_time": _ts(row["end_time"]),
            "state": _states.TASK_STATE_NUMBERS.get(row["state_num"]) or None,
            "status_metadata": _json(row["status_metadata"]),
            "state_history": _json(row["state_history"], []),
            "type": TASK_TYPES[type_num] if 0 < type_num < len(TASK_TYPES) else None,
            "type_attributes": _json(row["type_attributes"]),
            "error": _json(row["error"]),
            "parent_task_id": row["parent_task_id"] or None,
            "child_tasks": children,
            "inputs": _json(row["inputs"], {}),
            "outputs": _json(row["outputs"], {}),
            "scope_path": row["scope_path"] or None,
        }
        if data["state"] == _states.UNSPECIFIED:
            data["state"] = None
        return to_wire(Task.model_validate(data))

    # -- listing ----------------------------------------------------------------

    def list_rows(
        self,
        db: sqlite3.Connection,
        query: ListQuery,
        *,
        scope: list[str] | None = None,
        scope_args: list[Any] | None = None,
    ) -> tuple[list[sqlite3.Row], int, str]:
        """(page rows, total matching, next page token or '').

        The page is an index range (keyset, see ``_query``); runs come with their
        ``task_count``. ``total`` is exact: counted once per scope and filter,
        then reused while the table's change counter in this snapshot is the
        one it was counted at.
        """
        table = query.kind.table
        where = [*(scope or []), *query.where]
        args = [*(scope_args or []), *query.args]
        cond = " AND ".join(where) or "1"
        total = self._count(db, table, cond, args)
        page_where, page_args = list(where), list(args)
        if query.keyset:
            page_where.append(query.keyset[0])
            page_args.extend(query.keyset[1])
        page_cond = " AND ".join(page_where) or "1"
        rows = db.execute(
            f"SELECT *{_PAGE_EXTRA.get(table, '')} FROM {table} WHERE {page_cond} "
            f"ORDER BY {query.order_sql} LIMIT ?",
            [*page_args, query.page_size + 1],
        ).fetchall()
        token = ""
        if len(rows) > query.page_size:
            token = query.next_token(dict(rows[query.page_size]))
            rows = rows[: query.page_size]
        return rows, total, token

    def _count(
        self, db: sqlite3.Connection, table: str, cond: str, args: list[Any]
    ) -> int:
        """Rows of ``table`` matching ``cond`` in ``db``'s snapshot (cached)."""
        generation = db.execute(
            "SELECT n FROM list_generation WHERE name = ?", (table,)
        ).fetchone()
        key = (table, cond, *args)
        try:
            hash(key)
        except TypeError:
            key = None
        if generation is not None and key is not None:
            with self._pool_lock:
                cached = self._counts.get(key)
            if cached is not None and cached[0] == generation[0]:
                return cached[1]
        total = db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {cond}", args
        ).fetchone()[0]
        if generation is not None and key is not None:
            with self._pool_lock:
                if len(self._counts) >= _CACHED_COUNTS:
                    self._counts.pop(next(iter(self._counts)))
                self._counts[key] = (generation[0], total)
        return total
