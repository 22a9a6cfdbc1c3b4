"""Loading a snapshot file (``kfp_nb._snapshot``) into a server database.

Snapshot runs are frozen as captured: they get no schedule, so the simulator
never advances them (an active run stays in its captured state). Their rows are
listed in ``snapshot_runs``; their artifacts' payloads live in
``snapshot_artifacts`` and ``read_artifact`` answers with those bytes. Every
record is converted into the server's columns and read back through the wire
writers before the load commits, so a hostile or malformed file fails here, with
a ``SnapshotError`` naming the record, and never later in a request.

Experiments lose their ``namespace`` (the embedded server is single-user and
lists only experiments without one), so every panel still names them.

Loading is idempotent per database: the file's SHA-256 is kept in ``meta``, so a
restart on the same ``--db`` does not load twice; a database holding anything
else is refused (replay needs a fresh one).
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from .. import _states
from .._models import parse_timestamp
from .._snapshot import Snapshot, SnapshotError, read_snapshot
from ._store import TASK_STATE_NUMBER, TASK_TYPES, Store, dumps

__all__ = ["is_snapshot_run", "load_snapshot", "snapshot_artifact"]

_META_KEY = "snapshot_sha256"


def load_snapshot(store: Store, path: str) -> dict[str, Any]:
    """Load the snapshot at ``path`` into ``store``; return its manifest."""
    snap = read_snapshot(path)
    digest = _sha256(path)
    with store.tx() as db:
        if store.meta_get(db, _META_KEY) == digest:
            return snap.manifest
        if _holds_data(db):
            raise SnapshotError(
                f"cannot replay snapshot {path!r} into {store.path!r}: that "
                "database already holds runs or experiments; pass a new --db path "
                "(or none, for a temporary file)"
            )
        _insert(db, snap, path)
        _check_readable(store, db, snap, path)
        store.meta_set(db, _META_KEY, digest)
        store.meta_set(db, "snapshot_manifest", dumps(snap.manifest))
    return snap.manifest


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _holds_data(db: sqlite3.Connection) -> bool:
    return any(
        db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
        for table in ("runs", "experiments", "tasks")
    )


def is_snapshot_run(db: sqlite3.Connection, run_id: str) -> bool:
    row = db.execute("SELECT 1 FROM snapshot_runs WHERE run_id=?", (run_id,))
    return row.fetchone() is not None


def snapshot_artifact(
    db: sqlite3.Connection, run_id: str, task_id: str, name: str
) -> sqlite3.Row | None:
    return db.execute(
        "SELECT * FROM snapshot_artifacts WHERE run_id=? AND task_id=? AND name=?",
        (run_id, task_id, name),
    ).fetchone()


# -- conversion -----------------------------------------------------------------


class _Bad(ValueError):
    """A field that does not fit; the caller names the record."""


def _text(record: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise _Bad(f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise _Bad(f"{key} is not a string")
    return value


def _seconds(record: dict[str, Any], key: str) -> int:
    value = record.get(key)
    if value is None or value == "":
        return 0
    try:
        when = parse_timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _Bad(f"{key} is not a timestamp ({exc})") from None
    return max(0, int(when.timestamp())) if when else 0


def _enum(value: Any, numbers: dict[int, str], key: str, default: str) -> str:
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
        return numbers[value]
    if isinstance(value, str) and value in numbers.values():
        return value
    raise _Bad(f"{key} {str(value)[:40]!r} is not a known value")


def _json_or_none(record: dict[str, Any], key: str, kind: type) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise _Bad(f"{key} is not a JSON {kind.__name__}")
    return dumps(value)


def _experiment(db: sqlite3.Connection, exp: dict[str, Any]) -> None:
    # Checked, then dropped: this server is single-user and lists only
    # experiments without a namespace, so a namespaced one would vanish.
    _text(exp, "namespace")
    db.execute(
        "INSERT INTO experiments(experiment_id, display_name, description, "
        "created_at, namespace, storage_state, last_run_created_at) "
        "VALUES(?,?,?,?,?,?,?)",
        (
            _text(exp, "experiment_id", required=True),
            _text(exp, "display_name"), _text(exp, "description"),
            _seconds(exp, "created_at"), "",
            _enum(exp.get("storage_state"), _states.STORAGE_STATE_NUMBERS,
                  "storage_state", "AVAILABLE"),
            _seconds(exp, "last_run_created_at"),
        ),
    )  # fmt: skip


def _run(db: sqlite3.Connection, run: dict[str, Any]) -> None:
    ref = run.get("pipeline_version_reference") or run.get("pipeline_reference") or {}
    if not isinstance(ref, dict):
        raise _Bad("pipeline_version_reference is not an object")
    history = run.get("state_history") or []
    if not isinstance(history, list):
        raise _Bad("state_history is not a list")
    state = _enum(run.get("state"), _states.RUN_STATE_NUMBERS, "state",
                  _states.UNSPECIFIED)  # fmt: skip
    created = _seconds(run, "created_at")
    if not created:
        # Served as created in 1970 otherwise, which sorts and filters wrongly.
        raise _Bad("created_at is missing or not after 1970 (captured runs have one)")
    spec = run.get("pipeline_spec")
    db.execute(
        "INSERT INTO runs(run_id, experiment_id, display_name, description, "
        "storage_state, pipeline_spec, pipeline_id, pipeline_version_id, "
        "runtime_config, service_account, created_at, scheduled_at, finished_at, "
        "state, conditions, state_history, recurring_run_id, pipeline_name, seed, "
        "schedule, next_event) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            _text(run, "run_id", required=True), _text(run, "experiment_id"),
            _text(run, "display_name"), _text(run, "description"),
            _enum(run.get("storage_state"), _states.STORAGE_STATE_NUMBERS,
                  "storage_state", "AVAILABLE"),
            _json_or_none(run, "pipeline_spec", dict),
            "" if spec is not None else _text(ref, "pipeline_id"),
            "" if spec is not None else (
                _text(ref, "pipeline_version_id") or _text(run, "pipeline_version_id")
            ),
            _json_or_none(run, "runtime_config", dict),
            _text(run, "service_account"), created,
            _seconds(run, "scheduled_at") or created, _seconds(run, "finished_at"),
            state, state.capitalize(), dumps(history),
            _text(run, "recurring_run_id"), "", 0,
            None, None,  # no schedule: the simulator leaves the run as captured
        ),
    )  # fmt: skip
    db.execute("INSERT INTO snapshot_runs(run_id) VALUES(?)", (run["run_id"],))


def _task(db: sqlite3.Connection, task: dict[str, Any]) -> None:
    state = task.get("state")
    state_num = 0
    if state not in (None, "", 0):
        name = _enum(state, _states.TASK_STATE_NUMBERS, "state", _states.UNSPECIFIED)
        state_num = TASK_STATE_NUMBER.get(name, 0)
    type_value = task.get("type")
    type_num = 0
    if type_value not in (None, "", 0):
        type_num = TASK_TYPES.index(
            _enum(type_value, dict(enumerate(TASK_TYPES)), "type", "ROOT")
        )
    for key, kind in (("pods", list), ("state_history", list)):
        if not isinstance(task.get(key) or [], kind):
            raise _Bad(f"{key} is not a list")
    created = _seconds(task, "create_time")
    db.execute(
        "INSERT INTO tasks(task_id, run_id, plan_name, name, display_name, pods, "
        "cache_fingerprint, create_time, start_time, end_time, state_num, "
        "status_metadata, state_history, type_num, type_attributes, error, "
        "parent_task_id, inputs, outputs, scope_path) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            _text(task, "task_id", required=True), _text(task, "run_id", required=True),
            "", _text(task, "name"), _text(task, "display_name"),
            dumps(task.get("pods") or []), _text(task, "cache_fingerprint"),
            created, created, _seconds(task, "end_time"), state_num,
            _json_or_none(task, "status_metadata", dict),
            dumps(task.get("state_history") or []), type_num,
            _json_or_none(task, "type_attributes", dict),
            _json_or_none(task, "error", dict),
            _text(task, "parent_task_id") or None,
            _json_or_none(task, "inputs", dict) or "{}",
            _json_or_none(task, "outputs", dict) or "{}",
            _text(task, "scope_path"),
        ),
    )  # fmt: skip


def _artifact(db: sqlite3.Connection, entry: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO snapshot_artifacts(run_id, task_id, name, status, size, note, "
        "data) VALUES(?,?,?,?,?,?,?)",
        (
            entry["run_id"], entry["task_id"], entry["output_key"], entry["status"],
            entry.get("size", 0), entry.get("note") or "", entry.get("data"),
        ),
    )  # fmt: skip


_LOADERS = (
    ("experiments", _experiment, "experiment_id"),
    ("runs", _run, "run_id"),
    ("tasks", _task, "task_id"),
    ("artifacts", _artifact, "output_key"),
)


def _insert(db: sqlite3.Connection, snap: Snapshot, path: str) -> None:
    for kind, load, key in _LOADERS:
        for number, record in enumerate(getattr(snap, kind), 1):
            try:
                load(db, record)
            except (_Bad, sqlite3.Error, TypeError, ValueError) as exc:
                if isinstance(exc, sqlite3.IntegrityError):
                    exc = _Bad(f"a second record with the same key ({exc})")
                ident = str(record.get(key))[:80]
                raise SnapshotError(
                    f"snapshot {path!r}: {kind}.jsonl line {number} ({key} "
                    f"{ident!r}) cannot be loaded: {exc}. Write a new snapshot "
                    "with client.snapshot(path, ...) from the source server"
                ) from None


def _check_readable(
    store: Store, db: sqlite3.Connection, snap: Snapshot, path: str
) -> None:
    """Every row through the wire writers now, so no request can fail on it."""
    checks = (
        ("experiments", "SELECT * FROM experiments", store.experiment_wire),
        ("runs", "SELECT * FROM runs",
         lambda row: store.run_wire(db, row, view="DEFAULT")),
        ("tasks", "SELECT * FROM tasks", lambda row: store.task_wire(db, row)),
    )  # fmt: skip
    for kind, query, write in checks:
        for row in db.execute(query).fetchall():
            try:
                write(row)
            except Exception as exc:  # noqa: BLE001 - refuse the file, not a request
                ident = row[0]
                raise SnapshotError(
                    f"snapshot {path!r}: {kind} record {str(ident)[:80]!r} is not "
                    f"valid ({type(exc).__name__}: {str(exc)[:300]}). Write a new "
                    "snapshot with client.snapshot(path, ...) from the source server"
                ) from None
