"""Helpers for the embedded-server tests: HTTP clients, specs, polling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kfp_nb.server import launch
from kfp_nb.server._pipelines import DEMO_PIPELINES

API = "/apis/v2beta1"


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory) -> Iterator[Any]:
    """A server shared by one test module, running 200× faster than real time."""
    folder = tmp_path_factory.mktemp("fast")
    proc = launch(db=str(folder / "kfp.db"), speed=200.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def api(fast_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fast_server.url + API, timeout=30.0) as client:
        yield client


@pytest.fixture
def fresh_api(server) -> Iterator[httpx.Client]:
    """A client on a brand-new, empty server (the ``server`` fixture)."""
    with httpx.Client(base_url=server.url + API, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def training_spec() -> dict[str, Any]:
    return DEMO_PIPELINES["Training pipeline"]


@pytest.fixture(scope="session")
def sweep_spec() -> dict[str, Any]:
    return DEMO_PIPELINES["Hyperparameter sweep"]
