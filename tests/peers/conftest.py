"""Fixtures for the official-client peer tests: one fast embedded server.

The server runs at speed 40, so a training run (about 92 s of simulated work)
finishes in about 2.5 s. Tests isolate their listings with their own experiment
or a unique name, since the server is shared by the whole peers package.
"""

from __future__ import annotations

import uuid

import kfp_server_api as kfp
import pytest

from kfp_nb.server import launch

from ._official import FINISHED_PARAMS, api_client, new_run, wait_run


@pytest.fixture(scope="package")
def peer_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("peers")
    proc = launch(db=str(folder / "peers.db"), demo=False, speed=40.0)
    yield proc
    proc.stop()


@pytest.fixture
def slow_runs(tmp_path):
    """RunServiceApi on a server at speed 1, for moments a test must catch.

    At speed 1 a terminated run stays CANCELING for 4 s (CANCELING reaches its
    history after 2 s), wide margins on a loaded 2-core machine.
    """
    proc = launch(db=str(tmp_path / "slow.db"), demo=False, speed=1.0)
    client = api_client(proc.url)
    yield kfp.RunServiceApi(client)
    client.close()
    proc.stop()


@pytest.fixture(scope="package")
def official(peer_server):
    """``kfp_server_api.ApiClient`` configured with only the server's URL."""
    client = api_client(peer_server.url)
    yield client
    client.close()


@pytest.fixture(scope="package")
def runs(official):
    return kfp.RunServiceApi(official)


@pytest.fixture(scope="package")
def experiments(official):
    return kfp.ExperimentServiceApi(official)


@pytest.fixture
def experiment(experiments):
    """A fresh experiment, so a test's listings see only its own runs."""
    body = kfp.V2beta1Experiment(display_name=f"peer-{uuid.uuid4().hex[:10]}")
    return experiments.experiment_service_create_experiment(body)


@pytest.fixture(scope="package")
def finished_run(runs):
    """A training-pipeline run that has SUCCEEDED, with tasks and artifacts."""
    run = new_run(runs, "peer-finished", params=FINISHED_PARAMS)
    done = wait_run(runs, run.run_id)
    assert done.state == "SUCCEEDED", done
    return done
