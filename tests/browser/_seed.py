"""Many finished runs written straight into a server database (seconds, not minutes).

Creating 10,000 runs over HTTP would also schedule 10,000 simulations; the tables
only need finished runs, so they are inserted through the store's own schema,
before the server opens the file.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from kfp_nb.server._demo import demo_pipeline_ids, register_pipelines
from kfp_nb.server._store import Store, dumps

__all__ = ["BULK_START", "bulk_name", "bulk_run_id", "seed_bulk"]

BULK_START = 1_780_000_000  # 2026-05-28T20:26:40Z: created_at of run 0
_NS = uuid.UUID("3f6d1c2a-8e4b-4f7a-9c1d-5b2e7a9f0c43")


def bulk_run_id(index: int) -> str:
    return str(uuid.uuid5(_NS, f"bulk-run/{index}"))


def bulk_name(index: int) -> str:
    return f"bulk-{index:06d}"


def _at(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def _history(created: int, finished: int, state: str) -> str:
    entries = [
        {"update_time": _at(created), "state": "PENDING"},
        {"update_time": _at(created + 5), "state": "RUNNING"},
        {"update_time": _at(finished), "state": state},
    ]
    if state == "FAILED":
        message = f"task 'train' failed (bulk run created at {created})"
        entries[-1]["error"] = {"code": 2, "message": message}
    return dumps(entries)


def seed_bulk(path: str, count: int, *, experiment: str = "bulk") -> None:
    """Write ``count`` finished runs (every 10th FAILED) into a new database."""
    store = Store(path)
    try:
        register_pipelines(store)
        pipeline_id, version_id = demo_pipeline_ids("Training pipeline")
        with store.tx() as db:
            store.default_experiment_id(db)
            exp_id = store.insert_experiment(db, experiment, "bulk runs", BULK_START)
            db.executemany(
                "INSERT INTO runs(run_id, experiment_id, display_name, description, "
                "storage_state, pipeline_id, pipeline_version_id, runtime_config, "
                "service_account, created_at, scheduled_at, finished_at, state, "
                "conditions, state_history, pipeline_name, seed) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (_row(i, exp_id, pipeline_id, version_id) for i in range(count)),
            )
            db.execute(
                "UPDATE experiments SET last_run_created_at=? WHERE experiment_id=?",
                (BULK_START + 60 * (count - 1), exp_id),
            )
    finally:
        store.close()


def _row(index: int, exp_id: str, pipeline_id: str, version_id: str) -> tuple:
    created = BULK_START + 60 * index
    finished = created + 30 + index % 600
    state = "FAILED" if index % 10 == 9 else "SUCCEEDED"
    params = {
        "learning_rate": [0.001, 0.01, 0.1][index % 3],
        "epochs": 5 + index % 40,
        "optimizer": ["adam", "sgd"][index % 2],
    }
    config = {"parameters": params, "pipeline_root": "minio://mlpipeline/v2/artifacts"}
    return (
        bulk_run_id(index), exp_id, bulk_name(index), f"bulk run #{index}",
        "AVAILABLE", pipeline_id, version_id, dumps(config), "pipeline-runner",
        created, created, finished, state, state.capitalize(),
        _history(created, finished, state), "Training pipeline", index,
    )  # fmt: skip
