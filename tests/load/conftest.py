"""The ``load`` marker: load and kill -9 tests run only when asked for.

``make test`` runs ``pytest tests``, which collects this folder too; its tests
are skipped there unless ``-m`` selects ``load`` (``make load`` runs
``pytest -m load tests/load``). Summaries the tests hand to ``report`` are
printed at the end of the session, even with output captured.
"""

from __future__ import annotations

import pytest

_SUMMARIES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "load: long load and kill -9 tests of the embedded server (make load)",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if "load" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="load test: run with make load (pytest -m load)")
    for item in items:
        if item.get_closest_marker("load"):
            item.add_marker(skip)


@pytest.fixture
def report():
    """Append a summary text printed in the session's terminal summary."""
    return _SUMMARIES.append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for text in _SUMMARIES:
        terminalreporter.write_sep("-", "load summary")
        terminalreporter.write_line(text)
