"""RunView: the detail of one run, answered from the kernel."""

from __future__ import annotations

from kfp_nb.widgets import RunView

from ._helpers import make_run, prefix, wait_final


def test_run_view_answers_run_detail_and_follows_run_id(kfp, outbox):
    name = prefix()
    first = make_run(kfp, f"{name}one", fail_task="report", lr=0.1)
    second = make_run(kfp, f"{name}two")
    wait_final(kfp, [first, second])
    view = RunView(kfp, first, time_zone="Europe/Paris")

    assert view.run["run_id"] == first and view.run["state"] == "FAILED"
    assert view.time_zone == "Europe/Paris" and view.updated_at
    assert not view._poller.running  # final: nothing to poll
    view._on_message(view, {"kind": "run_detail", "id": "q", "run_id": first}, [])
    reply, _ = outbox.reply("q")
    assert reply["run"]["display_name"] == f"{name}one"
    assert [t["run_id"] for t in reply["tasks"]] == [first] * len(reply["tasks"])

    html = view._repr_mimebundle_()[0]["text/html"]
    assert f"{name}one" in html and "param lr" in html and "FAILED" in html
    assert repr(view) == f"<kfp_nb.RunView run {first} '{name}one': FAILED>"

    view.run_id = second  # as the front end or the user may set it
    assert view.run["run_id"] == second and view.run["state"] == "SUCCEEDED"
    assert f"{name}two" in view._repr_mimebundle_()[0]["text/html"]


def test_run_view_of_a_missing_run_shows_the_error(kfp, outbox):
    view = RunView(kfp, "no-such-run")
    assert view.run is None and "no-such-run" in view.error
    assert "no-such-run" in view._repr_mimebundle_()[0]["text/html"]
