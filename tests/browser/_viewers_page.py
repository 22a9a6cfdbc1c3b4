"""Helpers for the artifact viewer browser tests.

* ``RecordingHarness``: the panel harness whose HTTP server also logs every request
  it receives, so a test can prove that nothing a hostile artifact tried reached
  the notebook page's origin (``CANARY_PATH`` / ``kfp_nb_canary``).
* ``DemoArtifacts``: where each demo artifact lives (run, task, output key),
  found over plain HTTP on the embedded demo server.
* ``probe_report``: what the hostile HTML page's script managed, read from its
  own frame.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
from playwright.sync_api import Frame, Page

from kfp_nb.server._content import CANARY_GLOBAL, CANARY_PATH

from ._harness import Harness

__all__ = [
    "CANARY_GLOBAL",
    "CANARY_PATH",
    "DemoArtifacts",
    "RecordingHarness",
    "compare_viewer",
    "html_frame",
    "page_state",
    "probe_report",
    "recording_harness",
]

EDGE_EXPERIMENT = "viewer-edge-cases"


class RecordingHarness(Harness):
    """A ``Harness`` whose server keeps ``(method, path, origin header)`` of every
    request, and ignores the bodies of requests that are not its own."""

    def __init__(self, **kwargs: Any) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self._log_lock = threading.Lock()
        super().__init__(**kwargs)

    def _handler_class(self) -> type:
        base = super()._handler_class()
        harness = self

        class Recording(base):  # type: ignore[misc, valid-type]
            def _record(self) -> bool:
                with harness._log_lock:
                    harness.requests.append(
                        (self.command, self.path, self.headers.get("Origin"))
                    )
                return "kfp-nb-canary" in self.path or "kfp_nb_canary" in self.path

            def do_GET(self) -> None:
                if self._record():
                    self._reply(404, "text/plain", b"canary")
                    return
                super().do_GET()

            def do_POST(self) -> None:
                if self._record() or not self.path.startswith("/send/"):
                    self._reply(404, "text/plain", b"canary")
                    return
                super().do_POST()

            def _event(self, event: dict[str, Any]) -> None:
                # The first state would carry bytes traits (``image``) as base64
                # text; send them as buffers right after, as a kernel's comm does.
                data = event.get("data", {})
                if data.get("method") != "state":
                    super()._event(event)
                    return
                state = dict(data["state"])
                binary = {
                    k: bytes(v) for k, v in state.items()
                    if isinstance(v, (bytes, bytearray, memoryview))
                }  # fmt: skip
                for key in binary:
                    state[key] = None
                super()._event({**event, "data": {**data, "state": state}})
                if binary:
                    super()._event({
                        "data": {"method": "update", "state": dict.fromkeys(binary),
                                 "buffer_paths": [[k] for k in binary]},
                        "buffers": [base64.b64encode(v).decode()
                                    for v in binary.values()],
                    })  # fmt: skip

        return Recording

    def canary_hits(self) -> list[tuple[str, str, str | None]]:
        """Requests that came from an artifact (and must never arrive)."""
        with self._log_lock:
            return [
                r for r in self.requests
                if "kfp-nb-canary" in r[1] or "kfp_nb_canary" in r[1]
                or r[1].split("?")[0] in ("/x", "/api/contents")
            ]  # fmt: skip


class DemoArtifacts:
    """Locations of the demo's artifacts: ``(run_id, task_id)`` by output key."""

    def __init__(self, url: str) -> None:
        self.runs: list[dict[str, Any]] = []
        with httpx.Client(base_url=url + "/apis/v2beta1", timeout=30) as api:
            self.runs = api.get(
                "/runs", params={"page_size": 200, "view": "FULL"}
            ).json()["runs"]
            exps = api.get("/experiments", params={"page_size": 200}).json()
        edge = [
            e["experiment_id"] for e in exps["experiments"]
            if e["display_name"] == EDGE_EXPERIMENT
        ]  # fmt: skip
        self.edge_runs = sorted(
            (r for r in self.runs if r["experiment_id"] in edge),
            key=lambda r: r["created_at"],
        )

    def _outputs(self, run: dict[str, Any]) -> Iterator[tuple[str, str]]:
        for task in run.get("tasks", []):
            for group in task["outputs"].get("artifacts", []):
                yield group["artifact_key"], task["task_id"]

    def find(self, key: str, *, run: dict[str, Any] | None = None) -> tuple[str, str]:
        """``(run_id, task_id)`` of the first succeeded run with output ``key``."""
        candidates = [run] if run else [
            r for r in self.runs if r["state"] == "SUCCEEDED"
        ]  # fmt: skip
        for r in candidates:
            for found, task_id in self._outputs(r):
                if found == key:
                    return r["run_id"], task_id
        raise AssertionError(f"no demo run has an output {key!r}")

    def training_runs(self, count: int) -> list[str]:
        """Ids of ``count`` succeeded runs of the training pipeline."""
        ids = [
            r["run_id"] for r in self.runs
            if r["state"] == "SUCCEEDED" and r["storage_state"] == "AVAILABLE"
            and any(k == "classification_metrics" for k, _ in self._outputs(r))
            and any(k == "loss_plot" for k, _ in self._outputs(r))
        ]  # fmt: skip
        assert len(ids) >= count, ids
        return ids[:count]


def html_frame(page: Page, *, index: int = 0) -> Frame:
    """The Playwright frame of the ``index``-th HTML viewer's iframe."""
    handle = page.get_by_test_id("html-frame").nth(index).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None, "the HTML viewer's iframe has no document"
    return frame


def probe_report(frame: Frame, *, timeout: float = 10_000) -> dict[str, str]:
    """The hostile page's own record of what each attempt gave."""
    frame.wait_for_selector("#probe[data-done='1']", state="attached", timeout=timeout)
    return json.loads(frame.locator("#probe").text_content() or "{}")


def page_state(page: Page) -> dict[str, Any]:
    """What a hostile artifact would change in the notebook page if it could."""
    return page.evaluate(
        """(flag) => ({
            url: location.href,
            canary: typeof window[flag] === 'undefined' ? null : String(window[flag]),
            marked: document.body.getAttribute('data-kfp-nb-pwned'),
            cookie: document.cookie,
            storage: JSON.stringify(Object.entries(localStorage).sort()),
            session: JSON.stringify(Object.entries(sessionStorage).sort()),
        })""",
        CANARY_GLOBAL,
    )


def recording_harness() -> Iterator[RecordingHarness]:
    """Body of a test module's ``rec`` fixture: a harness, closed and checked."""
    h = RecordingHarness()
    yield h
    h.close()
    assert not h.errors, f"kernel-side widget handlers raised: {h.errors}"


def compare_viewer(client: Any, run_ids: list[str]) -> Any:
    """``ArtifactViewer(kfp_nb.compare(client, run_ids))``."""
    import kfp_nb

    return kfp_nb.ArtifactViewer(kfp_nb.compare(client, run_ids))
