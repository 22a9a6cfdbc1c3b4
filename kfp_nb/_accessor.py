"""``frame.kfp``: act on the runs of a DataFrame, with a dry run first.

The accessor is registered when this module is imported, which happens the
first time ``client.runs()`` builds a frame and when ``kfp_nb.failures`` /
``stats`` / ``compare`` / ``diff`` are imported (``kfp_nb`` itself does not
import pandas). A frame read back from a file in a new kernel gets ``.kfp``
once any of these ran (or after ``import kfp_nb._accessor``).

The client: ``client.runs()`` puts a *key* to its client in
``frame.attrs["kfp_nb.client"]`` (a short string: attrs are deep-copied by
pandas operations and written by ``to_parquet``, so they hold no live object
and never a token). The key resolves while that client is alive in this
process; otherwise pass ``client=`` (it always wins). Actions need a sync
``Client``: a frame built by an ``AsyncClient`` takes ``client=Client(...)``.

Every action defaults to ``dry_run=True``: it re-reads each run's state from
the server and returns one row per run, ``run_id, display_name, state,
storage_state, action, eligible, reason`` (``reason`` says why a run is
skipped, from :func:`kfp_nb._states.action_refusal`). The eligible set is kept
in ``frame.attrs["kfp_nb.dry_run"][action]``. ``dry_run=False`` re-reads the
states again and raises :class:`EligibilityChanged` if the eligible set is not
the dry run's (or if no dry run was made on this frame); else it acts on the
eligible runs concurrently and returns ``run_id, action, ok, error`` for
them (skipped runs are the dry run's). A real call uses up its dry run.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import pandas as pd

from . import _states

__all__ = ["EligibilityChanged", "KfpAccessor", "client_of", "remember"]

logger = logging.getLogger(__name__)

CLIENT_KEY = "kfp_nb.client"
DRY_RUN_KEY = "kfp_nb.dry_run"

#: accessor action → client method.
_METHODS = {
    "archive": "archive_run",
    "restore": "unarchive_run",
    "retry": "retry_run",
    "terminate": "terminate_run",
    "delete": "delete_run",
}
_CLIENTS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


class EligibilityChanged(RuntimeError):
    """The runs an action would touch are not the ones its dry run showed."""


def remember(client: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Note in ``frame.attrs`` which client built it (a key, not the client)."""
    key = f"{type(client).__name__}@{id(client):x}"
    _CLIENTS[key] = client
    frame.attrs[CLIENT_KEY] = key
    return frame


def require_sync(client: Any, what: str) -> Any:
    """``client`` itself, unless it is an ``AsyncClient`` (its calls need await)."""
    import inspect

    if not callable(getattr(client, "get_run", None)):
        raise TypeError(
            f"{what}: client must be a kfp_nb.Client, not "
            f"{type(client).__name__}; pass client=kfp_nb.Client(host)"
        )
    if inspect.iscoroutinefunction(getattr(client, "get_run", None)):
        raise TypeError(
            f"{what} calls the server from plain code and needs a kfp_nb.Client, "
            "not an AsyncClient; pass client=kfp_nb.Client(host)"
        )
    return client


def client_of(frame: pd.DataFrame, client: Any = None, *, what: str) -> Any:
    """``client`` if given, else the live client that built ``frame``."""
    if client is not None:
        return require_sync(client, what)
    key = frame.attrs.get(CLIENT_KEY)
    found = _CLIENTS.get(key) if isinstance(key, str) else None
    http = getattr(found, "_http", None)
    if found is None or getattr(http, "is_closed", False):
        raise ValueError(
            f"{what}: this DataFrame does not come from a live kfp_nb client "
            "(it was built elsewhere, read from a file, or its client was closed); "
            "pass client=kfp_nb.Client(...)"
        )
    return require_sync(found, what)


def _run_ids(frame: pd.DataFrame, what: str) -> list[str]:
    if "run_id" not in frame.columns:
        raise ValueError(f"{what}: the DataFrame has no run_id column")
    return [str(v) for v in dict.fromkeys(frame["run_id"].dropna().tolist())]


def _refusal(action: str, state: str | None, storage: str | None) -> str | None:
    if action == "archive" and storage == "ARCHIVED":
        return "run is already archived"
    name = "unarchive" if action == "restore" else action
    return _states.action_refusal(name, state, storage)


@pd.api.extensions.register_dataframe_accessor("kfp")
class KfpAccessor:
    """Bulk run actions on a runs DataFrame: ``frame.kfp.retry()`` and so on."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def archive(self, *, dry_run: bool = True, client: Any = None) -> pd.DataFrame:
        """Archive the frame's runs (already archived ones are skipped)."""
        return self._act("archive", dry_run, client)

    def restore(self, *, dry_run: bool = True, client: Any = None) -> pd.DataFrame:
        """Restore (unarchive) the frame's archived runs."""
        return self._act("restore", dry_run, client)

    def retry(self, *, dry_run: bool = True, client: Any = None) -> pd.DataFrame:
        """Retry the frame's FAILED runs."""
        return self._act("retry", dry_run, client)

    def terminate(self, *, dry_run: bool = True, client: Any = None) -> pd.DataFrame:
        """Terminate the frame's PENDING, RUNNING or PAUSED runs."""
        return self._act("terminate", dry_run, client)

    def delete(self, *, dry_run: bool = True, client: Any = None) -> pd.DataFrame:
        """Delete the frame's runs from the server, for good."""
        return self._act("delete", dry_run, client)

    # ------------------------------------------------------------------------

    def _plan(self, action: str, client: Any) -> pd.DataFrame:
        """Each run as the server has it now, and whether ``action`` applies."""
        from .widgets import _remote

        ids = _run_ids(self._frame, f"frame.kfp.{action}")
        found, failed = _remote.get_runs(client, ids)
        rows = []
        for run_id in ids:
            run = found.get(run_id)
            state = storage = name = None
            if run_id in failed:
                reason = f"could not read the run: {failed[run_id]}"
            elif run is None:
                reason = "run no longer exists on the server"
            else:
                state = run.get("state") or _states.UNSPECIFIED
                storage = run.get("storage_state") or "STORAGE_STATE_UNSPECIFIED"
                name = run.get("display_name")
                reason = _refusal(action, state, storage)
            rows.append(
                {
                    "run_id": run_id,
                    "display_name": name,
                    "state": state,
                    "storage_state": storage,
                    "action": action,
                    "eligible": reason is None,
                    "reason": reason,
                }
            )
        plan = pd.DataFrame(
            rows,
            columns=["run_id", "display_name", "state", "storage_state", "action",
                     "eligible", "reason"],
        )  # fmt: skip
        for column in ("run_id", "display_name", "state", "storage_state", "reason"):
            plan[column] = plan[column].astype("string")
        plan["eligible"] = plan["eligible"].astype(bool)
        return plan

    def _act(self, action: str, dry_run: bool, client: Any) -> pd.DataFrame:
        what = f"frame.kfp.{action}"
        client = client_of(self._frame, client, what=what)
        plan = self._plan(action, client)
        eligible = plan.loc[plan["eligible"], "run_id"].tolist()
        stored = dict(self._frame.attrs.get(DRY_RUN_KEY) or {})
        if dry_run:
            self._frame.attrs[DRY_RUN_KEY] = {**stored, action: sorted(eligible)}
            return plan
        if action not in stored:
            raise EligibilityChanged(
                f"{what}(dry_run=False): no dry run of {action} on this DataFrame; "
                f"call {what}() first, check the rows it returns, then call "
                f"{what}(dry_run=False) on the same DataFrame"
            )
        self._frame.attrs[DRY_RUN_KEY] = {
            k: v for k, v in stored.items() if k != action
        }  # a dry run allows one real call
        _check_unchanged(what, set(stored[action]), set(eligible))
        return _run(client, action, eligible)


def _check_unchanged(what: str, before: set[str], now: set[str]) -> None:
    if before == now:
        return
    added, gone = sorted(now - before), sorted(before - now)
    parts = []
    if added:
        parts.append(f"now eligible: {', '.join(added)}")
    if gone:
        parts.append(f"no longer eligible: {', '.join(gone)}")
    raise EligibilityChanged(
        f"{what}(dry_run=False): the runs' states changed since the dry run "
        f"({'; '.join(parts)}); nothing was done. Call {what}() again to see the "
        "current plan."
    )


def _run(client: Any, action: str, run_ids: list[str]) -> pd.DataFrame:
    """``action`` on each run on a bounded pool; one result row per run."""
    from .widgets import _remote

    method = getattr(client, _METHODS[action])
    results: dict[str, str | None] = {}

    def call(run_id: str) -> str | None:
        try:
            method(run_id)
        except Exception as exc:  # noqa: BLE001 - an outcome, reported per run
            logger.info("kfp_nb frame.kfp.%s %s failed: %s", action, run_id, exc)
            return _remote.short_error(exc)
        return None

    def done(run_id: str, error: str | None) -> None:
        results[run_id] = error

    _remote.run_concurrently(call, run_ids, done=done)
    out = pd.DataFrame(
        {
            "run_id": pd.array(run_ids, dtype="string"),
            "action": pd.array([action] * len(run_ids), dtype="string"),
            "ok": [results.get(r) is None for r in run_ids],
            "error": pd.array([results.get(r) for r in run_ids], dtype="string"),
        }
    )
    return out
