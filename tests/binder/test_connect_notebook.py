"""Notebook 05 with a cluster configured: its cluster cells run, or show the error.

nbval runs the notebook with no cluster (the cells print "skipped"); here
``KFP_CLUSTER_HOST`` points at an embedded server standing in for a cluster, and
at a port where nothing listens, and the notebook must still run to its checks.
"""

from __future__ import annotations

import socket

import pytest

from ._replay import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = ROOT / "notebooks" / "05-connect-to-your-cluster.ipynb"


def _execute(monkeypatch, demo_url: str, cluster_host: str) -> list[str]:
    """Each code cell's printed text, run in a kernel that sees ``cluster_host``."""
    monkeypatch.setenv("KFP_HOST", demo_url)
    monkeypatch.setenv("KFP_CLUSTER_HOST", cluster_host)
    monkeypatch.setenv("KFP_CLUSTER_NAMESPACE", "team-a")
    monkeypatch.delenv("KF_PIPELINES_SA_TOKEN_PATH", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    return [
        "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


def test_cluster_cells_list_the_runs_of_a_configured_cluster(monkeypatch, demo_server):
    printed = _execute(monkeypatch, demo_server.url, demo_server.url)
    cluster, runs, checks = printed[-3:]
    assert cluster.startswith(
        f"<kfp_nb.Client host={demo_server.url!r} namespace='team-a' no token>\n"
        "healthz: {"
    )
    assert runs.startswith("20 most recent runs, by state:\n")
    assert "SUCCEEDED" in runs and "skipped" not in "".join(printed)
    assert checks == "all checks passed\n"


def test_cluster_cells_show_an_unreachable_cluster_and_carry_on(
    monkeypatch, demo_server
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printed = _execute(monkeypatch, demo_server.url, f"127.0.0.1:{port}")
    cluster, runs, checks = printed[-3:]
    assert "ConnectError: GET /apis/v2beta1/healthz: could not connect" in cluster
    assert runs == "skipped: see the error above\n"
    assert checks == "all checks passed\n"
