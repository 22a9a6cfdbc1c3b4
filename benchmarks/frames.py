"""Runs → DataFrame: kfp_nb against the official client and the orjson floor.

For each size, the runs of ``benchmarks/_data.py`` (the server's wire encoding)
are split into ListRuns bodies of 200 runs (bytes), then timed side by side:

* floor: ``orjson.loads`` of every page;
* baseline: ``kfp_server_api.ApiClient().deserialize`` of each page as a
  ``V2beta1ListRunsResponse``, then ``pd.DataFrame([r.to_dict() ...])`` with the
  time columns converted by ``pd.to_datetime(utc=True)``;
* kfp_nb: ``Client.runs(page_size=200, progress=False)`` itself, over an
  ``httpx.MockTransport`` that answers with the same page bytes (and one
  experiments page for the names), so every step the client takes with a body is
  included and no socket is.

Peak memory of the kfp_nb path (a separate pass) is tracemalloc's peak plus the
peak of Arrow's memory pool (which tracemalloc does not see; pandas keeps the
frame's text there), an upper bound as the two peaks may fall at different
moments. It is compared with the final frame's ``memory_usage(deep=True).sum()``.
The FULL view variant adds 5-10 tasks per run. Run:
``.venv/bin/python benchmarks/frames.py`` (``--gc-off`` for timings without the
cyclic collector, whose passes grow with the floor's 10^7 live objects).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import _data
import httpx
import orjson
import pandas as pd
import pyarrow as pa

from kfp_nb import Client

TIME_COLUMNS = ("created_at", "scheduled_at", "finished_at")
TARGET_BASELINE = 20.0
TARGET_FLOOR = 3.0
TARGET_PEAK = 3.0
TARGET_GROWTH = 12.0
_POOLS: list[Any] = []


class _Body:
    """The part of a RESTResponse that ``ApiClient.deserialize`` reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def floor(pages: list[bytes]) -> Any:
    return [orjson.loads(page) for page in pages]


def baseline(pages: list[bytes]) -> pd.DataFrame:
    from kfp_server_api import ApiClient

    api = ApiClient()
    runs: list[Any] = []
    for page in pages:
        answer = api.deserialize(_Body(page), "V2beta1ListRunsResponse")
        runs.extend(answer.runs or [])
    frame = pd.DataFrame([r.to_dict() for r in runs])
    for name in TIME_COLUMNS:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def _experiments() -> bytes:
    rows = [
        {"experiment_id": e, "display_name": f"experiment-{i}"}
        for i, e in enumerate(_data._EXPERIMENTS)
    ]
    return orjson.dumps({"experiments": rows, "total_size": len(rows)})


def kfp_nb_client(pages: list[bytes]) -> Client:
    """A Client whose transport answers ListRuns with ``pages`` (in order)."""
    experiments = _experiments()
    json_type = {"content-type": "application/json"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/experiments"):
            return httpx.Response(200, content=experiments, headers=json_type)
        token = request.url.params.get("page_token")
        number = int(token.split("-")[1]) if token else 0
        return httpx.Response(200, content=pages[number], headers=json_type)

    return Client("http://bench.test", transport=httpx.MockTransport(answer))


def kfp_nb_frame(client: Client) -> pd.DataFrame:
    return client.runs(page_size=_data.PAGE_SIZE, progress=False)


def median_time(fn: Callable[[], Any], repeat: int, *, gc_off: bool = False) -> float:
    """Median wall time; ``gc_off`` pauses the cyclic collector while timing.

    Holding ~10^7 parsed objects makes the collector's full passes grow with
    the heap, which inflates every path at 100k runs (the floor most).
    """
    times = []
    for _ in range(repeat):
        gc.collect()
        if gc_off:
            gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times)


def peak_memory(fn: Callable[[], pd.DataFrame]) -> tuple[int, int]:
    """Peak bytes while building the frame (Python + Arrow), and the frame's size."""
    gc.collect()
    previous = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(previous)  # counts only what this pass allocates
    _POOLS.append(pool)  # kept alive: the frame's buffers point back to it
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        frame = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(previous)
    return peak + pool.max_memory(), int(frame.memory_usage(deep=True).sum())


def measure(
    size: int, *, full: bool, repeat: int, baseline_max: int, gc_off: bool
) -> dict:
    pages = _data.pages(size, full=full)
    client = kfp_nb_client(pages)
    try:
        mb = sum(map(len, pages)) / 1e6
        row: dict[str, Any] = {"size": size, "full": full, "mb": mb}
        frame = kfp_nb_frame(client)
        assert len(frame) == size, (len(frame), size)
        row["floor"] = median_time(lambda: floor(pages), repeat, gc_off=gc_off)
        row["kfp_nb"] = median_time(lambda: kfp_nb_frame(client), repeat, gc_off=gc_off)
        if size <= baseline_max:
            row["baseline"] = median_time(
                lambda: baseline(pages), repeat, gc_off=gc_off
            )
            row["extrapolated"] = False
        else:
            # Limitation: the baseline is timed on the first `baseline_max` runs
            # and scaled linearly — minutes per repeat at full size otherwise.
            part = pages[: max(1, baseline_max // _data.PAGE_SIZE)]
            runs = sum(len(orjson.loads(p)["runs"]) for p in part)
            row["baseline"] = (
                median_time(lambda: baseline(part), repeat, gc_off=gc_off) * size / runs
            )
            row["extrapolated"] = True
        row["peak"], row["frame_bytes"] = peak_memory(lambda: kfp_nb_frame(client))
    finally:
        client.close()
    return row


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def report(rows: list[dict]) -> None:
    head = (
        "| view | runs | MB | floor ms | baseline ms | kfp_nb ms | baseline/kfp_nb "
        "(≥20) | kfp_nb/floor (≤3) | peak MB | frame MB | peak/frame (≤3) |"
    )
    print(head)
    print("|---" * 11 + "|")
    for r in rows:
        star = "*" if r["extrapolated"] else ""
        print(
            f"| {'FULL' if r['full'] else 'default'} | {r['size']:,} | {r['mb']:.1f} "
            f"| {_ms(r['floor'])} | {_ms(r['baseline'])}{star} | {_ms(r['kfp_nb'])} "
            f"| {r['baseline'] / r['kfp_nb']:.1f}× | {r['kfp_nb'] / r['floor']:.2f}× "
            f"| {r['peak'] / 1e6:.1f} | {r['frame_bytes'] / 1e6:.1f} "
            f"| {r['peak'] / r['frame_bytes']:.2f}× |"
        )
    if any(r["extrapolated"] for r in rows):
        print("* baseline timed on a prefix of the pages and extrapolated linearly")
    if any(r["full"] for r in rows):
        print(
            "FULL: kfp_server_api's V2beta1Run has no 'tasks' field, so the baseline "
            "drops the tasks after json.loads (it never builds task models)"
        )
    for full in (False, True):
        by = {r["size"]: r for r in rows if r["full"] == full}
        if 10_000 in by and 100_000 in by:
            for path in ("floor", "kfp_nb", "baseline"):
                ratio = by[100_000][path] / by[10_000][path]
                print(
                    f"{'FULL' if full else 'default'} {path}: 100k/10k time = "
                    f"{ratio:.1f}× (target ≤ {TARGET_GROWTH:.0f}×)"
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument(
        "--full-sizes", type=int, nargs="*", default=[1000, 10_000],
        help="sizes for the FULL view (tasks make 100k runs ~800 MB of bodies)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--baseline-max", type=int, default=10_000,
        help="largest size the baseline is timed at; above it, extrapolated",
    )  # fmt: skip
    parser.add_argument(
        "--gc-off", action="store_true",
        help="pause Python's cyclic GC while timing (all paths alike)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    print(
        f"python {sys.version.split()[0]}, pandas {pd.__version__}, "
        f"orjson {orjson.__version__}, medians of {args.repeat} runs, pages of "
        f"{_data.PAGE_SIZE}, cyclic GC {'paused' if args.gc_off else 'on'} "
        "while timing",
        flush=True,
    )
    rows = []
    plan = [(s, False) for s in args.sizes] + [(s, True) for s in args.full_sizes]
    for size, full in plan:
        rows.append(
            measure(
                size,
                full=full,
                repeat=args.repeat,
                baseline_max=args.baseline_max,
                gc_off=args.gc_off,
            )
        )
        print(f"  measured {'FULL' if full else 'default'} {size:,}", flush=True)
    report(rows)


if __name__ == "__main__":
    main()
