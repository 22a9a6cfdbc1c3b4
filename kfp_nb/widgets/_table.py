"""``RunTable``: the run list panel — progressive loading, selection, actions, polling."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import pandas as pd
import traitlets as t

from .. import _frames, _states
from .._errors import KFPError
from . import _fallback, _payload, _remote
from ._base import Panel, now_iso
from ._poller import Poller

__all__ = ["RunTable"]

logger = logging.getLogger("kfp_nb.widgets")

#: Action name (front end and Python) → the client method that performs it.
_ACTIONS = {
    "archive": "archive_run",
    "restore": "unarchive_run",
    "unarchive": "unarchive_run",
    "retry": "retry_run",
    "terminate": "terminate_run",
    "delete": "delete_run",
}
_VIEWS = {False: "active", True: "archived", None: "all"}
_RESULT_COLUMNS = ["run_id", "action", "ok", "error"]
_UNSPECIFIED = "RUNTIME_STATE_UNSPECIFIED"


def _sort_trait(sort_by: str | None) -> dict[str, Any]:
    words = (sort_by or "created_at").split()
    return {"key": words[0], "desc": len(words) > 1 and words[1].lower() == "desc"}


class RunTable(Panel):
    """The runs of a listing as an interactive table (see js/PROTOCOL.md).

    Parameters
    ----------
    client:
        A :class:`kfp_nb.Client`; every HTTP call is made from the kernel.
    experiment_id, namespace, state, name_contains, created_after, created_before,
    filter, sort_by, limit:
        The filters of :meth:`kfp_nb.Client.runs`.
    archived:
        False (default) lists active runs, True archived ones, None both; the
        panel's toggle (the ``archived`` trait) changes it later.
    page_size:
        Runs per request; rows are shown page by page as they arrive.
    poll_interval, polling, time_zone:
        Initial values of the traits of the same names.
    """

    _REQUESTS: ClassVar[dict[str, tuple[str, str, bool]]] = {
        **Panel._REQUESTS,
        "load": ("_request_load", "rows", False),
        "refresh": ("_request_refresh", "rows", True),
        "action": ("_request_action", "action_done", True),
    }

    #: list[str]: ids of the selected runs (synced both ways).
    selected = t.List(t.Unicode()).tag(sync=True)
    #: str: which runs are listed: ``"active"``, ``"archived"`` or ``"all"``.
    archived = t.Enum(("active", "archived", "all"), "active").tag(sync=True)
    #: list[dict]: ``{key, label, kind, hideable}`` of every column.
    columns = t.List(t.Dict()).tag(sync=True)
    #: list[str]: keys of the columns not shown.
    hidden_columns = t.List(t.Unicode(), ["finished_at", "error", "run_id"]).tag(
        sync=True
    )
    #: dict: ``{"key", "desc"}`` of the front end's sort of the loaded rows.
    sort = t.Dict({"key": "created_at", "desc": True}).tag(sync=True)
    #: str: the front end's text filter.
    text_filter = t.Unicode("").tag(sync=True)
    #: list[str]: states shown; ``[]`` = all.
    state_filter = t.List(t.Unicode()).tag(sync=True)
    #: int: rows loaded so far.
    loaded = t.Int(0).tag(sync=True)
    #: int: ``total_size`` of the listing, from the server.
    total = t.Int(0).tag(sync=True)
    #: bool: a listing is in progress.
    loading = t.Bool(False).tag(sync=True)
    #: dict: outcome of the last action, ``{}`` before any.
    last_action = t.Dict().tag(sync=True)

    def __init__(
        self,
        client: Any,
        *,
        experiment_id: str | None = None,
        namespace: str | None = None,
        state: str | Iterable[str] | None = None,
        name_contains: str | None = None,
        created_after: Any = None,
        created_before: Any = None,
        archived: bool | None | str = False,
        filter: Any = None,
        sort_by: str | None = "created_at desc",
        limit: int | None = None,
        page_size: int = 200,
        poll_interval: float = 5.0,
        polling: bool = True,
        time_zone: str = "",
        _frame: pd.DataFrame | None = None,
    ) -> None:
        view = archived if isinstance(archived, str) else _VIEWS.get(archived)
        if view not in _remote.ARCHIVED_VIEWS:
            raise ValueError(
                f"RunTable(archived={archived!r}): use False (active runs), True "
                "(archived runs), None (both), or 'active'/'archived'/'all'"
            )
        self._page_size = page_size
        self._frame: pd.DataFrame = _frames.runs_frame([])
        self._pending: list[pd.DataFrame] = []
        self._source_ids: list[str] | None = None
        self._generation = 0
        self._loaders: list[threading.Thread] = []
        self._first_page = threading.Event()
        self._poller = Poller(
            self._poll_tick,
            wanted=self._poll_wanted,
            interval=lambda: self.poll_interval,
            name="kfp_nb-poll",
        )
        super().__init__(
            client,
            _panel="run_table",
            archived=view,
            sort=_sort_trait(sort_by),
            poll_interval=poll_interval,
            polling=polling,
            time_zone=time_zone,
        )
        self._filters = {
            "experiment_id": experiment_id,
            "namespace": namespace,
            "state": state,
            "name_contains": name_contains,
            "created_after": created_after,
            "created_before": created_before,
            "filter": filter,
            "sort_by": sort_by,
            "limit": limit,
        }
        self.observe(self._on_archived, names="archived")
        self.observe(self._on_polling, names="polling")
        if _frame is None:
            self._start_loading()
        else:
            self._show_frame(_frame)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, client: Any, **options: Any) -> RunTable:
        """A table of the runs in ``df`` (a frame from ``client.runs()``).

        Refresh and polling re-read these runs from the server; the ``archived``
        toggle shows those of them in that storage state.
        """
        if not isinstance(df, pd.DataFrame) or "run_id" not in df.columns:
            raise ValueError(
                "RunTable.from_frame needs a DataFrame with a run_id column, such "
                "as the one client.runs() returns"
            )
        options.setdefault("archived", None)
        return cls(client, _frame=df, **options)

    # Data ------------------------------------------------------------------

    @property
    def frame(self) -> pd.DataFrame:
        """Every run loaded so far (a copy), in listing order."""
        with self._lock:
            return self._current().copy()

    def _current(self) -> pd.DataFrame:
        with self._lock:
            if self._pending:
                self._frame = _payload.normalize(
                    pd.concat([self._frame, *self._pending], ignore_index=True)
                )
                self._pending = []
            return self._frame

    def _show_frame(self, df: pd.DataFrame) -> None:
        frame = _payload.normalize(df.copy())
        self._source_ids = _remote.frame_ids(frame)
        with self._lock:
            self._frame = frame
        self.columns = _payload.columns_meta(frame)
        self.loaded = self.total = len(frame)
        self._first_page.set()
        self._poller.ensure()

    def _start_loading(self, request_id: str | None = None) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        self.loading = True
        loader = threading.Thread(
            target=self._load,
            args=(generation, request_id),
            name="kfp_nb-load",
            daemon=True,
        )
        with self._lock:
            # A superseded listing ends at its next page; close() joins them all.
            self._loaders = [t for t in self._loaders if t.is_alive()] + [loader]
        loader.start()

    def _stale(self, generation: int) -> bool:
        return self._closed or generation != self._generation

    def _load(self, generation: int, request_id: str | None) -> None:
        """Page through the listing, sending each page as it arrives."""
        first = True
        try:
            for runs, total in self._source_pages():
                if self._stale(generation):
                    return
                page = _remote.to_frame(self._client, runs, self._filters["namespace"])
                reply_to = request_id if first else None
                if not self._take_page(
                    page, generation, first=first, reply_to=reply_to
                ):
                    return
                self.total = max(total, self.loaded)
                first = False
                self._first_page.set()
        except Exception as exc:  # noqa: BLE001 - logged, shown in the panel
            if not self._stale(generation):
                self._listing_failed(exc, request_id if first else None, first=first)
            return
        finally:
            if not self._stale(generation):
                self.loading = False
                self._first_page.set()
        self.error = ""
        self.updated_at = now_iso()
        self._poller.ensure()

    def _take_page(
        self,
        page: pd.DataFrame,
        generation: int,
        *,
        first: bool,
        reply_to: str | None,
    ) -> bool:
        """Keep and send one page (the first replaces); False if superseded."""
        payload = _payload.encode_rows(page)
        with self._lock:
            # Checked and sent under the lock, so a superseded listing can never
            # append its page after the next listing's first one.
            if self._stale(generation):
                return False
            if first:
                self._frame, self._pending = _payload.normalize(page), []
                columns = _payload.columns_meta(self._frame)
            else:
                self._pending.append(page)
                columns = _merge_columns(self.columns, _payload.columns_meta(page))
            loaded = len(self._frame) + sum(len(p) for p in self._pending)
            message = {"id": reply_to, "kind": "rows", "replace": first}
            self._push(message, [payload])
        self.columns = columns
        self.loaded = loaded
        return True

    def _listing_failed(
        self, exc: Exception, request_id: str | None, *, first: bool
    ) -> None:
        if isinstance(exc, KFPError):
            logger.warning("kfp_nb RunTable: listing runs failed: %s", exc)
        else:
            logger.exception("kfp_nb RunTable: listing runs failed")
        self.error = _remote.short_error(exc)
        if first:
            message = {"id": request_id, "kind": "rows", "ok": False}
            self._push({**message, "error": self.error})

    def _source_pages(self) -> Iterator[tuple[list[dict[str, Any]], int]]:
        if self._source_ids is None:
            filters = {
                **self._filters,
                "archived": _remote.ARCHIVED_VIEWS[self.archived],
            }
            yield from _remote.list_pages(
                self._client, filters, page_size=self._page_size
            )
            return
        # Limitation: a table made from a frame is re-read run by run (bounded
        # concurrency) — the API has no "these ids" listing filter for runs.
        found, failed = _remote.get_runs(self._client, self._source_ids)
        if failed and not any(found.values()):
            raise RuntimeError(next(iter(failed.values())))
        runs = [run for run in found.values() if run and self._in_view(run)]
        yield runs, len(runs)

    def _in_view(self, run: dict[str, Any]) -> bool:
        archived = run.get("storage_state") == "ARCHIVED"
        return {"active": not archived, "archived": archived}.get(self.archived, True)

    def _apply_fresh(
        self, found: dict[str, dict[str, Any] | None], *, add: bool = False
    ) -> None:
        """Merge re-read runs: ``update`` those still shown, ``remove`` the rest.

        Runs not in the table are added only when ``add`` (an action's runs);
        a poll that raced a reload never brings back a run the reload dropped.
        """
        stay = [run for run in found.values() if run and self._in_view(run)]
        gone = [rid for rid, run in found.items() if not run or not self._in_view(run)]
        changed = _remote.to_frame(self._client, stay, self._filters["namespace"])
        with self._lock:
            current = self._current()
            shown = set(_remote.frame_ids(current))
            if not add and not changed.empty:
                keep = changed["run_id"].isin(list(shown)).to_numpy(dtype=bool)
                changed = changed[keep].reset_index(drop=True)
            gone = [rid for rid in gone if rid in shown]
            frame = _payload.drop_rows(_payload.merge_rows(current, changed), gone)
            self._frame = frame
            columns = _merge_columns(self.columns, _payload.columns_meta(changed))
            # Sent under the lock: in order with a reload's first page.
            if not changed.empty:
                self._push({"kind": "update"}, [_payload.encode_rows(changed)])
            if gone:
                self._push({"kind": "remove", "run_ids": gone})
        self.columns = columns
        self.total = max(self.total - len(gone), len(frame))
        self.loaded = len(frame)

    # Front-end requests ---------------------------------------------------

    def _request_load(self, content: dict) -> None:
        message = {"id": content.get("id"), "kind": "rows", "replace": True, "ok": True}
        with self._lock:  # in order with pages and updates sent meanwhile
            self._push(message, [_payload.encode_rows(self._current())])

    def _request_refresh(self, content: dict) -> None:
        self.refresh(request_id=content.get("id"))

    def _request_action(self, content: dict) -> None:
        action, run_ids = content.get("action"), content.get("run_ids")
        if not isinstance(run_ids, list) or not all(
            isinstance(r, str) for r in run_ids
        ):
            raise ValueError("an action request needs run_ids (a list of run ids)")
        self._act(action, run_ids, request_id=content.get("id"))

    def refresh(self, *, request_id: str | None = None) -> None:
        """Re-list the runs from the server (in the background)."""
        self._start_loading(request_id)

    def _on_archived(self, change: dict) -> None:
        if change["old"] != change["new"]:
            self._start_loading()

    def _on_polling(self, change: dict) -> None:
        if change["new"]:
            self._poller.ensure()
        else:
            self._poller.stop()

    # Selection -------------------------------------------------------------

    @property
    def selected_frame(self) -> pd.DataFrame:
        """The selected runs' rows of :attr:`frame`, in selection order."""
        with self._lock:
            frame = self._current()
        ids = list(self.selected)
        index = pd.Index(frame["run_id"]).get_indexer(ids)
        return frame.take(index[index >= 0]).reset_index(drop=True)

    def select(self, runs: str | Iterable[str] | pd.DataFrame | pd.Series) -> None:
        """Tick these runs (ids, or a frame with a run_id column); the rest unticked."""
        ids = self._ids(runs)
        with self._lock:
            known = set(_remote.frame_ids(self._current()))
        unknown = [rid for rid in ids if rid not in known]
        if unknown:
            raise ValueError(
                f"RunTable.select: {len(unknown)} run(s) are not in the table: "
                f"{', '.join(unknown[:10])}; pick ids from table.frame.run_id"
            )
        self.selected = ids

    @staticmethod
    def _ids(runs: Any) -> list[str]:
        if runs is None or not isinstance(
            runs, (str, pd.DataFrame, pd.Series, Iterable)
        ):
            raise TypeError(
                "RunTable.select: runs must be a run id, a list of run ids or a "
                f"DataFrame with a run_id column, not {type(runs).__name__}"
            )
        if isinstance(runs, pd.DataFrame):
            if "run_id" not in runs.columns:
                raise ValueError("the DataFrame has no run_id column")
            runs = runs["run_id"]
        if isinstance(runs, str):
            runs = [runs]
        return [str(r) for r in dict.fromkeys(runs)]

    # Actions ----------------------------------------------------------------

    def archive(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Archive the selected runs (or ``run_ids``); one result row per run."""
        return self._act("archive", run_ids)

    def restore(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Restore (unarchive) the selected archived runs (or ``run_ids``)."""
        return self._act("restore", run_ids)

    def retry(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Retry the selected FAILED runs (or ``run_ids``)."""
        return self._act("retry", run_ids)

    def terminate(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Terminate the selected PENDING/RUNNING/PAUSED runs (or ``run_ids``)."""
        return self._act("terminate", run_ids)

    def delete(self, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Delete the selected runs (or ``run_ids``) from the server, for good."""
        return self._act("delete", run_ids)

    def _act(
        self, action: Any, run_ids: Any, *, request_id: str | None = None
    ) -> pd.DataFrame:
        """Run ``action`` on each run concurrently; ``run_id, action, ok, error``."""
        if action not in _ACTIONS:
            raise ValueError(
                f"unknown action {action!r}; expected one of {', '.join(_ACTIONS)}"
            )
        ids = self._ids(self.selected if run_ids is None else run_ids)
        if not ids:
            raise ValueError(
                f"{action}: no runs selected; tick rows, call table.select(...) "
                "or pass run_ids="
            )
        results: dict[str, tuple[bool, str | None]] = {}
        todo = self._precheck(action, ids, results, request_id)
        method = getattr(self._client, _ACTIONS[action])

        def call(run_id: str) -> str | None:
            try:
                method(run_id)
            except Exception as exc:  # noqa: BLE001 - an outcome, shown per run
                logger.info("kfp_nb RunTable: %s %s failed: %s", action, run_id, exc)
                return _remote.short_error(exc)
            return None

        def done(run_id: str, error: str | None) -> None:
            results[run_id] = (error is None, error)
            self._progress(request_id, run_id, error)

        _remote.run_concurrently(call, todo, done=done)
        self._reread(todo)
        return self._finish(action, ids, results, request_id)

    def _precheck(
        self,
        action: str,
        ids: list[str],
        results: dict[str, tuple[bool, str | None]],
        request_id: str | None,
    ) -> list[str]:
        """Refuse what the server would refuse, without calling it; the rest to do."""
        with self._lock:
            frame = self._current()
            rows = frame.drop_duplicates("run_id").set_index("run_id")
            rows = rows[["state", "storage_state"]]
            # An unspecified state (e.g. a user's frame without it) is read back.
            states = {
                rid: (str(rows.at[rid, "state"]), str(rows.at[rid, "storage_state"]))
                for rid in ids
                if rid in rows.index and rows.at[rid, "state"] != _UNSPECIFIED
            }
        states.update(self._states_elsewhere([r for r in ids if r not in states]))
        todo = []
        for rid in ids:
            state = states.get(rid)
            reason = _states.action_refusal(action, *state) if state else None
            if reason is None:
                todo.append(rid)
            else:
                results[rid] = (False, reason)
                self._progress(request_id, rid, reason)
        return todo

    def _states_elsewhere(self, run_ids: list[str]) -> dict[str, tuple[Any, Any]]:
        """States of runs not in the table, read from the server (gone: left out)."""
        found, _ = _remote.get_runs(self._client, run_ids)
        return {
            rid: (run.get("state"), run.get("storage_state"))
            for rid, run in found.items()
            if run
        }

    def _progress(self, request_id: str | None, run_id: str, error: str | None) -> None:
        self._push(
            {
                "id": request_id,
                "kind": "action_progress",
                "run_id": run_id,
                "ok": error is None,
                "error": error or "",
            }
        )

    def _reread(self, run_ids: list[str]) -> None:
        """Push the new state of the runs acted on; errors go to ``error``."""
        if not run_ids:
            return
        found, failed = _remote.get_runs(self._client, run_ids)
        self._apply_fresh(found, add=True)
        if failed:
            self.error = f"could not re-read {len(failed)} run(s): " + next(
                iter(failed.values())
            )
        self._poller.ensure()

    def _finish(
        self,
        action: str,
        ids: list[str],
        results: dict[str, tuple[bool, str | None]],
        request_id: str | None,
    ) -> pd.DataFrame:
        rows = [
            {
                "run_id": rid,
                "action": action,
                "ok": results[rid][0],
                "error": results[rid][1],
            }
            for rid in ids
        ]
        succeeded = {row["run_id"] for row in rows if row["ok"]}
        failed = [
            {"run_id": r["run_id"], "error": r["error"]} for r in rows if not r["ok"]
        ]
        self.selected = [rid for rid in self.selected if rid not in succeeded]
        self.last_action = {
            "action": action,
            "requested": len(ids),
            "succeeded": len(succeeded),
            "failed": failed,
            "at": now_iso(),
        }
        wire = [{**row, "error": row["error"] or ""} for row in rows]
        self._push(
            {"id": request_id, "kind": "action_done", "ok": True, "results": wire}
        )
        return pd.DataFrame(rows, columns=_RESULT_COLUMNS).astype(
            {"run_id": "string", "action": "string", "ok": bool, "error": "string"}
        )

    # Polling ---------------------------------------------------------------

    def _active_ids(self) -> list[str]:
        with self._lock:
            frame = self._current()
            if frame.empty:
                return []
            active = frame["state"].isin(list(_states.ACTIVE_RUN_STATES))
            return [str(r) for r in frame.loc[active.to_numpy(), "run_id"]]

    def _poll_wanted(self) -> bool:
        return bool(self.polling and not self._closed and self._active_ids())

    def _poll_tick(self) -> None:
        """Re-read the active runs; never raises (errors go to ``error``)."""
        try:
            ids = self._active_ids()
            found, failed = _remote.get_runs(self._client, ids)
            if self._closed:
                return
            self._apply_fresh(found)
            if failed:
                self.error = f"polling {len(failed)} run(s) failed: " + next(
                    iter(failed.values())
                )
            else:
                self.error = ""
                self.updated_at = now_iso()
        except Exception as exc:
            logger.exception("kfp_nb RunTable: polling failed")
            self.error = _remote.short_error(exc)

    @property
    def polling_active(self) -> bool:
        """True while the poller thread runs."""
        return self._poller.running

    # Life cycle and display ------------------------------------------------

    def _stop_background(self) -> None:
        with self._lock:
            self._generation += 1
        self._poller.stop()
        with self._lock:
            loaders = list(self._loaders)
        for loader in loaders:
            if loader is not threading.current_thread():
                loader.join(10.0)

    def _summary(self) -> str:
        with self._lock:
            frame = self._current()
        return _fallback.summary_text(frame, total=self.total)

    def _fallback_html(self) -> str:
        # Wait briefly for the first page, so a saved notebook keeps some rows.
        # Limitation: the saved copy is the data at display time — an output's
        # text/html is not rewritten as rows arrive later.
        self._first_page.wait(5.0)
        with self._lock:
            frame = self._current()
        return _fallback.table_html(frame, total=self.total, error=self.error)


def _merge_columns(old: list[dict], new: list[dict]) -> list[dict]:
    """The known columns, plus the new ``param.*`` ones, params sorted by key."""
    keys = {column["key"] for column in old}
    merged = old + [column for column in new if column["key"] not in keys]
    fixed = [c for c in merged if not c["key"].startswith(_payload.PARAM_PREFIX)]
    params = sorted(
        (c for c in merged if c["key"].startswith(_payload.PARAM_PREFIX)),
        key=lambda c: c["key"],
    )
    return fixed + params
