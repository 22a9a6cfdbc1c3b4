"""Start the embedded server as a child process and wait until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

__all__ = ["ServerProcess", "free_port", "launch"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the OS says is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A running ``kfp-nb serve`` child: ``url``, ``port``, ``pid``, ``stop()``."""

    def __init__(self, proc: subprocess.Popen, *, host: str, port: int, db: str):
        self._proc = proc
        self.host = host
        self.port = port
        self.db = db
        self.url = f"http://{host}:{port}"

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def stop(self, *, timeout: float = 10.0) -> None:
        """Terminate, then kill if it has not exited within ``timeout``."""
        if self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a crash would."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def __enter__(self) -> ServerProcess:  # noqa: PYI034 - not subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerProcess(url={self.url!r}, pid={self.pid}, db={self.db!r})"


def launch(
    *,
    db: str,
    demo: bool = False,
    speed: float = 1.0,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 30.0,
    terminate_final: str = "FAILED",
    max_body_bytes: int | None = None,
    from_snapshot: str | os.PathLike[str] | None = None,
) -> ServerProcess:
    """Run ``python -m kfp_nb serve`` in a child process; return once healthz answers.

    The child's output goes to ``<db>.server.log``, truncated at each launch so
    an error quotes only this launch. Raises ``RuntimeError`` at once when
    ``port`` is already in use, and with the child's output when it exits or
    does not answer within ``timeout`` seconds. ``from_snapshot`` serves a
    snapshot file (``kfp-nb serve --from-snapshot``) over ``db``, which must be
    new; a bad file fails the launch with the server's message.
    """
    folder = os.path.dirname(os.path.abspath(db))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"launch(db={db!r}): the folder {folder!r} does not exist; create it "
            "first or pass a db path inside an existing folder"
        )
    if port:
        _check_port_free(host, port)
    port = port or free_port(host)
    cmd = [
        sys.executable, "-m", "kfp_nb", "serve", "--host", host, "--port", str(port),
        "--db", db, "--speed", repr(float(speed)),
    ]  # fmt: skip
    if demo:
        cmd.append("--demo")
    if terminate_final != "FAILED":
        cmd += ["--terminate-final", terminate_final]
    if max_body_bytes is not None:
        cmd += ["--max-body-bytes", str(int(max_body_bytes))]
    if from_snapshot is not None:
        cmd += ["--from-snapshot", os.path.abspath(os.fspath(from_snapshot))]
    log_path = f"{db}.server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child owns it
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # Works from a source checkout too, before ``pip install -e``.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    server = ServerProcess(proc, host=host, port=port, db=db)
    started = time.monotonic()
    deadline = started + timeout
    url = f"{server.url}/apis/v2beta1/healthz"
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                answered = httpx.get(url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                answered = False
            # Our child must still be alive: another server may own the port.
            if answered and proc.poll() is None:
                return server
            time.sleep(0.05)
    except BaseException:  # Ctrl-C while waiting: no orphaned server
        server.stop()
        raise
    server.stop()
    with open(log_path, "rb") as fh:
        tail = fh.read()[-2000:].decode(errors="replace")
    raise RuntimeError(_failure(server, proc.poll(), tail, time.monotonic() - started,
                                timeout))  # fmt: skip


def _check_port_free(host: str, port: int) -> None:
    """Raise at once when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn does, so a port in TIME_WAIT is not reported as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise RuntimeError(
                f"launch(port={port}): port {port} is in use on {host} ({exc}); "
                "stop what holds it or pass another port (or none, to pick a "
                "free one)"
            ) from None


def _failure(
    server: ServerProcess, code: int | None, tail: str, waited: float, timeout: float
) -> str:
    where = f"kfp-nb serve on {server.url} (db {server.db})"
    if code is None:
        what = f"did not become healthy within {timeout} s"
    elif "address already in use" in tail.lower():
        what = f"could not start: port {server.port} is in use"
    else:
        what = f"exited with code {code} after {waited:.1f} s"
    return f"{where} {what}. Output:\n{tail}"
