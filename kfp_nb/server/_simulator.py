"""Runs that really progress: schedules, and a thread that applies them.

A run's schedule is computed once (at create, terminate and retry) from the task
plan of its pipeline spec and stored in the run row as absolute times, so the
run resumes correctly after a restart. ``reconcile`` is idempotent: it brings
the run and task rows to what the schedule says for "now", appending state
history with the planned times.

Failures are deterministic: the runtime parameter ``fail_task`` names a task
(its plan name or display name) that fails on the first ``fail_attempts``
attempts (default 1, so a retry succeeds); ``duration_scale`` (a positive number
up to 1000, default 1) multiplies the run's task durations; CreateRun refuses
other values (``check_simulation_params``). Terminate ends running tasks FAILED
("terminated"), skips tasks not yet started and ends the run FAILED, as Argo
does (SEMANTICS.md §3.6); CANCELING is appended to the history half-way.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
import uuid
import zlib
from typing import Any

from ._rules import RpcError, invalid
from ._store import TASK_STATE_NUMBER, Store, dumps

__all__ = [
    "Simulator",
    "make_schedule",
    "reconcile",
    "retry_schedule",
    "terminate_schedule",
]

log = logging.getLogger(__name__)

PENDING_S = 3.0  # seconds a new run stays PENDING at speed 1
TERMINATE_S = 4.0  # seconds from terminate to the final FAILED at speed 1
_NS = uuid.UUID("6c0f1f0e-4b7a-4c35-9a53-4d1b5a3f2e10")
ARTIFACT_ROOT = "minio://mlpipeline/v2/artifacts"


def task_uuid(run_id: str, name: str) -> str:
    """Stable task id: the same run and task name always give the same id."""
    return str(uuid.uuid5(_NS, f"{run_id}/{name}"))


def _fail_names(params: dict[str, Any], attempt: int) -> set[str]:
    target = params.get("fail_task")
    try:
        attempts = int(params.get("fail_attempts", 1))
    except (TypeError, ValueError):
        attempts = 1
    if isinstance(target, str) and target and attempt < attempts:
        return {target}
    return set()


MAX_DURATION_SCALE = 1000.0
MAX_FAIL_ATTEMPTS = 1000


def check_simulation_params(params: dict[str, Any]) -> None:
    """Refuse unusable simulation parameters at CreateRun (400 code 3)."""
    scale = params.get("duration_scale")
    if "duration_scale" in params and not (
        isinstance(scale, (int, float))
        and not isinstance(scale, bool)
        and 0 < scale <= MAX_DURATION_SCALE
    ):
        raise _bad_param(
            "duration_scale",
            scale,
            f"a positive number at most {MAX_DURATION_SCALE:g}",
        )
    attempts = params.get("fail_attempts")
    if "fail_attempts" in params and not (
        isinstance(attempts, (int, float))
        and not isinstance(attempts, bool)
        and 0 <= attempts <= MAX_FAIL_ATTEMPTS
        and attempts == int(attempts)
    ):
        raise _bad_param(
            "fail_attempts", attempts, f"a whole number from 0 to {MAX_FAIL_ATTEMPTS}"
        )
    target = params.get("fail_task")
    if "fail_task" in params and not isinstance(target, str):
        raise _bad_param("fail_task", target, "a task name (string)")


def _bad_param(name: str, value: Any, expected: str) -> RpcError:
    shown = json.dumps(value)[:60]
    return invalid(
        f"runtime_config.parameters.{name} must be {expected} (embedded server "
        f"simulation parameter); got {shown}",
        context="Failed to create a run",
    )


def duration_scale(params: dict[str, Any]) -> float:
    """The run's ``duration_scale`` parameter (default 1): task durations × it."""
    value = params.get("duration_scale", 1)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return 1.0
    return float(value)


def _place(
    entries: list[dict[str, Any]],
    parent: str | None,
    group_start: float,
    speed: float,
    fail: set[str],
) -> tuple[float, bool]:
    """Times for one DAG's tasks (recursively); returns (end, failed)."""
    by_name = {e["name"]: e for e in entries}
    end, failed = group_start, False
    for e in entries:
        if e["parent"] != parent:
            continue
        if e.get("kept"):
            end = max(end, e["end"])
            continue
        deps = [by_name[d] for d in e["depends_on"] if d in by_name]
        if any(d.get("omitted") or d.get("fail") for d in deps):
            e.update(omitted=True, fail=False, start=None, end=None)
            continue
        e["omitted"] = False
        start = max([group_start, *(d["end"] for d in deps)])
        children = [c for c in entries if c["parent"] == e["name"]]
        if children:
            child_end, child_failed = _place(entries, e["name"], start, speed, fail)
            e.update(start=start, end=max(child_end, start), fail=child_failed)
        else:
            hit = e["name"] in fail or e["display_name"] in fail
            e.update(start=start, end=start + e["duration_s"] / speed, fail=hit)
            if hit:
                e["error"] = (
                    f"task {e['display_name']!r} failed: exit code 1 "
                    "(requested by the run's fail_task parameter)"
                )
        end = max(end, e["end"])
        failed = failed or e["fail"]
    return end, failed


def make_schedule(
    plans: list[Any], *, created: float, speed: float, params: dict[str, Any]
) -> dict[str, Any]:
    """A fresh schedule for a run created at ``created``."""
    entries = [
        {
            "name": p.name,
            "display_name": p.display_name,
            "parent": p.parent,
            "depends_on": list(p.depends_on),
            "duration_s": p.duration_s * duration_scale(params),
            "outputs": [[o.key, o.artifact_type, o.file_name] for o in p.outputs],
        }
        for p in plans
    ]
    for e in entries:
        e["dag"] = any(c["parent"] == e["name"] for c in entries)
    start = created + PENDING_S / speed
    end, failed = _place(entries, None, start, speed, _fail_names(params, 0))
    return {
        "start": start,
        "end": end,
        "failed": failed,
        "tasks": entries,
        "attempt": 0,
        "done": [],
    }


def terminate_schedule(
    sched: dict[str, Any], *, now: float, speed: float, final_state: str = "FAILED"
) -> None:
    """Cut the schedule at ``now``: running tasks fail, later ones never start.

    The run ends ``final_state``: FAILED as Argo reports it, or CANCELED when the
    server runs with ``--terminate-final CANCELED``.
    """
    delay = max(1.0, TERMINATE_S / speed)
    final = now + delay
    for e in sched["tasks"]:
        if e.get("omitted") or e["start"] is None:
            continue
        if e["start"] > now:
            e.update(omitted=True, start=None, end=None, fail=False)
        elif e["end"] > now:
            e.update(end=final, fail=True, error="terminated")
    if sched["start"] is not None and sched["start"] > now:
        sched["start"] = None
    sched.update(
        terminated=now,
        canceling_at=now + delay / 2,
        end=final,
        failed=True,
        final_state=final_state,
    )


def retry_schedule(
    sched: dict[str, Any], *, now: float, speed: float, params: dict[str, Any]
) -> None:
    """Re-run failed and skipped tasks from ``now``; succeeded ones are kept."""
    attempt = sched.get("attempt", 0) + 1
    for e in sched["tasks"]:
        ran_ok = not e.get("omitted") and not e.get("fail") and e["start"] is not None
        e["kept"] = ran_ok
        if not ran_ok:
            e["rerun"] = True
            e.pop("error", None)
    begin = now + 0.5 / speed
    end, failed = _place(
        sched["tasks"], None, begin, speed, _fail_names(params, attempt)
    )
    sched.update(
        attempt=attempt, end=max(end, begin), failed=failed, done=["start"],
        terminated=None, canceling_at=None, retried_at=now, final_state=None,
    )  # fmt: skip
    if sched.get("start") is None:
        sched["start"] = begin


def _next_event(sched: dict[str, Any], now: float) -> float | None:
    times = [sched.get("start"), sched.get("canceling_at"), sched.get("end")]
    for e in sched["tasks"]:
        times.extend((e.get("start"), e.get("end")))
    future = [t for t in times if t is not None and t > now]
    return min(future) if future else None


class _Context:
    """What task writes need: the run row, its parameters and pipeline name."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.run_id = row["run_id"]
        config = json.loads(row["runtime_config"]) if row["runtime_config"] else {}
        self.params = (config or {}).get("parameters") or {}
        self.pipeline = row["pipeline_name"] or "pipeline"
        self.seed = row["seed"]


def reconcile(store: Store, db: sqlite3.Connection, run_id: str, now: float) -> None:
    """Bring one run and its tasks to what its schedule says for ``now``."""
    row = store.run_row(db, run_id)
    if row is None or not row["schedule"]:
        return
    sched = json.loads(row["schedule"])
    if row["state"] == "PAUSED" and not sched.get("terminated"):
        db.execute("UPDATE runs SET next_event=NULL WHERE run_id=?", (run_id,))
        return
    ctx = _Context(row)
    done = set(sched.get("done", []))
    history = json.loads(row["state_history"])
    state, finished = row["state"], row["finished_at"]
    start, end = sched.get("start"), sched["end"]
    if start is not None and start <= now and "start" not in done:
        done.add("start")
        if not sched.get("terminated") or start <= sched["terminated"]:
            history = store.append_history(history, "RUNNING", int(start))
            if state == "PENDING":
                state = "RUNNING"
    canceling = sched.get("canceling_at")
    if canceling is not None and canceling <= now and "canceling" not in done:
        done.add("canceling")
        history = store.append_history(history, "CANCELING", int(canceling))
    _reconcile_tasks(store, db, ctx, sched, now)
    if end <= now and "end" not in done:
        done.add("end")
        state = "FAILED" if sched["failed"] else "SUCCEEDED"
        if sched.get("terminated") is not None:
            state = sched.get("final_state") or "FAILED"
        finished = int(end)
        error = _run_error(sched) if state == "FAILED" else None
        history = store.append_history(history, state, finished, error)
    sched["done"] = sorted(done)
    conditions = {"CANCELING": "Terminating"}.get(state, state.capitalize())
    db.execute(
        "UPDATE runs SET state=?, conditions=?, finished_at=?, state_history=?, "
        "schedule=?, next_event=? WHERE run_id=?",
        (
            state, conditions, finished, dumps(history), dumps(sched),
            _next_event(sched, now), run_id,
        ),
    )  # fmt: skip


def _run_error(sched: dict[str, Any]) -> dict[str, Any]:
    failed = [e for e in sched["tasks"] if e.get("fail") and e.get("error")]
    text = "; ".join(e["error"] for e in failed[:3]) or "run failed"
    return {"code": 2, "message": text}


def _reconcile_tasks(
    store: Store,
    db: sqlite3.Connection,
    ctx: _Context,
    sched: dict[str, Any],
    now: float,
) -> None:
    start = sched.get("start")
    if start is None or start > now:
        return
    root = {
        "name": "root", "display_name": ctx.pipeline, "parent": "#", "start": start,
        "end": sched["end"], "fail": sched["failed"], "outputs": [],
        "error": _run_error(sched)["message"] if sched["failed"] else None,
        "rerun_before": sched.get("retried_at"),
    }  # fmt: skip
    if sched.get("terminated") is not None:
        root["error"] = "terminated"
    ids = {"root": task_uuid(ctx.run_id, "root")}
    _apply_task(store, db, ctx, root, now, parent_id=None, scope="root", ids=ids)
    scopes: dict[str | None, str] = {None: "root"}
    for e in sched["tasks"]:
        ids[e["name"]] = task_uuid(ctx.run_id, e["name"])
        scopes[e["name"]] = f"{scopes.get(e['parent'], 'root')}.{short_name(e)}"
    for e in sched["tasks"]:
        if e.get("omitted") or e.get("start") is None or e["start"] > now:
            continue
        parent_id = ids[e["parent"]] if e["parent"] else ids["root"]
        _apply_task(
            store, db, ctx, e, now, parent_id=parent_id, scope=scopes[e["name"]],
            ids=ids,
        )  # fmt: skip


def short_name(entry: dict[str, Any]) -> str:
    """The task's key in its own DAG (plan names are qualified when ambiguous)."""
    parent = entry.get("parent")
    name = entry["name"]
    if parent and parent not in ("#",) and name.startswith(parent + "."):
        return name[len(parent) + 1 :]
    return name


def _pods(ctx: _Context, name: str, attempt: int) -> list[dict[str, str]]:
    base = f"{ctx.pipeline.lower().replace(' ', '-')[:30]}-{ctx.run_id[:8]}"
    code = zlib.crc32(f"{ctx.run_id}/{name}/{attempt}".encode())
    return [
        {"name": f"{base}-{code % 10**10}", "uid": str(uuid.uuid5(_NS, f"{code}d")),
         "type": "DRIVER"},
        {"name": f"{base}-{(code // 7) % 10**10}", "uid": str(uuid.uuid5(_NS, f"{code}e")),
         "type": "EXECUTOR"},
    ]  # fmt: skip


def _apply_task(
    store: Store,
    db: sqlite3.Connection,
    ctx: _Context,
    e: dict[str, Any],
    now: float,
    *,
    parent_id: str | None,
    scope: str,
    ids: dict[str, str],
) -> None:
    task_id = ids[e["name"]]
    row = store.task_row(db, task_id)
    start = int(e["start"])
    is_root = parent_id is None
    if row is None:
        history = store.append_history([], "RUNNING", start)
        type_num = 0 if is_root else (7 if e.get("dag") else 1)
        inputs = _root_inputs(ctx) if is_root else {}
        pods = [] if is_root else _pods(ctx, e["name"], 0)
        db.execute(
            "INSERT INTO tasks(task_id, run_id, plan_name, name, display_name, pods, "
            "create_time, start_time, state_num, state_history, type_num, "
            "parent_task_id, inputs, outputs, scope_path, cache_fingerprint) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                task_id, ctx.run_id, e["name"], short_name(e), e["display_name"],
                dumps(pods), start, start, TASK_STATE_NUMBER["RUNNING"],
                dumps(history), type_num, parent_id, dumps(inputs), dumps({}),
                scope, f"{zlib.crc32(scope.encode()):08x}",
            ),
        )  # fmt: skip
        row = store.task_row(db, task_id)
    state_num = row["state_num"]
    history = json.loads(row["state_history"])
    rerun = e.get("rerun") or (
        e.get("rerun_before") is not None and row["end_time"] <= e["rerun_before"]
    )
    if rerun and state_num == TASK_STATE_NUMBER["FAILED"]:
        history = store.append_history(history, "RUNNING", start)
        pods = [] if is_root else _pods(ctx, e["name"], 1)
        db.execute(
            "UPDATE tasks SET state_num=?, state_history=?, end_time=0, error=NULL, "
            "status_metadata=NULL, pods=? WHERE task_id=?",
            (TASK_STATE_NUMBER["RUNNING"], dumps(history), dumps(pods), task_id),
        )
        e["rerun"] = False
        state_num = TASK_STATE_NUMBER["RUNNING"]
    if state_num != TASK_STATE_NUMBER["RUNNING"] or e["end"] is None or e["end"] > now:
        return
    end = int(e["end"])
    if e.get("fail"):
        message = e.get("error") or "a child task failed"
        error = {"code": 2, "message": message}
        history = store.append_history(history, "FAILED", end, error)
        db.execute(
            "UPDATE tasks SET state_num=?, state_history=?, end_time=?, error=?, "
            "status_metadata=? WHERE task_id=?",
            (
                TASK_STATE_NUMBER["FAILED"], dumps(history), end, dumps(error),
                dumps({"message": message}), task_id,
            ),
        )  # fmt: skip
        return
    history = store.append_history(history, "SUCCEEDED", end)
    outputs = _outputs(ctx, e, end, task_id) if e.get("outputs") else {}
    db.execute(
        "UPDATE tasks SET state_num=?, state_history=?, end_time=?, outputs=? "
        "WHERE task_id=?",
        (TASK_STATE_NUMBER["SUCCEEDED"], dumps(history), end, dumps(outputs), task_id),
    )


def _root_inputs(ctx: _Context) -> dict[str, Any]:
    params = [
        {"value": value, "type": "RUNTIME_VALUE_INPUT", "parameter_key": key}
        for key, value in sorted(ctx.params.items())
    ]
    return {"parameters": params} if params else {}


def output_plan(entry: list[Any]) -> Any:
    """``[key, type, file]`` from a schedule → the ``OutputPlan`` it stands for."""
    from ._pipelines import OutputPlan

    return OutputPlan(key=entry[0], artifact_type=entry[1], file_name=entry[2])


def artifact_uri(pipeline: str, run_id: str, task: str, key: str) -> str:
    """``<root>/<pipeline>/<run_id>/<task>/<salt>/<key>``, as the launcher writes."""
    slug = re.sub(r"[^a-z0-9]+", "-", pipeline.lower()).strip("-") or "pipeline"
    salt = zlib.crc32(f"{run_id}/{task}/{key}".encode())
    return f"{ARTIFACT_ROOT}/{slug}/{run_id}/{task}/{salt}/{key}"


def _outputs(
    ctx: _Context, e: dict[str, Any], end: int, task_id: str
) -> dict[str, Any]:
    from ._content import artifact_content

    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end))
    groups = []
    for entry in e["outputs"]:
        plan = output_plan(entry)
        metadata, _ = artifact_content(
            run_id=ctx.run_id, task_name=e["name"], output=plan, params=ctx.params,
            seed=ctx.seed,
        )  # fmt: skip
        art_id = str(uuid.uuid5(_NS, f"{task_id}/{plan.key}"))
        if plan.artifact_type == "Metric":
            arts = [
                {"artifact_id": f"{art_id}-{i}", "name": k, "type": "Metric",
                 "number_value": v, "metadata": {k: v}, "created_at": created}
                for i, (k, v) in enumerate(sorted(metadata.items()))
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            ]  # fmt: skip
        else:
            art = {
                "artifact_id": art_id, "name": plan.key, "type": plan.artifact_type,
                "metadata": metadata, "created_at": created,
            }  # fmt: skip
            if plan.file_name is not None:
                art["uri"] = artifact_uri(
                    ctx.pipeline, ctx.run_id, short_name(e), plan.key
                )
            arts = [art]
        groups.append(
            {"artifacts": arts, "type": "OUTPUT", "artifact_key": plan.key,
             "producer": {"task_name": short_name(e)}}
        )  # fmt: skip
    return {"artifacts": groups}


class Simulator:
    """Background thread applying due schedule events, one short transaction each."""

    def __init__(self, store: Store, *, tick: float = 0.1) -> None:
        self.store = store
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="kfp-nb-sim", daemon=True
        )

    def start(self) -> None:
        self.catch_up()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def catch_up(self) -> None:
        """Apply every due event (used at start, after a restart)."""
        now = time.time()
        with self.store.read() as db:
            due = [
                r[0]
                for r in db.execute(
                    "SELECT run_id FROM runs WHERE next_event IS NOT NULL "
                    "AND next_event <= ?",
                    (now,),
                )
            ]
        for run_id in due:
            try:
                with self.store.tx() as db:
                    reconcile(self.store, db, run_id, time.time())
            except Exception:  # one broken run must not stop the others
                log.exception("simulator failed on run %s", run_id)
                with self.store.tx() as db:
                    db.execute(
                        "UPDATE runs SET next_event=NULL WHERE run_id=?", (run_id,)
                    )

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.catch_up()
            except sqlite3.Error:
                log.exception("simulator tick failed")
