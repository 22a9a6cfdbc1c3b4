"""Case 21 and 02: wait() stops on every final state and names lagging states."""

from __future__ import annotations

import logging

import pytest

import kfp_nb
from tests._data import case

from ._mock import FakeServer, from_case, reply, run_body

C21 = case("21")["server_response"]
RUN = "9d0c1e7a-0000-4000-8000-000000000028"


def _case21_server() -> FakeServer:
    polls = [from_case(C21[1])] * 3 + [from_case(C21[2])] * 3 + [from_case(C21[3])]
    fake = FakeServer().on("POST", ":terminate$", from_case(C21[0]))
    return fake.on("GET", f"/runs/{RUN}", *polls)


def test_case21_terminate_then_wait_until_canceled():
    fake = _case21_server()
    client = fake.client()
    client.terminate_run(RUN)
    run = client.wait(RUN, timeout=30, poll_interval=0)
    assert run.state == "CANCELED" and run.finished_at is not None
    assert len(fake.requests) == 1 + 7


def test_case21_timeout_names_the_lingering_state():
    fake = FakeServer().on("GET", ".*", from_case(C21[2]))
    with pytest.raises(kfp_nb.WaitTimeout) as info:
        fake.client().wait(RUN, timeout=0, poll_interval=0)
    assert info.value.last_states == {RUN: "CANCELING"}
    assert RUN in str(info.value) and "CANCELING" in str(info.value)
    assert isinstance(info.value, TimeoutError)


@pytest.mark.parametrize("state", ["SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"])
def test_every_final_state_returns_at_once(state):
    fake = FakeServer().on("GET", ".*", reply(200, run_body("r", state)))
    assert fake.client().wait("r", timeout=0).state == state
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "state",
    [
        "PENDING",
        "RUNNING",
        "PAUSED",
        "CANCELING",
        "RUNTIME_STATE_UNSPECIFIED",
        "ARCHIVING_SOMEDAY",
        None,
    ],
)
def test_non_final_and_unknown_states_keep_waiting(state):
    body = run_body("r")
    body.pop("state")
    if state:
        body["state"] = state
    fake = FakeServer().on("GET", ".*", reply(200, body))
    with pytest.raises(kfp_nb.WaitTimeout):
        fake.client().wait("r", timeout=0)


def test_unknown_state_is_reported_once(caplog):
    fake = FakeServer().on("GET", ".*", reply(200, run_body("r", "WARPING_NEVER")))
    caplog.set_level(logging.WARNING, logger="kfp_nb")
    for _ in range(2):
        with pytest.raises(kfp_nb.WaitTimeout):
            fake.client().wait("r", timeout=0)
    assert caplog.text.count("WARPING_NEVER") == 1


def test_several_runs_in_order_and_only_unfinished_are_polled():
    fake = FakeServer()
    fake.on("GET", "/runs/a", reply(200, run_body("a", "SUCCEEDED")))
    fake.on(
        "GET",
        "/runs/b",
        reply(200, run_body("b", "RUNNING")),
        reply(200, run_body("b", "FAILED")),
    )
    runs = fake.client().wait(iter(["b", "a"]), timeout=30, poll_interval=0)
    assert [(r.run_id, r.state) for r in runs] == [("b", "FAILED"), ("a", "SUCCEEDED")]
    assert [p.rsplit("/", 1)[-1] for p in fake.paths()] == ["b", "a", "b"]


def test_timeout_lists_only_the_unfinished_runs():
    fake = FakeServer()
    fake.on("GET", "/runs/a", reply(200, run_body("a", "SUCCEEDED")))
    fake.on("GET", "/runs/b", reply(200, run_body("b", "PENDING")))
    with pytest.raises(kfp_nb.WaitTimeout) as info:
        fake.client().wait(["a", "b"], timeout=0)
    assert info.value.last_states == {"b": "PENDING"}
    assert "a last seen" not in str(info.value)
