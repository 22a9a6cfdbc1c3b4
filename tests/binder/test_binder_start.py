"""binder/ files: pins cover kfp_nb's dependencies; ``start`` serves and hands over.

These use the development venv and take seconds; the full replay in a fresh venv
is ``test_binder_replay.py``.
"""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ._replay import BINDER, ROOT, alive, answers, environment, free_port, stop_group


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, f"not an exact pin: {line!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"{name} pinned twice"
        pins[key] = version
    return pins


def test_requirements_pin_every_dependency_of_kfp_nb_and_jupyterlab():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11, as Binder's runtime.txt
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["demo"]
    pins = _pins()
    for text in [*wanted, "ipykernel", "nbclient", "matplotlib"]:
        req = Requirement(text)
        version = pins.get(canonicalize_name(req.name))
        assert version, f"{req.name} is not pinned; run .venv/bin/python binder/pin.py"
        assert req.specifier.contains(version, prereleases=True), (text, version)
    assert "kfp-nb" not in pins, "postBuild installs kfp_nb from the repository"
    assert {"jupyterlab", "ipykernel", "nbclient", "anywidget"} <= set(pins)


def test_repo2docker_files_are_executable_scripts():
    for name in ("postBuild", "start"):
        path = BINDER / name
        assert path.stat().st_mode & stat.S_IXUSR, f"binder/{name} is not executable"
        assert path.read_text().startswith("#!/usr/bin/env bash\n")
        subprocess.run(["bash", "-n", str(path)], check=True)
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert 'exec "$@"' in (BINDER / "start").read_text()


_PROBE = """
import json, os, sys, urllib.request
host = os.environ["KFP_HOST"]
with urllib.request.urlopen(host + "/apis/v2beta1/runs?page_size=1") as answer:
    total = json.load(answer)["total_size"]
print(json.dumps({"host": host, "total": total, "args": sys.argv[1:]}))
sys.exit(7)
"""


@dataclass
class _Started:
    returncode: int
    stdout: str
    stderr: str
    server_pid: int | None
    #: Whether the server still answered after the handed-over command exited.
    outlived_command: bool


def _start(tmp_path: Path, port: int, *command: str) -> _Started:
    """``binder/start COMMAND`` in its own process group, which is then stopped."""
    env = environment(
        Path(sys.prefix) / "bin",
        tmp_path,
        KFP_NB_PORT=str(port),
        KFP_NB_SPEED="20",
        KFP_NB_DEMO_DIR=str(tmp_path / "demo"),
    )
    proc = subprocess.Popen(
        [str(BINDER / "start"), *command],
        cwd=tmp_path, env=env, start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    pid_file = tmp_path / "demo" / "server.pid"
    try:
        out, err = proc.communicate(timeout=120)
        outlived = answers(f"http://127.0.0.1:{port}")
    finally:
        server = int(pid_file.read_text()) if pid_file.exists() else None
        stop_group(proc.pid, [server] if server else [])
    return _Started(proc.returncode, out, err, server, outlived)


def test_start_serves_the_demo_exports_kfp_host_and_hands_over(tmp_path):
    port = free_port()
    done = _start(tmp_path, port, sys.executable, "-c", _PROBE, "--flag", "x y")
    assert done.returncode == 7, done.stderr  # the handed-over command's own status
    lines = done.stdout.strip().splitlines()
    assert lines[0] == (
        f"binder/start: kfp_nb demo server ready at http://127.0.0.1:{port} "
        f"(log: {tmp_path / 'demo'}/server.log)"
    )
    probe = json.loads(lines[-1])
    assert probe == {
        "host": f"http://127.0.0.1:{port}",
        "total": probe["total"],
        "args": ["--flag", "x y"],  # arguments reach the command intact
    }
    assert probe["total"] >= 80  # the demo data is seeded
    assert (tmp_path / "demo" / "demo.db").is_file()
    # The server outlives the command (Binder's Jupyter never exits); stopping the
    # process group stops it.
    assert done.outlived_command
    assert done.server_pid and not alive(done.server_pid)
    assert not answers(f"http://127.0.0.1:{port}")


def test_start_still_hands_over_when_the_server_cannot_start(tmp_path):
    with socket.socket() as taken:  # the port is held by something that never answers
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _start(tmp_path, port, sys.executable, "-c", "print('jupyter here')")
    assert done.returncode == 0
    assert done.stdout.strip() == "jupyter here"
    assert "binder/start: the kfp_nb demo server did not start; its log:" in done.stderr
    assert "address already in use" in done.stderr.lower()
