"""Runs whose every user-set text is hostile: markup, scripts, bidi, emoji, controls.

``seed_hostile(path)`` writes them into a new server database (the embedded
server refuses some of these texts on create, as it should; a cluster may still
hold them, so they are written through the store's own schema). Each payload
family gets one run, FAILED, with the payload in its display name, description,
parameter keys and values, its error message, and in its tasks' names, display
names, error messages and a metric's name and output key.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from kfp_nb.server._demo import demo_pipeline_ids, register_pipelines
from kfp_nb.server._store import TASK_STATE_NUMBER, Store, dumps

__all__ = [
    "EXPERIMENT",
    "FLAG",
    "PAYLOADS",
    "HostileRun",
    "hostile_runs",
    "seed_hostile",
]

#: A global the payload scripts would set; it must stay undefined.
FLAG = "__kfpNbPwned"
EXPERIMENT = "hostile-text"

_SET = f"window.{FLAG}=1"
#: family → text. Markup that would run if inserted as HTML, and texts that only
#: need to survive unchanged (bidi controls, emoji sequences, control characters).
PAYLOADS: dict[str, str] = {
    "img": f'<img src=x onerror="{_SET};document.body.dataset.pwned=1">',
    "script": f"<script>{_SET}</script><b>bold?</b>",
    "attr": f"\"'><svg onload={_SET}><a href=javascript:{_SET}>x</a>",
    "rtl": "عرض \u202etxt.exe שלום",  # Arabic, U+202E override left open, Hebrew
    "emoji": "🚀 👩‍👩‍👧‍👦 🇺🇦 👍🏽 \u2764\ufe0f",  # ZWJ family, flag, skin tone
    "control": "bell\x07 esc\x1b[31mred\x1b[0m del\x7f tab\tzw\u200bsp",
}
_START = 1_790_000_000  # 2026-09-21T...: after the demo's runs
_NS = uuid.UUID("7b1c0e7e-3c55-4e2e-9d8f-2b6a4c1d9e00")


class HostileRun:
    """Where each field of one family's run holds its payload."""

    def __init__(self, family: str, index: int) -> None:
        text = PAYLOADS[family]
        self.family = family
        self.run_id = str(uuid.uuid5(_NS, f"run/{family}"))
        self.display_name = f"{text} run"
        self.description = f"description {text}"
        self.param_key = f"key {text}"
        self.param_value = f"value {text}"
        self.error = f"error {text}"
        self.task_name = f"task {text}"
        self.task_display = f"step {text}"
        self.task_error = f"task error {text}"
        self.metric = f"metric {text}"
        self.output_key = f"out {text}"
        self.created = _START + 600 * index
        self.task_ids = [str(uuid.uuid5(_NS, f"task/{family}/{i}")) for i in range(2)]

    def texts(self) -> list[str]:
        """Every hostile text of the run, as it must be shown."""
        return [
            self.display_name, self.description, self.param_key, self.param_value,
            self.error, self.task_name, self.task_display, self.task_error,
            self.metric, self.output_key,
        ]  # fmt: skip


def hostile_runs() -> list[HostileRun]:
    return [HostileRun(family, i) for i, family in enumerate(PAYLOADS)]


def _at(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def seed_hostile(path: str) -> list[HostileRun]:
    """Write the hostile runs (and their tasks) into a new database at ``path``."""
    runs = hostile_runs()
    store = Store(path)
    try:
        register_pipelines(store)
        pipeline_id, version_id = demo_pipeline_ids("Training pipeline")
        with store.tx() as db:
            store.default_experiment_id(db)
            exp_id = store.insert_experiment(db, EXPERIMENT, "hostile texts", _START)
            for run in runs:
                _insert_run(db, run, exp_id, pipeline_id, version_id)
                _insert_tasks(db, run)
    finally:
        store.close()
    return runs


def _insert_run(db, run: HostileRun, exp_id: str, pipeline_id: str, version: str):
    created, finished = run.created, run.created + 95
    history = [
        {"update_time": _at(created), "state": "PENDING"},
        {"update_time": _at(created + 5), "state": "RUNNING"},
        {"update_time": _at(finished), "state": "FAILED",
         "error": {"code": 2, "message": run.error}},
    ]  # fmt: skip
    config = {"parameters": {run.param_key: run.param_value, "epochs": 3}}
    db.execute(
        "INSERT INTO runs(run_id, experiment_id, display_name, description, "
        "storage_state, pipeline_id, pipeline_version_id, runtime_config, "
        "service_account, created_at, scheduled_at, finished_at, state, "
        "conditions, state_history, pipeline_name, seed) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            run.run_id, exp_id, run.display_name, run.description, "AVAILABLE",
            pipeline_id, version, dumps(config), "pipeline-runner", created,
            created, finished, "FAILED", "Failed", dumps(history),
            "Training pipeline", 0,
        ),
    )  # fmt: skip


def _insert_tasks(db, run: HostileRun) -> None:
    root, step = run.task_ids
    start = run.created + 5
    metric = {
        "artifact_key": run.output_key, "type": "OUTPUT",
        "producer": {"task_name": run.task_name},
        "artifacts": [{
            "artifact_id": f"{step}-0", "name": run.metric, "type": "Metric",
            "metadata": {run.metric: 0.5}, "number_value": 0.5,
        }],
    }  # fmt: skip
    rows = [
        (root, run.display_name, run.display_name, None, start, start + 90,
         None, {}),
        (step, run.task_name, run.task_display, root, start + 10, start + 80,
         {"code": 2, "message": run.task_error}, {"artifacts": [metric]}),
    ]  # fmt: skip
    for task_id, name, display, parent, begin, end, error, outputs in rows:
        history = [
            {"update_time": _at(begin), "state": "RUNNING"},
            {"update_time": _at(end), "state": "FAILED"},
        ]
        db.execute(
            "INSERT INTO tasks(task_id, run_id, name, display_name, create_time, "
            "start_time, end_time, state_num, state_history, type_num, error, "
            "parent_task_id, inputs, outputs) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                task_id, run.run_id, name, display, begin, begin, end,
                TASK_STATE_NUMBER["FAILED"], dumps(history), 0,
                dumps(error) if error else None, parent, "{}", dumps(outputs),
            ),
        )  # fmt: skip
