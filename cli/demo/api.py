"""The walk-through's HTTP client: one call, one expected status, or an error saying what came.

The demo talks only to the nodes it started, on loopback; every answer it does not expect stops
the walk-through with the node's own reason (`detail`), so a failing step says why.
"""

from __future__ import annotations

from typing import Any

import httpx

Headers = dict[str, str]


class UnexpectedAnswer(Exception):
    """A node answered something other than what the step expected."""


class NodeApi:
    """Requests to one node, as the person whose headers are given."""

    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def call(
        self,
        method: str,
        path: str,
        *,
        who: Headers | None = None,
        expect: int = 200,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
    ) -> Any:
        headers = dict(who or {})
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        response = self.client.request(
            method,
            f"{self.base_url}{path}",
            headers=headers,
            json=json,
            params=params,
            content=content,
        )
        if response.status_code != expect:
            raise UnexpectedAnswer(
                f"{method} {self.base_url}{path} answered {response.status_code} "
                f"(expected {expect}): {_reason(response)}"
            )
        if not response.content:
            return None
        if "json" not in response.headers.get("content-type", ""):
            return response.text
        return response.json()

    def get(self, path: str, *, who: Headers | None = None, **params: Any) -> Any:
        return self.call("GET", path, who=who, params=params or None)

    def post(
        self, path: str, *, who: Headers | None = None, json: Any = None, expect: int = 200
    ) -> Any:
        return self.call("POST", path, who=who, json=json, expect=expect)

    def put(self, path: str, *, who: Headers | None = None, json: Any = None) -> Any:
        return self.call("PUT", path, who=who, json=json)

    def patch(self, path: str, *, who: Headers | None = None, json: Any = None) -> Any:
        return self.call("PATCH", path, who=who, json=json)


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail if detail is not None else response.text
    return " ".join(str(text).split())[:500]
