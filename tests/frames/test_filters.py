"""compile_filter: keywords and raw KFP filters → v2beta1 Filter JSON."""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta, timezone

import jsonschema
import numpy as np
import pandas as pd
import pytest

from kfp_nb import _states
from kfp_nb._filters import OPERATIONS, UnknownStateWarning, compile_filter
from tests._data import swagger

NOT_ARCHIVED = {
    "key": "storage_state", "operation": "NOT_EQUALS", "string_value": "ARCHIVED"
}


def _strict_filter_schema():
    """The swagger Filter schema, closed: protojson rejects unknown fields."""
    definitions = copy.deepcopy(swagger("filter.swagger.json")["definitions"])
    for name in ("v2beta1Filter", "v2beta1Predicate", "PredicateStringValues",
                 "PredicateIntValues", "PredicateLongValues"):
        definitions[name]["additionalProperties"] = False
    return {"$ref": "#/definitions/v2beta1Filter", "definitions": definitions}


SCHEMA = _strict_filter_schema()
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def check_wire(compiled):
    """What the server's protojson parser would demand of the filter."""
    jsonschema.validate(compiled, SCHEMA)
    for pred in compiled["predicates"]:
        values = [k for k in pred if k not in ("key", "operation")]
        assert len(values) == 1, pred
        if "timestamp_value" in pred:
            assert RFC3339_Z.match(pred["timestamp_value"]), pred
    json.dumps(compiled)  # plain JSON, nothing exotic


# -- the archived default ----------------------------------------------------


def test_defaults_hide_archived_runs():
    compiled = compile_filter()
    assert compiled == {"predicates": [NOT_ARCHIVED]}
    check_wire(compiled)


def test_archived_true_and_none():
    assert compile_filter(archived=True) == {
        "predicates": [
            {"key": "storage_state", "operation": "EQUALS", "string_value": "ARCHIVED"}
        ]
    }
    assert compile_filter(archived=None) is None


@pytest.mark.parametrize("bad", ["yes", 1, 0, "ARCHIVED"])
def test_archived_must_be_a_bool_or_none(bad):
    with pytest.raises(TypeError, match="archived must be True, False or None"):
        compile_filter(archived=bad)


# -- state -------------------------------------------------------------------


def test_one_state_is_equals():
    compiled = compile_filter(state="FAILED", archived=None)
    assert compiled == {
        "predicates": [
            {"key": "state", "operation": "EQUALS", "string_value": "FAILED"}
        ]
    }
    check_wire(compiled)


@pytest.mark.parametrize(
    "states",
    [["FAILED", "CANCELED"], ("FAILED", "CANCELED"), ["failed", "CANCELED", "FAILED"]],
)
def test_several_states_are_in_with_string_values(states):
    compiled = compile_filter(state=states, archived=None)
    assert compiled == {
        "predicates": [
            {"key": "state", "operation": "IN",
             "string_values": {"values": ["FAILED", "CANCELED"]}}
        ]
    }
    check_wire(compiled)


def test_a_set_of_states_is_sorted_for_a_stable_filter():
    compiled = compile_filter(state={"RUNNING", "PENDING", "PAUSED"}, archived=None)
    values = compiled["predicates"][0]["string_values"]["values"]
    assert values == ["PAUSED", "PENDING", "RUNNING"]


@pytest.mark.parametrize("state", _states.RUN_STATES)
def test_every_known_state_is_accepted_in_any_case(state):
    assert compile_filter(state=state.lower(), archived=None)["predicates"][0][
        "string_value"
    ] == state


def test_unknown_upper_case_state_is_sent_with_a_warning():
    with pytest.warns(UnknownStateWarning, match="QUEUED") as record:
        compiled = compile_filter(state=["QUEUED", "RUNNING"], archived=None)
    assert compiled["predicates"][0]["string_values"]["values"] == ["QUEUED", "RUNNING"]
    # The warning points at the caller, not at kfp_nb's internals.
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("bad", "hint"),
    [("runing", "Did you mean 'RUNNING'"), ("Succeded", "Did you mean 'SUCCEEDED'"),
     ("done!", "")],
)
def test_misspelled_state_lists_the_valid_states(bad, hint):
    with pytest.raises(ValueError) as info:
        compile_filter(state=bad)
    message = str(info.value)
    assert repr(bad) in message
    for state in _states.RUN_STATES:
        assert state in message
    assert hint in message


def test_empty_and_wrongly_typed_states():
    with pytest.raises(ValueError, match="state=None"):
        compile_filter(state=[])
    with pytest.raises(TypeError, match="state name"):
        compile_filter(state=3)
    with pytest.raises(TypeError, match="state name"):
        compile_filter(state={"state": "FAILED"})
    with pytest.raises(TypeError, match="'FAILED'"):
        compile_filter(state=["FAILED", None])


# -- name_contains -----------------------------------------------------------


@pytest.mark.parametrize("text", ["nightly", "訓練", "a+b", "50%", "<b>"])
def test_name_contains_is_a_display_name_substring(text):
    compiled = compile_filter(name_contains=text, archived=None)
    assert compiled == {
        "predicates": [
            {"key": "display_name", "operation": "IS_SUBSTRING", "string_value": text}
        ]
    }
    check_wire(compiled)


def test_empty_name_contains_filters_nothing_and_non_text_is_refused():
    assert compile_filter(name_contains="", archived=None) is None
    with pytest.raises(TypeError, match="name_contains must be a string"):
        compile_filter(name_contains=5)


# -- created_after / created_before -------------------------------------------


def _bound(**keywords):
    compiled = compile_filter(archived=None, **keywords)
    check_wire(compiled)
    return [(p["operation"], p["timestamp_value"]) for p in compiled["predicates"]]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, 0), "2024-05-01T12:00:00Z"),  # naive = UTC
        (datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
         "2024-05-01T12:00:00Z"),
        (pd.Timestamp("2024-05-01 12:00", tz="UTC"), "2024-05-01T12:00:00Z"),
        (pd.Timestamp("2024-05-01 08:00", tz="America/New_York"),
         "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01 12:00", "2024-05-01T12:00:00Z"),  # naive text = UTC
        ("2024-05-01", "2024-05-01T00:00:00Z"),
        (date(2024, 5, 1), "2024-05-01T00:00:00Z"),  # a date is its midnight UTC
        (np.datetime64("2024-05-01T12:00:00"), "2024-05-01T12:00:00Z"),
    ],
)
def test_time_bounds_accept_every_form(value, expected):
    assert _bound(created_after=value) == [("GREATER_THAN_EQUALS", expected)]
    assert _bound(created_before=value) == [("LESS_THAN", expected)]


def test_fractional_bounds_round_up_to_the_next_second():
    # The server compares whole seconds; rounding up keeps >= and < exact.
    assert _bound(created_after="2024-05-01T12:00:00.000000001Z") == [
        ("GREATER_THAN_EQUALS", "2024-05-01T12:00:01Z")
    ]
    assert _bound(created_before=datetime(2024, 5, 1, 12, 0, 0, 500000)) == [
        ("LESS_THAN", "2024-05-01T12:00:01Z")
    ]


def test_both_bounds_and_an_empty_range():
    assert _bound(created_after="2024-05-01", created_before="2024-06-01") == [
        ("GREATER_THAN_EQUALS", "2024-05-01T00:00:00Z"),
        ("LESS_THAN", "2024-06-01T00:00:00Z"),
    ]
    with pytest.raises(ValueError, match="no run can match"):
        compile_filter(created_after="2024-06-01", created_before="2024-05-01")
    with pytest.raises(ValueError, match="no run can match"):
        compile_filter(created_after="2024-06-01", created_before="2024-06-01")


@pytest.mark.parametrize(
    ("value", "error"),
    [("last tuesday", ValueError), ("2024-13-01", ValueError), (pd.NaT, ValueError),
     (1714564800, TypeError), (True, TypeError), ([2024, 5, 1], TypeError)],
)
def test_bad_time_bounds_name_the_keyword(value, error):
    with pytest.raises(error, match="created_after"):
        compile_filter(created_after=value)


# -- all keywords together ---------------------------------------------------


def test_all_keywords_compile_in_a_fixed_order():
    compiled = compile_filter(
        state="FAILED",
        name_contains="nightly",
        created_after="2024-05-01",
        created_before="2024-06-01",
        archived=False,
    )
    assert compiled["predicates"] == [
        {"key": "state", "operation": "EQUALS", "string_value": "FAILED"},
        {"key": "display_name", "operation": "IS_SUBSTRING", "string_value": "nightly"},
        {"key": "created_at", "operation": "GREATER_THAN_EQUALS",
         "timestamp_value": "2024-05-01T00:00:00Z"},
        {"key": "created_at", "operation": "LESS_THAN",
         "timestamp_value": "2024-06-01T00:00:00Z"},
        NOT_ARCHIVED,
    ]
    check_wire(compiled)


# -- raw filters -------------------------------------------------------------


RAW = {"predicates": [{"key": "display_name", "operation": "EQUALS",
                       "string_value": "x"}]}


@pytest.mark.parametrize("raw", [RAW, json.dumps(RAW), json.dumps(RAW).encode()])
def test_raw_filter_is_anded_with_keywords(raw):
    compiled = compile_filter(state="RUNNING", filter=raw)
    assert compiled["predicates"] == [
        {"key": "state", "operation": "EQUALS", "string_value": "RUNNING"},
        NOT_ARCHIVED,
        RAW["predicates"][0],
    ]
    check_wire(compiled)


def test_raw_filter_alone_and_empty_forms():
    assert compile_filter(filter=RAW, archived=None) == RAW
    for empty in ({}, {"predicates": []}, "", "  ", '{"predicates": null}', None):
        assert compile_filter(filter=empty, archived=None) is None


def test_raw_storage_state_predicate_replaces_the_archived_keyword():
    raw = {"predicates": [{"key": "storage_state", "operation": "EQUALS",
                           "stringValue": "ARCHIVED"}]}
    compiled = compile_filter(filter=raw)  # archived=False by default
    assert compiled == {
        "predicates": [
            {"key": "storage_state", "operation": "EQUALS", "string_value": "ARCHIVED"}
        ]
    }


def test_camel_case_is_written_back_in_snake_case():
    raw = {
        "predicates": [
            {"key": "state", "operation": "IN",
             "stringValues": {"values": ["FAILED"]}},
            {"key": "created_at", "operation": "LESS_THAN", "longValue": 1714564800},
            {"key": "created_at", "operation": "GREATER_THAN", "intValue": 5},
            {"key": "created_at", "operation": "GREATER_THAN_EQUALS",
             "timestampValue": "2024-05-01T14:00:00.5+02:00"},
            {"key": "run_id", "operation": "IN", "longValues": {"values": ["1", 2]}},
            {"key": "run_id", "operation": "IN", "intValues": {"values": [1, 2]}},
        ]
    }
    compiled = compile_filter(filter=raw, archived=None)
    assert compiled["predicates"] == [
        {"key": "state", "operation": "IN", "string_values": {"values": ["FAILED"]}},
        # int64 travels as a string, int32 as a number.
        {"key": "created_at", "operation": "LESS_THAN", "long_value": "1714564800"},
        {"key": "created_at", "operation": "GREATER_THAN", "int_value": 5},
        # Raw times keep their fraction (the server truncates), in UTC with Z.
        {"key": "created_at", "operation": "GREATER_THAN_EQUALS",
         "timestamp_value": "2024-05-01T12:00:00.5Z"},
        {"key": "run_id", "operation": "IN", "long_values": {"values": ["1", "2"]}},
        {"key": "run_id", "operation": "IN", "int_values": {"values": [1, 2]}},
    ]
    check_wire(compiled)


@pytest.mark.parametrize(("number", "name"), [(n, k) for k, n in OPERATIONS.items()])
def test_numeric_operations_are_named(number, name):
    field = (
        {"string_values": {"values": ["a"]}} if name == "IN" else {"string_value": "a"}
    )
    for operation in (number, str(number), name.lower()):
        raw = {"predicates": [{"key": "display_name", "operation": operation, **field}]}
        compiled = compile_filter(filter=raw, archived=None)
        assert compiled["predicates"][0]["operation"] == name
        check_wire(compiled)


def test_sdk_style_filter_is_accepted():
    # What the KFP SDK sends to look an experiment up by name.
    raw = '{"predicates":[{"operation":1,"key":"display_name","stringValue":"x"}]}'
    assert compile_filter(filter=raw, archived=None) == RAW


def test_operation_names_match_the_swagger_enum():
    enum = swagger("filter.swagger.json")["definitions"]["v2beta1PredicateOperation"]
    assert set(OPERATIONS) == set(enum["enum"]) - {"OPERATION_UNSPECIFIED"}


INVALID = [
    ("not json {", "not valid JSON"),
    ("[1, 2]", "must be an object"),
    (["predicates"], "must be an object"),
    ({"predicate": []}, "unknown field(s) ['predicate']"),
    ({"predicates": {"key": "state"}}, "'predicates' must be a list"),
    ({"predicates": ["state=FAILED"]}, "predicate 0: expected an object"),
    ({"predicates": [{"key": "state", "op": 1, "string_value": "X"}]},
     "'op' is the v1beta1 name"),
    ({"predicates": [{"key": "state", "operation": "EQUALS"}]},
     "exactly one value field"),
    ({"predicates": [{"key": "state", "operation": "EQUALS", "string_value": "A",
                      "stringValue": "B"}]}, "exactly one value field"),
    ({"predicates": [{"key": "state", "operation": "EQUALS", "string_value": "A",
                      "int_value": 1}]}, "exactly one value field"),
    ({"predicates": [{"operation": "EQUALS", "string_value": "A"}]}, "'key'"),
    ({"predicates": [{"key": "", "operation": "EQUALS", "string_value": "A"}]},
     "'key'"),
    ({"predicates": [{"key": "state", "string_value": "A"}]}, "'operation' None"),
    ({"predicates": [{"key": "state", "operation": 4, "string_value": "A"}]},
     "'operation' 4"),
    ({"predicates": [{"key": "state", "operation": 0, "string_value": "A"}]},
     "'operation' 0"),
    ({"predicates": [{"key": "state", "operation": "LIKE", "string_value": "A"}]},
     "'operation' 'LIKE'"),
    ({"predicates": [{"key": "state", "operation": True, "string_value": "A"}]},
     "'operation' True"),
    ({"predicates": [{"key": "state", "operation": "IN", "string_value": "A"}]},
     "IN needs a list value"),
    ({"predicates": [{"key": "state", "operation": "EQUALS",
                      "string_values": {"values": ["A"]}}]},
     "EQUALS needs a single value"),
    ({"predicates": [{"key": "state", "operation": "IS_SUBSTRING", "int_value": 1}]},
     "IS_SUBSTRING needs a string_value"),
    ({"predicates": [{"key": "state", "operation": "IN",
                      "string_values": ["A", "B"]}]}, '{"values": [...]}'),
    ({"predicates": [{"key": "state", "operation": "IN",
                      "string_values": {"values": "A"}}]}, "values must be a list"),
    ({"predicates": [{"key": "state", "operation": "IN",
                      "string_values": {"values": ["A", 1]}}]},
     "string_value must be a string"),
    ({"predicates": [{"key": "state", "operation": "EQUALS", "string_value": 1}]},
     "string_value must be a string"),
    ({"predicates": [{"key": "x", "operation": "EQUALS", "int_value": 2**31}]},
     "within int32"),
    ({"predicates": [{"key": "x", "operation": "EQUALS", "int_value": 1.5}]},
     "within int32"),
    ({"predicates": [{"key": "x", "operation": "EQUALS", "int_value": False}]},
     "within int32"),
    ({"predicates": [{"key": "x", "operation": "EQUALS", "long_value": "12a"}]},
     "within int64"),
    ({"predicates": [{"key": "x", "operation": "EQUALS", "long_value": 2**63}]},
     "within int64"),
    ({"predicates": [{"key": "created_at", "operation": "LESS_THAN",
                      "timestamp_value": "yesterday"}]}, "RFC 3339"),
    ({"predicates": [{"key": "created_at", "operation": "LESS_THAN",
                      "timestamp_value": {"seconds": 5}}]}, "RFC 3339"),
    ({"predicates": [{"key": "created_at", "operation": "LESS_THAN",
                      "timestamp_value": 1714564800}]}, "RFC 3339"),
    ({"predicates": [{"key": "state", "operation": "EQUALS", "string_value": "A",
                      "extra": 1}]}, "unknown field(s) ['extra']"),
    (42, "must be an object"),
]


@pytest.mark.parametrize(("raw", "problem"), INVALID)
def test_invalid_raw_filters_name_the_problem_and_show_an_example(raw, problem):
    with pytest.raises(ValueError) as info:
        compile_filter(filter=raw)
    message = str(info.value)
    assert message.startswith("invalid KFP filter:")
    assert problem in message
    example = message.split("A valid one: ", 1)[1]
    # The example shown is itself a valid filter.
    assert compile_filter(filter=example, archived=None)["predicates"]


def test_the_second_bad_predicate_is_named_by_index():
    raw = {"predicates": [RAW["predicates"][0],
                          {"key": "state", "operation": 4, "string_value": "A"}]}
    with pytest.raises(ValueError, match="predicate 1:"):
        compile_filter(filter=raw)


def test_the_callers_filter_is_not_modified():
    raw = {"predicates": [{"key": "state", "operation": 1, "stringValue": "A"}]}
    before = copy.deepcopy(raw)
    compile_filter(filter=raw, state="FAILED")
    assert raw == before
