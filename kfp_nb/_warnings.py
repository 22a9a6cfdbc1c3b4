"""Warnings kfp_nb issues: things worth knowing that do not stop the work.

::

    KFPWarning (UserWarning)
    ├── UnknownStateWarning     a state this version does not know was sent as given
    └── UnparsedValueWarning    a value in a response could not be read (cell is NaT/NA)
"""

from __future__ import annotations

__all__ = ["KFPWarning", "UnknownStateWarning", "UnparsedValueWarning"]


class KFPWarning(UserWarning):
    """Root of the warnings kfp_nb issues; filter them all with this class."""


class UnknownStateWarning(KFPWarning):
    """A ``state`` this version does not know was sent to the server as given."""


class UnparsedValueWarning(KFPWarning):
    """A value in a server response could not be read; its cell is NaT / <NA>.

    The raw values are kept in the frame's ``attrs["unparsed"]``.
    """
