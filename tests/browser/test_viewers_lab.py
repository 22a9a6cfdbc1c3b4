"""Artifact viewers in a real JupyterLab: hostile HTML and Markdown stay inert.

One JupyterLab server and one embedded demo server for the module. The notebook
displays demo artifacts by their rich display (``client.artifact(...)`` as a
cell's value). Whether an artifact's request reached the notebook server is read
from JupyterLab's own log, which names every request answered 4xx; a request the
test makes itself first proves the log would show one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from kfp_nb.server import launch

from ._lab import LabServer, notebook, open_notebook, run_all
from ._viewers_page import CANARY_GLOBAL, DemoArtifacts, html_frame, probe_report

BLOCKED = (
    "parent_document", "parent_globals", "top_location_read", "cookie_read",
    "local_storage", "window_open", "top_navigation", "fetch_get", "fetch_api",
    "fetch_post",
)  # fmt: skip
CANARY_MARKS = ("kfp-nb-canary/", "kfp_nb_canary")


@pytest.fixture(scope="module")
def lab_env(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LabServer, Any]]:
    tmp = tmp_path_factory.mktemp("viewers-lab")
    server = launch(db=str(tmp / "demo.db"), demo=True, speed=5.0)
    lab = LabServer(tmp, env={"KFP_HOST": server.url})
    try:
        lab.start()
        yield lab, server
    finally:
        lab.stop()
        server.stop()


def _cells(demo: DemoArtifacts) -> tuple[str, ...]:
    hostile = demo.find("hostile_html", run=demo.edge_runs[0])
    markdown = demo.find("unsafe_markdown", run=demo.edge_runs[1])
    names = demo.find("odd_metric_names", run=demo.edge_runs[0])
    return (
        "import kfp_nb\nclient = kfp_nb.Client()",
        f"client.artifact({hostile[0]!r}, {hostile[1]!r}, 'hostile_html')",
        f"client.artifact({markdown[0]!r}, {markdown[1]!r}, 'unsafe_markdown')",
        f"client.artifact({names[0]!r}, {names[1]!r}, 'odd_metric_names')",
        'print("CELLS DONE")',
    )


def _log_has(lab: LabServer, mark: str, *, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mark in lab.log_tail(100_000):
            return True
        time.sleep(0.1)
    return False


def test_hostile_artifacts_stay_inert_in_jupyterlab(
    browser: Browser, lab_env: tuple[LabServer, Any], artifacts: Path
) -> None:
    lab, server = lab_env
    demo = DemoArtifacts(server.url)
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="UTC", locale="en-US"
    )
    popups: list[str] = []
    dialogs: list[str] = []
    outside: list[str] = []
    context.route(
        re.compile(r"^(?!https?://127\.0\.0\.1[:/])[a-z]+://"),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page = context.new_page()
    context.on("page", lambda p: popups.append(p.url))  # any page after this one
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        open_notebook(page, lab.add_notebook("viewers.ipynb", notebook(*_cells(demo))))
        url = page.url
        page.evaluate("() => localStorage.setItem('kfp_nb_mine', 'kept')")
        run_all(page)
        expect(page.get_by_text("CELLS DONE")).to_be_visible(timeout=60_000)
        try:
            expect(page.get_by_test_id("html-frame")).to_have_count(1, timeout=30_000)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nJupyterLab log:\n{lab.log_tail()}") from exc

        frame_el = page.get_by_test_id("html-frame")
        assert (frame_el.get_attribute("sandbox") or "").split() == ["allow-scripts"]
        frame_el.scroll_into_view_if_needed()
        report = probe_report(html_frame(page))
        for probe in BLOCKED:
            assert report[probe].startswith("blocked"), (probe, report[probe])
        for cookie in context.cookies(lab.url):
            assert cookie["value"] not in json.dumps(report), cookie["name"]

        body = page.get_by_test_id("markdown-body")
        expect(body.locator("h1")).to_have_text("Notes with unsafe markup")
        assert body.locator("script, iframe, form, svg").count() == 0
        for text in ("a javascript: link", "raw HTML link"):
            body.get_by_text(text).click()
        metrics = page.get_by_test_id("viewer-metrics")
        expect(metrics).to_contain_text("訓練 accuracy 🚀")
        expect(metrics).to_contain_text("<img src=x onerror=")
        assert metrics.locator("img").count() == 0
        page.wait_for_timeout(300)

        state = page.evaluate(
            """(flag) => ({url: location.href, canary: typeof window[flag],
                          marked: document.body.getAttribute('data-kfp-nb-pwned'),
                          mine: localStorage.getItem('kfp_nb_mine'),
                          pwned: localStorage.getItem('kfp_nb_pwned')})""",
            CANARY_GLOBAL,
        )
        assert state == {"url": url, "canary": "undefined", "marked": None,
                         "mine": "kept", "pwned": None}, state  # fmt: skip
        assert not popups and not dialogs and not outside, (popups, dialogs, outside)
        page.screenshot(path=str(artifacts / "viewer_lab.png"), full_page=True)
    finally:
        context.close()

    # Server side: a request of our own shows up in the log, the artifact's never.
    httpx.get(f"{lab.url}/kfp-nb-canary/control-from-test")
    assert _log_has(lab, "kfp-nb-canary/control-from-test"), lab.log_tail()
    log = lab.log_tail(100_000)
    hits = [
        line for line in log.splitlines()
        if any(m in line for m in CANARY_MARKS) and "control-from-test" not in line
    ]  # fmt: skip
    assert not hits, hits


def test_notebook_03_renders_every_viewer_in_jupyterlab(
    browser: Browser, lab_env: tuple[LabServer, Any], artifacts: Path
) -> None:
    lab, _ = lab_env
    source = Path(__file__).resolve().parents[2] / "notebooks" / "03-artifacts.ipynb"
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="UTC", locale="en-US"
    )
    page = context.new_page()
    try:
        open_notebook(page, lab.add_notebook("03.ipynb", json.loads(source.read_text())))
        run_all(page)
        expect(page.get_by_text("all checks passed")).to_be_visible(timeout=90_000)
        viewers = page.get_by_test_id("kfp-artifact-viewer")
        expect(viewers).to_have_count(13, timeout=30_000)
        for kind in ("metrics", "confusion_matrix", "roc", "html", "markdown",
                     "table", "image", "text", "binary", "error"):  # fmt: skip
            assert page.get_by_test_id(f"viewer-{kind}").count() >= 1, kind
        assert page.get_by_text("unknown panel").count() == 0
        stderr = "application/vnd.jupyter.stderr"
        outputs = page.locator(f".jp-OutputArea-output[data-mime-type='{stderr}']")
        texts = [t for t in outputs.all_text_contents() if "Error" in t]
        assert not texts, texts
        page.screenshot(path=str(artifacts / "viewer_notebook03.png"), full_page=True)
    finally:
        context.close()
