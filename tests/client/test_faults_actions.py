"""A POST action that times out is never re-sent: the client reads the run back.

The embedded app runs behind a real uvicorn with a wrapper that, for the one
action under test, either applies it and then never answers (the answer is
lost on the way back), or never lets it reach the app (lost on the way in).
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

import kfp_nb
from kfp_nb.server import create_app

from ._faults import Recorder, answer, demo_spec, serve

#: The client gives up after READ seconds; the wrapper holds the answer longer.
READ = 1.0
STALL = READ + 1.5


async def _applied_then_silent(scope, receive, send, app):
    async def swallow(message):
        pass

    await app(scope, receive, swallow)
    await asyncio.sleep(STALL)


async def _lost_on_the_way_in(scope, receive, send, app):
    await asyncio.sleep(STALL)


@pytest.fixture(scope="module")
def stalling(tmp_path_factory):
    """``(url, recorder, rules)``: set ``rules[path] = handler`` to stall one path."""
    folder = tmp_path_factory.mktemp("stall")
    rules: dict[str, object] = {}
    # Slow runs stay PENDING/RUNNING for the whole module.
    app = Recorder(create_app(str(folder / "k.db"), speed=0.01))
    app.rule = lambda scope: (
        rules.get(scope["path"]) if scope["method"] != "GET" else None
    )
    with serve(app) as url:
        yield url, app, rules


def _new_run(url: str) -> str:
    with kfp_nb.Client(url) as client:
        return client.create_run(display_name="act", pipeline_spec=demo_spec()).run_id


def _target(action: str, run_id: str) -> tuple[str, str]:
    path = f"/apis/v2beta1/runs/{run_id}"
    if action == "delete":
        return "DELETE", path
    return "POST", f"{path}:{action}"


def _client(url: str) -> kfp_nb.Client:
    return kfp_nb.Client(url, timeout=httpx.Timeout(30.0, read=READ), backoff=0)


def _act(url: str, action: str, run_id: str) -> None:
    with _client(url) as client:
        return getattr(client, f"{action}_run")(run_id)


def _sent(recorder: Recorder, run_id: str) -> list[str]:
    return [s for s in recorder.seen if run_id in s]


PREPARE = {"unarchive": "archive"}


@pytest.mark.parametrize("action", ["terminate", "archive", "unarchive", "delete"])
def test_applied_action_whose_answer_is_lost_is_confirmed(stalling, action, caplog):
    caplog.set_level(logging.INFO, logger="kfp_nb")
    url, recorder, rules = stalling
    run_id = _new_run(url)
    if action in PREPARE:
        _act(url, PREPARE[action], run_id)
    method, path = _target(action, run_id)
    rules[path] = _applied_then_silent
    assert _act(url, action, run_id) is None
    sent = _sent(recorder, run_id)
    assert sent.count(f"{method} {path}") == 1  # never re-sent
    assert sent[-1] == f"GET /apis/v2beta1/runs/{run_id}"  # read back instead
    assert f"reading run {run_id} back shows the {action} took effect" in caplog.text
    with _client(url) as client:
        if action == "delete":
            with pytest.raises(kfp_nb.NotFound):
                client.get_run(run_id)
        elif action == "terminate":
            assert client.get_run(run_id).state in ("CANCELING", "FAILED", "CANCELED")
        else:
            archived = client.get_run(run_id).storage_state == "ARCHIVED"
            assert archived is (action == "archive")


@pytest.mark.parametrize("action", ["terminate", "archive", "delete"])
def test_action_that_never_arrived_is_reported_not_resent(stalling, action):
    url, recorder, rules = stalling
    run_id = _new_run(url)
    method, path = _target(action, run_id)
    rules[path] = _lost_on_the_way_in
    with pytest.raises(kfp_nb.ActionUnconfirmed) as info:
        _act(url, action, run_id)
    text = str(info.value)
    assert run_id in text and action in text and "not re-sent" in text
    assert "did not take effect" in text
    assert f"{action}_run again" in text
    assert _sent(recorder, run_id).count(f"{method} {path}") == 1
    with _client(url) as client:
        run = client.get_run(run_id)  # still there, unchanged
    assert run.state in ("PENDING", "RUNNING") and run.storage_state == "AVAILABLE"


@pytest.mark.parametrize("applied", [True, False])
def test_async_terminate_after_a_timeout(stalling, applied):
    url, recorder, rules = stalling
    run_id = _new_run(url)
    method, path = _target("terminate", run_id)
    rules[path] = _applied_then_silent if applied else _lost_on_the_way_in

    async def main():
        timeout = httpx.Timeout(30.0, read=READ)
        async with kfp_nb.AsyncClient(url, timeout=timeout, backoff=0) as client:
            await client.terminate_run(run_id)

    if applied:
        asyncio.run(main())
    else:
        with pytest.raises(kfp_nb.ActionUnconfirmed, match="did not take effect"):
            asyncio.run(main())
    assert _sent(recorder, run_id).count(f"{method} {path}") == 1
    assert _sent(recorder, run_id)[-1] == f"GET /apis/v2beta1/runs/{run_id}"


async def _applied_then_gateway_timeout(scope, receive, send, app):
    async def swallow(message):
        pass

    await app(scope, receive, swallow)
    await answer(send, 504, b"upstream request timeout", {"content-type": "text/plain"})


async def _gateway_timeout_before_the_app(scope, receive, send, app):
    await answer(send, 504, b"upstream request timeout", {"content-type": "text/plain"})


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("applied", [True, False])
@pytest.mark.parametrize("action", ["terminate", "archive"])
def test_a_gateway_timeout_on_an_action_is_read_back(stalling, mode, applied, action):
    """Envoy's 504: the gateway stopped waiting, the API server may still have acted."""
    url, recorder, rules = stalling
    run_id = _new_run(url)
    method, path = _target(action, run_id)
    rules[path] = (
        _applied_then_gateway_timeout if applied else _gateway_timeout_before_the_app
    )

    async def main():
        async with kfp_nb.AsyncClient(url, backoff=0) as client:
            await getattr(client, f"{action}_run")(run_id)

    def act():
        if mode == "sync":
            _act(url, action, run_id)
        else:
            asyncio.run(main())

    if applied:
        act()  # the read-back shows it took effect: success
    else:
        with pytest.raises(kfp_nb.ActionUnconfirmed, match="did not take effect"):
            act()
    sent = _sent(recorder, run_id)
    assert sent.count(f"{method} {path}") == 1
    assert sent[-1] == f"GET /apis/v2beta1/runs/{run_id}"


def test_create_run_timeout_is_not_resent(stalling):
    """create_run has no run to read back: a plain timeout, sent once."""
    url, recorder, rules = stalling
    before = recorder.seen.count("POST /apis/v2beta1/runs")
    rules["/apis/v2beta1/runs"] = _applied_then_silent
    try:
        with pytest.raises(kfp_nb.RequestTimeout) as info, _client(url) as client:
            client.create_run(display_name="once", pipeline_spec=demo_spec())
    finally:
        del rules["/apis/v2beta1/runs"]
    text = str(info.value)
    assert "waiting for the answer" in text and "not re-sent" in text
    assert "may have" in text and "listing" not in text
    assert recorder.seen.count("POST /apis/v2beta1/runs") == before + 1
    with _client(url) as client:
        made = client.runs(name_contains="once", progress=False)
    assert len(made) == 1  # applied once, not duplicated
