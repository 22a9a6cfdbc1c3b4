"""Fixtures of the snapshot tests: one snapshot of the demo server, and its replay.

The selection keeps the tests fast: the two "viewer-edge-cases" runs (every
artifact kind, all final) and a few "churn-model" runs in different states.
"""

from __future__ import annotations

import pytest

from kfp_nb import Client
from kfp_nb._snapshot import read_snapshot
from kfp_nb.server import launch

FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


def experiment_id(client: Client, name: str) -> str:
    return next(
        e.experiment_id
        for e in client.list_experiments().experiments
        if e.display_name == name
    )


@pytest.fixture(scope="module")
def source(demo_server):
    with Client(demo_server.url, backoff=0) as client:
        yield client


@pytest.fixture(scope="module")
def selection(source):
    """A runs frame: both edge-case runs and one churn run per state."""
    import pandas as pd

    edge = source.runs(experiment_id=experiment_id(source, "viewer-edge-cases"))
    churn = source.runs(experiment_id=experiment_id(source, "churn-model"))
    one_per_state = churn.drop_duplicates("state")
    return pd.concat([edge, one_per_state], ignore_index=True)


@pytest.fixture(scope="module")
def snapshot_file(source, selection, tmp_path_factory):
    path = tmp_path_factory.mktemp("snapshot") / "runs.kfpsnap"
    manifest = source.snapshot(path, selection, progress=False)
    return path, manifest


@pytest.fixture(scope="module")
def captured(snapshot_file):
    return read_snapshot(snapshot_file[0])


@pytest.fixture(scope="module")
def replay(snapshot_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    proc = launch(db=str(folder / "replay.db"), from_snapshot=snapshot_file[0])
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def replayed(replay):
    with Client(replay.url, backoff=0) as client:
        yield client


@pytest.fixture(scope="module")
def final_ids(captured):
    """Runs final when captured: the source cannot change them any more."""
    return [r["run_id"] for r in captured.runs if r.get("state") in FINAL]


@pytest.fixture
def outbox(monkeypatch):
    """Every message a panel sends (the front end is simulated, as in tests/widgets)."""
    from kfp_nb.widgets._base import Panel

    from ..widgets._helpers import Outbox

    box = Outbox()
    monkeypatch.setattr(
        Panel,
        "send",
        lambda self, content, buffers=None: box.record(self, content, buffers),
    )
    return box
