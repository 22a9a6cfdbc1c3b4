"""HTTP routes of the embedded server: the v2beta1 RunService, tasks, experiments.

One Starlette endpoint dispatches on our own route table, so routing errors look
like grpc-gateway's (404 ``{"code":5,"message":"Not Found"}``, 501 code 12 for a
known path with the wrong method). Handlers are plain functions run in the
thread pool; each write is one committed SQLite transaction.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import _states
from . import _query, _schema
from ._demo import register_pipelines, seed_demo
from ._replay import is_snapshot_run, load_snapshot, snapshot_artifact
from ._rules import (
    RpcError,
    check_retry,
    check_terminate,
    gateway_error,
    internal,
    invalid,
    not_found,
)
from ._simulator import (
    Simulator,
    check_simulation_params,
    make_schedule,
    output_plan,
    reconcile,
    retry_schedule,
    terminate_schedule,
)
from ._store import TASK_STATE_NUMBER, TASK_TYPES, Store, dumps, now_s

__all__ = ["create_app"]

log = logging.getLogger(__name__)

API = "/apis/v2beta1"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_ID = r"([^/:]+)"

_RUN_FIELDS = {
    "experiment_id", "run_id", "display_name", "storage_state", "description",
    "pipeline_version_id", "pipeline_spec", "pipeline_version_reference",
    "runtime_config", "service_account", "created_at", "scheduled_at",
    "finished_at", "state", "error", "run_details", "recurring_run_id",
    "state_history", "plugins_input", "plugins_output", "pipeline_reference",
    "task_count", "tasks",
}  # fmt: skip
_EXPERIMENT_FIELDS = {
    "experiment_id", "display_name", "description", "created_at", "namespace",
    "storage_state", "last_run_created_at",
}  # fmt: skip
_TASK_FIELDS = {
    "name", "display_name", "task_id", "run_id", "pods", "cache_fingerprint",
    "create_time", "end_time", "state", "status_metadata", "state_history", "type",
    "type_attributes", "error", "parent_task_id", "child_tasks", "inputs",
    "outputs", "scope_path",
}  # fmt: skip
_NESTED = {
    "pipeline_version_reference": {"pipeline_id", "pipeline_version_id"},
    "pipeline_reference": {"pipeline_id", "pipeline_version_id"},
    "runtime_config": {"parameters", "pipeline_root"},
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _message(
    body: Any, fields: set[str], what: str, schema: _schema.Msg | None = None
) -> dict[str, Any]:
    """Request body → snake_case dict; unknown fields or wrong JSON types → 400."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise gateway_error(
            3,
            f"proto: syntax error: the request body must be a JSON {what} object, "
            f"not {_schema.json_kind(body)}",
        )
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = _snake(key) if key not in fields else key
        if name not in fields:
            raise gateway_error(3, f'proto: unknown field "{key}"')
        if name in _NESTED and value is not None:
            value = _message(value, _NESTED[name], name)
        out[name] = value
    if schema is not None:
        try:
            _schema.check(out, schema, "")
        except RpcError as err:  # name the message, as the field path is relative
            raise gateway_error(3, err.chain.replace("proto: ", f"proto: {what}: ", 1))
        too_long = _schema.over_long(out, schema.name)
        if too_long:
            name, limit = too_long
            # The real server fails the same way (500) when a column is too short.
            raise internal(
                f"Failed to create a {what}: {name} is longer than {limit} "
                f"characters ({len(out[name])}); send at most {limit}"
            )
    return out


def _enum(value: Any, numbers: dict[int, str], field: str) -> str | None:
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value in numbers:
            return numbers[value]
    elif isinstance(value, str) and value in numbers.values():
        return value
    raise gateway_error(3, f"proto: invalid value for enum field {field}: {value!r}")


def _int_param(params: dict[str, str], *names: str) -> int | None:
    for name in names:
        if name in params:
            text = params[name]
            try:
                return _schema.to_int(text, "int32") if text != "" else None
            except (TypeError, ValueError):
                raise gateway_error(
                    3,
                    f"type mismatch, parameter: {names[0]}, error: strconv.ParseInt: "
                    f'parsing "{text}": invalid syntax',
                ) from None
    return None


def _param(params: dict[str, str], *names: str) -> str:
    for name in names:
        if name in params:
            return params[name]
    return ""


def _view(params: dict[str, str]) -> str:
    value = _param(params, "view")
    views = {"": "DEFAULT", "0": "DEFAULT", "1": "FULL", "DEFAULT": "DEFAULT"}
    views["FULL"] = "FULL"
    views["RUN_VIEW_UNSPECIFIED"] = "DEFAULT"
    if value not in views:
        raise gateway_error(
            3,
            f"type mismatch, parameter: view, error: {value!r} is not a valid "
            "RunView (DEFAULT or FULL)",
        )
    return views[value]


def _ts_seconds(value: Any) -> int:
    from .._models import parse_timestamp

    try:
        when = parse_timestamp(value)
    except ValueError as exc:
        raise gateway_error(3, f"proto: {exc}") from None
    return int(when.timestamp()) if when else 0


def _bindable(value: Any) -> bool:
    """A value SQLite can bind: null, a 64-bit int, a float, valid UTF-8 text."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return not _SURROGATE.search(value)
    return value is None or isinstance(value, float)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_token_values(token: str) -> None:
    """Refuse a forged page token whose values SQLite could not bind (400).

    ``build_list_query`` checks the token's column names; its values reach SQL
    as parameters, so a dict, a list, an unknown operation or a 65-bit number
    put there by hand must be refused here, not fail inside SQLite (500).
    Undecodable tokens are left to ``build_list_query``.
    """
    if not token:
        return
    try:
        payload = json.loads(base64.b64decode(token.encode(), validate=True))
    except (ValueError, UnicodeError):
        return
    if not isinstance(payload, dict):
        return
    ok = all(_bindable(payload.get(k)) for k in ("SortByFieldValue", "KeyFieldValue"))
    entries = payload.get("Filter") or []
    for entry in entries if isinstance(entries, list) else []:
        if not (isinstance(entry, list) and len(entry) == 4):
            continue
        key, op, _, value = entry
        if op == _query.OPERATIONS["IN"]:
            good = isinstance(value, list) and all(map(_bindable, value))
        elif op == _query.OPERATIONS["IS_SUBSTRING"]:
            good = isinstance(value, str) and _bindable(value)
        else:
            good = op in _query.OPERATIONS.values() and _bindable(value)
        ok = ok and good and isinstance(key, str) and type(op) is int
    if not ok:
        raise invalid("Invalid page token", context="Failed to list")


class Api:
    """The handlers, over one store and one simulator."""

    def __init__(
        self, store: Store, *, speed: float, terminate_final: str = "FAILED"
    ) -> None:
        self.store = store
        self.speed = speed
        self.terminate_final = terminate_final

    # -- healthz ----------------------------------------------------------------

    def healthz(self, req: dict[str, Any]) -> dict[str, Any]:
        from .. import __version__

        return {
            "commit_sha": "unknown",
            # Lets a notebook tell this server from a real cluster.
            "tag_name": f"kfp-nb-embedded/{__version__}",
            "multi_user": False,
            "pipeline_store": "database",
        }

    # -- runs -------------------------------------------------------------------

    def create_run(self, req: dict[str, Any]) -> dict[str, Any]:
        body = _message(req["body"], _RUN_FIELDS, "Run", _schema.RUN)
        if body.get("plugins_output"):
            raise RpcError(
                10,
                "Failed to create a run: BadRequestError: plugins_output is "
                "server-owned and cannot be set by the client",
                "plugins_output is server-owned and cannot be set by the client",
            )
        name = body.get("display_name") or ""
        if not isinstance(name, str) or not name:
            raise internal(
                "Failed to create a run: Failed to convert a run: "
                "Run name cannot be empty. Set display_name in the request body"
            )
        storage = _enum(body.get("storage_state"), _states.STORAGE_STATE_NUMBERS,
                        "storage_state") or "AVAILABLE"  # fmt: skip
        if storage == "STORAGE_STATE_UNSPECIFIED":
            storage = "AVAILABLE"
        config = body.get("runtime_config")
        if config is not None and not isinstance(config.get("parameters", {}), dict):
            raise gateway_error(3, "proto: runtime_config.parameters must be an object")
        params = (config or {}).get("parameters") or {}
        check_simulation_params(params)
        with self.store.tx() as db:
            exp_id = body.get("experiment_id") or ""
            if exp_id:
                if self.store.experiment_row(db, exp_id) is None:
                    raise not_found(
                        "Experiment", exp_id,
                        context="Failed to create a run: Failed to fetch experiment",
                    )  # fmt: skip
            else:
                exp_id = self.store.default_experiment_id(db)
            spec, pipeline_id, version_id, plans, pname = self._template(db, body)
            run_id = str(uuid.uuid4())
            created = now_s()
            seed = params.get("seed") if isinstance(params.get("seed"), int) else None
            seed = seed if seed is not None else zlib.crc32(run_id.encode())
            sched = make_schedule(plans, created=created, speed=self.speed,
                                  params=params)  # fmt: skip
            history = self.store.append_history([], "PENDING", created)
            db.execute(
                "INSERT INTO runs(run_id, experiment_id, display_name, description, "
                "storage_state, pipeline_spec, pipeline_id, pipeline_version_id, "
                "runtime_config, service_account, created_at, scheduled_at, "
                "finished_at, state, conditions, state_history, recurring_run_id, "
                "pipeline_name, seed, schedule, next_event) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id, exp_id, name, body.get("description") or "", storage,
                    dumps(spec) if spec is not None else None, pipeline_id,
                    version_id, dumps(config) if config else None,
                    body.get("service_account") or "pipeline-runner", created,
                    _ts_seconds(body.get("scheduled_at")) or created,
                    _ts_seconds(body.get("finished_at")), "PENDING", "Pending",
                    dumps(history), body.get("recurring_run_id") or "", pname, seed,
                    dumps(sched), sched["start"],
                ),
            )  # fmt: skip
            db.execute(
                "UPDATE experiments SET last_run_created_at=? WHERE experiment_id=?",
                (created, exp_id),
            )
            return self.store.run_wire(db, self.store.run_row(db, run_id))

    def _template(self, db: Any, body: dict[str, Any]) -> tuple[Any, ...]:
        """(spec to store, pipeline id, version id, task plans, pipeline name)."""
        from ._pipelines import pipeline_name, plan_from_spec

        prefix = "Failed to create a run: Failed to create a run due to error "
        prefix += "fetching manifest"
        spec = body.get("pipeline_spec")
        ref = body.get("pipeline_version_reference") or body.get("pipeline_reference")
        if spec is not None:
            try:
                return spec, "", "", plan_from_spec(spec), pipeline_name(spec)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                raise internal(
                    f"{prefix}: pipeline_spec is not usable: {exc}"
                ) from None
        if ref:
            pipeline_id = ref.get("pipeline_id") or ""
            version_id = ref.get("pipeline_version_id") or ""
            row = self.store.pipeline_spec(db, pipeline_id, version_id)
            if row is None or (pipeline_id and row["pipeline_id"] != pipeline_id):
                raise internal(
                    f"{prefix}: ResourceNotFoundError: pipeline {pipeline_id!r} "
                    f"version {version_id!r} not found; the embedded server knows "
                    "only its demo pipelines, or send pipeline_spec instead"
                )
            stored = json.loads(row["spec"])
            return (
                None, row["pipeline_id"], row["pipeline_version_id"],
                plan_from_spec(stored), row["name"],
            )  # fmt: skip
        raise internal(
            f"{prefix}: the run has neither pipeline_spec nor "
            "pipeline_version_reference; send one of them"
        )

    def _run_or_404(self, db: Any, run_id: str, context: str) -> Any:
        row = self.store.run_row(db, run_id)
        if row is None:
            raise not_found("Run", run_id, context=context)
        return row

    def get_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        view = _view(req["query"])
        with self.store.read() as db:
            row = self._run_or_404(
                db, run_id, f"Failed to get a run: Failed to fetch run {run_id}"
            )
            return self.store.run_wire(db, row, view=view)

    def list_runs(self, req: dict[str, Any]) -> dict[str, Any]:
        q = req["query"]
        view = _view(q)
        query = self._list_query(_query.RUNS, q, "sort_by", "sortBy")
        exp_id = _param(q, "experiment_id", "experimentId")
        with self.store.read() as db:
            scope, args = [], []
            if exp_id:
                if self.store.experiment_row(db, exp_id) is None:
                    raise not_found(
                        "Experiment", exp_id,
                        context="Failed to list runs due to error fetching namespace "
                        f"for experiment {exp_id}",
                    )  # fmt: skip
                scope, args = ["experiment_id = ?"], [exp_id]
            rows, total, token = self.store.list_rows(
                db, query, scope=scope, scope_args=args
            )
            runs = [self.store.run_wire(db, r, view=view) for r in rows]
        return _page("runs", runs, total, token)

    def _list_query(self, kind: Any, q: dict[str, str], *sort_names: str) -> Any:
        page_token = _param(q, "page_token", "pageToken")
        _check_token_values(page_token)
        return _query.build_list_query(
            kind,
            page_size=_int_param(q, "page_size", "pageSize"),
            page_token=page_token,
            sort_by=_param(q, *sort_names),
            filter_text=_param(q, "filter"),
        )

    def delete_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        with self.store.tx() as db:
            self._run_or_404(db, run_id, f"Failed to delete a run {run_id}")
            db.execute("DELETE FROM tasks WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id=?", (run_id,))
            _forget_snapshot_runs(db, "run_id = ?", (run_id,))
        return {}

    def archive_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        with self.store.tx() as db:
            self._run_or_404(db, run_id, f"Failed to archive a run {run_id}")
            db.execute(
                "UPDATE runs SET storage_state='ARCHIVED' WHERE run_id=?", (run_id,)
            )
        return {}

    def unarchive_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        with self.store.tx() as db:
            row = self._run_or_404(db, run_id, f"Failed to unarchive a run {run_id}")
            exp = self.store.experiment_row(db, row["experiment_id"])
            if exp is not None and exp["storage_state"] == "ARCHIVED":
                detail = (
                    f"Failed to unarchive run {run_id} as experiment "
                    f"{row['experiment_id']} must be un-archived first"
                )
                raise RpcError(
                    9, f"Failed to unarchive a run {run_id}: {detail}", detail
                )
            db.execute(
                "UPDATE runs SET storage_state='AVAILABLE' WHERE run_id=?", (run_id,)
            )
        return {}

    def terminate_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        with self.store.tx() as db:
            row = self._run_or_404(db, run_id, f"Failed to terminate run {run_id}")
            _refuse_frozen(db, run_id, "terminate")
            now = time.time()
            reconcile(self.store, db, run_id, now)
            row = self.store.run_row(db, run_id)
            check_terminate(run_id, row["state"])
            sched = json.loads(row["schedule"]) if row["schedule"] else None
            if sched is None:
                sched = make_schedule([], created=now, speed=self.speed, params={})
                sched["start"] = None
            terminate_schedule(
                sched, now=now, speed=self.speed, final_state=self.terminate_final
            )
            db.execute(
                "UPDATE runs SET state='CANCELING', conditions='Terminating', "
                "schedule=?, next_event=? WHERE run_id=?",
                (dumps(sched), now, run_id),
            )
        return {}

    def retry_run(self, req: dict[str, Any]) -> dict[str, Any]:
        run_id = req["path"][0]
        with self.store.tx() as db:
            row = self._run_or_404(db, run_id, f"Failed to retry run {run_id}")
            _refuse_frozen(db, run_id, "retry")
            now = time.time()
            reconcile(self.store, db, run_id, now)
            row = self.store.run_row(db, run_id)
            check_retry(run_id, row["state"])
            config = json.loads(row["runtime_config"]) if row["runtime_config"] else {}
            params = (config or {}).get("parameters") or {}
            sched = json.loads(row["schedule"]) if row["schedule"] else None
            if sched is None:
                sched = make_schedule([], created=now, speed=self.speed, params={})
            retry_schedule(sched, now=now, speed=self.speed, params=params)
            history = self.store.append_history(
                json.loads(row["state_history"]), "RUNNING", int(now)
            )
            db.execute(
                "UPDATE runs SET state='RUNNING', conditions='Running', finished_at=0, "
                "state_history=?, schedule=?, next_event=? WHERE run_id=?",
                (dumps(history), dumps(sched), now, run_id),
            )
        return {}

    def read_artifact(self, req: dict[str, Any]) -> Any:
        from ._content import artifact_content, tgz_single

        run_id, node_id, name = req["path"]
        missing = not_found(
            "artifact", f"runs/{run_id}/nodes/{node_id}/artifacts/{name}",
            context="Failed to read artifact",
        )  # fmt: skip
        with self.store.read() as db:
            run = self.store.run_row(db, run_id)
            if run is None:
                raise missing
            task = db.execute(
                "SELECT * FROM tasks WHERE run_id=? AND (task_id=? OR EXISTS ("
                "SELECT 1 FROM json_each(tasks.pods) "
                "WHERE json_extract(value, '$.name') = ?))",
                (run_id, node_id, node_id),
            ).fetchone()
            if task is not None and is_snapshot_run(db, run_id):
                return _snapshot_payload(db, run_id, task["task_id"], name, missing)
        if task is None or not run["schedule"]:
            raise missing
        if task["state_num"] != TASK_STATE_NUMBER["SUCCEEDED"]:
            raise missing
        sched = json.loads(run["schedule"])
        entry = next(
            (e for e in sched["tasks"] if e["name"] == task["plan_name"]), None
        )
        out = next((o for o in (entry or {}).get("outputs", []) if o[0] == name), None)
        if out is None or out[2] is None:
            raise missing
        config = json.loads(run["runtime_config"]) if run["runtime_config"] else {}
        _, data = artifact_content(
            run_id=run_id, task_name=task["plan_name"], output=output_plan(out),
            params=(config or {}).get("parameters") or {}, seed=run["seed"],
        )  # fmt: skip
        if data is None:
            raise missing
        payload = base64.b64encode(tgz_single(out[2], data)).decode()
        return _Raw({"data": payload}, {"Cache-Control": "no-cache, private"})

    # -- tasks ------------------------------------------------------------------

    def create_task(self, req: dict[str, Any]) -> dict[str, Any]:
        if not req["body"]:
            raise invalid("Task is required", context="Failed to create a task")
        body = _task_body(req["body"])
        run_id = body.get("run_id") or ""
        now = now_s()
        with self.store.tx() as db:
            self._run_or_404(db, run_id, "Failed to create a task")
            task_id = str(uuid.uuid4())
            created = _ts_seconds(body.get("create_time")) or now
            state = body.get("state")
            history = body.get("state_history") or []
            if state:
                history = self.store.append_history(history, state, now)
            db.execute(
                "INSERT INTO tasks(task_id, run_id, plan_name, name, display_name, "
                "pods, cache_fingerprint, create_time, start_time, end_time, "
                "state_num, status_metadata, state_history, type_num, "
                "type_attributes, error, parent_task_id, inputs, outputs, scope_path) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    task_id, run_id, "", body.get("name") or "",
                    body.get("display_name") or "", dumps(body.get("pods") or []),
                    body.get("cache_fingerprint") or "", created, created,
                    _ts_seconds(body.get("end_time")),
                    TASK_STATE_NUMBER.get(state, 0) if state else 0,
                    _opt_json(body.get("status_metadata")), dumps(history),
                    body.get("type_num", 0), _opt_json(body.get("type_attributes")),
                    _opt_json(body.get("error")), body.get("parent_task_id") or None,
                    dumps(_io(body.get("inputs"))), dumps(_io(body.get("outputs"))),
                    body.get("scope_path") or "",
                ),
            )  # fmt: skip
            return self.store.task_wire(db, self.store.task_row(db, task_id))

    def get_task(self, req: dict[str, Any]) -> dict[str, Any]:
        task_id = req["path"][0]
        with self.store.read() as db:
            row = self.store.task_row(db, task_id)
            if row is None:
                raise not_found("task", task_id, context="Failed to get task")
            return self.store.task_wire(db, row)

    def update_task(self, req: dict[str, Any]) -> dict[str, Any]:
        task_id = req["path"][0]
        if req["body"] is None:  # no body at all; {} is an update of nothing
            raise invalid("Task is required", context="Failed to update task")
        body = _task_body(req["body"])
        with self.store.tx() as db:
            return self._update_task(db, task_id, body)

    def batch_update_tasks(self, req: dict[str, Any]) -> dict[str, Any]:
        body = req["body"] if req["body"] is not None else {}
        if not isinstance(body, dict) or set(body) - {"tasks"}:
            raise gateway_error(3, "proto: unknown field in UpdateTasksBulkRequest")
        tasks = body.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise gateway_error(
                3,
                'proto: invalid value for map field "tasks": got '
                f"{_schema.json_kind(tasks)}; send an object of task id → task",
            )
        if not tasks:
            raise invalid(
                "UpdateTasksBulkRequest must contain at least one task",
                context="Failed to update tasks",
            )
        out = {}
        for task_id, item in tasks.items():
            # Each update commits on its own: a later failure keeps earlier ones,
            # as on the real server.
            with self.store.tx() as db:
                out[task_id] = self._update_task(db, task_id, _task_body(item))
        return {"tasks": out}

    def _update_task(self, db: Any, task_id: str, body: dict[str, Any]) -> Any:
        if body.get("task_id") and body["task_id"] != task_id:
            raise invalid(
                "Task ID in path parameter does not match task ID in request body",
                context="Failed to update task",
            )
        row = self.store.task_row(db, task_id)
        if row is None:
            raise not_found("task", task_id, context="Failed to update task")
        sets: dict[str, Any] = {}
        for field in ("run_id", "name", "display_name", "cache_fingerprint"):
            if body.get(field):
                sets[field] = body[field]
        if "parent_task_id" in body:
            sets["parent_task_id"] = body["parent_task_id"] or None
        if body.get("type_num"):
            sets["type_num"] = body["type_num"]
        if body.get("end_time"):
            sets["end_time"] = _ts_seconds(body["end_time"])
        for field in ("pods", "status_metadata", "type_attributes"):
            if field in body:
                sets[field] = dumps(body[field])
        if body.get("state"):
            sets["state_num"] = TASK_STATE_NUMBER.get(body["state"], 0)
            history = json.loads(row["state_history"])
            sets["state_history"] = dumps(
                self.store.append_history(history, body["state"], now_s())
            )
        for field in ("inputs", "outputs"):
            if body.get(field) and body[field].get("parameters"):
                stored = json.loads(row[field])
                stored["parameters"] = _merge_parameters(
                    stored.get("parameters") or [], body[field]["parameters"]
                )
                sets[field] = dumps(stored)
        if sets:
            assign = ", ".join(f"{k}=?" for k in sets)
            db.execute(
                f"UPDATE tasks SET {assign} WHERE task_id=?", [*sets.values(), task_id]
            )
        return self.store.task_wire(db, self.store.task_row(db, task_id))

    def list_tasks(self, req: dict[str, Any]) -> dict[str, Any]:
        q = req["query"]
        chosen = [
            f for f, names in (
                ("run_id", ("run_id", "runId")),
                ("parent_id", ("parent_id", "parentId")),
                ("namespace", ("namespace",)),
            ) if any(n in q for n in names)
        ]  # fmt: skip
        if len(chosen) > 1:
            raise gateway_error(
                3,
                f'field already set for oneof "{chosen[0]}" of '
                "kubeflow.pipelines.backend.api.v2beta1.ListTasksRequest: "
                f"send only one of run_id, parent_id or namespace (got {chosen})",
            )
        query = self._list_query(_query.TASKS, q, "order_by", "orderBy")
        run_id = _param(q, "run_id", "runId")
        parent_id = _param(q, "parent_id", "parentId")
        with self.store.read() as db:
            scope, args = [], []
            if run_id:
                scope, args = ["run_id = ?"], [run_id]
            elif parent_id:
                if self.store.task_row(db, parent_id) is None:
                    raise not_found("task", parent_id, context="Failed to list tasks")
                scope, args = ["parent_task_id = ?"], [parent_id]
            rows, total, token = self.store.list_rows(
                db, query, scope=scope, scope_args=args
            )
            tasks = [self.store.task_wire(db, r) for r in rows]
        return _page("tasks", tasks, total, token)

    # -- experiments ------------------------------------------------------------

    def list_experiments(self, req: dict[str, Any]) -> dict[str, Any]:
        query = self._list_query(_query.EXPERIMENTS, req["query"], "sort_by", "sortBy")
        with self.store.read() as db:
            rows, total, token = self.store.list_rows(
                db, query, scope=["namespace = ''"]
            )
            items = [self.store.experiment_wire(r) for r in rows]
        return _page("experiments", items, total, token)

    def get_experiment(self, req: dict[str, Any]) -> dict[str, Any]:
        exp_id = req["path"][0]
        with self.store.read() as db:
            row = self._experiment_or_404(db, exp_id, "Failed to get an experiment")
            return self.store.experiment_wire(row)

    def _experiment_or_404(self, db: Any, exp_id: str, context: str) -> Any:
        row = self.store.experiment_row(db, exp_id)
        if row is None:
            raise not_found("Experiment", exp_id, context=context)
        return row

    def create_experiment(self, req: dict[str, Any]) -> dict[str, Any]:
        body = _message(
            req["body"], _EXPERIMENT_FIELDS, "Experiment", _schema.EXPERIMENT
        )
        name = body.get("display_name") or ""
        if not name:
            raise internal(
                "Failed to create an experiment: Experiment name cannot be empty. "
                "Set display_name in the request body"
            )
        with self.store.tx() as db:
            self.store.default_experiment_id(db)
            clash = db.execute(
                "SELECT 1 FROM experiments WHERE display_name=? AND namespace=''",
                (name,),
            ).fetchone()
            if clash:
                detail = (
                    f"Failed to create a new experiment. The name {name} already "
                    "exists. Please specify a new name"
                )
                raise RpcError(
                    6, f"Failed to create an experiment: AlreadyExistsError: {detail}",
                    detail,
                )  # fmt: skip
            exp_id = self.store.insert_experiment(
                db, name, body.get("description") or "", now_s()
            )
            return self.store.experiment_wire(self.store.experiment_row(db, exp_id))

    def archive_experiment(self, req: dict[str, Any]) -> dict[str, Any]:
        exp_id = req["path"][0]
        with self.store.tx() as db:
            self._experiment_or_404(db, exp_id, "Failed to archive an experiment")
            db.execute(
                "UPDATE experiments SET storage_state='ARCHIVED' WHERE experiment_id=?",
                (exp_id,),
            )
            db.execute(
                "UPDATE runs SET storage_state='ARCHIVED' WHERE experiment_id=?",
                (exp_id,),
            )
        return {}

    def unarchive_experiment(self, req: dict[str, Any]) -> dict[str, Any]:
        exp_id = req["path"][0]
        with self.store.tx() as db:
            self._experiment_or_404(db, exp_id, "Failed to unarchive an experiment")
            db.execute(
                "UPDATE experiments SET storage_state='AVAILABLE' "
                "WHERE experiment_id=?",
                (exp_id,),
            )
        return {}

    def delete_experiment(self, req: dict[str, Any]) -> dict[str, Any]:
        exp_id = req["path"][0]
        with self.store.tx() as db:
            self._experiment_or_404(db, exp_id, "Failed to delete an experiment")
            if exp_id == self.store.default_experiment_id(db):
                detail = (
                    f"Experiment {exp_id} is the default experiment and cannot be "
                    "deleted"
                )
                raise RpcError(
                    10, f"Failed to delete an experiment: BadRequestError: {detail}",
                    detail,
                )  # fmt: skip
            db.execute(
                "DELETE FROM tasks WHERE run_id IN "
                "(SELECT run_id FROM runs WHERE experiment_id=?)",
                (exp_id,),
            )
            _forget_snapshot_runs(
                db, "run_id IN (SELECT run_id FROM runs WHERE experiment_id=?)",
                (exp_id,),
            )  # fmt: skip
            db.execute("DELETE FROM runs WHERE experiment_id=?", (exp_id,))
            db.execute("DELETE FROM experiments WHERE experiment_id=?", (exp_id,))
        return {}


class _Raw:
    """A success body with extra headers."""

    def __init__(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers


def _refuse_frozen(db: Any, run_id: str, action: str) -> None:
    """Snapshot runs are frozen as captured: no terminate or retry (400 code 9)."""
    if not is_snapshot_run(db, run_id):
        return
    detail = (
        f"run {run_id} is replayed from a snapshot and frozen as captured; "
        f"{action} needs the live server the snapshot was taken from"
    )
    raise RpcError(9, f"Failed to {action} run {run_id}: {detail}", detail)


def _forget_snapshot_runs(db: Any, where: str, args: tuple[Any, ...]) -> None:
    db.execute(f"DELETE FROM snapshot_artifacts WHERE {where}", args)
    db.execute(f"DELETE FROM snapshot_runs WHERE {where}", args)


def _snapshot_payload(
    db: Any, run_id: str, task_id: str, name: str, missing: RpcError
) -> _Raw:
    """A snapshot run's artifact: the captured payload, or 404 saying why not."""
    row = snapshot_artifact(db, run_id, task_id, name)
    if row is None:
        raise missing
    if row["status"] != "stored" or row["data"] is None:
        why = {
            "over_cap": "it was over the snapshot cap when the snapshot was taken",
            "not_found": "the source server had no such artifact",
        }.get(row["status"], "it could not be read when the snapshot was taken")
        raise RpcError(
            5,
            f"{missing.chain} in this snapshot: {why} ({row['note']})",
            f"{missing.detail} in this snapshot: {why}",
        )
    payload = base64.b64encode(row["data"]).decode()
    return _Raw({"data": payload}, {"Cache-Control": "no-cache, private"})


def _page(key: str, items: list[Any], total: int, token: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if items:
        out[key] = items
    if total:
        out["total_size"] = total
    if token:
        out["next_page_token"] = token
    return out


def _opt_json(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _io(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise gateway_error(3, "proto: task inputs/outputs must be objects")
    return {k: v for k, v in value.items() if v}


def _task_body(raw: Any) -> dict[str, Any]:
    body = _message(raw, _TASK_FIELDS, "PipelineTaskDetail", _schema.TASK)
    state = _enum(body.get("state"), _states.TASK_STATE_NUMBERS, "state")
    body["state"] = state if state != _states.UNSPECIFIED else None
    type_value = body.get("type")
    if type_value not in (None, "", 0):
        names = dict(enumerate(TASK_TYPES))
        body["type_num"] = TASK_TYPES.index(_enum(type_value, names, "type"))
    for field in ("inputs", "outputs"):
        if field in body and body[field] is not None:
            body[field] = {_snake(k): v for k, v in body[field].items()}
    return body


def _param_key(p: dict[str, Any]) -> tuple[Any, ...]:
    producer = p.get("producer") or {}
    return (
        p.get("type"), p.get("parameter_key") or p.get("parameterKey"),
        producer.get("task_name") or producer.get("taskName"),
        str(producer.get("iteration")),
        json.dumps(p.get("value"), sort_keys=True),
    )  # fmt: skip


def _merge_parameters(old: list[Any], new: list[Any]) -> list[Any]:
    merged = {_param_key(p): p for p in old}
    for p in new:
        merged[_param_key(p)] = p
    return list(merged.values())


def _routes(api: Api) -> list[tuple[re.Pattern[str], dict[str, Callable]]]:
    table = [
        (rf"{API}/healthz", {"*": api.healthz}),
        (rf"{API}/runs", {"GET": api.list_runs, "POST": api.create_run}),
        (rf"{API}/runs/{_ID}", {"GET": api.get_run, "DELETE": api.delete_run}),
        (rf"{API}/runs/{_ID}:archive", {"POST": api.archive_run}),
        (rf"{API}/runs/{_ID}:unarchive", {"POST": api.unarchive_run}),
        (rf"{API}/runs/{_ID}:terminate", {"POST": api.terminate_run}),
        (rf"{API}/runs/{_ID}:retry", {"POST": api.retry_run}),
        (
            rf"{API}/runs/{_ID}/nodes/{_ID}/artifacts/{_ID}:read",
            {"GET": api.read_artifact},
        ),
        (rf"{API}/tasks", {"GET": api.list_tasks, "POST": api.create_task}),
        (rf"{API}/tasks:batchUpdate", {"POST": api.batch_update_tasks}),
        (rf"{API}/tasks/{_ID}", {"GET": api.get_task, "PATCH": api.update_task}),
        (
            rf"{API}/experiments",
            {"GET": api.list_experiments, "POST": api.create_experiment},
        ),
        (
            rf"{API}/experiments/{_ID}",
            {"GET": api.get_experiment, "DELETE": api.delete_experiment},
        ),
        (rf"{API}/experiments/{_ID}:archive", {"POST": api.archive_experiment}),
        (rf"{API}/experiments/{_ID}:unarchive", {"POST": api.unarchive_experiment}),
    ]
    return [(re.compile(f"^{pattern}$"), methods) for pattern, methods in table]


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None):
    try:
        # About 10× faster than json on a page of 200 runs; same compact JSON.
        data = orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError
        # Beyond orjson (a lone surrogate, an int over 64 bits): the stdlib.
        data = None
    if data is None:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate echoed in an error text: \u escapes keep it valid.
            data = json.dumps(body, separators=(",", ":")).encode("ascii")
    return Response(data, status, headers=headers, media_type="application/json")


def _internal_response(exc: BaseException) -> Response:
    """Code 13 in the gateway shape; the text names the error, not a traceback."""
    err = RpcError(
        13,
        f"Internal error: {type(exc).__name__}: {str(exc)[:500]}",
        "Internal Server Error",
    )
    return _json_response(err.status, err.body())


def _too_large(limit: int) -> RpcError:
    return RpcError(
        8,
        f"request body is larger than the server's limit of {limit} bytes; "
        "send less (e.g. a smaller pipeline_spec) or start the server with a "
        "larger --max-body-bytes",
        "request body too large",
        http=413,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused once it passes ``limit`` (Content-Length or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    db_path: str,
    *,
    demo: bool = False,
    speed: float = 1.0,
    terminate_final: str = "FAILED",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    from_snapshot: str | None = None,
) -> Starlette:
    """The Starlette app over the SQLite file ``db_path`` (created when missing).

    ``terminate_final`` is the state a terminated run ends in: ``FAILED`` (what a
    real KFP on Argo reports) or ``CANCELED``. A request body over
    ``max_body_bytes`` is refused with 413 (code 8) before it is read in full.
    ``from_snapshot`` loads a snapshot file into a fresh database (``_replay``;
    a ``SnapshotError`` when the file or the database is unusable).
    """
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be > 0, got {max_body_bytes}")
    if speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    if terminate_final not in ("FAILED", "CANCELED"):
        raise ValueError(
            f"terminate_final must be FAILED or CANCELED, got {terminate_final!r}"
        )
    if demo and from_snapshot:
        raise ValueError("demo and from_snapshot cannot be combined; choose one")
    store = Store(db_path)
    if from_snapshot:
        try:
            load_snapshot(store, from_snapshot)
        except BaseException:
            store.close()
            raise
    with store.tx() as db:
        store.default_experiment_id(db)
    api = Api(store, speed=speed, terminate_final=terminate_final)
    register_pipelines(store)
    if demo:
        seed_demo(store, speed=speed)
    simulator = Simulator(store)
    routes = _routes(api)

    async def dispatch(request: Request) -> Response:
        path = request.url.path.rstrip("/") or "/"
        matched = None
        for pattern, methods in routes:
            found = pattern.match(path)
            if found:
                matched = (found, methods)
                break
        if matched is None:
            return _json_response(404, {"code": 5, "message": "Not Found"})
        found, methods = matched
        handler = methods.get(request.method) or methods.get("*")
        if handler is None:
            return _json_response(501, {"code": 12, "message": "Method Not Allowed"})
        try:
            raw = await _read_body(request, max_body_bytes)
            body = (
                _schema.decode_json(raw, what="the request body")
                if raw.strip()
                else None
            )
        except RpcError as err:
            # An unread body cannot be skipped on a kept-alive connection.
            headers = {"Connection": "close"} if err.status == 413 else None
            return _json_response(err.status, err.body(), headers)
        req = {
            "path": found.groups(),
            "query": dict(request.query_params),
            "body": body,
        }
        try:
            result = await run_in_threadpool(handler, req)
        except RpcError as err:
            return _json_response(err.status, err.body())
        except Exception as exc:  # never a bare 500 page: the gateway shape
            log.exception("%s %s failed", request.method, path)
            return _internal_response(exc)
        if isinstance(result, _Raw):
            return _json_response(200, result.body, result.headers)
        return _json_response(200, result)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        simulator.start()
        try:
            yield
        finally:
            simulator.stop()
            store.close()

    async def on_crash(request: Request, exc: Exception) -> Response:
        # Whatever escapes dispatch (body reading, middleware, routing) still
        # answers in the gateway shape, never Starlette's text/plain page.
        log.error("%s %s failed: %r", request.method, request.url.path, exc)
        return _internal_response(exc)

    async def every_request(scope: Any, receive: Any, send: Any) -> None:
        response = await dispatch(Request(scope, receive))
        await response(scope, receive, send)

    app = Starlette(lifespan=lifespan, exception_handlers={Exception: on_crash})
    # No Starlette routes: every path (even one holding a decoded newline, which
    # a route pattern would miss) and every method (TRACE, made-up ones) reach
    # dispatch, which answers as the gateway does, never in Starlette's
    # text/plain 404/405.
    app.router.default = every_request
    app.state.store = store
    app.state.simulator = simulator
    return app
