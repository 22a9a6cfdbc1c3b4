"""Notebook panels: :class:`RunTable` (run list) and :class:`RunView` (one run).

Both are anywidgets; the kernel ↔ front-end contract is ``js/PROTOCOL.md``.
"""

from ._run_view import RunView
from ._table import RunTable

__all__ = ["RunTable", "RunView"]
