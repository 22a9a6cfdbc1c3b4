"""The embedded KFP-compatible API server (see CONFORMANCE.md for the rules).

``create_app(db_path, demo=False, speed=1.0)`` builds the Starlette app for
in-process use; ``launch(db=..., ...)`` starts ``python -m kfp_nb serve`` as a
child process and returns a ``ServerProcess`` (``url``, ``port``, ``pid``,
``stop()``, a context manager). Both take ``from_snapshot=PATH`` to serve a file
written by ``Client.snapshot()`` (``_replay``: runs frozen as captured).
"""

from ._app import create_app
from ._process import ServerProcess, launch

__all__ = ["ServerProcess", "create_app", "launch"]
