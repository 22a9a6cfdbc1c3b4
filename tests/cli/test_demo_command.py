"""`kfp-nb demo` (what `make demo` runs): server + JupyterLab, both stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(0)
    raise AssertionError(f"no line matching {pattern!r}; output was:\n{''.join(seen)}")


def _gone(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return True
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_demo_serves_api_and_lab_and_stops_both(tmp_path, signum):
    api_port, lab_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfp_nb", "demo", f"--port={api_port}",
         f"--lab-port={lab_port}", f"--db={tmp_path / 'demo.db'}", "--speed=20"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lab_url = _wait_for_line(proc, r"http://127\.0\.0\.1:\d+/lab\?token=\w+", 60)
        health = httpx.get(f"http://127.0.0.1:{api_port}/apis/v2beta1/healthz")
        assert health.json()["multi_user"] is False
        runs = httpx.get(f"http://127.0.0.1:{api_port}/apis/v2beta1/runs").json()
        assert runs["total_size"] >= 80, "the demo data is seeded"
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(lab_url, timeout=5).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert status == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 0
        assert _gone(f"http://127.0.0.1:{api_port}/apis/v2beta1/healthz")
        assert _gone(lab_url)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_demo_reuses_an_api_already_answering(tmp_path, demo_server):
    port = demo_server.url.rsplit(":", 1)[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfp_nb", "demo", f"--port={port}",
         f"--lab-port={_free_port()}", f"--db={tmp_path / 'unused.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        _wait_for_line(proc, r"Using the KFP API already answering", 30)
        _wait_for_line(proc, r"/lab\?token=", 30)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not (tmp_path / "unused.db").exists()
        assert not _gone(f"{demo_server.url}/apis/v2beta1/healthz"), "left running"
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("busy_flag", "free_flag", "variable"),
    [("--lab-port", "--port", "LAB_PORT"), ("--port", "--lab-port", "PORT")],
)
def test_demo_refuses_a_port_held_by_something_else(
    tmp_path, busy_flag, free_flag, variable
):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kfp_nb", "demo", f"{busy_flag}={busy}",
             f"{free_flag}={_free_port()}", f"--db={tmp_path / 'demo.db'}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"port {busy} is in use" in result.stderr
    assert f" {variable}=" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo.db").exists(), "nothing started"


def _command_lines() -> list[bytes]:
    lines = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:  # the process ended meanwhile
            continue
    assert len(lines) > 3, "could not read the process table"
    return lines


def test_lab_token_is_not_on_any_command_line(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "kfp_nb", "demo", f"--port={_free_port()}",
         f"--lab-port={_free_port()}", f"--db={tmp_path / 'demo.db'}", "--speed=20"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        url = _wait_for_line(proc, r"http://127\.0\.0\.1:\d+/lab\?token=\w+", 60)
        token = url.rsplit("=", 1)[1]
        assert not any(token.encode() in line for line in _command_lines())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the printed URL really opens the Lab
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not accept the printed token")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
