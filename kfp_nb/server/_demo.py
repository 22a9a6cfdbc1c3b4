"""Demo data: pipelines, experiments and ~90 runs in every run state.

The "viewer-edge-cases" experiment holds two runs of the "Viewer edge cases"
pipeline, named with markup and non-ASCII text, whose outputs are hostile or
malformed (``_content.EDGE_CASE_OUTPUTS``).

``register_pipelines`` stores the demo pipeline specs under fixed ids on every
start, so ``pipeline_version_reference`` works with or without ``--demo``.
``seed_demo`` is deterministic (fixed ids, a seeded RNG; only the anchor "now"
differs) and idempotent: it runs once per database, marked in ``meta``.

Runs are written with schedules computed as if they had been created in the
past, then brought to "now" by the simulator's ``reconcile``, so their tasks,
histories and artifacts are the ones a live run would have produced.
"""

from __future__ import annotations

import json
import random
import time
import uuid
import zlib
from typing import Any

from ._simulator import make_schedule, reconcile, terminate_schedule
from ._store import Store, dumps

__all__ = ["demo_pipeline_ids", "register_pipelines", "seed_demo"]

_NS = uuid.UUID("0a3d2b8e-5f7c-4e1a-9b6d-2c4e6f8a0b1c")
DAY = 86400.0


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def demo_pipeline_ids(name: str) -> tuple[str, str]:
    """(pipeline_id, pipeline_version_id) of a demo pipeline, fixed forever."""
    return _uid("pipeline", name), _uid("pipeline-version", name, "v1")


def register_pipelines(store: Store) -> None:
    """Store every demo pipeline spec (idempotent)."""
    from ._pipelines import DEMO_PIPELINES

    with store.tx() as db:
        for name, spec in DEMO_PIPELINES.items():
            pipeline_id, version_id = demo_pipeline_ids(name)
            db.execute(
                "INSERT OR IGNORE INTO pipelines(pipeline_version_id, pipeline_id, "
                "name, spec, created_at) VALUES(?,?,?,?,?)",
                (version_id, pipeline_id, name, dumps(spec), 0),
            )


# (experiment name, description, pipeline, run-name stem, number of runs)
_EXPERIMENTS = (
    ("churn-model", "Customer churn classifier", "Training pipeline", "train", 34),
    ("hyperparameter-search", "Model family sweep", "Hyperparameter sweep", "sweep", 22),
    ("data-quality", "Nightly validation of the events table", "Data validation",
     "nightly-validation", 22),
    ("legacy-dashboards", "v1-style visualizations (archived)", "V1 visualizations",
     "viz", 8),
    ("viewer-edge-cases", "Hostile and malformed outputs <b>viewers</b> must survive",
     "Viewer edge cases", "edge", 2),
)  # fmt: skip

#: Display names and descriptions that replace ``<stem>-<index>`` (case 38):
#: markup that must show as text, non-ASCII and 4-byte UTF-8.
_RUN_NAMES = {
    ("viewer-edge-cases", 0): (
        "<img src=x onerror=\"window.__kfpNbPwned='run-name'\"> 訓練 🚀 & "
        "\"quoted\" </td><script>window.__kfpNbPwned='run-script'</script>",
        "line1\nline2 <b>bold?</b>",
    ),
    ("viewer-edge-cases", 1): (
        "Évaluation «ROC» — 評価 <b>bold?</b> & <i>more</i>",
        "تقييم النموذج: right-to-left text & <script>not a script</script>",
    ),
}

#: Where in each experiment's run list the special states go (index → kind).
_SPECIAL = {
    "churn-model": {
        33: "running",
        32: "running",
        31: "pending",
        30: "paused",
        29: "canceling",
        28: "terminated",
        27: "canceled",
        26: "running-long",
        5: "failed",
        12: "failed",
        20: "failed",
        24: "retried",
    },
    "hyperparameter-search": {
        21: "running",
        20: "pending",
        19: "canceling",
        18: "paused",
        3: "failed",
        9: "failed",
        15: "terminated",
        16: "canceled",
    },
    "data-quality": {
        21: "running",
        20: "running-long",
        2: "failed",
        8: "failed",
        14: "failed",
        17: "canceled",
    },
    "legacy-dashboards": {2: "failed"},
}
_FAIL_TASKS = {
    "Training pipeline": ("train", "evaluate", "preprocess"),
    "Hyperparameter sweep": ("fit", "score", "select-best"),
    "Data validation": ("check-drift", "validate-schema"),
    "V1 visualizations": ("visualize",),
}


def _params(pipeline: str, rng: random.Random, index: int) -> dict[str, Any]:
    if pipeline == "Training pipeline":
        return {
            "learning_rate": rng.choice([0.001, 0.003, 0.01, 0.03, 0.1]),
            "epochs": rng.choice([5, 10, 20, 40]),
            "batch_size": rng.choice([16, 32, 64]),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
            "use_augmentation": rng.random() < 0.5,
        }
    if pipeline == "Hyperparameter sweep":
        return {
            "learning_rate": round(rng.uniform(0.005, 0.2), 4),
            "epochs": rng.randrange(5, 60, 5),
        }
    if pipeline == "Data validation":
        return {
            "source_table": rng.choice(["events_daily", "events_eu", "events_us"]),
            "drift_threshold": rng.choice([0.1, 0.15, 0.2, 0.25]),
            "strict": index % 3 == 0,
        }
    return {"learning_rate": 0.1, "epochs": rng.randrange(3, 9)}


def seed_demo(store: Store, *, speed: float = 1.0) -> bool:
    """Seed the demo data once; returns False when the database already has it."""
    register_pipelines(store)
    with store.tx() as db:
        if store.meta_get(db, "demo_seeded"):
            return False
        now = time.time()
        rng = random.Random(20261204)
        store.default_experiment_id(db)
        for e_index, (exp_name, desc, pipeline, stem, count) in enumerate(_EXPERIMENTS):
            exp_id = _uid("experiment", exp_name)
            created = int(now - (28 - e_index) * DAY)
            store.insert_experiment(db, exp_name, desc, created, experiment_id=exp_id)
            for i in range(count):
                kind = _SPECIAL.get(exp_name, {}).get(i, "succeeded")
                _seed_run(
                    store, db, rng=rng, now=now, speed=speed, exp_id=exp_id,
                    exp_name=exp_name, pipeline=pipeline, stem=stem, index=i,
                    count=count, kind=kind,
                )  # fmt: skip
        # Archive the legacy experiment (its runs too), and a few others' runs.
        legacy = _uid("experiment", "legacy-dashboards")
        db.execute(
            "UPDATE experiments SET storage_state='ARCHIVED' WHERE experiment_id=?",
            (legacy,),
        )
        db.execute(
            "UPDATE runs SET storage_state='ARCHIVED' WHERE experiment_id=?", (legacy,)
        )
        for exp_name, indexes in (
            ("churn-model", (0, 1, 2, 5)),
            ("data-quality", (0, 1)),
        ):
            for i in indexes:
                db.execute(
                    "UPDATE runs SET storage_state='ARCHIVED' WHERE run_id=?",
                    (_uid("run", exp_name, i),),
                )
        store.meta_set(db, "demo_seeded", str(int(now)))
    return True


def _seed_run(
    store: Store, db: Any, *, rng: random.Random, now: float, speed: float,
    exp_id: str, exp_name: str, pipeline: str, stem: str, index: int, count: int,
    kind: str,
) -> None:  # fmt: skip
    from ._pipelines import DEMO_PIPELINES, plan_from_spec

    run_id = _uid("run", exp_name, index)
    spec = DEMO_PIPELINES[pipeline]
    plans = plan_from_spec(spec)
    total = sum(p.duration_s for p in plans if p.parent is None) + 5.0
    params = _params(pipeline, rng, index)
    recurring = ""
    if exp_name == "data-quality":
        recurring = _uid("recurring-run", "nightly-validation")
    # Spread over the past three weeks, oldest first; live runs are recent.
    age = (count - index) / count * 21 * DAY + rng.uniform(0, 3600)
    created = now - age
    sched_speed = 1.0
    if kind == "failed" or kind == "retried":
        params["fail_task"] = rng.choice(_FAIL_TASKS[pipeline])
    if kind == "running":
        # Finishes within a few minutes of the server start at speed 1.
        sched_speed = speed
        created = now - rng.uniform(0.2, 0.6) * total / speed
    elif kind == "running-long":
        sched_speed = 1.0 / 120  # two hours of work at speed 1
        created = now - 600
    elif kind == "pending":
        sched_speed = speed
        created = now - 30
    elif kind in ("paused", "canceling"):
        created = now - rng.uniform(0.3, 0.6) * total
    created = int(created)
    sched = make_schedule(plans, created=created, speed=sched_speed, params=params)
    if kind == "pending":
        # Queued: waits for cluster resources for half an hour, whatever the speed.
        shift = 1800.0
        sched["start"] += shift
        sched["end"] += shift
        for e in sched["tasks"]:
            if e.get("start") is not None:
                e["start"] += shift
                e["end"] += shift
    name = f"{stem}-{index:03d}" if not recurring else (
        f"{stem}-{time.strftime('%Y-%m-%d', time.gmtime(created))}"
    )  # fmt: skip
    description = f"{pipeline} run #{index}"
    name, description = _RUN_NAMES.get((exp_name, index), (name, description))
    pipeline_id, version_id = _pipeline_ref(pipeline)
    inline = index % 7 == 3  # some runs carry their spec instead of a reference
    config = {"parameters": params, "pipeline_root": "minio://mlpipeline/v2/artifacts"}
    history = store.append_history([], "PENDING", created)
    db.execute(
        "INSERT INTO runs(run_id, experiment_id, display_name, description, "
        "storage_state, pipeline_spec, pipeline_id, pipeline_version_id, "
        "runtime_config, service_account, created_at, scheduled_at, state, "
        "conditions, state_history, recurring_run_id, pipeline_name, seed, schedule, "
        "next_event) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            run_id, exp_id, name, description, "AVAILABLE",
            dumps(spec) if inline else None, "" if inline else pipeline_id,
            "" if inline else version_id, dumps(config), "pipeline-runner",
            created, created, "PENDING", "Pending", dumps(history), recurring,
            pipeline, zlib.crc32(run_id.encode()), dumps(sched), sched["start"],
        ),
    )  # fmt: skip
    _finish_kind(store, db, run_id=run_id, kind=kind, now=now, created=created)
    db.execute(
        "UPDATE experiments SET last_run_created_at=MAX(last_run_created_at, ?) "
        "WHERE experiment_id=?",
        (created, exp_id),
    )


def _pipeline_ref(pipeline: str) -> tuple[str, str]:
    return demo_pipeline_ids(pipeline)


def _finish_kind(
    store: Store, db: Any, *, run_id: str, kind: str, now: float, created: int
) -> None:
    """Apply the schedule up to now, then the state-specific touches."""
    if kind in ("terminated", "canceled", "canceling"):
        row = store.run_row(db, run_id)
        sched = json.loads(row["schedule"])
        if kind == "canceling":
            # Terminated seconds ago; its end takes half an hour (a stuck agent).
            cut = now - 10
            reconcile(store, db, run_id, cut)
            sched = json.loads(store.run_row(db, run_id)["schedule"])
            terminate_schedule(sched, now=cut, speed=4.0 / 3600)
        else:
            first = sched["tasks"][0]
            cut = (first["start"] + first["end"]) / 2 if first.get("end") else created
            reconcile(store, db, run_id, cut)
            sched = json.loads(store.run_row(db, run_id)["schedule"])
            terminate_schedule(sched, now=cut, speed=1.0)
        db.execute(
            "UPDATE runs SET state='CANCELING', conditions='Terminating', schedule=? "
            "WHERE run_id=?",
            (dumps(sched), run_id),
        )
    if kind == "paused":
        reconcile(store, db, run_id, now)
        row = store.run_row(db, run_id)
        history = store.append_history(
            json.loads(row["state_history"]), "PAUSED", int(now) - 30
        )
        db.execute(
            "UPDATE runs SET state='PAUSED', conditions='Paused', state_history=?, "
            "next_event=NULL WHERE run_id=?",
            (dumps(history), run_id),
        )
        return
    reconcile(store, db, run_id, now)
    if kind == "canceled":
        # The legacy DISABLED value that reads back as CANCELED (SEMANTICS §3.6).
        row = store.run_row(db, run_id)
        history = json.loads(row["state_history"])
        if history and history[-1]["state"] == "FAILED":
            history[-1]["state"] = "CANCELED"
            history[-1].pop("error", None)
        db.execute(
            "UPDATE runs SET state='CANCELED', conditions='Canceled', state_history=? "
            "WHERE run_id=?",
            (dumps(history), run_id),
        )
    if kind == "retried":
        from ._simulator import retry_schedule

        row = store.run_row(db, run_id)
        sched = json.loads(row["schedule"])
        config = json.loads(row["runtime_config"])
        at = row["finished_at"] + 3600
        retry_schedule(sched, now=at, speed=1.0, params=config["parameters"])
        history = store.append_history(json.loads(row["state_history"]), "RUNNING", at)
        db.execute(
            "UPDATE runs SET state='RUNNING', conditions='Running', finished_at=0, "
            "state_history=?, schedule=? WHERE run_id=?",
            (dumps(history), dumps(sched), run_id),
        )
        reconcile(store, db, run_id, now)
