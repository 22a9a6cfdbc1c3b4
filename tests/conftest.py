"""Fixtures: embedded servers on loopback, each over its own SQLite file."""

from __future__ import annotations

import pytest

from kfp_nb.server import launch


@pytest.fixture
def server(tmp_path):
    """A fresh, empty embedded server (a real process on 127.0.0.1)."""
    proc = launch(db=str(tmp_path / "kfp.db"), demo=False, speed=20.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """One embedded server with the demo data, shared by read-mostly tests."""
    folder = tmp_path_factory.mktemp("demo")
    proc = launch(db=str(folder / "demo.db"), demo=True, speed=20.0)
    yield proc
    proc.stop()


@pytest.fixture
def client(server):
    from kfp_nb import Client

    with Client(server.url) as c:
        yield c
