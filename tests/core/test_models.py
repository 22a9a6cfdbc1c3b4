"""The wire models read what real servers send and write what the real server writes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kfp_nb._models import (
    Run,
    RunPage,
    Task,
    TaskPage,
    format_timestamp,
    parse_timestamp,
    to_wire,
)
from tests._data import case as _case


@pytest.mark.parametrize(
    "text",
    [
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:00:00.000Z",
        "1970-01-01T00:00:00.000000000Z",
        "1970-01-01T00:00:00+00:00",
        "1970-01-01T02:00:00+02:00",
        "1970-01-01T00:00:00",
        "",
        None,
    ],
)
def test_every_form_of_the_epoch_means_unset(text):
    assert parse_timestamp(text) is None
    assert Run.model_validate({"finished_at": text}).finished_at is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31T00:59:59Z", datetime(2024, 3, 31, 0, 59, 59)),
        ("2024-03-31T03:00:00+02:00", datetime(2024, 3, 31, 1, 0, 0)),
        ("2024-03-31T01:00:00.123456789Z", datetime(2024, 3, 31, 1, 0, 0, 123456)),
        ("2024-03-31T01:00:00", datetime(2024, 3, 31, 1, 0, 0)),
        ("2024-03-31T01:00:00.5Z", datetime(2024, 3, 31, 1, 0, 0, 500000)),
    ],
)
def test_mixed_offsets_become_utc(text, expected):
    assert parse_timestamp(text) == expected.replace(tzinfo=timezone.utc)


def test_unparsable_timestamp_is_a_clear_error():
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_timestamp("yesterday")


def test_format_timestamp_writes_z_and_groups_of_three():
    ts = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert format_timestamp(ts) == "2024-01-02T03:04:05Z"
    assert format_timestamp(ts.replace(microsecond=500000)) == "2024-01-02T03:04:05.500Z"
    assert format_timestamp(ts.replace(microsecond=1)) == "2024-01-02T03:04:05.000001Z"
    assert format_timestamp(None) == "1970-01-01T00:00:00Z"


def test_running_run_with_epoch_finished_at():
    body = _case("01-running-run-epoch-finished-at")["server_response"]["body"]
    run = Run.model_validate(body)
    assert run.state == "RUNNING"
    assert run.finished_at is None
    assert not run.is_final
    assert to_wire(run)["finished_at"] == "1970-01-01T00:00:00Z"


def test_unknown_and_new_states_are_kept():
    body = _case("02-unknown-and-new-runtime-states")["server_response"]["body"]
    page = RunPage.model_validate(body)
    states = [r.state for r in page.runs]
    assert "PAUSED" in states and "CANCELING" in states and "CANCELED" in states
    unknown = [s for s in states if s and s.startswith("ARCHIVING")]
    assert unknown, "a value from a newer server must survive parsing"
    assert [r.run_id for r in page.runs] == [
        r["run_id"] for r in body["runs"]
    ], "no run may be dropped"


@pytest.mark.parametrize("number,name", [(1, "PENDING"), (5, "FAILED"), (8, "PAUSED")])
def test_enum_numbers_become_names(number, name):
    assert Run.model_validate({"state": number}).state == name


def test_unknown_enum_number_is_kept_visible():
    assert Run.model_validate({"state": 42}).state == "42"


@pytest.mark.parametrize("body", [{}, {"runs": {}}, {"runs": None}, {"runs": []}])
def test_empty_list_forms(body):
    page = RunPage.model_validate(body)
    assert page.runs == [] and page.total_size == 0 and page.next_page_token is None
    assert TaskPage.model_validate({"tasks": {}}).tasks == []


def test_sparse_task_details_and_int64_strings():
    body = _case("04-task-details-sparse-int64-strings")["server_response"]["body"]
    run = Run.model_validate(body)
    tasks = run.run_details.task_details
    assert [t.execution_id for t in tasks] == [1234, None, None]
    assert run.run_details.pipeline_context_id == 41
    assert tasks[2].end_time is None  # epoch on a RUNNING task
    assert tasks[1].outputs.model_extra["metrics"] == {"artifact_ids": ["77", "78"]}
    wire = to_wire(run)
    assert wire["run_details"]["pipeline_context_id"] == "41"
    assert wire["run_details"]["task_details"][0]["execution_id"] == "1234"


def test_unknown_fields_survive_a_round_trip():
    run = Run.model_validate({"run_id": "r", "brand_new_field": {"x": 1}})
    assert to_wire(run)["brand_new_field"] == {"x": 1}


def test_to_wire_omits_zero_values_but_keeps_struct_contents():
    run = Run.model_validate(
        {
            "run_id": "r",
            "display_name": "",
            "runtime_config": {"parameters": {"zero": 0, "empty": "", "off": False}},
            "state_history": [],
        }
    )
    wire = to_wire(run)
    assert "display_name" not in wire and "state_history" not in wire
    assert wire["runtime_config"]["parameters"] == {"zero": 0, "empty": "", "off": False}
    assert set(wire) >= {"created_at", "scheduled_at", "finished_at"}


def test_empty_runtime_config_is_omitted_like_the_server():
    run = Run.model_validate({"run_id": "r", "runtime_config": {"parameters": {}}})
    assert "runtime_config" not in to_wire(run)


def test_task_inputs_and_outputs_are_always_written():
    wire = to_wire(Task(task_id="t"))
    assert wire["inputs"] == {} and wire["outputs"] == {}


def test_task_output_artifacts():
    task = Task.model_validate(
        {
            "outputs": {
                "artifacts": [
                    {
                        "artifact_key": "metrics",
                        "artifacts": [
                            {"name": "accuracy", "type": "Metric", "number_value": 0.9},
                            {"name": "f1", "type": "Metric", "number_value": 0.8},
                        ],
                    }
                ]
            }
        }
    )
    assert [(k, a.name) for k, a in task.output_artifacts] == [
        ("metrics", "accuracy"),
        ("metrics", "f1"),
    ]
