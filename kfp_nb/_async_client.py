"""``AsyncClient``: the asyncio twin of ``Client``, method for method."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from . import _artifacts, _errors, _transport
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

__all__ = ["AsyncClient"]


class AsyncClient(_BaseClient):
    """The asyncio twin of :class:`Client`: same methods, awaited.

    Iterators are async (``async for run in client.iter_runs()``); close with
    ``await client.aclose()`` or use ``async with``. ``transport`` takes an
    ``httpx.AsyncBaseTransport``.
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
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._http = _transport.build_async_http(
            self.host, transport=transport, **self._http_options
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, call: _Call) -> httpx.Response:
        request = self._build_request(self._http, call)
        for attempt in range(self._retry.retries + 1):
            last = attempt == self._retry.retries
            failure = None
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                _log_failure(request, exc)
                if call.idempotent and _connect_failure(exc) and not last:
                    await asyncio.sleep(self._retry.delay(attempt))
                    continue
                failure = await self._transport_error(call, exc)
            if failure is not None:
                # Raised outside the handler so no __context__ keeps the httpx
                # error, whose request holds the token and cookie headers.
                raise failure
            _transport.log_exchange(request, response.status_code)
            if call.action and response.status_code in _transport.AMBIGUOUS_STATUSES:
                # The gateway stopped waiting; the server may still have acted.
                raise await self._confirm(call)
            if (
                call.idempotent
                and not last
                and (response.status_code in self._retry.RETRY_STATUSES)
            ):
                await asyncio.sleep(self._retry.delay(attempt, response))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _transport_error(self, call: _Call, exc: httpx.TransportError):
        if call.action and isinstance(exc, _AMBIGUOUS):
            return await self._confirm(call)
        return _transport.map_transport_error(
            exc, host=self.host, endpoint=call.endpoint, credentials=self._credentials
        )

    async def _confirm(self, call: _Call) -> _errors.KFPError:
        probe = self._get_run_call(call.run_id, view=None, experiment_id=None)
        try:
            seen: Any = await self._request(probe)
        except _errors.NotFound:
            seen = None
        except _errors.KFPError as exc:
            return self._unconfirmed(call, exc)
        if _action_observed(call.action, seen):
            return _Confirmed(call)
        return self._unconfirmed(call, seen)

    async def _request(self, call: _Call) -> Any:
        try:
            return self._body(call, await self._send(call))
        except _Confirmed:
            return {}

    # Runs -----------------------------------------------------------------

    async def create_run(
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
        return self._model(Run, call, await self._request(call), require="run_id")

    async def get_run(
        self, run_id: str, *, view: str | None = None, experiment_id: str | None = None
    ) -> Run:
        call = self._get_run_call(run_id, view=view, experiment_id=experiment_id)
        return self._model(Run, call, await self._request(call), require="run_id")

    async def list_runs(
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
        call = self._list_runs_call(
            namespace=namespace,
            experiment_id=experiment_id,
            page_token=page_token,
            page_size=page_size,
            sort_by=sort_by,
            filter=_filter_text(filter),
            view=view,
        )
        return self._model(RunPage, call, await self._request(call))

    async def _action(self, action: str, run_id: str, experiment_id: str | None):
        call = self._action_call(action, run_id, experiment_id)
        self._object(call, await self._request(call))

    async def delete_run(self, run_id: str, *, experiment_id: str | None = None):
        await self._action("delete", run_id, experiment_id)

    async def archive_run(self, run_id: str, *, experiment_id: str | None = None):
        await self._action("archive", run_id, experiment_id)

    async def unarchive_run(self, run_id: str, *, experiment_id: str | None = None):
        await self._action("unarchive", run_id, experiment_id)

    async def terminate_run(self, run_id: str, *, experiment_id: str | None = None):
        await self._action("terminate", run_id, experiment_id)

    async def retry_run(self, run_id: str, *, experiment_id: str | None = None):
        await self._action("retry", run_id, experiment_id)

    async def read_artifact(
        self,
        run_id: str,
        node_id: str,
        artifact_name: str,
        *,
        max_bytes: int = _artifacts.DEFAULT_MAX_BYTES,
    ) -> bytes:
        _check_count(max_bytes, "max_bytes")
        call = self._read_artifact_call(run_id, node_id, artifact_name)
        body = await self._request(call)
        return self._artifact_bytes(call, body, artifact_name, max_bytes)

    # Tasks, experiments, health -------------------------------------------

    async def create_task(self, task: Task | Mapping[str, Any]) -> Task:
        call = self._task_call("POST", None, task)
        return self._model(Task, call, await self._request(call), require="task_id")

    async def get_task(self, task_id: str) -> Task:
        call = self._task_call("GET", task_id)
        return self._model(Task, call, await self._request(call), require="task_id")

    async def update_task(self, task_id: str, task: Task | Mapping[str, Any]) -> Task:
        call = self._task_call("PATCH", task_id, task)
        return self._model(Task, call, await self._request(call), require="task_id")

    async def list_tasks(
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
        call = self._list_tasks_call(
            run_id=run_id,
            parent_id=parent_id,
            namespace=namespace,
            page_token=page_token,
            page_size=page_size,
            filter=_filter_text(filter),
            order_by=order_by,
        )
        return self._model(TaskPage, call, await self._request(call))

    async def get_experiment(self, experiment_id: str) -> Experiment:
        call = _Call(
            "GET",
            f"{API}/experiments/{_q(experiment_id, 'experiment_id')}",
            run_id=experiment_id,
            what="experiment",
        )
        return self._model(
            Experiment, call, await self._request(call), require="experiment_id"
        )

    async def list_experiments(
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
        return self._model(ExperimentPage, call, await self._request(call))

    async def healthz(self) -> dict[str, Any]:
        call = _Call("GET", f"{API}/healthz")
        return self._object(call, await self._request(call))

    # Pages ----------------------------------------------------------------

    async def _pages(
        self,
        make: Callable[[str | None, bool], _Call],
        key: str,
        max_pages: int,
        *,
        keep_rows: bool = True,
    ) -> AsyncIterator[tuple[list[dict[str, Any]], _Pager]]:
        call = make(None, True)
        pager = _Pager(call.endpoint, key, max_pages, keep=keep_rows)
        while True:
            try:
                body = self._object(call, await self._request(call))
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

    async def iter_runs(
        self,
        *,
        namespace: str | None = None,
        experiment_id: str | None = None,
        sort_by: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        page_size: int = 200,
        view: str | None = None,
        max_pages: int = _MAX_PAGES,
    ) -> AsyncIterator[Run]:
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
        async for items, _ in pages:
            for item in items:
                yield self._model(Run, call, item)

    async def iter_tasks(
        self,
        *,
        run_id: str | None = None,
        parent_id: str | None = None,
        filter: Mapping[str, Any] | str | None = None,
        order_by: str | None = None,
        page_size: int = 200,
        max_pages: int = _MAX_PAGES,
    ) -> AsyncIterator[Task]:
        pages = self._task_pages(
            run_id=run_id,
            parent_id=parent_id,
            filter=filter,
            order_by=order_by,
            page_size=page_size,
            max_pages=max_pages,
        )
        call = _Call("GET", f"{API}/tasks")
        async for items, _ in pages:
            for item in items:
                yield self._model(Task, call, item)

    async def wait(
        self,
        run_ids: str | Iterable[str],
        *,
        timeout: float = 3600.0,
        poll_interval: float = 5.0,
    ) -> Run | list[Run]:
        single, ids = _wait_ids(run_ids)
        _check_seconds(timeout, "timeout")
        poll_interval = _check_seconds(poll_interval, "poll_interval")
        deadline = time.monotonic() + timeout
        done: dict[str, Run] = {}
        last: dict[str, str | None] = dict.fromkeys(ids)
        while True:
            for rid in [r for r in ids if r not in done]:
                run = await self.get_run(rid)
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
            await asyncio.sleep(min(poll_interval, remaining))

    # DataFrames -----------------------------------------------------------

    async def experiment_names(self, *, namespace: str | None = None):
        cached = self._cached_names(namespace)
        if cached is not None:
            return cached

        rows: list[dict[str, Any]] = []
        try:
            async for items, _ in self._experiment_pages(namespace):
                rows.extend(items)
        except _errors.KFPError as exc:
            logger.warning("experiment names unavailable: %s", exc)
            return {}
        return self._store_names(namespace, rows)

    async def runs(
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
        """Runs as a DataFrame; the same filters and rules as :meth:`Client.runs`."""
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
        keep = _name_match(name_contains)
        await _acollect(pages, limit, bar, keep=keep, into=columns)
        columns.experiment_names = await self.experiment_names(namespace=namespace)
        frame = columns.frame()
        if metrics:
            frame = await _metrics_frame.add_metrics_async(
                self, frame, progress=progress
            )
        return _accessor.remember(self, frame)

    async def tasks(
        self, run_id: str | None = None, *, parent_id: str | None = None
    ) -> pandas.DataFrame:
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
            await _acollect(pages, None, bar, into=columns)
        except (_errors.NotFound, _errors.Unimplemented):
            if not run_id:
                raise
            call = self._get_run_call(run_id, view="FULL", experiment_id=None)
            body = self._object(call, await self._request(call))
            columns.extend(self._fallback_tasks(body, run_id))
        if not len(columns) and run_id:
            await self._check_run(run_id)
        return columns.frame()

    async def _check_run(self, run_id: str) -> None:
        """NotFound when the run does not exist: ListTasks of a wrong id is empty."""
        call = self._get_run_call(run_id, view=None, experiment_id=None)
        await self._request(call)

    # Artifacts --------------------------------------------------------------

    async def _run_task_dicts(self, run_id: str) -> list[dict[str, Any]]:
        pages = self._task_pages(
            run_id=run_id, parent_id=None, filter=None, order_by=None,
            page_size=200, max_pages=_MAX_PAGES,
        )  # fmt: skip
        try:
            rows = await _acollect(
                pages, None, _Progress(False, limit=None, desc="tasks")
            )
        except (_errors.NotFound, _errors.Unimplemented):
            call = self._get_run_call(run_id, view="FULL", experiment_id=None)
            body = self._object(call, await self._request(call))
            return self._fallback_tasks(body, run_id)
        if not rows:
            await self._check_run(run_id)
        return rows

    async def artifacts(self, run_id: str) -> pandas.DataFrame:
        """Every output artifact of the run's tasks (see ``Client.artifacts``)."""
        from . import _artifact

        self._artifact_args(run_id, "-", "-")
        return _artifact.artifacts_frame(await self._run_task_dicts(run_id), run_id)

    async def artifact(self, run_id: str, task_id: str, name: str) -> Artifact:
        """One output as an ``Artifact``; its file is read now (``data`` cannot
        await later). A failed read is raised by ``data`` and shown by the viewer.
        """
        from . import _artifact, _viewspec

        self._artifact_args(run_id, task_id, name)
        tasks = await self._run_task_dicts(run_id)
        task, key, rows = _artifact.find_artifact(tasks, run_id, task_id, name)
        art = _artifact.Artifact._from_rows(
            self, run_id, task, key, rows, name=name, loader=lambda: None
        )
        if art.has_file:
            call = self._read_artifact_call(run_id, _artifact.node_id(task), key)
            cap = _viewspec.options.fetch_max_bytes
            try:
                art._scan = self._artifact_scan(
                    call, await self._request(call), key, cap
                )
            except _errors.KFPError as exc:
                art._load_error = exc
        return art

    async def snapshot(self, path: Any, frame_or_filters: Any = None, **_: Any) -> Any:
        """Not available on the async client: snapshots use ``Client.snapshot``."""
        # Limitation: no async snapshot — it is a one-off bulk export, where a
        # blocking call in a worker thread serves as well as a second code path.
        raise NotImplementedError(
            "AsyncClient.snapshot is not available; use the synchronous client, "
            "e.g. `await asyncio.to_thread(kfp_nb.Client(host, token=...).snapshot,"
            " path, frame_or_filters)`"
        )


async def _acollect(
    pages: AsyncIterator[tuple[list[dict], _Pager]],
    limit: int | None,
    progress: _Progress,
    *,
    keep: Callable[[dict], bool] | None = None,
    into: Any = None,
) -> Any:
    """Rows of every page, up to ``limit``, into a list or ``into`` (columns)."""
    rows: Any = [] if into is None else into
    try:
        async for items, pager in pages:
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
