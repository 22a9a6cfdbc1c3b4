"""kill -9 in the middle of a burst of writes: nothing acknowledged is lost.

Several kfp_nb client threads create runs and act on them (archive, unarchive,
terminate, retry, delete) against a server process; once enough writes are
acknowledged the process gets SIGKILL mid-burst, ``PRAGMA integrity_check``
runs on the file it left, and a new server starts on the same database. Every
write acknowledged in any round so far must be there; a write whose answer
never came may have happened or not, but never twice. After the last round the
runs settle and the state histories are checked exactly.

``tests/server/test_progress.py::test_state_survives_restart_and_kill`` covers
a single kill between quiet writes (and that simulated runs resume); this one
kills under concurrent writes, repeatedly, on one database.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from kfp_nb import Client, _errors
from kfp_nb.server import launch
from kfp_nb.server._demo import demo_pipeline_ids

from ._traffic import RecordingTransport, RequestLog, refused_by_state_rule

pytestmark = pytest.mark.load

ROUNDS = 4
THREADS = 6
SPEED = 5.0  # runs last 5–18 s: most are still terminable when acted on
API = "/apis/v2beta1"
PIPELINE_ID, VERSION_ID = demo_pipeline_ids("Training pipeline")


@dataclass
class Written:
    """One run: acknowledged writes, and writes whose answer never came."""

    name: str
    run_id: str | None = None  # None: the create was never answered
    storage: str = "AVAILABLE"
    storage_unsure: set[str] = field(default_factory=set)
    terminates: int = 0
    retries: int = 0
    unsure: Counter[str] = field(default_factory=Counter)
    terminated_at: float | None = None
    deleted: bool = False


@dataclass
class Burst:
    """The shared record of one test: runs by name, counts, problems."""

    runs: dict[str, Written] = field(default_factory=dict)
    acks: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, kind: str) -> None:
        with self.lock:
            self.acks += 1
            self.kinds[kind] += 1


def _writer(index: int, url: str, burst: Burst, log: RequestLog, rnd: int) -> None:
    """Create and act until the server stops answering."""
    rng = random.Random(index * 1000 + rnd)
    # The runs this writer made in earlier rounds too: terminated ones are
    # FAILED by now, so retries happen, on runs that went through a restart.
    with burst.lock:
        mine = [w for w in burst.runs.values() if w.name.startswith(f"kill-w{index}-")]
    with Client(
        url, transport=RecordingTransport(log), retries=0, timeout=30.0
    ) as client:
        while True:
            live = [
                w for w in mine
                if w.run_id and not w.deleted and not w.unsure["delete"]
            ]  # fmt: skip
            try:
                if not live or rng.random() < 0.35:
                    mine.append(_create(client, burst, index, rng))
                else:
                    pool = live[-6:] if rng.random() < 0.7 else live
                    _act(client, burst, rng.choice(pool), rng, log)
            except _errors.TransportError:
                return  # the server is gone
            except Exception as exc:  # noqa: BLE001 - must fail the test, not vanish
                with burst.lock:
                    burst.problems.append(f"writer {index} crashed: {exc!r}")
                return


def _create(client: Client, burst: Burst, index: int, rng: random.Random) -> Written:
    written = Written(f"kill-w{index}-{uuid.uuid4().hex[:12]}")
    with burst.lock:
        burst.runs[written.name] = written
    params: dict[str, Any] = {"duration_scale": rng.choice((0.3, 0.6, 1.0))}
    run = client.create_run(
        display_name=written.name,
        description=f"marker {written.name}",
        pipeline_version_reference={
            "pipeline_id": PIPELINE_ID, "pipeline_version_id": VERSION_ID
        },
        parameters=params,
    )  # fmt: skip
    written.run_id = run.run_id
    burst.ack("create")
    return written


def _act(
    client: Client, burst: Burst, written: Written, rng: random.Random,
    log: RequestLog,
) -> None:  # fmt: skip
    choices = ["archive", "unarchive", "delete"]
    if written.terminated_at is None:
        choices += ["terminate"] * 3
    elif time.monotonic() - written.terminated_at > 1.2:  # FAILED by now
        choices += ["retry"] * 3
    action = rng.choice(choices)
    try:
        getattr(client, f"{action}_run")(written.run_id)
    except (_errors.TransportError, _errors.ActionUnconfirmed):
        written.unsure[action] += 1
        if action in ("archive", "unarchive"):
            written.storage_unsure.add(action)
        raise _errors.TransportError("no answer") from None
    except _errors.KFPError as exc:
        if refused_by_state_rule(action, exc):
            log.refused(action)
            if action == "terminate":
                written.terminated_at = 0.0  # finished: retry is refused anyway
        else:
            with burst.lock:
                burst.problems.append(f"{action} {written.name}: {exc}")
        return
    burst.ack(action)
    if action == "delete":
        written.deleted = True
    elif action in ("archive", "unarchive"):
        written.storage = "ARCHIVED" if action == "archive" else "AVAILABLE"
        written.storage_unsure.clear()
    elif action == "terminate":
        written.terminates += 1
        written.terminated_at = time.monotonic()
    else:
        written.retries += 1
        written.terminated_at = None


def _integrity(db: str) -> str:
    """``PRAGMA integrity_check`` of the file a killed server left behind."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)


def _listed(url: str) -> list[dict[str, Any]]:
    runs, token = [], ""
    with httpx.Client(base_url=url + API, timeout=60.0) as api:
        while True:
            resp = api.get("/runs", params={"page_size": 200, "page_token": token})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            runs += body.get("runs", [])
            token = body.get("next_page_token", "")
            if not token:
                return runs


def check_after_restart(burst: Burst, runs: list[dict[str, Any]], *, final: bool):
    """What is wrong with the restarted server's runs (final: after settling)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_name.setdefault(run["display_name"], []).append(run)
    problems = [f"{n} listed {len(r)} times" for n, r in by_name.items() if len(r) > 1]
    for w in burst.runs.values():
        found = by_name.get(w.name, [])
        if w.deleted:
            problems += [f"{w.name}: acknowledged delete, still there"] * bool(found)
            continue
        if w.run_id is None or w.unsure["delete"]:
            continue  # unanswered create or delete: either outcome is right
        if not found:
            problems.append(f"{w.name}: acknowledged create lost")
            continue
        run = found[0]
        problems += [f"{w.name}: {p}" for p in _run_problems(w, run, final=final)]
    return problems


def _run_problems(w: Written, run: dict[str, Any], *, final: bool) -> list[str]:
    problems = []
    allowed = {w.storage} | {
        "ARCHIVED" if a == "archive" else "AVAILABLE" for a in w.storage_unsure
    }
    if run["storage_state"] not in allowed:
        problems.append(f"storage_state {run['storage_state']}, expected {allowed}")
    states = [h["state"] for h in run.get("state_history", [])]
    retried = sum(
        a == "FAILED" and b == "RUNNING" for a, b in itertools.pairwise(states)
    )
    if not w.retries <= retried <= w.retries + w.unsure["retry"]:
        problems.append(f"{retried} retries in {states}, {w.retries} acknowledged")
    canceling = states.count("CANCELING")
    high = w.terminates + w.unsure["terminate"]
    low = w.terminates if final else 0  # CANCELING is written by the simulator
    if not low <= canceling <= high:
        problems.append(f"{canceling} CANCELING in {states}, {w.terminates} acked")
    last_terminate = w.terminated_at and w.terminates and not w.unsure["retry"]
    if last_terminate and run["state"] not in ("CANCELING", "FAILED"):
        problems.append(f"terminated, but {run['state']}")
    return problems


def _settle(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = {r["state"] for r in _listed(url)}
        if not states & {"PENDING", "RUNNING", "CANCELING"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"runs still active after {timeout} s: {states}")


def test_kill_9_mid_burst_loses_no_acknowledged_write(tmp_path, report):
    db = str(tmp_path / "kill.db")
    burst, log = Burst(), RequestLog()
    rng = random.Random(7)
    lines, checked = [], 0
    for rnd in range(ROUNDS):
        server = launch(db=db, speed=SPEED)
        try:
            if rnd:  # what the previous kill left: every acknowledged write
                problems = check_after_restart(burst, _listed(server.url), final=False)
                assert not problems, f"after kill {rnd}:\n" + "\n".join(problems[:20])
            before = burst.acks
            threads = [
                threading.Thread(target=_writer, args=(i, server.url, burst, log, rnd))
                for i in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            target = before + rng.randrange(30, 90)
            deadline = time.monotonic() + 30
            while burst.acks < target and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()  # SIGKILL mid-burst: no shutdown code runs
            for thread in threads:
                thread.join(timeout=60)
            assert not any(t.is_alive() for t in threads)
        finally:
            server.stop()
        integrity = _integrity(db)
        in_flight = sum(sum(w.unsure.values()) for w in burst.runs.values())
        in_flight += sum(w.run_id is None for w in burst.runs.values())
        lines.append(
            f"  kill {rnd + 1}: {burst.acks - before} writes acknowledged in the "
            f"burst, {burst.acks} in all; {in_flight} unanswered so far; "
            f"integrity_check: {integrity}"
        )
        assert integrity == "ok", f"after kill {rnd + 1}: {integrity}"
        assert burst.acks > before, "the burst acknowledged nothing"
    server = launch(db=db, speed=SPEED)
    try:
        _settle(server.url, timeout=60.0)
        runs = _listed(server.url)
        problems = check_after_restart(burst, runs, final=True) + burst.problems
        checked = sum(1 for w in burst.runs.values() if w.run_id)
    finally:
        server.stop()
    final_integrity = _integrity(db)
    report(
        f"kill -9: {ROUNDS} kills mid-burst, {THREADS} writer threads\n"
        + "\n".join(lines)
        + f"\n  after the last restart: {burst.acks} acknowledged writes "
        f"({dict(sorted(burst.kinds.items()))}) on {checked} runs verified, "
        f"{len(runs)} runs listed, integrity_check: {final_integrity}; "
        f"state-rule refusals {dict(log.refusals)}"
    )
    assert not problems, "\n".join(problems[:30])
    assert final_integrity == "ok"
    answered_5xx = [e for e in log.server_errors() if e[1] is not None]
    assert not answered_5xx, f"5xx answers: {Counter(answered_5xx)}"
