"""Helpers for driving the embedded server with the official ``kfp_server_api``.

kfp-server-api 2.17.x is generated from KFP HEAD: its ``RunServiceApi`` has the
eight run RPCs only. ReadArtifact and the tasks RPCs (SEMANTICS.md §0, §3.9) are
reached through the same official ``ApiClient.call_api`` plumbing (serializer,
auth settings, ``ApiException`` on errors), with the path and verb from
RunServiceApi.md.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import kfp_server_api as kfp
from kfp_server_api.rest import ApiException

from kfp_nb.server._pipelines import DEMO_PIPELINES

TRAINING = DEMO_PIPELINES["Training pipeline"]
SWEEP = DEMO_PIPELINES["Hyperparameter sweep"]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}
#: Runtime parameters of the shared finished run; the embedded server takes an
#: integer ``seed`` parameter as the seed of the artifact contents it generates.
FINISHED_PARAMS = {"learning_rate": 0.02, "epochs": 4, "seed": 1234}


def api_client(url: str) -> kfp.ApiClient:
    """An official client configured the way the KFP SDK does it: host only."""
    return kfp.ApiClient(kfp.Configuration(host=url))


def sdk_filter(*predicates: tuple[str, int, str]) -> str:
    """A filter as the KFP SDK sends it: numeric operation, camelCase value key."""
    return json.dumps(
        {
            "predicates": [
                {"operation": op, "key": key, "stringValue": value}
                for key, op, value in predicates
            ]
        }
    )


EQUALS, NOT_EQUALS, IS_SUBSTRING = 1, 2, 9


def new_run(
    runs: kfp.RunServiceApi,
    name: str,
    *,
    spec: dict[str, Any] = TRAINING,
    params: dict[str, Any] | None = None,
    experiment_id: str | None = None,
) -> kfp.V2beta1Run:
    body = kfp.V2beta1Run(
        display_name=name,
        pipeline_spec=spec,
        experiment_id=experiment_id,
        runtime_config=kfp.V2beta1RuntimeConfig(parameters=params or {}),
    )
    return runs.run_service_create_run(body)


def wait_run(
    runs: kfp.RunServiceApi,
    run_id: str,
    *,
    until: set[str] = FINAL,
    timeout: float = 20.0,
) -> kfp.V2beta1Run:
    """Poll GetRun until the state is in ``until``; fail naming the last state."""
    deadline = time.monotonic() + timeout
    run = runs.run_service_get_run(run_id)
    while run.state not in until:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"run {run_id} still {run.state} after {timeout} s; wanted {until}"
            )
        time.sleep(0.05)
        run = runs.run_service_get_run(run_id)
    return run


def error_body(exc: ApiException) -> dict[str, Any]:
    """The JSON body of an official ``ApiException`` (bytes or text)."""
    return json.loads(exc.body)


def call(
    client: kfp.ApiClient,
    method: str,
    path: str,
    *,
    path_params: dict[str, str] | None = None,
    query: list[tuple[str, Any]] | None = None,
    body: Any = None,
    response_type: str | None = "object",
) -> Any:
    """One request through the official ``ApiClient.call_api``."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return client.call_api(
        path,
        method,
        path_params or {},
        query or [],
        headers,
        body=body,
        response_type=response_type,
        auth_settings=["Bearer"],
        _return_http_data_only=True,
    )


class _Response:
    """What ``ApiClient.deserialize`` reads: a ``data`` attribute."""

    def __init__(self, payload: Any) -> None:
        self.data = json.dumps(payload)


def deserialize(client: kfp.ApiClient, payload: Any, model: str) -> Any:
    """Turn wire JSON into an official model the way responses are turned."""
    return client.deserialize(_Response(payload), model)
