"""Replay of the Binder set-up without Docker, as repo2docker would run it.

A copy of the tracked files, a fresh venv (no system site-packages) with
``binder/requirements.txt``, ``binder/postBuild`` from the copy's root, then
``binder/start`` handing over to a stand-in for Jupyter that executes every
notebook against the server ``start`` launched. Needs npm and the package index
(pip's and npm's caches make repeat runs quick).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ._replay import alive, answers, copy_repo, environment, free_port, stop_group

pytestmark = pytest.mark.binder

STANDIN = Path(__file__).with_name("run_notebooks.py")


@dataclass
class Replay:
    repo: Path
    venv: Path
    port: int
    returncode: int
    output: str
    summary: dict
    server_pid: int | None
    outlived_command: bool


def _step(command: list[str], *, what: str, timeout: float, **options) -> str:
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=timeout, **options
    )
    assert done.returncode == 0, (
        f"{what} failed ({done.returncode}):\n{done.stdout[-4000:]}\n"
        f"{done.stderr[-4000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Replay:
    scratch = tmp_path_factory.mktemp("binder")
    repo = copy_repo(scratch / "repo")
    venv = scratch / "venv"
    # The interpreter behind the dev venv, so no package of it is visible.
    _step([sys.executable, "-m", "venv", str(venv)], what="venv", timeout=120)
    env = environment(venv / "bin", scratch)
    python = str(venv / "bin" / "python")
    _step(
        [python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        what="pip install -r binder/requirements.txt",
        cwd=repo, env=env, timeout=600,
    )  # fmt: skip
    _step(["binder/postBuild"], what="binder/postBuild", cwd=repo, env=env, timeout=600)

    port = free_port()
    demo = scratch / "demo"
    env.update(KFP_NB_PORT=str(port), KFP_NB_SPEED="20", KFP_NB_DEMO_DIR=str(demo))
    notebooks = sorted(str(p) for p in (repo / "notebooks").glob("*.ipynb"))
    out = scratch / "summary.json"
    proc = subprocess.Popen(
        ["binder/start", python, str(STANDIN), "--out", str(out), *notebooks],
        cwd=repo, env=env, start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=900)
        outlived = answers(f"http://127.0.0.1:{port}")
    finally:
        pid_file = demo / "server.pid"
        server = int(pid_file.read_text()) if pid_file.exists() else None
        stop_group(proc.pid, [server] if server else [])
    summary = json.loads(out.read_text()) if out.exists() else {}
    return Replay(repo, venv, port, proc.returncode, output, summary, server, outlived)


def test_postbuild_installed_kfp_nb_with_its_front_end_in_the_fresh_venv(replay):
    assert replay.summary, replay.output
    assert replay.summary["python"].startswith(str(replay.venv))
    installed = Path(replay.summary["kfp_nb"])
    assert installed.is_relative_to(replay.venv), "kfp_nb must not come from the copy"
    assert replay.summary["bundle"] is True
    assert not (replay.repo / "js" / "node_modules").exists()
    python = replay.venv / "bin" / "python"
    check = subprocess.run(
        [str(python), "-m", "pip", "check"], check=False, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout  # the pins are a complete set


def test_every_notebook_ran_against_the_server_start_launched(replay):
    assert replay.returncode == 0, replay.output
    assert replay.summary["kfp_host"] == f"http://127.0.0.1:{replay.port}"
    names = [r["notebook"] for r in replay.summary["results"]]
    expected = sorted(p.name for p in (replay.repo / "notebooks").glob("*.ipynb"))
    assert names == expected and "01-quickstart.ipynb" in names
    for result in replay.summary["results"]:
        assert result["ok"], f"{result['notebook']}:\n{result.get('error')}"
        assert "checks passed" in result["last"], result  # each ends with its checks
    ready = f"binder/start: kfp_nb demo server ready at http://127.0.0.1:{replay.port}"
    assert ready in replay.output


def test_the_server_outlives_the_command_and_stops_with_its_process_group(replay):
    assert replay.outlived_command  # Binder's Jupyter never exits: nor does the API
    assert replay.server_pid is not None and not alive(replay.server_pid)
    assert not answers(f"http://127.0.0.1:{replay.port}")
