"""Fixtures of the analysis tests: servers holding runs made with known parameters."""

from __future__ import annotations

import pytest

from kfp_nb import Client
from kfp_nb.server import launch
from kfp_nb.server._demo import demo_pipeline_ids

TRAINING = "Training pipeline"
VALIDATION = "Data validation"


def start(client: Client, pipeline: str, name: str, **parameters):
    pipeline_id, version_id = demo_pipeline_ids(pipeline)
    return client.create_run(
        display_name=name,
        pipeline_version_reference={
            "pipeline_id": pipeline_id,
            "pipeline_version_id": version_id,
        },
        parameters=parameters,
    ).run_id


@pytest.fixture(scope="package")
def lab(tmp_path_factory):
    """A server with six finished runs: ``(client, {name: run_id})``, read only.

    ok-1/ok-2: training, learning rates 0.1 and 0.2, succeeded; bad-train-1/2:
    training failed at ``train``; ok-check: validation, slow enough (3x) for
    its parallel checks to end in different seconds; bad-drift: validation
    failed at check-drift.
    """
    folder = tmp_path_factory.mktemp("analysis")
    proc = launch(db=str(folder / "kfp.db"), demo=False, speed=20.0)
    try:
        with Client(proc.url, backoff=0) as client:
            ids = {
                "ok-1": start(client, TRAINING, "ok-1", learning_rate=0.1),
                "ok-2": start(client, TRAINING, "ok-2", learning_rate=0.2),
                "bad-train-1": start(
                    client, TRAINING, "bad-train-1", learning_rate=0.1,
                    fail_task="train", duration_scale=0.2,
                ),
                "bad-train-2": start(
                    client, TRAINING, "bad-train-2", learning_rate=0.3,
                    fail_task="train", duration_scale=0.2,
                ),
                "ok-check": start(client, VALIDATION, "ok-check", duration_scale=3),
                "bad-drift": start(
                    client, VALIDATION, "bad-drift", fail_task="check-drift",
                    duration_scale=0.2,
                ),
            }  # fmt: skip
            client.wait(list(ids.values()), timeout=60, poll_interval=0.2)
            yield client, ids
    finally:
        proc.stop()
