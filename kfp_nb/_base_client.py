"""Request building and response parsing shared by ``Client`` and ``AsyncClient``.

Everything here is pure: a method returns a :class:`_Call` describing the request, or
turns a response body into models. The sync and async shells in ``_client.py`` and
``_async_client.py`` only send, sleep and loop.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from . import _artifacts, _errors, _states, _transport
from ._filters import _user_stacklevel, check_unicode
from ._models import (
    PipelineVersionReference,
    to_wire,
)
from ._warnings import PaginationWarning

__all__: list[str] = []

logger = logging.getLogger("kfp_nb")

API = "/apis/v2beta1"
M = TypeVar("M", bound=BaseModel)
#: ``httpx`` failures after which a POST/DELETE may or may not have been applied.
_AMBIGUOUS = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
_NAMES_TTL = 30.0
#: Run fields the server sets; left out when a Run model is sent to create_run.
_SERVER_OWNED = frozenset(
    {
        "run_id",
        "created_at",
        "scheduled_at",
        "finished_at",
        "state",
        "error",
        "state_history",
        "run_details",
        "storage_state",
        "task_count",
        "tasks",
        "plugins_output",
    }
)
#: Builds a listing request from a page token; ``full`` adds filter and sort.
_Maker = Callable[[str | None, bool], "_Call"]
_MAX_PAGES = 100_000
#: httpx refuses a URL component longer than this (httpx._urlparse).
_MAX_URL_PART = 65_536


def _q(segment: str, argument: str = "id") -> str:
    """A percent-quoted path segment; an empty id is a caller error."""
    return quote(_require_id(segment, argument), safe="")


def _require_id(value: Any, argument: str) -> str:
    """``value`` when it is a usable id; empty or blank is a ValueError.

    An empty id must never fall back to "every run" (a dropped query value)
    or to another endpoint (an empty path segment).
    """
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be an id string, not {value!r}")
    if not value.strip():
        raise ValueError(f"{argument} must be a non-empty id, got {value!r}")
    return check_unicode(value, argument)


def _optional_id(value: Any, argument: str) -> str | None:
    return None if value is None else _require_id(value, argument)


def _filter_text(value: Any) -> str | None:
    """The ``filter`` query value: compact JSON, percent-encoded once, built once.

    The server percent-decodes ``filter`` once more after the usual query
    decoding (SEMANTICS.md §13.6), so JSON text is quoted here and again by
    httpx; that keeps ``+``, ``%`` and non-ASCII text intact. Text that is
    already quoted (no ``{``) is sent as it is.
    """
    if value is None or value == {}:
        return None
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    )
    check_unicode(text, "filter")
    return quote(text, safe="") if text.lstrip().startswith("{") else text


_CREATE_HINT = (
    "create_run needs display_name= and a pipeline: pipeline_spec= (the "
    "compiled pipeline) or pipeline_version_reference= (an uploaded version)."
)
#: Statuses a server uses to refuse an action in the run's current state.
_REFUSED = frozenset({400, 409, 412})


def _action_hint(action: str, run_id: str) -> str:
    """Which run states allow ``action``, from the state rules (nothing fetched)."""
    allowed = _states.rules_payload()["actions"].get(action)
    if action == "unarchive":
        return (
            "A run cannot be restored while its experiment is archived: "
            "unarchive the experiment first."
        )
    if not allowed or set(allowed) >= set(_states.RUN_STATES):
        return ""
    known = [s for s in _states.RUN_STATES if s != _states.UNSPECIFIED]
    named = [s for s in known if s in allowed]
    others = [s for s in known if s not in allowed]
    return (
        f"Only {'/'.join(named)} runs can be {_PAST.get(action, action)}; a run "
        f"that is {'/'.join(others)} cannot. Check get_run({run_id!r}).state."
    )


_PAST = {"terminate": "terminated", "retry": "retried"}


def _url_problem(call: _Call, problem: str) -> str:
    """Why httpx refused the URL of ``call``: usually a filter that is too long."""
    size = len(str(call.params.get("filter") or ""))
    if "too long" in problem and size:
        return (
            f"{call.endpoint}: the filter is too long to send ({size} characters "
            f"once encoded; httpx allows {_MAX_URL_PART} per URL part); shorten "
            "name_contains / the state list / the raw filter"
        )
    return f"{call.endpoint}: httpx refused the request URL ({problem})"


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


class ClientClosed(_errors.KFPError, RuntimeError):
    """A call on a client after ``close()``: its connections are gone."""


@dataclass(frozen=True)
class _Call:
    """One request: what to send, and what to say about it when it fails."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    run_id: str | None = None
    what: str = "run"
    action: str | None = None
    #: Advice for this endpoint, used instead of the generic hint when the
    #: answer's status is in ``hint_on``.
    hint: str = ""
    hint_on: frozenset[int] = frozenset()

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def idempotent(self) -> bool:
        return self.method == "GET"


def _action_observed(action: str, run: dict[str, Any] | None) -> bool:
    """Whether a GET of the run (None: 404) shows that ``action`` took effect."""
    if action == "delete":
        return run is None
    if run is None:
        return False
    state, storage = run.get("state"), run.get("storage_state")
    if action == "archive":
        return storage == "ARCHIVED"
    if action == "unarchive":
        return storage != "ARCHIVED"
    if action == "terminate":
        return state == "CANCELING" or _states.is_final(state)
    if action == "retry":
        return state in ("PENDING", "RUNNING")
    return False


@dataclass
class _Pager:
    """Page-following state shared by the sync and async iterators."""

    endpoint: str
    key: str
    max_pages: int
    pages: int = 0
    rows: list[Any] = field(default_factory=list)
    token: str | None = None
    seen: set[str] = field(default_factory=set)
    total: int = 0

    bare: bool = False
    #: False for bulk frames: their rows live in column chunks, not here.
    keep: bool = True
    count: int = 0
    #: The first page's total_size (0: not sent), and the ids read so far.
    first_total: int = 0
    ids: set[str] = field(default_factory=set)
    repeats: int = 0
    repeated: list[str] = field(default_factory=list)
    checked: bool = False

    def retry_bare(self, exc: Exception) -> bool:
        """Whether to re-ask this page with the token alone (once per listing).

        The real server compares the filter inside the token with the one sent
        after a JSON round trip, so a filter with numbers can be called different
        from itself (SEMANTICS.md §5); the token alone carries it anyway.
        """
        if self.pages and not self.bare and _token_mismatch(exc):
            self.bare = True
            return True
        return False

    def unread(self, items: list[Any]) -> list[Any]:
        """The rows a PaginationError carries: all, or (not kept) this page's."""
        return self.rows if self.keep else list(items)

    def failed(self, exc: _errors.KFPError) -> _errors.PaginationError:
        return _errors.PaginationError(
            f"{self.endpoint}: page {self.pages + 1} failed after {self.pages} "
            f"page(s) and {self.count} row(s) were read ({exc}); the rows "
            "read so far are in .rows",
            pages=self.pages,
            rows=self.rows,
        )

    def take(self, body: dict[str, Any]) -> list[Any]:
        """Record a page; set ``token`` to the next one (None at the end)."""
        items = body.get(self.key) or []
        if not isinstance(items, list):
            raise _errors.ResponseFormatError(
                f"{self.endpoint}: {self.key!r} is not a list in the response"
            )
        self.pages += 1
        self.count += len(items)
        if self.keep:
            self.rows.extend(items)
        self.total = int(body.get("total_size") or 0)
        if self.pages == 1:
            self.first_total = self.total
        self._note_ids(items)
        token = body.get("next_page_token") or None
        if token is not None and (token in self.seen or token == self.token):
            raise _errors.PaginationError(
                f"{self.endpoint}: the server returned page token {token!r} "
                f"again after {self.pages} page(s) and {self.count} row(s); "
                "stopping instead of looping. The rows read are in .rows",
                pages=self.pages,
                rows=self.unread(items),
            )
        if token is not None and self.pages >= self.max_pages:
            raise _errors.PaginationError(
                f"{self.endpoint}: stopped after max_pages={self.max_pages} pages "
                f"({self.count} rows); narrow the listing or raise max_pages",
                pages=self.pages,
                rows=self.unread(items),
            )
        if token is not None:
            self.seen.add(token)
        self.token = token
        if token is None:
            self.check(complete=True)
        return items

    def _note_ids(self, items: list[Any]) -> None:
        id_key = _LISTING_IDS.get(self.key)
        if id_key is None:
            return
        ids, repeated = self.ids, self.repeated
        for item in items:
            row_id = item.get(id_key) if isinstance(item, dict) else None
            if not isinstance(row_id, str) or not row_id:
                continue
            if row_id in ids:
                self.repeats += 1
                if len(repeated) < _SHOWN_IDS and row_id not in repeated:
                    repeated.append(row_id)
            else:
                ids.add(row_id)

    def check(self, *, complete: bool) -> None:
        """Warn (once) when the pages broke the paging contract.

        ``complete``: the listing reached its last page, so a count below the
        server's total_size means rows were missed. Only when total_size was
        the same on the first and the last page: a changed total means rows
        were added or removed while listing, which explains the gap.
        """
        if self.checked or self.key not in _LISTING_IDS:
            return
        self.checked = True
        problems = []
        if self.repeats:
            problems.append(self._repeat_text())
        distinct = self.count - self.repeats
        if complete and self.first_total == self.total > distinct:
            problems.append(self._short_text(distinct))
        if problems:
            warnings.warn(
                f"{self.endpoint}: " + " Also, ".join(problems),
                PaginationWarning,
                stacklevel=_user_stacklevel(),
            )

    def _repeat_text(self) -> str:
        id_key = _LISTING_IDS[self.key]
        shown = ", ".join(repr(i) for i in self.repeated)
        more = ", ..." if self.repeats > len(self.repeated) else ""
        return (
            f"{self.repeats} row(s) came again on a later page (or twice on one), "
            f"{id_key} {shown}{more}: the server broke the paging contract (an "
            f"unstable sort shifts rows between pages). All {self.count} rows "
            f"are kept, repeats included, so nothing is lost; drop repeated "
            f"{id_key}s if each should appear once."
        )

    def _short_text(self, distinct: int) -> str:
        return (
            f"the listing ended after {self.pages} page(s) with {distinct} "
            f"{self.key} but its first and last pages said total_size="
            f"{self.total}, so "
            f"{self.total - distinct} may be missing. {self.key.capitalize()} "
            "created, deleted or archived while listing cause this too; list "
            "again to check."
        )


def _mismatch(
    cls: type, call: _Call, body: dict[str, Any], exc: ValidationError
) -> _errors.ResponseFormatError:
    """The first field a model refused: its name, the run, the value and why."""
    first = exc.errors()[0]
    field_name = ".".join(str(p) for p in first["loc"]) or "(the object)"
    run_id = call.run_id or body.get("run_id")
    whose = f" of run {run_id!r}" if isinstance(run_id, str) and run_id else ""
    why = str(first["msg"]).removeprefix("Value error, ")
    value = _short_repr(first.get("input"))
    # The frames read times leniently (NaT and a warning); say so where it helps.
    lenient = (
        "; client.runs() / client.tasks() show such a time as NaT with a warning"
        if "timestamp" in why or why.startswith("outside")
        else ""
    )
    return _errors.ResponseFormatError(
        f"{call.endpoint}: field {field_name!r}{whose} has {value}, which kfp_nb "
        f"cannot read as a {cls.__name__} ({why}; {exc.error_count()} error(s) in "
        f"all). Fix the value on the server{lenient}"
    )


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Listings checked for repeated rows and a short count → their id field.
_LISTING_IDS = {"runs": "run_id", "tasks": "task_id"}
_SHOWN_IDS = 5


def _token_mismatch(exc: Exception) -> bool:
    return isinstance(exc, _errors.InvalidArgument) and "page token does not match" in (
        exc.message or ""
    )


class _Progress:
    """A tqdm.auto bar over a listing, shown once it spans more than one page."""

    def __init__(self, choice: bool | None, *, limit: int | None, desc: str):
        self.choice, self.limit, self.desc = choice, limit, desc
        self.bar: Any = None

    def update(self, count: int, *, total: int, more: bool) -> None:
        if self.bar is None:
            wanted = self.choice if self.choice is not None else more
            if not wanted:
                return
            from tqdm.auto import tqdm

            goal = min(total, self.limit) if self.limit else total
            self.bar = tqdm(total=goal or None, desc=self.desc, unit="row")
        self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _take(
    rows: list[dict[str, Any]],
    items: list[dict[str, Any]],
    pager: _Pager,
    limit: int | None,
    progress: _Progress,
    keep: Callable[[dict], bool] | None,
) -> None:
    """Add one page's rows, up to ``limit``; the bar shows while more pages are needed.

    ``rows`` is a list or a column accumulator (``_frames.RunColumns``).
    """
    kept = items if keep is None else [r for r in items if keep(r)]
    if limit is not None and len(rows) + len(kept) > limit:
        kept = kept[: max(0, limit - len(rows))]
    rows.extend(kept)
    wanted = limit is None or len(rows) < limit
    if not wanted:  # cut short here: the pages read are checked, not the total
        pager.check(complete=False)
    progress.update(len(items), total=pager.total, more=wanted and bool(pager.token))


_CAREFUL = object()
_DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19


def _fast_json(response: httpx.Response) -> Any:
    """A plain successful JSON body read by orjson, else ``_CAREFUL``.

    Only a 2xx answer that is not HTML and starts as a JSON object or array,
    in UTF-8. orjson reads it as the stdlib would, except where it refuses
    (NaN, lone surrogates, bad UTF-8: then the stdlib path reads it or names
    the fault) and for integers past 64 bits, which it turns into floats: a
    body with a run of 19 digits is left to the stdlib too.
    """
    if not 200 <= response.status_code < 300:
        return _CAREFUL
    if "html" in response.headers.get("content-type", "").lower():
        return _CAREFUL
    if (response.charset_encoding or "utf-8").lower() not in ("utf-8", "utf8"):
        return _CAREFUL
    content = response.content
    if content[:64].lstrip()[:1] not in (b"{", b"["):
        return _CAREFUL
    if _LONG_NUMBER in content.translate(_DIGITS):
        return _CAREFUL
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _CAREFUL


def _frame_rows(exc: _errors.PaginationError, columns: Any) -> None:
    """Give a bulk listing's PaginationError every row read, as frame rows.

    The pages' dicts are gone by then (only their columns are kept); a page
    refused for its token still counts, as it does for ``iter_runs``.
    """
    columns.extend(exc.rows)
    exc.rows = columns.frame().to_dict("records")


class _BaseClient:
    """Configuration, request building and response parsing (no I/O)."""

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
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.host = _transport.normalize_host(host)
        _check_texts(namespace=namespace)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an int, 0 or more, not {retries!r}")
        _check_seconds(backoff, "backoff")
        self.namespace = namespace
        # Authorization / Cookie given in headers= are credentials too: they
        # live only in Credentials, never in the httpx client's headers.
        self._credentials = _transport.Credentials(
            token=token, cookies=cookies, headers=headers
        )
        self._retry = _transport.RetryPolicy(retries=retries, backoff=backoff)
        self._http_options = {
            "credentials": self._credentials,
            "headers": _transport.plain_headers(headers),
            "verify": verify,
            "timeout": timeout,
        }
        self._names: dict[str | None, tuple[float, dict[str, str]]] = {}

    def __repr__(self) -> str:
        return (
            f"<kfp_nb.{type(self).__name__} host={self.host!r} "
            f"namespace={self.namespace!r} {self._credentials.describe()}>"
        )

    # Request builders -----------------------------------------------------

    def _run_path(self, run_id: str, suffix: str = "") -> str:
        return f"{API}/runs/{_q(run_id, 'run_id')}{suffix}"

    def _create_run_call(self, run: Any, fields: dict[str, Any]) -> _Call:
        given = {k: v for k, v in fields.items() if v is not None}
        if run is not None and given:
            raise TypeError("create_run takes a Run/dict or keywords, not both")
        if run is None:
            if not given.get("display_name"):
                raise ValueError("create_run needs display_name=")
            run = _run_body(**given)
        if not isinstance(run, (BaseModel, Mapping)):
            raise TypeError(
                f"create_run takes a Run, a dict of Run fields or keywords "
                f"(display_name=..., pipeline_spec=...), not {type(run).__name__}"
            )
        if isinstance(run, BaseModel):
            # A Run read back from a server carries output-only fields; the
            # server refuses plugins_output and would misread the epoch times.
            wire = to_wire(run)
            body = {k: v for k, v in wire.items() if k not in _SERVER_OWNED}
        else:
            body = dict(run)
        return _Call(
            "POST", f"{API}/runs", json=body, hint=_CREATE_HINT,
            hint_on=frozenset({400, 500}),
        )

    def _get_run_call(
        self, run_id: str, *, view: str | None, experiment_id: str | None
    ):
        _check_texts(view=view)
        experiment_id = _optional_id(experiment_id, "experiment_id")
        params = _params(view=view, experiment_id=experiment_id)
        return _Call("GET", self._run_path(run_id), params, run_id=run_id)

    def _action_call(self, action: str, run_id: str, experiment_id: str | None):
        params = _params(experiment_id=_optional_id(experiment_id, "experiment_id"))
        if action == "delete":
            path, method = self._run_path(run_id), "DELETE"
        else:
            path, method = self._run_path(run_id, f":{action}"), "POST"
        hint = _action_hint(action, run_id)
        return _Call(
            method, path, params, run_id=run_id, action=action, hint=hint,
            hint_on=_REFUSED if hint else frozenset(),
        )

    def _list_runs_call(
        self,
        *,
        namespace: str | None,
        experiment_id: str | None,
        page_token: str | None,
        page_size: int | None,
        sort_by: str | None,
        filter: str | None,
        view: str | None,
    ) -> _Call:
        _check_texts(namespace=namespace, sort_by=sort_by, view=view)
        params = _params(
            namespace=namespace or self.namespace,
            experiment_id=_optional_id(experiment_id, "experiment_id"),
            page_token=page_token,
            page_size=page_size,
            sort_by=sort_by,
            filter=filter,
            view=view,
        )
        return _Call("GET", f"{API}/runs", params)

    def _read_artifact_call(self, run_id: str, node_id: str, name: str) -> _Call:
        node, artifact = _q(node_id, "node_id"), _q(name, "artifact_name")
        path = self._run_path(run_id, f"/nodes/{node}/artifacts/{artifact}:read")
        hint = (
            f"Node {node_id!r} of run {run_id!r} has no file artifact {name!r}. "
            "read_artifact takes an executor pod name (tasks(run_id).pod_names) "
            "and an output name (tasks(run_id).output_artifacts). A metric "
            "(system.Metrics) or number output has no file: read it from "
            "get_task(task_id).output_artifacts (number_value / metadata)."
        )
        return _Call(
            "GET", path, run_id=run_id, what="run or artifact", hint=hint,
            hint_on=frozenset({404}),
        )

    def _list_tasks_call(
        self,
        *,
        run_id: str | None,
        parent_id: str | None,
        namespace: str | None,
        page_token: str | None,
        page_size: int | None,
        filter: str | None,
        order_by: str | None,
    ) -> _Call:
        run_id = _optional_id(run_id, "run_id")
        parent_id = _optional_id(parent_id, "parent_id")
        _check_texts(namespace=namespace, order_by=order_by)
        if run_id and parent_id:
            raise ValueError("list_tasks takes run_id= or parent_id=, not both")
        if not (run_id or parent_id):
            namespace = namespace or self.namespace
        params = _params(
            run_id=run_id,
            parent_id=parent_id,
            namespace=None if run_id or parent_id else namespace,
            page_token=page_token,
            page_size=page_size,
            filter=filter,
            order_by=order_by,
        )
        return _Call("GET", f"{API}/tasks", params, run_id=run_id)

    def _task_call(self, method: str, task_id: str | None, body: Any = None) -> _Call:
        path = f"{API}/tasks"
        if task_id is not None:
            path += f"/{_q(task_id, 'task_id')}"
        if isinstance(body, BaseModel):
            body = to_wire(body)
        return _Call(method, path, json=body, run_id=task_id, what="task")

    def _list_experiments_call(
        self,
        *,
        namespace: str | None,
        page_token: str | None,
        page_size: int | None,
        sort_by: str | None,
        filter: str | None,
    ) -> _Call:
        _check_texts(namespace=namespace, sort_by=sort_by)
        params = _params(
            namespace=namespace or self.namespace,
            page_token=page_token,
            page_size=page_size,
            sort_by=sort_by,
            filter=filter,
        )
        return _Call("GET", f"{API}/experiments", params)

    # Listings: ``self._pages`` is a generator in Client, an async one in
    # AsyncClient, so one definition serves both shells.

    def _pages(
        self, make: _Maker, key: str, max_pages: int, *, keep_rows: bool = True
    ) -> Any:
        raise NotImplementedError

    def _run_pages(
        self,
        *,
        namespace: str | None,
        experiment_id: str | None,
        sort_by: str | None,
        filter: Any,
        page_size: int | None,
        view: str | None,
        max_pages: int,
        keep_rows: bool = True,
    ) -> Any:
        """Raw pages of ListRuns; the filter text is built once for all pages.

        ``keep_rows=False``: a PaginationError does not carry the rows (the
        caller holds them, e.g. as frame columns).
        """
        _check_count(page_size, "page_size", none_means="the server's default")
        _check_count(max_pages, "max_pages")
        text = _filter_text(filter)

        def make(token: str | None, full: bool) -> _Call:
            return self._list_runs_call(
                namespace=namespace,
                experiment_id=experiment_id,
                page_token=token,
                page_size=page_size,
                sort_by=sort_by if full else None,
                filter=text if full else None,
                view=view,
            )

        return self._pages(make, "runs", max_pages, keep_rows=keep_rows)

    def _task_pages(
        self,
        *,
        run_id: str | None,
        parent_id: str | None,
        filter: Any,
        order_by: str | None,
        page_size: int | None,
        max_pages: int,
        keep_rows: bool = True,
    ) -> Any:
        _check_count(page_size, "page_size", none_means="the server's default")
        _check_count(max_pages, "max_pages")
        text = _filter_text(filter)

        def make(token: str | None, full: bool) -> _Call:
            return self._list_tasks_call(
                run_id=run_id,
                parent_id=parent_id,
                namespace=None,
                page_token=token,
                page_size=page_size,
                filter=text if full else None,
                order_by=order_by if full else None,
            )

        return self._pages(make, "tasks", max_pages, keep_rows=keep_rows)

    def _experiment_pages(self, namespace: str | None) -> Any:
        def make(token: str | None, full: bool) -> _Call:
            return self._list_experiments_call(
                namespace=namespace,
                page_token=token,
                page_size=200,
                sort_by=None,
                filter=None,
            )

        return self._pages(make, "experiments", _MAX_PAGES)

    # Sending helpers ------------------------------------------------------

    def _build_request(self, http: Any, call: _Call) -> httpx.Request:
        """The httpx request for ``call``; a URL httpx refuses is a ValueError."""
        if http.is_closed:
            raise ClientClosed(
                f"{call.endpoint}: this {type(self).__name__} is closed; create a "
                "new one"
            )
        try:
            return http.build_request(
                call.method,
                call.path.lstrip("/"),
                params=call.params or None,
                json=call.json,
            )
        except httpx.InvalidURL as exc:
            raise ValueError(_url_problem(call, str(exc))) from None
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{call.endpoint}: a query value holds {exc.object[exc.start]!r}, "
                "a lone surrogate that is not valid Unicode text; fix the string "
                "passed (often text decoded with errors='surrogateescape')"
            ) from None

    # Response handling ----------------------------------------------------

    def _body(self, call: _Call, response: httpx.Response) -> Any:
        body = _fast_json(response)
        if body is not _CAREFUL:
            return body
        return _transport.read_json(
            response,
            host=self.host,
            endpoint=call.endpoint,
            credentials=self._credentials,
            run_id=call.run_id,
            what=call.what,
            hint=call.hint if response.status_code in call.hint_on else None,
        )

    def _object(self, call: _Call, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _errors.ResponseFormatError(
                f"{call.endpoint}: expected a JSON object from {self.host}, got "
                f"{type(body).__name__}; check the host"
            )
        return body

    def _model(
        self, cls: type[M], call: _Call, body: Any, *, require: str | None = None
    ) -> M:
        body = self._object(call, body)
        if require and not body.get(require):
            # The keys come from the body, which may echo a credential.
            raise self._credentials.scrub_error(
                _errors.ResponseFormatError(
                    f"{call.endpoint}: the response has no {require!r}, so it is "
                    f"not a {cls.__name__} (keys: {sorted(body)[:8]}); check the host"
                )
            )
        try:
            return cls.model_validate(body)
        except ValidationError as exc:
            error = _mismatch(cls, call, body, exc)
            raise self._credentials.scrub_error(error) from None

    def _unconfirmed(self, call: _Call, seen: Any) -> _errors.ActionUnconfirmed:
        if isinstance(seen, Exception):
            state = f"reading the run back failed too ({seen})"
        elif seen is None:
            state = "the run no longer exists (HTTP 404 when read back)"
        else:
            state = (
                f"the run is {seen.get('state')}/{seen.get('storage_state')}, "
                "so it did not take effect"
            )
        return _errors.ActionUnconfirmed(
            f"{call.endpoint}: {call.action} of run {call.run_id!r} timed out and "
            f"{state}. It was not re-sent; check get_run({call.run_id!r}) and call "
            f"{call.action}_run again if needed."
        )

    def _artifact_bytes(
        self, call: _Call, body: Any, name: str, max_bytes: int
    ) -> bytes:
        # Limitation: the JSON answer is read whole before max_bytes applies to
        # its "data" text — httpx parses it in one piece; streaming the body
        # through an incremental JSON reader would lift this.
        data = self._object(call, body).get("data") or ""
        where = f"{call.endpoint}: artifact {name!r} of run {call.run_id!r}"
        return _artifacts.payload_bytes(data, max_bytes=max_bytes, where=where)

    def _artifact_scan(
        self, call: _Call, body: Any, name: str, max_bytes: int
    ) -> _artifacts.PayloadScan:
        """Like ``_artifact_bytes`` but lenient: unsafe members are listed, not fatal."""
        data = self._object(call, body).get("data") or ""
        where = f"{call.endpoint}: artifact {name!r} of run {call.run_id!r}"
        return _artifacts.scan_payload(data, max_bytes=max_bytes, where=where)

    @staticmethod
    def _artifact_args(run_id: Any, task_id: Any, name: Any) -> None:
        for value, argument in (
            (run_id, "run_id"),
            (task_id, "task_id"),
            (name, "name"),
        ):
            _require_id(value, argument)

    def _cached_names(self, namespace: str | None) -> dict[str, str] | None:
        hit = self._names.get(namespace)
        if hit and time.monotonic() - hit[0] < _NAMES_TTL:
            return hit[1]
        return None

    def _store_names(self, namespace: str | None, rows: list[dict]) -> dict[str, str]:
        names = {
            e["experiment_id"]: e.get("display_name") or ""
            for e in rows
            if isinstance(e, dict) and e.get("experiment_id")
        }
        self._names[namespace] = (time.monotonic(), names)
        return names

    def _runs_filter(self, **keywords: Any) -> str | None:
        from . import _filters

        return _filter_text(_filters.compile_filter(**keywords))

    @staticmethod
    def _fallback_tasks(run: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
        tasks = run.get("tasks") or (run.get("run_details") or {}).get("task_details")
        return [{"run_id": run_id, **t} for t in tasks or [] if isinstance(t, dict)]


def _run_body(
    *,
    display_name: str,
    pipeline_spec: dict[str, Any] | None = None,
    pipeline_version_reference: Any = None,
    parameters: Mapping[str, Any] | None = None,
    experiment_id: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    for argument, value in (
        ("pipeline_spec", pipeline_spec),
        ("parameters", parameters),
    ):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{argument} must be a dict, not {type(value).__name__}")
    ref = pipeline_version_reference
    if ref is not None and not isinstance(ref, (Mapping, PipelineVersionReference)):
        raise TypeError(
            "pipeline_version_reference must be a dict or PipelineVersionReference "
            f"(pipeline_id=..., pipeline_version_id=...), not {type(ref).__name__}"
        )
    body: dict[str, Any] = {"display_name": display_name}
    if description:
        body["description"] = description
    if experiment_id:
        body["experiment_id"] = experiment_id
    if pipeline_spec is not None:
        body["pipeline_spec"] = pipeline_spec
    if isinstance(pipeline_version_reference, PipelineVersionReference):
        pipeline_version_reference = to_wire(pipeline_version_reference)
    if pipeline_version_reference:
        body["pipeline_version_reference"] = dict(pipeline_version_reference)
    if parameters:
        body["runtime_config"] = {"parameters": dict(parameters)}
    return body


def _check_count(value: Any, argument: str, *, none_means: str = "") -> Any:
    """A positive int, or None when ``none_means`` says what None does."""
    if value is None and none_means:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument} must be a positive int, not {value!r}")
    if value < 1:
        none = f" (None for {none_means})" if none_means else ""
        raise ValueError(f"{argument} must be 1 or more{none}, got {value}")
    return value


def _check_texts(**values: Any) -> None:
    """Optional text arguments (namespace, sort_by, ...) must be strings."""
    for argument, value in values.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{argument} must be a string, not {value!r}")
        if value:
            check_unicode(value, argument)


def _check_seconds(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{argument} must be a number of seconds, not {value!r}")
    if not value >= 0:  # also NaN
        raise ValueError(f"{argument} must be 0 or more seconds, got {value}")
    return float(value)


def _wait_ids(run_ids: Any) -> tuple[bool, list[str]]:
    """``(single, ids)`` for wait(): one id, or an iterable of ids (deduplicated)."""
    if isinstance(run_ids, str):
        return True, [_require_id(run_ids, "run_ids")]
    if not isinstance(run_ids, Iterable) or isinstance(run_ids, (bytes, Mapping)):
        raise TypeError(
            f"run_ids must be a run id or an iterable of run ids, not {run_ids!r}"
        )
    ids = [_require_id(r, "each of run_ids") for r in run_ids]
    return False, list(dict.fromkeys(ids))


def _name_match(name_contains: str | None) -> Callable[[dict], bool] | None:
    """An exact client-side check when ``name_contains`` holds ``%`` or ``_``.

    The server matches with SQL LIKE, where those two are wildcards, so its
    answer may hold extra runs; they are dropped here. Case is ignored, as
    the server's LIKE does for ASCII text.
    """
    if not isinstance(name_contains, str) or not ("%" in name_contains or
                                                   "_" in name_contains):
        return None
    needle = name_contains.casefold()
    return lambda run: needle in str(run.get("display_name") or "").casefold()


def _timeout_message(ids: list[str], last: dict[str, str | None], timeout: float):
    parts = ", ".join(
        f"{rid} last seen {last[rid] or 'without a state'}" for rid in ids
    )
    return (
        f"wait() gave up after {timeout:g} s; not finished: {parts}. Call wait() "
        "again with a longer timeout=, or terminate the run(s)."
    )


_warned_states: set[str] = set()


def _note_state(state: str | None) -> None:
    """Warn once per unknown state: wait() treats it as not final."""
    if state and state not in _states.RUN_STATES and state not in _warned_states:
        _warned_states.add(state)
        logger.warning("unknown run state %r: treated as not final", state)


class _Confirmed(_errors.KFPError):
    """Internal signal: an ambiguous action was confirmed by reading the run."""

    def __init__(self, call: _Call) -> None:
        super().__init__(f"{call.endpoint} confirmed")
        logger.info(
            "%s: no answer, but reading run %s back shows the %s took effect",
            call.endpoint, call.run_id, call.action,
        )  # fmt: skip


def _connect_failure(exc: httpx.TransportError) -> bool:
    """Failures a GET is retried after: no connection (but not an unknown host
    name or a certificate that fails checking), or a connection dropped before
    the answer (a restarted server or port-forward). Never a slow answer."""
    dropped = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
    return isinstance(exc, dropped) or (
        isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        and not _transport.permanent_failure(exc)
    )


def _log_failure(request: httpx.Request, exc: Exception) -> None:
    _transport.log_exchange(request, type(exc).__name__)
