"""``client.runs()`` against the embedded server, beside a raw-bytes fetch.

For 10,000 and 100,000 runs of ``benchmarks/_data.py`` (seeded databases,
cached between benchmarks), one embedded server per size is started with
``kfp_nb.server.launch`` and, side by side in this process:

* kfp_nb: ``client.runs(page_size=200, progress=False)`` — pages, parsing, the
  experiment-names call and the frame (its default query: archived runs hidden,
  newest first);
* raw: plain ``httpx.Client`` (keep-alive, gzip accepted) fetching the same
  pages — the very query the client sends, captured from its first request —
  keeping the body bytes and reading only ``next_page_token`` (with orjson) to
  follow the chain;
* the progress bar: ``client.runs(progress=True)`` at the smallest size (tqdm
  drawing to stderr), against ``progress=False``.

Each repetition times every size and path in turn (their order alternates), so
drift on a busy machine hits all of them alike; medians over ``--repeat``
repetitions are printed with kfp_nb/raw (target ≤ 1.5×), the 100k/10k growth
(target ≤ 12×) and the progress-bar cost. Run: ``.venv/bin/python
benchmarks/listing.py``; the default takes about a minute and a half on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import _data
import httpx
import orjson

from kfp_nb import Client
from kfp_nb.server import launch

PAGE_SIZE = 200
TARGET_RATIO = 1.5
TARGET_GROWTH = 12.0
RUNS_PATH = "/apis/v2beta1/runs"


class _Recorder(httpx.HTTPTransport):
    """Remembers the query of the first ListRuns request."""

    params: dict[str, str] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.params is None and request.url.path.endswith("/runs"):
            self.params = dict(request.url.params)
        return super().handle_request(request)


def client_query(url: str) -> dict[str, str]:
    recorder = _Recorder()
    with Client(url, transport=recorder) as client:
        client.runs(page_size=PAGE_SIZE, progress=False, limit=PAGE_SIZE)
    assert recorder.params is not None
    recorder.params.pop("page_token", None)
    return recorder.params


def raw_pages(
    http: httpx.Client, params: dict[str, str], *, max_pages: int = 0
) -> tuple[int, int, int]:
    """Every page's bytes; returns (pages, bytes after decompression, runs)."""
    query = dict(params)
    pages = size = rows = 0
    while True:
        response = http.get(RUNS_PATH, params=query)
        response.raise_for_status()
        body = response.content
        pages += 1
        size += len(body)
        parsed = orjson.loads(body)
        rows += len(parsed.get("runs") or ())
        token = parsed.get("next_page_token")
        if not token or pages == max_pages:
            return pages, size, rows
        query["page_token"] = token


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


class _Size:
    """One server holding ``count`` runs, its clients and the times measured."""

    def __init__(self, count: int, url: str, seeded: float, cached: bool) -> None:
        self.count, self.url, self.seeded, self.cached = count, url, seeded, cached
        self.times: dict[str, list[float]] = {"raw": [], "kfp_nb": [], "bar": []}
        self.client = Client(url)
        self.http = httpx.Client(
            base_url=url, headers={"accept-encoding": "gzip"}, timeout=60
        )
        self.pages = self.size = self.rows = 0
        self.encoding = "identity"

    def warm(self, params: dict[str, str]) -> None:
        """Connections, code paths and the count cache, without a full pass."""
        raw_pages(self.http, params, max_pages=5)
        self.client.runs(page_size=PAGE_SIZE, progress=False, limit=5 * PAGE_SIZE)
        probe = self.http.get(RUNS_PATH, params=params)
        self.encoding = probe.headers.get("content-encoding", "identity")

    def measure(self, path: str, params: dict[str, str]) -> None:
        if path == "raw":
            took, (self.pages, self.size, self.rows) = _timed(
                lambda: raw_pages(self.http, params)
            )
        else:
            show = path == "bar"
            with contextlib.redirect_stderr(io.StringIO()):
                took, frame = _timed(
                    lambda: self.client.runs(page_size=PAGE_SIZE, progress=show)
                )
            # The client hides archived runs (its query asks the server to).
            assert len(frame) == self.rows > 0.9 * self.count, (len(frame), self.rows)
        self.times[path].append(took)

    def close(self) -> None:
        self.client.close()
        self.http.close()


def run(sizes: list[int], repeat: int, folder: str) -> tuple[list[_Size], dict]:
    with contextlib.ExitStack() as stack:
        measured = []
        for count in sizes:
            start = time.perf_counter()
            db, cached = _data.seeded_database(count, folder)
            seeded = time.perf_counter() - start
            server = stack.enter_context(launch(db=db, demo=False, timeout=120.0))
            size = _Size(count, server.url, seeded, cached)
            stack.callback(size.close)
            measured.append(size)
            print(f"  {count:,} runs {'cached' if cached else 'seeded'} in "
                  f"{seeded:.1f} s", flush=True)  # fmt: skip
        params = client_query(measured[0].url)
        for size in measured:
            size.warm(params)
        for rep in range(repeat):
            for size in measured:
                paths = ["raw", "kfp_nb"] if rep % 2 == 0 else ["kfp_nb", "raw"]
                if size is measured[0]:
                    paths.append("bar")
                for path in paths:
                    size.measure(path, params)
            print(f"  repetition {rep + 1}/{repeat} done", flush=True)
        return measured, params


def report(sizes: list[_Size], params: dict[str, str], repeat: int) -> None:
    print(f"\nquery sent by client.runs(): {params}")
    print(f"medians of {repeat} repetitions (sizes and paths interleaved)\n")
    print(
        "| runs | pages | body MB | encoding | raw httpx ms | client.runs() ms "
        f"| kfp_nb/raw (≤{TARGET_RATIO}) |"
    )
    print("|---" * 7 + "|")
    med = {s.count: {k: statistics.median(v) for k, v in s.times.items() if v}
           for s in sizes}  # fmt: skip
    for s in sizes:
        m = med[s.count]
        print(
            f"| {s.count:,} | {s.pages} | {s.size / 1e6:.1f} | {s.encoding} "
            f"| {m['raw'] * 1000:,.0f} | {m['kfp_nb'] * 1000:,.0f} "
            f"| {m['kfp_nb'] / m['raw']:.2f}× |"
        )
    print()
    if len(sizes) > 1:
        small, big = sizes[0].count, sizes[-1].count
        scale = big / small
        target = TARGET_GROWTH * scale / 10
        for path in ("raw", "kfp_nb"):
            ratio = med[big][path] / med[small][path]
            print(f"{path}: {big:,}/{small:,} time = {ratio:.1f}× "
                  f"(target ≤ {target:.0f}×)")  # fmt: skip
    first = sizes[0]
    bar = med[first.count]["bar"] / med[first.count]["kfp_nb"]
    print(f"progress bar at {first.count:,} runs: {bar:.2f}× the time without it")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {args.repeat} repetitions", flush=True)
    with tempfile.TemporaryDirectory(prefix="kfp-nb-bench-") as folder:
        sizes, params = run(sorted(args.sizes), args.repeat, folder)
    report(sizes, params, args.repeat)


if __name__ == "__main__":
    main()
