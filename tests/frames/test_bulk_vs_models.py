"""The bulk DataFrame path and the typed model path give the same values.

``Client.runs()`` / ``tasks()`` build columns straight from the page dicts
(orjson, no pydantic); ``iter_runs()`` / ``iter_tasks()`` / ``get_run()`` give
pydantic models. Both read the same pages here, and every cell of the frame is
checked against what the model says, put in the frame's vocabulary by
:func:`expected_run` / :func:`expected_task` (written from the rules in the
``kfp_nb._frames`` docstring, not from its code). The data: every field case
with runs or tasks, generated runs with missing fields, sentinel and odd
timestamps, unknown and numeric enums and parameters whose kind changes across
pages (served over ``httpx.MockTransport``), and runs and tasks of the embedded
server over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import random
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import kfp_nb
from kfp_nb import _states
from kfp_nb._frames import RUN_COLUMNS, TASK_COLUMNS, UnparsedValueWarning, runs_frame
from kfp_nb._models import Run, Task
from tests._data import case

HOST = "http://kfp.test"
UTC = timezone.utc
NS_MIN = pd.Timestamp.min.ceil("us").tz_localize("UTC").to_pydatetime()
NS_MAX = pd.Timestamp.max.floor("us").tz_localize("UTC").to_pydatetime()
EXPERIMENTS = {"e1": "first", "e2": "<i>second</i> 訓練"}

# -- what the model says, in the frame's vocabulary -------------------------


def _text(value: Any) -> str | None:
    return value or None  # the server leaves "" out: both are <NA>


def _last_running(history: list) -> datetime | None:
    for entry in reversed(history):
        if entry.state == "RUNNING":
            return entry.update_time
    return None


def _last_error(history: list) -> str | None:
    return _text(history[-1].error.message) if history and history[-1].error else None


def _span(end: datetime | None, start: datetime | None) -> timedelta | None:
    if end is None or start is None or not _holdable(end) or not _holdable(start):
        return None
    return end - start if end >= start else None


def _holdable(value: datetime) -> bool:
    return NS_MIN <= value <= NS_MAX


def _reference(run: Run):
    for ref in (run.pipeline_version_reference, run.pipeline_reference):
        if ref is not None and (ref.pipeline_id or ref.pipeline_version_id):
            return ref
    return None


def expected_run(run: Run, names: dict[str, str]) -> dict[str, Any]:
    """One frame row as the model path sees the run."""
    history = run.state_history
    ref = _reference(run)
    started = _last_running(history)
    error = run.error.message if run.error else None
    return {
        "run_id": _text(run.run_id),
        "display_name": _text(run.display_name),
        "experiment_id": _text(run.experiment_id),
        "experiment_name": names.get(run.experiment_id or ""),
        "state": run.state or "RUNTIME_STATE_UNSPECIFIED",
        "storage_state": run.storage_state or "STORAGE_STATE_UNSPECIFIED",
        "created_at": run.created_at,
        "scheduled_at": run.scheduled_at,
        "started_at": started,
        "finished_at": run.finished_at,
        "duration": _span(run.finished_at, started or run.created_at),
        "pipeline_id": _text(ref.pipeline_id if ref else None),
        "pipeline_version_id": _text(
            (ref.pipeline_version_id if ref else None) or run.pipeline_version_id
        ),
        "recurring_run_id": _text(run.recurring_run_id),
        "error": _text(error) or _last_error(history),
        "description": _text(run.description),
        "service_account": _text(run.service_account),
    }


def expected_task(task: Task) -> dict[str, Any]:
    """The columns a task model answers directly (PR schema)."""
    history = task.state_history
    start = task.start_time or _last_running(history)
    error = (task.error.message if task.error else None) or _last_error(history)
    if not error and task.state == "FAILED" and task.status_metadata:
        error = task.status_metadata.message
    outputs = task.output_artifacts
    sent = "outputs" in task.model_fields_set  # <NA> when the server left it out
    return {
        "task_id": _text(task.task_id),
        "run_id": _text(task.run_id),
        "parent_task_id": _text(task.parent_task_id),
        "name": _text(task.name),
        "display_name": _text(task.display_name),
        "state": task.state or "RUNTIME_STATE_UNSPECIFIED",
        "create_time": task.create_time,
        "start_time": start,
        "end_time": task.end_time,
        "duration": _span(task.end_time, start or task.create_time),
        "cache_fingerprint": _text(task.cache_fingerprint),
        "scope_path": _text(task.scope_path),
        "error": _text(error),
        "execution_id": task.execution_id,
        "output_artifacts": (
            list(dict.fromkeys(key for key, _ in outputs if key)) if sent else None
        ),
        "n_outputs": len(outputs) if sent else None,
    }


# -- comparing a frame row with the model's values ---------------------------


def _unparsed(frame: pd.DataFrame) -> set[tuple[int, str]]:
    return {(b["row"], b["column"]) for b in frame.attrs.get("unparsed", [])}


def assert_same(frame: pd.DataFrame, expected: list[dict[str, Any]]) -> None:
    assert len(frame) == len(expected)
    noted = _unparsed(frame)
    cells = {column: frame[column].tolist() for column in frame.columns}
    for row, want in enumerate(expected):
        for column, value in want.items():
            cell = cells[column][row]
            where = f"row {row} ({want.get('run_id') or want.get('task_id')}) {column}"
            _assert_cell(cell, value, where, noted_here=(row, column) in noted)


def _assert_cell(cell: Any, value: Any, where: str, *, noted_here: bool) -> None:
    if isinstance(value, datetime):
        if not _holdable(value):  # 9999-12-31: the model holds it, pandas cannot
            assert cell is pd.NaT and noted_here, where
            return
        # The model keeps microseconds, the frame nanoseconds.
        assert cell.floor("us").to_pydatetime() == value, (where, cell, value)
    elif isinstance(value, timedelta):
        assert abs(cell - pd.Timedelta(value)) < pd.Timedelta(1, "us"), where
    elif isinstance(value, list):
        assert list(cell) == value, (where, cell, value)
    elif value is None:
        assert cell is pd.NA or cell is None or cell is pd.NaT, (where, cell)
    else:
        assert cell == value and _same_kind(cell, value), (where, cell, value)


def _same_kind(cell: Any, value: Any) -> bool:
    """Same Python kind; typed columns give numpy scalars (bool, int64)."""
    if isinstance(value, bool):
        return isinstance(cell, (bool, np.bool_))
    if isinstance(value, int):
        return isinstance(cell, (int, np.integer)) and not isinstance(cell, bool)
    if isinstance(value, float):
        return isinstance(cell, (float, np.floating))
    return type(cell) is type(value)


def assert_params(frame: pd.DataFrame, runs: list[Run]) -> None:
    columns = [c for c in frame.columns if c.startswith("param.")]
    names = {name for run in runs for name in run.parameters}
    assert sorted(columns) == sorted(f"param.{n}" for n in names)
    cells = {column: frame[column].tolist() for column in columns}
    for row, run in enumerate(runs):
        for name in names:
            cell = cells[f"param.{name}"][row]
            value = run.parameters.get(name)
            where = f"run {run.run_id} param.{name}"
            if value is None:
                assert cell is None or cell is pd.NA, (where, cell)
            elif str(frame[f"param.{name}"].dtype) == "Float64":  # ints and floats
                assert cell == value and type(value) in (int, float), (where, cell)
            else:  # bools stay bools, ints ints (an int column never says 1.0)
                assert cell == value and _same_kind(cell, value), (where, cell, value)


# -- generated runs with every quirk ------------------------------------------

TIMES = [
    "2024-02-05T21:26:07Z",
    "2024-02-05T21:26:07.120Z",
    "2024-03-31T01:00:00.123456789Z",  # nanoseconds
    "2024-03-31T03:00:00+02:00",  # an offset
    "2024-03-31T01:00:00",  # no zone: UTC
    "2024-03-31T01:00:00.5Z",
    "1970-01-01T00:00:00Z",  # the epoch, "not set", in several spellings
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T02:00:00+02:00",
    "0001-01-01T00:00:00Z",  # Go's zero time
    "9999-12-31T23:59:59Z",  # valid, but past what pandas holds
    "2262-04-12T00:00:00Z",  # just past it
    "1677-09-21T00:00:00Z",  # just before it
    "2024-02-05t21:26:07z",  # RFC 3339 allows lowercase t and z
    "2024-03-31t01:00:00.123456789z",
    "",
    None,
    ...,  # field left out
]
FAR_TIMES = ["9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z"]
OUT_OF_RANGE = (
    "is a valid time, but outside the years 1677-2262 that a datetime64[ns] "
    "column can hold"
)
STATES = [*_states.RUN_STATES, "PAUSED_FOR_REVIEW", "QUEUED_ELSEWHERE", 4, 99, "", ...]
STORAGE = ["AVAILABLE", "ARCHIVED", "STORAGE_STATE_FROM_THE_FUTURE", 2, "", ...]
TEXT = ["plain", "", "<b>bold</b> & <script>x</script>", "訓練 🚀 ünïcode", ...]


def _param_values(index: int, r: random.Random) -> dict[str, Any]:
    """Parameters whose kind changes from page to page (chunk boundaries)."""
    params: dict[str, Any] = {
        "epochs": r.randint(-5, 2**62),
        "lr": r.choice([0.1, 1e-4, 2.5]) if index % 3 else r.randint(0, 9),
        "shuffle": r.random() < 0.5,
        "name": r.choice(["adam", "", "sgd 訓練"]),
        "config": r.choice([{"a": [1, 2]}, [1, "x"], {"nested": {"b": None}}]),
        "late_float": r.randint(0, 9) if index < 700 else r.random(),
        "late_text": r.randint(0, 9) if index < 700 else f"v{index}",
        "late_int": r.random() < 0.5 if index < 1000 else r.randint(0, 9),
        "huge": 2**70 if index == 555 else r.randint(0, 100),
        "nullable": None if index % 2 else r.randint(0, 5),
    }
    # Each run has some of them, so every column has holes.
    return {k: v for k, v in params.items() if r.random() < 0.8}


def _history(r: random.Random) -> Any:
    choice = r.random()
    if choice < 0.1:
        return r.choice([{}, None])  # the gateway's forms of an empty list
    entries = []
    for _ in range(r.randint(0, 4)):
        entry: dict[str, Any] = {
            "update_time": r.choice(TIMES[:6]),
            "state": r.choice(["PENDING", "RUNNING", "SUCCEEDED", "FAILED"]),
        }
        if r.random() < 0.3:
            entry["error"] = r.choice([{"message": "boom"}, {}, {"code": 2}])
        entries.append(entry)
    return entries


def quirky_run(index: int) -> dict[str, Any]:
    """A run as some server could send it, with one quirk or more."""
    r = random.Random(index)
    run: dict[str, Any] = {
        "run_id": f"run-{index:05d}",
        "display_name": r.choice(TEXT),
        "experiment_id": r.choice(["e1", "e2", "e-unknown", "", ...]),
        "state": r.choice(STATES),
        "storage_state": r.choice(STORAGE),
        "created_at": r.choice(TIMES),
        "scheduled_at": r.choice(TIMES),
        "finished_at": r.choice(TIMES),
        "state_history": _history(r),
        "description": r.choice(TEXT),
        "service_account": r.choice(["pipeline-runner", "", ...]),
        "recurring_run_id": r.choice(["", "rr-1", ..., ...]),
        "error": r.choice([{"code": 2, "message": "run failed"}, {}, None, ..., ...]),
        "pipeline_version_reference": r.choice(
            [{"pipeline_id": "p1", "pipeline_version_id": "v1"}, {}, None, ...]
        ),
        "runtime_config": r.choice(
            [
                {"parameters": _param_values(index, r)},
                {"parameters": {}},
                {},
                {"parameters": None},
                ...,
            ]
        ),
    }
    if r.random() < 0.2:
        run["pipeline_reference"] = {"pipeline_id": "p-tasks-api"}
    if r.random() < 0.1:
        run["pipeline_version_id"] = "v-top-level"
    if r.random() < 0.1:
        run["some_future_field"] = {"kept": True}
    if index == 555:  # one integer past 64 bits, in the middle of the listing
        run["runtime_config"] = {"parameters": {"huge": 2**70}}
    return {k: v for k, v in run.items() if v is not ...}


def _pages(items: list[dict], size: int, key: str = "runs") -> list[bytes]:
    """List bodies of ``size`` items; page N's token is ``pN``."""
    pages = []
    for number, start in enumerate(range(0, len(items), size), 1):
        body: dict[str, Any] = {key: items[start : start + size]}
        body["total_size"] = len(items)
        if start + size < len(items):
            body["next_page_token"] = f"p{number}"
        pages.append(json.dumps(body, ensure_ascii=False).encode())
    return pages or [b"{}"]


def _transport(pages: list[bytes], *, tasks: list[bytes] | None = None):
    experiments = json.dumps(
        {"experiments": [{"experiment_id": k, "display_name": v}
                         for k, v in EXPERIMENTS.items()]}
    ).encode()  # fmt: skip

    def answer(request: httpx.Request) -> httpx.Response:
        path, token = request.url.path, request.url.params.get("page_token")
        if path.endswith("/experiments"):
            body = experiments
        else:
            served = tasks if path.endswith("/tasks") else pages
            body = served[int(token[1:]) if token else 0]
        kind = {"content-type": "application/json"}
        return httpx.Response(200, content=body, headers=kind)

    return httpx.MockTransport(answer)


@pytest.fixture(scope="module")
def quirky():
    """1,500 generated runs in pages of 100: many chunks, kinds that change."""
    runs = [quirky_run(i) for i in range(1500)]
    return runs, _pages(runs, 100)


def _frame_and_models(pages: list[bytes]) -> tuple[pd.DataFrame, list[Run]]:
    with kfp_nb.Client(HOST, transport=_transport(pages)) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnparsedValueWarning)
            frame = client.runs(archived=None, page_size=100, progress=False)
        models = list(client.iter_runs(page_size=100))
    return frame, models


def test_generated_runs_give_the_same_values_both_ways(quirky):
    _, pages = quirky
    frame, models = _frame_and_models(pages)
    assert list(frame.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert_same(frame, [expected_run(m, EXPERIMENTS) for m in models])
    assert_params(frame, models)
    # The data did exercise the quirks.
    assert frame["state"].cat.categories[-1] == "QUEUED_ELSEWHERE"
    assert {"PAUSED_FOR_REVIEW", "99", "CANCELED"} <= set(frame["state"])
    assert (frame["storage_state"] == "STORAGE_STATE_UNSPECIFIED").any()
    assert str(frame["param.late_float"].dtype) == "Float64"
    assert frame["param.late_text"].dtype == object
    assert frame["param.late_int"].dtype == object
    assert frame["param.huge"].dtype == object  # 2**70 read exactly, not as a float
    assert frame["param.huge"].iloc[555] == 2**70
    assert str(frame["param.epochs"].dtype) == "Int64"
    assert {b["value"] for b in frame.attrs["unparsed"]} == set(FAR_TIMES)
    assert {b["problem"] for b in frame.attrs["unparsed"]} == {OUT_OF_RANGE}


def test_the_async_client_gives_the_same_frame(quirky):
    _, pages = quirky

    async def main() -> pd.DataFrame:
        async with kfp_nb.AsyncClient(HOST, transport=_transport(pages)) as client:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnparsedValueWarning)
                return await client.runs(archived=None, page_size=100, progress=False)

    frame, _ = _frame_and_models(pages)
    got = asyncio.run(main())
    pd.testing.assert_frame_equal(got, frame)
    assert got.attrs["unparsed"] == frame.attrs["unparsed"]


def test_models_fed_back_to_runs_frame_give_the_same_frame(quirky):
    # The slow path end to end: pydantic models → to_wire → frame. Equal to the
    # bulk frame once the frame's nanoseconds are cut to the model's microseconds.
    _, pages = quirky
    frame, models = _frame_and_models(pages)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnparsedValueWarning)
        slow = runs_frame(models, experiment_names=EXPERIMENTS)
    for column in ("created_at", "scheduled_at", "started_at", "finished_at"):
        frame[column] = frame[column].dt.floor("us")
    frame["duration"] = frame["finished_at"] - frame["started_at"].fillna(
        frame["created_at"]
    )
    frame["duration"] = frame["duration"].where(frame["duration"] >= pd.Timedelta(0))
    pd.testing.assert_frame_equal(slow, frame, check_dtype=True)


def test_a_time_the_model_refuses_is_nat_and_noted_in_the_frame():
    runs = [quirky_run(1), {**quirky_run(2), "created_at": "yesterday at noon"}]
    pages = _pages(runs, 100)
    with kfp_nb.Client(HOST, transport=_transport(pages)) as client:
        with pytest.warns(UnparsedValueWarning, match="yesterday at noon"):
            frame = client.runs(archived=None, progress=False)
        with pytest.raises(kfp_nb.ResponseFormatError, match="created_at"):
            list(client.iter_runs())
    assert frame.loc[1, "created_at"] is pd.NaT
    note = frame.attrs["unparsed"][0]
    assert note["row"] == 1 and note["run_id"] == "run-00002"
    assert note["column"] == "created_at" and note["value"] == "yesterday at noon"


LOWERCASE = [
    "2026-01-01t00:00:00z",
    "2026-01-01t00:00:00.123456789z",
    "2026-01-01t02:00:00+02:00",
    "2026-01-01T00:00:00z",
    "2026-01-01t00:00:00Z",
    "1970-01-01t00:00:00z",  # the epoch: not set, both ways
    "0001-01-01t00:00:00z",  # Go's zero time: not set, both ways
]


@pytest.mark.parametrize("neighbour", [None, "2026-01-01T00:00:00.123456789Z"])
def test_lowercase_t_and_z_are_read_the_same_both_ways(neighbour):
    # RFC 3339 lets "T" and "Z" be lowercase; the models read them, so must the
    # frame, whether the other values leave the column at seconds or at ns.
    runs = []
    for index, value in enumerate(LOWERCASE):
        run = {**quirky_run(index), "created_at": value, "finished_at": value}
        run["state_history"] = [{"update_time": value, "state": "RUNNING"}]
        runs.append(run)
    if neighbour:
        runs.append({**quirky_run(99), "created_at": neighbour})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no UnparsedValueWarning at all
        frame, models = _frame_and_models(_pages(runs, 3))
    assert "unparsed" not in frame.attrs
    assert_same(frame, [expected_run(m, EXPERIMENTS) for m in models])
    stamp = pd.Timestamp("2026-01-01T00:00:00.123456789Z")
    assert frame.loc[1, "created_at"] == stamp  # nanoseconds kept
    assert frame.loc[1, "started_at"] == stamp
    assert frame.loc[2, "created_at"] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert frame.loc[5:6, "created_at"].isna().all()
    tasks = [
        {"task_id": f"t{i}", "run_id": "r1", "name": "step", "create_time": value,
         "end_time": value}
        for i, value in enumerate(LOWERCASE)
    ]  # fmt: skip
    _check_tasks(tasks)


@pytest.mark.parametrize(
    "value",
    [*FAR_TIMES, "2262-04-12T00:00:00.123456789Z", "9999-12-31T23:59:59-01:00"],
)
@pytest.mark.parametrize("neighbour", [None, "2026-01-01T00:00:00.123456789Z"])
def test_a_valid_time_past_nanoseconds_is_called_valid(value, neighbour):
    # A nanosecond neighbour puts the whole column at ns, where pandas refuses
    # the far value instead of reading it at a coarser unit: same message.
    runs = [{"run_id": "far", "created_at": value}]
    if neighbour:
        runs.append({"run_id": "near", "created_at": neighbour})
    with pytest.warns(UnparsedValueWarning) as caught:
        frame = runs_frame(runs)
    text = str(caught[0].message)
    assert "valid time" in text and "datetime64[ns]" in text and "1677-2262" in text
    assert "RFC 3339" not in text and value in text and "'far'" in text
    assert frame.loc[0, "created_at"] is pd.NaT
    assert frame.attrs["unparsed"] == [
        {"row": 0, "run_id": "far", "column": "created_at", "value": value,
         "problem": OUT_OF_RANGE}
    ]  # fmt: skip
    if neighbour:
        assert frame.loc[1, "created_at"] == pd.Timestamp(neighbour)


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T24:00:00Z", "2026-02-30T00:00:00Z", "1767225600", 1767225600],
)
def test_an_impossible_time_is_nat_in_the_frame_and_an_error_in_get_run(value):
    # Limitation (in the _frames docstring): the models stay strict, as the
    # embedded server validates with them; the frame keeps the other rows.
    runs = [quirky_run(1), {**quirky_run(2), "created_at": value}]
    pages = _pages(runs, 100)
    with kfp_nb.Client(HOST, transport=_transport(pages)) as client:
        with pytest.warns(UnparsedValueWarning, match="not an RFC 3339") as caught:
            frame = client.runs(archived=None, progress=False)
        assert repr(value) in str(caught[0].message)
        assert frame.loc[1, "created_at"] is pd.NaT
        assert frame.loc[0, "run_id"] == "run-00001"
        with pytest.raises(kfp_nb.ResponseFormatError) as raised:
            list(client.iter_runs())
    text = str(raised.value)
    assert "'created_at'" in text and "run 'run-00002'" in text
    assert repr(value) in text and "GET /apis/v2beta1/runs" in text


def test_get_run_names_the_field_the_run_and_the_value():
    body = {**quirky_run(3), "run_id": "r-bad", "created_at": "2026-02-30T00:00:00Z"}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(answer)
    with (
        kfp_nb.Client(HOST, transport=transport) as client,
        pytest.raises(kfp_nb.ResponseFormatError) as raised,
    ):
        client.get_run("r-bad")
    text = str(raised.value)
    assert text.startswith("GET /apis/v2beta1/runs/r-bad: field 'created_at' of run")
    assert "'r-bad'" in text and "'2026-02-30T00:00:00Z'" in text
    assert "day is out of range for month" in text and "NaT" in text


def test_json_the_fast_reader_would_misread_is_read_exactly():
    # orjson turns integers past 64 bits into floats and refuses NaN and lone
    # surrogates; such bodies go through the stdlib reader, as the models' do.
    body = (
        b'{"runs": [{"run_id": "big", "display_name": "\\ud800 lone", '
        b'"runtime_config": {"parameters": {"n": 123456789012345678901234, '
        b'"neg": -9223372036854775809, "x": NaN}}}]}'
    )
    with kfp_nb.Client(HOST, transport=_transport([body])) as client:
        frame = client.runs(archived=None, progress=False)
        model = next(client.iter_runs())
    assert frame.loc[0, "param.n"] == 123456789012345678901234
    assert frame.loc[0, "param.neg"] == -9223372036854775809
    assert type(frame.loc[0, "param.n"]) is int
    assert model.parameters["n"] == frame.loc[0, "param.n"]
    # Limitation (documented in _frames): Arrow text holds UTF-8 only, so a lone
    # surrogate shows as U+FFFD in the frame; the model keeps it.
    assert model.display_name == "\ud800 lone"
    assert frame.loc[0, "display_name"] == "\ufffd lone"


# A case may hold one run as read at several moments; listed together they
# repeat a run_id, which a real listing would be warned about.
@pytest.mark.filterwarnings("ignore::kfp_nb._warnings.PaginationWarning")
@pytest.mark.parametrize("name", ["01", "02", "03", "04", "07", "09", "20", "21", "38"])
def test_every_field_case_with_runs_gives_the_same_values(name):
    bodies = []
    responses = case(name)["server_response"]
    for response in responses if isinstance(responses, list) else [responses]:
        body = response.get("body") if isinstance(response, dict) else None
        if isinstance(body, dict) and response.get("status", 200) < 300:
            bodies.append(body)
    runs = [r for b in bodies for r in b.get("runs") or ([b] if "run_id" in b else [])]
    pages = _pages(runs, 50)
    frame, models = _frame_and_models(pages)
    assert_same(frame, [expected_run(m, EXPERIMENTS) for m in models])
    assert_params(frame, models)
    details = [r.get("run_details") or {} for r in runs]
    tasks = [t for d in details for t in d.get("task_details", [])]
    if tasks:  # case 04: HEAD's task_details, int64 as strings
        _check_tasks(tasks)


def _check_tasks(tasks: list[dict]) -> None:
    pages = _pages(tasks, 200, key="tasks")
    with kfp_nb.Client(HOST, transport=_transport([b"{}"], tasks=pages)) as client:
        frame = client.tasks("any-run")
        models = list(client.iter_tasks(run_id="any-run"))
    expected = [expected_task(m) for m in models]
    for want in expected:  # HEAD's outputs are a map the model keeps as extra
        del want["output_artifacts"], want["n_outputs"]
    assert list(frame.columns) == TASK_COLUMNS
    assert_same(frame, expected)


def test_generated_tasks_give_the_same_values_both_ways():
    tasks = []
    for index in range(450):  # three pages of the tasks API
        r = random.Random(index)
        task: dict[str, Any] = {
            "task_id": f"t{index}", "run_id": "r1", "name": f"step-{index % 7}",
            "display_name": r.choice(TEXT), "state": r.choice(
                ["RUNNING", "SUCCEEDED", "FAILED", "CACHED", "NEW_TASK_STATE", 3, ...]),
            "create_time": r.choice(TIMES), "end_time": r.choice(TIMES),
            "state_history": _history(r), "execution_id": r.choice(["17", 18, ...]),
            "scope_path": r.choice(["root.a", "", ...]),
            "status_metadata": r.choice([{"message": "pod OOMKilled"}, ...]),
            "outputs": r.choice([{}, {"artifacts": [
                {"artifact_key": "model", "artifacts": [{"artifact_id": "5"}]}]}, ...]),
        }  # fmt: skip
        if index % 5:
            task["parent_task_id"] = "t0"
        tasks.append({k: v for k, v in task.items() if v is not ...})
    pages = _pages(tasks, 200, key="tasks")
    with kfp_nb.Client(HOST, transport=_transport([b"{}"], tasks=pages)) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnparsedValueWarning)
            frame = client.tasks("r1")
        models = list(client.iter_tasks(run_id="r1"))
    assert_same(frame, [expected_task(m) for m in models])
    assert "NEW_TASK_STATE" in set(frame["state"])


# -- the embedded server over real HTTP ----------------------------------------


def test_the_embedded_servers_runs_and_tasks_give_the_same_values(seeded):
    http, _ = seeded
    host = str(http.base_url).split("/apis/")[0]
    with kfp_nb.Client(host) as client:
        frame = client.runs(archived=None, progress=False)
        models = list(client.iter_runs(sort_by="created_at desc"))
        names = client.experiment_names()
        assert len(frame) == len(models) == 4
        assert_same(frame, [expected_run(m, names) for m in models])
        assert_params(frame, models)
        assert frame["experiment_name"].notna().all()
        compared = 0
        for run in models:  # a run terminated at once may have no task
            tasks = client.tasks(run.run_id)
            task_models = list(client.iter_tasks(run_id=run.run_id))
            assert_same(tasks, [expected_task(t) for t in task_models])
            compared += len(tasks)
        assert compared >= 3
