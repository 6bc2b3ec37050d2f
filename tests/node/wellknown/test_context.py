"""`GET /sdgcities/v1`: the project's JSON-LD context, byte for byte the copy in the package
(DESIGN §6), cacheable, for anyone."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

SHIPPED = Path(__file__).parents[3] / "credentials" / "contexts" / "sdgcities-v1.jsonld"


def test_the_node_serves_the_shipped_context_byte_for_byte(client: TestClient) -> None:
    response = client.get("/sdgcities/v1")

    assert response.status_code == 200
    assert response.content == SHIPPED.read_bytes()
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["etag"] == f'"{hashlib.sha256(SHIPPED.read_bytes()).hexdigest()}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_cached_copy_is_revalidated_without_a_body(client: TestClient) -> None:
    etag = client.get("/sdgcities/v1").headers["etag"]

    unchanged = client.get("/sdgcities/v1", headers={"If-None-Match": f"W/{etag}"})
    other = client.get("/sdgcities/v1", headers={"If-None-Match": '"another"'})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert other.status_code == 200
    assert other.content == SHIPPED.read_bytes()
