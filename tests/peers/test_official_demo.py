"""The official client and the swagger models over the whole ``--demo`` data set.

The demo holds runs in every state, archived runs, runs from pipeline versions
and a recurring run, and artifacts of every viewer kind: everything here must
deserialize in the official client, validate against the swagger models and be
readable through ReadArtifact.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import httpx
import kfp_server_api as kfp
import pytest

from . import _swagger
from ._official import EQUALS, api_client, call, sdk_filter

TASKS_DOC = "run.tasks.swagger.json"
API = "/apis/v2beta1"
READ = "/apis/v2beta1/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}:read"
PNG = b"\x89PNG\r\n\x1a\n"
UI_KINDS = {"confusion_matrix", "roc", "table", "markdown", "web-app", "tensorboard"}


@pytest.fixture(scope="module")
def demo_official(demo_server) -> Iterator[kfp.ApiClient]:
    client = api_client(demo_server.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def demo_http(demo_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=30) as client:
        yield client


def _raw_pages(http: httpx.Client, path: str, **params) -> Iterator[dict[str, Any]]:
    token = None
    for _ in range(100):
        query = {**params, **({"page_token": token} if token else {})}
        answer = http.get(path, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        yield page
        token = page.get("next_page_token")
        if not token:
            return
    raise AssertionError(f"{path} did not end within 100 pages")


@pytest.fixture(scope="module")
def demo_runs(demo_http) -> list[dict[str, Any]]:
    """Every demo run, view FULL, each page checked against the swagger."""
    found = []
    for page in _raw_pages(demo_http, f"{API}/runs", page_size=40, view="FULL"):
        problems = _swagger.problems(TASKS_DOC, "v2beta1ListRunsResponse", page)
        assert not problems, "\n".join(problems[:20])
        found.extend(page.get("runs", []))
    return found


def test_official_client_pages_through_every_demo_run(demo_official, demo_runs):
    runs = kfp.RunServiceApi(demo_official)
    seen, token = [], None
    for _ in range(100):
        page = runs.run_service_list_runs(
            page_size=7, sort_by="created_at desc", page_token=token
        )
        assert page.total_size == len(demo_runs)
        seen.extend(page.runs)
        token = page.next_page_token
        if not token:
            break

    assert sorted(r.run_id for r in seen) == sorted(r["run_id"] for r in demo_runs)
    assert len(seen) >= 80
    states = kfp.V2beta1RuntimeState.allowable_values
    assert all(r.state in states for r in seen)
    storage = kfp.V2beta1RunStorageState.allowable_values
    assert {r.storage_state for r in seen} == {"AVAILABLE", "ARCHIVED"} <= set(storage)
    assert any(r.recurring_run_id for r in seen)
    assert any(r.pipeline_version_reference for r in seen)


def test_every_demo_task_matches_the_swagger(demo_http, demo_runs):
    count = 0
    for run in demo_runs:
        for page in _raw_pages(
            demo_http, f"{API}/tasks", run_id=run["run_id"], page_size=200
        ):
            problems = _swagger.problems(TASKS_DOC, "v2beta1ListTasksResponse", page)
            assert not problems, (run["run_id"], problems[:20])
            count += len(page.get("tasks", []))
    # Running demo runs gain tasks while the test reads: at least the snapshot.
    assert count >= sum(r.get("task_count", 0) for r in demo_runs)


def test_every_demo_enum_value_is_in_the_swagger_enum(demo_runs):
    allowed = _swagger.enums(TASKS_DOC)
    seen = _swagger.emitted_enums(demo_runs)
    for enum, values in seen.items():
        assert values <= allowed[enum], f"{enum}: {sorted(values - allowed[enum])}"
    assert len(seen["v2beta1RuntimeState"]) >= 5


def test_archived_demo_runs_through_the_sdk_filter(demo_official, demo_runs):
    runs = kfp.RunServiceApi(demo_official)
    archived = runs.run_service_list_runs(
        filter=sdk_filter(("storage_state", EQUALS, "ARCHIVED")), page_size=200
    )
    expected = {r["run_id"] for r in demo_runs if r["storage_state"] == "ARCHIVED"}
    assert expected
    assert {r.run_id for r in archived.runs} == expected
    assert archived.total_size == len(expected)


def test_demo_experiments_through_the_official_client(demo_official, demo_runs):
    experiments = kfp.ExperimentServiceApi(demo_official)
    listing = experiments.experiment_service_list_experiments(page_size=200)
    names = {e.display_name for e in listing.experiments}
    assert "Default" in names and len(names) >= 4
    by_id = {e.experiment_id: e for e in listing.experiments}
    assert {r["experiment_id"] for r in demo_runs} <= set(by_id)
    for exp_id, exp in by_id.items():
        got = experiments.experiment_service_get_experiment(exp_id)
        assert got.to_dict() == exp.to_dict()


def _one_run_per_pipeline(demo_runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    picked: dict[str, dict[str, Any]] = {}
    for run in demo_runs:
        if run["state"] != "SUCCEEDED":
            continue
        root = next(t for t in run["tasks"] if "parent_task_id" not in t)
        picked.setdefault(root["display_name"], run)
    return list(picked.values())


def _check_file(kind: str, key: str, name: str, data: bytes) -> None:
    """The file looks like what its artifact type promises."""
    if kind == "HTML":
        assert name.endswith(".html") and b"<html" in data.lower()
    elif kind == "Markdown":
        assert name.endswith(".md") and data.decode("utf-8").strip()
    elif kind == "Dataset":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        assert name.endswith(".csv") and len(rows) > 1
        assert len({len(r) for r in rows}) == 1, "ragged CSV"
    elif key == "mlpipeline-ui-metadata":
        outputs = json.loads(data)["outputs"]
        assert outputs and {o["type"] for o in outputs} <= UI_KINDS
    elif name.endswith(".png"):
        assert data.startswith(PNG)
    elif name.endswith(".svg"):
        assert data.startswith(b"<svg")
    elif name.endswith(".txt"):
        assert data.decode("utf-8").strip()
    elif name.endswith(".bin"):
        assert data and not data.isascii()  # opaque bytes, the binary viewer's
    else:
        json.loads(data)


def test_every_file_artifact_of_each_demo_pipeline_reads_back(demo_official, demo_runs):
    kinds = set()
    picked = _one_run_per_pipeline(demo_runs)
    assert len(picked) >= 3
    for run in picked:
        for task in run["tasks"]:
            pods = [p["name"] for p in task.get("pods", []) if p["type"] == "EXECUTOR"]
            for group in task["outputs"].get("artifacts", []):
                art = group["artifacts"][0]
                if "uri" not in art:
                    continue  # metrics live in metadata only
                path = {
                    "run_id": run["run_id"],
                    "node_id": pods[0],
                    "artifact_name": group["artifact_key"],
                }
                answer = call(demo_official, "GET", READ, path_params=path)
                blob = base64.b64decode(answer["data"], validate=True)
                with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
                    (member,) = tar.getmembers()
                    assert member.isfile()
                    data = tar.extractfile(member).read()
                _check_file(art["type"], group["artifact_key"], member.name, data)
                kinds.add(art["type"])
    assert {"HTML", "Markdown", "Dataset", "Artifact"} <= kinds
