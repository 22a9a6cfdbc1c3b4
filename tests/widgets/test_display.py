"""What a saved notebook keeps (HTML fallback), and what never leaves the kernel."""

from __future__ import annotations

import json
import logging

import pytest

from kfp_nb import AsyncClient, Client
from kfp_nb.widgets import RunTable, RunView, _base, _fallback

from .._data import case
from ._helpers import make_run, prefix, wait_final, wait_for

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SECRETS = ("secret-token-value", "secret-cookie-value")


def _loaded(table):
    wait_for(lambda: not table.loading, what="the listing")
    return table


def test_case_38_names_are_escaped_in_the_fallback(kfp, outbox):
    hostile = case("38")["request"]["body"]["display_name"]
    name = prefix()
    run_id = make_run(kfp, f"{name}{hostile}")
    wait_final(kfp, [run_id])
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))
    assert table.frame["display_name"].tolist() == [f"{name}{hostile}"]  # verbatim

    html = table._repr_mimebundle_()[0]["text/html"]

    assert "<script>" not in html and "<img" not in html and "</td><script" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "訓練 🚀 &amp; &quot;quoted&quot;" in html

    view = RunView(kfp, run_id, polling=False)
    view_html = view._repr_mimebundle_()[0]["text/html"]
    assert "<script>" not in view_html and "&lt;script&gt;" in view_html
    assert "訓練 🚀" in view_html and "report" in view_html  # its task


def test_case_29_saved_output_has_a_fallback_next_to_the_widget_view(kfp, outbox):
    # Reopened without the kernel, the widget model is gone ("model not found"):
    # the saved output must still show the runs.
    assert case("29")["kind"] == "widgets"
    name = prefix()
    ok = [make_run(kfp, f"{name}ok{i}") for i in range(2)]
    bad = make_run(kfp, f"{name}bad", fail_task="report")
    wait_final(kfp, [*ok, bad])
    table = RunTable(kfp, name_contains=name, polling=False)

    data, _ = table._repr_mimebundle_()  # waits for the first page

    assert data[WIDGET_VIEW]["model_id"] == table.model_id
    assert data["text/plain"] == "<kfp_nb.RunTable 3 runs: 2 SUCCEEDED, 1 FAILED>"
    html = data["text/html"]
    assert html.count("<tr>") == 4  # header + 3 runs
    for label in ("Name", "State", "Experiment", "Created", "Duration"):
        assert f">{label}</th>" in html
    assert f"{name}bad" in html and "FAILED" in html and "Default" in html


def test_fallback_is_capped(outbox):
    import pandas as pd

    from kfp_nb._frames import runs_frame

    frame = runs_frame(
        [
            {"run_id": f"r{i}", "display_name": f"n{i}", "state": "SUCCEEDED"}
            for i in range(_fallback.MAX_ROWS + 5)
        ]
    )
    html = _fallback.table_html(frame, total=1000)
    assert html.count("<tr>") == _fallback.MAX_ROWS + 1
    assert f"showing the first {_fallback.MAX_ROWS} of {len(frame)} loaded runs" in html
    assert "205 of 1000 runs" in html
    assert _fallback.summary_text(pd.DataFrame({"state": []})) == "0 runs"


def test_missing_bundle_shows_how_to_build_it():
    esm = _base._bundle("no-such-file.js", _base._NOT_BUILT_ESM)
    assert esm == _base._NOT_BUILT_ESM and "\n" in esm  # source text, not a path
    assert "run `make setup` (or pip install the package, which builds it)" in esm
    assert "front end is not built" in esm
    built = _base._STATIC / "widget.js"
    if built.is_file():  # after `make setup`: the panels serve the bundle itself
        assert _base._bundle("widget.js", "x") == built
        assert str(RunTable._esm) == built.read_text()


def test_secrets_never_leave_the_kernel(live, outbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(
        live.url,
        token="secret-token-value",
        cookies={"session": "secret-cookie-value"},
        backoff=0,
    )
    name = prefix()
    ids = [make_run(client, f"{name}{i}", duration_scale=50) for i in range(2)]
    failed = make_run(client, f"{name}bad", fail_task="report")
    wait_final(client, [failed])
    table = _loaded(RunTable(client, name_contains=name, poll_interval=0.05))
    wait_for(lambda: outbox.of("update", table), what="a poll")
    for request in (
        {"kind": "load", "id": "1"},
        {"kind": "refresh", "id": "2"},
        {"kind": "run_detail", "id": "3", "run_id": failed},
        {"kind": "action", "id": "4", "action": "terminate", "run_ids": ids},
        {"kind": "action", "id": "5", "action": "retry", "run_ids": ids},
        {"kind": "nonsense", "id": "6"},
    ):
        future = table._on_message(table, request, [])
        if future is not None:
            future.result(timeout=60)
    table.archived = "all"
    _loaded(table)
    view = RunView(client, failed, polling=False)
    view._on_message(view, {"kind": "run_detail", "id": "7", "run_id": failed}, [])
    outbox.reply("7")

    exposed = [
        json.dumps(table.get_state(), default=str),
        json.dumps(view.get_state(), default=str),
        repr(table),
        repr(view),
        json.dumps(table._repr_mimebundle_(), default=str),
        json.dumps(view._repr_mimebundle_(), default=str),
        *(json.dumps(content, default=str) for _, content, _ in outbox.items),
        *(bytes(b).decode("latin-1") for _, _, bufs in outbox.items for b in bufs),
        *(record.getMessage() for record in caplog.records),
        *(str(record.exc_info) for record in caplog.records),
    ]
    assert len(outbox.items) > 10 and caplog.records
    for text in exposed:
        for secret in SECRETS:
            assert secret not in text
    assert all("_client" not in key for key in table.keys)
    client.close()


def test_a_client_is_required(outbox):
    with pytest.raises(TypeError, match="kfp_nb.Client"):
        RunTable("http://localhost:8080")
    with pytest.raises(TypeError, match="not an AsyncClient"):
        RunTable(AsyncClient("http://127.0.0.1:1"))
    with pytest.raises(ValueError, match="run id"):
        RunView(object.__new__(Client), "")
