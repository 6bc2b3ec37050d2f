"""Issue 12 on the global node: its own routes bound their integers too, and document errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ..conftest import Backend
from ..openapi_walk import errors_not_in_the_error_schema, unbounded_integers

HUGE = 2**63


def test_every_integer_a_caller_gives_is_bounded(backend: Backend) -> None:
    assert unbounded_integers(backend.app.openapi()) == []


def test_every_error_is_documented_in_the_one_error_schema(backend: Backend) -> None:
    assert errors_not_in_the_error_schema(backend.app.openapi()) == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/federation/endorsements/{HUGE}", "path.request_id"),
        (f"/federation/spot-checks/rounds/{HUGE}", "path.round_id"),
        (f"/federation/spot-checks/rounds?offset={HUGE}", "query.offset"),
    ],
)
def test_an_integer_out_of_range_is_a_422_for_anyone(
    client: TestClient, path: str, field: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(f"{field}: Input should be less than or equal to")
