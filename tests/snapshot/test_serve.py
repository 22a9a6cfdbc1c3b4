"""``kfp-nb serve --from-snapshot`` and ``launch(from_snapshot=...)`` end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from kfp_nb import Client, _errors
from kfp_nb.cli import main
from kfp_nb.server import launch
from kfp_nb.server._process import free_port

from .conftest import FINAL

API = "/apis/v2beta1"


def test_launch_refuses_a_broken_snapshot_with_its_message(tmp_path):
    bad = tmp_path / "bad.kfpsnap"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RuntimeError) as err:
        launch(db=str(tmp_path / "r.db"), from_snapshot=bad, timeout=30)
    text = str(err.value)
    assert "exited with code 2" in text
    assert "cannot serve the snapshot" in text and "not a zip archive" in text
    assert "Traceback" not in text


def test_cli_refuses_bad_combinations_and_files(tmp_path, capsys):
    bad = tmp_path / "bad.kfpsnap"
    bad.write_text("{}")
    assert main(["serve", "--demo", "--from-snapshot", str(bad)]) == 2
    assert "cannot be combined" in capsys.readouterr().err
    code = main(["serve", "--from-snapshot", str(bad), "--db", str(tmp_path / "x.db")])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot serve the snapshot" in err and str(bad) in err
    missing = tmp_path / "nope.kfpsnap"
    assert main(["serve", "--from-snapshot", str(missing)]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_serve_without_db_uses_a_temporary_file_removed_at_exit(snapshot_file):
    port = free_port()
    cmd = [sys.executable, "-m", "kfp_nb", "serve", "--port", str(port),
           "--from-snapshot", str(snapshot_file[0])]  # fmt: skip
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=root)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True)  # fmt: skip
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert "replaying snapshot" in lines[0]
        db = re.search(r"\(db (.+)\)", lines[1]).group(1)
        assert "kfp-nb-replay-" in db
        url = f"http://127.0.0.1:{port}{API}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "replay server did not start"
            time.sleep(0.05)
        listed = httpx.get(f"{url}/runs", timeout=10).json()
        assert len(listed["runs"]) == snapshot_file[1]["counts"]["runs"]
        assert os.path.exists(db)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
    assert not os.path.exists(os.path.dirname(db))


@pytest.fixture
def fresh(snapshot_file, tmp_path):
    proc = launch(db=str(tmp_path / "r.db"), from_snapshot=snapshot_file[0])
    with proc, Client(proc.url, backoff=0) as client:
        yield client


def test_storage_actions_work_and_state_actions_are_refused(fresh, captured):
    by_state = {r["state"]: r["run_id"] for r in captured.runs}
    active = next(rid for state, rid in by_state.items() if state not in FINAL)
    failed = by_state["FAILED"]
    fresh.archive_run(active)
    assert fresh.get_run(active).storage_state == "ARCHIVED"
    fresh.unarchive_run(active)
    assert fresh.get_run(active).storage_state == "AVAILABLE"
    with pytest.raises(_errors.FailedPrecondition, match="frozen as captured"):
        fresh.terminate_run(active)
    with pytest.raises(_errors.FailedPrecondition, match="frozen as captured"):
        fresh.retry_run(failed)
    assert fresh.get_run(failed).state == "FAILED"
    stored = next(a for a in captured.artifacts if a["status"] == "stored")
    fresh.delete_run(stored["run_id"])
    with pytest.raises(_errors.NotFound):
        fresh.get_run(stored["run_id"])
    with pytest.raises(_errors.NotFound):
        fresh.read_artifact(stored["run_id"], stored["task_id"], stored["output_key"])
    # A new run on the replay server is simulated as usual.
    run = fresh.create_run(
        display_name="new", pipeline_spec={
            "pipelineInfo": {"name": "p"},
            "root": {"dag": {"tasks": {"t": {"taskInfo": {"name": "t"},
                                             "componentRef": {"name": "c"}}}}},
            "components": {"c": {"executorLabel": "e"}},
            "deploymentSpec": {"executors": {"e": {"container": {"image": "x"}}}},
        },
    )  # fmt: skip
    assert run.state == "PENDING"
