"""A closed client says so; an empty task list of a missing run is NotFound."""

from __future__ import annotations

import asyncio

import pytest

import kfp_nb

from ._mock import FakeServer, reply


def test_calls_after_close_say_the_client_is_closed():
    fake = FakeServer().on("GET", ".*", reply(200, {"runs": []}))
    client = fake.client()
    client.close()
    with pytest.raises(kfp_nb.KFPError, match="this Client is closed; create a new"):
        client.runs()
    with pytest.raises(RuntimeError, match="closed"):
        client.get_run("r1")
    assert fake.requests == []


def test_async_calls_after_close_say_the_client_is_closed():
    fake = FakeServer().on("GET", ".*", reply(200, {"runs": []}))

    async def go():
        client = fake.async_client()
        await client.aclose()
        with pytest.raises(kfp_nb.KFPError, match="AsyncClient is closed"):
            await client.list_runs()

    asyncio.run(go())
    assert fake.requests == []


def _missing_run() -> FakeServer:
    return (
        FakeServer()
        .on("GET", r".*/tasks", lambda _: reply(200, {}))
        .on(
            "GET",
            r".*/runs/nope",
            lambda _: reply(404, {"code": 5, "message": "not found"}),
        )
    )


def test_empty_task_list_of_a_missing_run_is_not_found():
    fake = _missing_run()
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        fake.client().tasks("nope")
    with pytest.raises(kfp_nb.NotFound, match="nope"):
        fake.client().artifacts("nope")

    async def go():
        async with _missing_run().async_client() as client:
            with pytest.raises(kfp_nb.NotFound):
                await client.tasks("nope")
            with pytest.raises(kfp_nb.NotFound):
                await client.artifacts("nope")

    asyncio.run(go())
