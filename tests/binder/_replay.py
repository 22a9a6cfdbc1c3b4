"""Helpers shared by the Binder tests: a repository copy, an environment, the server."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_repo(target: Path) -> Path:
    """The files of the last commit in ``target``, as a fresh clone has them.

    Uncommitted edits (of anyone working in the tree) are left out on purpose:
    the replay checks what a clone would get. Builds and installs happen in the
    copy, so the work tree is never touched.
    """
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="tar")
    return target


def environment(bin_dir: Path, scratch: Path, **extra: str) -> dict[str, str]:
    """This process's environment with ``bin_dir`` first on PATH, nothing of kfp_nb's.

    The dev venv leaves PATH and the KFP settings of the test session (its
    KFP_HOST points at the nbval server) are dropped; Jupyter and IPython keep
    their state in ``scratch`` so no user kernel spec or config leaks in.
    """
    dev_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != dev_bin]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KFP_", "KF_PIPELINES_", "VIRTUAL_ENV", "PYTHON"))
    }
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        env[name] = str(scratch / name.lower())
    env.update(
        PATH=os.pathsep.join([str(bin_dir), *path]),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        MPLBACKEND="Agg",
        **extra,
    )
    return env


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/apis/v2beta1/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def stop_group(pgid: int, pids: list[int]) -> None:
    """SIGTERM the process group; SIGKILL it if any of ``pids`` outlives 10 s.

    Liveness is read from /proc because an orphan's zombie may linger until
    its new parent reaps it, and a zombie still receives signals.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            return
        if all(wait_gone(pid, timeout=10) for pid in pids):
            return
