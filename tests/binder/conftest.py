"""Binder tests: the ``binder`` marker selects (or, with ``-m "not binder"``, skips) them."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "binder: replays binder/ (fresh venv, postBuild, start); needs npm and "
        "the package index, about two minutes",
    )
