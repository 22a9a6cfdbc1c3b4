"""A throw-away JupyterLab server for browser tests, and notebook-driving helpers.

Everything lives in a temp directory (config, runtime, settings, workspaces, the
notebook copy), the news toast and autosave are switched off, every cell stays in
the DOM (``windowingMode: none``), and kernels inherit ``KFP_HOST``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from kfp_nb.server._process import free_port

__all__ = ["LabServer", "notebook", "open_notebook", "run_all", "run_cell"]

_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}
IDLE = "Python 3 (ipykernel) | Idle"


def notebook(*cells: str) -> dict[str, Any]:
    """An nbformat-4 notebook of code cells, with the python3 kernelspec."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class LabServer:
    """``python -m jupyterlab`` on a free loopback port, isolated under ``tmp``."""

    def __init__(self, tmp: Path, *, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.root = tmp / "root"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = env
        self._proc: subprocess.Popen | None = None
        self._log = tmp / "lab.log"

    def start(self, *, timeout: float = 60.0) -> LabServer:
        settings = self.tmp / "app-settings"
        for folder in (self.root, settings):
            folder.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(_OVERRIDES))
        env = {**os.environ, **self._env}
        for name, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "user-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"),
        ):
            env[name] = str(self.tmp / sub)
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", f"--LabApp.app_settings_dir={settings}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]  # fmt: skip
        log = self._log.open("wb")
        self._proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited:\n{self.log_tail()}")
            try:
                r = httpx.get(f"{self.url}/api/status", params={"token": self.token})
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"JupyterLab did not answer in {timeout} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self._log.read_text(errors="replace") if self._log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def add_notebook(self, name: str, nb: dict[str, Any]) -> str:
        (self.root / name).write_text(json.dumps(nb, indent=1))
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            httpx.post(
                f"{self.url}/api/shutdown",
                headers={"Authorization": f"token {self.token}"},
                timeout=10,
            )
            self._proc.wait(15)
        except (httpx.HTTPError, subprocess.TimeoutExpired):
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)


def open_notebook(page: Page, url: str) -> None:
    """Open a notebook and wait until its kernel is really idle (not just 'idle')."""
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    expect(page.locator("#jp-main-statusbar")).to_contain_text(IDLE, timeout=60_000)


def run_all(page: Page) -> None:
    """Run > Run All Cells, as a user would."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


def run_cell(page: Page, index: int) -> Locator:
    """Re-run code cell ``index`` in place (Ctrl+Enter); returns its output area."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    return cell.locator(".jp-OutputArea-output")
