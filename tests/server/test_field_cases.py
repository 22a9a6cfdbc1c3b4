"""Field cases from ../shared/cases/ that concern the embedded server, by kind."""

from __future__ import annotations

import json

import httpx
import pytest

from kfp_nb.server import launch

from ._http import create_run, wait_for, wait_state

EPOCH = "1970-01-01T00:00:00Z"

# Case 38 and its kind: free text with markup, CJK, emoji (4-byte UTF-8), quotes,
# control characters, right-to-left and combining marks.
NAMES = [
    '<img src=x onerror=alert(1)> 訓練 🚀 & "quoted" </td><script>alert(2)</script>',
    "line1\nline2 <b>bold?</b>\t\u00a0",
    "مرحبا بالعالم \u202ereversed",
    "e\u0301te\u0301 👩‍🔬 \U0001f9ea %_ wildcard",
]


@pytest.mark.parametrize("name", NAMES)
def test_case38_free_text_round_trips_exactly(api, training_spec, name):
    body = {
        "display_name": name,
        "description": name[::-1],
        "pipeline_spec": training_spec,
    }
    created = api.post("/runs", json=body)
    assert created.status_code == 200, created.text
    run = created.json()
    assert run["display_name"] == name and run["description"] == name[::-1]
    got = api.get(f"/runs/{run['run_id']}").json()
    assert got["display_name"] == name and got["description"] == name[::-1]
    exp = api.post("/experiments", json={"display_name": name + run["run_id"]})
    assert exp.json()["display_name"] == name + run["run_id"]


def test_case38_substring_filter_on_non_ascii(api, training_spec):
    target = create_run(api, training_spec, "模型 訓練 run")
    create_run(api, training_spec, "模型 other")
    f = json.dumps(
        {
            "predicates": [
                {"key": "name", "operation": "IS_SUBSTRING", "string_value": "訓練"}
            ]
        }
    )
    ids = {r["run_id"] for r in api.get("/runs", params={"filter": f}).json()["runs"]}
    assert target["run_id"] in ids
    assert all("訓練" in api.get(f"/runs/{i}").json()["display_name"] for i in ids)


def test_case01_running_run_reports_epoch_finished_at(api, training_spec):
    run = create_run(api, training_spec, "live", duration_scale=100)
    running = wait_state(api, run["run_id"], "RUNNING")
    assert running["finished_at"] == EPOCH
    assert api.post(f"/runs/{run['run_id']}:terminate").json() == {}


def test_case03_empty_listings_are_bare_objects(api):
    exp = api.post("/experiments", json={"display_name": "empty-exp"}).json()
    assert api.get("/runs", params={"experiment_id": exp["experiment_id"]}).json() == {}
    assert api.get("/tasks", params={"run_id": "no-such-run"}).json() == {}
    f = json.dumps(
        {"predicates": [{"key": "name", "operation": "EQUALS", "string_value": "none"}]}
    )
    assert api.get("/experiments", params={"filter": f}).json() == {}


def test_case07_token_with_the_same_filter_or_none(api, training_spec):
    exp = api.post("/experiments", json={"display_name": "paging-case"}).json()
    for i in range(5):
        api.post(
            "/runs",
            json={"display_name": f"f{i}", "pipeline_spec": training_spec,
                  "experiment_id": exp["experiment_id"]},
        )  # fmt: skip
    f = json.dumps(
        {
            "predicates": [
                {"key": "name", "operation": "IS_SUBSTRING", "string_value": "f"}
            ]
        }
    )
    scope = {"experiment_id": exp["experiment_id"], "sort_by": "created_at desc"}
    first = api.get("/runs", params={**scope, "filter": f, "page_size": 2}).json()
    token = first["next_page_token"]
    same = api.get("/runs", params={**scope, "filter": f, "page_token": token})
    bare = api.get(
        "/runs", params={"experiment_id": exp["experiment_id"], "page_token": token}
    )
    assert same.status_code == bare.status_code == 200
    same_ids = [r["run_id"] for r in same.json()["runs"]]
    assert same_ids == [r["run_id"] for r in bare.json()["runs"]]
    assert len(same_ids) == 3 and not {r["run_id"] for r in first["runs"]} & set(
        same_ids
    )
    # Re-serialised with a different value: refused, as on KFP.
    other = f.replace('"f"', '"f0"')
    wrong = api.get("/runs", params={**scope, "filter": other, "page_token": token})
    assert wrong.status_code == 400 and wrong.json()["code"] == 3


def test_case21_terminate_lags_then_canceled_when_configured(tmp_path, training_spec):
    with (
        launch(db=str(tmp_path / "k.db"), speed=200.0, terminate_final="CANCELED") as s,
        httpx.Client(base_url=s.url + "/apis/v2beta1") as api,
    ):
        run = create_run(api, training_spec, "stop-me", duration_scale=100)
        wait_state(api, run["run_id"], "RUNNING")
        assert api.post(f"/runs/{run['run_id']}:terminate").json() == {}
        assert api.get(f"/runs/{run['run_id']}").json()["state"] == "CANCELING"
        final = wait_for(
            api, run["run_id"], lambda r: r["state"] not in ("RUNNING", "CANCELING")
        )
        assert final["state"] == "CANCELED" and final["finished_at"] != EPOCH
        states = [h["state"] for h in final["state_history"]]
        assert states[-2:] == ["CANCELING", "CANCELED"]
        retry = api.post(f"/runs/{run['run_id']}:retry")
        assert retry.status_code == 409 and retry.json()["code"] == 10
