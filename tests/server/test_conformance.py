"""SEMANTICS.md §14 conformance checks against the embedded server over HTTP.

Each test names the check numbers it covers. Checks that need an empty database
use the function-scoped ``fresh_api``; the rest share one fast server and scope
themselves with their own experiment or run names.
"""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
import urllib.parse
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from ._http import create_run, detail, wait_state

EPOCH = "1970-01-01T00:00:00Z"


def _experiment(api: httpx.Client, name: str | None = None) -> str:
    resp = api.post("/experiments", json={"display_name": name or uuid.uuid4().hex})
    assert resp.status_code == 200, resp.text
    return resp.json()["experiment_id"]


def _run_in(api: httpx.Client, spec: dict, exp_id: str, name: str, **params) -> dict:
    body = {"display_name": name, "pipeline_spec": spec, "experiment_id": exp_id}
    if params:
        body["runtime_config"] = {"parameters": params}
    resp = api.post("/runs", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _filter(**pred) -> str:
    return json.dumps({"predicates": [pred]})


# -- 1 ---------------------------------------------------------------------------


def test_01_healthz_any_method(api):
    for method in ("GET", "POST"):
        resp = api.request(method, "/healthz")
        assert resp.status_code == 200
        body = resp.json()
        assert body["multi_user"] is False
        assert body["pipeline_store"] == "database"
        assert isinstance(body["commit_sha"], str) and isinstance(body["tag_name"], str)
        assert resp.headers["content-type"].startswith("application/json")


# -- 2, 3, 4, 5, 6, 7 --------------------------------------------------------------


def test_02_create_run_defaults(api, training_spec):
    exps = api.get(
        "/experiments",
        params={
            "filter": _filter(key="display_name", operation=1, stringValue="Default")
        },
    ).json()["experiments"]
    assert len(exps) == 1
    run = create_run(api, training_spec, "r1")
    assert run["experiment_id"] == exps[0]["experiment_id"]
    assert run["state"] == "PENDING"
    assert run["storage_state"] == "AVAILABLE"
    assert run["state_history"] == [
        {"update_time": run["created_at"], "state": "PENDING"}
    ]
    assert run["finished_at"] == EPOCH
    assert run["scheduled_at"] == run["created_at"]
    assert run["pipeline_spec"] == training_spec
    assert "pipeline_version_reference" not in run
    assert run["service_account"] == "pipeline-runner"


def test_03_empty_runtime_config_is_omitted(api, training_spec):
    resp = api.post(
        "/runs",
        json={"display_name": "r3", "pipeline_spec": training_spec,
              "runtime_config": {"parameters": {}}},
    )  # fmt: skip
    assert resp.status_code == 200
    assert "runtime_config" not in resp.json()


def test_03b_client_state_is_ignored_and_camel_case_accepted(api, training_spec):
    resp = api.post(
        "/runs",
        json={"displayName": "camel", "pipelineSpec": training_spec, "state": "SUCCEEDED",
              "runtimeConfig": {"parameters": {"epochs": 3, "lr": 0.5, "opt": "adam",
                                               "aug": True}}},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["display_name"] == "camel" and run["state"] == "PENDING"
    assert run["runtime_config"]["parameters"] == {
        "epochs": 3, "lr": 0.5, "opt": "adam", "aug": True
    }  # fmt: skip


def test_04_empty_display_name_is_internal_error(api, training_spec):
    resp = api.post("/runs", json={"pipeline_spec": training_spec})
    assert resp.status_code == 500
    body = resp.json()
    assert body["code"] == 13
    assert detail(resp) == "Internal Server Error"
    assert "Run name cannot be empty" in body["message"]


def test_05_unknown_body_field_is_gateway_400(api):
    resp = api.post("/runs", json={"display_name": "x", "bogus": 1})
    assert resp.status_code == 400
    assert resp.json()["code"] == 3
    assert "details" not in resp.json()
    bad_json = api.post("/runs", content=b"{not json")
    assert bad_json.status_code == 400 and "details" not in bad_json.json()


@pytest.mark.parametrize(
    "stamp", ["", "2024-01-02T03:04:05", "2024-01-02 03:04:05Z", "2024-01-02",
              "2024-01-02t03:04:05z", "2024-01-02T03:04:05.1234567890Z"],
)  # fmt: skip
def test_05b_timestamps_are_protojson_rfc3339(api, stamp):
    # protojson takes only a full RFC 3339 time with a zone; "" is not empty.
    for path, body in (("/experiments", {"display_name": "t", "created_at": stamp}),
                       ("/runs", {"display_name": "t", "scheduled_at": stamp})):  # fmt: skip
        resp = api.post(path, json=body)
        assert resp.status_code == 400, (path, stamp, resp.text)
        assert resp.json()["code"] == 3 and "details" not in resp.json()
        assert "RFC 3339" in resp.json()["message"]
    ok = api.post(
        "/experiments",
        json={
            "display_name": uuid.uuid4().hex,
            "created_at": "2024-01-02T03:04:05+01:00",
        },
    )
    assert ok.status_code == 200, ok.text


def test_05c_protojson_values_inside_task_messages(api, training_spec):
    run = create_run(api, training_spec, "protojson")
    base = {"run_id": run["run_id"], "name": "p"}

    def outputs(**param) -> dict:
        return {**base, "outputs": {"parameters": [{"parameter_key": "k", **param}]}}

    # An enum number is read and written back by name; an unknown one is refused.
    ok = api.post(
        "/tasks", json={**outputs(type=9), "pods": [{"name": "x", "type": 2}]}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["outputs"]["parameters"][0]["type"] == "OUTPUT"
    assert ok.json()["pods"][0]["type"] == "EXECUTOR"
    for bad in (12, 2147483646, -1, "9"):
        resp = api.post("/tasks", json=outputs(type=bad))
        assert resp.status_code == 400 and "details" not in resp.json(), bad
        assert "IOType" in resp.json()["message"]
    # A list entry cannot be null (a field can: null means "not set").
    nulls = api.post("/tasks", json={**base, "outputs": {"artifacts": [None]}})
    assert nulls.status_code == 400 and "got null" in nulls.json()["message"]
    assert api.post("/tasks", json={**base, "outputs": None}).status_code == 200
    # A double may come as a number or a numeric string, never other text.
    for number, code in ((1.5, 200), ("2e3", 200), ("NaN", 200), ("AAA", 400),
                         ("", 400)):  # fmt: skip
        art = {"artifacts": [{"artifact_key": "m",
                              "artifacts": [{"number_value": number}]}]}  # fmt: skip
        resp = api.post("/tasks", json={**base, "outputs": art})
        assert resp.status_code == code, (number, resp.text)


def test_06_missing_experiment_is_404(api, training_spec):
    resp = api.post(
        "/runs",
        json={
            "display_name": "x",
            "experiment_id": "nope",
            "pipeline_spec": training_spec,
        },
    )
    assert resp.status_code == 404
    assert resp.json()["code"] == 5
    assert detail(resp) == "Experiment nope not found"


def test_07_unknown_pipeline_reference_is_500(api):
    resp = api.post(
        "/runs",
        json={
            "display_name": "x",
            "pipeline_version_reference": {"pipeline_id": "nope"},
        },
    )
    assert resp.status_code == 500
    assert resp.json()["code"] == 13
    unusable = api.post("/runs", json={"display_name": "x", "pipeline_spec": {"a": 1}})
    assert unusable.status_code == 500
    assert "root.dag.tasks" in unusable.json()["message"]


def test_07b_demo_pipeline_reference_resolves(api):
    from kfp_nb.server._demo import demo_pipeline_ids

    pipeline_id, version_id = demo_pipeline_ids("Training pipeline")
    resp = api.post(
        "/runs",
        json={"display_name": "by-ref", "pipeline_version_reference":
              {"pipeline_id": pipeline_id}},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["pipeline_version_reference"] == {
        "pipeline_id": pipeline_id, "pipeline_version_id": version_id
    }  # fmt: skip
    assert "pipeline_spec" not in run


# -- 8 -----------------------------------------------------------------------------


def test_08_missing_run_body_is_exact(api):
    resp = api.get("/runs/nope")
    assert resp.status_code == 404
    assert resp.json() == {
        "code": 5,
        "message": "Failed to get a run: Failed to fetch run nope: "
        "ResourceNotFoundError: Run nope not found",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.Status", "code": 5,
             "message": "Run nope not found"}
        ],
    }  # fmt: skip


# -- 9, 10, 11, 12 (need an empty database) ------------------------------------------


def test_09_to_12_empty_lists_paging_and_cap(fresh_api, training_spec):
    api = fresh_api
    empty = api.get("/runs")
    assert empty.status_code == 200 and empty.json() == {}
    ids = [create_run(api, training_spec, f"p{i:02d}")["run_id"] for i in range(25)]
    nothing = api.get(
        "/runs",
        params={"filter": _filter(key="name", operation="EQUALS", string_value="zz")},
    )
    assert nothing.json() == {}

    first = api.get("/runs").json()
    assert len(first["runs"]) == 20 and first["total_size"] == 25
    assert first["next_page_token"]
    keys = [(r["created_at"], r["run_id"]) for r in first["runs"]]
    assert keys == sorted(keys), "oldest first, ties by run_id"
    assert {r["run_id"] for r in first["runs"]} <= set(ids)

    second = api.get("/runs", params={"page_token": first["next_page_token"]}).json()
    assert len(second["runs"]) == 5 and second["total_size"] == 25
    assert "next_page_token" not in second
    seen = {r["run_id"] for r in first["runs"]}
    assert not seen & {r["run_id"] for r in second["runs"]}
    assert seen | {r["run_id"] for r in second["runs"]} == set(ids)

    for i in range(180):
        create_run(api, training_spec, f"bulk{i}")
    capped = api.get("/runs", params={"page_size": 500}).json()
    assert len(capped["runs"]) == 200 and capped["total_size"] == 205


# -- 13 to 19 -----------------------------------------------------------------------


def test_13_negative_page_size(api):
    resp = api.get("/runs", params={"page_size": -1})
    assert resp.status_code == 400 and resp.json()["code"] == 3
    assert detail(resp) == "The page size should be greater than 0. Got -1"


def test_14_badly_typed_page_size_is_gateway_error(api):
    resp = api.get("/runs", params={"page_size": "abc"})
    assert resp.status_code == 400 and resp.json()["code"] == 3
    assert "details" not in resp.json()


def test_15_invalid_page_token(api):
    resp = api.get(
        "/apis/v2beta1/runs?page_token=%21%21%21".removeprefix("/apis/v2beta1")
    )
    assert resp.status_code == 400 and resp.json()["code"] == 3
    assert detail(resp) == "Invalid page token"


def test_16_unknown_sort_field(api):
    resp = api.get("/runs", params={"sort_by": "unknownfield"})
    assert resp.status_code == 400
    assert detail(resp) == 'Invalid sorting field: "unknownfield" on listable type Run'
    exp = api.get("/experiments", params={"sort_by": "bogus"})
    assert detail(exp) == 'Invalid sorting field: "bogus" on listable type Experiment'


def test_17_bad_sort_format(api):
    resp = api.get("/runs", params={"sort_by": "name up"})
    assert resp.status_code == 400
    assert detail(resp).startswith('Received invalid sort by format "name up"')


def test_18_token_bound_to_sort(api, training_spec):
    exp = _experiment(api)
    for i in range(3):
        _run_in(api, training_spec, exp, f"s{i}")
    newest = _run_in(api, training_spec, exp, "s-newest")
    page = api.get(
        "/runs",
        params={"experiment_id": exp, "sort_by": "created_at desc", "page_size": 1},
    ).json()
    assert page["runs"][0]["created_at"] == newest["created_at"]
    token = page["next_page_token"]
    same = api.get(
        "/runs",
        params={
            "experiment_id": exp,
            "sort_by": "created_at desc",
            "page_token": token,
        },
    )
    assert same.status_code == 200 and len(same.json()["runs"]) == 3
    resp = api.get("/runs", params={"page_token": token, "sort_by": "display_name"})
    assert resp.status_code == 400
    assert detail(resp).startswith(
        "page token does not match the supplied sort by and/or filtering criteria"
    )
    f = _filter(key="name", operation="EQUALS", string_value="s1")
    assert (
        api.get("/runs", params={"page_token": token, "filter": f}).status_code == 400
    )


def test_19_sort_by_name(api, training_spec):
    exp = _experiment(api)
    for name in ("bravo", "alpha", "Charlie"):
        _run_in(api, training_spec, exp, name)
    asc = api.get("/runs", params={"experiment_id": exp, "sort_by": "name"}).json()
    assert [r["display_name"] for r in asc["runs"]] == ["alpha", "bravo", "Charlie"]
    desc = api.get(
        "/runs", params={"experiment_id": exp, "sort_by": "display_name DESC"}
    ).json()
    assert [r["display_name"] for r in desc["runs"]] == ["Charlie", "bravo", "alpha"]


# -- 20 to 28: filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_filter(key="foo", operation="EQUALS", string_value="x"),
         'no support for filtering on unrecognized field "foo"'),
        ('{not json', 'failed to parse valid filter from'),
        (_filter(key="display_name", operation="IN", string_value="x"),
         "cannot use IN operator with scalar type string"),
        (_filter(key="display_name", operation="EQUALS", string_values={"values": ["a"]}),
         "cannot use scalar operator EQUALS on array type []string"),
        (_filter(key="display_name", string_value="x"),
         "Error using Filter.Predicate.Operation"),
        (_filter(key="display_name", op="EQUALS", string_value="x"),
         'failed to parse valid filter from'),
        (_filter(key="display_name", operation="EQUALS"),
         "Error using Filter.Predicate.Value with <nil>"),
        (_filter(key="", operation="EQUALS", string_value="x"),
         "Predicate key cannot be empty"),
        (_filter(key="name", operation="IS_SUBSTRING", long_value=3),
         "cannot use non string value type"),
        ('%zz', 'failed to parse valid filter from'),
    ],
)  # fmt: skip
def test_20_to_25_filter_errors(api, raw, expected):
    resp = api.get("/runs", params={"filter": raw})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == 3
    assert detail(resp).startswith(expected), detail(resp)


def test_26_double_encoded_substring_filter(api, training_spec):
    exp = _experiment(api)
    _run_in(api, training_spec, exp, "say-hello-1")
    _run_in(api, training_spec, exp, "HELLO-upper")
    _run_in(api, training_spec, exp, "goodbye")
    raw = '{"predicates":[{"key":"name","operation":"IS_SUBSTRING","string_value":"hello"}]}'
    once = urllib.parse.quote(raw, safe="")  # encodeURIComponent
    resp = api.get(
        f"/runs?experiment_id={exp}&filter={urllib.parse.quote(once, safe='')}"
    )
    assert resp.status_code == 200, resp.text
    names = sorted(r["display_name"] for r in resp.json()["runs"])
    assert names == ["HELLO-upper", "say-hello-1"], "case-insensitive like MySQL"


def test_27_sdk_style_filter(api, training_spec):
    exp = _experiment(api)
    _run_in(api, training_spec, exp, "r1")
    _run_in(api, training_spec, exp, "r1")
    _run_in(api, training_spec, exp, "r10")
    raw = '{"predicates":[{"operation":1,"key":"display_name","stringValue":"r1"}]}'
    body = api.get("/runs", params={"experiment_id": exp, "filter": raw}).json()
    assert [r["display_name"] for r in body["runs"]] == ["r1", "r1"]
    assert body["total_size"] == 2


def test_27b_in_and_int_values(api, training_spec):
    exp = _experiment(api)
    for name in ("a", "b", "c"):
        _run_in(api, training_spec, exp, name)
    f = _filter(key="name", operation="IN", string_values={"values": ["a", "c"]})
    body = api.get("/runs", params={"experiment_id": exp, "filter": f}).json()
    assert sorted(r["display_name"] for r in body["runs"]) == ["a", "c"]
    empty = _filter(key="name", operation="IN", string_values={"values": []})
    assert api.get("/runs", params={"experiment_id": exp, "filter": empty}).json() == {}


def test_28_time_filters_in_three_spellings(api, training_spec):
    exp = _experiment(api)
    old = _run_in(api, training_spec, exp, "old")
    cut = int(
        datetime.fromisoformat(old["created_at"].replace("Z", "+00:00")).timestamp()
    )
    import time as _time

    while int(_time.time()) <= cut:
        _time.sleep(0.05)
    _run_in(api, training_spec, exp, "new")
    stamp = datetime.fromtimestamp(cut + 1, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    for value in ({"string_value": str(cut + 1)}, {"long_value": str(cut + 1)},
                  {"longValue": cut + 1}, {"timestamp_value": stamp}):  # fmt: skip
        f = json.dumps(
            {"predicates": [{"key": "created_at", "operation": "LESS_THAN", **value}]}
        )
        body = api.get("/runs", params={"experiment_id": exp, "filter": f}).json()
        assert [r["display_name"] for r in body["runs"]] == ["old"], value


# -- 29 to 33: archive ---------------------------------------------------------------


def test_29_storage_state_filter_and_32_archive(api, training_spec):
    exp = _experiment(api)
    a = _run_in(api, training_spec, exp, "a")
    _run_in(api, training_spec, exp, "b")
    before = api.get("/runs", params={"experiment_id": exp}).json()["total_size"]
    before_archive = wait_state(api, a["run_id"], "SUCCEEDED")
    assert api.post(f"/runs/{a['run_id']}:archive").json() == {}
    got = api.get(f"/runs/{a['run_id']}").json()
    assert got["storage_state"] == "ARCHIVED"
    # Archiving touches storage only: state, history and times are as before.
    assert {**got, "storage_state": "AVAILABLE"} == before_archive
    again = api.post(f"/runs/{a['run_id']}:archive")
    assert again.status_code == 200 and again.json() == {}
    neq = _filter(key="storage_state", operation="NOT_EQUALS", string_value="ARCHIVED")
    body = api.get("/runs", params={"experiment_id": exp, "filter": neq}).json()
    assert a["run_id"] not in {r["run_id"] for r in body["runs"]}
    assert body["total_size"] == before - 1
    eq = _filter(key="storage_state", operation="EQUALS", string_value="ARCHIVED")
    only = api.get("/runs", params={"experiment_id": exp, "filter": eq}).json()
    assert [r["run_id"] for r in only["runs"]] == [a["run_id"]]


def test_30_unknown_experiment_scope(api):
    resp = api.get("/runs", params={"experiment_id": "nope"})
    assert resp.status_code == 404 and resp.json()["code"] == 5


def test_31_namespace_ignored(api, training_spec):
    create_run(api, training_spec, "ns")
    plain = api.get("/runs", params={"page_size": 200}).json()
    with_ns = api.get(
        "/runs", params={"page_size": 200, "namespace": "anything"}
    ).json()
    # Runs keep progressing between the calls, so compare which runs came back.
    assert [r["run_id"] for r in plain["runs"]] == [
        r["run_id"] for r in with_ns["runs"]
    ]
    assert plain["total_size"] == with_ns["total_size"]


def test_33_unarchive_into_archived_experiment(api, training_spec):
    exp = _experiment(api)
    run = _run_in(api, training_spec, exp, "x")
    assert api.post(f"/experiments/{exp}:archive").json() == {}
    assert api.get(f"/runs/{run['run_id']}").json()["storage_state"] == "ARCHIVED"
    resp = api.post(f"/runs/{run['run_id']}:unarchive")
    assert resp.status_code == 400 and resp.json()["code"] == 9
    assert "must be un-archived first" in detail(resp)
    assert api.post(f"/experiments/{exp}:unarchive").json() == {}
    assert api.get(f"/experiments/{exp}").json()["storage_state"] == "AVAILABLE"
    # Unarchiving the experiment leaves its runs archived.
    assert api.get(f"/runs/{run['run_id']}").json()["storage_state"] == "ARCHIVED"
    ok = api.post(f"/runs/{run['run_id']}:unarchive")
    assert ok.status_code == 200 and ok.json() == {}
    assert api.get(f"/runs/{run['run_id']}").json()["storage_state"] == "AVAILABLE"


# -- 34 to 39: actions ---------------------------------------------------------------


def test_34_terminate_running_run(api, training_spec):
    run = create_run(api, training_spec, "long", duration_scale=100)
    run_id = run["run_id"]
    wait_state(api, run_id, "RUNNING")
    resp = api.post(f"/runs/{run_id}:terminate")
    assert resp.status_code == 200 and resp.json() == {}
    now = api.get(f"/runs/{run_id}").json()
    assert now["state"] == "CANCELING"
    assert "CANCELING" not in [h["state"] for h in now["state_history"]]
    final = wait_state(api, run_id, "FAILED", "CANCELED", "SUCCEEDED")
    assert final["state"] == "FAILED"
    assert final["finished_at"] != EPOCH
    states = [h["state"] for h in final["state_history"]]
    assert states[0] == "PENDING" and states[-1] == "FAILED" and "RUNNING" in states
    tasks = api.get(f"/runs/{run_id}", params={"view": "FULL"}).json()["tasks"]
    assert all(t["state"] in ("SUCCEEDED", "FAILED") for t in tasks)
    assert any(t.get("error", {}).get("message") == "terminated" for t in tasks)
    # 35: a second terminate, and terminate of a finished run.
    second = api.post(f"/runs/{run_id}:terminate")
    assert second.status_code == 400 and second.json()["code"] == 3
    assert detail(second) == f"Failed to terminate a run {run_id}. Row not found"


def test_35_terminate_refused_when_finished_or_canceling(api, training_spec):
    done = create_run(api, training_spec, "done")
    wait_state(api, done["run_id"], "SUCCEEDED")
    resp = api.post(f"/runs/{done['run_id']}:terminate")
    assert resp.status_code == 400 and resp.json()["code"] == 3
    assert detail(resp) == f"Failed to terminate a run {done['run_id']}. Row not found"
    long = create_run(api, training_spec, "long", duration_scale=100)
    assert api.post(f"/runs/{long['run_id']}:terminate").status_code == 200
    twice = api.post(f"/runs/{long['run_id']}:terminate")
    assert twice.status_code == 400
    assert detail(twice) == f"Failed to terminate a run {long['run_id']}. Row not found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/runs/nope:terminate"), ("POST", "/runs/nope:retry"),
     ("POST", "/runs/nope:archive"), ("POST", "/runs/nope:unarchive"),
     ("DELETE", "/runs/nope")],
)  # fmt: skip
def test_36_actions_on_missing_run(api, method, path):
    resp = api.request(method, path)
    assert resp.status_code == 404 and resp.json()["code"] == 5
    assert detail(resp) == "Run nope not found"


def test_37_retry_refused_unless_failed(api, training_spec):
    done = create_run(api, training_spec, "done")
    wait_state(api, done["run_id"], "SUCCEEDED")
    resp = api.post(f"/runs/{done['run_id']}:retry")
    assert resp.status_code == 409 and resp.json()["code"] == 10
    long = create_run(api, training_spec, "long", duration_scale=100)
    wait_state(api, long["run_id"], "RUNNING")
    running = api.post(f"/runs/{long['run_id']}:retry")
    assert running.status_code == 409 and running.json()["code"] == 10


def test_37b_retry_refused_on_pending_run(demo_server):
    with httpx.Client(base_url=demo_server.url + "/apis/v2beta1") as api:
        f = _filter(key="state", operation="EQUALS", string_value="PENDING")
        pending = api.get("/runs", params={"filter": f}).json()["runs"]
        resp = api.post(f"/runs/{pending[0]['run_id']}:retry")
        assert resp.status_code == 409 and resp.json()["code"] == 10
        assert api.get(f"/runs/{pending[0]['run_id']}").json()["state"] == "PENDING"


def test_38_retry_failed_run(api, training_spec):
    run = create_run(
        api, training_spec, "flaky", fail_task="evaluate", duration_scale=10
    )
    failed = wait_state(api, run["run_id"], "FAILED", "SUCCEEDED", timeout=60)
    assert failed["state"] == "FAILED"
    assert failed["state_history"][-1]["error"]["message"].startswith("task 'evaluate'")
    before = {
        t["name"]: t for t in
        api.get(f"/runs/{run['run_id']}", params={"view": "FULL"}).json()["tasks"]
    }  # fmt: skip
    assert before["evaluate"]["state"] == "FAILED" and before["evaluate"]["error"]
    assert "report" not in before  # never started: its input failed
    assert api.post(f"/runs/{run['run_id']}:retry").json() == {}
    got = api.get(f"/runs/{run['run_id']}").json()
    assert got["run_id"] == run["run_id"]
    assert got["state"] == "RUNNING" and got["finished_at"] == EPOCH
    assert (
        got["state_history"][: len(failed["state_history"])] == failed["state_history"]
    )
    assert got["state_history"][-1]["state"] == "RUNNING"
    final = wait_state(api, run["run_id"], "SUCCEEDED", "FAILED", timeout=60)
    assert final["state"] == "SUCCEEDED"
    after = {
        t["name"]: t for t in
        api.get(f"/runs/{run['run_id']}", params={"view": "FULL"}).json()["tasks"]
    }  # fmt: skip
    # Succeeded tasks are kept as they were; only the failed one ran again.
    assert after["train"] == before["train"]
    assert [h["state"] for h in after["evaluate"]["state_history"]] == [
        "RUNNING", "FAILED", "RUNNING", "SUCCEEDED"
    ]  # fmt: skip
    assert after["report"]["state"] == "SUCCEEDED"


def test_39_delete_running_run(api, training_spec):
    run = create_run(api, training_spec, "doomed", duration_scale=100)
    wait_state(api, run["run_id"], "RUNNING")
    resp = api.delete(f"/runs/{run['run_id']}")
    assert resp.status_code == 200 and resp.json() == {}
    assert api.get(f"/runs/{run['run_id']}").status_code == 404
    assert api.delete(f"/runs/{run['run_id']}").status_code == 404
    assert api.get("/tasks", params={"run_id": run["run_id"]}).json() == {}


# -- 40, 41 --------------------------------------------------------------------------


def test_40_routing_errors(api):
    put = api.put("/runs/abc", json={})
    assert put.status_code == 501 and put.json() == {
        "code": 12,
        "message": "Method Not Allowed",
    }
    missing = api.get("/nothing")
    assert missing.status_code == 404 and missing.json() == {
        "code": 5,
        "message": "Not Found",
    }
    # Any other method, standard or made up, gets the same gateway answers
    # (never a text/plain 405 from the HTTP framework).
    for method in ("TRACE", "OPTIONS", "PURGE"):
        other = api.request(method, "/runs/abc")
        assert other.status_code == 501, (method, other.text)
        assert other.json() == {"code": 12, "message": "Method Not Allowed"}
        nowhere = api.request(method, "/nothing")
        assert nowhere.status_code == 404 and nowhere.json()["code"] == 5


def test_41_experiments(api):
    resp = api.get("/experiments/nope")
    assert resp.status_code == 404 and detail(resp) == "Experiment nope not found"
    dup = api.post("/experiments", json={"display_name": "Default"})
    assert dup.status_code == 409 and dup.json()["code"] == 6
    default = api.get(
        "/experiments",
        params={"filter": _filter(key="name", operation=1, string_value="Default")},
    ).json()["experiments"][0]
    gone = api.delete(f"/experiments/{default['experiment_id']}")
    assert gone.status_code == 409 and gone.json()["code"] == 10
    nameless = api.post("/experiments", json={})
    assert nameless.status_code == 500 and nameless.json()["code"] == 13
    exp = _experiment(api)
    got = api.get(f"/experiments/{exp}").json()
    assert got["last_run_created_at"] == EPOCH and "namespace" not in got
    assert api.delete(f"/experiments/{exp}").json() == {}
    assert api.get(f"/experiments/{exp}").status_code == 404


# -- 42, 43: multi-user and plugins (documented single-user behaviour) --------------


def test_42_single_user_has_no_namespace_or_identity_rules(api, training_spec):
    # CONFORMANCE.md deviation 6: no multi-user mode. Where a multi-user server
    # answers 400/401/403, this one serves the request and ignores identity.
    plain = api.get("/runs", params={"page_size": 1})
    assert plain.status_code == 200
    for headers in ({}, {"kubeflow-userid": "alice@example.com"},
                    {"Authorization": "Bearer not-checked"}):  # fmt: skip
        resp = api.get(
            "/runs", params={"namespace": "ns1", "page_size": 1}, headers=headers
        )
        assert resp.status_code == 200 and "WWW-Authenticate" not in resp.headers
        assert resp.json()["total_size"] >= plain.json()["total_size"]
    # No experiment_id: the run goes to the Default experiment, not a 400.
    run = api.post(
        "/runs", json={"display_name": "no-exp", "pipeline_spec": training_spec}
    )
    assert run.status_code == 200 and run.json()["experiment_id"]
    assert api.get("/healthz").json()["multi_user"] is False


def test_43_plugins_output_is_server_owned(api, training_spec):
    body = {"display_name": "plug", "pipeline_spec": training_spec}
    resp = api.post("/runs", json={**body, "plugins_output": {"mlflow": {}}})
    assert resp.status_code == 409 and resp.json()["code"] == 10
    assert "plugins_output" in detail(resp)
    # plugins_input is accepted and not stored (deviation 6).
    ok = api.post("/runs", json={**body, "plugins_input": {"mlflow": {"x": 1}}})
    assert ok.status_code == 200, ok.text
    assert "plugins_input" not in ok.json()


# -- 44: read_artifact ---------------------------------------------------------------


def test_44_read_artifact(api, training_spec):
    run = create_run(api, training_spec, "art")
    wait_state(api, run["run_id"], "SUCCEEDED")
    tasks = api.get(f"/runs/{run['run_id']}", params={"view": "FULL"}).json()["tasks"]
    report = next(t for t in tasks if t["name"] == "report")
    group = next(
        g for g in report["outputs"]["artifacts"] if g["artifact_key"] == "report"
    )
    art = group["artifacts"][0]
    assert art["type"] == "HTML"
    assert art["uri"].startswith(
        f"minio://mlpipeline/v2/artifacts/training-pipeline/{run['run_id']}/report/"
    )
    assert art["uri"].endswith("/report")
    resp = api.get(
        f"/runs/{run['run_id']}/nodes/{report['task_id']}/artifacts/report:read"
    )
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-cache, private"
    raw = base64.b64decode(resp.json()["data"], validate=True)
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["report.html"] and members[0].isreg()
        html = tar.extractfile(members[0]).read()
    assert b"<html" in html.lower()
    # The executor pod name works as node id too.
    pod = next(p["name"] for p in report["pods"] if p["type"] == "EXECUTOR")
    by_pod = api.get(f"/runs/{run['run_id']}/nodes/{pod}/artifacts/report:read")
    assert by_pod.json() == resp.json()
    for path in (
        "/runs/nope/nodes/n/artifacts/a:read",
        f"/runs/{run['run_id']}/nodes/{report['task_id']}/artifacts/nope:read",
        f"/runs/{run['run_id']}/nodes/nope/artifacts/report:read",
        f"/runs/{run['run_id']}/nodes/%25/artifacts/report:read",
    ):
        missing = api.get(path)
        assert missing.status_code == 404 and missing.json()["code"] == 5
        # The 10f340bf73 gateway form (CONFORMANCE.md deviation 1).
        run_part, _, rest = path.removeprefix("/runs/").partition("/nodes/")
        node, _, name = rest.partition("/artifacts/")
        assert detail(missing) == (
            f"artifact runs/{urllib.parse.unquote(run_part)}/nodes/"
            f"{urllib.parse.unquote(node)}/artifacts/{name.removesuffix(':read')} "
            "not found"
        )


# -- 45: tasks API -------------------------------------------------------------------


def test_45_tasks_api(api, training_spec):
    assert detail(api.get("/tasks/nope")) == "task nope not found"
    assert api.get("/tasks/nope").status_code == 404
    assert api.post("/tasks:batchUpdate", json={"tasks": {}}).status_code == 400
    both = api.get("/tasks", params={"run_id": "a", "parent_id": "b"})
    assert both.status_code == 400 and both.json()["code"] == 3
    assert api.post("/tasks", json={"run_id": "nope"}).status_code == 404
    assert api.post("/tasks", json={}).status_code == 400

    run = create_run(api, training_spec, "tasks")
    created = api.post(
        "/tasks",
        json={"run_id": run["run_id"], "name": "custom", "state": "RUNNING",
              "outputs": {"parameters": [{"parameter_key": "a", "value": 1,
                                          "type": "OUTPUT"}]}},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    task = created.json()
    assert task["state"] == "RUNNING" and task["inputs"] == {}
    assert [h["state"] for h in task["state_history"]] == ["RUNNING"]
    # No body at all is refused as CreateTask refuses it; {} updates nothing.
    bodiless = api.patch(f"/tasks/{task['task_id']}")
    assert bodiless.status_code == 400 and detail(bodiless) == "Task is required"
    assert api.patch(f"/tasks/{task['task_id']}", json={}).json() == task
    mismatch = api.patch(f"/tasks/{task['task_id']}", json={"task_id": "other"})
    assert mismatch.status_code == 400
    assert detail(mismatch) == (
        "Task ID in path parameter does not match task ID in request body"
    )
    patched = api.patch(
        f"/tasks/{task['task_id']}",
        json={"state": "SUCCEEDED",
              "outputs": {"parameters": [{"parameter_key": "b", "value": "x",
                                          "type": "OUTPUT"}]}},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert [h["state"] for h in body["state_history"]] == ["RUNNING", "SUCCEEDED"]
    keys = sorted(p["parameter_key"] for p in body["outputs"]["parameters"])
    assert keys == ["a", "b"]
    assert api.get(f"/tasks/{task['task_id']}").json()["state"] == "SUCCEEDED"
    bulk = api.post(
        "/tasks:batchUpdate",
        json={"tasks": {task["task_id"]: {"display_name": "Custom"}}},
    )
    assert bulk.json()["tasks"][task["task_id"]]["display_name"] == "Custom"


def test_45b_list_tasks_scopes_and_paging(api, sweep_spec):
    run = create_run(api, sweep_spec, "sweep")
    wait_state(api, run["run_id"], "SUCCEEDED")
    listing = api.get("/tasks", params={"run_id": run["run_id"]}).json()
    tasks = listing["tasks"]
    assert listing["total_size"] == len(tasks) == 9  # root + 8 planned tasks
    root = next(t for t in tasks if "parent_task_id" not in t)
    assert "type" not in root and root["scope_path"] == "root"
    dag = next(t for t in tasks if t["name"] == "tune-xgboost")
    assert dag["type"] == "DAG" and dag["parent_task_id"] == root["task_id"]
    children = api.get("/tasks", params={"parent_id": dag["task_id"]}).json()["tasks"]
    assert sorted(c["name"] for c in children) == ["fit", "score"]
    assert {c["scope_path"] for c in children} == {
        "root.tune-xgboost.fit", "root.tune-xgboost.score"
    }  # fmt: skip
    assert sorted(c["name"] for c in dag["child_tasks"]) == ["fit", "score"]
    first = api.get(
        "/tasks", params={"run_id": run["run_id"], "page_size": 4, "order_by": "name"}
    ).json()
    rest = api.get(
        "/tasks",
        # The scope (run_id) is not in the token: it is sent again, as on KFP.
        params={
            "run_id": run["run_id"],
            "page_size": 10,
            "page_token": first["next_page_token"],
        },
    ).json()
    names = [t["name"] for t in first["tasks"] + rest["tasks"]]
    assert names == sorted(names, key=str.lower) and len(names) == 9
    succeeded = json.dumps(
        {"predicates": [{"key": "status", "operation": "EQUALS", "int_value": 2}]}
    )
    ok = api.get("/tasks", params={"run_id": run["run_id"], "filter": succeeded}).json()
    assert ok["total_size"] == 9
    assert api.get("/tasks", params={"parent_id": "nope"}).status_code == 404
    assert api.get("/tasks", params={"run_id": "unknown-run"}).json() == {}


# -- 46: view ------------------------------------------------------------------------


def test_46_view(api, training_spec):
    run = create_run(api, training_spec, "view")
    assert "task_count" not in run and "tasks" not in run
    wait_state(api, run["run_id"], "SUCCEEDED")
    plain = api.get(f"/runs/{run['run_id']}").json()
    assert plain["task_count"] == 6 and "tasks" not in plain
    full = api.get(f"/runs/{run['run_id']}", params={"view": "FULL"}).json()
    assert len(full["tasks"]) == full["task_count"] == 6
    listed = api.get("/runs", params={"view": "FULL", "page_size": 200}).json()["runs"]
    assert any(r.get("tasks") for r in listed)
    assert (
        api.get(f"/runs/{run['run_id']}", params={"view": "BOGUS"}).status_code == 400
    )
    assert api.get("/runs", params={"view": "BOGUS"}).status_code == 400


def test_enum_numbers_on_input_and_storage_state_quirk(api, training_spec):
    # The server honours ARCHIVED sent on create (a real-server quirk), as a
    # name or as the enum number.
    for value in ("ARCHIVED", 2):
        body = {"display_name": "pre-archived", "pipeline_spec": training_spec}
        run = api.post("/runs", json={**body, "storage_state": value}).json()
        assert run["storage_state"] == "ARCHIVED"
    bad = api.post(
        "/runs",
        json={
            "display_name": "x",
            "pipeline_spec": training_spec,
            "storage_state": "NOPE",
        },
    )
    assert bad.status_code == 400 and "details" not in bad.json()


def test_sort_by_experiment_id_fails_only_when_a_next_page_exists(api, training_spec):
    exp = _experiment(api)
    for i in range(3):
        _run_in(api, training_spec, exp, f"e{i}")
    params = {"experiment_id": exp, "sort_by": "experiment_id"}
    assert len(api.get("/runs", params=params).json()["runs"]) == 3
    resp = api.get("/runs", params={**params, "page_size": 2})
    assert resp.status_code == 400
    assert detail(resp) == 'cannot sort by field "ExperimentUUID" on type "Run"'


def test_experiment_list_paging_and_sort(api):
    prefix = uuid.uuid4().hex[:8]
    for i in range(5):
        _experiment(api, f"{prefix}-{i}")
    f = _filter(key="name", operation="IS_SUBSTRING", string_value=prefix)
    first = api.get(
        "/experiments", params={"filter": f, "page_size": 2, "sort_by": "name desc"}
    ).json()
    assert first["total_size"] == 5
    names = [e["display_name"] for e in first["experiments"]]
    token = first["next_page_token"]
    while token:
        page = api.get(
            "/experiments", params={"page_token": token, "page_size": 2}
        ).json()
        names += [e["display_name"] for e in page["experiments"]]
        token = page.get("next_page_token")
    assert names == [f"{prefix}-{i}" for i in range(4, -1, -1)]


def test_every_semantics_check_has_a_test():
    """Each of SEMANTICS.md §14's 46 checks is named by a test in this module."""
    covered: set[int] = set()
    for name in globals():
        if not name.startswith("test_"):
            continue
        for first, last in re.findall(r"_(\d{2})(?:_to_(\d{2}))?", name):
            covered.update(range(int(first), int(last or first) + 1))
    assert set(range(1, 47)) <= covered, sorted(set(range(1, 47)) - covered)
