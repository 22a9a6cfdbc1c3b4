"""Actions on the selection: rules, concurrency outcomes, server state afterwards."""

from __future__ import annotations

import pandas as pd
import pytest

from kfp_nb import NotFound
from kfp_nb.widgets import RunTable

from ._helpers import decode, make_run, prefix, wait_final, wait_for, wait_state

LONG = 200  # duration_scale keeping a run RUNNING for minutes at speed 20


def _table(kfp, name, **options):
    table = RunTable(kfp, name_contains=name, polling=False, **options)
    wait_for(lambda: not table.loading, what="the listing")
    return table


def test_terminate_a_mix_refuses_final_runs_without_calling_the_server(kfp, outbox):
    name = prefix()
    running = make_run(kfp, f"{name}run", duration_scale=LONG)
    done = make_run(kfp, f"{name}done")
    wait_final(kfp, [done])
    wait_state(kfp, running, {"RUNNING"})
    table = _table(kfp, name)
    table.select([running, done])

    result = table.terminate()

    assert result.columns.tolist() == ["run_id", "action", "ok", "error"]
    outcome = result.set_index("run_id")
    assert bool(outcome.at[running, "ok"]) is True
    assert pd.isna(outcome.at[running, "error"])
    assert bool(outcome.at[done, "ok"]) is False
    assert "only PENDING, RUNNING or PAUSED" in outcome.at[done, "error"]
    assert table.selected == [done]  # the failed one stays selected
    assert kfp.get_run(running).state in ("CANCELING", "FAILED")
    assert kfp.get_run(done).state == "SUCCEEDED"
    updated = decode(outbox.of("update", table)[-1][1][0]).to_pylist()
    assert updated[0]["run_id"] == running
    assert updated[0]["state"] in ("CANCELING", "FAILED")
    assert table.last_action["requested"] == 2 and table.last_action["succeeded"] == 1
    assert table.last_action["failed"][0]["run_id"] == done


def test_a_server_refusal_is_the_runs_outcome_with_the_servers_short_message(
    kfp, outbox
):
    # The table still shows the run RUNNING (a stale frame), but it has finished:
    # the pre-check lets it through and the server refuses.
    name = prefix()
    run_id = make_run(kfp, f"{name}quick")
    wait_final(kfp, [run_id])
    stale = kfp.runs(name_contains=name)
    stale["state"] = "RUNNING"
    table = RunTable.from_frame(stale, kfp, polling=False)
    other = make_run(kfp, f"{name}slow", duration_scale=LONG)

    result = table.terminate(run_ids=[run_id, other])

    outcome = result.set_index("run_id")
    assert bool(outcome.at[run_id, "ok"]) is False
    assert outcome.at[run_id, "error"].startswith("Failed to terminate a run")
    assert "HTTP" not in outcome.at[run_id, "error"]  # the short text, not the chain
    assert bool(outcome.at[other, "ok"]) is True
    assert kfp.get_run(other).state in ("CANCELING", "FAILED")


def test_archive_and_restore_move_runs_between_views(kfp, outbox):
    name = prefix()
    ids = [make_run(kfp, f"{name}{i}") for i in range(3)]
    wait_final(kfp, ids)
    table = _table(kfp, name)
    table.select(ids[:2])

    result = table.archive()

    assert result["ok"].tolist() == [True, True]
    assert {kfp.get_run(r).storage_state for r in ids[:2]} == {"ARCHIVED"}
    assert table.frame["run_id"].tolist() == [ids[2]]  # left the active view
    removed = [rid for m, _ in outbox.of("remove", table) for rid in m["run_ids"]]
    assert sorted(removed) == sorted(ids[:2])
    assert table.selected == [] and table.loaded == 1

    archived = _table(kfp, name, archived=True)
    archived.select(ids[:2])
    refused = archived.restore(run_ids=[ids[2]])  # not archived: refused
    assert not refused["ok"].any() and refused["error"][0] == "run is not archived"
    assert archived.restore()["ok"].all()
    assert {kfp.get_run(r).storage_state for r in ids[:2]} == {"AVAILABLE"}


def test_retry_makes_a_failed_run_active_and_refuses_others(kfp, outbox):
    name = prefix()
    failed = make_run(kfp, f"{name}bad", fail_task="report")
    fine = make_run(kfp, f"{name}good")
    wait_final(kfp, [failed, fine])
    table = _table(kfp, name)
    table.select([failed, fine])

    result = table.retry().set_index("run_id")

    assert bool(result.at[failed, "ok"]) and not bool(result.at[fine, "ok"])
    assert (
        result.at[fine, "error"] == "run is SUCCEEDED; only FAILED runs can be retried"
    )
    state = table.frame.set_index("run_id").at[failed, "state"]
    assert state in ("PENDING", "RUNNING", "SUCCEEDED")
    assert kfp.get_run(failed).state in ("PENDING", "RUNNING", "SUCCEEDED")
    wait_final(kfp, [failed])
    assert kfp.get_run(failed).state == "SUCCEEDED"  # fail_attempts=1: the retry works


def test_delete_removes_runs_from_server_and_table(kfp, outbox):
    name = prefix()
    ids = [make_run(kfp, f"{name}{i}") for i in range(2)]
    table = _table(kfp, name)

    result = table.delete(run_ids=ids)

    assert result["ok"].all()
    for rid in ids:
        with pytest.raises(NotFound):
            kfp.get_run(rid)
    assert table.frame.empty and table.loaded == 0 and table.total == 0
    assert sorted(outbox.of("remove", table)[-1][0]["run_ids"]) == sorted(ids)
    again = table.delete(run_ids=ids[:1])  # gone already: the server's 404 text
    assert not again["ok"][0] and ids[0] in again["error"][0]


def test_action_request_from_the_front_end(kfp, outbox):
    name = prefix()
    ids = [make_run(kfp, f"{name}{i}") for i in range(3)]
    wait_final(kfp, ids)
    table = _table(kfp, name)
    table.selected = list(ids)
    request = {"kind": "action", "id": "act-1", "action": "archive", "run_ids": ids}

    future = table._on_message(table, request, [])  # returns at once: kernel free
    future.result(timeout=60)

    progress = [m for m, _ in outbox.of("action_progress", table) if m["id"] == "act-1"]
    assert sorted(m["run_id"] for m in progress) == sorted(ids)
    assert all(m["ok"] is True and m["error"] == "" for m in progress)
    done, _ = outbox.reply("act-1", "action_done")
    assert done["ok"] is True
    assert [r["run_id"] for r in done["results"]] == ids
    assert all(r["action"] == "archive" and r["ok"] for r in done["results"])
    assert table.selected == []
    assert table.last_action["action"] == "archive"
    assert table.last_action["succeeded"] == 3 and table.last_action["failed"] == []
    assert {kfp.get_run(r).storage_state for r in ids} == {"ARCHIVED"}


def test_no_selection_is_a_clear_error(kfp, outbox):
    table = _table(kfp, prefix())
    assert (table.loaded, table.total, table.error) == (0, 0, "")
    empty = decode(outbox.of("rows", table)[0][1][0])
    assert empty.num_rows == 0 and "state" in empty.schema.names
    with pytest.raises(ValueError, match="no runs selected"):
        table.archive()
    with pytest.raises(ValueError, match="unknown action"):
        table._act("explode", ["x"])
