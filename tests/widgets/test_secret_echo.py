"""A login redirect carrying credentials leaves no trace in panel state or logs."""

from __future__ import annotations

import logging

from kfp_nb.widgets import RunTable, RunView

from ..client._mock import FakeServer, reply
from ._helpers import wait_for

TOKEN = "SeCrEtTok3nValue0123456789abcdef"
COOKIE = "c00kieValue-abcdef0123456789"


def _fake() -> FakeServer:
    location = f"https://kubeflow.example.com/dex/auth?state={TOKEN}&t={COOKIE}"
    return FakeServer().on("GET", ".*", reply(302, "", {"location": location}))


def _clean(text: str) -> None:
    assert TOKEN[:8] not in text and COOKIE[:8] not in text


def test_panel_errors_and_logs_hold_no_credentials(outbox, caplog):
    caplog.set_level(logging.DEBUG, logger="kfp_nb")
    client = _fake().client(token=TOKEN, cookies={"session": COOKIE})
    table = RunTable(client, polling=False)
    wait_for(lambda: table.get_state()["error"], what="the table's error")
    view = RunView(client, "r1", polling=False)
    wait_for(lambda: view.get_state()["error"], what="the view's error")
    for panel in (table, view):
        error = panel.get_state()["error"]
        assert "login" in str(error)
        _clean(str(error))
    _clean(caplog.text)
