"""RunTable against the embedded server: loading, load/refresh, selection, requests."""

from __future__ import annotations

import pandas as pd
import pytest

from kfp_nb import _states
from kfp_nb.widgets import RunTable

from ._helpers import decode, make_run, prefix, wait_final, wait_for


@pytest.fixture(scope="module")
def seven(kfp):
    """Seven final runs under one prefix: 6 SUCCEEDED, 1 FAILED, with parameters."""
    name = prefix()
    ids = [make_run(kfp, f"{name}{i}", lr=i / 10, flag=i % 2 == 0) for i in range(6)]
    ids.append(make_run(kfp, f"{name}bad", fail_task="report"))
    wait_final(kfp, ids)
    return name, ids


def _loaded(table: RunTable) -> RunTable:
    wait_for(lambda: not table.loading, what="the listing to finish")
    return table


def test_loads_page_by_page_until_loaded_equals_total(kfp, seven, outbox):
    name, ids = seven
    table = _loaded(RunTable(kfp, name_contains=name, page_size=3, polling=False))

    assert table.error == ""
    assert table.loaded == table.total == 7
    assert table._panel == "run_table" and table.archived == "active"
    pages = outbox.of("rows", table)
    assert [m["replace"] for m, _ in pages] == [True, False, False]
    assert all("id" not in m for m, _ in pages)  # unsolicited pages carry no id
    decoded = pd.concat([decode(b[0]).to_pandas() for _, b in pages], ignore_index=True)
    assert sorted(decoded["run_id"]) == sorted(ids)
    assert decoded["run_id"].tolist() == table.frame["run_id"].tolist()
    assert set(table.frame["state"].astype(str)) == {"SUCCEEDED", "FAILED"}
    keys = [c["key"] for c in table.columns]
    assert {
        "display_name",
        "state",
        "param.lr",
        "param.flag",
        "param.fail_task",
    } <= set(keys)
    assert table.updated_at


def test_load_answers_with_every_row_any_time(kfp, seven, outbox):
    # Case 31: messages sent before a view exists are lost, so a view rendered
    # later asks with `load`, and the kernel still has every row.
    name, ids = seven
    table = _loaded(RunTable(kfp, name_contains=name, page_size=2, polling=False))
    for request in ("v1", "v2"):  # a second view of the same model
        table._on_message(table, {"kind": "load", "id": request}, [])
        reply, buffers = outbox.reply(request)
        assert reply["kind"] == "rows" and reply["replace"] is True
        rows = decode(buffers[0]).to_pylist()
        assert sorted(r["run_id"] for r in rows) == sorted(ids)
        by_name = {r["display_name"]: r for r in rows}
        assert by_name[f"{name}bad"]["state"] == "FAILED"
        assert by_name[f"{name}bad"]["error"]


def test_refresh_replies_with_its_id_and_relists(kfp, outbox):
    name = prefix()
    first = make_run(kfp, f"{name}a")
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))
    assert table.loaded == 1
    second = make_run(kfp, f"{name}b")
    future = table._on_message(table, {"kind": "refresh", "id": "r1"}, [])
    future.result(timeout=30)
    reply, buffers = outbox.reply("r1")
    assert reply["kind"] == "rows" and reply["replace"] is True
    _loaded(table)
    assert sorted(decode(buffers[0]).column("run_id").to_pylist()) == sorted(
        [first, second]
    )
    assert table.loaded == table.total == 2


def test_limit_and_sort_follow_client_runs(kfp, seven, outbox):
    name, _ = seven
    table = _loaded(
        RunTable(
            kfp,
            name_contains=name,
            limit=4,
            page_size=3,
            sort_by="name asc",
            polling=False,
        )
    )
    assert table.loaded == 4 and table.total == 4
    names = table.frame["display_name"].tolist()
    assert names == sorted(names)
    assert table.sort == {"key": "name", "desc": False}


def test_archived_trait_reloads_the_other_view(kfp, outbox):
    name = prefix()
    kept, archived = make_run(kfp, f"{name}kept"), make_run(kfp, f"{name}gone")
    kfp.archive_run(archived)
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))
    assert table.frame["run_id"].tolist() == [kept]

    table.archived = "archived"
    wait_for(lambda: table.frame["run_id"].tolist() == [archived], what="reload")
    _loaded(table)
    assert table.frame["storage_state"].astype(str).tolist() == ["ARCHIVED"]

    table.archived = "all"
    wait_for(lambda: len(table.frame) == 2, what="reload of all runs")
    assert (
        RunTable(kfp, name_contains=name, archived=None, polling=False).archived
        == "all"
    )
    with pytest.raises(ValueError, match="archived"):
        RunTable(kfp, archived="sometimes")


def test_select_and_selected_frame(kfp, seven, outbox):
    name, ids = seven
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))
    table.select([ids[3], ids[0]])
    assert table.selected == [ids[3], ids[0]]
    assert table.selected_frame["run_id"].tolist() == [ids[3], ids[0]]

    table.select(table.frame[table.frame["state"] == "FAILED"])
    assert table.selected == [ids[6]]
    table.select(ids[1])
    assert table.selected_frame["display_name"].tolist() == [f"{name}1"]

    with pytest.raises(ValueError, match="nope-1, nope-2"):
        table.select([ids[0], "nope-1", "nope-2"])
    assert table.selected == [ids[1]]  # unchanged by the refused call

    table.selected = [ids[2], "not-loaded"]  # as the front end would sync it
    assert table.selected_frame["run_id"].tolist() == [ids[2]]


def test_from_frame_shows_those_rows_and_refreshes_them(kfp, seven, outbox):
    name, ids = seven
    df = kfp.runs(name_contains=name)
    subset = df[df["run_id"].isin(ids[:2])]
    table = RunTable.from_frame(subset, kfp, polling=False)
    assert table.loaded == table.total == 2
    assert sorted(table.frame["run_id"]) == sorted(ids[:2])
    table._on_message(table, {"kind": "load", "id": "l"}, [])
    assert decode(outbox.reply("l")[1][0]).num_rows == 2

    kfp.archive_run(ids[0])
    try:
        table.refresh(request_id="f")
        outbox.reply("f")
        _loaded(table)
        states = dict(
            zip(table.frame["run_id"], table.frame["storage_state"].astype(str))
        )
        assert states == {ids[0]: "ARCHIVED", ids[1]: "AVAILABLE"}
    finally:
        kfp.unarchive_run(ids[0])
    with pytest.raises(ValueError, match="run_id"):
        RunTable.from_frame(pd.DataFrame({"x": [1]}), kfp)
    bare = RunTable.from_frame(pd.DataFrame({"run_id": [ids[1]]}), kfp, polling=False)
    assert bare.terminate(run_ids=[ids[1]])["error"][0].startswith(
        "run is SUCCEEDED"
    )  # read back
    bare.refresh(request_id="g")
    outbox.reply("g")
    _loaded(bare)
    assert bare.frame["state"].astype(str).tolist() == ["SUCCEEDED"]


def test_run_detail_request_returns_run_and_tasks_as_wire_json(kfp, seven, outbox):
    name, ids = seven
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))
    future = table._on_message(
        table, {"kind": "run_detail", "id": "d", "run_id": ids[6]}, []
    )
    future.result(timeout=30)
    reply, _ = outbox.reply("d")
    assert reply["ok"] is True and reply["kind"] == "run_detail"
    assert reply["run"]["run_id"] == ids[6] and reply["run"]["state"] == "FAILED"
    assert reply["tasks"] and all(isinstance(t, dict) for t in reply["tasks"])
    assert {t["run_id"] for t in reply["tasks"]} == {ids[6]}
    assert any(t.get("state") == "FAILED" for t in reply["tasks"])


def test_bad_requests_get_error_replies_and_the_widget_lives_on(kfp, seven, outbox):
    name, ids = seven
    table = _loaded(RunTable(kfp, name_contains=name, polling=False))

    table._on_message(table, {"kind": "explode", "id": "x"}, [])
    reply, _ = outbox.reply("x")
    assert reply == {
        "id": "x",
        "kind": "explode",
        "ok": False,
        "error": "unknown request kind 'explode'",
    }

    table._on_message(table, {"kind": "action", "id": "a", "action": "archive"}, [])
    reply, _ = outbox.reply("a")
    assert reply["kind"] == "action_done" and reply["ok"] is False
    assert "run_ids" in reply["error"]

    table._on_message(
        table, {"kind": "action", "id": "b", "action": "fly", "run_ids": ids[:1]}, []
    )
    assert "unknown action 'fly'" in outbox.reply("b")[0]["error"]

    table._on_message(
        table, {"kind": "run_detail", "id": "c", "run_id": "missing-run"}, []
    )
    reply, _ = outbox.reply("c")
    assert reply["ok"] is False and "missing-run" in reply["error"]
    assert table.error  # a server answer: shown in the panel too

    table._on_message(table, "not a dict", [])
    table._on_message(table, {"kind": "load", "id": "ok"}, [])
    assert outbox.reply("ok")[0]["kind"] == "rows"


def test_rules_trait_is_the_state_table(kfp, outbox):
    table = RunTable(kfp, name_contains=prefix(), polling=False)
    assert table.rules == _states.rules_payload()
    assert table.rules["actions"]["retry"] == ["FAILED"]
