"""The node's OpenAPI document says every error a route answers, in the one shape they all have.

Every error is `ErrorBody` (`{"detail": str, "code": str, ...}`, see `node.app`'s handlers), so the
document declares that one schema, as `Error`, and no FastAPI validation-error array. Which
statuses a route answers follows from what it is, so they are derived rather than written on each
route (a new route is documented the day it is added):

| the route                         | answers                                                  |
|-----------------------------------|----------------------------------------------------------|
| reads the token (`RoleGuard`)     | 401: no, unknown, revoked or expired token               |
| is not open to the public         | 403: a role that may not call it                         |
| takes any parameter or a body     | 422: a value missing, malformed or out of range          |
| takes a body                      | 400: a body that cannot be read; 413: one too large      |
| has a path parameter              | 404: nothing there, or nothing the caller may see        |
| writes (POST, PUT, PATCH, DELETE) | 409: the state does not allow it now                     |

A route that answers something else says so in its own `responses` (e.g. 415 and 503 on
`POST /federation/reports`); a status it documents without a body schema gets `Error`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from .accounts.models import Role
from .deps import PublicGuard, RoleGuard
from .schemas import ErrorBody

ERROR_SCHEMA = "Error"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REASONS = {
    400: "The body could not be read (not JSON, or not text in the declared encoding)",
    401: "No valid bearer token (missing, unknown, revoked, expired, or a deactivated account)",
    403: "The caller's role may not do this",
    404: "Nothing there, or nothing the caller may see",
    409: "The resource's state does not allow this now",
    413: "The request body is too large",
    415: "The body is not of the media type this route takes",
    422: "A value is missing, malformed or out of range",
    503: "Nothing was done; send the same request again",
}
# FastAPI's own validation-error schemas, which no answer of ours has.
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def guard_of(route: APIRoute) -> RoleGuard | PublicGuard | None:
    """The route's `access(...)` guard, looked for one level of dependencies deep."""
    for dependency in route.dependant.dependencies:
        for candidate in (dependency, *dependency.dependencies):
            if isinstance(candidate.call, RoleGuard | PublicGuard):
                return candidate.call
    return None


def error_statuses(route: APIRoute) -> set[int]:
    """The error statuses a route answers, from its guard, parameters, body and method."""
    statuses: set[int] = set()
    guard = guard_of(route)
    if isinstance(guard, RoleGuard):
        statuses.add(401)
        if Role.PUBLIC not in guard.roles:
            statuses.add(403)
    params = get_flat_params(route.dependant)
    takes_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    if params or takes_body:
        statuses.add(422)
    if takes_body:
        statuses |= {400, 413}
    if route.dependant.path_params:
        statuses.add(404)
    if (route.methods or set()) & WRITES:
        statuses.add(409)
    return statuses


def document_errors(app: FastAPI, routes: Callable[[FastAPI], Iterable[APIRoute]]) -> None:
    """Make `app.openapi()` declare `Error` and each route's error statuses."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        _add_errors(document, list(routes(app)))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _add_errors(document: dict[str, Any], routes: list[APIRoute]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas[ERROR_SCHEMA] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    error_content = {"application/json": {"schema": reference}}
    for route in routes:
        operations = document["paths"].get(route.path_format, {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(route)):
                responses.setdefault(str(status), {"description": REASONS[status]})
            for key, response in responses.items():
                if not key.isdigit() or int(key) < 400:
                    continue
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref", "").endswith(_FASTAPI_VALIDATION):
                    response["description"] = REASONS[422]
                if not content or schema.get("$ref", "").endswith(_FASTAPI_VALIDATION):
                    response["content"] = error_content
            operation["responses"] = dict(sorted(responses.items()))
