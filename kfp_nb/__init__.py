"""kfp_nb: Kubeflow Pipelines runs as first-class citizens of Jupyter notebooks."""

from ._async_client import AsyncClient
from ._client import Client
from ._errors import (
    ActionUnconfirmed,
    APIError,
    ArtifactError,
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
from ._models import Artifact, Experiment, ExperimentPage, Run, RunPage, Task, TaskPage

__all__ = [
    "APIError",
    "ActionUnconfirmed",
    "Artifact",
    "ArtifactError",
    "AsyncClient",
    "Client",
    "ConnectError",
    "Experiment",
    "ExperimentPage",
    "FailedPrecondition",
    "InvalidArgument",
    "KFPError",
    "LoginRedirect",
    "NotFound",
    "PaginationError",
    "PermissionDenied",
    "RequestTimeout",
    "ResponseFormatError",
    "Run",
    "RunPage",
    "ServerError",
    "Task",
    "TaskPage",
    "TransportError",
    "Unauthenticated",
    "Unimplemented",
    "WaitTimeout",
]

__version__ = "0.1.0"

# Users see kfp_nb.Client, not kfp_nb._client.Client, in reprs and tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
