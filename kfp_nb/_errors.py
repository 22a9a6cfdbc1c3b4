"""The exception tree of kfp_nb.

::

    KFPError                          anything kfp_nb raises on purpose
    ├── TransportError                the request did not complete
    │   ├── ConnectError              refused, DNS, TLS, proxy
    │   └── RequestTimeout            no answer in time
    ├── APIError                      the server answered with an error status
    │   ├── InvalidArgument           400, code 3 (bad filter, page size, body)
    │   ├── FailedPrecondition        400 code 9, 409 (action refused in this state)
    │   ├── Unauthenticated *         401 (no or expired token / session)
    │   ├── PermissionDenied *        403 (no access, or an expired token)
    │   ├── NotFound                  404
    │   ├── Unimplemented             501 (endpoint missing on this server)
    │   └── ServerError               5xx
    ├── AuthenticationError           credentials refused (the * classes are ones too)
    │   └── LoginRedirect             a login page (302 or HTML) instead of JSON
    ├── ResponseFormatError           a body that is not the JSON the API promises
    ├── PaginationError               a page token repeated, or a listing cut short
    ├── ArtifactError                 an artifact payload that is unsafe or too big
    ├── ActionUnconfirmed             a POST action whose outcome is unknown
    └── WaitTimeout                   wait() ran out of time (also a TimeoutError)

Every message names the endpoint and, where there is one, the run, and says what
to do next. No message ever contains a token or a cookie value.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "ActionUnconfirmed",
    "ArtifactError",
    "AuthenticationError",
    "ConnectError",
    "FailedPrecondition",
    "InvalidArgument",
    "KFPError",
    "LoginRedirect",
    "NotFound",
    "PaginationError",
    "PermissionDenied",
    "RequestTimeout",
    "ResponseFormatError",
    "ServerError",
    "TransportError",
    "Unauthenticated",
    "Unimplemented",
    "WaitTimeout",
]


class KFPError(Exception):
    """Root of every error kfp_nb raises on purpose."""


class TransportError(KFPError):
    """The request did not complete: nothing came back from the server."""


class ConnectError(TransportError):
    """The connection failed (refused, DNS, TLS or proxy)."""


class RequestTimeout(TransportError, TimeoutError):
    """The server did not answer within the client's timeout."""


class APIError(KFPError):
    """The server answered with an error status.

    Attributes
    ----------
    status:
        The HTTP status code.
    code:
        The gRPC code from the body (3 = invalid argument, 5 = not found, ...),
        or None when the body had none.
    message:
        The server's short, user-facing message (``details[0].message``), or its
        top-level ``message`` when the detail is missing or only the generic
        "Internal Server Error" (the real cause is then in the top-level text).
    endpoint:
        ``"METHOD /path"`` of the request that failed.
    host:
        The client's base URL (the server that answered), or "".
    body:
        The parsed error body (dict) or the raw text, for debugging.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        endpoint: str = "",
        body: Any = None,
        hint: str = "",
        host: str = "",
    ) -> None:
        self.status = status
        self.host = host
        self.code = code
        self.message = message
        self.endpoint = endpoint
        self.body = body
        self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        code = f", code {self.code}" if self.code is not None else ""
        where = f" on {self.host}" if self.host else ""
        text = (
            f"{self.endpoint}{where} failed with HTTP {self.status}{code}: "
            f"{self.message}"
        )
        return f"{text}. {self.hint}" if self.hint else text


class InvalidArgument(APIError):
    """The request was malformed (HTTP 400, code 3): filter, sort, page size, body."""


class FailedPrecondition(APIError):
    """The run's state does not allow this action (400 code 9, or 409)."""


class AuthenticationError(KFPError):
    """The server did not accept the credentials: catch this for every auth fault.

    Raised as :class:`Unauthenticated` (401), :class:`PermissionDenied` (403)
    or :class:`LoginRedirect`; the message says where the token came from
    (``token=`` or the ``$KF_PIPELINES_SA_TOKEN_PATH`` file), never its value.
    """


class Unauthenticated(APIError, AuthenticationError):
    """No valid credentials (HTTP 401)."""


class PermissionDenied(APIError, AuthenticationError):
    """Not allowed (HTTP 403): no access to the namespace, or an expired token."""


class NotFound(APIError):
    """The run, task, experiment or artifact does not exist (HTTP 404)."""


class Unimplemented(APIError):
    """The server does not offer this endpoint or method (HTTP 501)."""


class ServerError(APIError):
    """The server failed (HTTP 5xx)."""


class LoginRedirect(AuthenticationError):
    """A login page or other HTML came back where the API answers JSON.

    The usual causes: the host points at the Kubeflow dashboard rather than the
    pipelines API, or the session cookie behind an auth proxy (Dex,
    oauth2-proxy) has expired.
    """


class ResponseFormatError(KFPError):
    """A response body that is not the JSON the API promises."""


class PaginationError(KFPError):
    """Paging did not complete: a token repeated, or a page failed mid-listing.

    ``rows`` holds the items read before the failure, so nothing is lost.
    """

    def __init__(self, message: str, *, pages: int = 0, rows: list[Any] | None = None):
        self.pages = pages
        self.rows = rows if rows is not None else []
        super().__init__(message)


class ArtifactError(KFPError, ValueError):
    """An artifact payload was refused: too big, malformed or unsafe.

    Also a ValueError, which artifact calls raised before it existed.
    """


class ActionUnconfirmed(KFPError):
    """A POST action timed out and its effect could not be confirmed."""


class WaitTimeout(KFPError, TimeoutError):
    """``Client.wait`` ran out of time; ``last_states`` maps run id to last state."""

    def __init__(self, message: str, *, last_states: dict[str, str | None]):
        self.last_states = last_states
        super().__init__(message)
