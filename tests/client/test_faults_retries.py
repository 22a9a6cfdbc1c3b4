"""GET retries: which failures, how many, how long between them (sync and async).

The waits are recorded, not slept: the client's sleep is replaced, so the
bounds and the jitter are asserted on the values the client chose.
"""

from __future__ import annotations

import asyncio
import email.utils
import statistics
import time

import httpx
import pytest

import kfp_nb
from kfp_nb import _async_client, _client
from kfp_nb._transport import RetryPolicy
from kfp_nb.server._process import free_port

from ._mock import FakeServer, reply, run_body

GATEWAY = [
    (502, "<html><title>502 Bad Gateway</title></html>", {"content-type": "text/html"}),
    (503, "no healthy upstream", {"content-type": "text/plain"}),
    (504, "upstream request timeout", {"content-type": "text/plain"}),
]


def _fresh(failure):
    """A new response each time: an httpx.Response body is read only once."""
    return lambda request: reply(*failure)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every wait the clients ask for, in order; nothing actually sleeps."""
    asked: list[float] = []
    real_async_sleep = asyncio.sleep

    async def async_sleep(seconds, *args, **kwargs):
        asked.append(seconds)
        await real_async_sleep(0)

    monkeypatch.setattr(_client.time, "sleep", asked.append)
    monkeypatch.setattr(_async_client.asyncio, "sleep", async_sleep)
    return asked


def _get(fake: FakeServer, mode: str, **options):
    options.setdefault("backoff", 0.5)
    if mode == "sync":
        with fake.client(**options) as client:
            return client.get_run("r1")

    async def main():
        async with fake.async_client(**options) as client:
            return await client.get_run("r1")

    return asyncio.run(main())


MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure",
    [*GATEWAY, httpx.ConnectError("[Errno 111] Connection refused"),
     httpx.ConnectTimeout("timed out")],
    ids=["502", "503", "504", "refused", "connect-timeout"],
)  # fmt: skip
def test_get_retries_then_succeeds_with_growing_jittered_waits(waits, mode, failure):
    if isinstance(failure, tuple):
        failure = _fresh(failure)
    fake = FakeServer().on(
        "GET", ".*", failure, failure, failure, reply(200, run_body())
    )
    assert _get(fake, mode, retries=3).run_id == "r1"
    assert len(fake.requests) == 4
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):  # 0.5 * 2**n, scaled by 0.5..1.0
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt


@pytest.mark.parametrize("mode", MODES)
def test_retries_stop_at_the_bound_and_say_so(waits, mode):
    fake = FakeServer().on("GET", ".*", _fresh(GATEWAY[1]))
    with pytest.raises(kfp_nb.ServerError) as info:
        _get(fake, mode, retries=2)
    assert len(fake.requests) == 3 and len(waits) == 2
    assert "no healthy upstream" in str(info.value)
    assert "try again shortly" in info.value.hint


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("header", "least"),
    [("4", 4.0), (None, 0.0)],
)
def test_retry_after_seconds_is_honoured(waits, mode, header, least):
    headers = {"content-type": "text/plain"} | (
        {"retry-after": header} if header else {}
    )
    fake = FakeServer().on(
        "GET", ".*", reply(503, "busy", headers), reply(200, run_body())
    )
    _get(fake, mode, retries=1)
    assert len(waits) == 1 and waits[0] >= least
    assert waits[0] <= 10.0


def test_retry_after_http_date_is_honoured_and_capped():
    policy = RetryPolicy(retries=3, backoff=0.1, max_delay=10.0)
    soon = email.utils.formatdate(time.time() + 6, usegmt=True)
    late = email.utils.formatdate(time.time() + 3600, usegmt=True)
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert (
        4.0 <= policy.delay(0, httpx.Response(503, headers={"retry-after": soon})) <= 6
    )
    assert policy.delay(0, httpx.Response(503, headers={"retry-after": late})) == 10.0
    assert policy.delay(0, httpx.Response(503, headers={"retry-after": past})) <= 0.1
    junk = httpx.Response(503, headers={"retry-after": "soon-ish"})
    assert policy.delay(0, junk) <= 0.1


def test_backoff_is_capped_and_really_jittered():
    policy = RetryPolicy(retries=10, backoff=0.5, max_delay=4.0)
    samples = [policy.delay(1) for _ in range(200)]
    assert all(0.5 <= s <= 1.0 for s in samples)  # 0.5 * 2 * (0.5..1.0)
    assert statistics.pstdev(samples) > 0.05  # spread, not one fixed value
    assert len({round(s, 6) for s in samples}) > 100
    assert max(policy.delay(n) for n in range(4, 10)) <= 4.0
    big = httpx.Response(503, headers={"retry-after": "120"})
    assert policy.delay(0, big) == 4.0  # a server's wish is bounded too


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 501])
def test_other_statuses_are_answered_at_once(waits, mode, status):
    fake = FakeServer().on("GET", ".*", reply(status, {"code": 2, "message": "x"}))
    with pytest.raises(kfp_nb.APIError):
        _get(fake, mode)
    assert len(fake.requests) == 1 and waits == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure",
    [GATEWAY[1], httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["503", "refused", "read-timeout"],
)
@pytest.mark.parametrize("action", ["terminate", "archive", "delete", "retry"])
def test_actions_are_sent_once_whatever_happens(waits, mode, failure, action):
    answer = _fresh(failure) if isinstance(failure, tuple) else failure
    fake = FakeServer().on("POST", ".*", answer).on("DELETE", ".*", answer)
    fake.on("GET", ".*", lambda request: reply(200, run_body("r1", "PENDING")))

    async def main():
        async with fake.async_client(backoff=0.5) as client:
            await getattr(client, f"{action}_run")("r1")

    try:
        if mode == "sync":
            with fake.client(backoff=0.5) as client:
                getattr(client, f"{action}_run")("r1")
        else:
            asyncio.run(main())
    except kfp_nb.KFPError as exc:
        outcome = exc
    else:
        outcome = None
    sent = [r for r in fake.requests if r.method != "GET"]
    assert len(sent) == 1 and waits == []
    if not isinstance(failure, httpx.ReadTimeout):
        assert outcome is not None  # refused / 503: reported, not retried
        assert len(fake.requests) == 1  # and nothing to read back
    else:  # ambiguous: read back once; a PENDING run shows only retry took effect
        assert [r.method for r in fake.requests][1:] == ["GET"]
        assert (outcome is None) is (action == "retry")


@pytest.mark.parametrize("mode", MODES)
def test_refused_port_on_loopback_is_retried_then_named(waits, mode):
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    async def main():
        async with kfp_nb.AsyncClient(host, retries=2, backoff=0.2) as client:
            await client.healthz()

    with pytest.raises(kfp_nb.ConnectError) as info:
        if mode == "sync":
            with kfp_nb.Client(host, retries=2, backoff=0.2) as client:
                client.healthz()
        else:
            asyncio.run(main())
    assert len(waits) == 2 and all(0.1 <= w <= 0.4 for w in waits[:1])
    text = str(info.value)
    assert host in text and "nothing accepts connections" in text
    assert "port-forward" in text


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_timeout_on_create_run_says_check_before_resending(status):
    fake = FakeServer().on(
        "POST", "/runs", lambda request: reply(status, "upstream request timeout")
    )
    with pytest.raises(kfp_nb.ServerError) as info, fake.client() as client:
        client.create_run(display_name="x", pipeline_spec={})
    assert "may still have applied" in info.value.hint
    assert "try again" not in info.value.hint
    assert len(fake.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "dropped",
    [httpx.RemoteProtocolError("Server disconnected without sending a response."),
     httpx.ReadError("[Errno 104] Connection reset by peer")],
    ids=["disconnected", "reset"],
)  # fmt: skip
def test_a_get_whose_connection_dropped_is_retried(waits, mode, dropped):
    """A restarted server or port-forward drops the kept-alive connection."""
    fake = FakeServer().on("GET", ".*", dropped, reply(200, run_body()))
    assert _get(fake, mode, retries=1).run_id == "r1"
    assert len(fake.requests) == 2 and len(waits) == 1
