"""Browser fixtures: Debian Chromium driven by Playwright (sync API), the panel
harness, embedded servers with demo or bulk data.

The browser tests fail when Chromium is missing (``make browser`` installs it);
set ``KFP_NB_SKIP_BROWSER=1`` to skip them instead.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from kfp_nb.server import launch

from ._harness import STATIC, Harness
from ._seed import seed_bulk

CHROMIUM = os.environ.get("KFP_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the suite may run as root (containers, CI)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
#: Fixed zone and locale: the panels show times in the browser's zone by default.
CONTEXT = {
    "viewport": {"width": 1280, "height": 900},
    "timezone_id": "UTC",
    "locale": "en-US",
}


def _chromium_or_fail() -> str:
    if os.environ.get("KFP_NB_SKIP_BROWSER") == "1":
        pytest.skip("KFP_NB_SKIP_BROWSER=1")
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else "")
    if not path:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install "
            "chromium), point KFP_NB_CHROMIUM at it, or set KFP_NB_SKIP_BROWSER=1",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium with a fresh, throw-away profile.

    Package-scoped on purpose: a live sync Playwright keeps an asyncio loop running
    on this thread, which breaks ``asyncio.run`` in every later test of the
    session; it stops when the browser tests end.
    """
    executable = _chromium_or_fail()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a context of its own; a screenshot is kept when the test fails."""
    context = browser.new_context(**CONTEXT)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.report_call = report  # read by the page fixture's teardown
    return report


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def bundle() -> Path:
    widget = STATIC / "widget.js"
    if not widget.exists():
        pytest.fail("kfp_nb/static/widget.js is missing: run `cd js && npm run build`")
    return widget


@pytest.fixture
def harness(bundle: Path) -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()
    assert not h.errors, f"kernel-side widget handlers raised: {h.errors}"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Any]:
    """A fresh demo server of this test's own (actions change its runs).

    Speed 5: a retried run stays RUNNING for seconds, a terminate ends after 1 s.
    """
    proc = launch(db=str(tmp_path / "demo.db"), demo=True, speed=5.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def read_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A demo server shared by one module's read-only tests."""
    proc = launch(
        db=str(tmp_path_factory.mktemp("read") / "demo.db"), demo=True, speed=5.0
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server holding 10,000 finished runs written straight into its database."""
    db = tmp_path_factory.mktemp("bulk") / "bulk.db"
    seed_bulk(str(db), 10_000)
    proc = launch(db=str(db), demo=False, speed=5.0)
    yield proc
    proc.stop()


@pytest.fixture
def kfp(live_server: Any) -> Iterator[Any]:
    from kfp_nb import Client

    with Client(live_server.url) as c:
        yield c
