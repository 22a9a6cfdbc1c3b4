"""Load on the embedded server: 50 kfp_nb clients list, create and act on runs.

For ``KFP_NB_LOAD_SECONDS`` (default 60) each client thread loops over: page
sequences (small page sizes, filters on immutable fields, four sorts), creates
with a unique marker in the name and description, and actions on its own runs
(archive, unarchive, terminate, retry, delete), checking the effect of each
acknowledged action at once. Afterwards, with every run settled:

- no 5xx and no request without an answer; no 4xx except the state-rule
  refusals (terminate of a finished run, retry of a run that is not FAILED);
- every acknowledged create exists exactly once, every acknowledged delete is
  gone, each run's storage state is its creator's last acknowledged
  archive/unarchive, and its state history shows CANCELING once per
  acknowledged terminate and a FAILED → RUNNING step once per acknowledged
  retry;
- every page sequence is duplicate-free, in its sort order, holds only rows
  its filter matches, and holds every run acknowledged before it began and not
  deleted before it ended (keyset pagination while inserts happen).

Each run has one owner thread, so what its acknowledged actions did is known
exactly. The machine is shared: the summary's figures are reported, never
asserted.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from kfp_nb import Client, _errors
from kfp_nb.server import launch
from kfp_nb.server._demo import demo_pipeline_ids

from ._traffic import RecordingTransport, RequestLog, refused_by_state_rule

pytestmark = pytest.mark.load

SECONDS = float(os.environ.get("KFP_NB_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("KFP_NB_LOAD_CLIENTS", "50"))
SPEED = 20.0  # a training run lasts 2.8–9.2 s here: actions meet every state
GROUPS = 16
SEED_RUNS = 160
PAGE_SIZES = (3, 5, 10, 25, 50, 100)
SORTS = ("created_at", "created_at desc", "name", "name desc")
PIPELINE_ID, VERSION_ID = demo_pipeline_ids("Training pipeline")
TERMINABLE = {"PENDING", "RUNNING", "PAUSED"}
API = "/apis/v2beta1"


@dataclass
class Owned:
    """A run made by one thread, and what that thread's acknowledged actions did."""

    run_id: str
    name: str
    experiment_id: str
    created_at: int  # epoch seconds, as the server stores it
    acked_at: float  # monotonic time the create's answer arrived
    storage: str = "AVAILABLE"
    terminates: int = 0
    retries: int = 0
    delete_sent: float | None = None
    deleted_at: float | None = None
    unsure: set[str] = field(default_factory=set)  # actions that got no answer


@dataclass
class Sequence:
    """One page sequence: its options, when it ran, and the rows it returned."""

    started: float
    ended: float
    experiment_id: str | None
    substring: str | None
    since: int | None
    sort: str
    page_size: int
    pages: int = 0
    rows: list[tuple[str, str, int]] = field(default_factory=list)

    def wants(self, run: Owned) -> bool:
        """Whether the run matches this sequence's scope and filter."""
        return (
            (self.experiment_id is None or run.experiment_id == self.experiment_id)
            and (self.substring is None or self.substring in run.name.lower())
            and (self.since is None or run.created_at >= self.since)
        )


@dataclass
class Ledger:
    """What the clients were told: acknowledged runs, unanswered creates, problems."""

    runs: dict[str, Owned] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def _epoch(when: datetime | None) -> int:
    return int(when.timestamp()) if when else 0


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


class Worker:
    """One client thread: a kfp_nb Client, its own runs, a seeded random choice."""

    def __init__(
        self, index: int, url: str, *, ledger: Ledger, log: RequestLog,
        experiments: list[str], deadline: float,
    ) -> None:  # fmt: skip
        self.index = index
        self.rng = random.Random(index)
        self.ledger = ledger
        self.log = log
        self.experiments = experiments
        self.deadline = deadline
        self.mine: list[Owned] = []
        self.made = 0
        # retries=0: a 503 must show, not be retried away; a long timeout so a
        # slow answer on a loaded machine is waited for, never resent.
        self.client = Client(
            url, transport=RecordingTransport(log), retries=0, timeout=120.0
        )

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                step = self.rng.choices(
                    (self.create, self.act, self.page_sequence), (3, 4, 3)
                )[0]
                step()
        except Exception as exc:  # noqa: BLE001 - a crash must fail the test
            self.ledger.problem(f"worker {self.index} crashed: {exc!r}")
        finally:
            self.client.close()

    # -- creates ----------------------------------------------------------------

    def create(self) -> None:
        self.made += 1
        group = self.rng.randrange(GROUPS)
        name = f"load-g{group:02d}-w{self.index:02d}-n{self.made:05d}-"
        name += uuid.uuid4().hex[:8]
        params: dict[str, Any] = {"duration_scale": self.rng.choice((0.6, 1.0, 2.0))}
        if self.rng.random() < 0.5:
            params["fail_task"] = "train"  # FAILED on the first attempt only
        try:
            run = self.client.create_run(
                display_name=name,
                description=f"marker {name}",
                pipeline_version_reference={
                    "pipeline_id": PIPELINE_ID, "pipeline_version_id": VERSION_ID
                },
                parameters=params,
                experiment_id=self.rng.choice([*self.experiments, None]),
            )  # fmt: skip
        except _errors.TransportError:
            with self.ledger.lock:
                self.ledger.unanswered.append(name)
            return
        except _errors.KFPError as exc:
            self.ledger.problem(f"create {name}: {exc}")
            return
        owned = Owned(
            run.run_id or "", name, run.experiment_id or "", _epoch(run.created_at),
            time.monotonic(),
        )  # fmt: skip
        if run.display_name != name or run.description != f"marker {name}":
            self.ledger.problem(f"create {name} answered {run.display_name!r}")
        with self.ledger.lock:
            self.ledger.runs[owned.run_id] = owned
        self.mine.append(owned)

    # -- actions ----------------------------------------------------------------

    def act(self) -> None:
        live = [r for r in self.mine[-20:] if r.delete_sent is None]
        if not live:
            self.create()
            return
        owned = self.rng.choice(live)
        run = self._get(owned, "before acting")
        if run is None:
            return
        action = self._choose(run)
        if action == "delete":
            owned.delete_sent = time.monotonic()
        try:
            getattr(self.client, f"{action}_run")(owned.run_id)
        except (_errors.TransportError, _errors.ActionUnconfirmed):
            owned.unsure.add(action)
            return
        except _errors.KFPError as exc:
            if refused_by_state_rule(action, exc):
                self.log.refused(action)
            else:
                self.ledger.problem(f"{action} {owned.name} ({run.state}): {exc}")
            return
        with self.ledger.lock:
            self.ledger.actions[action] += 1
        self._apply(owned, action)

    def _choose(self, run: Any) -> str:
        if self.rng.random() < 0.15:  # sometimes whatever the state says
            return self.rng.choice(("terminate", "retry", "archive", "unarchive"))
        options = {"delete": 1.0}
        options["unarchive" if run.storage_state == "ARCHIVED" else "archive"] = 3.0
        if run.state in TERMINABLE:
            options["terminate"] = 4.0
        if run.state == "FAILED":
            options["retry"] = 4.0
        names = list(options)
        return self.rng.choices(names, [options[n] for n in names])[0]

    def _apply(self, owned: Owned, action: str) -> None:
        """Note an acknowledged action, and check its effect is visible at once."""
        if action == "delete":
            owned.deleted_at = time.monotonic()
            return
        if action in ("archive", "unarchive"):
            owned.storage = "ARCHIVED" if action == "archive" else "AVAILABLE"
        elif action == "terminate":
            owned.terminates += 1
        else:
            owned.retries += 1
        run = self._get(owned, f"after {action}")
        if run is None:
            return
        seen = {
            "terminate": run.state in ("CANCELING", "FAILED"),
            "retry": run.state in ("RUNNING", "SUCCEEDED"),
        }.get(action, run.storage_state == owned.storage)
        if not seen:
            self.ledger.problem(
                f"{action} of {owned.name} acknowledged but the run then reads "
                f"state={run.state} storage_state={run.storage_state}"
            )

    def _get(self, owned: Owned, why: str) -> Any:
        try:
            return self.client.get_run(owned.run_id)
        except _errors.KFPError as exc:
            self.ledger.problem(f"get {owned.name} {why}: {exc}")
            return None

    # -- page sequences ---------------------------------------------------------

    def page_sequence(self) -> None:
        seq = self._plan_sequence()
        predicates: list[dict[str, Any]] = []
        if seq.substring is not None:
            predicates.append({"key": "display_name", "operation": "IS_SUBSTRING",
                               "string_value": seq.substring})  # fmt: skip
        if seq.since is not None:
            predicates.append({"key": "created_at", "operation":
                               "GREATER_THAN_EQUALS", "timestamp_value":
                               _iso(seq.since)})  # fmt: skip
        token = None
        try:
            while seq.pages < 2000:
                page = self.client.list_runs(
                    experiment_id=seq.experiment_id, page_size=seq.page_size,
                    sort_by=seq.sort, page_token=token,
                    filter={"predicates": predicates} if predicates else None,
                )  # fmt: skip
                seq.pages += 1
                seq.rows.extend(
                    (r.run_id or "", r.display_name or "", _epoch(r.created_at))
                    for r in page.runs
                )
                token = page.next_page_token
                if not token:
                    break
        except _errors.KFPError as exc:
            self.ledger.problem(f"page {seq.pages + 1} of {seq}: {exc}")
            return
        seq.ended = time.monotonic()
        with self.ledger.lock:
            self.ledger.sequences.append(seq)

    def _plan_sequence(self) -> Sequence:
        rng = self.rng
        shape = rng.choice(("experiment", "group", "group+experiment", "recent"))
        experiment = substring = since = None
        if "experiment" in shape:
            experiment = rng.choice(self.experiments)
        if "group" in shape:
            substring = f"-g{rng.randrange(GROUPS):02d}-"
        if shape == "recent":
            since = int(time.time()) - 10
        seq = Sequence(time.monotonic(), 0.0, experiment, substring, since,
                       rng.choice(SORTS), 0)  # fmt: skip
        with self.ledger.lock:
            expected = sum(seq.wants(r) for r in self.ledger.runs.values())
        # Small pages, but a bounded number of them as the table grows.
        seq.page_size = next(
            (s for s in PAGE_SIZES if expected / s <= 12), PAGE_SIZES[-1]
        )
        seq.started = time.monotonic()
        return seq


# -- checks after the load ------------------------------------------------------


def _sort_key(seq: Sequence, row: tuple[str, str, int]) -> tuple[Any, str]:
    run_id, name, created = row
    # Names are ASCII, so lower() is SQLite's NOCASE collation.
    return (created if seq.sort.startswith("created_at") else name.lower(), run_id)


def check_sequence(seq: Sequence, ledger: Ledger) -> list[str]:
    """What is wrong with one page sequence (empty when nothing is)."""
    ids = [row[0] for row in seq.rows]
    problems = []
    doubled = [i for i, n in Counter(ids).items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} runs listed twice, e.g. {doubled[:3]}")
    keys = [_sort_key(seq, row) for row in seq.rows]
    wanted = sorted(keys, reverse=seq.sort.endswith("desc"))
    if keys != wanted:
        problems.append("rows out of sort order")
    for run_id, name, created in seq.rows:
        run = ledger.runs.get(run_id)
        experiment = run.experiment_id if run else seq.experiment_id or ""
        probe = Owned(run_id, name, experiment, created, 0.0)
        if not seq.wants(probe) or (run is None and not name.startswith("load-")):
            problems.append(f"row {name} does not match the filter")
        if run and run.deleted_at is not None and run.deleted_at < seq.started:
            problems.append(f"row {name} was deleted before the sequence began")
    listed = set(ids)
    missing = [
        r.name for r in ledger.runs.values()
        if r.acked_at < seq.started and seq.wants(r) and r.run_id not in listed
        and (r.delete_sent is None or r.delete_sent > seq.ended)
    ]  # fmt: skip
    if missing:
        problems.append(f"{len(missing)} runs missing, e.g. {missing[:3]}")
    return [
        f"sequence (sort {seq.sort!r}, page size {seq.page_size}, experiment "
        f"{seq.experiment_id}, substring {seq.substring}, since {seq.since}, "
        f"{seq.pages} pages): {p}"
        for p in problems
    ]


def check_run(owned: Owned, wire: dict[str, Any] | None, count: int) -> list[str]:
    """What is wrong with one acknowledged run as the server has it at the end."""
    if owned.deleted_at is not None:
        return [f"{owned.name}: deleted (acknowledged) but still listed"] * bool(count)
    if owned.delete_sent is not None:  # unanswered delete: either outcome
        return [f"{owned.name}: listed {count} times"] if count > 1 else []
    if count != 1 or wire is None:
        return [f"{owned.name}: acknowledged create listed {count} times"]
    problems = []
    sure = not owned.unsure & {"archive", "unarchive"}
    if sure and wire.get("storage_state") != owned.storage:
        problems.append(
            f"storage_state {wire.get('storage_state')}, expected {owned.storage}"
        )
    states = [h.get("state") for h in wire.get("state_history") or []]
    if states[:1] != ["PENDING"] or any(a == b for a, b in itertools.pairwise(states)):
        problems.append(f"state history {states}")
    canceling = states.count("CANCELING")
    if "terminate" not in owned.unsure and canceling != owned.terminates:
        problems.append(
            f"{canceling} CANCELING in the history for {owned.terminates} "
            f"acknowledged terminates: {states}"
        )
    retried = sum(
        a == "FAILED" and b == "RUNNING" for a, b in itertools.pairwise(states)
    )
    if "retry" not in owned.unsure and retried != owned.retries:
        problems.append(
            f"{retried} FAILED→RUNNING steps for {owned.retries} acknowledged "
            f"retries: {states}"
        )
    return [f"{owned.name}: {p}" for p in problems]


def _settle(api: httpx.Client, timeout: float) -> int:
    """Wait until no run is PENDING, RUNNING or CANCELING; return how many still are."""
    active = json.dumps({"predicates": [{
        "key": "state", "operation": "IN",
        "string_values": {"values": ["PENDING", "RUNNING", "CANCELING"]},
    }]})  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        left = api.get("/runs", params={"filter": active, "page_size": 1})
        left = left.json().get("total_size", 0)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def _all_runs(api: httpx.Client) -> list[dict[str, Any]]:
    runs, token = [], ""
    while True:
        page = api.get("/runs", params={"page_size": 200, "page_token": token})
        assert page.status_code == 200, page.text
        body = page.json()
        runs.extend(body.get("runs", []))
        token = body.get("next_page_token", "")
        if not token:
            return runs


def _seed(api: httpx.Client, ledger: Ledger, experiments: list[str]) -> None:
    """Runs that exist before the load, never acted on: every sequence's base."""
    for i in range(SEED_RUNS):
        name = f"load-g{i % GROUPS:02d}-seed-n{i:05d}-{uuid.uuid4().hex[:8]}"
        body = {
            "display_name": name, "description": f"marker {name}",
            "experiment_id": experiments[i % len(experiments)],
            "pipeline_version_reference": {
                "pipeline_id": PIPELINE_ID, "pipeline_version_id": VERSION_ID},
            "runtime_config": {"parameters": {"duration_scale": 0.3}},
        }  # fmt: skip
        resp = api.post("/runs", json=body)
        assert resp.status_code == 200, resp.text
        run = resp.json()
        created = int(datetime.fromisoformat(run["created_at"]).timestamp())
        ledger.runs[run["run_id"]] = Owned(
            run["run_id"], name, run["experiment_id"], created, time.monotonic()
        )


def test_fifty_clients_list_create_and_act_without_loss(tmp_path, report):
    server = launch(db=str(tmp_path / "load.db"), speed=SPEED)
    ledger, log = Ledger(), RequestLog()
    try:
        with httpx.Client(base_url=server.url + API, timeout=120.0) as api:
            experiments = [
                api.post("/experiments", json={"display_name": f"load-{i}"}).json()[
                    "experiment_id"
                ]
                for i in range(4)
            ]
            _seed(api, ledger, experiments)
            log.started = time.monotonic()
            deadline = log.started + SECONDS
            workers = [
                Worker(i, server.url, ledger=ledger, log=log,
                       experiments=experiments, deadline=deadline)
                for i in range(CLIENTS)
            ]  # fmt: skip
            threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=SECONDS + 300)
            log.ended = time.monotonic()
            assert not any(t.is_alive() for t in threads), "a client never finished"
            still_active = _settle(api, timeout=60.0)
            final = _all_runs(api)
        assert server.alive(), "the server process died under load"
    finally:
        server.stop()

    by_name = Counter(r["display_name"] for r in final)
    wire = {r["run_id"]: r for r in final}
    problems = list(ledger.problems)
    for owned in ledger.runs.values():
        problems += check_run(owned, wire.get(owned.run_id), by_name[owned.name])
    problems += [f"{n}: unanswered create listed twice"
                 for n in ledger.unanswered if by_name[n] > 1]  # fmt: skip
    problems += [f"{n} listed {c} times" for n, c in by_name.items() if c > 1]
    rows = 0
    for seq in ledger.sequences:
        problems += check_sequence(seq, ledger)
        rows += len(seq.rows)
    errors = log.server_errors()
    unexpected_4xx = [
        (k, s) for (k, s), n in log.statuses().items()
        if s is not None and 400 <= s < 500
        for _ in range(n)
    ]  # fmt: skip
    refused = sum(log.refusals.values())
    acked_actions = sum(ledger.actions.values())
    creates = sum(1 for r in ledger.runs.values())
    report(
        log.summary(f"load: {CLIENTS} clients, {SECONDS:g} s")
        + f"\n  creates acknowledged and verified: {creates} (incl. {SEED_RUNS} "
        f"seeded), unanswered: {len(ledger.unanswered)}"
        + f"\n  actions acknowledged and verified: {acked_actions} "
        f"({dict(sorted(ledger.actions.items()))})"
        + f"\n  page sequences checked: {len(ledger.sequences)} "
        f"({sum(s.pages for s in ledger.sequences)} pages, {rows} rows)"
        + f"\n  runs at the end: {len(final)}; still active after settling: "
        f"{still_active}; problems: {len(problems)}"
    )
    with open(f"{server.db}.server.log", errors="replace") as fh:
        server_log = fh.read()
    assert not errors, f"5xx or no answer: {Counter(errors)}\n{server_log[-3000:]}"
    assert len(unexpected_4xx) == refused, (
        f"4xx beyond the {refused} state-rule refusals: {Counter(unexpected_4xx)}"
    )
    assert not still_active, f"{still_active} runs never settled"
    assert not problems, "\n".join(problems[:30])
    assert "Traceback" not in server_log, server_log[-3000:]
    assert creates > SEED_RUNS and acked_actions and ledger.sequences
