"""Notebook panels: :class:`RunTable` (run list), :class:`RunView` (one run),
:class:`ArtifactViewer` (one artifact) and :class:`CompareView` (runs side by side).

Both are anywidgets; the kernel ↔ front-end contract is ``js/PROTOCOL.md``.
"""

from ._run_view import RunView
from ._table import RunTable
from ._viewer import ArtifactViewer, CompareView

__all__ = ["ArtifactViewer", "CompareView", "RunTable", "RunView"]
