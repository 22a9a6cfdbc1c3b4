"""The state table that the server, wait() and the widgets all read."""

from __future__ import annotations

import pytest

from kfp_nb import _states

# The table of SEMANTICS.md §3, written out: action -> states the server accepts.
ACCEPTS = {
    "terminate": {"PENDING", "RUNNING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"},
    "retry": {"FAILED"},
    "archive": set(_states.RUN_STATES),
    "delete": set(_states.RUN_STATES),
}


@pytest.mark.parametrize("action", sorted(ACCEPTS))
@pytest.mark.parametrize("state", _states.RUN_STATES)
def test_action_table(action, state):
    assert _states.action_allowed(action, state) == (state in ACCEPTS[action])


def test_refusal_says_why():
    assert "only FAILED" in _states.action_refusal("retry", "SUCCEEDED")
    assert "SUCCEEDED" in _states.action_refusal("terminate", "SUCCEEDED")


def test_unarchive_needs_an_archived_run():
    assert _states.action_allowed("unarchive", "RUNNING", "ARCHIVED")
    assert not _states.action_allowed("unarchive", "RUNNING", "AVAILABLE")
    assert _states.action_allowed("restore", "FAILED", "ARCHIVED")


def test_unknown_action_is_a_usage_error():
    with pytest.raises(ValueError, match="unknown action"):
        _states.action_allowed("explode", "RUNNING")


def test_final_and_active_sets_partition_the_known_states():
    known = set(_states.RUN_STATES) - {"RUNTIME_STATE_UNSPECIFIED"}
    assert _states.FINAL_RUN_STATES | _states.ACTIVE_RUN_STATES == known
    assert not _states.FINAL_RUN_STATES & _states.ACTIVE_RUN_STATES


@pytest.mark.parametrize("state", ["CANCELED", "FAILED", "SUCCEEDED", "SKIPPED"])
def test_final_states(state):
    assert _states.is_final(state)


@pytest.mark.parametrize("state", ["CANCELING", "PAUSED", "SOMETHING_NEW", None])
def test_not_final(state):
    assert not _states.is_final(state)


def test_rules_payload_agrees_with_action_allowed():
    rules = _states.rules_payload()
    for action, states in rules["actions"].items():
        for state in _states.RUN_STATES:
            assert (state in states) == _states.action_allowed(action, state), (
                action,
                state,
            )
    assert set(rules["final"]) == _states.FINAL_RUN_STATES
    assert _states.action_allowed("restore", "RUNNING", rules["restore_needs"])
