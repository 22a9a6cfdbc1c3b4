"""``kfp-nb demo``: the embedded server with demo data, and JupyterLab beside it."""

from __future__ import annotations

import os
import secrets
import signal
import socket
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


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _busy(what: str, port: int, variable: str) -> SystemExit:
    return SystemExit(
        f"kfp-nb demo: port {port} is in use by something that is not {what}; "
        f"free it or choose another port ({variable}=..., e.g. `make demo "
        f"{variable}={port + 1}`)"
    )


def _lab_command(*, port: int, root: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
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
    if not _port_free("127.0.0.1", lab_port):
        # Jupyter would quietly move to another port and the URL printed here
        # would point at whatever holds this one.
        raise _busy("free for JupyterLab", lab_port, "LAB_PORT")
    # A plain `kill` should clean up as Ctrl-C does, at any moment from here on.
    signal.signal(signal.SIGTERM, _interrupt)
    server = lab = None
    try:
        if _answers(url):
            print(
                f"Using the KFP API already answering at {url} (it is not stopped on "
                "exit). The notebooks act on its runs; they skip destructive steps "
                "unless it is kfp_nb's embedded server.",
                flush=True,
            )
        elif not _port_free(host, port):
            raise _busy("a KFP API", port, "PORT")
        else:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            server = launch(db=db, demo=True, speed=speed, host=host, port=port)
            print(f"Embedded KFP server with demo data at {url} (database {db})",
                  flush=True)  # fmt: skip

        token = secrets.token_hex(16)
        # The token goes through the environment: a command line is readable by
        # every local user (ps), the environment of a process is not.
        lab = subprocess.Popen(
            _lab_command(port=lab_port, root=Path(notebooks).resolve()),
            env=dict(os.environ, KFP_HOST=url, JUPYTER_TOKEN=token),
        )
        print(f"JupyterLab: http://127.0.0.1:{lab_port}/lab?token={token}", flush=True)
        stops = "JupyterLab and the server" if server else "JupyterLab"
        print(f"Press Ctrl-C to stop {stops}.", flush=True)
        return lab.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if lab is not None:
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
