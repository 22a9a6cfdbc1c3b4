"""``RunView``: one run's detail panel (fields, tasks), live while the run is active."""

from __future__ import annotations

import logging
from typing import Any

import traitlets as t

from .. import _states
from . import _fallback, _remote
from ._base import Panel, now_iso
from ._poller import Poller

__all__ = ["RunView"]

logger = logging.getLogger("kfp_nb.widgets")


class RunView(Panel):
    """One run: its fields, parameters, state history and tasks.

    The front end asks for the detail with a ``run_detail`` request when it
    renders; while the run is active (and ``polling`` is on) the kernel re-reads
    it every ``poll_interval`` seconds and pushes the new detail.
    """

    #: str: the id of the run shown.
    run_id = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        client: Any,
        run_id: str,
        *,
        poll_interval: float = 5.0,
        polling: bool = True,
        time_zone: str = "",
    ) -> None:
        if not isinstance(run_id, str) or not run_id:
            raise ValueError(
                f"RunView needs a run id (a non-empty string), got {run_id!r}"
            )
        self._run: dict[str, Any] | None = None
        self._tasks: list[dict[str, Any]] = []
        self._poller = Poller(
            self._poll_tick,
            wanted=self._poll_wanted,
            interval=lambda: self.poll_interval,
            name="kfp_nb-poll-run",
        )
        super().__init__(
            client,
            _panel="run_view",
            run_id=run_id,
            poll_interval=poll_interval,
            polling=polling,
            time_zone=time_zone,
        )
        self.observe(self._on_polling, names="polling")
        self.observe(self._on_run_id, names="run_id")
        self._read()

    @property
    def run(self) -> dict[str, Any] | None:
        """The run's wire JSON as last read (None before a successful read)."""
        return self._run

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The run's tasks' wire JSON as last read."""
        return list(self._tasks)

    def _read(self) -> bool:
        """Read the detail now; a failure goes to ``error``. True on success."""
        try:
            run, tasks = _remote.fetch_detail(self._client, self.run_id)
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised
            logger.warning(
                "kfp_nb RunView: reading run %s failed: %s", self.run_id, exc
            )
            self.error = _remote.short_error(exc)
            return False
        self._got_detail(run, tasks)
        return True

    def _got_detail(self, run: dict, tasks: list[dict]) -> None:
        if run.get("run_id") not in (None, self.run_id):
            return  # an answer about a run no longer shown
        with self._lock:
            self._run, self._tasks = run, tasks
        self.error = ""
        self.updated_at = now_iso()
        self._poller.ensure()

    def _poll_wanted(self) -> bool:
        run = self._run
        state = run.get("state") if run else None
        return bool(
            self.polling and not self._closed and state in _states.ACTIVE_RUN_STATES
        )

    def _poll_tick(self) -> None:
        if not self._read() or self._closed:
            return
        self._push(
            {
                "kind": "run_detail",
                "ok": True,
                "run": self._run,
                "tasks": self._tasks,
                "error": "",
            }
        )

    def _on_polling(self, change: dict) -> None:
        if change["new"]:
            self._poller.ensure()
        else:
            self._poller.stop()

    def _on_run_id(self, change: dict) -> None:
        if change["old"] != change["new"]:
            self._poller.stop()
            with self._lock:
                self._run, self._tasks = None, []
            self._read()

    def _stop_background(self) -> None:
        self._poller.stop()

    def _summary(self) -> str:
        run = self._run or {}
        state = run.get("state") or "not loaded"
        return f"run {self.run_id} {run.get('display_name', '')!r}: {state}"

    def _fallback_html(self) -> str:
        return _fallback.run_html(self._run, self._tasks, error=self.error)
