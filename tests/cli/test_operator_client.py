"""The operator client's answers to what a proxy or a broken server may send (outside the
system, so an `httpx.MockTransport` plays it): each becomes one line and the right exit code."""

from __future__ import annotations

import httpx
import pytest

from sdgcities.cli._api import MAX_ANSWER_BYTES, NodeApi
from sdgcities.cli.errors import CliError, ExitCode

TOKEN = "sdgc_" + "A" * 43


def api(handler: httpx.MockTransport) -> NodeApi:
    return NodeApi("http://127.0.0.1:9", TOKEN, transport=handler)


@pytest.mark.parametrize(
    ("response", "code", "message"),
    [
        (httpx.Response(409, json={"detail": "meeting 3 is closed"}), 1, "meeting 3 is closed"),
        (
            httpx.Response(401, json={"detail": "unknown token"}),
            1,
            "the node refused the token: unknown token",
        ),
        (httpx.Response(404, text="nothing here"), 1, "nothing here"),
        (httpx.Response(422, json={"detail": [{"msg": "field required"}]}), 1, "field required"),
        (httpx.Response(500, text="boom"), 1, "the node failed (HTTP 500): boom"),
        (
            httpx.Response(503, text=""),
            3,
            "the node is unavailable (HTTP 503): Service Unavailable",
        ),
        (
            httpx.Response(302, headers={"Location": "https://x.example"}),
            1,
            "redirects to https://x.example",
        ),
        (httpx.Response(200, text="<html>"), 1, "the node did not answer JSON"),
        (httpx.Response(200, content=b"x" * (MAX_ANSWER_BYTES + 1)), 1, "is larger than"),
        (
            httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"x"),
            1,
            "content coding",
        ),
    ],
)
def test_answers_become_one_line(response: httpx.Response, code: int, message: str) -> None:
    with api(httpx.MockTransport(lambda _r: response)) as client, pytest.raises(CliError) as caught:
        client.get("/frameworks")
    assert caught.value.exit_code == code
    assert message in str(caught.value)


def test_unreachable_is_cannot_decide() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with api(httpx.MockTransport(refuse)) as client, pytest.raises(CliError) as caught:
        client.post("/admin/federation/sync")
    assert caught.value.exit_code is ExitCode.CANNOT_DECIDE
    assert "is unreachable: connection refused" in str(caught.value)


def test_requests_carry_the_token_and_no_empty_parameters() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "count": 0})

    with api(httpx.MockTransport(record)) as client:
        client.get("/admin/users", role=None, limit=5)
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[0].url.params == httpx.QueryParams({"limit": "5"})
