"""runs() and tasks(): filters sent to the server, names joined, raw rows framed."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pandas as pd
import pytest

import kfp_nb
from tests._data import case

from ._mock import FakeServer, reply, run_body

EXPERIMENTS = {
    "experiments": [
        {"experiment_id": "e1", "display_name": "Default"},
        {"experiment_id": "e2", "display_name": "tuning"},
    ]
}


def _runs(n: int, start: int = 0) -> list[dict]:
    return [
        run_body(
            f"r{i:03d}",
            "SUCCEEDED",
            experiment_id="e2",
            runtime_config={"parameters": {"lr": 0.1 * i}},
        )
        for i in range(start, start + n)
    ]


def _filter(params: dict) -> dict:
    return json.loads(unquote(params["filter"]))


def test_runs_compiles_keywords_and_sends_them_on_every_page():
    fake = FakeServer().on("GET", "/experiments", reply(200, EXPERIMENTS))
    fake.on(
        "GET",
        "/runs",
        reply(200, {"runs": _runs(2), "next_page_token": "t2", "total_size": 3}),
        reply(200, {"runs": _runs(1, 2), "total_size": 3}),
    )
    frame = fake.client().runs(
        state=["FAILED", "SUCCEEDED"],
        name_contains="train",
        page_size=2,
        progress=False,
    )
    assert list(frame["run_id"]) == [
        "r000",
        "r001",
        "r002",
    ]
    assert set(frame["experiment_name"]) == {"tuning"}
    runs_requests = [r for r in fake.requests if r.url.path.endswith("/runs")]
    first, second = (dict(r.url.params) for r in runs_requests)
    assert first["filter"] == second["filter"] and first["sort_by"] == "created_at desc"
    keys = {p["key"] for p in _filter(first)["predicates"]}
    assert {"state", "storage_state"} <= keys
    assert second["page_token"] == "t2"


def test_runs_limit_stops_early_and_shrinks_the_page():
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/runs", reply(200, {"runs": _runs(5), "next_page_token": "t"}))
    frame = fake.client().runs(limit=3, archived=None, progress=False)
    assert len(frame) == 3
    runs_requests = [r for r in fake.requests if r.url.path.endswith("/runs")]
    assert len(runs_requests) == 1
    assert dict(runs_requests[0].url.params)["page_size"] == "3"
    assert "filter" not in dict(runs_requests[0].url.params)


def test_case03_empty_listing_gives_an_empty_frame_with_the_schema():
    from kfp_nb import _frames

    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/runs", reply(200, case("03")["server_response"]["body"]))
    frame = fake.client().runs(experiment_id="3b1f6a52-0000-4000-8000-00000000e001")
    assert len(frame) == 0
    for column in _frames.RUN_COLUMNS:
        assert column in frame.columns or column == frame.index.name
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"


def test_case01_running_run_has_no_finish_in_the_frame():
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on(
        "GET", "/runs", reply(200, {"runs": [case("01")["server_response"]["body"]]})
    )
    frame = fake.client().runs()
    assert frame["finished_at"].isna().all() and frame["duration"].isna().all()


def test_experiment_names_are_fetched_once_and_cached():
    fake = FakeServer().on("GET", "/experiments", reply(200, EXPERIMENTS))
    fake.on("GET", "/runs", reply(200, {"runs": _runs(1)}))
    client = fake.client()
    client.runs()
    client.runs()
    listings = [r for r in fake.requests if r.url.path.endswith("/experiments")]
    assert len(listings) == 1


def test_missing_experiments_api_still_gives_runs(caplog):
    fake = FakeServer().on("GET", "/runs", reply(200, {"runs": _runs(1)}))
    frame = fake.client().runs()
    assert len(frame) == 1 and frame["experiment_name"].isna().all()
    assert "experiment names unavailable" in caplog.text


@pytest.mark.parametrize("progress", [None, True])
def test_progress_bar_on_multi_page_listings(progress, capsys):
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on(
        "GET",
        "/runs",
        reply(200, {"runs": _runs(2), "next_page_token": "t", "total_size": 4}),
        reply(200, {"runs": _runs(2, 2), "total_size": 4}),
    )
    fake.client().runs(page_size=2, progress=progress)
    assert "4/4" in capsys.readouterr().err


def test_no_progress_bar_for_one_page(capsys):
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/runs", reply(200, {"runs": _runs(2), "total_size": 2}))
    fake.client().runs()
    assert "runs" not in capsys.readouterr().err


def test_tasks_from_the_tasks_api():
    fake = FakeServer().on(
        "GET",
        "/tasks",
        reply(
            200,
            {
                "tasks": [
                    {
                        "task_id": "t1",
                        "run_id": "r1",
                        "name": "train",
                        "state": "SUCCEEDED",
                    }
                ]
            },
        ),
    )
    frame = fake.client().tasks("r1")
    assert list(frame["task_id"]) == ["t1"]
    assert fake.params()["run_id"] == "r1"


@pytest.mark.parametrize("status", [404, 501])
def test_tasks_fall_back_to_run_details_without_a_tasks_api(status):
    body = case("04")["server_response"]["body"]
    fake = FakeServer().on("GET", "/tasks", reply(status, {"code": 5, "message": "x"}))
    fake.on("GET", "/runs/[^/]+", reply(200, body))
    frame = fake.client().tasks(body["run_id"])
    assert len(frame) == 3
    assert set(frame["run_id"]) == {body["run_id"]}


def test_tasks_by_parent_without_a_tasks_api_is_an_error():
    fake = FakeServer().on("GET", "/tasks", reply(404, {"code": 5, "message": "x"}))
    with pytest.raises(kfp_nb.NotFound):
        fake.client().tasks(parent_id="p")


def test_bulk_path_builds_no_models(monkeypatch):
    calls = []
    original = kfp_nb.Run.model_validate

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(kfp_nb.Run, "model_validate", spy)
    fake = FakeServer().on("GET", "/experiments", reply(200, {}))
    fake.on("GET", "/runs", reply(200, {"runs": _runs(3)}))
    assert isinstance(fake.client().runs(), pd.DataFrame)
    assert calls == []
