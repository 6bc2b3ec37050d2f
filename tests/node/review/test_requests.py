"""Request bodies of the review API that are refused before any rule is looked at."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .factories import ReviewWorld, assign, submitted_application


@pytest.mark.parametrize(
    ("path", "who", "body", "detail"),
    [
        (
            "clarifications",
            "second",
            {"criteria": ["A.a", "A.a"], "question": "Why?"},
            "body: Value error, criterion A.a is given twice",
        ),
        (
            "clarifications",
            "second",
            {"criteria": ["a.a"], "question": "Why?"},
            "body.criteria.0: Value error, 'a.a' is not a criterion code: a stage letter A-D, a "
            "dot and up to 16 letters, digits or hyphens, such as 'B.c' or 'B.KE1'",
        ),
        (
            "clarifications",
            "second",
            {"criteria": [], "question": "Why?"},
            "body.criteria: List should have at least 1 item after validation, not 0",
        ),
        (
            "clarifications",
            "second",
            {"criteria": ["A.a"], "question": "Why?\x00"},
            "body.question: Value error, control characters other than new lines and tabs are "
            "not allowed",
        ),
        (
            "clarifications/respond",
            "nairobi",
            {"answers": [{"request_id": 1, "answer": "a"}, {"request_id": 1, "answer": "b"}]},
            "body: Value error, request 1 is given twice",
        ),
        (
            "clarifications/respond",
            "nairobi",
            {"answers": []},
            "body.answers: List should have at least 1 item after validation, not 0",
        ),
        (
            "review/consolidate",
            "lead",
            {
                "recommendation": "not_recommended",
                "summary": "s",
                "verdicts": [
                    {"code": "A.a", "verdict": "met", "reasons": "r"},
                    {"code": "A.a", "verdict": "not_met", "reasons": "r"},
                ],
            },
            "body: Value error, criterion A.a is given twice",
        ),
        (
            "review/consolidate",
            "lead",
            {"recommendation": "maybe", "summary": "s"},
            "body.recommendation: Input should be 'recommended' or 'not_recommended'",
        ),
        (
            "review/consolidate",
            "lead",
            {"recommendation": "recommended", "summary": ""},
            "body.summary: String should have at least 1 character",
        ),
        (
            "review/consolidate",
            "lead",
            {
                "recommendation": "not_recommended",
                "summary": "s",
                "verdicts": [{"code": "A.a", "verdict": "met", "reasons": " "}],
            },
            "body.verdicts.0.reasons: String should have at least 1 character",
        ),
        (
            "reviewers",
            "admin",
            {"reviewer_ids": [], "lead_id": 1},
            "body.reviewer_ids: List should have at least 1 item after validation, not 0",
        ),
    ],
)
def test_malformed_bodies(
    client: TestClient, world: ReviewWorld, path: str, who: str, body: dict, detail: str
) -> None:
    application_id = submitted_application(client, world)
    if path != "reviewers":
        assign(client, world, application_id)
    account = {
        "second": world.second,
        "lead": world.lead,
        "nairobi": world.nairobi,
        "admin": world.admin,
    }[who]
    response = client.post(
        f"/applications/{application_id}/{path}", headers=account.headers, json=body
    )
    assert response.status_code == 422
    assert response.json()["detail"] == detail
