"""Tester-reported failures, replayed against the real embedded server."""

from __future__ import annotations

import asyncio

import httpx
import pandas as pd
import pytest

import kfp_nb
from kfp_nb._frames import UnparsedValueWarning

FAR = "9999-12-31T23:59:59Z"


def _spec() -> dict:
    from kfp_nb.server._pipelines import DEMO_PIPELINES

    return DEMO_PIPELINES[min(DEMO_PIPELINES)]


def _post_run(server, **fields) -> dict:
    body = {"display_name": "far", "pipeline_spec": _spec(), **fields}
    answer = httpx.post(f"{server.url}/apis/v2beta1/runs", json=body)
    assert answer.status_code == 200, answer.text  # the server accepts it
    return answer.json()


def test_one_far_future_time_does_not_break_runs_for_everyone(server, client):
    far = _post_run(server, scheduled_at=FAR)
    normal = client.create_run(display_name="normal", pipeline_spec=_spec())
    with pytest.warns(UnparsedValueWarning) as caught:
        frame = client.runs(progress=False)
    assert len(caught) == 1 and caught[0].filename == __file__
    text = str(caught[0].message)
    assert far["run_id"] in text and "scheduled_at" in text and FAR in text
    assert set(frame["run_id"]) == {far["run_id"], normal.run_id}
    row = frame.set_index("run_id").loc[far["run_id"]]
    assert pd.isna(row["scheduled_at"]) and pd.notna(row["created_at"])
    assert frame.attrs["unparsed"] == [
        {"row": int((frame["run_id"] == far["run_id"]).idxmax()),
         "run_id": far["run_id"], "column": "scheduled_at", "value": FAR,
         "problem": "is a valid time, but outside the years 1677-2262 that a "
                    "datetime64[ns] column can hold"}
    ]


def test_async_runs_and_tasks_survive_far_times(server):
    far = _post_run(server, scheduled_at=FAR)
    task = {"run_id": far["run_id"], "display_name": "t", "end_time": FAR,
            "create_time": "2024-01-01T00:00:00Z"}
    assert httpx.post(f"{server.url}/apis/v2beta1/tasks", json=task).is_success

    async def main():
        async with kfp_nb.AsyncClient(server.url) as client:
            with pytest.warns(UnparsedValueWarning, match="scheduled_at"):
                runs = await client.runs(progress=False)
            with pytest.warns(UnparsedValueWarning, match="end_time"):
                tasks = await client.tasks(far["run_id"])
            return runs, tasks

    runs, tasks = asyncio.run(main())
    assert runs["run_id"].tolist() == [far["run_id"]]
    row = tasks[tasks["display_name"] == "t"].iloc[0]
    assert pd.isna(row["end_time"]) and pd.notna(row["create_time"])
    assert tasks.attrs["unparsed"][0]["value"] == FAR


def test_empty_display_name_shows_the_servers_cause(client):
    with pytest.raises(kfp_nb.ServerError) as info:
        client.create_run({"display_name": ""})
    assert "Run name cannot be empty" in str(info.value)
    assert "pipeline_version_reference=" in str(info.value)


def test_terminating_a_finished_run_says_which_states_can_be(client):
    run = client.create_run(display_name="done", pipeline_spec=_spec())
    finished = client.wait(run.run_id, timeout=120, poll_interval=0.2)
    with pytest.raises(kfp_nb.APIError) as info:
        client.terminate_run(run.run_id)
    text = str(info.value)
    assert "Row not found" in text  # the server's own words stay
    assert "Only PENDING/RUNNING/PAUSED runs can be terminated" in text
    assert finished.state in text.split("cannot")[0]


def test_reading_a_metrics_output_points_to_the_task(client):
    run = client.create_run(display_name="m", pipeline_spec=_spec())
    client.wait(run.run_id, timeout=120, poll_interval=0.2)
    tasks = client.tasks(run.run_id)
    metric = None
    for task in tasks.itertuples():
        for key in task.output_artifacts or []:
            details = client.get_task(task.task_id)
            kinds = {
                a.type
                for group in details.outputs.artifacts
                for a in group.artifacts
                if group.artifact_key == key
            }
            if "Metric" in kinds:
                metric = (task.pod_names[-1], key)
    assert metric is not None, "the demo pipeline has a Metrics output"
    with pytest.raises(kfp_nb.NotFound) as info:
        client.read_artifact(run.run_id, *metric)
    text = str(info.value)
    assert run.run_id in text and repr(metric[0]) in text and repr(metric[1]) in text
    assert "get_task(task_id).output_artifacts" in text


def test_name_contains_with_like_wildcards_is_exact(client):
    for name in ("a_b run", "axb run", "A_B upper", "50% off", "500 off"):
        client.create_run(display_name=name, pipeline_spec=_spec())
    raw = {"predicates": [{"key": "display_name", "operation": "IS_SUBSTRING",
                           "string_value": "a_b"}]}
    wide = client.runs(filter=raw, progress=False)["display_name"]
    assert "axb run" in set(wide)  # what the server's LIKE does
    names = set(client.runs(name_contains="a_b", progress=False)["display_name"])
    assert names == {"a_b run", "A_B upper"}
    assert set(client.runs(name_contains="50%", progress=False)["display_name"]) == {
        "50% off"
    }
    limited = client.runs(name_contains="a_b", limit=1, page_size=1, progress=False)
    assert limited["display_name"].tolist()[0] in {"a_b run", "A_B upper"}


def test_limit_within_one_page_shows_no_bar(client, capsys):
    for i in range(4):
        client.create_run(display_name=f"r{i}", pipeline_spec=_spec())
    assert len(client.runs(limit=2)) == 2
    assert "runs" not in capsys.readouterr().err


def test_empty_ids_do_not_list_everything(client):
    client.create_run(display_name="x", pipeline_spec=_spec())
    with pytest.raises(ValueError, match="run_id must be a non-empty"):
        client.tasks("")
    with pytest.raises(ValueError, match="experiment_id must be a non-empty"):
        client.runs(experiment_id="")


def test_bad_token_never_reaches_the_wire_or_the_traceback(server):
    import traceback

    secret = "-".join(["SECRET", "live"])  # not spelled out in the source line
    with pytest.raises(ValueError) as info:
        kfp_nb.Client(server.url, token=secret + "\nX: 1").healthz()
    assert secret not in "".join(traceback.format_exception(info.value))
