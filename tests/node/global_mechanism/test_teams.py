"""§26b: technical teams by UN language on the global node. An application carries its UN
language (given, or the city's first UN language) and is reviewed by that language's team only;
the secretariat sees the routing and may change it before reviewers are assigned."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.applications.models import Application

from ..conftest import Account, MakeAccount, MakeCity


def _apply(client: TestClient, city: Account, baseline_id: int, **body: Any) -> Any:
    return client.post(
        "/applications",
        headers=city.headers,
        json={"stage": "qualification", "framework_version_id": baseline_id, **body},
    )


def _submitted(client: TestClient, city: Account, baseline_id: int, **body: Any) -> int:
    created = _apply(client, city, baseline_id, **body)
    assert created.status_code == 201, created.text
    application_id: int = created.json()["id"]
    for code in created.json()["criteria"]:
        answered = client.put(
            f"/applications/{application_id}/criteria/{code}",
            headers=city.headers,
            json={"narrative": f"How the city meets {code}."},
        )
        assert answered.status_code == 200, answered.text
    submitted = client.post(f"/applications/{application_id}/submit", headers=city.headers)
    assert submitted.status_code == 200, submitted.text
    return application_id


def _assign(client: TestClient, admin: Account, application_id: int, *reviewers: Account) -> Any:
    return client.post(
        f"/applications/{application_id}/reviewers",
        headers=admin.headers,
        json={"reviewer_ids": [r.user_id for r in reviewers], "lead_id": reviewers[0].user_id},
    )


@pytest.fixture
def la_paz(make_city: MakeCity, make_account: MakeAccount) -> Account:
    make_city("BO-LPB", "La Paz", languages=["es-BO", "qu", "ay"])
    return make_account(Role.CITY_APPLICANT, city_locode="BO-LPB")


def test_the_language_defaults_to_the_citys_first_un_language(
    client: TestClient, la_paz: Account, baseline_id: int
) -> None:
    created = _apply(client, la_paz, baseline_id)
    assert created.status_code == 201, created.text
    assert created.json()["language"] == "es"


def test_a_given_language_routes_the_application_to_that_team(
    client: TestClient, la_paz: Account, baseline_id: int
) -> None:
    created = _apply(client, la_paz, baseline_id, language="en")
    assert created.status_code == 201, created.text
    assert created.json()["language"] == "en"


@pytest.mark.parametrize("language", ["de", "qu", "EN", "es-BO", ""])
def test_a_language_that_is_not_a_un_language_is_refused(
    client: TestClient, la_paz: Account, baseline_id: int, language: str
) -> None:
    refused = _apply(client, la_paz, baseline_id, language=language)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "language"]
    assert "'ar', 'zh', 'en', 'fr', 'ru' or 'es'" in refused.json()["detail"]


def test_a_city_without_a_un_language_names_one(
    client: TestClient, make_city: MakeCity, make_account: MakeAccount, baseline_id: int
) -> None:
    make_city("MN-ULN", "Ulaanbaatar", languages=["mn"])
    city = make_account(Role.CITY_APPLICANT, city_locode="MN-ULN")
    refused = _apply(client, city, baseline_id)
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "name the application's language, one of ar, zh, en, fr, ru, es: the global node routes "
        "it to that language's technical team, and city MN-ULN lists none of them among its "
        "languages (mn)"
    )
    assert _apply(client, city, baseline_id, language="ru").json()["language"] == "ru"


def test_reviewers_are_assigned_from_the_applications_team_only(
    client: TestClient,
    admin: Account,
    la_paz: Account,
    make_account: MakeAccount,
    baseline_id: int,
) -> None:
    spanish = [make_account(Role.REVIEWER, languages=lang) for lang in (["es"], ["fr", "es-MX"])]
    french = make_account(Role.REVIEWER, languages=["fr"])
    make_account(Role.REVIEWER, languages=["qu"])  # speaks the city's language, in no team
    application_id = _submitted(client, la_paz, baseline_id)

    candidates = client.get(
        f"/applications/{application_id}/reviewers/candidates", headers=admin.headers
    )
    assert candidates.status_code == 200, candidates.text
    assert candidates.json()["team"] == "es"
    assert {c["id"] for c in candidates.json()["data"]} == {r.user_id for r in spanish}
    assert {tuple(c["teams"]) for c in candidates.json()["data"]} == {("es",), ("fr", "es")}

    refused = _assign(client, admin, application_id, spanish[0], french)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"application {application_id} is routed to the es technical team, and reviewer "
        f"{french.user_id} is not in it (teams: fr); a reviewer's teams are the UN languages "
        "among their account's languages"
    )
    assigned = _assign(client, admin, application_id, *spanish)
    assert assigned.status_code == 201, assigned.text

    # The replacement comes from the team too.
    replaced = client.post(
        f"/applications/{application_id}/reviewers/{spanish[1].user_id}/replace",
        headers=admin.headers,
        json={"replacement_id": french.user_id},
    )
    assert replaced.status_code == 409
    assert "routed to the es technical team" in replaced.json()["detail"]


def test_the_secretariat_sees_and_changes_the_routing(
    client: TestClient,
    admin: Account,
    secretariat: Account,
    la_paz: Account,
    make_city: MakeCity,
    make_account: MakeAccount,
    baseline_id: int,
) -> None:
    make_city("SN-DKR", "Dakar", languages=["fr", "wo"])
    dakar = make_account(Role.CITY_APPLICANT, city_locode="SN-DKR")
    la_paz_id = _submitted(client, la_paz, baseline_id)
    dakar_id = _submitted(client, dakar, baseline_id)

    def team(language: str) -> list[int]:
        listed = client.get("/applications", params={"team": language}, headers=secretariat.headers)
        assert listed.status_code == 200, listed.text
        return [application["id"] for application in listed.json()["data"]]

    assert (team("es"), team("fr"), team("ar")) == ([la_paz_id], [dakar_id], [])
    assert client.get("/applications?team=de", headers=secretariat.headers).status_code == 422

    rerouted = client.put(
        f"/applications/{la_paz_id}/language", headers=secretariat.headers, json={"language": "en"}
    )
    assert rerouted.status_code == 200, rerouted.text
    assert rerouted.json()["language"] == "en"
    assert (team("es"), team("en")) == ([], [la_paz_id])

    english = [make_account(Role.REVIEWER, languages=["en"]) for _ in range(2)]
    assert _assign(client, admin, la_paz_id, *english).status_code == 201
    late = client.put(
        f"/applications/{la_paz_id}/language", headers=secretariat.headers, json={"language": "es"}
    )
    assert late.status_code == 409
    assert late.json()["detail"] == (
        f"application {la_paz_id} is under_review: its language is changed only before "
        "reviewers are assigned (draft or submitted)"
    )
    invalid = client.put(
        f"/applications/{dakar_id}/language", headers=secretariat.headers, json={"language": "wo"}
    )
    assert invalid.status_code == 422


@pytest.mark.parametrize("role", [Role.CITY_APPLICANT, Role.REVIEWER, Role.COMMITTEE_MEMBER])
def test_only_the_secretariat_and_administrators_route_applications(
    client: TestClient, la_paz: Account, make_account: MakeAccount, baseline_id: int, role: Role
) -> None:
    application_id = _submitted(client, la_paz, baseline_id)
    caller = la_paz if role is Role.CITY_APPLICANT else make_account(role)
    refused = client.put(
        f"/applications/{application_id}/language", headers=caller.headers, json={"language": "fr"}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_an_application_without_a_language_is_routed_before_assignment(
    client: TestClient,
    session: Session,
    admin: Account,
    la_paz: Account,
    make_account: MakeAccount,
    baseline_id: int,
) -> None:
    """An application made before applications carried a language (migration 0008glob)."""
    application_id = _submitted(client, la_paz, baseline_id)
    application = session.get(Application, application_id)
    assert application is not None
    application.language = None
    session.add(application)
    session.commit()
    spanish = [make_account(Role.REVIEWER, languages=["es"]) for _ in range(2)]

    refused = _assign(client, admin, application_id, *spanish)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"application {application_id} has no language, so no technical team: route it first "
        f"(PUT /applications/{application_id}/language, one of ar, zh, en, fr, ru, es)"
    )
    candidates = client.get(
        f"/applications/{application_id}/reviewers/candidates", headers=admin.headers
    )
    assert candidates.status_code == 409
    routed = client.put(
        f"/applications/{application_id}/language", headers=admin.headers, json={"language": "es"}
    )
    assert routed.status_code == 200, routed.text
    assert _assign(client, admin, application_id, *spanish).status_code == 201


def test_a_reviewers_teams_are_the_un_languages_among_their_languages(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    reviewer = make_account(Role.REVIEWER, languages=["sw", "fr-CA", "ar", "zh-TW"])
    secretariat = make_account(Role.SECRETARIAT, languages=["fr"])
    shown = client.get(f"/admin/users/{reviewer.user_id}", headers=admin.headers).json()
    assert shown["teams"] == ["ar", "zh", "fr"]
    assert client.get("/me", headers=reviewer.headers).json()["teams"] == ["ar", "zh", "fr"]
    shown = client.get(f"/admin/users/{secretariat.user_id}", headers=admin.headers).json()
    assert shown["teams"] == []
