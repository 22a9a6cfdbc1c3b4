"""Embedded server: list latency on a page of 200, and throughput under concurrency.

Serves ``--runs`` runs of ``benchmarks/_data.py`` (a seeded database, cached
between benchmarks) with ``kfp_nb.server.launch`` on 127.0.0.1 and measures,
over loopback only:

* list latency of ``GET /apis/v2beta1/runs?page_size=200`` — without filter, and
  with a filter (state EQUALS SUCCEEDED and display_name IS_SUBSTRING) plus
  ``sort_by=display_name desc`` — on the first page and on a page about 50,000
  rows in (reached by following next-page tokens), so a keyset listing shows
  the same cost at depth where OFFSET would grow. "after a write" times the
  first page right after a run was archived or unarchived (untimed), so the
  table changed and ``total_size`` is counted again rather than reused;
* throughput (requests/s) and errors with 1, 10 and 50 concurrent clients (threads,
  each with its own ``httpx.Client``) walking pages for a fixed duration each;
* ``EXPLAIN QUERY PLAN`` of the exact SQL the store runs for those listings
  (captured from ``Store.list_rows`` on a read-only connection), and whether an
  index serves it.

Targets (issue 6): median ≤ 20 ms without filter, ≤ 50 ms with filter and sort,
50 concurrent clients without errors. Run by hand:
``.venv/bin/python benchmarks/server.py [--runs 100000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import _data
import httpx
import orjson

from kfp_nb.server import launch
from kfp_nb.server._query import RUNS, build_list_query
from kfp_nb.server._store import Store
from tests.server._plans import QueryRecorder

RUNS_PATH = "/apis/v2beta1/runs"
PAGE = 200
DEEP_ROWS = 50_000
TARGET_PLAIN_MS = 20.0
TARGET_FILTERED_MS = 50.0
CONCURRENCY = (1, 10, 50)
FILTER = json.dumps(
    {
        "predicates": [
            {"key": "state", "operation": "EQUALS", "string_value": "SUCCEEDED"},
            {"key": "display_name", "operation": "IS_SUBSTRING",
             "string_value": "train-0"},
        ]
    },
    separators=(",", ":"),
)  # fmt: skip
SORT = "display_name desc"
CASES = {
    "no filter": {},
    "filter + sort": {"filter": FILTER, "sort_by": SORT},
}
#: Archived and unarchived in turn to change the table between "after a write"
#: samples (run 0 is AVAILABLE in the generated data).
TOGGLED_RUN = _data.make_run(0)["run_id"]


def _params(case: str, token: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {"page_size": PAGE, **CASES[case]}
    if token:
        # The real server's rule: a token carries its sort and filter; sending
        # them again is allowed only if they match, so send the token alone.
        params = {"page_size": PAGE, "page_token": token}
    return params


def _get(client: httpx.Client, params: dict[str, Any]) -> dict[str, Any]:
    resp = client.get(RUNS_PATH, params=params)
    resp.raise_for_status()
    # orjson keeps the clients' own parsing small beside the server's work
    # (they share the machine).
    return orjson.loads(resp.content)


def _deep_token(client: httpx.Client, case: str, rows: int) -> tuple[str, int]:
    """Next-page token after about ``rows`` rows, and the row count it starts at."""
    token, seen = "", 0
    while seen < rows:
        body = _get(client, _params(case, token))
        seen += len(body.get("runs") or [])
        token = body.get("next_page_token") or ""
        if not token:
            break
    return token, seen


def _time_requests(
    client: httpx.Client, params: dict[str, Any], samples: int, *, write: bool
) -> list[float]:
    _get(client, params)  # warm caches and the connection
    times = []
    for i in range(samples):
        if write:
            action = "archive" if i % 2 == 0 else "unarchive"
            client.post(f"{RUNS_PATH}/{TOGGLED_RUN}:{action}").raise_for_status()
        start = time.perf_counter()
        _get(client, params)
        times.append((time.perf_counter() - start) * 1000)
    if write and samples % 2:
        client.post(f"{RUNS_PATH}/{TOGGLED_RUN}:unarchive").raise_for_status()
    return times


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def measure_latency(url: str, *, runs: int, repeat: int) -> list[dict[str, Any]]:
    """Median/p90 latency per case: first page, deep page, first page after a write."""
    results = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for case in CASES:
            depth = min(DEEP_ROWS, runs // 2)
            token, start_row = _deep_token(client, case, depth)
            pages = [("first page", _params(case), repeat * 5, False)]
            if token:
                pages.append(
                    (f"~{start_row:,} rows in", _params(case, token), repeat * 5, False)
                )
            pages.append(("first, after a write", _params(case), repeat * 2, True))
            for where, params, samples, write in pages:
                times = _time_requests(client, params, samples, write=write)
                results.append(
                    {
                        "case": case,
                        "page": where,
                        "median": statistics.median(times),
                        "p90": _p90(times),
                        "samples": len(times),
                    }
                )
    return results


def _client_loop(
    url: str, deadline: float, tally: dict[str, Any], lock: threading.Lock
) -> None:
    """List pages (following tokens, starting over at the end) until ``deadline``."""
    done, errors, times = 0, 0, []
    token = ""
    with httpx.Client(base_url=url, timeout=30.0) as client:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                body = _get(client, _params("no filter", token))
                token = body.get("next_page_token") or ""
                done += 1
                times.append((time.perf_counter() - start) * 1000)
            except (httpx.HTTPError, ValueError) as exc:
                errors += 1
                token = ""
                with lock:
                    tally["samples"].append(f"{type(exc).__name__}: {exc}"[:200])
    with lock:
        tally["done"] += done
        tally["errors"] += errors
        tally["times"].extend(times)


def measure_throughput(url: str, *, clients: int, seconds: float) -> dict[str, Any]:
    """Requests/s and errors with ``clients`` threads for ``seconds`` seconds."""
    tally: dict[str, Any] = {"done": 0, "errors": 0, "times": [], "samples": []}
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(url, deadline, tally, lock))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    times = tally["times"] or [0.0]
    return {
        "clients": clients,
        "requests": tally["done"],
        "errors": tally["errors"],
        "rps": tally["done"] / elapsed,
        "median": statistics.median(times),
        "p90": _p90(times),
        "error_samples": tally["samples"][:3],
    }


def explain(db_path: str) -> list[dict[str, Any]]:
    """Query plans of the SQL the store runs for each listing (count and page)."""
    store = Store(db_path)
    plans = []
    try:
        with store.read() as db:
            for case, extra in CASES.items():
                first = build_list_query(
                    RUNS, page_size=PAGE, page_token="",
                    sort_by=extra.get("sort_by", ""),
                    filter_text=extra.get("filter", ""),
                )  # fmt: skip
                rec = QueryRecorder(db)
                _, _, token = store.list_rows(rec, first)  # type: ignore[arg-type]
                queries = [("first page", rec.calls)]
                if token:
                    deep = build_list_query(
                        RUNS, page_size=PAGE, page_token=token, sort_by="",
                        filter_text="",
                    )  # fmt: skip
                    rec = QueryRecorder(db)
                    store.list_rows(rec, deep)  # type: ignore[arg-type]
                    queries.append(("next page (keyset)", rec.calls))
                for where, calls in queries:
                    for sql, args in calls:
                        if "list_generation" in sql:
                            continue  # the change counter: one primary-key row
                        rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", args)
                        detail = [r["detail"] for r in rows]
                        plans.append(
                            {"case": case, "page": where, "sql": sql, "plan": detail}
                        )
    finally:
        store.close()
    return plans


def _uses_index(plan: list[str]) -> str:
    """SEARCH = the index seeks to a range; SCAN … USING INDEX = walks it in order."""
    text = " | ".join(plan)
    sort = " + temp b-tree sort" if "TEMP B-TREE" in text else ""
    main = plan[0] if plan else ""
    if "SEARCH" in main and "INDEX" in main:
        return "yes, seeks to the range (SEARCH)" + sort
    if "INDEX" in main or "PRIMARY KEY" in main:
        # With LIMIT the walk stops after the page; a COUNT walks the whole index.
        return "yes, walked from its start (SCAN)" + sort
    return "no, full table scan" + sort


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(
    *, runs: int, latency: list[dict[str, Any]], load: list[dict[str, Any]],
    plans: list[dict[str, Any]], seed_s: float, cached: bool,
) -> None:  # fmt: skip
    origin = "cached" if cached else "seeded"
    print(f"\nEmbedded server, {runs:,} runs ({origin} in {seed_s:.1f} s), "
          f"page_size={PAGE}, 127.0.0.1\n")  # fmt: skip
    print("List latency (ms)")
    print(f"| {'listing':<14} | {'page':<20} | {'median':>7} | {'p90':>7} | "
          f"{'n':>3} | target  | result  |")  # fmt: skip
    print("|" + "-" * 16 + "|" + "-" * 22 + "|" + "-" * 9 + "|" + "-" * 9 + "|"
          + "-" * 5 + "|" + "-" * 9 + "|" + "-" * 9 + "|")  # fmt: skip
    for row in latency:
        target = TARGET_PLAIN_MS if row["case"] == "no filter" else TARGET_FILTERED_MS
        print(f"| {row['case']:<14} | {row['page']:<20} | {row['median']:7.1f} | "
              f"{row['p90']:7.1f} | {row['samples']:>3} | ≤ {target:<4.0f}  | "
              f"{_met(row['median'] <= target):<7} |")  # fmt: skip
    print("\nThroughput (pages of 200, no filter, following tokens)")
    print(f"| {'clients':>7} | {'requests':>8} | {'req/s':>7} | {'median ms':>9} | "
          f"{'p90 ms':>8} | {'errors':>6} |")  # fmt: skip
    print("|" + "-" * 9 + "|" + "-" * 10 + "|" + "-" * 9 + "|" + "-" * 11 + "|"
          + "-" * 10 + "|" + "-" * 8 + "|")  # fmt: skip
    for row in load:
        print(
            f"| {row['clients']:>7} | {row['requests']:>8} | {row['rps']:7.1f} | "
            f"{row['median']:9.1f} | {row['p90']:8.1f} | {row['errors']:>6} |"
        )
        for sample in row["error_samples"]:
            print(f"    error: {sample}")
    fifty = [r for r in load if r["clients"] == 50]
    if fifty:
        ok = fifty[0]["errors"] == 0 and fifty[0]["requests"] > 0
        print(f"Target: 50 concurrent clients with no errors — {_met(ok)}")
    print("\nQuery plans (EXPLAIN QUERY PLAN of the SQL Store.list_rows runs)")
    for p in plans:
        kind = "count" if "COUNT(*) FROM runs WHERE" in p["sql"] else "page "
        print(f"- {p['case']}, {p['page']}, {kind}: index used: "
              f"{_uses_index(p['plan'])}")  # fmt: skip
        print(f"    {' | '.join(p['plan'])}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="each latency case is timed 5 × REPEAT times (2 × after a write)",
    )
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="duration of each throughput level")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kfp-nb-bench-") as folder:
        start = time.perf_counter()
        db_path, cached = _data.seeded_database(args.runs, folder)
        seed_s = time.perf_counter() - start
        plans = explain(db_path)
        with launch(db=db_path, timeout=120.0) as server:
            latency = measure_latency(server.url, runs=args.runs, repeat=args.repeat)
            load = [
                measure_throughput(server.url, clients=n, seconds=args.seconds)
                for n in CONCURRENCY
            ]
        report(
            runs=args.runs, latency=latency, load=load, plans=plans, seed_s=seed_s,
            cached=cached,
        )  # fmt: skip


if __name__ == "__main__":
    main()
