"""Deterministic ListRuns bodies in the real server's wire encoding.

Runs are written as ``kfp_nb._models.to_wire`` would write them: snake_case
keys, zero values left out, RFC 3339 ``Z`` times, the 1970 epoch as
``finished_at`` of an unfinished run, 5-10 parameters of mixed types, 2-4
state-history entries, a few unknown enum values and missing fields. The FULL
view adds 5-10 tasks per run in the tasks-API schema (``Run.tasks``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

__all__ = ["PAGE_SIZE", "make_run", "pages", "runs", "seeded_database"]

PAGE_SIZE = 200
START = 1_780_000_000  # 2026-05-28T20:26:40Z
EPOCH_TEXT = "1970-01-01T00:00:00Z"
_NS = uuid.UUID("6a1f0d3e-2b7c-4e59-8f40-1c9d2e3b4a5f")
_EXPERIMENTS = [str(uuid.uuid5(_NS, f"exp/{i}")) for i in range(5)]
_PIPELINE = str(uuid.uuid5(_NS, "pipeline"))
_VERSIONS = [str(uuid.uuid5(_NS, f"version/{i}")) for i in range(3)]
# Weighted: mostly final runs, some active, a few values this client never saw.
_STATES = ["SUCCEEDED"] * 12 + ["FAILED"] * 3 + ["RUNNING", "PENDING", "CANCELED"]
_UNKNOWN_STATES = ["PAUSED_FOR_REVIEW", "QUEUED_EXTERNALLY"]
_FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}
_PARAMS: list[tuple[str, Any]] = [
    ("learning_rate", lambda r: round(r.choice([1e-4, 1e-3, 1e-2]) * r.random(), 6)),
    ("epochs", lambda r: r.randint(1, 200)),
    ("optimizer", lambda r: r.choice(["adam", "sgd", "adamw"])),
    ("shuffle", lambda r: r.random() < 0.5),
    ("batch_size", lambda r: r.choice([16, 32, 64, 128])),
    ("dropout", lambda r: round(r.random() / 2, 3)),
    ("dataset", lambda r: f"gs://data/set-{r.randint(0, 99):02d}"),
    ("use_gpu", lambda r: r.random() < 0.3),
    ("seed", lambda r: r.randint(0, 2**31)),
    ("momentum", lambda r: round(r.random(), 4)),
]


def _ts(seconds: float) -> str:
    """RFC 3339 ``Z``, fractions in groups of 3 digits, as protojson writes."""
    dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    millis = dt.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else text + "Z"


def _history(r: random.Random, created: int, state: str, end: int) -> list[dict]:
    entries: list[dict[str, Any]] = [{"update_time": _ts(created), "state": "PENDING"}]
    if state != "PENDING":
        entries.append({"update_time": _ts(created + 3.25), "state": "RUNNING"})
    if state in _FINAL or state in _UNKNOWN_STATES:
        if r.random() < 0.5:  # a retry: RUNNING again before the end
            entries.append({"update_time": _ts(created + 9), "state": "RUNNING"})
        entries.append({"update_time": _ts(end), "state": state})
    if len(entries) < 2:
        entries.append({"update_time": _ts(created + 1), "state": "PENDING"})
    if state == "FAILED":
        entries[-1]["error"] = {"code": 2, "message": "task 'train' failed: exit 1"}
    return entries


def _task(r: random.Random, run_id: str, index: int, k: int, created: int) -> dict:
    task_id = str(uuid.uuid5(_NS, f"task/{index}/{k}"))
    start = created + 5 + 20 * k
    task: dict[str, Any] = {
        "task_id": task_id,
        "run_id": run_id,
        "name": f"step-{k}",
        "display_name": f"step-{k}",
        "pods": [{"name": f"run-{index}-step-{k}-pod", "uid": task_id[:8],
                  "type": "EXECUTOR"}],
        "create_time": _ts(start - 1),
        "start_time": _ts(start),
        "end_time": _ts(start + 15),
        "state": r.choice(["SUCCEEDED", "SUCCEEDED", "FAILED", "CACHED", "SKIPPED"]),
        "state_history": [
            {"update_time": _ts(start), "state": "RUNNING"},
            {"update_time": _ts(start + 15), "state": "SUCCEEDED"},
        ],
        "type": "RUNTIME",
        "scope_path": f"root.step-{k}",
        "execution_id": str(1000 * index + k),
        "inputs": {"parameters": [
            {"value": r.randint(0, 99), "type": "NUMBER_INTEGER", "parameter_key": "n"},
        ]},
        "outputs": {"artifacts": [{
            "artifacts": [{"artifact_id": str(5000 * index + k), "name": "model",
                           "type": "system.Model",
                           "uri": f"minio://mlpipeline/v2/{run_id}/{k}/model",
                           "created_at": _ts(start + 15)}],
            "type": "OUTPUT", "artifact_key": "model",
            "producer": {"task_name": f"step-{k}"},
        }]},
    }  # fmt: skip
    if k:
        task["parent_task_id"] = str(uuid.uuid5(_NS, f"task/{index}/0"))
    return task


def make_run(index: int, *, full: bool = False) -> dict[str, Any]:
    """Run ``index`` as the server would send it (deterministic)."""
    r = random.Random(index)
    run_id = str(uuid.uuid5(_NS, f"run/{index}"))
    created = START + 60 * index
    state = r.choice(_STATES)
    if index % 97 == 13:
        state = r.choice(_UNKNOWN_STATES)
    finished = created + 30 + r.randint(0, 3600)
    run: dict[str, Any] = {
        "experiment_id": _EXPERIMENTS[index % len(_EXPERIMENTS)],
        "run_id": run_id,
        "display_name": f"train-{index:06d}",
        "storage_state": "ARCHIVED" if index % 50 == 7 else "AVAILABLE",
        "description": f"nightly training #{index}",
        "pipeline_version_reference": {
            "pipeline_id": _PIPELINE,
            "pipeline_version_id": _VERSIONS[index % len(_VERSIONS)],
        },
        "runtime_config": {
            "parameters": {name: make(r) for name, make in _PARAMS[: 5 + index % 6]},
            "pipeline_root": "minio://mlpipeline/v2/artifacts",
        },
        "service_account": "pipeline-runner",
        "created_at": _ts(created),
        "scheduled_at": _ts(created),
        "finished_at": _ts(finished) if state in _FINAL else EPOCH_TEXT,
        "state": state,
        "state_history": _history(r, created, state, finished),
    }
    if state == "FAILED":
        run["error"] = {"code": 2, "message": "task 'train' failed: exit 1"}
    if index % 11 == 3:  # zero values the server leaves out
        del run["description"]
        del run["service_account"]
    if index % 23 == 5:
        del run["storage_state"]
        run["runtime_config"]["parameters"] = {}
        del run["runtime_config"]["parameters"]
    if index % 31 == 17:
        run["storage_state"] = "STORAGE_STATE_FROM_THE_FUTURE"
    if index % 40 == 1:
        run["recurring_run_id"] = str(uuid.uuid5(_NS, "recurring"))
    if full:
        run["tasks"] = [
            _task(r, run_id, index, k, created) for k in range(5 + index % 6)
        ]
    return run


def runs(count: int, *, full: bool = False) -> Iterator[dict[str, Any]]:
    """Runs 0..count-1, newest first (as ``sort_by=created_at desc`` lists)."""
    for index in range(count - 1, -1, -1):
        yield make_run(index, full=full)


def pages(count: int, *, full: bool = False, size: int = PAGE_SIZE) -> list[bytes]:
    """ListRuns response bodies of ``size`` runs each, tokens chaining them."""
    out: list[bytes] = []
    batch: list[dict[str, Any]] = []
    for run in runs(count, full=full):
        batch.append(run)
        if len(batch) == size:
            out.append(_body(batch, count, len(out), last=False))
            batch = []
    if batch or not out:
        out.append(_body(batch, count, len(out), last=True))
    else:  # the last full page carries no token
        body = orjson.loads(out[-1])
        body.pop("next_page_token", None)
        out[-1] = orjson.dumps(body)
    return out


def _body(batch: list[dict], total: int, number: int, *, last: bool) -> bytes:
    body: dict[str, Any] = {"runs": batch, "total_size": total}
    if not last:
        body["next_page_token"] = f"page-{number + 1:06d}"
    return orjson.dumps(body)


# -- the same runs in a server database -------------------------------------------

_FINAL_CONDITIONS = {"SUCCEEDED": "Succeeded", "FAILED": "Failed",
                     "CANCELED": "Canceled"}  # fmt: skip


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _row(index: int) -> tuple[Any, ...]:
    """``make_run(index)`` as a ``runs`` row (the columns the store writes)."""
    run = make_run(index)
    created = START + 60 * index
    finished = run["finished_at"]
    finished_s = (
        0 if finished == EPOCH_TEXT
        else int(datetime.fromisoformat(finished.replace("Z", "+00:00")).timestamp())
    )  # fmt: skip
    ref = run["pipeline_version_reference"]
    state = run["state"]
    return (
        run["run_id"], run["experiment_id"], run["display_name"],
        run.get("description", ""), run.get("storage_state", ""),
        ref["pipeline_id"], ref["pipeline_version_id"],
        _compact(run["runtime_config"]), run.get("service_account", ""),
        created, created, finished_s, state,
        _FINAL_CONDITIONS.get(state, state.capitalize()),
        _compact(run["state_history"]), run.get("recurring_run_id", ""),
        "Training pipeline", index,
    )  # fmt: skip


def _fingerprint() -> str:
    """Changes with this data or the server's schema, so a stale cache is unused."""
    from kfp_nb.server import _store

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(_store.__file__).read_bytes())
    return digest.hexdigest()[:12]


def cache_folder() -> Path:
    """Where seeded databases are kept (``KFP_NB_BENCH_CACHE`` overrides)."""
    folder = os.environ.get("KFP_NB_BENCH_CACHE")
    return Path(folder) if folder else Path(tempfile.gettempdir()) / "kfp-nb-bench"


def _seed(path: Path, count: int) -> None:
    """Insert ``count`` runs with the runs indexes dropped, then let the store
    rebuild them (one sort per index, far faster than 17 index inserts a row)."""
    from kfp_nb.server._store import Store

    store = Store(str(path))
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA cache_size=-262144")  # the random-key primary index fits
    db.execute("PRAGMA synchronous=OFF")  # a crash leaves only the .partial file
    try:
        indexes = [
            name for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='index' "
                "AND tbl_name='runs' AND sql IS NOT NULL"
            )
        ]  # fmt: skip
        db.execute("BEGIN")
        for name in indexes:
            db.execute(f"DROP INDEX {name}")
        db.executemany(
            "INSERT INTO experiments(experiment_id, display_name, description, "
            "created_at, last_run_created_at) VALUES(?,?,?,?,?)",
            [(exp, f"bench-{i}", "benchmark runs", START, START + 60 * count)
             for i, exp in enumerate(_EXPERIMENTS)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO runs(run_id, experiment_id, display_name, description, "
            "storage_state, pipeline_id, pipeline_version_id, runtime_config, "
            "service_account, created_at, scheduled_at, finished_at, state, "
            "conditions, state_history, recurring_run_id, pipeline_name, seed) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (_row(i) for i in range(count)),
        )
        db.execute("COMMIT")
    finally:
        db.close()
    Store(str(path)).close()  # recreates the indexes and gathers statistics


def seeded_database(count: int, folder: str | os.PathLike[str]) -> tuple[str, bool]:
    """A copy in ``folder`` of a database holding runs 0..count-1.

    The seeded file is cached (``cache_folder()``), keyed by the count and a
    fingerprint of this module and the store's schema. Returns (path of the
    copy, whether the cache already held it).
    """
    cache = cache_folder()
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / f"runs-{count}-{_fingerprint()}.db"
    hit = cached.exists()
    if not hit:
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        for stale in cache.glob(f"runs-{count}-*.db"):
            stale.unlink()
        _seed(partial, count)
        partial.replace(cached)
    copy = Path(folder) / f"runs-{count}.db"
    shutil.copyfile(cached, copy)
    return str(copy), hit
