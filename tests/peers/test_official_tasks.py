"""Tasks and ReadArtifact through the official client's ``ApiClient``.

kfp-server-api 2.17.x has no ``run_service_read_artifact`` and no task methods
(it is generated from KFP HEAD, where ReadArtifact left gRPC and the tasks API
is still an unmerged PR). These tests send the RunServiceApi.md requests through
the official ``ApiClient.call_api`` and turn the answers into the official
models where 2.17.x has one with that name.
"""

from __future__ import annotations

import base64
import io
import tarfile

import pytest
from dateutil.parser import isoparse
from kfp_server_api.rest import ApiException

from kfp_nb.server._content import artifact_content
from kfp_nb.server._pipelines import plan_from_spec

from ._official import FINISHED_PARAMS, TRAINING, call, deserialize, error_body

TASKS = "/apis/v2beta1/tasks"
TASK = "/apis/v2beta1/tasks/{task_id}"
READ = "/apis/v2beta1/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}:read"

#: (task name, output key, file name) of every file output of the training run.
FILE_OUTPUTS = [
    (plan.name, out.key, out.file_name)
    for plan in plan_from_spec(TRAINING)
    for out in plan.outputs
    if out.file_name is not None
]
METRIC_OUTPUTS = [
    (plan.name, out.key)
    for plan in plan_from_spec(TRAINING)
    for out in plan.outputs
    if out.file_name is None
]


def _list_tasks(official, **query) -> dict:
    return call(official, "GET", TASKS, query=list(query.items()))


@pytest.fixture(scope="module")
def run_tasks(official, finished_run) -> dict[str, dict]:
    """Task name → raw task JSON of the shared finished run."""
    page = _list_tasks(official, run_id=finished_run.run_id)
    assert "next_page_token" not in page
    return {t["name"]: t for t in page["tasks"]}


def _executor_pod(task: dict) -> str:
    return next(p["name"] for p in task["pods"] if p["type"] == "EXECUTOR")


def test_list_tasks_gives_root_and_one_task_per_pipeline_task(run_tasks, finished_run):
    planned = {p.name for p in plan_from_spec(TRAINING)}
    assert set(run_tasks) == planned | {"root"}
    root = run_tasks["root"]
    assert "parent_task_id" not in root and "type" not in root  # ROOT is enum 0
    for name in planned:
        task = run_tasks[name]
        assert task["run_id"] == finished_run.run_id
        assert task["parent_task_id"] == root["task_id"]
        assert task["state"] == "SUCCEEDED" and task["type"] == "RUNTIME"
        assert task["scope_path"] == f"root.{name}"
    assert {c["task_id"] for c in root["child_tasks"]} == {
        run_tasks[n]["task_id"] for n in planned
    }


def test_official_model_reads_listed_and_fetched_tasks(official, run_tasks):
    for raw in run_tasks.values():
        model = deserialize(official, raw, "V2beta1PipelineTaskDetail")
        assert model.task_id == raw["task_id"] and model.run_id == raw["run_id"]
        assert model.state == raw["state"]
        assert model.create_time == isoparse(raw["create_time"])
        assert model.end_time == isoparse(raw["end_time"])
        assert model.parent_task_id == raw.get("parent_task_id")
        assert [h.state for h in model.state_history] == ["RUNNING", "SUCCEEDED"]

        fetched = call(
            official, "GET", TASK, path_params={"task_id": raw["task_id"]},
            response_type="V2beta1PipelineTaskDetail",
        )  # fmt: skip
        assert fetched.to_dict() == model.to_dict()


def test_list_tasks_pages_and_parent_scope(official, run_tasks, finished_run):
    seen, token = [], None
    for _ in range(10):
        query = {"run_id": finished_run.run_id, "page_size": 2, "order_by": "name"}
        page = _list_tasks(
            official, **query, **({"page_token": token} if token else {})
        )
        assert page["total_size"] == len(run_tasks)
        seen.extend(t["name"] for t in page.get("tasks", []))
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == sorted(run_tasks)

    children = _list_tasks(official, parent_id=run_tasks["root"]["task_id"])
    assert {t["name"] for t in children["tasks"]} == set(run_tasks) - {"root"}


def test_list_tasks_with_two_scopes_is_invalid(official, finished_run, run_tasks):
    with pytest.raises(ApiException) as info:
        _list_tasks(
            official, run_id=finished_run.run_id, parent_id=run_tasks["root"]["task_id"]
        )
    assert info.value.status == 400 and error_body(info.value)["code"] == 3


def test_get_missing_task_is_not_found(official):
    with pytest.raises(ApiException) as info:
        call(official, "GET", TASK, path_params={"task_id": "nope"})
    body = error_body(info.value)
    assert info.value.status == 404 and body["code"] == 5
    assert body["details"][0]["message"] == "task nope not found"


def _param(key: str, value, kind: str = "OUTPUT") -> dict:
    return {"value": value, "type": kind, "parameter_key": key}


def test_create_then_update_task_merges(official, finished_run, run_tasks):
    root_id = run_tasks["root"]["task_id"]
    body = {
        "run_id": finished_run.run_id,
        "name": "peer-task",
        "display_name": "Peer task",
        "parent_task_id": root_id,
        "type": "RUNTIME",
        "state": "RUNNING",
        "inputs": {"parameters": [_param("epochs", 3, "COMPONENT_INPUT")]},
        "outputs": {"parameters": [_param("first", "a")]},
    }
    created = call(official, "POST", TASKS, body=body)
    task_id = created["task_id"]
    assert task_id and created["run_id"] == finished_run.run_id
    assert "create_time" in created
    assert [h["state"] for h in created["state_history"]] == ["RUNNING"]
    got = call(official, "GET", TASK, path_params={"task_id": task_id})
    assert got["name"] == "peer-task" and got["parent_task_id"] == root_id
    assert got["inputs"]["parameters"] == [_param("epochs", 3, "COMPONENT_INPUT")]

    patch = {
        "name": "",  # empty strings do not overwrite (SEMANTICS.md §3.9)
        "display_name": "Renamed",
        "state": "SUCCEEDED",
        "outputs": {"parameters": [_param("second", 2.5), _param("first", "a")]},
    }
    updated = call(
        official, "PATCH", TASK, path_params={"task_id": task_id}, body=patch
    )

    assert updated["name"] == "peer-task"
    assert updated["display_name"] == "Renamed"
    assert updated["type"] == "RUNTIME"  # not sent: unchanged
    assert updated["create_time"] == created["create_time"]
    assert [h["state"] for h in updated["state_history"]] == ["RUNNING", "SUCCEEDED"]
    outputs = updated["outputs"]["parameters"]
    assert sorted(p["parameter_key"] for p in outputs) == ["first", "second"]
    assert updated["inputs"] == got["inputs"]
    assert call(official, "GET", TASK, path_params={"task_id": task_id}) == updated
    model = deserialize(official, updated, "V2beta1PipelineTaskDetail")
    assert (model.task_id, model.state) == (task_id, "SUCCEEDED")

    cleared = call(
        official, "PATCH", TASK, path_params={"task_id": task_id},
        body={"parent_task_id": ""},
    )  # fmt: skip
    assert "parent_task_id" not in cleared


def test_update_task_with_another_id_in_the_body_is_invalid(official, run_tasks):
    task_id = run_tasks["train"]["task_id"]
    with pytest.raises(ApiException) as info:
        call(
            official, "PATCH", TASK, path_params={"task_id": task_id},
            body={"task_id": "other"},
        )  # fmt: skip
    body = error_body(info.value)
    assert info.value.status == 400 and body["code"] == 3
    assert body["details"][0]["message"] == (
        "Task ID in path parameter does not match task ID in request body"
    )


def test_create_task_for_a_missing_run_is_not_found(official):
    with pytest.raises(ApiException) as info:
        call(official, "POST", TASKS, body={"run_id": "nope", "name": "x"})
    assert info.value.status == 404 and error_body(info.value)["code"] == 5


def _read(official, run_id: str, node_id: str, name: str) -> dict:
    params = {"run_id": run_id, "node_id": node_id, "artifact_name": name}
    return call(official, "GET", READ, path_params=params)


def _single_file(tgz: bytes) -> tuple[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        members = tar.getmembers()
        assert len(members) == 1, [m.name for m in members]
        assert members[0].isfile()
        return members[0].name, tar.extractfile(members[0]).read()


@pytest.mark.parametrize(
    ("task", "key", "file_name"),
    FILE_OUTPUTS,
    ids=[f"{t}.{k}" for t, k, _ in FILE_OUTPUTS],
)
def test_read_artifact_is_a_tgz_of_the_generated_file(
    official, finished_run, run_tasks, task, key, file_name
):
    answer = _read(official, finished_run.run_id, _executor_pod(run_tasks[task]), key)

    # No model in 2.17.x: ``data`` stays the base64 text the server sent.
    assert set(answer) == {"data"} and isinstance(answer["data"], str)
    name, data = _single_file(base64.b64decode(answer["data"], validate=True))
    plan = next(p for p in plan_from_spec(TRAINING) if p.name == task)
    output = next(o for o in plan.outputs if o.key == key)
    _, expected = artifact_content(
        run_id=finished_run.run_id, task_name=task, output=output,
        params=FINISHED_PARAMS, seed=FINISHED_PARAMS["seed"],
    )  # fmt: skip
    assert name == file_name
    assert data == expected


def test_read_artifact_by_task_id_gives_the_same_bytes(
    official, finished_run, run_tasks
):
    task = run_tasks["report"]
    by_pod = _read(official, finished_run.run_id, _executor_pod(task), "report")
    by_id = _read(official, finished_run.run_id, task["task_id"], "report")
    assert by_id == by_pod


@pytest.mark.parametrize(("task", "key"), METRIC_OUTPUTS)
def test_read_artifact_of_a_metadata_only_output_is_not_found(
    official, finished_run, run_tasks, task, key
):
    # Metric and classification-metric artifacts have no file (no uri).
    with pytest.raises(ApiException) as info:
        _read(official, finished_run.run_id, _executor_pod(run_tasks[task]), key)
    assert info.value.status == 404 and error_body(info.value)["code"] == 5


def test_read_artifact_of_a_missing_run_is_not_found(official):
    with pytest.raises(ApiException) as info:
        _read(official, "nope", "n", "a")
    assert info.value.status == 404
