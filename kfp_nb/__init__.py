"""kfp_nb: Kubeflow Pipelines runs as first-class citizens of Jupyter notebooks."""

from ._artifact import Artifact, ArtifactNotFound
from ._async_client import AsyncClient
from ._base_client import ClientClosed
from ._client import Client
from ._compare import Comparison, compare
from ._errors import (
    ActionUnconfirmed,
    APIError,
    ArtifactError,
    AuthenticationError,
    ConnectError,
    FailedPrecondition,
    InvalidArgument,
    KFPError,
    LoginRedirect,
    NotFound,
    PaginationError,
    PermissionDenied,
    RequestTimeout,
    ResponseFormatError,
    ServerError,
    TransportError,
    Unauthenticated,
    Unimplemented,
    WaitTimeout,
)
from ._models import Artifact as ArtifactRecord
from ._models import Experiment, ExperimentPage, Run, RunPage, Task, TaskPage
from ._snapshot import SnapshotError
from ._viewspec import options
from ._warnings import (
    KFPWarning,
    PaginationWarning,
    UnknownStateWarning,
    UnparsedValueWarning,
)

__all__ = [
    "APIError",
    "ActionUnconfirmed",
    "Artifact",
    "ArtifactError",
    "ArtifactNotFound",
    "ArtifactRecord",
    "ArtifactViewer",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ClientClosed",
    "CompareView",
    "Comparison",
    "ConnectError",
    "EligibilityChanged",
    "Experiment",
    "ExperimentPage",
    "FailedPrecondition",
    "InvalidArgument",
    "KFPError",
    "KFPWarning",
    "LoginRedirect",
    "NotFound",
    "PaginationError",
    "PaginationWarning",
    "PermissionDenied",
    "RequestTimeout",
    "ResponseFormatError",
    "Run",
    "RunDiff",
    "RunPage",
    "RunTable",
    "RunView",
    "ServerError",
    "SnapshotError",
    "Task",
    "TaskPage",
    "TransportError",
    "Unauthenticated",
    "Unimplemented",
    "UnknownStateWarning",
    "UnparsedValueWarning",
    "WaitTimeout",
    "compare",
    "critical_path",
    "diff",
    "failures",
    "options",
    "plot",
    "stats",
]

__version__ = "0.1.0"

#: Names whose modules import anywidget/pandas/pyarrow: loaded on first use, so
#: ``import kfp_nb`` stays cheap for scripts that only use the client.
_LAZY = {
    "ArtifactViewer": ".widgets",
    "CompareView": ".widgets",
    "EligibilityChanged": "._accessor",
    "RunDiff": "._analysis",
    "RunTable": ".widgets",
    "RunView": ".widgets",
    "critical_path": "._analysis",
    "diff": "._analysis",
    "failures": "._analysis",
    "plot": None,  # the module itself
    "stats": "._analysis",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'kfp_nb' has no attribute {name!r}")
    from importlib import import_module

    if _LAZY[name] is None:
        obj = import_module(f".{name}", __name__)
    else:
        obj = getattr(import_module(_LAZY[name], __name__), name)
        if isinstance(obj, type):
            obj.__module__ = __name__
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# Users see kfp_nb.Client, not kfp_nb._client.Client, in reprs and tracebacks.
for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
