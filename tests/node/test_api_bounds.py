"""Issue 12: every integer and date a caller gives is bounded, and every error is documented.

An integer of 2^63 or more used to reach SQLite and answer 500 (`OverflowError`), anonymous
public reads included; every 422 was documented as FastAPI's validation-error array.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sdgcities.federation import MAX_SEQUENCE
from sdgcities.node.accounts.models import Role
from sdgcities.node.schemas import MAX_ID
from sdgcities.node.timeutil import utcnow

from .conftest import Account, Backend, MakeAccount
from .openapi_walk import errors_not_in_the_error_schema, unbounded_integers

HUGE = 2**63


def test_every_integer_a_caller_gives_is_bounded(backend: Backend) -> None:
    assert unbounded_integers(backend.app.openapi()) == []


def test_every_error_is_documented_in_the_one_error_schema(backend: Backend) -> None:
    document = backend.app.openapi()
    assert errors_not_in_the_error_schema(document) == []
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Error"]["required"]) == {"detail", "code"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/frameworks/{version_id}", {"401", "404", "422"}),
        ("get", "/catalogue/tools/{tool_id}", {"404", "422"}),
        ("delete", "/admin/tokens/{token_id}", {"401", "403", "404", "409", "422"}),
        ("post", "/admin/users", {"400", "401", "403", "409", "413", "422"}),
        ("get", "/healthz", set()),
    ],
)
def test_error_statuses_follow_from_the_route(
    backend: Backend, method: str, path: str, statuses: set[str]
) -> None:
    responses = backend.app.openapi()["paths"][path][method]["responses"]
    assert {status for status in responses if status >= "400"} == statuses


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/frameworks/{HUGE}", "path.version_id"),
        (f"/frameworks/{HUGE}/document", "path.version_id"),
        (f"/catalogue/tools/{HUGE}", "path.tool_id"),
        (f"/frameworks?offset={HUGE}", "query.offset"),
        (f"/registry/cities?offset={HUGE}", "query.offset"),
        (f"/frameworks/{MAX_ID + 1}", "path.version_id"),
    ],
)
def test_an_integer_out_of_range_is_a_422_for_anyone(
    client: TestClient, path: str, field: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_request"
    assert body["detail"].startswith(f"{field}: Input should be less than or equal to")


def test_the_largest_id_is_looked_up(client: TestClient) -> None:
    assert client.get(f"/frameworks/{MAX_ID}").status_code == 404
    assert client.get(f"/catalogue/tools/{MAX_ID}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", f"/applications/{HUGE}", None, "path.application_id"),
        ("get", f"/admin/users/{HUGE}", None, "path.user_id"),
        ("delete", f"/admin/tokens/{HUGE}", None, "path.token_id"),
        ("get", f"/review/assignments?reviewer_id={HUGE}", None, "query.reviewer_id"),
        ("get", f"/applications/1/report?version={HUGE}", None, "query.version"),
        (
            "post",
            "/applications",
            {"stage": "qualification", "framework_version_id": HUGE},
            "body.framework_version_id",
        ),
        (
            "post",
            "/applications/1/reviewers",
            {"reviewer_ids": [1, HUGE], "lead_id": 1},
            "body.reviewer_ids.1",
        ),
    ],
)
def test_an_integer_out_of_range_is_a_422_for_an_administrator(
    client: TestClient, admin: Account, method: str, path: str, body: object, field: str
) -> None:
    answer = client.request(method, path, headers=admin.headers, json=body)
    assert answer.status_code == 422, answer.text
    assert f"{field}: Input should be less than or equal to" in answer.json()["detail"]


@pytest.fixture
def secretariat(make_account: MakeAccount) -> Account:
    return make_account(Role.SECRETARIAT)


WINDOW = "must be between 2000-01-01 and 20 years from now"


@pytest.mark.parametrize(
    ("scheduled_for", "reason"),
    [
        pytest.param(lambda: "0145-03-01T09:00:00Z", WINDOW, id="year-145"),
        pytest.param(lambda: "1999-12-31T23:00:00Z", WINDOW, id="before-2000"),
        pytest.param(lambda: utcnow() + timedelta(days=365 * 21), WINDOW, id="21-years-ahead"),
        pytest.param(lambda: utcnow() - timedelta(days=2), "must not be in the past", id="past"),
    ],
)
def test_a_meeting_is_scheduled_from_now_within_twenty_years(
    client: TestClient,
    secretariat: Account,
    scheduled_for: Callable[[], datetime | str],
    reason: str,
) -> None:
    moment = scheduled_for()
    answer = client.post(
        "/committee/meetings",
        headers=secretariat.headers,
        json={
            "title": "Out of time",
            "scheduled_for": moment if isinstance(moment, str) else moment.isoformat(),
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == f"body.scheduled_for: Value error, {reason}"


def test_a_meeting_today_is_scheduled(client: TestClient, secretariat: Account) -> None:
    answer = client.post(
        "/committee/meetings",
        headers=secretariat.headers,
        json={
            "title": "This morning",
            "scheduled_for": (utcnow() - timedelta(hours=3)).isoformat(),
        },
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("field", ["term_start", "term_end"])
def test_a_committee_term_outside_the_window_is_refused(
    client: TestClient, admin: Account, field: str
) -> None:
    answer = client.post(
        "/admin/users",
        headers=admin.headers,
        json={
            "name": "Long ago",
            "email": "long.ago@example.org",
            "role": "committee_member",
            "stakeholder_category": "academia",
            field: "1900-01-01",
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (f"body.{field}: Value error, {WINDOW}")
    patched = client.patch(
        f"/admin/users/{admin.user_id}", headers=admin.headers, json={field: "3000-01-01"}
    )
    assert patched.status_code == 422


def test_framework_errors_keep_the_error_shape(client: TestClient) -> None:
    assert client.get("/no/such/path").json() == {"detail": "Not Found", "code": "not_found"}
    refused = client.put("/healthz")
    assert refused.status_code == 405
    assert refused.json() == {"detail": "Method Not Allowed", "code": "method_not_allowed"}


def test_the_largest_sequence_is_past_the_log_on_every_database(client: TestClient) -> None:
    """It used to reach PostgreSQL, whose `integer` column it overflows (500)."""
    answer = client.get(f"/federation/events?after={MAX_SEQUENCE}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"].endswith(f"; nothing follows {MAX_SEQUENCE}")
    assert client.get(f"/federation/events?after={MAX_SEQUENCE + 1}").status_code == 422
