"""Bodies over `SDGCITIES_MAX_REQUEST_BYTES` are refused before any route reads them past the cap:
by their declared length at once, or as their bytes arrive (chunked, or longer than declared),
whatever their content type. Routes with larger bodies have their own cap (evidence uploads:
tests/node/evidence; reports: tests/node/ingest); tests/integration/test_request_bounds.py
sends a real node far more than the cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.route_match import RouteMatch

from .conftest import Backend


def _refusal(limit: int) -> dict[str, str]:
    return {"detail": f"request bodies are limited to {limit} bytes", "code": "payload_too_large"}


def test_a_json_body_over_the_limit_is_refused_before_it_is_read(
    backend: Backend, client: TestClient
) -> None:
    limit = backend.settings.max_request_bytes
    body = b'{"jwt": "' + b"a" * limit + b'"}'
    response = client.post("/verify", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == _refusal(limit)


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(
    backend: Backend, client: TestClient, content_type: str
) -> None:
    limit = backend.settings.max_request_bytes

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(8):
            yield b"a" * (limit // 4)

    response = client.post("/verify", content=chunks(), headers={"Content-Type": content_type})

    assert response.status_code == 413
    assert response.json() == _refusal(limit)


def test_an_octet_stream_body_no_longer_escapes_the_declared_length_check(
    backend: Backend, client: TestClient
) -> None:
    limit = backend.settings.max_request_bytes
    response = client.post(
        "/verify",
        content=b"a" * (limit + 1),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 413
    assert response.json() == _refusal(limit)


def test_a_body_within_the_limit_reaches_the_route(client: TestClient) -> None:
    response = client.post("/verify", json={"jwt": "not-a-token"})
    assert response.status_code == 200
    assert response.json()["status"] in {"invalid", "indeterminate"}


def test_a_route_cap_matches_its_path_template_only() -> None:
    cap = RouteMatch.of("POST", "/applications/{id}/criteria/{code}/evidence")

    def scope(method: str, path: str) -> dict[str, str]:
        return {"method": method, "path": path}

    assert cap.applies(scope("POST", "/applications/7/criteria/Q1/evidence"))
    assert not cap.applies(scope("GET", "/applications/7/criteria/Q1/evidence"))
    assert not cap.applies(scope("POST", "/applications/7/criteria/Q1/evidence/x"))
    assert not cap.applies(scope("POST", "/applications/7/x/criteria/Q1/evidence"))
    assert not cap.applies(scope("POST", "/verify"))
