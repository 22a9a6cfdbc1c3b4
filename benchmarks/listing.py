"""``client.runs()`` against the embedded server, beside a raw-bytes fetch.

For 10,000 and 100,000 finished runs (written straight into the database by the
browser tests' ``tests/browser/_seed.py``), the embedded server is started with
``kfp_nb.server.launch`` and, side by side in this process:

* kfp_nb: ``client.runs(page_size=200, progress=False)`` — pages, parsing, the
  experiment-names call and the frame;
* raw: plain ``httpx.Client`` (keep-alive, gzip accepted) fetching the same
  pages — the very query the client sends, captured from its first request —
  keeping the body bytes and reading only ``next_page_token`` (with orjson) to
  follow the chain.

Prints medians over ``--repeat`` runs, kfp_nb/raw (target ≤ 1.5×) and the
100k/10k growth (target ≤ 12×). Run: ``.venv/bin/python benchmarks/listing.py``.
At 100,000 runs one listing takes ~30 s here (~58 ms a page on the server), so
the default (5 repeats, both paths, plus a warm-up) takes about 6 minutes.
"""

from __future__ import annotations

import argparse
import gc
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


def raw_pages(http: httpx.Client, params: dict[str, str]) -> tuple[int, int]:
    """Every page's bytes; returns (pages, bytes) after decompression."""
    query = dict(params)
    pages = size = 0
    while True:
        response = http.get("/apis/v2beta1/runs", params=query)
        response.raise_for_status()
        body = response.content
        pages += 1
        size += len(body)
        token = orjson.loads(body).get("next_page_token")
        if not token:
            return pages, size
        query["page_token"] = token


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(count: int, *, repeat: int, folder: str) -> dict[str, Any]:
    start = time.perf_counter()
    db, cached = _data.seeded_database(count, folder)
    seeded = time.perf_counter() - start
    with launch(db=db, demo=False) as server:
        params = client_query(server.url)
        headers = {"accept-encoding": "gzip"}
        with (
            Client(server.url) as client,
            httpx.Client(base_url=server.url, headers=headers, timeout=60) as http,
        ):
            frame = client.runs(page_size=PAGE_SIZE, progress=False)  # warm up
            assert len(frame) == count, (len(frame), count)
            pages, size = raw_pages(http, params)
            probe = http.get("/apis/v2beta1/runs", params=params)
            encoding = probe.headers.get("content-encoding", "identity")
            raw = median_time(lambda: raw_pages(http, params), repeat)
            kfp = median_time(
                lambda: client.runs(page_size=PAGE_SIZE, progress=False), repeat
            )
    return {
        "count": count, "seeded": seeded, "pages": pages, "mb": size / 1e6,
        "encoding": encoding, "raw": raw, "kfp_nb": kfp, "params": params,
    }  # fmt: skip


def report(rows: list[dict[str, Any]]) -> None:
    print(f"query sent by client.runs(): {rows[0]['params']}")
    print(
        "| runs | pages | body MB | encoding | raw httpx ms | client.runs() ms "
        f"| kfp_nb/raw (≤{TARGET_RATIO}) |"
    )
    print("|---" * 7 + "|")
    for r in rows:
        print(
            f"| {r['count']:,} | {r['pages']} | {r['mb']:.1f} | {r['encoding']} "
            f"| {r['raw'] * 1000:,.0f} | {r['kfp_nb'] * 1000:,.0f} "
            f"| {r['kfp_nb'] / r['raw']:.2f}× |"
        )
    by = {r["count"]: r for r in rows}
    if 10_000 in by and 100_000 in by:
        for path in ("raw", "kfp_nb"):
            ratio = by[100_000][path] / by[10_000][path]
            print(
                f"{path}: 100k/10k time = {ratio:.1f}× (target ≤ {TARGET_GROWTH:.0f}×)"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, medians of {args.repeat} runs", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kfp-nb-bench-") as folder:
        for count in args.sizes:
            rows.append(measure(count, repeat=args.repeat, folder=folder))
            print(f"  measured {count:,} (seeded in {rows[-1]['seeded']:.1f} s)",
                  flush=True)  # fmt: skip
    report(rows)


if __name__ == "__main__":
    main()
