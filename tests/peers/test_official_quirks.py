"""Where the official client differs from the wire format the server speaks.

These pin what kfp-server-api 2.17.x does with real answers from the embedded
server, so a client upgrade that changes it shows up here (and the other peer
tests can then use the new methods or models).
"""

from __future__ import annotations

import inspect

import httpx
import kfp_server_api as kfp
import pytest
from kfp_server_api.exceptions import ApiTypeError

from ._official import deserialize

RUN_RPCS = {
    "run_service_archive_run", "run_service_create_run", "run_service_delete_run",
    "run_service_get_run", "run_service_list_runs", "run_service_retry_run",
    "run_service_terminate_run", "run_service_unarchive_run",
}  # fmt: skip


def test_the_official_run_api_has_only_the_eight_head_rpcs():
    methods = {
        name
        for name, _ in inspect.getmembers(kfp.RunServiceApi, inspect.isfunction)
        if not name.startswith("_") and not name.endswith("_with_http_info")
    }
    # No run_service_read_artifact, no create/get/list/update_task.
    assert methods == RUN_RPCS


def test_the_official_client_cannot_ask_for_the_full_view(runs, finished_run):
    with pytest.raises(ApiTypeError):
        runs.run_service_get_run(finished_run.run_id, view="FULL")


def test_official_run_model_drops_task_count(runs, finished_run, peer_server):
    raw = httpx.get(f"{peer_server.url}/apis/v2beta1/runs/{finished_run.run_id}").json()
    assert raw["task_count"] == 6

    model = runs.run_service_get_run(finished_run.run_id)

    assert "task_count" not in model.to_dict() and "tasks" not in model.to_dict()
    assert model.run_details is None  # the HEAD place for tasks, not filled


def test_official_task_model_is_the_head_schema(official, finished_run, peer_server):
    """2.17's V2beta1PipelineTaskDetail is the Argo-era shape (SEMANTICS.md §8.2).

    A PR-shaped task deserializes without error, but its name, pods, type and
    scope are dropped and ``outputs`` becomes a map of empty artifact-id lists.
    """
    page = httpx.get(
        f"{peer_server.url}/apis/v2beta1/tasks", params={"run_id": finished_run.run_id}
    ).json()
    raw = next(t for t in page["tasks"] if t["name"] == "evaluate")
    assert raw["outputs"]["artifacts"]

    model = deserialize(official, raw, "V2beta1PipelineTaskDetail")

    fields = model.to_dict()
    for dropped in ("name", "pods", "type", "scope_path", "cache_fingerprint"):
        assert dropped not in fields
    assert list(model.outputs) == ["artifacts"]
    assert model.outputs["artifacts"].artifact_ids is None


def test_official_client_keeps_unknown_enum_values_as_strings(official):
    # Enum models have no fields, so the value is passed through unchecked:
    # the official client is more lenient than the swagger here.
    run = deserialize(
        official,
        {"run_id": "r", "state": "SOME_FUTURE_STATE", "storage_state": "DELETED"},
        "V2beta1Run",
    )
    assert (run.state, run.storage_state) == ("SOME_FUTURE_STATE", "DELETED")


def test_official_client_rejects_a_status_detail_value_that_is_not_base64(official):
    # The one client-side check in the 2.17 models: ProtobufAny.value must be
    # base64. grpc-gateway details carry @type/code/message only, so it holds.
    good = {"code": 5, "message": "m", "details": [{"@type": "t", "value": "aGk="}]}
    assert deserialize(official, good, "GoogleRpcStatus").details[0].value == "aGk="
    bad = {"code": 5, "message": "m", "details": [{"@type": "t", "value": "not b64"}]}
    with pytest.raises(ValueError, match="Invalid value for `value`"):
        deserialize(official, bad, "GoogleRpcStatus")


def test_official_healthz_model_drops_commit_and_tag(official, peer_server):
    raw = httpx.get(f"{peer_server.url}/apis/v2beta1/healthz").json()
    assert {"commit_sha", "tag_name"} <= set(raw)
    model = kfp.HealthzServiceApi(official).healthz_service_get_healthz()
    assert set(model.to_dict()) == {"multi_user", "pipeline_store"}
