"""Snapshot of the demo server → file → replay server: the same answers."""

from __future__ import annotations

import time
import zipfile

import httpx
import pytest

from kfp_nb import Client, _errors
from kfp_nb._artifact import artifact_rows, node_id
from kfp_nb._snapshot import FORMAT, read_snapshot
from kfp_nb.server import launch

from .conftest import FINAL, experiment_id

API = "/apis/v2beta1"


def _get(base: str, path: str, **params) -> httpx.Response:
    return httpx.get(f"{base}{API}{path}", params=params, timeout=30)


def _without(record: dict, *keys: str) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def test_file_holds_the_selection_and_a_manifest(
    snapshot_file, selection, captured, demo_server
):
    path, manifest = snapshot_file
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {"manifest.json", "runs.jsonl", "tasks.jsonl", "experiments.jsonl",
            "artifacts.jsonl"} <= names  # fmt: skip
    assert manifest["format"] == FORMAT and manifest["version"] == 1
    assert manifest["source"] == {
        "host": demo_server.url,
        "server": "kfp-nb-embedded/0.1.0",
    }
    assert manifest["kfp_nb_version"] == "0.1.0"
    assert manifest["created_at"].endswith("Z")
    ids = list(dict.fromkeys(selection["run_id"]))
    assert manifest["selection"] == {"run_ids": ids}
    assert [r["run_id"] for r in captured.runs] == ids
    assert manifest["counts"]["runs"] == len(ids)
    assert manifest["counts"]["experiments"] == 2  # edge cases and churn
    assert manifest["counts"]["tasks"] == len(captured.tasks) > len(ids)
    stored = [a for a in captured.artifacts if a["status"] == "stored"]
    assert len(stored) == manifest["counts"]["artifacts_stored"] >= 12
    assert all(isinstance(a["data"], bytes) and a["data"][:2] == b"\x1f\x8b"
               for a in stored)  # the gzipped tar as the server sent it  # fmt: skip
    assert all("tasks" not in r for r in captured.runs)


def test_final_runs_answer_exactly_as_on_the_source(demo_server, replay, final_ids):
    assert len(final_ids) >= 4
    for run_id in final_ids:
        for view in ("DEFAULT", "FULL"):
            source = _get(demo_server.url, f"/runs/{run_id}", view=view)
            copy = _get(replay.url, f"/runs/{run_id}", view=view)
            assert copy.status_code == source.status_code == 200
            assert copy.json() == source.json()
        source = _get(demo_server.url, "/tasks", run_id=run_id).json()
        assert _get(replay.url, "/tasks", run_id=run_id).json() == source
        for task in source["tasks"]:
            got = _get(replay.url, f"/tasks/{task['task_id']}").json()
            assert got == _get(demo_server.url, f"/tasks/{task['task_id']}").json()


def test_active_runs_stay_as_captured(replay, captured):
    active = [r for r in captured.runs if r.get("state") not in FINAL]
    assert active, "the selection should hold an active run"
    time.sleep(1.0)  # the live server would have moved them on by now
    for run in active:
        got = _get(replay.url, f"/runs/{run['run_id']}").json()
        assert _without(got, "task_count") == _without(run, "task_count")
        tasks = [t for t in captured.tasks if t["run_id"] == run["run_id"]]
        listed = _get(replay.url, "/tasks", run_id=run["run_id"]).json()
        assert sorted(listed.get("tasks", []), key=lambda t: t["task_id"]) == sorted(
            tasks, key=lambda t: t["task_id"]
        )


def test_experiments_and_listing_filter_sort_and_pages(
    demo_server, replay, source, replayed
):
    edge = experiment_id(source, "viewer-edge-cases")
    assert (
        _get(replay.url, f"/experiments/{edge}").json()
        == _get(demo_server.url, f"/experiments/{edge}").json()
    )
    for sort_by in ("display_name desc", "created_at", "name"):
        pages = {}
        for url in (demo_server.url, replay.url):
            seen, token = [], ""
            while True:
                body = _get(url, "/runs", experiment_id=edge, page_size=1,
                            sort_by=sort_by, page_token=token).json()  # fmt: skip
                seen += body.get("runs", [])
                token = body.get("next_page_token", "")
                if not token:
                    break
            pages[url] = seen
        assert pages[replay.url] == pages[demo_server.url] and len(seen) == 2
    state_filter = (
        '{"predicates":[{"key":"state","operation":"EQUALS","string_value":"FAILED"}]}'
    )
    failed = _get(replay.url, "/runs", filter=state_filter).json()["runs"]
    assert failed and {r["state"] for r in failed} == {"FAILED"}
    # Frames: the same rows for every final run.
    a = source.runs(experiment_id=edge)
    b = replayed.runs(experiment_id=edge)
    assert b.equals(a)


def test_tasks_and_artifacts_frames_and_objects_match(source, replayed, final_ids):
    for run_id in final_ids:
        assert replayed.tasks(run_id).equals(source.tasks(run_id))
        got, want = replayed.artifacts(run_id), source.artifacts(run_id)
        assert got.drop(columns="metadata").equals(want.drop(columns="metadata"))
        assert got["metadata"].tolist() == want["metadata"].tolist()
    edge_run = final_ids[0]
    frame = source.artifacts(edge_run)
    files = frame[frame["uri"].notna()]
    assert len(files) >= 6
    for row in files.itertuples():
        a = source.artifact(edge_run, row.task_id, row.output_key)
        b = replayed.artifact(edge_run, row.task_id, row.output_key)
        assert b.data == a.data and b.files == a.files
        assert b.view_spec() == a.view_spec()
    metric = frame[frame["type"] == "Metric"].iloc[0]
    a = source.artifact(edge_run, metric.task_id, metric.output_key)
    b = replayed.artifact(edge_run, metric.task_id, metric.output_key)
    assert b.to_frame().equals(a.to_frame())


def test_read_artifact_returns_the_captured_payload(demo_server, replay, captured):
    tasks = {t["task_id"]: t for t in captured.tasks}
    stored = [a for a in captured.artifacts if a["status"] == "stored"]
    for entry in stored:
        task = tasks[entry["task_id"]]
        for node in {node_id(task), task["task_id"]}:  # pod name or task id
            path = (f"/runs/{entry['run_id']}/nodes/{node}/artifacts/"
                    f"{entry['output_key']}:read")  # fmt: skip
            copy = _get(replay.url, path)
            assert copy.status_code == 200
            assert copy.headers["cache-control"] == "no-cache, private"
            assert copy.json() == _get(demo_server.url, path).json()
    missing = _get(
        replay.url, f"/runs/{stored[0]['run_id']}/nodes/nope/artifacts/x:read"
    )
    assert missing.status_code == 404 and missing.json()["code"] == 5


def test_panels_show_the_same_values(source, replayed, final_ids, outbox):
    from kfp_nb.widgets import RunTable, RunView

    from ..widgets._helpers import decode, wait_for

    edge = experiment_id(source, "viewer-edge-cases")
    replies = {}
    for name, client in (("source", source), ("replay", replayed)):
        table = RunTable(client, experiment_id=edge, polling=False)
        wait_for(lambda t=table: not t.loading, what="the listing")
        assert table.error == "" and table.loaded == 2
        table._on_message(table, {"kind": "load", "id": f"load-{name}"}, [])
        reply, buffers = outbox.reply(f"load-{name}")
        rows = sorted(decode(buffers[0]).to_pylist(), key=lambda r: r["run_id"])
        view = RunView(client, final_ids[0], polling=False)
        request = {"kind": "run_detail", "id": f"detail-{name}",
                   "run_id": final_ids[0]}  # fmt: skip
        view._on_message(view, request, [])
        detail, _ = outbox.reply(f"detail-{name}")
        replies[name] = (
            _without(reply, "id"),
            rows,
            table.columns,
            _without(detail, "id"),
        )
        table.close()
        view.close()
    assert replies["replay"] == replies["source"]
    assert replies["replay"][3]["run"]["run_id"] == final_ids[0]
    assert replies["replay"][3]["tasks"]


def test_async_client_points_to_the_sync_one():
    import asyncio

    from kfp_nb import AsyncClient

    async def go():
        async with AsyncClient("http://127.0.0.1:9") as client:
            await client.snapshot("x.kfpsnap")

    with pytest.raises(NotImplementedError, match="Client.*snapshot"):
        asyncio.run(go())


def test_artifact_rows_come_from_the_captured_tasks(captured):
    # Every file output of the captured tasks has an index line.
    keys = {(a["task_id"], a["output_key"]) for a in captured.artifacts}
    rows = artifact_rows(captured.tasks)
    with_files = {(r["task_id"], r["output_key"]) for r in rows if r["uri"]}
    assert with_files == keys


def test_missing_runs_are_listed_not_fatal(source, tmp_path, final_ids):
    manifest = source.snapshot(
        tmp_path / "s.kfpsnap", ["no-such-run", final_ids[0]], progress=False
    )
    assert manifest["missing_runs"] == ["no-such-run"]
    assert manifest["counts"]["runs"] == 1
    with pytest.raises(_errors.KFPError, match="run_id column"):
        import pandas as pd

        source.snapshot(tmp_path / "t.kfpsnap", pd.DataFrame({"x": [1]}))
    assert not (tmp_path / "t.kfpsnap").exists()


def test_the_whole_demo_replays(source, tmp_path):
    manifest = source.snapshot(tmp_path / "all.kfpsnap", progress=False)
    path = tmp_path / "all.kfpsnap"
    captured = {r["run_id"]: r["state"] for r in read_snapshot(path).runs}
    assert manifest["counts"]["runs"] == len(captured) >= 80
    final = sorted(rid for rid, state in captured.items() if state in FINAL)
    proc = launch(db=str(tmp_path / "r.db"), from_snapshot=path)
    with proc, Client(proc.url, backoff=0) as replayed:
        got = replayed.runs(archived=None).set_index("run_id")
    assert sorted(got.index) == sorted(captured)
    want = source.runs(archived=None).set_index("run_id")
    assert got.loc[final].sort_index().equals(want.loc[final].sort_index())
