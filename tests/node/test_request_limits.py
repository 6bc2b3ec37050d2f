"""Bodies over `SDGCITIES_MAX_REQUEST_BYTES` are refused by their declared length, before any
route reads them; uploads (`application/octet-stream`) have their own cap (tests/node/evidence)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import Backend


def test_a_json_body_over_the_limit_is_refused_before_it_is_read(
    backend: Backend, client: TestClient
) -> None:
    limit = backend.settings.max_request_bytes
    body = b'{"jwt": "' + b"a" * limit + b'"}'
    response = client.post("/verify", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request bodies are limited to {limit} bytes",
        "code": "payload_too_large",
    }


def test_a_body_within_the_limit_reaches_the_route(client: TestClient) -> None:
    response = client.post("/verify", json={"jwt": "not-a-token"})
    assert response.status_code == 200
    assert response.json()["status"] in {"invalid", "indeterminate"}
