"""kfp_nb.Client over real HTTP against the embedded server (loopback)."""

from __future__ import annotations

import asyncio

import pytest

import kfp_nb
from kfp_nb import _states


@pytest.fixture(scope="module")
def demo(demo_server):
    with kfp_nb.Client(demo_server.url) as client:
        yield client


def _spec(name: str | None = None) -> dict:
    from kfp_nb.server._pipelines import DEMO_PIPELINES

    return DEMO_PIPELINES[name or sorted(DEMO_PIPELINES)[0]]


def _new_run(client: kfp_nb.Client, name: str = "live") -> kfp_nb.Run:
    return client.create_run(
        display_name=name, pipeline_spec=_spec(), parameters={"learning_rate": 0.05}
    )


def test_health_and_experiments(demo):
    health = demo.healthz()
    assert health["multi_user"] is False
    page = demo.list_experiments(page_size=200)
    assert len(page.experiments) >= 3
    first = page.experiments[0]
    assert demo.get_experiment(first.experiment_id).display_name == first.display_name
    with pytest.raises(kfp_nb.NotFound, match="Experiment nope not found"):
        demo.get_experiment("nope")


def _between(count: int, before: int, after: int) -> bool:
    """Runs of the demo keep moving (the simulator): allow what changed meanwhile."""
    return min(before, after) <= count <= max(before, after)


def test_iter_runs_to_the_end_across_pages(demo):
    before = demo.list_runs(page_size=1).total_size
    runs = list(demo.iter_runs(page_size=7))
    after = demo.list_runs(page_size=1).total_size
    assert before >= 80 and _between(len(runs), before, after)
    assert len({r.run_id for r in runs}) == len(runs)


def test_iter_runs_with_a_filter_and_sort_across_pages(client):
    made = [_new_run(client, f"{kind}-{i}") for i in range(5) for kind in "ab"]
    keep = {
        "predicates": [
            {"key": "name", "operation": "IS_SUBSTRING", "string_value": "a-"}
        ]
    }
    runs = list(client.iter_runs(filter=keep, sort_by="created_at desc", page_size=2))
    assert sorted(r.display_name for r in runs) == [f"a-{i}" for i in range(5)]
    stamps = [(r.created_at, r.run_id) for r in runs]
    assert [s[0] for s in stamps] == sorted((s[0] for s in stamps), reverse=True)
    assert len(made) == 10


def test_runs_frame_uses_keyword_filters_on_the_server(client):
    for i in range(5):
        _new_run(client, f"train-{i}")
        _new_run(client, f"eval-{i}")
    archived = _new_run(client, "train-archived")
    client.archive_run(archived.run_id)
    frame = client.runs(name_contains="train", page_size=2, progress=False)
    assert sorted(frame["display_name"]) == [f"train-{i}" for i in range(5)]
    assert frame["experiment_name"].notna().all()
    both = client.runs(name_contains="train", archived=None, page_size=2)
    assert len(both) == 6
    only = client.runs(archived=True, progress=False)
    assert only["run_id"].tolist() == [archived.run_id]
    assert len(client.runs(limit=3, page_size=2, progress=False)) == 3


def test_runs_frame_of_the_demo_data(demo):
    frame = demo.runs(archived=None, progress=False)
    assert len(frame) >= 80 and frame["experiment_name"].notna().all()
    assert {"SUCCEEDED", "FAILED"} <= set(frame["state"])


def test_errors_from_the_real_server(demo):
    with pytest.raises(kfp_nb.NotFound) as info:
        demo.get_run("nope")
    assert info.value.message == "Run nope not found" and "nope" in str(info.value)
    with pytest.raises(kfp_nb.InvalidArgument, match="greater than 0"):
        demo.list_runs(page_size=-1)
    with pytest.raises(kfp_nb.InvalidArgument, match="unrecognized field"):
        demo.list_runs(
            filter={
                "predicates": [
                    {"key": "foo", "operation": "EQUALS", "string_value": "x"}
                ]
            }
        )


def test_read_artifact_of_a_demo_run(demo):
    for run in demo.iter_runs(
        filter={
            "predicates": [
                {"key": "state", "operation": "EQUALS", "string_value": "SUCCEEDED"}
            ]
        }
    ):
        for task in demo.iter_tasks(run_id=run.run_id):
            for key, artifact in task.output_artifacts:
                if artifact.uri and task.state == "SUCCEEDED":
                    data = demo.read_artifact(run.run_id, task.task_id, key)
                    assert isinstance(data, bytes) and len(data) > 0
                    return
    pytest.fail("no demo artifact with a uri was found")


def test_create_get_list_delete(client):
    run = _new_run(client, "訓練 🚀 <b>x</b>")
    assert run.state == "PENDING" and run.finished_at is None
    got = client.get_run(run.run_id)
    assert got.display_name == "訓練 🚀 <b>x</b>" and got.parameters == {
        "learning_rate": 0.05
    }
    assert [r.run_id for r in client.iter_runs()] == [run.run_id]
    assert client.runs(name_contains="訓練", progress=False)[
        "display_name"
    ].tolist() == ["訓練 🚀 <b>x</b>"]
    again = client.create_run(got)  # a Run read back can be sent again
    assert again.run_id != run.run_id and again.parameters == got.parameters
    client.delete_run(again.run_id)
    client.delete_run(run.run_id)
    with pytest.raises(kfp_nb.NotFound):
        client.get_run(run.run_id)
    with pytest.raises(kfp_nb.NotFound, match=run.run_id):
        client.delete_run(run.run_id)


def test_archive_and_unarchive(client):
    run = _new_run(client)
    client.archive_run(run.run_id)
    client.archive_run(run.run_id)  # idempotent
    assert client.get_run(run.run_id).storage_state == "ARCHIVED"
    assert client.runs(progress=False).empty
    assert client.runs(archived=True, progress=False)["run_id"].tolist() == [run.run_id]
    client.unarchive_run(run.run_id)
    assert client.get_run(run.run_id).storage_state == "AVAILABLE"


def test_terminate_then_wait(client):
    run = _new_run(client)
    client.terminate_run(run.run_id)
    assert client.get_run(run.run_id).state in ("CANCELING", "FAILED", "CANCELED")
    final = client.wait(run.run_id, timeout=60, poll_interval=0.1)
    assert _states.is_final(final.state) and final.finished_at is not None
    with pytest.raises(kfp_nb.APIError) as info:
        client.terminate_run(run.run_id)
    assert info.value.status == 400


def test_wait_timeout_names_the_state(client):
    run = _new_run(client)
    with pytest.raises(kfp_nb.WaitTimeout) as info:
        client.wait(run.run_id, timeout=0)
    assert info.value.last_states[run.run_id] in ("PENDING", "RUNNING")


def test_retry_a_failed_run(client):
    run = _new_run(client)
    client.terminate_run(run.run_id)
    final = client.wait(run.run_id, timeout=60, poll_interval=0.1)
    if final.state != "FAILED":
        pytest.skip(f"this server ends terminated runs {final.state}")
    client.retry_run(run.run_id)
    assert client.get_run(run.run_id).state in ("RUNNING", "PENDING")
    with pytest.raises(kfp_nb.FailedPrecondition):
        client.retry_run(run.run_id)


def test_retry_is_refused_for_a_running_run(client):
    run = _new_run(client)
    with pytest.raises(kfp_nb.FailedPrecondition) as info:
        client.retry_run(run.run_id)
    assert info.value.status == 409 and run.run_id in str(info.value)


def test_tasks_endpoints_and_frame(client):
    run = _new_run(client)
    # Finished first: a running run gains tasks from the simulator, which made the
    # total_size read before a listing smaller than the listing itself.
    client.wait(run.run_id, timeout=120, poll_interval=0.1)
    created = client.create_task(
        {"run_id": run.run_id, "display_name": "manual", "state": "RUNNING"}
    )
    assert created.task_id and created.run_id == run.run_id
    assert client.get_task(created.task_id).display_name == "manual"
    updated = client.update_task(created.task_id, {"state": "SUCCEEDED"})
    assert updated.state == "SUCCEEDED"
    assert "SUCCEEDED" in [h.state for h in updated.state_history]
    page = client.list_tasks(run_id=run.run_id, page_size=1)
    ids = [t.task_id for t in client.iter_tasks(run_id=run.run_id, page_size=1)]
    assert created.task_id in ids and len(ids) == page.total_size
    frame = client.tasks(run.run_id)
    assert created.task_id in set(frame["task_id"])
    with pytest.raises(kfp_nb.NotFound, match="task nope not found"):
        client.get_task("nope")


def test_async_client_against_the_server(server):
    async def main():
        async with kfp_nb.AsyncClient(server.url) as client:
            assert (await client.healthz())["multi_user"] is False
            run = await client.create_run(display_name="async", pipeline_spec=_spec())
            assert (await client.get_run(run.run_id)).run_id == run.run_id
            ids = [r.run_id async for r in client.iter_runs(page_size=1)]
            assert ids == [run.run_id]
            await client.archive_run(run.run_id)
            assert (await client.get_run(run.run_id)).storage_state == "ARCHIVED"
            await client.unarchive_run(run.run_id)
            await client.terminate_run(run.run_id)
            final = await client.wait([run.run_id], timeout=60, poll_interval=0.1)
            assert _states.is_final(final[0].state)
            frame = await client.runs(progress=False)
            assert frame["run_id"].tolist() == [run.run_id]
            await client.delete_run(run.run_id)
            with pytest.raises(kfp_nb.NotFound):
                await client.get_run(run.run_id)

    asyncio.run(main())


def test_a_wrong_path_prefix_is_told_apart_from_a_missing_run(demo_server):
    # The gateway answers an unknown route with a bare JSON "Not Found"; that
    # means the host's path is wrong, not that some id is.
    with kfp_nb.Client(demo_server.url + "/pipeline", retries=0) as wrong:
        with pytest.raises(kfp_nb.NotFound) as caught:
            wrong.runs(limit=1)
    assert "check the host path" in str(caught.value)
    with kfp_nb.Client(demo_server.url, retries=0) as right:
        with pytest.raises(kfp_nb.NotFound) as caught:
            right.get_run("no-such-run")
    assert "no-such-run" in str(caught.value)
    assert "check the host path" not in str(caught.value)
