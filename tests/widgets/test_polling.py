"""Live state: polling of active runs starts, pushes updates, stops."""

from __future__ import annotations

import threading

from kfp_nb.widgets import RunTable, RunView

from ._helpers import decode, make_run, prefix, wait_final, wait_for, wait_state


def _poll_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kfp_nb-poll")]


def test_polls_active_runs_until_all_are_final(kfp, outbox):
    name = prefix()
    done = make_run(kfp, f"{name}done")
    wait_final(kfp, [done])
    active = make_run(kfp, f"{name}active", duration_scale=6)
    table = RunTable(kfp, name_contains=name, poll_interval=0.1)
    wait_for(lambda: not table.loading, what="the listing")
    assert table.polling_active

    wait_for(lambda: outbox.of("update", table), what="a pushed update")
    polled = {
        r["run_id"]
        for m, b in outbox.of("update", table)
        for r in decode(b[0]).to_pylist()
    }
    assert polled == {active}  # only active runs are polled

    wait_for(lambda: not table.polling_active, timeout=60, what="polling to stop")
    assert table.frame.set_index("run_id").at[active, "state"] == "SUCCEEDED"
    last = decode(outbox.of("update", table)[-1][1][0]).to_pylist()
    assert last[0]["state"] == "SUCCEEDED"
    assert table.updated_at and table.error == ""
    assert not _poll_threads()


def test_close_stops_polling_and_leaves_no_thread(kfp, outbox):
    name = prefix()
    make_run(kfp, f"{name}slow", duration_scale=200)
    table = RunTable(kfp, name_contains=name, poll_interval=0.05)
    wait_for(lambda: table.polling_active, what="polling to start")
    wait_for(lambda: outbox.of("update", table), what="an update")

    table.close()

    assert not table.polling_active
    assert not [t for t in threading.enumerate() if t.name.startswith("kfp_nb-")]
    count = len(outbox.items)
    table._poll_tick()  # a tick racing the close sends nothing
    assert len(outbox.items) == count


def test_polling_toggle_stops_and_restarts(kfp, outbox):
    name = prefix()
    make_run(kfp, f"{name}slow", duration_scale=200)
    table = RunTable(kfp, name_contains=name, poll_interval=0.05)
    wait_for(lambda: table.polling_active, what="polling to start")

    table.polling = False
    assert not table.polling_active and not _poll_threads()
    table.polling = True
    assert table.polling_active


def test_no_polling_when_nothing_is_active(kfp, outbox):
    name = prefix()
    wait_final(kfp, [make_run(kfp, f"{name}done")])
    table = RunTable(kfp, name_contains=name, poll_interval=0.05)
    wait_for(lambda: not table.loading, what="the listing")
    assert not table.polling_active


def test_run_view_pushes_detail_while_active_and_stops_when_final(kfp, outbox):
    run_id = make_run(kfp, f"{prefix()}view", duration_scale=6)
    wait_state(kfp, run_id, {"PENDING", "RUNNING"})
    view = RunView(kfp, run_id, poll_interval=0.1)
    assert view._panel == "run_view" and view.run_id == run_id

    wait_for(lambda: outbox.of("run_detail", view), what="a pushed detail")
    pushed, _ = outbox.of("run_detail", view)[0]
    assert "id" not in pushed and pushed["ok"] is True
    assert pushed["run"]["run_id"] == run_id

    wait_for(
        lambda: view.run and view.run["state"] == "SUCCEEDED",
        timeout=60,
        what="the run to succeed",
    )
    wait_for(lambda: not view._poller.running, what="polling to stop")
    assert outbox.of("run_detail", view)[-1][0]["run"]["state"] == "SUCCEEDED"
    assert view.tasks and view.tasks[0]["run_id"] == run_id
