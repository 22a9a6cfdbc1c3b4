"""Run table: time from rows arriving to first rows painted, and payload size.

For 10,000 and 100,000 runs (finished runs written into a server database, then
listed through ``kfp_nb.Client`` exactly as a notebook would), this script

* encodes the rows with ``kfp_nb.widgets._payload.encode_rows`` (the Arrow IPC
  payload of the ``rows`` message) and compares its size with the same rows as
  JSON records (the same columns, ``orient="records"``-style, compact);
* renders the built panel (``kfp_nb/static/widget.js``) in headless Chromium with a
  stand-in model that answers the panel's ``load`` request with that payload, and
  measures, with ``performance.now()``, from the moment the ``rows`` message is
  handed to the panel to the frame after the first ``run-row`` element appears
  (a MutationObserver, then two ``requestAnimationFrame`` turns: the rows painted).

Each size is measured ``--repeat`` times (fresh page each time) and the median is
printed with the targets: first rows ≤ 300 ms at 100,000 runs, payload ≤ 1/3 of
JSON. Run by hand: ``.venv/bin/python benchmarks/table_render.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' bulk seeding helper

CHROMIUM = os.environ.get("KFP_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TARGET_MS = 300.0
TARGET_RATIO = 1 / 3
ORIGIN = "http://bench.test"

_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/widget.css">
<style>body{margin:0;padding:8px} #host{width:1200px}</style></head>
<body><div id="host"></div><script type="module">
const state = await (await fetch("/state.json")).json();
const payload = await (await fetch("/payload.arrow")).arrayBuffer();
const listeners = new Map();
const emit = (name, ...args) => [...(listeners.get(name) || [])].forEach((f) => f(...args));
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; emit(`change:${k}`, v); },
  save_changes() {},
  on(name, f) { if (!listeners.has(name)) listeners.set(name, new Set()); listeners.get(name).add(f); },
  off(name, f) {
    if (!name) { listeners.clear(); return; }
    if (!f) listeners.delete(name); else listeners.get(name)?.delete(f);
  },
  send(msg) {
    if (msg.kind !== "load" && msg.kind !== "refresh") return;
    // The kernel's reply arrives on a later task, as it would over the comm.
    setTimeout(() => {
      const host = document.getElementById("host");
      const seen = new Promise((resolve) => {
        const check = () => host.querySelector('[data-testid="run-row"]');
        if (check()) { resolve(); return; }
        const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); resolve(); } });
        obs.observe(host, { childList: true, subtree: true });
      });
      const rows = state.total;
      Object.assign(state, { loaded: rows, loading: false });
      const t0 = performance.now();
      emit("change:loaded", rows);
      emit("msg:custom", { kind: "rows", id: msg.id, replace: true, ok: true },
           [new DataView(payload)]);
      seen.then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
        window.__result = { ms: performance.now() - t0,
                            rowsInDom: host.querySelectorAll('[data-testid="run-row"]').length };
      })));
    }, 0);
  },
};
const mod = await import("/widget.js");
const widget = typeof mod.default === "function" ? await mod.default() : mod.default;
const experimental = { invoke: () => Promise.reject(new Error("no invoke")) };
if (widget.initialize) await widget.initialize({ model, experimental });
const el = document.createElement("div");
document.getElementById("host").appendChild(el);
await widget.render({ model, el, signal: new AbortController().signal, experimental });
</script></body></html>
"""


def _frame(count: int, folder: str) -> Any:
    """``count`` runs as ``Client.runs()`` returns them, from a real server."""
    from kfp_nb import Client
    from kfp_nb.server import launch
    from tests.browser._seed import seed_bulk

    db = os.path.join(folder, f"bulk-{count}.db")
    seed_bulk(db, count)
    with launch(db=db, demo=False) as server, Client(server.url) as client:
        return client.runs(progress=False)


def _payloads(frame: Any) -> tuple[bytes, bytes, dict[str, Any]]:
    """(Arrow IPC payload, the same rows as JSON records, the panel's traits)."""
    import pyarrow as pa

    from kfp_nb.widgets._payload import encode_rows

    arrow = encode_rows(frame)
    table = pa.ipc.open_stream(arrow).read_all()
    records = json.dumps(
        table.to_pylist(), separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
    return arrow, records, _state(frame)


def _state(frame: Any) -> dict[str, Any]:
    """The synced traits of a real RunTable over ``frame`` (no kernel needed)."""
    from kfp_nb import Client
    from kfp_nb.widgets import RunTable

    with Client("http://127.0.0.1:9") as client:  # never called: from_frame
        table = RunTable.from_frame(frame, client)
        try:
            state = table.get_state()
        finally:
            table.close()
    state = {k: v for k, v in state.items() if not k.startswith("_") or k == "_panel"}
    state.update(total=len(frame), loaded=0, loading=True, polling=False)
    return state


def _measure(browser: Any, arrow: bytes, state: dict[str, Any], repeat: int) -> list:
    import kfp_nb

    static = Path(kfp_nb.__file__).resolve().parent / "static"
    files = {
        "/": ("text/html", _PAGE.encode()),
        "/widget.js": ("text/javascript", (static / "widget.js").read_bytes()),
        "/widget.css": ("text/css", (static / "widget.css").read_bytes()),
        "/state.json": ("application/json", json.dumps(state).encode()),
        "/payload.arrow": ("application/octet-stream", arrow),
    }

    def serve(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :].split("?")[0] or "/"
        kind, body = files.get(path, ("text/plain", b""))
        route.fulfill(
            status=200 if path in files else 404, content_type=kind, body=body
        )

    results = []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/")
        page.wait_for_function("() => window.__result", timeout=60_000)
        results.append(page.evaluate("() => window.__result"))
        context.close()
        if errors:
            raise RuntimeError(f"page errors: {errors}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory(prefix="kfp-nb-bench-") as folder:
        prepared = []
        for count in args.sizes:
            started = time.perf_counter()
            frame = _frame(count, folder)
            arrow, records, state = _payloads(frame)
            print(
                f"{count:>7} runs listed and encoded in "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            prepared.append((count, arrow, records, state))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for count, arrow, records, state in prepared:
                    runs = _measure(browser, arrow, state, args.repeat)
                    times = [r["ms"] for r in runs]
                    rows.append(
                        (count, statistics.median(times), min(times), max(times),
                         max(r["rowsInDom"] for r in runs), len(arrow), len(records))
                    )  # fmt: skip
            finally:
                browser.close()
    _report(rows, args.repeat)
    return 0


def _report(rows: list[tuple], repeat: int) -> None:
    print(f"\nRun table render, headless Chromium, median of {repeat} fresh pages")
    head = (
        f"{'runs':>8} | {'first rows ms (median)':>22} | {'min–max ms':>13} | "
        f"{'rows in DOM':>11} | {'Arrow bytes':>12} | {'JSON bytes':>12} | "
        f"{'Arrow/JSON':>10}"
    )
    print(head)
    print("-" * len(head))
    for count, median, low, high, dom, arrow, records in rows:
        print(
            f"{count:>8,} | {median:>22.1f} | {f'{low:.0f}–{high:.0f}':>13} | "
            f"{dom:>11} | {arrow:>12,} | {records:>12,} | {arrow / records:>10.3f}"
        )
    print(
        f"\nTargets: first rows ≤ {TARGET_MS:.0f} ms at 100,000 runs; "
        f"payload ≤ {TARGET_RATIO:.3f} of JSON."
    )
    for count, median, *_rest, arrow, records in rows:
        verdict_ms = "meets" if median <= TARGET_MS else "MISSES"
        verdict_size = "meets" if arrow / records <= TARGET_RATIO else "MISSES"
        print(
            f"  {count:>7,} runs: render {verdict_ms} the target ({median:.0f} ms), "
            f"payload {verdict_size} it ({arrow / records:.3f})"
        )


if __name__ == "__main__":
    sys.exit(main())
