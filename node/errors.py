"""Domain errors of the node. Services raise these; `node.app` maps each to one HTTP status.

NodeError
├── InvalidRequest        422  well-formed HTTP, but the request makes no sense here
├── Unauthenticated       401  no valid token
├── Forbidden             403  this role may not do this
├── NotFound              404  absent, or not visible to the caller
├── Conflict              409  the resource's state does not allow it now
├── PayloadTooLarge       413
└── UnsupportedMediaType  415
UnsafeDatabaseSettings    the node refuses to start (not an HTTP error)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class NodeError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Members of the JSON answer beside `detail` and `code`, for what a client acts on
        # (e.g. the national node a city is referred to).
        self.extra = dict(extra or {})


class InvalidRequest(NodeError):
    status_code = 422
    code = "invalid_request"


class Unauthenticated(NodeError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(NodeError):
    status_code = 403
    code = "forbidden"


class NotFound(NodeError):
    status_code = 404
    code = "not_found"


class Conflict(NodeError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(NodeError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(NodeError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailable(NodeError):
    """503: nothing was done; the same request may be sent again."""

    status_code = 503
    code = "unavailable"


class BadGateway(NodeError):
    """502: another node refused what this one sent for the request; nothing was done here."""

    status_code = 502
    code = "bad_gateway"


class UnsafeDatabaseSettings(Exception):
    """The database could lose committed data with its current settings."""
