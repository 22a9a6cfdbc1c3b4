"""What the panels read from the server, as raw wire JSON (no models per row).

The client's bulk listings stay on dicts (``Client._run_pages``); the panels
page through them one page at a time so rows reach the view progressively.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from .. import _errors, _frames
from .._client import Client

__all__ = ["ARCHIVED_VIEWS", "fetch_detail", "get_runs", "list_pages", "short_error"]

#: ``archived`` trait value → ``client.runs(archived=...)``.
ARCHIVED_VIEWS: dict[str, bool | None] = {
    "active": False,
    "archived": True,
    "all": None,
}
#: Concurrent HTTP calls of one panel (actions, polls, re-reads).
MAX_CALLS = 8
_MISSING = object()


#: Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def short_error(exc: BaseException) -> str:
    """The server's short message for an API error, else the exception text.

    A message quotes ids and names from the request ("Run <id> not found"): a
    right-to-left override in one would reverse the words after it, so bidi
    controls are shown as ``\\u202e`` escapes.
    """
    if isinstance(exc, _errors.APIError) and exc.message:
        message = exc.message
    else:
        message = str(exc) or type(exc).__name__
    return _BIDI_CONTROLS.sub(lambda m: f"\\u{ord(m.group(0)):04x}", message)


def list_pages(
    client: Client, filters: dict[str, Any], *, page_size: int
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """``(raw runs of one page, total_size)`` for the filters ``client.runs`` takes."""
    text = client._runs_filter(
        state=filters.get("state"),
        name_contains=filters.get("name_contains"),
        created_after=filters.get("created_after"),
        created_before=filters.get("created_before"),
        archived=filters.get("archived"),
        filter=filters.get("filter"),
    )
    limit = filters.get("limit")
    pages = client._run_pages(
        namespace=filters.get("namespace"),
        experiment_id=filters.get("experiment_id"),
        sort_by=filters.get("sort_by"),
        filter=text,
        page_size=min(page_size, limit) if limit else page_size,
        view=None,
        max_pages=100_000,
    )
    seen = 0
    for items, pager in pages:
        total = min(pager.total, limit) if limit else pager.total
        if limit is not None and seen + len(items) >= limit:
            yield items[: limit - seen], total
            return
        seen += len(items)
        yield items, total


def get_run_raw(client: Client, run_id: str) -> dict[str, Any] | None:
    """One run's wire JSON; None when the server no longer has it."""
    call = client._get_run_call(run_id, view=None, experiment_id=None)
    try:
        return client._object(call, client._request(call))
    except _errors.NotFound:
        return None


def get_runs(
    client: Client, run_ids: Iterable[str]
) -> tuple[dict[str, dict[str, Any] | None], dict[str, str]]:
    """Re-read runs concurrently: ``({id: wire JSON or None if gone}, {id: error})``."""
    ids = list(dict.fromkeys(run_ids))
    found: dict[str, dict[str, Any] | None] = {}
    failed: dict[str, str] = {}
    if not ids:
        return found, failed

    def one(run_id: str) -> tuple[str, Any]:
        try:
            return run_id, get_run_raw(client, run_id)
        except Exception as exc:  # noqa: BLE001 - reported per run, never raised
            return run_id, exc

    with ThreadPoolExecutor(min(MAX_CALLS, len(ids)), "kfp_nb-get") as pool:
        for run_id, result in pool.map(one, ids):
            if isinstance(result, BaseException):
                failed[run_id] = short_error(result)
            else:
                found[run_id] = result
    return found, failed


def to_frame(client: Client, runs: list[dict[str, Any]], namespace: str | None):
    """Wire runs → a runs frame with experiment names (cached by the client)."""
    names = client.experiment_names(namespace=namespace) if runs else {}
    return _frames.runs_frame(runs, experiment_names=names)


def fetch_detail(client: Client, run_id: str) -> tuple[dict[str, Any], list[dict]]:
    """A run's wire JSON and every task of it (tasks API, else the run's own)."""
    call = client._get_run_call(run_id, view=None, experiment_id=None)
    run = client._object(call, client._request(call))
    pages = client._task_pages(
        run_id=run_id,
        parent_id=None,
        filter=None,
        order_by=None,
        page_size=200,
        max_pages=100_000,
    )
    try:
        tasks = [task for items, _ in pages for task in items]
    except (_errors.NotFound, _errors.Unimplemented):
        tasks = client._fallback_tasks(run, run_id)
    return run, tasks


def run_concurrently(
    work: Callable[[str], Any], run_ids: list[str], *, done: Callable[[str, Any], None]
) -> None:
    """Call ``work(id)`` for each id on a bounded pool; ``done(id, result)`` as each ends."""
    if not run_ids:
        return
    with ThreadPoolExecutor(min(MAX_CALLS, len(run_ids)), "kfp_nb-act") as pool:
        futures = {pool.submit(work, run_id): run_id for run_id in run_ids}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            done(futures[future], future.result())


def frame_ids(frame: pd.DataFrame) -> list[str]:
    if frame.empty or "run_id" not in frame.columns:
        return []
    return [str(v) for v in frame["run_id"].dropna().tolist()]
