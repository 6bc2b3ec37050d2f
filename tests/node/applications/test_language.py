"""On a national node an application's language is advice (§26b routes by language on the
global node only): optional, a UN language when given, and no bar to any reviewer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..conftest import Account, MakeAccount, MakeCity, MakeFramework


@pytest.fixture
def nairobi(make_city: MakeCity, make_account: MakeAccount) -> Account:
    make_city("KE-NBO", "Nairobi", languages=["sw", "en"])
    return make_account(Role.CITY_APPLICANT, city_locode="KE-NBO")


def _apply(client: TestClient, city: Account, framework_id: int, **body: Any) -> Any:
    return client.post(
        "/applications",
        headers=city.headers,
        json={"stage": "qualification", "framework_version_id": framework_id, **body},
    )


def test_a_national_application_needs_no_language(
    client: TestClient, nairobi: Account, make_framework: MakeFramework
) -> None:
    created = _apply(client, nairobi, make_framework())
    assert created.status_code == 201, created.text
    assert created.json()["language"] is None


def test_a_given_language_is_a_un_language(
    client: TestClient, nairobi: Account, make_framework: MakeFramework
) -> None:
    framework_id = make_framework()
    refused = _apply(client, nairobi, framework_id, language="sw")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "language"]
    created = _apply(client, nairobi, framework_id, language="fr")
    assert created.status_code == 201, created.text
    assert created.json()["language"] == "fr"


def test_any_reviewer_may_review_whatever_the_language(
    client: TestClient,
    admin: Account,
    nairobi: Account,
    make_account: MakeAccount,
    make_framework: MakeFramework,
) -> None:
    created = _apply(client, nairobi, make_framework(), language="fr")
    application_id = created.json()["id"]
    for code in created.json()["criteria"]:
        client.put(
            f"/applications/{application_id}/criteria/{code}",
            headers=nairobi.headers,
            json={"narrative": "Done."},
        ).raise_for_status()
    client.post(
        f"/applications/{application_id}/submit", headers=nairobi.headers
    ).raise_for_status()
    reviewers = [make_account(Role.REVIEWER, languages=["sw"]) for _ in range(2)]

    candidates = client.get(
        f"/applications/{application_id}/reviewers/candidates", headers=admin.headers
    ).json()
    assert candidates["team"] is None
    assert {c["id"] for c in candidates["data"]} >= {r.user_id for r in reviewers}
    assigned = client.post(
        f"/applications/{application_id}/reviewers",
        headers=admin.headers,
        json={"reviewer_ids": [r.user_id for r in reviewers], "lead_id": reviewers[0].user_id},
    )
    assert assigned.status_code == 201, assigned.text
