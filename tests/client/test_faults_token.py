"""Token rotation and expiry against a server that checks the bearer token.

The embedded app runs behind an ASGI gate on loopback that accepts only the
tokens in ``gate.accepted``; the token file is rotated the way kubelet does
it for projected service-account tokens (an atomic swap of a ``..data``
symlink), or by an atomic rename.
"""

from __future__ import annotations

import asyncio
import json
import os
import traceback
from pathlib import Path

import pytest

import kfp_nb
from kfp_nb.server import create_app

from ._faults import answer, serve

OLD = "eyJhbGciOiJSUzI1NiJ9.old-token-aaaa.sig1"
NEW = "eyJhbGciOiJSUzI1NiJ9.new-token-bbbb.sig2"
MODES = ["sync", "async"]


class BearerGate:
    """ASGI: lets a request through only with ``Bearer <accepted token>``."""

    def __init__(self, app) -> None:
        self.app = app
        self.accepted: set[str] = set()
        self.refusal = 401
        self.sent: list[str | None] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode()
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        self.sent.append(token)
        if token in self.accepted:
            await self.app(scope, receive, send)
        elif self.refusal == 401:  # the shape KFP's auth interceptor answers
            body = {"code": 16, "message": "Unauthenticated: token expired",
                    "details": [{"@type": "type.googleapis.com/google.rpc.Status",
                                 "code": 16, "message": "token expired"}]}  # fmt: skip
            await answer(send, 401, json.dumps(body).encode(),
                         {"content-type": "application/json"})  # fmt: skip
        else:  # Istio's RBAC filter
            await answer(
                send, 403, b"RBAC: access denied", {"content-type": "text/plain"}
            )


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    gate = BearerGate(create_app(str(tmp_path_factory.mktemp("gate") / "k.db")))
    with serve(gate) as url:
        yield url, gate


@pytest.fixture
def gate(gated):
    url, gate = gated
    gate.accepted, gate.refusal = set(), 401
    gate.sent.clear()
    return url, gate


class ProjectedToken:
    """A token file laid out like kubelet's projected volume, rotated atomically."""

    def __init__(self, folder: Path, token: str) -> None:
        self.folder, self.version = folder, 0
        self.path = folder / "token"
        self.rotate(token)
        os.symlink("..data/token", self.path)

    def rotate(self, token: str) -> None:
        self.version += 1
        stamp = self.folder / f"..2026_12_04_{self.version:02d}"
        stamp.mkdir()
        (stamp / "token").write_text(token)  # kubelet writes no newline
        link = self.folder / "..data_tmp"
        os.symlink(stamp.name, link)
        os.replace(link, self.folder / "..data")


def _session(url: str, mode: str, steps, **options):
    """Run ``steps(call)`` with one long-lived client, as a notebook would."""
    options.setdefault("retries", 0)
    if mode == "sync":
        with kfp_nb.Client(url, **options) as client:
            return steps(lambda name, **kw: getattr(client, name)(**kw))

    async def main():
        async with kfp_nb.AsyncClient(url, **options) as client:
            loop = asyncio.get_running_loop()

            def call(name, **kw):  # from the worker thread, on the client's loop
                return asyncio.run_coroutine_threadsafe(
                    getattr(client, name)(**kw), loop
                ).result()

            return await asyncio.to_thread(steps, call)

    return asyncio.run(main())


def _text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


@pytest.mark.parametrize("mode", MODES)
def test_kubelet_rotation_is_used_by_the_next_request(
    gate, tmp_path, monkeypatch, mode
):
    url, gate = gate
    token = ProjectedToken(tmp_path, OLD)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token.path))
    gate.accepted = {OLD}

    def notebook(call):
        call("healthz")
        call("list_runs")
        token.rotate(NEW)  # kubelet swaps ..data; the old token stops working
        gate.accepted = {NEW}
        return call("list_experiments")

    page = _session(url, mode, notebook)
    assert page.experiments  # the call after the rotation went through
    assert gate.sent == [OLD, OLD, NEW]


@pytest.mark.parametrize("mode", MODES)
def test_rename_rotation_of_a_plain_file(gate, tmp_path, monkeypatch, mode):
    url, gate = gate
    path = tmp_path / "token"
    path.write_text(OLD + "\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    gate.accepted = {OLD}

    def notebook(call):
        call("healthz")
        fresh = tmp_path / "token.new"
        fresh.write_text(NEW + "\n")  # same length as the old one
        os.replace(fresh, path)
        gate.accepted = {NEW}
        return call("healthz")

    assert _session(url, mode, notebook)["multi_user"] is False
    assert gate.sent == [OLD, NEW]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("refusal", [401, 403])
def test_expired_file_token_names_the_file_never_the_token(
    gate, tmp_path, monkeypatch, mode, refusal
):
    url, gate = gate
    token = ProjectedToken(tmp_path, OLD)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token.path))
    gate.accepted, gate.refusal = {OLD}, refusal

    def notebook(call):
        call("healthz")
        gate.accepted = set()  # the token expired; the file was not rotated
        return call("list_runs")

    with pytest.raises(kfp_nb.APIError) as info:
        _session(url, mode, notebook)
    error = info.value
    assert type(error) is (kfp_nb.Unauthenticated if refusal == 401 else
                           kfp_nb.PermissionDenied)  # fmt: skip
    text = _text(error)
    assert str(token.path) in str(error) and "$KF_PIPELINES_SA_TOKEN_PATH" in str(error)
    assert url in str(error)
    assert OLD not in text and "old-token" not in text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("refusal", [401, 403])
def test_expired_argument_token_names_the_argument(gate, mode, refusal):
    url, gate = gate
    gate.refusal = refusal
    with pytest.raises(kfp_nb.APIError) as info:
        _session(url, mode, lambda call: call("list_runs"), token=OLD)
    text = str(info.value)
    assert "token given as token=" in text and "expired" in text
    assert OLD not in _text(info.value)
    assert gate.sent == [OLD]  # an auth refusal is not retried


@pytest.mark.parametrize("mode", MODES)
def test_token_file_removed_mid_session_says_so(gate, tmp_path, monkeypatch, mode):
    url, gate = gate
    path = tmp_path / "token"
    path.write_text(OLD)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    gate.accepted = {OLD}

    def notebook(call):
        call("healthz")
        path.unlink()
        return call("healthz")

    with pytest.raises(kfp_nb.Unauthenticated) as info:
        _session(url, mode, notebook)
    assert gate.sent == [OLD, None]  # nothing stale was sent
    assert str(path) in str(info.value) and "missing" in str(info.value)
