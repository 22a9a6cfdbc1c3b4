"""``Client``: one method per RunService endpoint, pages, wait, DataFrames.

Bulk listings (``runs()``, ``tasks()``) stay on raw JSON dicts all the way to the
DataFrame and never build a pydantic object per row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from . import _artifacts, _errors, _snapshot, _transport
from ._base_client import (
    _AMBIGUOUS,
    _MAX_PAGES,
    API,
    _action_observed,
    _BaseClient,
    _Call,
    _check_count,
    _check_seconds,
    _Confirmed,
    _connect_failure,
    _filter_text,
    _frame_rows,
    _log_failure,
    _Maker,
    _name_match,
    _note_state,
    _Pager,
    _Progress,
    _q,
    _take,
    _timeout_message,
    _wait_ids,
    logger,
)
from ._models import (
    Experiment,
    ExperimentPage,
    Run,
    RunPage,
    Task,
    TaskPage,
)

if TYPE_CHECKING:
    import pandas

    from ._artifact import Artifact

__all__ = ["Client"]


class Client(_BaseClient):
    """A synchronous client of the KFP v2beta1 RunService.

    Parameters
    ----------
    host:
        Base URL of the API, with any path prefix (``https://x/pipeline``). Else
        ``$KFP_HOST``, else ``http://localhost:8080``.
    token:
        Bearer token. Else read (and re-read when it changes) from the file
        named by ``$KF_PIPELINES_SA_TOKEN_PATH``; else none.
    namespace:
        Default namespace for listings (multi-user clusters).
    cookies:
        Session cookie(s) of an auth proxy: the raw ``Cookie`` header or a dict.
    headers, verify, timeout:
        Passed to httpx. The default timeout allows 120 s for slow listings.
        ``Authorization`` and ``Cookie`` given in ``headers`` are credentials
        like ``token`` / ``cookies``: kept out of reprs and logs.

    Credentials are checked when given (the token file when read): a line
    break, NUL or non-ASCII character is a ValueError that says where the
    credential came from and never shows it.
    transport:
        An ``httpx.BaseTransport`` (e.g. ``httpx.MockTransport``) for tests.
    retries, backoff:
        GET retries on connect failures and 502/503/504; ``backoff=0`` never waits.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        token: str | None = None,
        namespace: str | None = None,
        cookies: str | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        verify: Any = True,
        timeout: Any = _transport.DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        super().__init__(
            host,
            token=token,
            namespace=namespace,
            cookies=cookies,
            headers=headers,
            verify=verify,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
        self._http = _transport.build_http(
            self.host, transport=transport, **self._http_options
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Sending --------------------------------------------------------------

    def _send(self, call: _Call) -> httpx.Response:
        """Send with GET retries; an ambiguous action failure is re-checked."""
        request = self._build_request(self._http, call)
        for attempt in range(self._retry.retries + 1):
            last = attempt == self._retry.retries
            failure = None
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                _log_failure(request, exc)
                retry = call.idempotent and _connect_failure(exc) and not last
                if retry:
                    time.sleep(self._retry.delay(attempt))
                    continue
                failure = self._transport_error(call, exc)
            if failure is not None:
                # Raised outside the handler so no __context__ keeps the httpx
                # error, whose request holds the token and cookie headers.
                raise failure
            _transport.log_exchange(request, response.status_code)
            if call.action and response.status_code in _transport.AMBIGUOUS_STATUSES:
                # The gateway stopped waiting; the server may still have acted.
                raise self._confirm(call)
            if (
                call.idempotent
                and not last
                and (response.status_code in self._retry.RETRY_STATUSES)
            ):
                time.sleep(self._retry.delay(attempt, response))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _transport_error(self, call: _Call, exc: httpx.TransportError):
        if call.action and isinstance(exc, _AMBIGUOUS):
            return self._confirm(call)
        return _transport.map_transport_error(
            exc, host=self.host, endpoint=call.endpoint, credentials=self._credentials
        )

    def _confirm(self, call: _Call) -> _errors.KFPError | _Confirmed:
        try:
            seen: Any = self._request(
                self._get_run_call(call.run_id, view=None, experiment_id=None)
            )
        except _errors.NotFound:
            seen = None
        except _errors.KFPError as exc:
            return self._unconfirmed(call, exc)
        if _action_observed(call.action, seen):
            return _Confirmed(call)
        return self._unconfirmed(call, seen)

    def _request(self, call: _Call) -> Any:
        try:
            return self._body(call, self._send(call))
        except _Confirmed:
            return {}

    # Runs -----------------------------------------------------------------

    def create_run(
        self,
        run: Run | Mapping[str, Any] | None = None,
        *,
        display_name: str | None = None,
        pipeline_spec: Mapping[str, Any] | None = None,
        pipeline_version_reference: Any = None,
        parameters: Mapping[str, Any] | None = None,
        experiment_id: str | None = None,
        description: str | None = None,
    ) -> Run:
        """Create a run from a Run/dict, or from keywords; returns the new Run."""
        call = self._create_run_call(
            run,
            dict(
                display_name=display_name,
                pipeline_spec=pipeline_spec,
                pipeline_version_reference=pipeline_version_reference,
                parameters=parameters,
                experiment_id=experiment_id,
                description=description,
            ),
        )
        return self._model(Run, call, self._request(call), require="run_id")

    def get_run(
        self, run_id: str, *, view: str | None = None, experiment_id: str | None = None
    ) -> Run:
        """One run. ``view="FULL"`` asks servers with the tasks API for tasks."""
        call = self._get_run_call(run_id, view=view, experiment_id=experiment_id)
        return self._model(Run, call, self._request(call), require="run_id")

    def list_runs(
        self,
        *,
        namespace: str | None = None,
        experiment_id: str | None = None,
        page_token: str | None = None,
        page_size: int | None = None,
        sort_by: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        view: str | None = None,
    ) -> RunPage:
        """One page of runs (``runs``, ``total_size``, ``next_page_token``)."""
        call = self._list_runs_call(
            namespace=namespace,
            experiment_id=experiment_id,
            page_token=page_token,
            page_size=page_size,
            sort_by=sort_by,
            filter=_filter_text(filter),
            view=view,
        )
        return self._model(RunPage, call, self._request(call))

    def _action(self, action: str, run_id: str, experiment_id: str | None) -> None:
        call = self._action_call(action, run_id, experiment_id)
        self._object(call, self._request(call))

    def delete_run(self, run_id: str, *, experiment_id: str | None = None) -> None:
        """Delete a run (any state)."""
        self._action("delete", run_id, experiment_id)

    def archive_run(self, run_id: str, *, experiment_id: str | None = None) -> None:
        """Archive a run (any state; idempotent)."""
        self._action("archive", run_id, experiment_id)

    def unarchive_run(self, run_id: str, *, experiment_id: str | None = None) -> None:
        """Restore an archived run; refused while its experiment is archived."""
        self._action("unarchive", run_id, experiment_id)

    def terminate_run(self, run_id: str, *, experiment_id: str | None = None) -> None:
        """Terminate a PENDING/RUNNING/PAUSED run; it goes CANCELING at once."""
        self._action("terminate", run_id, experiment_id)

    def retry_run(self, run_id: str, *, experiment_id: str | None = None) -> None:
        """Re-run the failed tasks of a FAILED run."""
        self._action("retry", run_id, experiment_id)

    def read_artifact(
        self,
        run_id: str,
        node_id: str,
        artifact_name: str,
        *,
        max_bytes: int = _artifacts.DEFAULT_MAX_BYTES,
    ) -> bytes:
        """The artifact's bytes: base64-decoded; a one-file tar(.gz) is unpacked."""
        _check_count(max_bytes, "max_bytes")
        call = self._read_artifact_call(run_id, node_id, artifact_name)
        body = self._request(call)
        return self._artifact_bytes(call, body, artifact_name, max_bytes)

    # Tasks ----------------------------------------------------------------

    def create_task(self, task: Task | Mapping[str, Any]) -> Task:
        call = self._task_call("POST", None, task)
        return self._model(Task, call, self._request(call), require="task_id")

    def get_task(self, task_id: str) -> Task:
        call = self._task_call("GET", task_id)
        return self._model(Task, call, self._request(call), require="task_id")

    def update_task(self, task_id: str, task: Task | Mapping[str, Any]) -> Task:
        call = self._task_call("PATCH", task_id, task)
        return self._model(Task, call, self._request(call), require="task_id")

    def list_tasks(
        self,
        *,
        run_id: str | None = None,
        parent_id: str | None = None,
        namespace: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        order_by: str | None = None,
    ) -> TaskPage:
        """One page of tasks of a run, or of a parent task."""
        call = self._list_tasks_call(
            run_id=run_id,
            parent_id=parent_id,
            namespace=namespace,
            page_token=page_token,
            page_size=page_size,
            filter=_filter_text(filter),
            order_by=order_by,
        )
        return self._model(TaskPage, call, self._request(call))

    # Experiments and health -----------------------------------------------

    def get_experiment(self, experiment_id: str) -> Experiment:
        call = _Call(
            "GET",
            f"{API}/experiments/{_q(experiment_id, 'experiment_id')}",
            run_id=experiment_id,
            what="experiment",
        )
        return self._model(
            Experiment, call, self._request(call), require="experiment_id"
        )

    def list_experiments(
        self,
        *,
        namespace: str | None = None,
        page_token: str | None = None,
        page_size: int | None = None,
        sort_by: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
    ) -> ExperimentPage:
        call = self._list_experiments_call(
            namespace=namespace,
            page_token=page_token,
            page_size=page_size,
            sort_by=sort_by,
            filter=_filter_text(filter),
        )
        return self._model(ExperimentPage, call, self._request(call))

    def healthz(self) -> dict[str, Any]:
        """The server's health answer (``multi_user``, ``commit_sha``, ...)."""
        call = _Call("GET", f"{API}/healthz")
        return self._object(call, self._request(call))

    # Pages ----------------------------------------------------------------

    def _pages(
        self, make: _Maker, key: str, max_pages: int, *, keep_rows: bool = True
    ) -> Iterator[tuple[list[dict[str, Any]], _Pager]]:
        """Raw pages of a listing; every page re-sends the same filter and sort."""
        call = make(None, True)
        pager = _Pager(call.endpoint, key, max_pages, keep=keep_rows)
        while True:
            try:
                body = self._object(call, self._request(call))
            except _errors.KFPError as exc:
                if pager.retry_bare(exc):
                    call = make(pager.token, False)
                    continue
                if not pager.pages:
                    raise
                raise pager.failed(exc) from exc
            items = pager.take(body)
            yield items, pager
            if pager.token is None:
                return
            call = make(pager.token, not pager.bare)

    def iter_runs(
        self,
        *,
        namespace: str | None = None,
        experiment_id: str | None = None,
        sort_by: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        page_size: int = 200,
        view: str | None = None,
        max_pages: int = _MAX_PAGES,
    ) -> Iterator[Run]:
        """Every run of a listing, following pages to the end."""
        pages = self._run_pages(
            namespace=namespace,
            experiment_id=experiment_id,
            sort_by=sort_by,
            filter=filter,
            page_size=page_size,
            view=view,
            max_pages=max_pages,
        )
        call = _Call("GET", f"{API}/runs")
        for items, _ in pages:
            for item in items:
                yield self._model(Run, call, item)

    def iter_tasks(
        self,
        *,
        run_id: str | None = None,
        parent_id: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        order_by: str | None = None,
        page_size: int = 200,
        max_pages: int = _MAX_PAGES,
    ) -> Iterator[Task]:
        """Every task of a run (or parent task), following pages to the end."""
        pages = self._task_pages(
            run_id=run_id,
            parent_id=parent_id,
            filter=filter,
            order_by=order_by,
            page_size=page_size,
            max_pages=max_pages,
        )
        call = _Call("GET", f"{API}/tasks")
        for items, _ in pages:
            for item in items:
                yield self._model(Task, call, item)

    # Waiting --------------------------------------------------------------

    def wait(
        self,
        run_ids: str | Iterable[str],
        *,
        timeout: float = 3600.0,
        poll_interval: float = 5.0,
    ) -> Run | list[Run]:
        """Poll until every run is final; the final Run (or list, in order).

        Final means SUCCEEDED, FAILED, CANCELED or SKIPPED. Raises WaitTimeout
        naming each unfinished run's last state after ``timeout`` seconds.
        """
        single, ids = _wait_ids(run_ids)
        _check_seconds(timeout, "timeout")
        poll_interval = _check_seconds(poll_interval, "poll_interval")
        deadline = time.monotonic() + timeout
        done: dict[str, Run] = {}
        last: dict[str, str | None] = dict.fromkeys(ids)
        while True:
            for rid in (r for r in ids if r not in done):
                run = self.get_run(rid)
                last[rid] = run.state
                _note_state(run.state)
                if run.is_final:
                    done[rid] = run
            if len(done) == len(ids):
                return done[ids[0]] if single else [done[r] for r in ids]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pending = [r for r in ids if r not in done]
                raise _errors.WaitTimeout(
                    _timeout_message(pending, last, timeout),
                    last_states={r: last[r] for r in pending},
                )
            time.sleep(min(poll_interval, remaining))

    # DataFrames -----------------------------------------------------------

    def experiment_names(self, *, namespace: str | None = None) -> dict[str, str]:
        """experiment_id → display name, from one listing cached for 30 s."""
        cached = self._cached_names(namespace)
        if cached is not None:
            return cached

        try:
            pages = self._experiment_pages(namespace)
            rows = [e for items, _ in pages for e in items]
        except _errors.KFPError as exc:
            logger.warning("experiment names unavailable: %s", exc)
            return {}
        return self._store_names(namespace, rows)

    def runs(
        self,
        *,
        experiment_id: str | None = None,
        namespace: str | None = None,
        state: str | Iterable[str] | None = None,
        name_contains: str | None = None,
        created_after: Any = None,
        created_before: Any = None,
        archived: bool | None = False,
        filter: Mapping[str, Any] | str | None = None,
        sort_by: str | None = "created_at desc",
        limit: int | None = None,
        page_size: int = 200,
        progress: bool | None = None,
        metrics: bool = False,
    ) -> pandas.DataFrame:
        """Runs as a DataFrame (see ``kfp_nb._frames.runs_frame`` for columns).

        Keyword filters are compiled to KFP filter predicates and ANDed with a
        raw ``filter``; ``archived=False`` (default) hides archived runs, True
        shows only them, None both.

        ``name_contains`` is a substring of ``display_name``. The server
        matches it with SQL ``LIKE '%text%'``, where ``_`` stands for any one
        character and ``%`` for any text, and (on MySQL, and in SQLite for
        ASCII) ignores case. When the text holds ``_`` or ``%``, kfp_nb drops
        the runs whose name does not contain it literally (ignoring case), so
        the result is exact; a raw ``filter`` with IS_SUBSTRING is sent as is.

        ``limit`` caps the rows (None: all); ``progress=None`` shows a bar only
        when more than one page must be read. A time the frame cannot hold
        (such as ``9999-12-31``) becomes NaT with an ``UnparsedValueWarning``;
        the raw value is in ``df.attrs["unparsed"]``.

        ``metrics=True`` adds ``metric.<name>`` columns from each run's Metric
        artifacts, listing every run's tasks concurrently (see
        :mod:`kfp_nb._metrics_frame` for the naming rule); False makes no
        extra call. The frame knows its client, for ``frame.kfp`` actions.

        Pages are turned into columns as they arrive (their dicts are not
        kept), so if paging fails midway the ``PaginationError.rows`` are the
        runs read so far as frame rows (``{column: value}``). A server that
        sends a run on two pages, or ends the listing short of the unchanged
        ``total_size`` of its pages, gets one ``PaginationWarning`` (the rows
        are all kept); :meth:`iter_runs` and :meth:`tasks` check the same.
        """
        from . import _accessor, _frames, _metrics_frame

        text = self._runs_filter(
            state=state,
            name_contains=name_contains,
            created_after=created_after,
            created_before=created_before,
            archived=archived,
            filter=filter,
        )
        limit = _check_count(limit, "limit", none_means="no limit")
        page_size = _check_count(page_size, "page_size")
        size = min(page_size, limit) if limit else page_size
        pages = self._run_pages(
            namespace=namespace,
            experiment_id=experiment_id,
            sort_by=sort_by,
            filter=text,
            page_size=size,
            view=None,
            max_pages=_MAX_PAGES,
            keep_rows=False,
        )
        bar = _Progress(progress, limit=limit, desc="runs")
        columns = _frames.RunColumns()
        _collect(pages, limit, bar, keep=_name_match(name_contains), into=columns)
        columns.experiment_names = self.experiment_names(namespace=namespace)
        frame = columns.frame()
        if metrics:
            frame = _metrics_frame.add_metrics(self, frame, progress=progress)
        return _accessor.remember(self, frame)

    def tasks(
        self, run_id: str | None = None, *, parent_id: str | None = None
    ) -> pandas.DataFrame:
        """Tasks of a run (or of a parent task) as a DataFrame.

        On a server without the tasks API (404/501 on /tasks) the run's
        ``run_details.task_details`` are used instead. An unreadable time
        becomes NaT with an ``UnparsedValueWarning`` (raw value in
        ``df.attrs["unparsed"]``).
        """
        from . import _frames

        pages = self._task_pages(
            run_id=run_id,
            parent_id=parent_id,
            filter=None,
            order_by=None,
            page_size=200,
            max_pages=_MAX_PAGES,
            keep_rows=False,
        )
        columns = _frames.TaskColumns()
        bar = _Progress(False, limit=None, desc="tasks")
        try:
            _collect(pages, None, bar, into=columns)
        except (_errors.NotFound, _errors.Unimplemented):
            if not run_id:
                raise
            call = self._get_run_call(run_id, view="FULL", experiment_id=None)
            body = self._object(call, self._request(call))
            columns.extend(self._fallback_tasks(body, run_id))
        if not len(columns) and run_id:
            self._check_run(run_id)
        return columns.frame()

    def _check_run(self, run_id: str) -> None:
        """NotFound when the run does not exist: ListTasks of a wrong id is empty."""
        self._request(self._get_run_call(run_id, view=None, experiment_id=None))

    # Artifacts --------------------------------------------------------------

    def _run_task_dicts(self, run_id: str) -> list[dict[str, Any]]:
        """Every task of a run as wire JSON (tasks API, else the run's own)."""
        pages = self._task_pages(
            run_id=run_id, parent_id=None, filter=None, order_by=None,
            page_size=200, max_pages=_MAX_PAGES,
        )  # fmt: skip
        try:
            rows = _collect(pages, None, _Progress(False, limit=None, desc="tasks"))
        except (_errors.NotFound, _errors.Unimplemented):
            call = self._get_run_call(run_id, view="FULL", experiment_id=None)
            return self._fallback_tasks(self._object(call, self._request(call)), run_id)
        if not rows:
            self._check_run(run_id)
        return rows

    def _read_artifact_scan(
        self, run_id: str, node_id: str, name: str, *, max_bytes: int
    ) -> _artifacts.PayloadScan:
        call = self._read_artifact_call(run_id, node_id, name)
        return self._artifact_scan(call, self._request(call), name, max_bytes)

    def artifacts(self, run_id: str) -> pandas.DataFrame:
        """Every output artifact of the run's tasks, one row each.

        Columns: task_id, task_name, task_path (``tune-forest.fit``: names repeat
        across sub-DAGs), output_key, name, type, uri, number_value, metadata (a
        dict, ML Metadata wrappers removed), artifact_id, run_id.
        """
        from . import _artifact

        self._artifact_args(run_id, "-", "-")
        return _artifact.artifacts_frame(self._run_task_dicts(run_id), run_id)

    def artifact(self, run_id: str, task_id: str, name: str) -> Artifact:
        """One output of a task as an :class:`~kfp_nb.Artifact` (file read lazily).

        ``task_id`` may also be a unique task name; ``name`` an output key (all
        of a Metric output's metrics) or an artifact name — see
        :mod:`kfp_nb._artifact`.
        """
        from . import _artifact, _viewspec

        self._artifact_args(run_id, task_id, name)
        tasks = self._run_task_dicts(run_id)
        task, key, rows = _artifact.find_artifact(tasks, run_id, task_id, name)
        node = _artifact.node_id(task)

        def load() -> _artifacts.PayloadScan:
            cap = _viewspec.options.fetch_max_bytes
            return self._read_artifact_scan(run_id, node, key, max_bytes=cap)

        return _artifact.Artifact._from_rows(
            self, run_id, task, key, rows, name=name, loader=load
        )

    # Snapshots --------------------------------------------------------------

    def snapshot(
        self,
        path: str | os.PathLike[str],
        frame_or_filters: Any = None,
        *,
        max_artifact_bytes: int = _snapshot.DEFAULT_MAX_ARTIFACT_BYTES,
        progress: bool | None = None,
    ) -> dict[str, Any]:
        """Write runs, their experiments, tasks and artifacts to one local file.

        ``frame_or_filters``: a runs DataFrame (its ``run_id`` column), a dict
        of :meth:`runs` keyword filters, a list of run ids, or None for every
        run (archived ones too). Each artifact payload over
        ``max_artifact_bytes`` is recorded by size only. No credential is
        written. Returns the manifest (counts, source host, selection). Serve
        the file with ``kfp-nb serve --from-snapshot PATH``; the format is
        described in :mod:`kfp_nb._snapshot`. A run captured while active stays
        active when replayed, so ``wait()`` on it there runs out its timeout.
        """
        return _snapshot.write_snapshot(
            self, path, frame_or_filters,
            max_artifact_bytes=max_artifact_bytes, progress=progress,
        )  # fmt: skip


def _collect(
    pages: Iterable[tuple[list[dict], _Pager]],
    limit: int | None,
    progress: _Progress,
    *,
    keep: Callable[[dict], bool] | None = None,
    into: Any = None,
) -> Any:
    """Rows of every page (those ``keep`` accepts), up to ``limit``.

    ``into``: a ``_frames`` column accumulator to fill instead of a list.
    """
    rows: Any = [] if into is None else into
    try:
        for items, pager in pages:
            _take(rows, items, pager, limit, progress, keep)
            if limit is not None and len(rows) >= limit:
                return rows
    except _errors.PaginationError as exc:
        if into is not None:
            _frame_rows(exc, into)
        raise
    finally:
        progress.close()
    return rows
