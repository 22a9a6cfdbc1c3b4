"""tasks_frame and task_state_history: both task schemas → typed rows."""

from __future__ import annotations

import copy
import random

import jsonschema
import pandas as pd
import pytest

from kfp_nb import _states
from kfp_nb._frames import (
    TASK_COLUMNS,
    UnparsedValueWarning,
    task_state_history,
    tasks_frame,
)
from kfp_nb._models import Task
from tests._data import case, swagger

UTC = "UTC"
RUN = "9d0c1e7a-0000-4000-8000-000000000008"


def head_tasks():
    """Case 04: HEAD's run_details.task_details."""
    body = case("04")["server_response"]["body"]
    return copy.deepcopy(body["run_details"]["task_details"])


def pr_tasks():
    """A run's tasks as the tasks API (PR schema, §8.3) lists them."""
    root = {
        "task_id": "t-root",
        "run_id": RUN,
        "name": "root",
        "display_name": "training",
        "cache_fingerprint": "16f4f95b",
        "create_time": "2024-02-05T21:26:08Z",
        "end_time": "2024-02-05T21:40:00Z",
        "state": "FAILED",
        "status_metadata": {"message": "task 'train' failed"},
        "state_history": [
            {"update_time": "2024-02-05T21:26:09Z", "state": "RUNNING"},
            {"update_time": "2024-02-05T21:40:00Z", "state": "FAILED"},
        ],
        "child_tasks": [
            {"task_id": "t-load", "name": "load"},
            {"task_id": "t-train", "name": "train"},
        ],
        "inputs": {
            "parameters": [
                {"value": 0.1, "type": "RUNTIME_VALUE_INPUT", "parameter_key": "lr"}
            ]
        },
        "outputs": {},
        "scope_path": "root",
    }
    load = {
        "task_id": "t-load",
        "run_id": RUN,
        "name": "load",
        "display_name": "load",
        "pods": [
            {"name": "training-abc-111", "uid": "u1", "type": "DRIVER"},
            {"name": "training-abc-222", "uid": "u2", "type": "EXECUTOR"},
        ],
        "create_time": "2024-02-05T21:26:10Z",
        "end_time": "2024-02-05T21:28:10.250Z",
        "state": "CACHED",
        "state_history": [
            {"update_time": "2024-02-05T21:26:12Z", "state": "RUNNING"},
            {"update_time": "2024-02-05T21:28:10.250Z", "state": "CACHED"},
        ],
        "type": "RUNTIME",
        "type_attributes": {"iteration_index": "3"},
        "parent_task_id": "t-root",
        "inputs": {},
        "outputs": {
            "artifacts": [
                {
                    "artifact_key": "dataset",
                    "type": "OUTPUT",
                    "artifacts": [
                        {"artifact_id": "a-1", "name": "dataset", "type": "Dataset",
                         "uri": "minio://mlpipeline/v2/artifacts/x/dataset"}
                    ],
                },
                {
                    "artifact_key": "metrics",
                    "type": "OUTPUT",
                    "artifacts": [
                        {"artifact_id": "101", "name": "rows", "type": "Metric",
                         "number_value": 120},
                        {"artifact_id": "102", "name": "cols", "type": "Metric",
                         "number_value": 7},
                    ],
                },
            ]
        },
        "scope_path": "root.load",
    }
    train = {
        "task_id": "t-train",
        "run_id": RUN,
        "name": "train",
        "display_name": "train",
        "create_time": "2024-02-05T21:28:11Z",
        "end_time": "2024-02-05T21:39:59Z",
        "state": "FAILED",
        "status_metadata": {"message": "exit code 1"},
        "type": "RUNTIME",
        "parent_task_id": "t-root",
        "inputs": {
            "artifacts": [
                {
                    "artifact_key": "dataset",
                    "type": "TASK_OUTPUT_INPUT",
                    "producer": {"task_name": "load"},
                    "artifacts": [{"artifact_id": "a-1", "name": "dataset"}],
                }
            ]
        },
        "outputs": {},
        "scope_path": "root.train",
    }
    return [root, load, train]


def _one(df, task_id):
    return df.set_index("task_id").loc[task_id]


# -- case 04: HEAD task_details ----------------------------------------------


def test_case_04_head_task_details():
    df = tasks_frame(head_tasks())
    assert len(df) == 3
    assert list(df.columns) == TASK_COLUMNS
    train, evaluate, driver = (df.iloc[i] for i in range(3))
    assert str(df["execution_id"].dtype) == "Int64"
    assert train["execution_id"] == 1234
    assert evaluate["execution_id"] is pd.NA
    assert evaluate["output_artifact_ids"] == [77, 78]
    assert evaluate["output_artifacts"] == ["metrics"]
    assert evaluate["n_outputs"] == 2
    assert driver["end_time"] is pd.NaT  # epoch sentinel on a RUNNING task
    assert driver["duration"] is pd.NaT
    assert driver["parent_task_id"] is pd.NA  # "" means unset
    assert train["duration"] == pd.Timedelta(minutes=13, seconds=46)
    assert train["child_task_ids"] == ["demo-run-8-system-container-impl-111"]


@pytest.mark.parametrize(
    ("row", "column"),
    [(1, c) for c in ("start_time", "end_time", "error", "pod_names", "n_inputs",
                      "input_artifacts", "execution_id", "child_task_ids")]
    + [(0, c) for c in ("error", "pod_names", "n_inputs", "n_outputs",
                        "input_artifacts", "output_artifacts", "output_artifact_ids")],
)
def test_case_04_missing_keys_are_na(row, column):
    df = tasks_frame(head_tasks())
    assert pd.isna(df.loc[row, column])


def test_case_04_head_tasks_have_no_type():
    df = tasks_frame(head_tasks())
    assert df["type"].isna().all()  # not ROOT: HEAD tasks carry no task type


def test_case_04_state_history_long_table():
    history = task_state_history(head_tasks())
    assert list(history.columns) == ["task_id", "state", "update_time", "error"]
    assert len(history) == 2  # tasks without history give no rows
    assert set(history["task_id"]) == {"7f3e0000-0000-4000-8000-000000000001"}
    assert list(history["state"].astype(str)) == ["RUNNING", "FAILED"]
    assert list(history["update_time"]) == [
        pd.Timestamp("2024-02-05 21:26:12", tz=UTC),
        pd.Timestamp("2024-02-05 21:39:58", tz=UTC),
    ]


def test_state_history_empty_has_the_same_dtypes():
    full = task_state_history(head_tasks())
    empty = task_state_history([{"task_id": "x"}, {"task_id": "y",
                                                   "state_history": {}}])
    assert len(empty) == 0
    assert list(empty.dtypes.astype(str)) == list(full.dtypes.astype(str))


# -- PR schema ---------------------------------------------------------------


def test_pr_fixture_matches_the_tasks_swagger():
    definitions = swagger("run.tasks.swagger.json")["definitions"]
    schema = {"$ref": "#/definitions/v2beta1PipelineTaskDetail",
              "definitions": definitions}
    for task in pr_tasks():
        jsonschema.validate(task, schema)


def test_pr_schema_tasks():
    df = tasks_frame(pr_tasks())
    root, load, train = (_one(df, t) for t in ("t-root", "t-load", "t-train"))
    assert root["type"] == "ROOT"  # the zero value the server leaves out
    assert load["type"] == "RUNTIME"
    assert root["parent_task_id"] is pd.NA
    assert load["parent_task_id"] == "t-root"
    assert root["child_task_ids"] == ["t-load", "t-train"]
    assert load["pod_names"] == ["training-abc-111", "training-abc-222"]
    assert load["state"] == "CACHED"
    assert load["output_artifacts"] == ["dataset", "metrics"]
    assert load["output_artifact_ids"] == ["a-1", 101, 102]
    assert load["n_outputs"] == 3
    assert load["n_inputs"] == 0 and load["input_artifacts"] == []
    assert train["input_artifacts"] == ["dataset"]
    assert train["n_inputs"] == 1
    assert root["n_inputs"] == 0  # parameters are not artifacts
    assert load["scope_path"] == "root.load"
    assert load["cache_fingerprint"] is pd.NA
    assert root["cache_fingerprint"] == "16f4f95b"


def test_pr_start_time_comes_from_history_and_keeps_fractions():
    df = tasks_frame(pr_tasks())
    load = _one(df, "t-load")
    assert load["start_time"] == pd.Timestamp("2024-02-05 21:26:12", tz=UTC)
    assert load["end_time"] == pd.Timestamp("2024-02-05 21:28:10.250", tz=UTC)
    assert load["duration"] == pd.Timedelta(minutes=1, seconds=58.25)
    train = _one(df, "t-train")  # no history: duration from create_time
    assert train["start_time"] is pd.NaT
    assert train["duration"] == pd.Timedelta(minutes=11, seconds=48)


def test_task_errors_from_error_history_or_failed_status():
    tasks = pr_tasks()
    tasks[1]["error"] = {"code": 2, "message": "explicit"}
    tasks[1]["state"] = "FAILED"
    tasks[0]["state_history"][-1]["error"] = {"message": "from history"}
    df = tasks_frame(tasks)
    assert _one(df, "t-load")["error"] == "explicit"
    assert _one(df, "t-root")["error"] == "from history"
    assert _one(df, "t-train")["error"] == "exit code 1"  # FAILED status message
    tasks[2]["state"] = "SUCCEEDED"  # a status message is not an error then
    assert _one(tasks_frame(tasks), "t-train")["error"] is pd.NA


def test_type_rules():
    tasks = pr_tasks()
    del tasks[2]["type"]  # a child without type: ambiguous, not called ROOT
    tasks[1]["type"] = 7
    df = tasks_frame(tasks)
    assert _one(df, "t-train")["type"] is pd.NA
    assert _one(df, "t-load")["type"] == "DAG"
    minimal_pr_root = {"task_id": "r", "inputs": {}, "outputs": {}}
    assert tasks_frame([minimal_pr_root]).loc[0, "type"] == "ROOT"


@pytest.mark.parametrize("unknown", ["QUEUED_FOR_GPU", "NEW"])
def test_unknown_task_states_are_kept(unknown):
    tasks = pr_tasks()
    tasks[1]["state"] = unknown
    del tasks[2]["state"]
    df = tasks_frame(tasks)
    assert _one(df, "t-load")["state"] == unknown
    assert _one(df, "t-train")["state"] == "RUNTIME_STATE_UNSPECIFIED"
    assert list(df["state"].cat.categories) == [*_states.TASK_STATES, unknown]
    assert df["state"].notna().all()


@pytest.mark.parametrize(
    "sentinel",
    ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00+00:00",
     "0001-01-01T00:00:00Z", "", None],
)
@pytest.mark.parametrize("column", ["create_time", "start_time", "end_time"])
def test_every_unset_task_time_form_is_nat(column, sentinel):
    tasks = head_tasks()
    tasks[0][column] = sentinel
    del tasks[0]["state_history"]  # else start_time comes from its RUNNING entry
    df = tasks_frame(tasks)
    assert df.loc[0, column] is pd.NaT
    assert str(df[column].dtype) == "datetime64[ns, UTC]"


def test_empty_frame_has_the_same_columns_and_dtypes():
    empty = tasks_frame([])
    assert list(empty.columns) == TASK_COLUMNS
    for frame in (tasks_frame(head_tasks()), tasks_frame(pr_tasks())):
        pd.testing.assert_series_equal(empty.dtypes, frame.dtypes)


def test_row_order_does_not_change_values_or_dtypes():
    tasks = pr_tasks() + head_tasks()
    first = tasks_frame(tasks).sort_values("task_id").reset_index(drop=True)
    rng = random.Random(4)
    for _ in range(10):
        rng.shuffle(tasks)
        again = tasks_frame(tasks).sort_values("task_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(again, first)


def test_bad_execution_id_is_na_with_a_warning_naming_the_task():
    tasks = head_tasks()
    tasks[0]["execution_id"] = "twelve"
    with pytest.warns(UnparsedValueWarning, match="7f3e0000-0000-4000-8000-00000000"
                      "0001' execution_id 'twelve'"):
        df = tasks_frame(tasks)
    assert pd.isna(df.loc[0, "execution_id"]) and len(df) == len(tasks)
    assert df.attrs["unparsed"][0]["value"] == "twelve"


def test_unreadable_task_time_is_nat_and_the_other_tasks_stay():
    tasks = head_tasks()
    tasks[0]["end_time"] = "9999-12-31T23:59:59Z"
    tasks[1]["create_time"] = "soon"
    with pytest.warns(UnparsedValueWarning) as caught:
        df = tasks_frame(tasks)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "end_time '9999-12-31T23:59:59Z'" in str(caught[0].message)
    assert "create_time 'soon'" in str(caught[0].message)
    assert pd.isna(df.loc[0, "end_time"]) and pd.isna(df.loc[1, "create_time"])
    assert {u["column"] for u in df.attrs["unparsed"]} == {"end_time", "create_time"}


def test_pydantic_tasks_are_accepted():
    df = tasks_frame([Task.model_validate(t) for t in pr_tasks()])
    assert _one(df, "t-load")["output_artifact_ids"] == ["a-1", 101, 102]
    assert _one(df, "t-root")["type"] == "ROOT"


def test_lists_as_empty_objects_are_empty():
    # The gateway may write {} where a list is empty.
    task = {"task_id": "x", "pods": {}, "child_tasks": {}, "state_history": {},
            "inputs": {}, "outputs": {"artifacts": {}, "parameters": {}}}
    row = tasks_frame([task]).iloc[0]
    assert row["pod_names"] == [] and row["child_task_ids"] == []
    assert row["n_outputs"] == 0 and row["output_artifacts"] == []
