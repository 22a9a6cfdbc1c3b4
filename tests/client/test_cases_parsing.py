"""Field cases 01, 02, 03, 04 and 35, each generalised to every field of its kind.

The fields are found, not listed: every Timestamp, Int64 and enum field of every
wire model, and every enum the swagger files declare, so a field added later is
covered too. The client path (HTTP → model) and the DataFrame path are both
checked.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from datetime import datetime, timezone

import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

import kfp_nb
from kfp_nb import _models, _states
from tests._data import case, swagger

from ._mock import FakeServer, reply, run_body

UTC = timezone.utc


def _wire_models() -> list[type[BaseModel]]:
    return [
        cls
        for cls in vars(_models).values()
        if inspect.isclass(cls)
        and issubclass(cls, _models._Wire)
        and cls is not _models._Wire
    ]


def _fields_of(kind: str) -> list[tuple[type[BaseModel], str]]:
    """``(model, field)`` for every field validated as ``kind``."""
    timestamp = _models.Timestamp.__metadata__[0].func
    int64 = _models.Int64.__metadata__[0].func
    found = []
    for cls in _wire_models():
        for name, info in cls.model_fields.items():
            for meta in info.metadata:
                func = getattr(meta, "func", None)
                if func is None:
                    continue
                is_enum = func.__qualname__.startswith("_enum.")
                if {"timestamp": func is timestamp, "int64": func is int64,
                        "enum": is_enum}[kind]:  # fmt: skip
                    found.append((cls, name))
    return found


TIMES = _fields_of("timestamp")
INT64S = _fields_of("int64")
ENUMS = _fields_of("enum")


def _ids(pairs):
    return [f"{cls.__name__}.{name}" for cls, name in pairs]


def test_the_field_search_finds_the_known_fields():
    names = set(_ids(TIMES))
    assert {"Run.created_at", "Run.scheduled_at", "Run.finished_at",
            "Task.create_time", "Task.start_time", "Task.end_time",
            "Experiment.created_at", "Experiment.last_run_created_at",
            "RuntimeStatus.update_time", "TaskStatus.update_time",
            "Artifact.created_at"} <= names  # fmt: skip
    assert {"Task.execution_id", "RunDetails.pipeline_context_id",
            "TypeAttributes.iteration_index", "IOProducer.iteration"} <= set(
        _ids(INT64S)
    )  # fmt: skip
    assert {"Run.state", "Run.storage_state", "Task.state", "Task.type",
            "Experiment.storage_state", "RuntimeStatus.state",
            "TaskStatus.state"} <= set(_ids(ENUMS))  # fmt: skip


# --- Case 01 and 35: every timestamp field, every "not set" form, every offset -----

#: The "not set" forms: the epoch in any spelling, Go's zero time, "" and null.
UNSET = [
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00.000000000Z",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T01:00:00+01:00",
    "1969-12-31T19:00:00-05:00",
    "1970-01-01T00:00:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00.000000Z",
    "",
    None,
]
C35 = case("35")["input"]["created_at"]
C35_UTC = [
    datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC),
    datetime(2024, 3, 31, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 3, 31, 1, 0, 0, 123456, tzinfo=UTC),  # models keep microseconds
    datetime(2024, 3, 31, 1, 0, 0, tzinfo=UTC),  # no zone: UTC
    datetime(2024, 3, 31, 1, 0, 0, 500000, tzinfo=UTC),
    None,
    None,
]


@pytest.mark.parametrize(("cls", "field"), TIMES, ids=_ids(TIMES))
def test_every_timestamp_field_reads_every_unset_form_as_none(cls, field):
    for value in UNSET:
        assert getattr(cls.model_validate({field: value}), field) is None, value


@pytest.mark.parametrize(("cls", "field"), TIMES, ids=_ids(TIMES))
def test_every_timestamp_field_reads_case35_offsets_as_utc(cls, field):
    got = [getattr(cls.model_validate({field: v}), field) for v in C35]
    assert got == C35_UTC
    assert all(v is None or v.tzinfo == UTC for v in got)


@pytest.mark.parametrize(("cls", "field"), TIMES, ids=_ids(TIMES))
@pytest.mark.parametrize(
    "bad",
    ["yesterday", "2024-02-30T00:00:00Z", "9999-12-31T23:59:59-01:00",
     "0001-01-01T00:00:00+01:00", 0, 1.5, True, {"seconds": 1}],
)  # fmt: skip
def test_every_timestamp_field_refuses_what_is_not_a_time(cls, field, bad):
    with pytest.raises(ValidationError):  # never OverflowError or a wrong value
        cls.model_validate({field: bad})


def test_an_unreadable_time_through_the_client_is_a_response_format_error():
    far = run_body(finished_at="9999-12-31T23:59:59-01:00")  # past year 9999 in UTC
    fake = FakeServer().on("GET", ".*", reply(200, far))
    with pytest.raises(kfp_nb.ResponseFormatError, match="finished_at"):
        fake.client().get_run("r1")


def _top_level(cls) -> tuple[str, str, dict]:
    """(method, path regex, minimal body) of the client call returning ``cls``."""
    return {
        _models.Run: ("get_run", "/runs/x", {"run_id": "x"}),
        _models.Task: ("get_task", "/tasks/x", {"task_id": "x"}),
        _models.Experiment: (
            "get_experiment",
            "/experiments/x",
            {"experiment_id": "x"},
        ),
    }[cls]


TOP_TIMES = [(c, f) for c, f in TIMES if c in (_models.Run, _models.Task,
                                               _models.Experiment)]  # fmt: skip


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("cls", "field"), TOP_TIMES, ids=_ids(TOP_TIMES))
def test_unset_times_through_the_client(cls, field, mode):
    method, path, body = _top_level(cls)
    for value in UNSET:
        fake = FakeServer().on("GET", path, reply(200, {**body, field: value}))
        if mode == "sync":
            got = getattr(fake.client(), method)("x")
        else:

            async def main(fake=fake):
                async with fake.async_client() as client:
                    return await getattr(client, method)("x")

            got = asyncio.run(main())
        assert getattr(got, field) is None, value


RUN_TIMES = ["created_at", "scheduled_at", "finished_at"]
TASK_TIMES = ["create_time", "start_time", "end_time"]


def test_runs_frame_through_the_client_has_nat_for_every_unset_form():
    runs = [
        run_body(f"r{i}", **{c: UNSET[(i + k) % len(UNSET)] for k, c in
                             enumerate(RUN_TIMES)})
        for i in range(len(UNSET))
    ]  # fmt: skip
    fake = FakeServer().on("GET", "/runs", reply(200, {"runs": runs}))
    fake.on("GET", "/experiments", reply(200, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unset time is not "unparsed"
        frame = fake.client().runs(progress=False)
    for column in RUN_TIMES:
        assert frame[column].isna().all(), column
        assert str(frame[column].dtype) == "datetime64[ns, UTC]"


def test_tasks_frame_through_the_client_has_nat_and_case35_values():
    pairs = zip(C35, UNSET[: len(C35)], strict=True)
    tasks = [{"task_id": f"t{i}", "run_id": "r1", "create_time": v, "start_time": u,
              "end_time": u} for i, (v, u) in enumerate(pairs)]  # fmt: skip
    fake = FakeServer().on("GET", "/tasks", reply(200, {"tasks": tasks}))
    frame = fake.client().tasks("r1")
    assert frame["start_time"].isna().all() and frame["end_time"].isna().all()
    expected = pd.to_datetime(
        ["2024-03-31T00:59:59Z", "2024-03-31T01:00:00Z",
         "2024-03-31T01:00:00.123456789Z", "2024-03-31T01:00:00Z",
         "2024-03-31T01:00:00.500Z", None, None], utc=True, format="ISO8601",
    )  # fmt: skip
    assert list(frame["create_time"]) == list(expected)  # nanoseconds kept here


# --- Case 02: every enum field, every unknown value --------------------------------


@pytest.mark.parametrize(("cls", "field"), ENUMS, ids=_ids(ENUMS))
def test_every_enum_field_keeps_unknown_names_and_numbers(cls, field):
    def value(raw):
        return getattr(cls.model_validate({field: raw}), field)

    assert value("ARCHIVING_SOMEDAY") == "ARCHIVING_SOMEDAY"  # a future name
    assert value(987) == "987"  # a future number stays visible
    assert value("") is None and value(None) is None
    assert getattr(cls.model_validate({}), field) is None
    with pytest.raises(ValidationError):
        value(True)


NUMBERED = {
    (_models.Run, "state"): _states.RUN_STATE_NUMBERS,
    (_models.RuntimeStatus, "state"): _states.RUN_STATE_NUMBERS,
    (_models.Run, "storage_state"): _states.STORAGE_STATE_NUMBERS,
    (_models.Experiment, "storage_state"): _states.STORAGE_STATE_NUMBERS,
    (_models.Task, "state"): _states.TASK_STATE_NUMBERS,
    (_models.TaskStatus, "state"): _states.TASK_STATE_NUMBERS,
}


@pytest.mark.parametrize(("cls", "field"), list(NUMBERED), ids=_ids(NUMBERED))
def test_every_known_enum_number_is_named(cls, field):
    for number, name in NUMBERED[(cls, field)].items():
        assert getattr(cls.model_validate({field: number}), field) == name


#: swagger definition → the model that reads it.
SWAGGER_MODELS = {
    "v2beta1Run": _models.Run,
    "v2beta1RuntimeStatus": _models.RuntimeStatus,
    "v2beta1PipelineTaskDetail": _models.Task,
    "PipelineTaskDetailTaskStatus": _models.TaskStatus,
    "PipelineTaskDetailTaskPod": _models.TaskPod,
    "InputOutputsIOArtifact": _models.IOArtifact,
    "InputOutputsIOParameter": _models.IOParameter,
    "v2beta1Artifact": _models.Artifact,
    "v2beta1Experiment": _models.Experiment,
}


def _swagger_enum_fields() -> list[tuple[str, str, list[str]]]:
    found = []
    for name in ("run.tasks.swagger.json", "run.read_artifact.swagger.json",
                 "experiment.swagger.json"):  # fmt: skip
        defs = swagger(name)["definitions"]
        for model, spec in defs.items():
            for field, prop in (spec.get("properties") or {}).items():
                target = defs.get(prop.get("$ref", "").split("/")[-1], {})
                if "enum" in target and model in SWAGGER_MODELS:
                    found.append((model, field, target["enum"]))
    return found


SWAGGER_ENUMS = _swagger_enum_fields()


def test_swagger_enums_are_all_found():
    assert len({(m, f) for m, f, _ in SWAGGER_ENUMS}) >= 11


@pytest.mark.parametrize(
    ("definition", "field", "names"), SWAGGER_ENUMS,
    ids=[f"{m}.{f}" for m, f, _ in SWAGGER_ENUMS],
)  # fmt: skip
def test_every_swagger_enum_field_accepts_every_name_a_number_and_a_new_name(
    definition, field, names
):
    cls = SWAGGER_MODELS[definition]
    for name in [*names, "SOMETHING_NEW"]:
        assert getattr(cls.model_validate({field: name}), field) == name
    zero = getattr(cls.model_validate({field: 0}), field)
    assert zero in (names[0], None)  # proto3: the first name is number 0
    assert getattr(cls.model_validate({field: 41}), field) == "41"


def test_case02_unknown_states_through_the_client_frames():
    body = case("02")["server_response"]["body"]
    kinds = [("CACHED", "RUNTIME"), ("NEW_TASK_STATE", 6), (4, "BRAND_NEW_TYPE"),
             (None, None)]  # fmt: skip
    tasks = [{"task_id": f"t{i}", "run_id": "r", "state": s, "type": t}
             for i, (s, t) in enumerate(kinds)]  # fmt: skip
    fake = FakeServer().on("GET", "/runs", reply(200, body))
    fake.on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/tasks", reply(200, {"tasks": tasks}))
    runs = fake.client().runs(progress=False, archived=None)
    assert list(runs["state"].astype(str)) == [
        "PAUSED", "CANCELING", "CANCELED", "RUNTIME_STATE_UNSPECIFIED",
        "ARCHIVING_SOMEDAY", "RUNTIME_STATE_UNSPECIFIED",
    ]  # fmt: skip
    frame = fake.client().tasks("r")
    assert list(frame["state"].astype(str)) == [
        "CACHED", "NEW_TASK_STATE", _states.TASK_STATE_NUMBERS[4],
        "RUNTIME_STATE_UNSPECIFIED",
    ]  # fmt: skip
    assert "BRAND_NEW_TYPE" in set(frame["type"].astype(str))


# --- Case 04: every int64 field, as a string or a number ----------------------------


@pytest.mark.parametrize(("cls", "field"), INT64S, ids=_ids(INT64S))
def test_every_int64_field_reads_strings_and_numbers(cls, field):
    def value(raw):
        return getattr(cls.model_validate({field: raw}), field)

    assert value("1234") == 1234 == value(1234)
    assert value("-5") == -5
    assert value("9223372036854775807") == 2**63 - 1  # beyond float precision
    assert value("") is None and value(None) is None
    assert getattr(cls.model_validate({}), field) is None
    with pytest.raises(ValidationError):
        value("12ab")


@pytest.mark.parametrize(("cls", "field"), INT64S, ids=_ids(INT64S))
def test_every_int64_field_is_written_back_as_a_string(cls, field):
    wire = _models.to_wire(cls.model_validate({field: "9007199254740993"}))
    assert wire[field] == "9007199254740993"


def test_case04_artifact_ids_and_sparse_tasks_through_the_client():
    run = case("04")["server_response"]["body"]
    fake = FakeServer().on("GET", "/runs/.*", reply(200, run))
    fake.on("GET", "/tasks", reply(404, {"code": 5, "message": "Not Found"}))
    frame = fake.client().tasks(run["run_id"])  # the run_details fallback
    assert len(frame) == 3
    assert frame["execution_id"].tolist()[0] == 1234
    assert str(frame["execution_id"].dtype) == "Int64"
    evaluate = frame[frame["display_name"] == "evaluate"].iloc[0]
    assert pd.isna(evaluate["start_time"]) and pd.isna(evaluate["end_time"])
    driver = frame[frame["display_name"] == "root-driver"].iloc[0]
    assert pd.isna(driver["end_time"])  # epoch on a RUNNING task


# --- Case 03: every listing, every empty form ------------------------------------

EMPTY = [{}, {"runs": None, "tasks": None, "experiments": None},
         {"runs": {}, "tasks": {}, "experiments": {}}, {"total_size": 0},
         {"next_page_token": ""}]  # fmt: skip
LISTINGS = {
    "list_runs": lambda c: c.list_runs().runs,
    "list_tasks": lambda c: c.list_tasks(run_id="r1").tasks,
    "list_experiments": lambda c: c.list_experiments().experiments,
    "iter_runs": lambda c: list(c.iter_runs()),
    "iter_tasks": lambda c: list(c.iter_tasks(run_id="r1")),
    "runs": lambda c: c.runs(progress=False),
    "tasks": lambda c: c.tasks("r1"),
    "experiment_names": lambda c: c.experiment_names(),
}


async def _async_listing(name: str, client):
    if name.startswith("iter_"):
        kw = {"run_id": "r1"} if name == "iter_tasks" else {}
        return [x async for x in getattr(client, name)(**kw)]
    if name in ("list_tasks",):
        return (await client.list_tasks(run_id="r1")).tasks
    if name in ("list_runs", "list_experiments"):
        page = await getattr(client, name)()
        return page.runs if name == "list_runs" else page.experiments
    if name == "runs":
        return await client.runs(progress=False)
    if name == "tasks":
        return await client.tasks("r1")
    return await client.experiment_names()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(LISTINGS))
@pytest.mark.parametrize("body", EMPTY, ids=range(len(EMPTY)))
def test_case03_every_listing_of_an_empty_answer_is_empty(name, body, mode):
    fake = FakeServer().on("GET", "/runs/r1", reply(200, run_body()))
    fake.on("GET", "/(runs|tasks|experiments)", lambda request: reply(200, body))
    if mode == "sync":
        got = LISTINGS[name](fake.client())
    else:

        async def main():
            async with fake.async_client() as client:
                return await _async_listing(name, client)

        got = asyncio.run(main())
    assert len(got) == 0
    if isinstance(got, pd.DataFrame):
        assert len(got.columns) > 5  # the full schema, not a bare frame
        time_column = "created_at" if name == "runs" else "create_time"
        assert str(got[time_column].dtype) == "datetime64[ns, UTC]"
    pages = [r for r in fake.requests if r.url.path.endswith(("/runs", "/tasks"))]
    assert len(pages) <= 1  # no next page asked for
