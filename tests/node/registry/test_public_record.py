"""The registry end to end: a certificate taken through application, review and committee
appears, verifies, and leaves when revoked; and nothing the registry answers carries evidence,
reviewers' notes, votes or anyone's name or email."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.applications.models import CriterionAnswer, Evidence

from ..conftest import MakeAccount
from ..review.factories import ReviewWorld, assign, consolidate, review_fully, submitted_application
from .conftest import Desk

REASONS = "The ward committee minutes were convincing"


@pytest.fixture
def awarded(desk: Desk, client: TestClient, make_account: MakeAccount) -> dict[str, Any]:
    """Nairobi's qualification, applied for with evidence, reviewed with notes by named
    reviewers, recommended, and awarded by the committee's vote; the certificate's detail."""
    world = ReviewWorld(
        framework_id=desk.framework_id,
        admin=desk.admin,
        nairobi=desk.nairobi,
        mombasa=desk.mombasa,
        reviewers=[
            make_account(Role.REVIEWER, name=name, email=email, languages=["en"])
            for name, email in [
                ("Wanjiru Kamau", "wanjiru.kamau@review.example.org"),
                ("Otieno Odhiambo", "otieno@review.example.org"),
                ("Achieng Njeri", "achieng@review.example.org"),
            ]
        ],
        secretariat=desk.secretariat,
        committee=desk.government,
    )
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id)
    verdicts = [{"code": "A.a", "verdict": "met", "reasons": REASONS}]
    consolidated = consolidate(client, world, application_id, "recommended", verdicts=verdicts)
    assert consolidated.status_code == 200, consolidated.text
    meeting_id = desk.meeting(title="Award to Nairobi")
    item = desk.item_for(meeting_id, application_id=application_id)
    decided = desk.decided(item["id"])
    assert decided.status_code == 200, decided.text
    detail = client.get(
        f"/certificates/{decided.json()['certificate_id']}", headers=desk.admin.headers
    )
    assert detail.status_code == 200, detail.text
    certificate: dict[str, Any] = detail.json()
    return certificate


def test_an_awarded_certificate_is_listed_verifies_and_leaves_when_revoked(
    client: TestClient, desk: Desk, awarded: dict[str, Any]
) -> None:
    listed = client.get("/registry/cities").json()
    assert [(c["locode"], c["level"]) for c in listed["data"]] == [("KE-NBO", "silver")]
    token = client.get(
        f"/registry/credentials/{awarded['id']}", headers={"Accept": "application/vc+jwt"}
    ).text
    assert token == awarded["token"]
    assert desk.verify(token).valid

    revoked = desk.carry(awarded["id"], "revocation", reason="spot-check found forged minutes")
    assert revoked.status_code == 200, revoked.text

    assert client.get("/registry/cities").json() == {"data": [], "count": 0}
    record = client.get("/registry/cities/KE-NBO").json()
    assert [(c["id"], c["status"], c["current"]) for c in record["certificates"]] == [
        (awarded["id"], "revoked", False)
    ]
    assert desk.verify(token).reason == "revoked"


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_public_answers_carry_no_personal_data_evidence_or_notes(
    client: TestClient, session: Session, awarded: dict[str, Any]
) -> None:
    certificate_id = awarded["id"]
    answers = [
        client.get("/registry/cities"),
        client.get("/registry/cities/KE-NBO"),
        client.get(f"/registry/credentials/{certificate_id}"),
        client.get(
            f"/registry/credentials/{certificate_id}", headers={"Accept": "application/vc+jwt"}
        ),
    ]
    assert all(answer.status_code == 200 for answer in answers)
    token = answers[3].text
    # The token is shown decoded, so that its payload is searched too.
    credential = answers[2].json()["credential"]
    texts = [answer.text for answer in answers[:3]] + [json.dumps(credential, ensure_ascii=False)]

    users = session.exec(select(User)).all()
    evidence = session.exec(select(Evidence)).all()
    narratives = session.exec(select(CriterionAnswer.narrative)).all()
    # The secrets exist, and are kept out.
    assert len(users) > 10
    assert evidence
    assert narratives
    secrets = (
        [u.email for u in users]
        + [u.name for u in users]
        + [e.filename for e in evidence]
        + [e.digest for e in evidence]
        + list(narratives)
        + [REASONS, "spot-check", "met on the evidence"]
    )
    for text in texts:
        for secret in secrets:
            assert secret not in text, secret
    for body in [answer.json() for answer in answers[:3]]:
        keys = {key.lower() for key in _keys(body)}
        # (`narrative` is a key of the credential: Open Badges' criteria, which name the codes
        # met; the city's own narratives are searched for above.)
        assert not keys & {
            "email",
            "name_of_reviewer",
            "reviewer",
            "reviewers",
            "reasons",
            "evidence",
            "votes",
            "tally",
            "notes",
            "created_by",
            "proposed_by",
            "user_id",
        }
    assert token == awarded["token"]
