"""SQLite storage of experiments, runs, tasks and pipelines.

``snapshot_runs`` / ``snapshot_artifacts`` hold what a replayed snapshot adds
(``_replay``): which runs are frozen, and their captured artifact payloads.

One connection (stdlib ``sqlite3``, WAL, ``busy_timeout``, ``synchronous=FULL``)
shared by request threads and the simulator under a lock; every write is one
``BEGIN IMMEDIATE`` … ``COMMIT`` finished before the response goes out, so an
acknowledged write survives a restart or ``kill -9``. Rows are turned into the
wire format through :mod:`kfp_nb._models` and ``to_wire``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from .. import _states
from .._models import Experiment, Run, Task, to_wire
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
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment_id);
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
"""

TASK_STATE_NUMBER = {name: num for num, name in _states.TASK_STATE_NUMBERS.items()}
TASK_TYPES = (
    "ROOT", "RUNTIME", "CONDITION_BRANCH", "CONDITION", "LOOP", "EXIT_HANDLER",
    "IMPORTER", "DAG",
)  # fmt: skip


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


class Store:
    """The SQLite database behind one embedded server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
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
        """A consistent read (count and page from one snapshot)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

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
        """A run as GetRun returns it (PR view: ``task_count``, ``tasks`` on FULL)."""
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

    @staticmethod
    def list_rows(
        db: sqlite3.Connection,
        query: ListQuery,
        *,
        scope: list[str] | None = None,
        scope_args: list[Any] | None = None,
    ) -> tuple[list[sqlite3.Row], int, str]:
        """(page rows, total matching, next page token or '')."""
        table = query.kind.table
        where = [*(scope or []), *query.where]
        args = [*(scope_args or []), *query.args]
        cond = " AND ".join(where) or "1"
        total = db.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {cond}", args
        ).fetchone()[0]
        page_where, page_args = list(where), list(args)
        if query.keyset:
            page_where.append(query.keyset[0])
            page_args.extend(query.keyset[1])
        page_cond = " AND ".join(page_where) or "1"
        rows = db.execute(
            f"SELECT * FROM {table} WHERE {page_cond} ORDER BY {query.order_sql} "
            "LIMIT ?",
            [*page_args, query.page_size + 1],
        ).fetchall()
        token = ""
        if len(rows) > query.page_size:
            token = query.next_token(dict(rows[query.page_size]))
            rows = rows[: query.page_size]
        return rows, total, token
