"""The framework API: the stored baseline, national drafts, publication and endorsement."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sdgcities.credentials import SigningKey, TrustList
from sdgcities.node.accounts.models import Role
from sdgcities.node.frameworks import load_baseline

from ..conftest import ROOT_DID, ROOT_KEY, Account, Backend, MakeAccount, MakeFramework
from ..framework_versions import sign_endorsement

BASELINE = load_baseline()
DERIVE = {"framework_id": "sdgcities-ke", "version": "1", "title": "SDG Cities: Kenya"}


def _baseline_id(client: TestClient) -> int:
    listed = client.get("/frameworks", params={"framework_id": BASELINE.id}).json()
    assert listed["count"] == 1
    return int(listed["data"][0]["id"])


def _derive(client: TestClient, admin: Account, **fields: str) -> dict:
    response = client.post(
        f"/frameworks/{_baseline_id(client)}/derive",
        headers=admin.headers,
        json={**DERIVE, **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _publish(client: TestClient, admin: Account, version_id: int) -> dict:
    response = client.post(f"/frameworks/{version_id}/publish", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _endorse(client: TestClient, admin: Account, version_id: int, token: str):
    return client.put(
        f"/frameworks/{version_id}/endorsement", headers=admin.headers, json={"jws": token}
    )


def _token_for(framework: dict, /, **overrides: object) -> str:
    fields: dict = {
        "framework_id": framework["framework_id"],
        "version": framework["version"],
        "digest": framework["digest"],
        "key": ROOT_KEY,
    }
    fields.update(overrides)
    return sign_endorsement(**fields)


# The baseline ----------------------------------------------------------------------------------


def test_baseline_is_stored_published_and_public(client: TestClient) -> None:
    baseline_id = _baseline_id(client)
    response = client.get(f"/frameworks/{baseline_id}")
    assert response.status_code == 200
    version = response.json()
    assert version["framework_id"] == "sdgcities-baseline"
    assert version["status"] == "published"
    assert version["country"] is None
    assert version["digest"] == BASELINE.digest
    assert version["document"] == BASELINE.to_json_dict()
    # Not endorsed for this node, so not yet usable here.
    assert version["usable_for_certification"] is False
    assert version["endorsement_jws"] is None


def test_document_is_served_as_stored_and_hashes_to_its_digest(client: TestClient) -> None:
    response = client.get(f"/frameworks/{_baseline_id(client)}/document")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["etag"] == f'"{BASELINE.digest}"'
    assert "sha256:" + hashlib.sha256(response.content).hexdigest() == BASELINE.digest


def test_unknown_version_is_404(client: TestClient) -> None:
    response = client.get("/frameworks/999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "no framework version 999999"


# Deriving a national draft ---------------------------------------------------------------------


def test_derive_makes_a_national_draft_of_this_node(client: TestClient, admin: Account) -> None:
    draft = _derive(client, admin)
    assert draft["status"] == "draft"
    assert draft["country"] == "KE"
    assert draft["digest"] is None
    assert draft["based_on_id"] == _baseline_id(client)
    assert draft["usable_for_certification"] is False
    assert draft["document"]["publisher"] == "KE"
    assert draft["document"]["basedOn"] == {
        "id": BASELINE.id,
        "version": BASELINE.version,
        "digest": BASELINE.digest,
    }


def test_drafts_are_hidden_from_the_public_and_city_applicants(
    client: TestClient, admin: Account, make_account: MakeAccount, make_city
) -> None:
    draft_id = _derive(client, admin)["id"]
    make_city("KE-NBO", "Nairobi")
    applicant = make_account(Role.CITY_APPLICANT, city_locode="KE-NBO")
    for headers in ({}, applicant.headers):
        response = client.get(f"/frameworks/{draft_id}", headers=headers)
        assert response.status_code == 404
        assert response.json()["detail"] == f"no framework version {draft_id}"
        assert client.get(f"/frameworks/{draft_id}/document", headers=headers).status_code == 404
        listed = client.get("/frameworks", headers=headers).json()
        assert [v["framework_id"] for v in listed["data"]] == ["sdgcities-baseline"]
    for role in (Role.REVIEWER, Role.SECRETARIAT, Role.COMMITTEE_MEMBER):
        staff = make_account(role)
        assert client.get(f"/frameworks/{draft_id}", headers=staff.headers).status_code == 200
    listed = client.get("/frameworks", headers=admin.headers, params={"status": "draft"}).json()
    assert [v["id"] for v in listed["data"]] == [draft_id]


@pytest.mark.parametrize(
    ("fields", "status", "detail"),
    [
        (
            {"framework_id": "sdgcities-baseline"},
            422,
            "a national framework needs an id of its own, not the baseline's 'sdgcities-baseline'",
        ),
        (
            {"framework_id": "Kenya Framework"},
            422,
            "body.framework_id: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'",
        ),
        ({"version": ""}, 422, "body.version: String should have at least 1 character"),
        ({"owner": "me"}, 422, "body.owner: Extra inputs are not permitted"),
    ],
)
def test_derive_refuses_bad_input(
    client: TestClient, admin: Account, fields: dict, status: int, detail: str
) -> None:
    response = client.post(
        f"/frameworks/{_baseline_id(client)}/derive",
        headers=admin.headers,
        json={**DERIVE, **fields},
    )
    assert response.status_code == status
    assert response.json()["detail"] == detail


def test_derive_twice_is_a_conflict(client: TestClient, admin: Account) -> None:
    _derive(client, admin)
    again = client.post(
        f"/frameworks/{_baseline_id(client)}/derive", headers=admin.headers, json=DERIVE
    )
    assert again.status_code == 409
    assert again.json()["detail"] == "framework sdgcities-ke version 1 already exists"


def test_derive_from_a_draft_or_a_national_framework_is_refused(
    client: TestClient, admin: Account
) -> None:
    draft = _derive(client, admin)
    from_draft = client.post(
        f"/frameworks/{draft['id']}/derive",
        headers=admin.headers,
        json={**DERIVE, "framework_id": "sdgcities-ke-2"},
    )
    assert from_draft.status_code == 409
    assert from_draft.json()["detail"] == (
        "sdgcities-ke version 1 is a draft: derive from a published version, whose digest the "
        "new framework names"
    )
    _publish(client, admin, draft["id"])
    from_national = client.post(
        f"/frameworks/{draft['id']}/derive",
        headers=admin.headers,
        json={**DERIVE, "framework_id": "sdgcities-ke-2"},
    )
    assert from_national.status_code == 422
    assert from_national.json()["detail"] == (
        "a national framework is derived from a framework of the global node; "
        "sdgcities-ke version 1 is the national framework of KE"
    )


def test_the_global_node_derives_no_national_framework(
    client: TestClient, admin: Account, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "node_id", "global")
    response = client.post(
        f"/frameworks/{_baseline_id(client)}/derive", headers=admin.headers, json=DERIVE
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the global node certifies under the baseline; national frameworks are derived on "
        "national nodes"
    )


def test_only_administrators_change_frameworks(
    client: TestClient, make_account: MakeAccount
) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    response = client.post(
        f"/frameworks/{_baseline_id(client)}/derive", headers=secretariat.headers, json=DERIVE
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "a secretariat may not do this"
    anonymous = client.post(f"/frameworks/{_baseline_id(client)}/derive", json=DERIVE)
    assert anonymous.status_code == 401


# Editing a draft -------------------------------------------------------------------------------


def test_contextualise_rewords_a_criterion_and_drops_its_translations(
    client: TestClient, admin: Account
) -> None:
    draft_id = _derive(client, admin)["id"]
    translated = client.put(
        f"/frameworks/{draft_id}/criteria/B.b/translations/sw",
        headers=admin.headers,
        json={
            "text": "Jiji lina mpango.",
            "evidence_expected": ["x"] * len(BASELINE.criterion("B.b").evidence_expected),
        },
    )
    assert translated.status_code == 200, translated.text
    assert "sw" in _criterion(translated.json(), "B.b")["translations"]
    response = client.patch(
        f"/frameworks/{draft_id}/criteria/B.b",
        headers=admin.headers,
        json={"text": "The county government has a plan.", "evidence_expected": ["The plan"]},
    )
    assert response.status_code == 200, response.text
    criterion = _criterion(response.json(), "B.b")
    assert criterion["text"] == "The county government has a plan."
    assert criterion["evidenceExpected"] == ["The plan"]
    assert criterion["translations"] == {}


def _criterion(version: dict, code: str) -> dict:
    for stage in version["document"]["stages"]:
        for criterion in stage["criteria"]:
            if criterion["code"] == code:
                return criterion
    raise AssertionError(f"no criterion {code}")


def test_add_criterion_and_indicator(client: TestClient, admin: Account) -> None:
    draft_id = _derive(client, admin)["id"]
    added = client.post(
        f"/frameworks/{draft_id}/criteria",
        headers=admin.headers,
        json={
            "stage": "evidence-based-processes",
            "code": "B.KE1",
            "text": "The county integrated development plan is adopted.",
            "evidence_expected": ["The adopted plan"],
            "source": "County Governments Act 2012, s. 108",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["document"]["stages"][1]["criteria"][-1]["code"] == "B.KE1"
    indicator = client.post(
        f"/frameworks/{draft_id}/criteria/B.KE1/indicators",
        headers=admin.headers,
        json={"code": "KE.1", "name": "Share of wards consulted", "source": "KNBS"},
    )
    assert indicator.status_code == 201, indicator.text
    assert _criterion(indicator.json(), "B.KE1")["indicators"] == [
        {"code": "KE.1", "name": "Share of wards consulted", "source": "KNBS"}
    ]
    repeated = client.post(
        f"/frameworks/{draft_id}/criteria/B.KE1/indicators",
        headers=admin.headers,
        json={"code": "KE.1", "name": "Again", "source": "KNBS"},
    )
    assert repeated.status_code == 422
    assert repeated.json()["detail"] == "criterion B.KE1 already has an indicator 'KE.1'"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            {"code": "B.ke1"},
            409,
            "framework sdgcities-ke version 1 already has a criterion 'B.KE1', and codes are "
            "compared without regard to case, so 'B.ke1' is taken",
        ),
        (
            {"code": "C.KE2"},
            422,
            "criterion C.KE2 cannot go in stage evidence-based-processes, whose criterion codes "
            "start with 'B.'",
        ),
        (
            {"stage": "certification"},
            422,
            "body.stage: Input should be 'qualification', 'evidence-based-processes', "
            "'enabling-environment' or 'impact'",
        ),
        (
            {"evidence_expected": []},
            422,
            "body.evidence_expected: List should have at least 1 item after validation, not 0",
        ),
    ],
)
def test_add_criterion_refusals(
    client: TestClient, admin: Account, body: dict, status: int, detail: str
) -> None:
    draft_id = _derive(client, admin)["id"]
    criterion = {
        "stage": "evidence-based-processes",
        "code": "B.KE1",
        "text": "A national criterion.",
        "evidence_expected": ["A document"],
    }
    first = client.post(f"/frameworks/{draft_id}/criteria", headers=admin.headers, json=criterion)
    assert first.status_code == 201
    response = client.post(
        f"/frameworks/{draft_id}/criteria", headers=admin.headers, json={**criterion, **body}
    )
    assert response.status_code == status
    assert response.json()["detail"] == detail


def test_edits_name_unknown_criteria(client: TestClient, admin: Account) -> None:
    draft_id = _derive(client, admin)["id"]
    response = client.patch(
        f"/frameworks/{draft_id}/criteria/B.z", headers=admin.headers, json={"text": "New text"}
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "framework sdgcities-ke version 1 has no criterion 'B.z'"


@pytest.mark.parametrize(
    ("language", "items", "detail"),
    [
        (
            "en",
            1,
            "'en' is the language sdgcities-ke version 1 is written in; contextualise the "
            "criterion to change its text",
        ),
        ("english", 1, "'english' is not a language tag such as 'en', 'sw' or 'pt-BR'"),
        (
            "sw",
            5,
            "criterion A.a lists 1 evidence items and the 'sw' translation 5; translate each "
            "item, in order",
        ),
    ],
)
def test_translation_refusals(
    client: TestClient, admin: Account, language: str, items: int, detail: str
) -> None:
    draft_id = _derive(client, admin)["id"]
    patched = client.patch(
        f"/frameworks/{draft_id}/criteria/A.a",
        headers=admin.headers,
        json={"text": "Stock taken.", "evidence_expected": ["A stocktake report"]},
    )
    assert patched.status_code == 200
    response = client.put(
        f"/frameworks/{draft_id}/criteria/A.a/translations/{language}",
        headers=admin.headers,
        json={"text": "Maandishi", "evidence_expected": ["kipengee"] * items},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == detail


# Publishing ------------------------------------------------------------------------------------


def test_publish_freezes_the_document_and_computes_its_digest(
    client: TestClient, admin: Account
) -> None:
    draft_id = _derive(client, admin)["id"]
    published = _publish(client, admin, draft_id)
    assert published["status"] == "published"
    assert published["published_at"] is not None
    stored = client.get(f"/frameworks/{draft_id}/document").content
    assert published["digest"] == "sha256:" + hashlib.sha256(stored).hexdigest()
    # Published versions are public.
    assert client.get(f"/frameworks/{draft_id}").status_code == 200

    again = client.post(f"/frameworks/{draft_id}/publish", headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"sdgcities-ke version 1 is already published (digest {published['digest']})"
    )
    edit = client.patch(
        f"/frameworks/{draft_id}/criteria/A.a", headers=admin.headers, json={"text": "Changed"}
    )
    assert edit.status_code == 409
    assert edit.json()["detail"] == (
        "sdgcities-ke version 1 is published and can no longer change; revise it into a new "
        "draft version to change it"
    )
    assert client.get(f"/frameworks/{draft_id}/document").content == stored


def test_baseline_cannot_be_edited(client: TestClient, admin: Account) -> None:
    response = client.post(
        f"/frameworks/{_baseline_id(client)}/criteria/A.a/indicators",
        headers=admin.headers,
        json={"code": "X", "name": "X", "source": "X"},
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith("sdgcities-baseline version 1 is published")


def test_revise_copies_a_published_version_into_a_new_draft(
    client: TestClient, admin: Account
) -> None:
    first = _derive(client, admin)
    _publish(client, admin, first["id"])
    revised = client.post(
        f"/frameworks/{first['id']}/revise", headers=admin.headers, json={"version": "2"}
    )
    assert revised.status_code == 201, revised.text
    body = revised.json()
    assert (body["framework_id"], body["version"], body["status"]) == ("sdgcities-ke", "2", "draft")
    assert body["based_on_id"] == first["based_on_id"]
    assert body["document"]["basedOn"] == first["document"]["basedOn"]

    duplicate = client.post(
        f"/frameworks/{first['id']}/revise", headers=admin.headers, json={"version": "2"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "framework sdgcities-ke version 2 already exists"
    of_draft = client.post(
        f"/frameworks/{body['id']}/revise", headers=admin.headers, json={"version": "3"}
    )
    assert of_draft.status_code == 409
    assert of_draft.json()["detail"] == (
        "sdgcities-ke version 2 is still a draft: edit it instead of revising it"
    )
    of_baseline = client.post(
        f"/frameworks/{_baseline_id(client)}/revise", headers=admin.headers, json={"version": "2"}
    )
    assert of_baseline.status_code == 422
    assert of_baseline.json()["detail"] == (
        "sdgcities-baseline version 1 is published by global; this node revises only its own "
        "frameworks (derive a national framework from a baseline instead)"
    )


def test_published_versions_are_frozen_in_the_database(
    session: Session, make_framework: MakeFramework
) -> None:
    version_id = make_framework(endorse=False)
    with pytest.raises(DBAPIError, match="a published framework version cannot change"):
        with session.begin_nested():
            session.execute(
                text("UPDATE framework_version SET document = '{}' WHERE id = :id"),
                {"id": version_id},
            )
    with pytest.raises(DBAPIError, match="a published framework version cannot change"):
        with session.begin_nested():
            session.execute(
                text("DELETE FROM framework_version WHERE id = :id"), {"id": version_id}
            )
    # Its endorsement may still be added.
    with session.begin_nested():
        session.execute(
            text("UPDATE framework_version SET endorsement_jws = 'x' WHERE id = :id"),
            {"id": version_id},
        )


# Endorsement -----------------------------------------------------------------------------------


def test_endorsement_makes_a_version_usable(client: TestClient, admin: Account) -> None:
    draft = _derive(client, admin)
    published = _publish(client, admin, draft["id"])
    token = _token_for(published)
    response = _endorse(client, admin, draft["id"], token)
    assert response.status_code == 200, response.text
    endorsed = response.json()
    assert endorsed["usable_for_certification"] is True
    assert endorsed["endorsement_jws"] == token
    assert endorsed["endorsed_at"] == "2026-01-15T09:30:00Z"
    # Sending the same endorsement again changes nothing.
    assert _endorse(client, admin, draft["id"], token).status_code == 200
    other = _token_for(published, issuer_did="did:web:other.example.org")
    refused = _endorse(client, admin, draft["id"], other)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "sdgcities-ke version 1 is already endorsed (since 2026-01-15 09:30:00+00:00)"
    )
    log = client.get(
        "/admin/audit", headers=admin.headers, params={"action": "framework.endorse"}
    ).json()
    assert log["count"] == 1
    assert log["data"][0]["detail"]["digest"] == published["digest"]


def test_the_baseline_can_be_endorsed_for_this_node(client: TestClient, admin: Account) -> None:
    baseline = client.get(f"/frameworks/{_baseline_id(client)}").json()
    response = _endorse(client, admin, baseline["id"], _token_for(baseline))
    assert response.status_code == 200, response.text
    assert response.json()["usable_for_certification"] is True


def test_a_draft_cannot_be_endorsed(client: TestClient, admin: Account) -> None:
    draft = _derive(client, admin)
    response = _endorse(
        client, admin, draft["id"], _token_for({**draft, "digest": "sha256:" + "0" * 64})
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "sdgcities-ke version 1 is a draft: publish it first, since an endorsement covers the "
        "published digest"
    )


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        (
            {"digest": "sha256:" + "ab" * 32},
            "endorsement refused: it endorses sdgcities-ke version 1 (sha256:{abab}), not "
            "sdgcities-ke version 1 ({digest})",
        ),
        (
            {"version": "2"},
            "endorsement refused: it endorses sdgcities-ke version 2 ({digest}), not "
            "sdgcities-ke version 1 ({digest})",
        ),
        (
            {"framework_id": "sdgcities-ug"},
            "endorsement refused: it endorses sdgcities-ug version 1 ({digest}), not "
            "sdgcities-ke version 1 ({digest})",
        ),
        (
            {"node_id": "UG"},
            "endorsement refused: it is for node UG, and this is node KE",
        ),
        (
            {"key": SigningKey.generate()},
            "endorsement refused: the endorsement is not signed by a pinned global root key",
        ),
    ],
)
def test_endorsement_must_match_the_version_and_the_node(
    client: TestClient, admin: Account, overrides: dict, detail: str
) -> None:
    draft = _derive(client, admin)
    published = _publish(client, admin, draft["id"])
    response = _endorse(client, admin, draft["id"], _token_for(published, **overrides))
    assert response.status_code == 422
    assert response.json()["detail"] == detail.format(digest=published["digest"], abab="ab" * 32)
    assert client.get(f"/frameworks/{draft['id']}").json()["usable_for_certification"] is False


def test_a_malformed_endorsement_is_refused(client: TestClient, admin: Account) -> None:
    draft = _derive(client, admin)
    _publish(client, admin, draft["id"])
    response = _endorse(client, admin, draft["id"], "not-a-jws")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("endorsement refused: ")


def test_an_endorsement_under_another_did_than_the_trust_lists_issuer_is_refused(
    client: TestClient, admin: Account
) -> None:
    # The node holds a trust list from the global node (ROOT_DID): the root key is that node's,
    # so an endorsement by the root key whose kid (and iss) names another DID is refused.
    now = datetime.now(UTC)
    trust_list = TrustList(
        issuer=ROOT_DID, sequence=1, issued_at=now, next_update=now + timedelta(days=1), nodes=()
    ).sign(ROOT_KEY)
    held = client.put("/admin/trust-list", headers=admin.headers, json={"token": trust_list})
    assert held.status_code == 200, held.text
    draft = _derive(client, admin)
    published = _publish(client, admin, draft["id"])

    as_other = _token_for(published, issuer_did="did:web:other.example.org")
    response = _endorse(client, admin, draft["id"], as_other)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "endorsement refused: the kid names another DID than the key's node"
    )
    assert _endorse(client, admin, draft["id"], _token_for(published)).status_code == 200


def test_endorsement_needs_a_pinned_root_key(
    client: TestClient, admin: Account, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = _derive(client, admin)
    published = _publish(client, admin, draft["id"])
    monkeypatch.setattr(backend.settings, "root_keys", [])
    response = _endorse(client, admin, draft["id"], _token_for(published))
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "this node pins no global root key (SDGCITIES_ROOT_KEYS), so it cannot verify an "
        "endorsement"
    )


# Other refusals --------------------------------------------------------------------------------


def test_changes_to_an_unknown_version_are_404(client: TestClient, admin: Account) -> None:
    for method, path, body in (
        ("POST", "/frameworks/999999/derive", DERIVE),
        ("POST", "/frameworks/999999/revise", {"version": "2"}),
        ("PATCH", "/frameworks/999999/criteria/A.a", {"text": "New"}),
        ("POST", "/frameworks/999999/publish", None),
        ("PUT", "/frameworks/999999/endorsement", {"jws": "x"}),
    ):
        response = client.request(method, path, headers=admin.headers, json=body)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "no framework version 999999"


def test_list_and_endorsement_input_is_checked(client: TestClient, admin: Account) -> None:
    listed = client.get("/frameworks", params={"status": "final"})
    assert listed.status_code == 422
    assert listed.json()["detail"] == "query.status: Input should be 'draft' or 'published'"
    bad_token = client.get("/frameworks", headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401
    assert bad_token.json()["detail"] == "the Authorization header must be 'Bearer <token>'"
    missing = client.put(
        f"/frameworks/{_baseline_id(client)}/endorsement", headers=admin.headers, json={}
    )
    assert missing.status_code == 422
    assert missing.json()["detail"] == "body.jws: Field required"
