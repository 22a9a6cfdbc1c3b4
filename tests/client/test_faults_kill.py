"""The embedded server SIGKILLed between pages: a clear error, never a short frame.

The kill is deterministic: a transport around the real HTTP one kills the server
process right after page N has been read whole, so page N+1 meets a dead port.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

import kfp_nb

from ._faults import API, AsyncKillAfterPages, KillAfterPages, demo_spec

RUNS = 7


def _seed_runs(server, count: int = RUNS) -> list[str]:
    """``count`` runs, newest first (the order client.runs() lists them in)."""
    with kfp_nb.Client(server.url) as client:
        for i in range(count):
            client.create_run(display_name=f"r{i}", pipeline_spec=demo_spec())
        return [r.run_id for r in client.iter_runs(sort_by="created_at desc")]


def _seed_tasks(server, count: int) -> tuple[str, list[str]]:
    """A run with at least ``count`` tasks; its id and its task ids in list order."""
    with httpx.Client(base_url=server.url + API) as http:
        run = http.post(
            "/runs", json={"display_name": "many", "pipeline_spec": demo_spec()}
        ).json()
        for i in range(count):
            made = http.post(
                "/tasks", json={"run_id": run["run_id"], "display_name": f"t{i}"}
            )
            assert made.status_code == 200, made.text
    with kfp_nb.Client(server.url) as client:
        ids = [t.task_id for t in client.iter_tasks(run_id=run["run_id"])]
    return run["run_id"], ids


def _client(server, pages: int, path: str = "/runs") -> kfp_nb.Client:
    kill = KillAfterPages(server, path=path, pages=pages)
    return kfp_nb.Client(server.url, transport=kill, retries=2, backoff=0)


def _async_client(server, pages: int, path: str = "/runs") -> kfp_nb.AsyncClient:
    kill = AsyncKillAfterPages(server, path=path, pages=pages)
    return kfp_nb.AsyncClient(server.url, transport=kill, retries=2, backoff=0)


def _check(error: kfp_nb.PaginationError, *, pages: int, rows: list[str], key: str):
    text = str(error)
    assert f"after {pages} page(s) and {len(rows)} row(s)" in text
    assert f"page {pages + 1} failed" in text and ".rows" in text
    assert "could not connect" in text or "connection" in text
    assert error.pages == pages
    read = [r[key] for r in error.rows]
    if key == "run_id":
        assert read == rows  # what was read, in order
    else:  # the demo pipeline may add tasks of its own while the test runs
        assert len(set(read)) == len(rows)
    assert isinstance(error.__cause__, kfp_nb.TransportError)


def test_runs_frame_raises_with_the_pages_read(server):
    order = _seed_runs(server)
    client = _client(server, pages=2)
    with pytest.raises(kfp_nb.PaginationError) as info:
        client.runs(page_size=2, progress=False)
    assert not server.alive()
    _check(info.value, pages=2, rows=order[:4], key="run_id")


def test_iter_runs_yields_what_it_read_then_raises(server):
    order = _seed_runs(server)
    client = _client(server, pages=1)
    got: list[str] = []
    with pytest.raises(kfp_nb.PaginationError) as info:
        for run in client.iter_runs(page_size=3, sort_by="created_at desc"):
            got.append(run.run_id)
    assert got == order[:3]
    _check(info.value, pages=1, rows=order[:3], key="run_id")


def test_tasks_frame_raises_with_the_pages_read(server):
    run_id, ids = _seed_tasks(server, 210)  # more than one page of 200
    assert len(ids) > 200
    client = _client(server, pages=1, path="/tasks")
    with pytest.raises(kfp_nb.PaginationError) as info:
        client.tasks(run_id)
    _check(info.value, pages=1, rows=ids[:200], key="task_id")
    assert {t["run_id"] for t in info.value.rows} == {run_id}


def test_async_tasks_frame_raises_with_the_pages_read(server):
    run_id, ids = _seed_tasks(server, 205)

    async def main():
        async with _async_client(server, 1, "/tasks") as client:
            with pytest.raises(kfp_nb.PaginationError) as info:
                await client.tasks(run_id)
            return info.value

    _check(asyncio.run(main()), pages=1, rows=ids[:200], key="task_id")


def test_async_runs_frame_and_iter_runs(tmp_path):
    from kfp_nb.server import launch

    db = str(tmp_path / "k.db")
    with launch(db=db, speed=20.0) as server:
        order = _seed_runs(server)

        async def frame():
            async with _async_client(server, 2) as client:
                with pytest.raises(kfp_nb.PaginationError) as info:
                    await client.runs(page_size=2, progress=False)
                return info.value

        _check(asyncio.run(frame()), pages=2, rows=order[:4], key="run_id")
        assert not server.alive()

    with launch(db=db, speed=20.0) as server:  # the same runs, a new process

        async def iterate():
            got = []
            async with _async_client(server, 1) as client:
                with pytest.raises(kfp_nb.PaginationError) as info:
                    async for run in client.iter_runs(
                        page_size=3, sort_by="created_at desc"
                    ):
                        got.append(run.run_id)
                return got, info.value

        got, error = asyncio.run(iterate())
        assert got == order[:3]
        _check(error, pages=1, rows=order[:3], key="run_id")
