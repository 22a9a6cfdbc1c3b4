"""Run and task states, and which action each run state allows.

One table read by the embedded server (to accept or refuse an action), by
``Client.wait`` (to know when to stop) and by the widgets (to enable buttons), so
the three cannot disagree. The rules follow the real server (SEMANTICS.md §3).

States are plain strings, not an ``Enum``: a newer server may send a value this
table does not know, and that value must survive untouched (it is simply neither
final nor actionable here).
"""

from __future__ import annotations

__all__ = [
    "ACTIONS",
    "ACTIVE_RUN_STATES",
    "FINAL_RUN_STATES",
    "RUN_STATES",
    "STORAGE_STATES",
    "TASK_STATES",
    "action_allowed",
    "action_refusal",
    "is_final",
    "rules_payload",
]

PENDING = "PENDING"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
SKIPPED = "SKIPPED"
FAILED = "FAILED"
CANCELING = "CANCELING"
CANCELED = "CANCELED"
PAUSED = "PAUSED"
UNSPECIFIED = "RUNTIME_STATE_UNSPECIFIED"

#: Every run state the v2beta1 API defines, in the order the UI lists them.
RUN_STATES: tuple[str, ...] = (
    PENDING,
    RUNNING,
    PAUSED,
    CANCELING,
    SUCCEEDED,
    FAILED,
    CANCELED,
    SKIPPED,
    UNSPECIFIED,
)

#: Proto enum numbers, for requests that send a number instead of a name.
RUN_STATE_NUMBERS: dict[int, str] = {
    0: UNSPECIFIED,
    1: PENDING,
    2: RUNNING,
    3: SUCCEEDED,
    4: SKIPPED,
    5: FAILED,
    6: CANCELING,
    7: CANCELED,
    8: PAUSED,
}

#: States after which a run never changes again by itself. A terminated run
#: ends FAILED on a real cluster, so FAILED covers it.
FINAL_RUN_STATES: frozenset[str] = frozenset({SUCCEEDED, FAILED, CANCELED, SKIPPED})

#: States in which a run may still change: worth polling.
ACTIVE_RUN_STATES: frozenset[str] = frozenset({PENDING, RUNNING, CANCELING, PAUSED})

STORAGE_STATES: tuple[str, ...] = ("AVAILABLE", "ARCHIVED")
STORAGE_STATE_NUMBERS: dict[int, str] = {
    0: "STORAGE_STATE_UNSPECIFIED",
    1: "AVAILABLE",
    2: "ARCHIVED",
}

#: Task states of the tasks API (PR schema), plus the run-level names that
#: HEAD's ``run_details.task_details`` reuse.
TASK_STATES: tuple[str, ...] = (
    UNSPECIFIED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    SKIPPED,
    FAILED,
    "CACHED",
    CANCELED,
)
TASK_STATE_NUMBERS: dict[int, str] = {
    0: UNSPECIFIED,
    1: RUNNING,
    2: SUCCEEDED,
    3: SKIPPED,
    4: FAILED,
    5: "CACHED",
}
FINAL_TASK_STATES: frozenset[str] = frozenset(
    {SUCCEEDED, SKIPPED, FAILED, "CACHED", CANCELED}
)

#: The run actions with a state rule. ``restore`` is the UI's name for unarchive.
ACTIONS: tuple[str, ...] = (
    "archive",
    "unarchive",
    "terminate",
    "retry",
    "delete",
)

_TERMINABLE = frozenset({PENDING, RUNNING, PAUSED, UNSPECIFIED})


def is_final(state: str | None) -> bool:
    """True when a run in ``state`` will not change again by itself."""
    return state in FINAL_RUN_STATES


def action_refusal(
    action: str, state: str | None, storage_state: str | None = None
) -> str | None:
    """Why the real server would refuse ``action`` on a run, or None if it accepts.

    ``unarchive`` is refused here only for a run that is not archived: the server
    would accept it (it is idempotent), but offering "restore" on an active run is
    meaningless, so the widgets use this to hide it. The server itself checks the
    experiment's storage state on top of this.
    """
    if action in ("archive", "delete"):
        return None
    if action in ("unarchive", "restore"):
        if storage_state == "ARCHIVED":
            return None
        return "run is not archived"
    if action == "terminate":
        if state in _TERMINABLE or state is None:
            return None
        return f"run is {state}; only PENDING, RUNNING or PAUSED runs can be terminated"
    if action == "retry":
        if state == FAILED:
            return None
        return f"run is {state}; only FAILED runs can be retried"
    raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")


def action_allowed(
    action: str, state: str | None, storage_state: str | None = None
) -> bool:
    """True when the real server accepts ``action`` on a run in this state."""
    return action_refusal(action, state, storage_state) is None


def rules_payload() -> dict[str, object]:
    """The state table as plain JSON, for the widgets' front end.

    The panels enable a button only when every selected run's state is listed
    for that action here, so the front end never offers what the server refuses.
    """
    return {
        "actions": {
            "archive": list(RUN_STATES),
            "delete": list(RUN_STATES),
            "terminate": sorted(_TERMINABLE),
            "retry": [FAILED],
        },
        "restore_needs": "ARCHIVED",
        "final": sorted(FINAL_RUN_STATES),
        "active": sorted(ACTIVE_RUN_STATES),
        "states": list(RUN_STATES),
    }
