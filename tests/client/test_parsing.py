"""What real servers send parses through the client (cases 01-04, 35, 38)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import unquote

import pytest

import kfp_nb
from tests._data import case

from ._mock import FakeServer, from_case, reply, run_body

SENTINELS = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00.000000000Z",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T01:00:00+01:00",
    "1970-01-01T00:00:00",
    "",
    None,
]


def _get(answer, run_id="r1"):
    fake = FakeServer().on("GET", ".*", answer)
    return fake.client().get_run(run_id)


def test_case01_epoch_finished_at_is_none_and_times_are_utc():
    run = _get(from_case(case("01")["server_response"]))
    assert run.finished_at is None and run.state == "RUNNING"
    assert run.created_at == datetime(2024, 2, 5, 21, 26, 7, tzinfo=timezone.utc)
    assert run.run_details is not None and run.run_details.task_details == []
    assert not run.is_final


@pytest.mark.parametrize("sentinel", SENTINELS)
def test_every_unset_timestamp_form_is_none(sentinel):
    run = _get(reply(200, run_body(finished_at=sentinel)))
    assert run.finished_at is None


def test_case02_every_state_loads_and_unknown_values_are_kept():
    body = case("02")["server_response"]["body"]
    fake = FakeServer().on("GET", ".*", reply(200, body))
    page = fake.client().list_runs(page_size=10)
    states = [r.state for r in page.runs]
    assert states == [
        "PAUSED",
        "CANCELING",
        "CANCELED",
        "RUNTIME_STATE_UNSPECIFIED",
        "ARCHIVING_SOMEDAY",
        None,
    ]
    assert [r.is_final for r in page.runs] == [False, False, True, False, False, False]
    assert page.total_size == 6


@pytest.mark.parametrize("state", [7, 3, 99, "SOME_FUTURE_STATE"])
def test_enum_numbers_and_future_names(state):
    run = _get(reply(200, run_body(state=state)))
    assert run.state == {7: "CANCELED", 3: "SUCCEEDED", 99: "99"}.get(state, state)


@pytest.mark.parametrize("body", [{}, {"runs": {}}, {"runs": None}, {"total_size": 0}])
def test_case03_empty_listing_is_empty_not_none(body):
    fake = FakeServer().on("GET", ".*", reply(200, body))
    page = fake.client().list_runs(experiment_id="e", page_size=50)
    assert page.runs == [] and page.total_size == 0 and page.next_page_token is None
    assert list(fake.client().iter_runs()) == []


def test_case03_empty_experiment_and_task_listings():
    fake = FakeServer().on("GET", ".*", reply(200, {}))
    assert fake.client().list_experiments().experiments == []
    assert fake.client().list_tasks(run_id="r").tasks == []


def test_case04_sparse_tasks_and_int64_strings():
    run = _get(from_case(case("04")["server_response"]))
    details = run.run_details
    assert details.pipeline_context_id == 41
    tasks = details.task_details
    assert len(tasks) == 3
    assert tasks[0].execution_id == 1234 and tasks[0].error is None
    assert tasks[2].end_time is None and tasks[2].state == "RUNNING"
    assert tasks[1].inputs.parameters == []


def test_case35_mixed_offsets_on_the_model_path():
    values = case("35")["input"]["created_at"]
    expected = [
        datetime(2024, 3, 31, 0, 59, 59, tzinfo=timezone.utc),
        datetime(2024, 3, 31, 1, 0, 0, tzinfo=timezone.utc),
        datetime(2024, 3, 31, 1, 0, 0, 123456, tzinfo=timezone.utc),
        datetime(2024, 3, 31, 1, 0, 0, tzinfo=timezone.utc),
        datetime(2024, 3, 31, 1, 0, 0, 500000, tzinfo=timezone.utc),
        None,
        None,
    ]
    runs = [{"run_id": f"r{i}", "created_at": v} for i, v in enumerate(values)]
    fake = FakeServer().on("GET", ".*", reply(200, {"runs": runs}))
    got = [r.created_at for r in fake.client().iter_runs()]
    assert got == expected


def test_case38_html_and_unicode_survive_the_round_trip():
    c = case("38")
    fake = FakeServer().on("POST", "/runs", reply(200, c["server_response"]["body"]))
    body = c["request"]["body"]
    run = fake.client().create_run(
        display_name=body["display_name"],
        description=body["description"],
        pipeline_version_reference=body["pipeline_version_reference"],
    )
    assert run.display_name == body["display_name"]
    sent = json.loads(fake.requests[0].content)
    assert sent["display_name"] == body["display_name"]
    assert sent["description"] == body["description"]


def test_case38_unicode_filter_is_encoded_for_the_double_decode():
    fake = FakeServer().on("GET", ".*", reply(200, {}))
    flt = {
        "predicates": [
            {"key": "name", "operation": "IS_SUBSTRING", "string_value": "訓練 50% a+b"}
        ]
    }
    fake.client().list_runs(filter=flt)
    raw = fake.params()["filter"]  # after httpx's one level of decoding
    assert json.loads(unquote(raw)) == flt  # the server's second decode


def test_unknown_fields_are_kept():
    run = _get(reply(200, run_body(brand_new_field={"a": 1})))
    assert run.model_extra["brand_new_field"] == {"a": 1}


def test_create_run_body_from_keywords_and_models():
    fake = FakeServer().on("POST", "/runs", reply(200, run_body("new")))
    client = fake.client()
    client.create_run(
        display_name="r",
        pipeline_spec={"root": {}},
        parameters={"lr": 0.1},
        experiment_id="e9",
    )
    sent = json.loads(fake.requests[-1].content)
    assert sent == {
        "display_name": "r",
        "pipeline_spec": {"root": {}},
        "runtime_config": {"parameters": {"lr": 0.1}},
        "experiment_id": "e9",
    }
    client.create_run(kfp_nb.Run(display_name="m", pipeline_spec={"x": 1}))
    assert json.loads(fake.requests[-1].content)["display_name"] == "m"
    with pytest.raises(TypeError):
        client.create_run({"display_name": "a"}, display_name="b")
    with pytest.raises(ValueError, match="display_name"):
        client.create_run(pipeline_spec={})
