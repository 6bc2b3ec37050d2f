"""`GET /version`: the software version and the node, for anyone, without the database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ..conftest import Backend


def test_version_names_the_software_and_the_node(client: TestClient, backend: Backend) -> None:
    response = client.get("/version")
    assert response.status_code == 200
    assert response.json() == {"version": backend.app.version, "node": "KE"}
    assert backend.app.version == "0.1.0"
