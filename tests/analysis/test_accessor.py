"""``frame.kfp``: bulk actions by query, dry run first, refused when states moved."""

from __future__ import annotations

import pandas as pd
import pytest

from kfp_nb import Client
from kfp_nb._accessor import EligibilityChanged

from .conftest import TRAINING, start


@pytest.fixture
def runs(server):
    """Two failed and one succeeded short training runs on a fresh server."""
    with Client(server.url, backoff=0) as client:
        ids = {
            "f1": start(client, TRAINING, "f1", fail_task="load-data",
                        duration_scale=0.05),
            "f2": start(client, TRAINING, "f2", fail_task="load-data",
                        duration_scale=0.05),
            "ok": start(client, TRAINING, "ok", duration_scale=0.05),
        }  # fmt: skip
        client.wait(list(ids.values()), timeout=60, poll_interval=0.2)
        yield client, ids


def test_dry_run_lists_eligible_rows_and_why_others_are_skipped(runs):
    client, ids = runs
    frame = client.runs()
    plan = frame.kfp.retry()
    assert plan.columns.tolist() == [
        "run_id", "display_name", "state", "storage_state", "action", "eligible",
        "reason",
    ]  # fmt: skip
    plan = plan.set_index("display_name")
    assert plan["eligible"].to_dict() == {"f1": True, "f2": True, "ok": False}
    assert plan.at["ok", "reason"] == (
        "run is SUCCEEDED; only FAILED runs can be retried"
    )
    assert plan.loc[["f1", "f2"], "reason"].isna().all()
    # Nothing happened on the server.
    assert client.get_run(ids["f1"]).state == "FAILED"


def test_real_call_acts_on_the_eligible_runs_only(runs):
    client, ids = runs
    failed = client.runs(state="FAILED")
    failed.kfp.archive()
    result = failed.kfp.archive(dry_run=False)
    assert result.columns.tolist() == ["run_id", "action", "ok", "error"]
    assert sorted(result["run_id"]) == sorted([ids["f1"], ids["f2"]])
    assert result["ok"].all() and result["error"].isna().all()
    assert result["action"].unique().tolist() == ["archive"]
    assert client.get_run(ids["f1"]).storage_state == "ARCHIVED"
    assert client.get_run(ids["ok"]).storage_state == "AVAILABLE"
    # The dry run is used up: a second real call needs a new dry run.
    with pytest.raises(EligibilityChanged, match="no dry run"):
        failed.kfp.archive(dry_run=False)
    again = failed.kfp.archive().set_index("run_id")
    assert again["reason"].tolist() == ["run is already archived"] * 2
    restored = failed.kfp.restore()
    assert restored["eligible"].all()
    assert failed.kfp.restore(dry_run=False)["ok"].all()
    assert client.get_run(ids["f2"]).storage_state == "AVAILABLE"


def test_real_call_refuses_when_the_eligible_set_changed(runs):
    client, ids = runs
    frame = client.runs()
    assert frame.kfp.archive()["eligible"].sum() == 3
    client.archive_run(ids["f2"])  # someone else acts meanwhile
    with pytest.raises(EligibilityChanged, match=f"no longer eligible: {ids['f2']}"):
        frame.kfp.archive(dry_run=False)
    # Nothing was done to the others.
    assert client.get_run(ids["f1"]).storage_state == "AVAILABLE"
    assert client.get_run(ids["ok"]).storage_state == "AVAILABLE"


def test_without_a_dry_run_nothing_happens(runs):
    client, _ = runs
    frame = client.runs()
    with pytest.raises(EligibilityChanged, match=r"call frame\.kfp\.delete\(\) first"):
        frame.kfp.delete(dry_run=False)
    assert len(client.runs()) == 3


def test_filtered_frames_keep_their_client_and_files_need_one(runs, tmp_path):
    client, _ = runs
    frame = client.runs()
    subset = frame[frame["display_name"] == "f1"]
    assert subset.kfp.terminate()["reason"].tolist() == [
        "run is FAILED; only PENDING, RUNNING or PAUSED runs can be terminated"
    ]
    # attrs hold a key, not the client: the frame still writes to parquet.
    path = tmp_path / "runs.parquet"
    frame.to_parquet(path)
    loaded = pd.read_parquet(path)
    # In this process the key still finds the live client.
    assert loaded.kfp.delete()["eligible"].all()
    loaded.attrs["kfp_nb.client"] = "Client@0"  # as read in another kernel
    with pytest.raises(ValueError, match="pass client="):
        loaded.kfp.delete()
    with Client(client.host) as other:
        closed = other.runs()
    with pytest.raises(ValueError, match="client was closed"):
        closed.kfp.delete()
    plan = loaded.kfp.delete(client=client)
    assert plan["eligible"].all()
    result = loaded.kfp.delete(dry_run=False, client=client)
    assert result["ok"].all() and len(result) == 3
    assert client.runs(archived=None).empty


def test_a_failing_call_is_reported_per_run(runs):
    client, ids = runs
    frame = client.runs(state="FAILED")
    frame.kfp.retry()

    class Flaky:
        """The client, except that retrying f2 fails on the server's side."""

        def __getattr__(self, name):
            return getattr(client, name)

        def retry_run(self, run_id, **kw):
            if run_id == ids["f2"]:
                client.delete_run(run_id)  # gone before the retry lands
            return client.retry_run(run_id, **kw)

    result = frame.kfp.retry(dry_run=False, client=Flaky()).set_index("run_id")
    assert bool(result.at[ids["f1"], "ok"]) is True
    assert bool(result.at[ids["f2"], "ok"]) is False
    error = result.at[ids["f2"], "error"]
    assert isinstance(error, str) and "not found" in error.lower()
