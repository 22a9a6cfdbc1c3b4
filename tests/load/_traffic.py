"""Request accounting for the load tests: a recording httpx transport and its log.

Every request a kfp_nb client sends goes through :class:`RecordingTransport`,
which notes its kind (``list``, ``create``, ``archive`` …), HTTP status (None
when no answer came) and latency to the response headers. The log is shared by
all client threads.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections import Counter, defaultdict

import httpx

from kfp_nb import _errors

__all__ = ["RecordingTransport", "RequestLog", "kind_of", "refused_by_state_rule"]

_ACTION = re.compile(r"^/runs/[^/:]+:(archive|unarchive|terminate|retry)$")
_ONE_RUN = re.compile(r"^/runs/[^/:]+$")


def kind_of(method: str, path: str) -> str:
    """The request's kind for the summary, from its method and API path."""
    path = path.removeprefix("/apis/v2beta1")
    found = _ACTION.match(path)
    if found and method == "POST":
        return found.group(1)
    if _ONE_RUN.match(path):
        return {"GET": "get", "DELETE": "delete"}.get(method, f"{method} run")
    if path == "/runs":
        return {"GET": "list", "POST": "create"}.get(method, f"{method} /runs")
    return f"{method} {path}"


def refused_by_state_rule(action: str, exc: BaseException) -> bool:
    """True for the refusals the run state rules allow (SEMANTICS.md §3).

    Terminate on a finished run is 400 code 3; retry on a run that is not
    FAILED is 409 code 10. Anything else is a real error.
    """
    if not isinstance(exc, _errors.APIError):
        return False
    expected = {"terminate": (400, 3), "retry": (409, 10)}.get(action)
    return expected == (exc.status, exc.code)


class RequestLog:
    """Thread-safe (kind, status, seconds) records, and the summary built from them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[tuple[str, int | None, float]] = []
        self.refusals: Counter[str] = Counter()
        self.started = time.monotonic()
        self.ended: float | None = None

    def add(self, kind: str, status: int | None, seconds: float) -> None:
        with self._lock:
            self.records.append((kind, status, seconds))

    def refused(self, action: str) -> None:
        """Count one expected state-rule refusal of ``action``."""
        with self._lock:
            self.refusals[action] += 1

    def statuses(self) -> Counter[tuple[str, int | None]]:
        return Counter((kind, status) for kind, status, _ in self.records)

    def server_errors(self) -> list[tuple[str, int | None]]:
        """(kind, status) of every 5xx and every request that got no answer."""
        return [(k, s) for k, s, _ in self.records if s is None or s >= 500]

    def summary(self, title: str) -> str:
        elapsed = (self.ended or time.monotonic()) - self.started
        by_kind: dict[str, list[float]] = defaultdict(list)
        for kind, _, seconds in self.records:
            by_kind[kind].append(seconds)
        total = len(self.records)
        lines = [
            (
                f"{title}: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f} "
                "req/s; shared 2-core machine, not a benchmark)"
            ),
            f"  {'kind':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}",
        ]
        for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
            times = sorted(by_kind[kind])
            p50, p95 = _quantile(times, 0.5), _quantile(times, 0.95)
            lines.append(
                f"  {kind:<10} {len(times):>7} {p50 * 1e3:>8.1f} {p95 * 1e3:>8.1f} "
                f"{times[-1] * 1e3:>8.1f}"
            )
        errors = {
            (k, s): n for (k, s), n in self.statuses().items() if s is None or s >= 400
        }
        expected = ", ".join(f"{a} {n}" for a, n in sorted(self.refusals.items()))
        lines.append(f"  expected 4xx (state rules): {expected or 'none'}")
        shown = ", ".join(
            f"{k} {'no answer' if s is None else s}: {n}"
            for (k, s), n in sorted(errors.items(), key=str)
        )
        lines.append(f"  all error statuses by kind: {shown or 'none'}")
        return "\n".join(lines)


def _quantile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[
        round(q * 100) - 1
    ]


class RecordingTransport(httpx.BaseTransport):
    """An ``httpx.HTTPTransport`` that notes each exchange in a :class:`RequestLog`."""

    def __init__(self, log: RequestLog) -> None:
        self._inner = httpx.HTTPTransport()
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = kind_of(request.method, request.url.path)
        start = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError:
            self._log.add(kind, None, time.perf_counter() - start)
            raise
        # Latency to the headers: the server renders the whole body first.
        self._log.add(kind, response.status_code, time.perf_counter() - start)
        return response

    def close(self) -> None:
        self._inner.close()
