"""Fixtures of the panel tests: one embedded server per module, a captured outbox.

The front end is simulated: requests go straight to the widget's message
handler, and every message the kernel would send is captured instead (an
``Outbox``), so the tests see exactly what a view would receive.
"""

from __future__ import annotations

import threading

import pytest
from ipywidgets.widgets.widget import _instances

from kfp_nb import Client
from kfp_nb.server import launch
from kfp_nb.widgets._base import Panel

from ._helpers import Outbox


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """An embedded server (speed 20) shared by one module's tests."""
    folder = tmp_path_factory.mktemp("widgets")
    proc = launch(db=str(folder / "kfp.db"), demo=False, speed=20.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def kfp(live):
    with Client(live.url, backoff=0) as client:
        yield client


@pytest.fixture
def outbox(monkeypatch) -> Outbox:
    """Every message any panel sends during the test."""
    box = Outbox()
    monkeypatch.setattr(
        Panel,
        "send",
        lambda self, content, buffers=None: box.record(self, content, buffers),
    )
    return box


@pytest.fixture(autouse=True)
def _close_panels():
    """Close panels a test left open, and check that no panel thread survives."""
    yield
    for widget in list(_instances.values()):
        if isinstance(widget, Panel):
            widget.close()
    left = [t.name for t in threading.enumerate() if t.name.startswith("kfp_nb-")]
    assert not left, f"panel threads left running: {left}"
