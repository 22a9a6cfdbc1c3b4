"""Session-wide embedded server for the notebooks run by nbval.

nbval starts each notebook's kernel before any fixture runs, so the server is
started here, at session start, and handed to kernels through ``KFP_HOST``.
"""

from __future__ import annotations

import os
import tempfile

import httpx
import pytest

_server = None


def pytest_sessionstart(session):  # noqa: ARG001 - pytest hook signature
    global _server
    from kfp_nb.server import launch

    folder = tempfile.mkdtemp(prefix="kfp-nb-nbval-")
    _server = launch(db=os.path.join(folder, "demo.db"), demo=True, speed=20.0)
    # The notebooks only act on runs when the server names itself as the embedded
    # one; if that ever changed, their action cells would silently skip.
    tag = httpx.get(f"{_server.url}/apis/v2beta1/healthz").json().get("tag_name", "")
    if not str(tag).startswith("kfp-nb"):
        raise RuntimeError(f"embedded server's healthz tag_name is {tag!r}")
    os.environ["KFP_HOST"] = _server.url
    os.environ.pop("KF_PIPELINES_SA_TOKEN_PATH", None)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook
    if _server is not None:
        _server.stop()


def pytest_collection_modifyitems(session, config, items):  # noqa: ARG001 - hook
    # Playwright's sync API keeps an asyncio loop running in the main thread for
    # the rest of the session once a browser test has started it, which breaks
    # every later `asyncio.run`. Browser tests therefore run last.
    browser = [i for i in items if "/tests/browser/" in str(i.path)]
    if browser:
        rest = [i for i in items if "/tests/browser/" not in str(i.path)]
        items[:] = rest + browser
        # Limitation: a real browser on a loaded 2-core machine occasionally misses
        # a frame (seen once, in a selection test, with other suites running beside
        # it); each browser test gets one more try, and the rerun is reported.
        for item in browser:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    # CI keeps only its log: name the screenshots the browser tests wrote.
    from pathlib import Path

    shots = sorted((Path(config.rootpath) / "tests" / "artifacts").rglob("*.png"))
    if shots:
        terminalreporter.section("screenshots")
        for shot in shots:
            rel = shot.relative_to(config.rootpath)
            terminalreporter.write_line(f"{rel} ({shot.stat().st_size:,} bytes)")
