"""`RouteMatch`: a route by method and path template, for ASGI middleware that acts before
routing (body caps, rate limits) and so cannot ask the router."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import Scope

_PATH_PARAMETER = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    method: str
    path: re.Pattern[str]

    @classmethod
    def of(cls, method: str, path_template: str) -> RouteMatch:
        """`path_template` as the route declares it: `/applications/{application_id}/...`."""
        parts = _PATH_PARAMETER.split(path_template)
        pattern = "[^/]+".join(re.escape(part) for part in parts)
        return cls(method.upper(), re.compile(f"^{pattern}$"))

    def applies(self, scope: Scope) -> bool:
        return scope["method"] == self.method and self.path.match(scope["path"]) is not None
