"""Fixtures of the viewer tests: the demo server, and one artifact of each kind."""

from __future__ import annotations

import pytest

from kfp_nb import Client


@pytest.fixture(scope="session")
def kfp(demo_server):
    with Client(demo_server.url, backoff=0) as client:
        yield client


@pytest.fixture(scope="session")
def demo(kfp):
    """``{(type, output_key): (run_id, task_id, output_key)}`` over the demo runs.

    Found through ``client.artifacts()`` so the listing itself is exercised.
    """
    found: dict[tuple[str, str], tuple[str, str, str]] = {}
    runs = kfp.runs(archived=None)
    for run_id in runs.loc[runs["state"] == "SUCCEEDED", "run_id"]:
        frame = kfp.artifacts(run_id)
        for row in frame.itertuples():
            found.setdefault(
                (row.type, row.output_key), (run_id, row.task_id, row.output_key)
            )
        if ("Artifact", "mlpipeline-ui-metadata") in found and len(found) > 15:
            break
    return found


def first(demo, kind: str, key: str | None = None) -> tuple[str, str, str]:
    for (art_type, out_key), where in demo.items():
        if art_type == kind and (key is None or out_key == key):
            return where
    raise AssertionError(f"the demo data has no {kind} artifact {key or ''}")
