"""runs_frame: wire JSON of runs → one typed row per run."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from kfp_nb import _states
from kfp_nb._frames import (
    RUN_COLUMNS,
    UnparsedValueWarning,
    run_state_history,
    runs_frame,
)
from kfp_nb._models import Run
from tests._data import case, sample

UTC = "UTC"
EPOCH_FORMS = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00.000000000Z",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T02:00:00+02:00",
    "1970-01-01T00:00:00",
    "0001-01-01T00:00:00Z",  # Go's zero time
    "",
    None,
]


def wire_run(run_id: str = "r1", **fields):
    """A run as the server writes it: empty fields left out."""
    run = {
        "experiment_id": "e1",
        "run_id": run_id,
        "display_name": f"run {run_id}",
        "storage_state": "AVAILABLE",
        "service_account": "pipeline-runner",
        "created_at": "2024-02-05T21:26:07Z",
        "scheduled_at": "2024-02-05T21:26:07Z",
        "finished_at": "1970-01-01T00:00:00Z",
        "state": "RUNNING",
    }
    run.update(fields)
    return {k: v for k, v in run.items() if v is not ...}


# -- case 01: the epoch means "not set" --------------------------------------


def test_case_01_running_run_with_epoch_finished_at():
    body = case("01")["server_response"]["body"]
    df = runs_frame([body])
    row = df.iloc[0]
    assert row["finished_at"] is pd.NaT
    assert row["duration"] is pd.NaT
    assert row["created_at"] == pd.Timestamp("2024-02-05 21:26:07", tz=UTC)
    assert row["scheduled_at"] == pd.Timestamp("2024-02-05 21:26:07", tz=UTC)
    assert row["state"] == "RUNNING"
    assert row["param.learning_rate"] == 0.01
    assert str(df["created_at"].dtype) == "datetime64[ns, UTC]"
    # Empty run_details {} and state_history [] are no tasks and no history.
    assert len(run_state_history([body])) == 0


@pytest.mark.parametrize("sentinel", EPOCH_FORMS)
@pytest.mark.parametrize("column", ["created_at", "scheduled_at", "finished_at"])
def test_every_unset_timestamp_form_is_nat(column, sentinel):
    runs = [wire_run("a", **{column: sentinel}), wire_run("b")]
    df = runs_frame(runs)
    assert df.loc[0, column] is pd.NaT
    assert str(df[column].dtype) == "datetime64[ns, UTC]"


def test_missing_timestamp_keys_are_nat():
    run = wire_run("a", created_at=..., scheduled_at=..., finished_at=...)
    df = runs_frame([run])
    assert df[["created_at", "scheduled_at", "finished_at", "duration"]].isna().all(
        axis=None
    )


def test_epoch_in_state_history_is_not_a_start_time():
    history = [{"update_time": "1970-01-01T00:00:00Z", "state": "RUNNING"}]
    df = runs_frame([wire_run(state_history=history)])
    assert df.loc[0, "started_at"] is pd.NaT


# -- case 35: one parsing rule for every offset form --------------------------


CASE_35_EXPECTED = [
    pd.Timestamp("2024-03-31 00:59:59", tz=UTC),
    pd.Timestamp("2024-03-31 01:00:00", tz=UTC),
    pd.Timestamp("2024-03-31 01:00:00.123456789", tz=UTC),
    pd.Timestamp("2024-03-31 01:00:00", tz=UTC),
    pd.Timestamp("2024-03-31 01:00:00.5", tz=UTC),
    pd.NaT,
    pd.NaT,
]


def _runs_with_created(values):
    return [wire_run(f"r{i}", created_at=v) for i, v in enumerate(values)]


def test_case_35_mixed_offsets_naive_and_nanoseconds():
    values = case("35")["input"]["created_at"]
    df = runs_frame(_runs_with_created(values))
    assert str(df["created_at"].dtype) == "datetime64[ns, UTC]"
    got = list(df["created_at"])
    for have, want in zip(got, CASE_35_EXPECTED):
        assert (have is pd.NaT and want is pd.NaT) or have == want
    assert got[2].nanosecond == 789


def test_case_35_result_does_not_depend_on_row_order():
    values = case("35")["input"]["created_at"]
    expected = runs_frame(_runs_with_created(values)).set_index("run_id")["created_at"]
    rng = random.Random(35)
    for _ in range(20):
        runs = _runs_with_created(values)
        rng.shuffle(runs)
        got = runs_frame(runs).set_index("run_id")["created_at"]
        pd.testing.assert_series_equal(got.loc[expected.index], expected)


@pytest.mark.parametrize(
    "values",
    [
        ["2024-03-31T23:00:00Z", "2024-03-31T20:00:00Z"],  # whole seconds only
        [None, ""],  # nothing parseable
        ["2024-03-31T01:00:00.123Z"],  # milliseconds only
    ],
)
def test_time_columns_are_always_nanosecond_utc(values):
    # pandas would infer [s] or [ms] resolution from such inputs.
    df = runs_frame(_runs_with_created(values))
    for column in ("created_at", "scheduled_at", "started_at", "finished_at"):
        assert str(df[column].dtype) == "datetime64[ns, UTC]"
    assert str(df["duration"].dtype) == "timedelta64[ns]"


def test_timestamps_at_any_hour_parse_the_same_way():
    # Format inference once depended on the first value's hour (pandas#57452).
    for hour in range(24):
        text = f"2024-03-31T{hour:02d}:23:46Z"
        df = runs_frame([wire_run(created_at=text), wire_run("b", created_at=None)])
        assert df.loc[0, "created_at"] == pd.Timestamp(text)


def test_datetime_objects_are_accepted_naive_as_utc():
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone.utc)
    naive = datetime(2024, 1, 1, 13)
    df = runs_frame([wire_run("a", created_at=aware), wire_run("b", created_at=naive)])
    assert list(df["created_at"]) == [
        pd.Timestamp("2024-01-01 12:00", tz=UTC),
        pd.Timestamp("2024-01-01 13:00", tz=UTC),
    ]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [("yesterday", "not an RFC 3339"), ("2024-13-45T00:00:00Z", "not an RFC 3339"),
     (1700000000, "not an RFC 3339"), ({}, "not an RFC 3339"),
     ("9999-12-31T23:59:59Z", "outside the years 1677-2262")],
)
def test_unreadable_time_is_nat_with_one_warning_and_kept_raw(bad, problem):
    with pytest.warns(UnparsedValueWarning) as caught:
        df = runs_frame([wire_run("ok"), wire_run("bad-run", finished_at=bad)])
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "run 'bad-run' finished_at" in text and problem in text
    assert repr(bad) in text and "attrs['unparsed']" in text
    assert caught[0].filename == __file__  # points at the caller, not kfp_nb
    assert len(df) == 2 and pd.isna(df.loc[1, "finished_at"])
    assert df.loc[0, "run_id"] == "ok" and df["created_at"].notna().all()
    assert df.attrs["unparsed"] == [
        {"row": 1, "run_id": "bad-run", "column": "finished_at", "value": bad,
         "problem": df.attrs["unparsed"][0]["problem"]}
    ]


def test_many_unreadable_values_one_warning_naming_each_run_and_column():
    runs = [wire_run(f"r{i}", scheduled_at="9999-12-31T23:59:59Z") for i in range(7)]
    runs.append(wire_run("good"))
    with pytest.warns(UnparsedValueWarning) as caught:
        df = runs_frame(runs)
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("7 value(s)") and "run 'r0' scheduled_at" in text
    assert "and 2 more" in text
    assert [u["run_id"] for u in df.attrs["unparsed"]] == [f"r{i}" for i in range(7)]
    assert df["scheduled_at"][:7].isna().all() and df["scheduled_at"][7] is not pd.NaT


def test_history_frame_keeps_rows_with_unreadable_times():
    run = wire_run("h")
    run["state_history"] = [
        {"state": "RUNNING", "update_time": "2024-01-01T00:00:00Z"},
        {"state": "FAILED", "update_time": "not-a-time"},
    ]
    with pytest.warns(UnparsedValueWarning, match="run 'h' update_time"):
        df = run_state_history([run])
    assert len(df) == 2 and pd.isna(df.loc[1, "update_time"])
    assert df.attrs["unparsed"][0]["value"] == "not-a-time"


# -- case 02: every state survives ------------------------------------------


def test_case_02_known_new_and_unknown_states_are_kept():
    runs = case("02")["server_response"]["body"]["runs"]
    df = runs_frame(runs)
    assert len(df) == 6
    assert list(df["state"].astype(str)) == [
        "PAUSED",
        "CANCELING",
        "CANCELED",
        "RUNTIME_STATE_UNSPECIFIED",
        "ARCHIVING_SOMEDAY",
        "RUNTIME_STATE_UNSPECIFIED",  # no "state" key: the proto zero value
    ]
    assert df["state"].isna().sum() == 0
    assert list(df["state"].cat.categories) == [
        *_states.RUN_STATES,
        "ARCHIVING_SOMEDAY",
    ]
    # CANCELED has a real finished_at, so its duration is known.
    assert df.loc[2, "duration"] == pd.Timedelta(minutes=33, seconds=53)


@pytest.mark.parametrize("unknown", ["QUEUED", "ARCHIVING_SOMEDAY", "state-9", "x"])
def test_any_unknown_state_value_is_kept_never_nan(unknown):
    df = runs_frame([wire_run("a", state=unknown), wire_run("b", state="FAILED")])
    assert df.loc[0, "state"] == unknown
    assert unknown in df["state"].cat.categories
    assert df["state"].notna().all()


def test_unknown_storage_state_is_kept_and_missing_is_unspecified():
    runs = [
        wire_run("a", storage_state="STORAGESTATE_AVAILABLE"),
        wire_run("b", storage_state=...),
        wire_run("c", storage_state="ARCHIVED"),
    ]
    df = runs_frame(runs)
    assert list(df["storage_state"].astype(str)) == [
        "STORAGESTATE_AVAILABLE",
        "STORAGE_STATE_UNSPECIFIED",
        "ARCHIVED",
    ]
    assert list(df["storage_state"].cat.categories)[:2] == ["AVAILABLE", "ARCHIVED"]


def test_enum_numbers_are_named():
    runs = [wire_run("a", state=2, storage_state=2), wire_run("b", state=42)]
    df = runs_frame(runs)
    assert df.loc[0, "state"] == "RUNNING"
    assert df.loc[0, "storage_state"] == "ARCHIVED"
    assert df.loc[1, "state"] == "42"


def test_state_categories_do_not_depend_on_row_order():
    states = ["RUNNING", "NEW_ONE", "FAILED", "ANOTHER_NEW", None, "PAUSED"]
    runs = [wire_run(f"r{i}", state=s or ...) for i, s in enumerate(states)]
    first = runs_frame(runs)
    rng = random.Random(2)
    for _ in range(10):
        shuffled = runs[:]
        rng.shuffle(shuffled)
        again = runs_frame(shuffled)
        assert again["state"].dtype == first["state"].dtype
        pd.testing.assert_frame_equal(
            again.sort_values("run_id").reset_index(drop=True),
            first.sort_values("run_id").reset_index(drop=True),
        )


# -- case 03: empty listings -------------------------------------------------


def test_case_03_empty_body_gives_the_full_schema():
    body = case("03")["server_response"]["body"]
    empty = runs_frame(body.get("runs", []))
    full = runs_frame([sample("run_completed.json"), sample("run_failed.json")])
    assert len(empty) == 0
    assert list(empty.columns) == RUN_COLUMNS
    pd.testing.assert_series_equal(empty.dtypes, full.dtypes[RUN_COLUMNS])
    assert isinstance(empty.index, pd.RangeIndex)


def test_empty_generator_and_experiment_names():
    df = runs_frame(iter(()), experiment_names={"e1": "x"})
    assert list(df.columns) == RUN_COLUMNS
    assert str(df["state"].dtype) == "category"
    assert list(df["state"].cat.categories) == list(_states.RUN_STATES)


# -- case 38: text verbatim --------------------------------------------------


def test_case_38_html_and_unicode_names_are_kept_verbatim():
    body = case("38")["server_response"]["body"]
    df = runs_frame([body])
    assert df.loc[0, "display_name"] == body["display_name"]
    assert df.loc[0, "description"] == "line1\nline2 <b>bold?</b>"
    assert "🚀" in df.loc[0, "display_name"]
    html = df.to_html()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


# -- columns -----------------------------------------------------------------


def test_fixed_columns_dtypes_and_index():
    df = runs_frame([wire_run()])
    assert list(df.columns) == RUN_COLUMNS  # no parameters, no namespace
    assert isinstance(df.index, pd.RangeIndex)
    text = [c for c in RUN_COLUMNS if str(df[c].dtype) == "string"]
    assert set(text) == {
        "run_id", "display_name", "experiment_id", "experiment_name",
        "pipeline_id", "pipeline_version_id", "recurring_run_id", "error",
        "description", "service_account",
    }


def test_references_errors_and_names():
    runs = [
        wire_run(
            "hd",
            pipeline_version_reference={
                "pipeline_id": "p1", "pipeline_version_id": "v1"
            },
            recurring_run_id="job-1",
            error={"code": 2, "message": "boom"},
        ),
        wire_run("pr", pipeline_reference={"pipeline_id": "p2"}, experiment_id="e2"),
        wire_run(
            "hist",
            recurring_run_id="",
            state="FAILED",
            state_history=[
                {"update_time": "2024-02-05T21:26:07Z", "state": "PENDING"},
                {"update_time": "2024-02-05T21:27:00Z", "state": "FAILED",
                 "error": {"code": 2, "message": "task train failed"}},
            ],
        ),
    ]
    df = runs_frame(runs, experiment_names={"e1": "default", "zzz": "other"})
    assert list(df["pipeline_id"]) == ["p1", "p2", pd.NA]
    assert list(df["pipeline_version_id"]) == ["v1", pd.NA, pd.NA]
    assert list(df["recurring_run_id"]) == ["job-1", pd.NA, pd.NA]
    assert list(df["error"]) == ["boom", pd.NA, "task train failed"]
    assert list(df["experiment_name"]) == ["default", pd.NA, "default"]


def test_an_error_before_a_successful_retry_is_not_the_runs_error():
    history = [
        {"update_time": "2024-02-05T21:26:07Z", "state": "PENDING"},
        {"update_time": "2024-02-05T21:27:00Z", "state": "FAILED",
         "error": {"code": 2, "message": "task train failed"}},
        {"update_time": "2024-02-05T21:28:00Z", "state": "RUNNING"},
        {"update_time": "2024-02-05T21:29:00Z", "state": "SUCCEEDED"},
    ]
    df = runs_frame([wire_run("retried", state="SUCCEEDED", state_history=history)])
    assert df.loc[0, "error"] is pd.NA


def test_samples_with_nulls_load():
    failed = sample("run_failed.json")  # runtime_config, run_details null
    df = runs_frame([failed, sample("run_completed.json")])
    assert df.loc[0, "error"] == "This was a Failed Run."
    assert df.loc[1, "recurring_run_id"] == "recurring-schedule-001"
    assert df.loc[0, "param.batch_size"] is pd.NA
    assert df.loc[1, "param.batch_size"] == 1000


def test_error_only_run_stub_loads():
    # A run the server cannot convert carries only ids and the error (§8.1).
    stub = {"run_id": "x", "experiment_id": "e1", "error": {"code": 13,
                                                            "message": "bad row"}}
    df = runs_frame([stub, wire_run()])
    assert df.loc[0, "error"] == "bad row"
    assert df.loc[0, "state"] == "RUNTIME_STATE_UNSPECIFIED"
    assert df.loc[0, "created_at"] is pd.NaT


def test_namespace_column_only_when_sent():
    assert "namespace" not in runs_frame([wire_run()]).columns
    df = runs_frame([wire_run("a", namespace="team-a"), wire_run("b")])
    assert list(df["namespace"]) == ["team-a", pd.NA]
    assert list(df.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS


def test_pydantic_models_are_accepted():
    body = case("01")["server_response"]["body"]
    df = runs_frame([Run.model_validate(body)])
    assert df.loc[0, "run_id"] == body["run_id"]
    assert df.loc[0, "finished_at"] is pd.NaT


def test_non_object_run_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"run #1 is a str"):
        runs_frame([wire_run(), "r2"])


# -- start, duration ---------------------------------------------------------


def test_started_at_is_the_last_running_entry_and_duration_uses_it():
    history = [
        {"update_time": "2024-02-05T21:26:07Z", "state": "PENDING"},
        {"update_time": "2024-02-05T21:26:10Z", "state": "RUNNING"},
        {"update_time": "2024-02-05T21:30:00Z", "state": "FAILED"},
        {"update_time": "2024-02-05T21:40:00Z", "state": "RUNNING"},  # retried
        {"update_time": "2024-02-05T21:45:00Z", "state": "SUCCEEDED"},
    ]
    run = wire_run(state="SUCCEEDED", finished_at="2024-02-05T21:45:00Z",
                   state_history=history)
    df = runs_frame([run])
    assert df.loc[0, "started_at"] == pd.Timestamp("2024-02-05 21:40:00", tz=UTC)
    assert df.loc[0, "duration"] == pd.Timedelta(minutes=5)


def test_duration_falls_back_to_created_at_and_is_never_negative():
    runs = [
        wire_run("plain", state="SUCCEEDED", finished_at="2024-02-05T21:36:07Z"),
        wire_run("skew", state="SUCCEEDED", finished_at="2024-02-05T21:00:00Z"),
        wire_run("empty-history", state_history={}),
    ]
    df = runs_frame(runs)
    assert df.loc[0, "started_at"] is pd.NaT
    assert df.loc[0, "duration"] == pd.Timedelta(minutes=10)
    assert df.loc[1, "duration"] is pd.NaT
    assert df.loc[2, "duration"] is pd.NaT


def test_run_state_history_long_table():
    history = [
        {"update_time": "2024-02-05T21:26:07Z", "state": "PENDING"},
        {"update_time": "2024-02-05T21:26:10Z", "state": "RUNNING"},
        {"update_time": "2024-02-05T21:30:00Z", "state": "SOMETHING_NEW",
         "error": {"message": "hm"}},
    ]
    long = run_state_history([wire_run("a", state_history=history), wire_run("b")])
    assert list(long.columns) == ["run_id", "state", "update_time", "error"]
    assert list(long["run_id"]) == ["a", "a", "a"]
    assert list(long["state"].astype(str)) == ["PENDING", "RUNNING", "SOMETHING_NEW"]
    assert list(long["error"]) == [pd.NA, pd.NA, "hm"]
    empty = run_state_history([])
    assert list(empty.dtypes.astype(str)) == [
        "string", "category", "datetime64[ns, UTC]", "string"
    ]


# -- runtime parameters ------------------------------------------------------


def _params_frame(values_per_run):
    runs = []
    for i, params in enumerate(values_per_run):
        fields = {} if params is None else {"runtime_config": {"parameters": params}}
        runs.append(wire_run(f"r{i}", **fields))
    return runs_frame(runs)


def test_parameter_columns_are_typed_per_column():
    df = _params_frame(
        [
            {"epochs": 3, "lr": 1, "flag": True, "name": "a", "cfg": {"k": [1, 2]},
             "mixed": "x", "layers": [1, 2]},
            {"epochs": 5, "lr": 0.5, "flag": False, "name": "b", "cfg": {"k": []},
             "mixed": 1, "layers": [3, 4]},
            {"epochs": None},
            None,
        ]
    )
    dtypes = {c: str(df[c].dtype) for c in df.columns if c.startswith("param.")}
    assert dtypes == {
        "param.cfg": "object",
        "param.epochs": "Int64",
        "param.flag": "boolean",
        "param.layers": "object",
        "param.lr": "Float64",
        "param.mixed": "object",
        "param.name": "string",
    }
    assert list(df.columns) == RUN_COLUMNS + sorted(dtypes)
    assert df["param.epochs"].tolist() == [3, 5, pd.NA, pd.NA]
    assert df["param.lr"].tolist() == [1.0, 0.5, pd.NA, pd.NA]
    assert df.loc[0, "param.cfg"] == {"k": [1, 2]}
    assert df.loc[1, "param.layers"] == [3, 4]  # a list stays one cell
    assert df.loc[2, "param.cfg"] is None
    assert df["param.mixed"].tolist()[:2] == ["x", 1]


def test_bool_and_int_are_not_mixed_up():
    df = _params_frame([{"p": True}, {"p": 1}])
    assert str(df["param.p"].dtype) == "object"
    assert df["param.p"].tolist() == [True, 1]


def test_integers_beyond_int64_stay_exact():
    df = _params_frame([{"big": 2**70}, {"big": 1}])
    assert df.loc[0, "param.big"] == 2**70


def test_parameter_order_and_types_do_not_depend_on_row_order():
    rows = [{"b": 1, "a": "x"}, {"b": 2.5}, {"c": True}, {"a": "y", "c": False}]
    first = _params_frame(rows)
    shuffled = _params_frame(rows[::-1])
    assert list(first.columns) == list(shuffled.columns)
    assert (first.dtypes == shuffled.dtypes).all()


def test_case_01_case_02_case_04_parameters():
    runs = case("02")["server_response"]["body"]["runs"]
    df = runs_frame(runs)
    assert str(df["param.learning_rate"].dtype) == "Float64"
    assert np.allclose(df["param.learning_rate"].to_numpy(dtype=float), 0.01)
