"""Server or network failures end up in the panel (``error``), never as exceptions."""

from __future__ import annotations

from kfp_nb import Client
from kfp_nb.widgets import RunTable, RunView

from ._helpers import make_run, wait_for


def test_server_stopped_mid_way(server, outbox):
    client = Client(server.url, retries=0, backoff=0)
    running = make_run(client, "slow", duration_scale=200)
    table = RunTable(client, polling=False, poll_interval=0.05)
    wait_for(lambda: not table.loading, what="the listing")
    table.select([running])
    view = RunView(client, running, polling=False)
    assert table.error == "" and view.error == ""

    server.stop()

    table._on_message(table, {"kind": "refresh", "id": "r"}, []).result(timeout=30)
    reply, _ = outbox.reply("r")
    wait_for(lambda: not table.loading, what="the failed listing to end")
    assert reply == {"id": "r", "kind": "rows", "ok": False, "error": table.error}
    assert "could not connect" in table.error
    assert table.frame["run_id"].tolist() == [running]  # nothing lost

    result = table.terminate()
    assert not result["ok"][0] and "connect" in result["error"][0].lower()
    assert table.selected == [running]
    assert table.error  # re-reading after the action failed too

    table.error = ""
    table.polling = True
    wait_for(lambda: table.error, what="a polling error")
    assert "polling" in table.error

    future = view._on_message(
        view, {"kind": "run_detail", "id": "d", "run_id": running}, []
    )
    future.result(timeout=30)
    assert outbox.reply("d")[0]["ok"] is False and view.error

    table._on_message(table, {"kind": "load", "id": "l"}, [])
    assert outbox.reply("l")[0]["replace"] is True  # kept rows still served
    client.close()


def test_a_table_on_a_dead_server_shows_the_error(tmp_path, outbox):
    from kfp_nb.server._process import free_port

    client = Client(f"http://127.0.0.1:{free_port('127.0.0.1')}", retries=0)
    table = RunTable(client)
    wait_for(lambda: not table.loading, what="the failed listing")
    assert table.error and table.loaded == 0
    assert outbox.of("rows", table)[0][0]["ok"] is False
    html = table._repr_mimebundle_()[0]["text/html"]
    assert "error:" in html
    view = RunView(client, "some-run")
    assert view.error and "some-run" in repr(view)
    assert "error:" in view._repr_mimebundle_()[0]["text/html"]
