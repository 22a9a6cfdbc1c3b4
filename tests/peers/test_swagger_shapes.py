"""Raw server JSON checked against the vendored swagger models with jsonschema.

The tasks models come from the PR swagger (``run.tasks.swagger.json``), the
ReadArtifact model from the 2.14 swagger (``run.read_artifact.swagger.json``).
``_swagger`` closes every object schema and checks formats, so a stray key, an
int64 written as a number or a value outside an enum fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import kfp_server_api as kfp
import pytest

from . import _swagger
from ._official import SWEEP, TRAINING, deserialize, new_run, wait_run

TASKS_DOC = "run.tasks.swagger.json"
API = "/apis/v2beta1"


@pytest.fixture(scope="module")
def http(peer_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=peer_server.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def zoo(runs, experiments, http) -> dict[str, Any]:
    """Runs in every state the server reaches, in one experiment of their own.

    ``canceling`` is the raw GET taken right after terminate.
    """
    exp = experiments.experiment_service_create_experiment(
        kfp.V2beta1Experiment(display_name=f"zoo-{uuid.uuid4().hex[:8]}")
    )

    def make(name, spec, **params):
        return new_run(
            runs, name, spec=spec, params=params, experiment_id=exp.experiment_id
        ).run_id

    ids = {
        "succeeded": make("zoo-ok", TRAINING, epochs=2, learning_rate=0.1),
        "dag": make("zoo-dag", SWEEP, n_trials=3),
        "failed": make("zoo-failed", TRAINING, fail_task="evaluate"),
        "terminated": make("zoo-terminated", TRAINING),
        "pending": make("zoo-pending", TRAINING),
    }
    runs.run_service_terminate_run(ids["terminated"])
    canceling = http.get(f"{API}/runs/{ids['terminated']}").json()
    for key in ("succeeded", "dag", "failed", "terminated"):
        wait_run(runs, ids[key])
    return {"experiment_id": exp.experiment_id, "ids": ids, "canceling": canceling}


def _ok(document: str, definition: str, instance: Any) -> None:
    found = _swagger.problems(document, definition, instance)
    assert not found, f"{definition} violations:\n" + "\n".join(found)


def _get(http: httpx.Client, path: str, **params) -> Any:
    answer = http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def test_get_run_full_view_matches_v2beta1_run(http, zoo):
    assert zoo["canceling"]["state"] == "CANCELING"
    _ok(TASKS_DOC, "v2beta1Run", zoo["canceling"])
    for name, run_id in zoo["ids"].items():
        full = _get(http, f"{API}/runs/{run_id}", view="FULL")
        _ok(TASKS_DOC, "v2beta1Run", full)
        # Both are left out when zero (a run still PENDING has no tasks).
        assert full.get("task_count", 0) == len(full.get("tasks", [])), name
        default = _get(http, f"{API}/runs/{run_id}")
        _ok(TASKS_DOC, "v2beta1Run", default)
        assert "tasks" not in default
        assert default.get("task_count") == full.get("task_count"), name


@pytest.mark.parametrize("view", ["FULL", "DEFAULT"])
def test_list_runs_pages_match_v2beta1_list_runs_response(http, zoo, view):
    pages, token = 0, None
    while True:
        params = {"experiment_id": zoo["experiment_id"], "page_size": 2, "view": view}
        page = _get(
            http, f"{API}/runs", **params, **({"page_token": token} if token else {})
        )
        _ok(TASKS_DOC, "v2beta1ListRunsResponse", page)
        assert page["total_size"] == len(zoo["ids"])
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == 3


def test_empty_list_runs_is_an_empty_object_that_validates(http):
    empty = _get(
        http, f"{API}/runs",
        filter='{"predicates":[{"key":"display_name","operation":"EQUALS",'
        '"string_value":"no such run"}]}',
    )  # fmt: skip
    assert empty == {}
    _ok(TASKS_DOC, "v2beta1ListRunsResponse", empty)


def test_tasks_match_list_tasks_response_and_task_detail(http, zoo, official):
    errors = 0
    for run_id in zoo["ids"].values():
        page = _get(http, f"{API}/tasks", run_id=run_id)
        _ok(TASKS_DOC, "v2beta1ListTasksResponse", page)
        for task in page.get("tasks", []):
            one = _get(http, f"{API}/tasks/{task['task_id']}")
            _ok(TASKS_DOC, "v2beta1PipelineTaskDetail", one)
            # inputs and outputs are always present, possibly {} (§8.3).
            assert "inputs" in one and "outputs" in one
            model = deserialize(official, one, "V2beta1PipelineTaskDetail")
            if "error" in one:
                errors += 1
                assert model.error.code == one["error"]["code"]
                assert model.error.message == one["error"]["message"]
    assert errors >= 2, "the failed and terminated runs must have failed tasks"


def test_runs_with_errors_deserialize_in_the_official_model(http, zoo, official):
    for key in ("failed", "terminated"):
        raw = _get(http, f"{API}/runs/{zoo['ids'][key]}")
        run = deserialize(official, raw, "V2beta1Run")
        assert run.state == "FAILED"
        last = run.state_history[-1]
        assert last.state == "FAILED"
        assert last.error.message == raw["state_history"][-1]["error"]["message"]


def test_read_artifact_matches_v2beta1_read_artifact_response(http, zoo):
    run_id = zoo["ids"]["succeeded"]
    tasks = _get(http, f"{API}/tasks", run_id=run_id)["tasks"]
    report = next(t for t in tasks if t["name"] == "report")
    for key in ("report", "summary"):
        answer = _get(
            http, f"{API}/runs/{run_id}/nodes/{report['task_id']}/artifacts/{key}:read"
        )
        _ok("run.read_artifact.swagger.json", "v2beta1ReadArtifactResponse", answer)


def test_experiments_and_healthz_match_their_swagger(http, zoo):
    exp = _get(http, f"{API}/experiments/{zoo['experiment_id']}")
    _ok("experiment.swagger.json", "v2beta1Experiment", exp)
    listing = _get(http, f"{API}/experiments", page_size=2)
    _ok("experiment.swagger.json", "v2beta1ListExperimentsResponse", listing)
    health = _get(http, f"{API}/healthz")
    # The real handler also writes commit_sha and tag_name, which healthz.proto
    # does not declare (SEMANTICS.md §12.1): check them apart.
    assert isinstance(health.pop("commit_sha"), str)
    assert isinstance(health.pop("tag_name"), str)
    _ok("healthz.swagger.json", "v2beta1GetHealthzResponse", health)


def test_every_emitted_enum_value_is_in_the_swagger_enum(http, zoo):
    allowed = _swagger.enums(TASKS_DOC)
    runs = [zoo["canceling"]]
    runs += [_get(http, f"{API}/runs/{i}", view="FULL") for i in zoo["ids"].values()]
    seen = _swagger.emitted_enums(runs)

    for enum, values in seen.items():
        assert values <= allowed[enum], f"{enum}: {sorted(values - allowed[enum])}"
    # The zoo must really reach these, or the checks above prove little.
    assert {"PENDING", "RUNNING", "CANCELING", "SUCCEEDED", "FAILED"} <= seen[
        "v2beta1RuntimeState"
    ]
    assert {"RUNNING", "SUCCEEDED", "FAILED"} <= seen["PipelineTaskDetailTaskState"]
    assert {"RUNTIME", "DAG"} <= seen["PipelineTaskDetailTaskType"]
    assert {"OUTPUT", "RUNTIME_VALUE_INPUT"} <= seen["v2beta1IOType"]
    assert {"Metric", "ClassificationMetric", "HTML", "Markdown", "Dataset"} <= seen[
        "ArtifactArtifactType"
    ]


@pytest.mark.parametrize(
    ("definition", "bad"),
    [
        ("v2beta1PipelineTaskDetail", {"task_id": "t", "taskId": "t"}),
        ("v2beta1PipelineTaskDetail", {"state": "PENDING"}),
        ("v2beta1PipelineTaskDetail", {"create_time": "2025-01-01T00:00:00+00:00"}),
        ("v2beta1PipelineTaskDetail", {"type_attributes": {"iteration_index": 3}}),
        ("v2beta1Run", {"state": "SKIPPED"}),  # the PR enum dropped it
        ("v2beta1ListRunsResponse", {"total_size": "3"}),
        ("v2beta1ListTasksResponse", {"tasks": [{"pods": [{"type": "POD"}]}]}),
    ],
)
def test_the_validator_rejects_what_a_real_server_never_sends(definition, bad):
    assert _swagger.problems(TASKS_DOC, definition, bad)


def test_the_validator_checks_base64_of_read_artifact():
    doc, model = "run.read_artifact.swagger.json", "v2beta1ReadArtifactResponse"
    assert not _swagger.problems(doc, model, {"data": "aGk="})
    assert _swagger.problems(doc, model, {"data": "aGk"})  # no padding
    assert _swagger.problems(doc, model, {"data": "a-_k"})  # URL alphabet
