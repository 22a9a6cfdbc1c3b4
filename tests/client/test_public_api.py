"""The front door: a sorted __all__, public names only, cheap import."""

from __future__ import annotations

import subprocess
import sys

import kfp_nb


def test_all_is_sorted_and_lists_every_public_name():
    public = {n for n in dir(kfp_nb) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(kfp_nb, n)).__name__ == "module"}
    assert kfp_nb.__all__ == sorted(kfp_nb.__all__)
    # Modules are public only when listed (kfp_nb.plot); private ones never are.
    assert set(kfp_nb.__all__) - modules == public - modules
    assert modules & set(kfp_nb.__all__) == {"plot"}


def test_exported_classes_claim_the_package():
    for name in kfp_nb.__all__:
        obj = getattr(kfp_nb, name)
        if isinstance(obj, type):
            assert obj.__module__ == "kfp_nb", name


def test_core_names_are_exported():
    for name in [
        "Client",
        "AsyncClient",
        "Run",
        "Task",
        "Experiment",
        "Artifact",
        "RunPage",
        "TaskPage",
        "KFPError",
        "APIError",
        "NotFound",
        "LoginRedirect",
        "PaginationError",
        "ArtifactError",
        "WaitTimeout",
        "ActionUnconfirmed",
    ]:
        assert name in kfp_nb.__all__


def test_import_does_not_load_pandas_tqdm_or_widgets():
    code = (
        "import sys, kfp_nb; print(*(m in sys.modules for m in "
        "('pandas', 'tqdm', 'anywidget', 'pyarrow')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False False False False"


def test_panels_load_on_first_use():
    from kfp_nb.widgets import RunTable

    assert kfp_nb.RunTable is RunTable and RunTable.__module__ == "kfp_nb"
    assert "RunView" in dir(kfp_nb)


def test_every_endpoint_method_exists_on_both_clients():
    names = [
        "create_run",
        "get_run",
        "list_runs",
        "delete_run",
        "archive_run",
        "unarchive_run",
        "terminate_run",
        "retry_run",
        "read_artifact",
        "create_task",
        "get_task",
        "list_tasks",
        "update_task",
        "get_experiment",
        "list_experiments",
        "healthz",
        "iter_runs",
        "iter_tasks",
        "wait",
        "runs",
        "tasks",
    ]
    for name in names:
        assert callable(getattr(kfp_nb.Client, name))
        assert callable(getattr(kfp_nb.AsyncClient, name))
