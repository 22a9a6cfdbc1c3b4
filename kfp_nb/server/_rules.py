"""Errors as the real server writes them, and the run action rules.

``RpcError`` carries a gRPC code, the internal chain (top-level ``message``) and
the short user text (``details[0].message``), as SEMANTICS.md §2 describes. The
action checks read :mod:`kfp_nb._states`, the table the client and widgets use,
so the three cannot disagree.
"""

from __future__ import annotations

from typing import Any

from .. import _states

__all__ = [
    "RpcError",
    "check_retry",
    "check_terminate",
    "gateway_error",
    "http_status",
    "internal",
    "invalid",
    "not_found",
]

# grpc-gateway v2 HTTPStatusFromCode (SEMANTICS.md §2.2).
_HTTP = {
    0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
    9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip


def http_status(code: int) -> int:
    """HTTP status the gateway uses for a gRPC code."""
    return _HTTP.get(code, 500)


class RpcError(Exception):
    """An error answer: gRPC ``code``, internal ``chain`` and user ``detail``.

    ``detail=None`` means a gateway-made error (bad JSON, routing), which has no
    ``details`` list in its body.
    """

    def __init__(
        self,
        code: int,
        chain: str,
        detail: str | None = None,
        *,
        http: int | None = None,
    ) -> None:
        super().__init__(chain)
        self.code = code
        self.chain = chain
        self.detail = detail
        self._http = http

    @property
    def status(self) -> int:
        """The gateway's status for ``code``, unless the error chose its own."""
        return self._http or http_status(self.code)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.chain}
        if self.detail is not None:
            out["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.Status",
                    "code": self.code,
                    "message": self.detail,
                }
            ]
        return out

    def wrap(self, prefix: str) -> RpcError:
        """The same error one layer up: code and detail kept, chain extended."""
        return RpcError(
            self.code, f"{prefix}: {self.chain}", self.detail, http=self._http
        )


def gateway_error(code: int, message: str) -> RpcError:
    """An error raised by the gateway itself: no ``details``."""
    return RpcError(code, message, None)


def invalid(detail: str, *, context: str = "") -> RpcError:
    """InvalidArgument (3 / 400) with KFP's chain prefix."""
    chain = f"Invalid input error: {detail}"
    return RpcError(3, f"{context}: {chain}" if context else chain, detail)


def not_found(kind: str, ident: str, *, context: str = "") -> RpcError:
    """NotFound (5 / 404) with the user text ``<Kind> <id> not found``."""
    detail = f"{kind} {ident} not found"
    chain = f"ResourceNotFoundError: {detail}"
    return RpcError(5, f"{context}: {chain}" if context else chain, detail)


def internal(chain: str) -> RpcError:
    """Internal (13 / 500): the useful text only in ``message``."""
    return RpcError(13, f"Internal Server Error: {chain}", "Internal Server Error")


def check_terminate(run_id: str, state: str) -> None:
    """Refuse terminate outside PENDING/RUNNING/PAUSED/UNSPECIFIED (400 code 3)."""
    if _states.action_allowed("terminate", state):
        return
    detail = f"Failed to terminate a run {run_id}. Row not found"
    raise RpcError(
        3,
        f"Failed to terminate run {run_id}: Invalid input error: {detail}",
        detail,
    )


def check_retry(run_id: str, state: str) -> None:
    """Refuse retry unless the run is FAILED (409 code 10, as Argo's phase check)."""
    if _states.action_allowed("retry", state):
        return
    detail = (
        f"Failed to retry run {run_id}: run is {state}; "
        "workflow must be Failed/Error to retry"
    )
    raise RpcError(
        10,
        f"Failed to retry a run: Failed to retry run {run_id}: BadRequestError: "
        f"{detail}",
        detail,
    )
