"""Warnings kfp_nb issues: things worth knowing that do not stop the work.

::

    KFPWarning (UserWarning)
    ├── PaginationWarning       a listing's pages repeat rows or fall short of total_size
    ├── UnknownStateWarning     a state this version does not know was sent as given
    └── UnparsedValueWarning    a value in a response could not be read (cell is NaT/NA)
"""

from __future__ import annotations

__all__ = [
    "KFPWarning",
    "PaginationWarning",
    "UnknownStateWarning",
    "UnparsedValueWarning",
]


class KFPWarning(UserWarning):
    """Root of the warnings kfp_nb issues; filter them all with this class."""


class PaginationWarning(KFPWarning):
    """A listing's pages broke the paging contract; issued once per listing.

    Either the same ``run_id`` / ``task_id`` came on more than one page (every
    row is kept, repeats included), or the last page came with fewer rows than
    the ``total_size`` every page reported (rows may be missing; runs created,
    deleted or archived while listing cause this too).
    """


class UnknownStateWarning(KFPWarning):
    """A ``state`` this version does not know was sent to the server as given."""


class UnparsedValueWarning(KFPWarning):
    """A value in a server response could not be read; its cell is NaT / <NA>.

    The raw values are kept in the frame's ``attrs["unparsed"]``.
    """
