"""AsyncClient: the same surface and the same behaviour, awaited."""

from __future__ import annotations

import asyncio
import base64
import io
import tarfile

import httpx
import pytest

import kfp_nb
from tests._data import case

from ._mock import FakeServer, from_case, reply, run_body


def _run(coro):
    return asyncio.run(coro)


def test_get_and_list_and_context_manager():
    async def main():
        fake = FakeServer().on("GET", "/runs/r1", reply(200, run_body()))
        fake.on("GET", "/runs", reply(200, {"runs": [run_body("a")], "total_size": 1}))
        async with fake.async_client(token="t0ken-abc") as client:
            run = await client.get_run("r1")
            page = await client.list_runs(page_size=1)
        assert client._http.is_closed
        assert fake.requests[0].headers["authorization"] == "Bearer t0ken-abc"
        return run, page

    run, page = _run(main())
    assert run.run_id == "r1" and page.runs[0].run_id == "a"


def test_async_iter_runs_follows_pages_and_catches_loops():
    c = case("09")["server_response"]

    async def main():
        fake = FakeServer().on(
            "GET",
            "/runs",
            reply(200, {"runs": [run_body("a")], "next_page_token": "t2"}),
            reply(200, {"runs": [run_body("b")]}),
        )
        got = [
            r.run_id
            async for r in fake.async_client().iter_runs(
                filter={
                    "predicates": [
                        {"key": "name", "operation": "EQUALS", "string_value": "x"}
                    ]
                }
            )
        ]
        assert fake.params(0)["filter"] == fake.params(1)["filter"]
        looping = FakeServer().on("GET", "/runs", from_case(c[0]), from_case(c[1]))
        with pytest.raises(kfp_nb.PaginationError) as info:
            [r async for r in looping.async_client().iter_runs()]
        return got, info.value

    got, error = _run(main())
    assert got == ["a", "b"] and len(error.rows) == 1


def test_async_errors_map_the_same_way():
    async def main():
        fake = FakeServer().on("GET", ".*", from_case(case("14")["server_response"]))
        with pytest.raises(kfp_nb.LoginRedirect):
            await fake.async_client().get_run("r")
        flaky = FakeServer().on(
            "GET", ".*", reply(503, "no healthy upstream"), reply(200, run_body())
        )
        assert (await flaky.async_client().get_run("r1")).run_id == "r1"
        assert len(flaky.requests) == 2

    _run(main())


def test_async_ambiguous_terminate_is_confirmed_or_unconfirmed():
    async def main():
        ok = FakeServer().on("POST", ".*", httpx.ReadTimeout("slow"))
        ok.on("GET", ".*", reply(200, run_body("r", "CANCELING")))
        await ok.async_client().terminate_run("r")
        bad = FakeServer().on("POST", ".*", httpx.ReadTimeout("slow"))
        bad.on("GET", ".*", reply(200, run_body("r", "RUNNING")))
        with pytest.raises(kfp_nb.ActionUnconfirmed):
            await bad.async_client().terminate_run("r")
        assert len(bad.requests) == 2

    _run(main())


def test_async_wait_case21():
    c = case("21")["server_response"]

    async def main():
        fake = FakeServer().on("GET", ".*", from_case(c[2]), from_case(c[3]))
        run = await fake.async_client().wait(
            c[3]["body"]["run_id"], timeout=30, poll_interval=0
        )
        assert run.state == "CANCELED"
        stuck = FakeServer().on("GET", ".*", from_case(c[2]))
        with pytest.raises(kfp_nb.WaitTimeout, match="CANCELING"):
            await stuck.async_client().wait(["x"], timeout=0)

    _run(main())


def test_async_read_artifact_and_frames():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("data")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    data = base64.b64encode(buf.getvalue()).decode()

    async def main():
        fake = FakeServer().on("GET", ":read$", reply(200, {"data": data}))
        fake.on(
            "GET",
            "/experiments",
            reply(
                200,
                {"experiments": [{"experiment_id": "e1", "display_name": "Default"}]},
            ),
        )
        fake.on("GET", "/runs", reply(200, {"runs": [run_body("a")]}))
        fake.on("GET", "/tasks", reply(501, {"code": 12, "message": "nope"}))
        fake.on("GET", "/runs/a", reply(200, case("04")["server_response"]["body"]))
        client = fake.async_client()
        blob = await client.read_artifact("a", "n", "mlpipeline-metrics")
        runs = await client.runs()
        tasks = await client.tasks("a")
        await client.aclose()
        return blob, runs, tasks

    blob, runs, tasks = _run(main())
    assert blob == b"{}"
    assert list(runs["experiment_name"]) == ["Default"]
    assert len(tasks) == 3


def test_async_endpoints_send_the_right_requests():
    async def main():
        fake = FakeServer()
        fake.on("POST", "/runs", reply(200, run_body("new")))
        fake.on("POST", "/tasks", reply(200, {"task_id": "t1"}))
        fake.on("PATCH", "/tasks/t1", reply(200, {"task_id": "t1", "state": "RUNNING"}))
        fake.on("GET", "/tasks/t1", reply(200, {"task_id": "t1"}))
        fake.on("GET", "/tasks", reply(200, {}))
        fake.on("GET", "/experiments/e1", reply(200, {"experiment_id": "e1"}))
        fake.on("GET", "/experiments", reply(200, {}))
        fake.on("GET", "/healthz", reply(200, {"multi_user": False}))
        fake.on("POST", ".*", reply(200, {}))
        fake.on("DELETE", ".*", reply(200, {}))
        client = fake.async_client()
        await client.create_run(display_name="x", pipeline_spec={})
        for action in ("archive", "unarchive", "terminate", "retry", "delete"):
            await getattr(client, f"{action}_run")("r1")
        await client.create_task({"run_id": "r1"})
        assert (await client.update_task("t1", {"state": "RUNNING"})).state == "RUNNING"
        await client.get_task("t1")
        await client.list_tasks(run_id="r1")
        await client.get_experiment("e1")
        await client.list_experiments()
        assert (await client.healthz()) == {"multi_user": False}
        return fake.paths()

    paths = [p.replace("/pipeline/apis/v2beta1", "") for p in _run(main())]
    assert paths == [
        "POST /runs",
        "POST /runs/r1:archive",
        "POST /runs/r1:unarchive",
        "POST /runs/r1:terminate",
        "POST /runs/r1:retry",
        "DELETE /runs/r1",
        "POST /tasks",
        "PATCH /tasks/t1",
        "GET /tasks/t1",
        "GET /tasks",
        "GET /experiments/e1",
        "GET /experiments",
        "GET /healthz",
    ]
