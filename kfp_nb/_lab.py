"""``kfp-nb demo``: the embedded server with demo data, and JupyterLab beside it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["run_demo"]


def _answers(url: str) -> bool:
    """True when a KFP-compatible API already answers at ``url``."""
    try:
        response = httpx.get(f"{url}/apis/v2beta1/healthz", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "multi_user" in response.text


def _lab_command(*, port: int, root: Path, token: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root
    return command


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    lab_port: int = 8888,
    db: str = ".demo/kfp.db",
    speed: float = 1.0,
    notebooks: str = "notebooks",
) -> int:
    """Serve the demo API (unless one answers already) and JupyterLab; block.

    Ctrl-C stops both. Returns JupyterLab's exit code.
    """
    from .server import launch

    url = f"http://{host}:{port}"
    server = None
    if _answers(url):
        print(f"Using the KFP API already answering at {url}", flush=True)
    else:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
        server = launch(db=db, demo=True, speed=speed, host=host, port=port)
        print(f"Embedded KFP server with demo data at {url} (database {db})", flush=True)

    token = secrets.token_hex(16)
    env = dict(os.environ, KFP_HOST=url)
    lab = subprocess.Popen(
        _lab_command(port=lab_port, root=Path(notebooks).resolve(), token=token),
        env=env,
    )
    print(f"JupyterLab: http://127.0.0.1:{lab_port}/lab?token={token}", flush=True)
    print("Press Ctrl-C to stop JupyterLab and the server.", flush=True)
    # A plain `kill` should clean up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(lab)
        if server is not None:
            server.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
