"""Case 20: GETs retry on connect errors and 502/503/504; actions are sent once."""

from __future__ import annotations

import httpx
import pytest

import kfp_nb
from kfp_nb._transport import RetryPolicy
from tests._data import case

from ._mock import FakeServer, from_case, reply, run_body

C20 = case("20")["server_response"]
RUN = "9d0c1e7a-0000-4000-8000-000000000027"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retries_gateway_errors_then_succeeds(status):
    flaky = reply(
        status,
        "no healthy upstream",
        {"content-type": "text/plain", "retry-after": "2"},
    )
    fake = FakeServer().on("GET", "/runs", flaky, from_case(C20[2]))
    page = fake.client().list_runs()
    assert page.runs[0].run_id == RUN
    assert len(fake.requests) == 2


def test_get_retries_connect_errors():
    fake = FakeServer().on(
        "GET", ".*", httpx.ConnectError("refused"), reply(200, run_body())
    )
    assert fake.client().get_run("r1").run_id == "r1"
    assert len(fake.requests) == 2


def test_retries_are_bounded():
    fake = FakeServer().on("GET", ".*", reply(503, "no healthy upstream"))
    with pytest.raises(kfp_nb.ServerError, match="no healthy upstream"):
        fake.client(retries=2).get_run("r1")
    assert len(fake.requests) == 3


@pytest.mark.parametrize("status", [400, 404, 409, 500, 501])
def test_other_statuses_are_not_retried(status):
    fake = FakeServer().on("GET", ".*", reply(status, {"code": 2, "message": "x"}))
    with pytest.raises(kfp_nb.APIError):
        fake.client().get_run("r1")
    assert len(fake.requests) == 1


def test_read_timeout_on_get_is_not_retried():
    fake = FakeServer().on("GET", ".*", httpx.ReadTimeout("slow"))
    with pytest.raises(kfp_nb.RequestTimeout):
        fake.client().list_runs()
    assert len(fake.requests) == 1


def test_case20_retry_500_is_sent_once_with_the_message_verbatim():
    fake = FakeServer().on("POST", ":retry$", from_case(C20[0]))
    with pytest.raises(kfp_nb.ServerError) as info:
        fake.client().retry_run(RUN)
    assert len(fake.requests) == 1
    assert "does not allow retries: workflow cannot be retried" in info.value.message


@pytest.mark.parametrize(
    "action", ["archive", "unarchive", "terminate", "retry", "delete"]
)
@pytest.mark.parametrize(
    "answer", [reply(503, "no healthy upstream"), httpx.ConnectError("refused")]
)
def test_actions_are_never_resent(action, answer):
    fake = FakeServer().on("POST", ".*", answer).on("DELETE", ".*", answer)
    with pytest.raises(kfp_nb.KFPError):
        getattr(fake.client(), f"{action}_run")(RUN)
    assert len(fake.requests) == 1


OBSERVED = {
    "terminate": run_body(RUN, "CANCELING"),
    "archive": run_body(RUN, "FAILED", storage_state="ARCHIVED"),
    "unarchive": run_body(RUN, "FAILED", storage_state="AVAILABLE"),
    "retry": run_body(RUN, "RUNNING"),
    "delete": reply(404, {"code": 5, "message": "Run not found"}),
}
NOT_OBSERVED = {
    "terminate": run_body(RUN, "RUNNING"),
    "archive": run_body(RUN, "FAILED", storage_state="AVAILABLE"),
    "unarchive": run_body(RUN, "FAILED", storage_state="ARCHIVED"),
    "retry": run_body(RUN, "FAILED"),
    "delete": run_body(RUN, "RUNNING"),
}


def _as_reply(value):
    return value if isinstance(value, httpx.Response) else reply(200, value)


@pytest.mark.parametrize("action", sorted(OBSERVED))
@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("closed")]
)
def test_ambiguous_action_confirmed_by_reading_the_run(action, exc):
    fake = FakeServer().on("POST", ".*", exc).on("DELETE", ".*", exc)
    fake.on("GET", ".*", _as_reply(OBSERVED[action]))
    assert getattr(fake.client(), f"{action}_run")(RUN) is None
    assert [p.split()[0] for p in fake.paths()] == [
        "DELETE" if action == "delete" else "POST",
        "GET",
    ]


@pytest.mark.parametrize("action", sorted(NOT_OBSERVED))
def test_ambiguous_action_not_observed_raises_unconfirmed(action):
    exc = httpx.ReadTimeout("slow")
    fake = FakeServer().on("POST", ".*", exc).on("DELETE", ".*", exc)
    fake.on("GET", ".*", _as_reply(NOT_OBSERVED[action]))
    with pytest.raises(kfp_nb.ActionUnconfirmed) as info:
        getattr(fake.client(), f"{action}_run")(RUN)
    text = str(info.value)
    assert RUN in text and action in text and "not re-sent" in text
    if action != "delete":
        assert "did not take effect" in text
    assert len(fake.requests) == 2


def test_unconfirmed_when_the_check_fails_too():
    fake = FakeServer().on("POST", ".*", httpx.ReadTimeout("slow"))
    fake.on("GET", ".*", httpx.ConnectError("refused"))
    with pytest.raises(kfp_nb.ActionUnconfirmed, match="reading the run back failed"):
        fake.client(retries=0).terminate_run(RUN)


def test_backoff_is_bounded_jittered_and_honours_retry_after():
    policy = RetryPolicy(retries=5, backoff=0.5, max_delay=4.0)
    delays = [policy.delay(n) for n in range(6)]
    assert all(0 < d <= 4.0 for d in delays)
    assert 0.25 <= delays[0] <= 0.5
    after = httpx.Response(503, headers={"retry-after": "3"})
    assert policy.delay(0, after) >= 3.0
    assert RetryPolicy(backoff=0).delay(3, after) == 0.0


def test_unconfirmed_when_the_run_is_gone():
    fake = FakeServer().on("POST", ".*", httpx.ReadTimeout("slow"))
    fake.on("GET", ".*", reply(404, {"code": 5, "message": "Run x not found"}))
    with pytest.raises(kfp_nb.ActionUnconfirmed, match="no longer exists"):
        fake.client().archive_run(RUN)
