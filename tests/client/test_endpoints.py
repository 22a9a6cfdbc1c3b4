"""Each sync method sends its endpoint's method, path and body."""

from __future__ import annotations

import json

import kfp_nb

from ._mock import FakeServer, reply, run_body


def test_every_endpoint_request():
    fake = FakeServer()
    fake.on("POST", "/runs", reply(200, run_body("new")))
    fake.on("GET", "/runs/r1", reply(200, run_body("r1")))
    fake.on("POST", "/tasks", reply(200, {"task_id": "t1"}))
    fake.on("PATCH", "/tasks/t1", reply(200, {"task_id": "t1", "state": "RUNNING"}))
    fake.on("GET", "/tasks/t1", reply(200, {"task_id": "t1"}))
    fake.on("GET", "/tasks", reply(200, {"tasks": [{"task_id": "t1"}]}))
    fake.on("GET", "/experiments/e1", reply(200, {"experiment_id": "e1"}))
    fake.on(
        "GET", "/experiments", reply(200, {"experiments": [{"experiment_id": "e"}]})
    )
    fake.on("GET", "/healthz", reply(200, {"multi_user": False}))
    fake.on("POST", ".*", reply(200, {}))
    fake.on("DELETE", ".*", reply(200, {}))
    client = fake.client()
    assert client.create_run(display_name="x", pipeline_spec={}).run_id == "new"
    assert client.get_run("r1", view="FULL").run_id == "r1"
    for action in ("archive", "unarchive", "terminate", "retry", "delete"):
        assert getattr(client, f"{action}_run")("r1") is None
    task = client.create_task(kfp_nb.Task(run_id="r1", display_name="t"))
    assert isinstance(task, kfp_nb.Task)
    assert client.update_task("t1", {"state": "RUNNING"}).state == "RUNNING"
    assert client.get_task("t1").task_id == "t1"
    assert client.list_tasks(run_id="r1").tasks[0].task_id == "t1"
    assert client.get_experiment("e1").experiment_id == "e1"
    assert client.list_experiments().experiments[0].experiment_id == "e"
    assert client.healthz() == {"multi_user": False}
    paths = [p.replace("/pipeline/apis/v2beta1", "") for p in fake.paths()]
    assert paths == [
        "POST /runs",
        "GET /runs/r1",
        "POST /runs/r1:archive",
        "POST /runs/r1:unarchive",
        "POST /runs/r1:terminate",
        "POST /runs/r1:retry",
        "DELETE /runs/r1",
        "POST /tasks",
        "PATCH /tasks/t1",
        "GET /tasks/t1",
        "GET /tasks",
        "GET /experiments/e1",
        "GET /experiments",
        "GET /healthz",
    ]
    assert fake.params(1) == {"view": "FULL"}
    assert json.loads(fake.requests[7].content) == {
        "run_id": "r1",
        "display_name": "t",
        "inputs": {},
        "outputs": {},
    }
    assert json.loads(fake.requests[8].content) == {"state": "RUNNING"}


def test_namespace_defaults_apply_to_listings_only_where_allowed():
    fake = FakeServer().on("GET", ".*", reply(200, {}))
    client = fake.client(namespace="team-a")
    client.list_experiments()
    client.list_tasks(run_id="r1")
    client.list_tasks()
    assert fake.params(0) == {"namespace": "team-a"}
    assert fake.params(1) == {"run_id": "r1"}  # one of run_id/parent_id/namespace
    assert fake.params(2) == {"namespace": "team-a"}


def test_action_with_an_error_body_200_is_still_checked():
    fake = FakeServer().on("POST", ".*", reply(200, [1]))
    try:
        fake.client().archive_run("r1")
    except kfp_nb.ResponseFormatError as exc:
        assert "archive" in str(exc)
    else:
        raise AssertionError("a non-object answer to an action must be an error")


def test_create_run_from_a_model_leaves_out_server_owned_fields():
    fake = FakeServer().on("POST", "/runs", reply(200, run_body("copy")))
    source = kfp_nb.Run.model_validate(
        run_body(
            "old",
            "FAILED",
            pipeline_spec={"root": {}},
            runtime_config={"parameters": {"a": 1}},
            plugins_output={"mlflow": {}},
        )
    )
    fake.client().create_run(source)
    sent = json.loads(fake.requests[0].content)
    assert sent == {
        "experiment_id": "e1",
        "display_name": "run old",
        "pipeline_spec": {"root": {}},
        "runtime_config": {"parameters": {"a": 1}},
    }
