"""The KFP SDK (``kfp.Client``) as a peer of the embedded server.

``kfp.Client(host=...)`` is built the way a notebook on a cluster would build
it (its constructor asks healthz whether the server is multi-user). Runs are
created through the SDK itself: ``create_run_from_pipeline_func`` compiles a
small ``@dsl.pipeline`` and posts its spec, and ``run_pipeline`` sends a
package file. Then ``list_runs``, ``get_run``, ``archive_run``,
``terminate_run``, ``delete_run`` and ``wait_for_run_completion`` act on them.

The SDK's ``wait_for_run_completion`` stops on succeeded, failed, skipped or
error only — not on CANCELED. A terminated run here ends FAILED, as on the
real server (SEMANTICS §3.6), so waiting on it returns; a server started with
``--terminate-final CANCELED`` would leave that wait to its timeout.
"""

# No ``from __future__ import annotations``: kfp's @dsl.component reads the
# annotations as types.
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

kfp = pytest.importorskip("kfp")
from kfp import dsl
from kfp_server_api.rest import ApiException

from kfp_nb.server import launch
from kfp_nb.server._pipelines import DEMO_PIPELINES

EPOCH_YEAR = 1970


@dsl.component(base_image="python:3.11")
def add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="sdk-adder", description="Adds twice.")
def adder(x: float = 1.0):
    first = add(a=x, b=2.0)
    add(a=first.output, b=3.0)


@pytest.fixture(scope="module")
def sdk_server(tmp_path_factory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("kfp-sdk")
    proc = launch(db=str(folder / "sdk.db"), demo=False, speed=100.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def sdk(sdk_server) -> Any:
    with warnings.catch_warnings():
        # "This client only works with Kubeflow Pipeline v2.0.0-beta.2 and later".
        warnings.simplefilter("ignore", FutureWarning)
        return kfp.Client(host=sdk_server.url)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> str:
    """The server's training pipeline as a package file (JSON is YAML)."""
    path = tmp_path_factory.mktemp("package") / "training.yaml"
    path.write_text(json.dumps(DEMO_PIPELINES["Training pipeline"]))
    return str(path)


def _experiment(sdk: Any) -> str:
    return sdk.create_experiment(name=f"sdk-{uuid.uuid4().hex[:8]}").experiment_id


def _wait_state(sdk: Any, run_id: str, state: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    run = sdk.get_run(run_id)
    while run.state != state:
        assert time.monotonic() < deadline, f"{run_id} still {run.state}"
        time.sleep(0.05)
        run = sdk.get_run(run_id)
    return run


def test_constructor_reads_healthz(sdk):
    health = sdk.get_kfp_healthz()
    assert health.multi_user is False
    assert health.pipeline_store == "database"


def test_pipeline_func_run_succeeds_and_wait_returns_it(sdk):
    name = f"adder-{uuid.uuid4().hex[:8]}"
    result = sdk.create_run_from_pipeline_func(
        adder, arguments={"x": 4.0}, run_name=name, experiment_name=name
    )
    done = sdk.wait_for_run_completion(result.run_id, timeout=60, sleep_duration=0.1)
    assert done.state == "SUCCEEDED"
    assert done.display_name == name
    assert done.finished_at.year > EPOCH_YEAR and done.finished_at >= done.created_at
    assert [h.state for h in done.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert done.runtime_config.parameters == {"x": 4.0}
    assert done.pipeline_spec["pipelineInfo"]["name"] == "sdk-adder"
    # The experiment the SDK created by name holds the run.
    exp = sdk.get_experiment(experiment_name=name)
    assert done.experiment_id == exp.experiment_id
    listed = sdk.list_runs(experiment_id=exp.experiment_id)
    assert [r.run_id for r in listed.runs] == [result.run_id]
    assert listed.total_size == 1


def test_list_runs_pages_sorts_and_filters(sdk, package):
    exp = _experiment(sdk)
    ids = [
        sdk.run_pipeline(
            experiment_id=exp, job_name=f"listed-{i}", pipeline_package_path=package
        ).run_id
        for i in range(5)
    ]
    first = sdk.list_runs(experiment_id=exp, page_size=2, sort_by="created_at desc")
    assert len(first.runs) == 2 and first.total_size == 5 and first.next_page_token
    seen = [r.run_id for r in first.runs]
    token = first.next_page_token
    while token:
        page = sdk.list_runs(
            experiment_id=exp, page_size=2, sort_by="created_at desc", page_token=token
        )
        seen += [r.run_id for r in page.runs]
        token = page.next_page_token
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    # A filter as the SDK's own helpers write it: numeric operation, camelCase key.
    only = json.dumps(
        {"predicates": [{"key": "name", "operation": 1, "stringValue": "listed-3"}]}
    )
    hit = sdk.list_runs(experiment_id=exp, filter=only)
    assert [r.run_id for r in hit.runs] == [ids[3]]
    assert (
        sdk.list_runs(experiment_id=exp, filter=only.replace("-3", "-9")).runs is None
    )


def test_get_run_missing_is_an_api_exception(sdk):
    with pytest.raises(ApiException) as caught:
        sdk.get_run("nope")
    assert caught.value.status == 404
    body = json.loads(caught.value.body)
    assert body["code"] == 5 and body["details"][0]["message"] == "Run nope not found"


def test_archive_and_unarchive(sdk, package):
    exp = _experiment(sdk)
    run = sdk.run_pipeline(
        experiment_id=exp, job_name="to-archive", pipeline_package_path=package
    )
    assert sdk.archive_run(run.run_id) == {}
    assert sdk.get_run(run.run_id).storage_state == "ARCHIVED"
    archived = json.dumps(
        {
            "predicates": [
                {"key": "storage_state", "operation": 1, "stringValue": "ARCHIVED"}
            ]
        }
    )
    assert [
        r.run_id for r in sdk.list_runs(experiment_id=exp, filter=archived).runs
    ] == [run.run_id]
    assert sdk.unarchive_run(run.run_id) == {}
    assert sdk.get_run(run.run_id).storage_state == "AVAILABLE"


def test_terminate_then_wait_returns_failed(sdk, package):
    exp = _experiment(sdk)
    run = sdk.run_pipeline(
        experiment_id=exp, job_name="long", pipeline_package_path=package,
        params={"duration_scale": 200},
    )  # fmt: skip
    _wait_state(sdk, run.run_id, "RUNNING")
    assert sdk.terminate_run(run.run_id) == {}
    assert sdk.get_run(run.run_id).state == "CANCELING"
    done = sdk.wait_for_run_completion(run.run_id, timeout=30, sleep_duration=0.1)
    assert done.state == "FAILED"
    assert done.finished_at.year > EPOCH_YEAR
    with pytest.raises(ApiException) as again:
        sdk.terminate_run(run.run_id)
    assert again.value.status == 400
    assert json.loads(again.value.body)["details"][0]["message"] == (
        f"Failed to terminate a run {run.run_id}. Row not found"
    )


def test_wait_times_out_on_a_run_that_keeps_running(sdk, package):
    run = sdk.run_pipeline(
        experiment_id=_experiment(sdk), job_name="slow",
        pipeline_package_path=package, params={"duration_scale": 500},
    )  # fmt: skip
    with pytest.raises(TimeoutError):
        sdk.wait_for_run_completion(run.run_id, timeout=0.3, sleep_duration=0.1)
    sdk.delete_run(run.run_id)
    with pytest.raises(ApiException) as gone:
        sdk.get_run(run.run_id)
    assert gone.value.status == 404


def test_experiment_calls(sdk):
    name = f"sdk-exp-{uuid.uuid4().hex[:8]}"
    exp = sdk.create_experiment(name=name, description="made by the SDK")
    assert sdk.get_experiment(experiment_id=exp.experiment_id).description == (
        "made by the SDK"
    )
    sdk.archive_experiment(exp.experiment_id)
    assert sdk.get_experiment(experiment_name=name).storage_state == "ARCHIVED"
    sdk.unarchive_experiment(exp.experiment_id)
    sdk.delete_experiment(exp.experiment_id)
    with pytest.raises(ApiException) as gone:
        sdk.get_experiment(experiment_id=exp.experiment_id)
    assert gone.value.status == 404


def test_unserved_services_answer_the_gateway_not_found(sdk):
    # Pipelines and recurring runs are not served (CONFORMANCE.md, Peers).
    for call in (sdk.list_pipelines, sdk.list_recurring_runs):
        with pytest.raises(ApiException) as caught:
            call()
        assert caught.value.status == 404
        assert json.loads(caught.value.body) == {"code": 5, "message": "Not Found"}
