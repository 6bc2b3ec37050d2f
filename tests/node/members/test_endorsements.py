"""Framework endorsement on the global node: members ask, the global committee decides by a vote
at a meeting (nobody endorses alone), the trust list carries the endorsement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.credentials import FrameworkRef, SigningKey, TrustList
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest
from sdgcities.node.accounts.models import Role, StakeholderCategory
from sdgcities.node.events.models import EventRecord
from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.service import canonical_text
from sdgcities.node.members.models import EndorsementRequestRecord, EndorsementState
from sdgcities.node.timeutil import utcnow

from ..conftest import ROOT_KEY, Account, MakeAccount

DOCUMENT = load_baseline()
TEXT = canonical_text(DOCUMENT)
REF = FrameworkRef(DOCUMENT.id, DOCUMENT.version, DOCUMENT.digest)


@dataclass
class GlobalCommittee:
    """The global committee's three members and its secretariat, with a meeting's steps."""

    client: TestClient
    session: Session
    secretariat: Account
    members: list[Account]

    def meeting(self) -> int:
        """A meeting, every member attending, opened."""
        in_an_hour = utcnow() + timedelta(hours=1)
        created = self.client.post(
            "/committee/meetings",
            headers=self.secretariat.headers,
            json={"title": "Frameworks", "scheduled_for": in_an_hour.isoformat()},
        )
        assert created.status_code == 201, created.text
        meeting_id: int = created.json()["id"]
        base = f"/committee/meetings/{meeting_id}"
        for member in self.members:
            attended = self.client.post(
                f"{base}/attendance",
                headers=self.secretariat.headers,
                json={"member_id": member.user_id},
            )
            assert attended.status_code == 201, attended.text
        assert self.client.post(f"{base}/open", headers=self.secretariat.headers).is_success
        return meeting_id

    def agenda(self, meeting_id: int) -> list[dict[str, Any]]:
        """Generate the agenda; the items it added."""
        generated = self.client.post(
            f"/committee/meetings/{meeting_id}/agenda/generate", headers=self.secretariat.headers
        )
        assert generated.status_code == 200, generated.text
        added: list[dict[str, Any]] = generated.json()["added"]
        return added

    def decided(self, item_id: int, choices: Iterable[str]) -> httpx.Response:
        for member, choice in zip(self.members, choices, strict=True):
            voted = self.client.post(
                f"/committee/items/{item_id}/votes", headers=member.headers, json={"choice": choice}
            )
            assert voted.status_code == 201, voted.text
        return self.client.post(
            f"/committee/items/{item_id}/decide", headers=self.secretariat.headers
        )

    def decisions(self) -> list[EventRecord]:
        self.session.expire_all()
        return list(
            self.session.exec(
                select(EventRecord)
                .where(EventRecord.type == "decision.recorded")
                .order_by(col(EventRecord.sequence))
            ).all()
        )


@pytest.fixture
def committee(client: TestClient, session: Session, make_account: MakeAccount) -> GlobalCommittee:
    today = date.today()
    members = [
        make_account(
            Role.COMMITTEE_MEMBER,
            stakeholder_category=category,
            term_start=today - timedelta(days=30),
            term_end=today + timedelta(days=365),
        )
        for category in (
            StakeholderCategory.GOVERNMENT,
            StakeholderCategory.CIVIL_SOCIETY,
            StakeholderCategory.ACADEMIA,
        )
    ]
    return GlobalCommittee(client, session, make_account(Role.SECRETARIAT), members)


def _join(client: TestClient, make_account: MakeAccount) -> tuple[SigningKey, dict[str, str]]:
    secretariat = make_account(Role.SECRETARIAT)
    key = SigningKey.generate()
    token = JoinRequest.sign(node_id="KE", base_url="https://ke.example.org", name="KE", key=key)
    request_id = client.post("/federation/join", json={"token": token}).json()["id"]
    approved = client.post(
        f"/federation/join-requests/{request_id}/approve", headers=secretariat.headers
    )
    assert approved.status_code == 200
    return key, secretariat.headers


def _ask(client: TestClient, key: SigningKey, ref: FrameworkRef = REF) -> httpx.Response:
    token = EndorsementRequest.sign(
        node_id="KE", did="did:web:ke.example.org", framework=ref, document=TEXT, key=key
    )
    return client.post("/federation/endorsements", json={"token": token})


def test_the_global_committee_endorses_by_vote_and_the_trust_list_carries_it(
    committee: GlobalCommittee, make_account: MakeAccount
) -> None:
    client = committee.client
    key, _ = _join(client, make_account)
    asked = _ask(client, key)
    assert asked.status_code == 202
    request_id = asked.json()["id"]
    reader = committee.members[1].headers
    listed = client.get("/federation/endorsements?state=pending", headers=reader)
    assert [r["id"] for r in listed.json()["data"]] == [request_id]

    meeting_id = committee.meeting()
    [item] = committee.agenda(meeting_id)
    assert (item["kind"], item["endorsement_request_id"]) == ("endorsement", request_id)
    assert committee.agenda(meeting_id) == []  # on one agenda only
    decided = committee.decided(item["id"], ("yes", "yes", "no"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "approved"

    endorsed = client.get(f"/federation/endorsements/{request_id}").json()
    assert endorsed["state"] == "endorsed"
    assert endorsed["decided_by"].endswith(f"meeting {meeting_id}, agenda item {item['id']}")
    trust_list = TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )
    node = trust_list.node("KE")
    assert node is not None
    assert node.endorses(REF)
    assert [e.token for e in node.frameworks] == [endorsed["endorsement_jws"]]
    [event] = committee.decisions()
    assert event.subject == {
        "meeting": meeting_id,
        "item": item["id"],
        "node": "KE",
        "endorsement": request_id,
    }
    assert (event.data["kind"], event.data["votes"]) == (
        "endorsement",
        {"yes": 2, "no": 1, "abstain": 0},
    )

    report = client.get(f"/committee/meetings/{meeting_id}/report", headers=reader).json()
    [reported] = report["items"]
    assert (
        reported["title"]
        == f"Endorsement of a national framework: {REF.id} version {REF.version}, from KE"
    )
    assert reported["framework"]["digest"] == REF.digest
    duplicate = _ask(client, key)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"].endswith(f"is already endorsed (request {request_id})")


def test_a_rejected_endorsement_is_refused_with_the_committees_reason(
    committee: GlobalCommittee, make_account: MakeAccount
) -> None:
    key, _ = _join(committee.client, make_account)
    request_id = _ask(committee.client, key).json()["id"]
    [item] = committee.agenda(committee.meeting())
    decided = committee.decided(item["id"], ("no", "no", "abstain"))
    assert decided.json()["outcome"] == "rejected"
    refused = committee.client.get(f"/federation/endorsements/{request_id}").json()
    assert refused["state"] == "refused"
    assert refused["endorsement_jws"] is None
    assert refused["reason"].startswith("not endorsed by the committee's vote")
    trust_list = TrustList.from_jws(
        committee.client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )
    node = trust_list.node("KE")
    assert node is not None
    assert not node.endorses(REF)


def test_nobody_endorses_or_refuses_alone(
    committee: GlobalCommittee, make_account: MakeAccount
) -> None:
    key, secretariat = _join(committee.client, make_account)
    request_id = _ask(committee.client, key).json()["id"]
    for verb, body in (("endorse", None), ("refuse", {"reason": "no"})):
        for headers in (secretariat, committee.members[0].headers):
            answer = committee.client.post(
                f"/federation/endorsements/{request_id}/{verb}", json=body, headers=headers
            )
            assert answer.status_code in (404, 405), (verb, answer.status_code)
    assert (
        committee.client.get(f"/federation/endorsements/{request_id}").json()["state"] == "pending"
    )


def test_a_request_decided_meanwhile_cannot_be_decided_again(
    committee: GlobalCommittee, make_account: MakeAccount
) -> None:
    key, _ = _join(committee.client, make_account)
    request_id = _ask(committee.client, key).json()["id"]
    [item] = committee.agenda(committee.meeting())
    row = committee.session.get(EndorsementRequestRecord, request_id)
    assert row is not None
    row.state = EndorsementState.REFUSED  # as an operator's repair might leave it
    committee.session.add(row)
    committee.session.commit()
    answer = committee.decided(item["id"], ("yes", "yes", "yes"))
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        f"endorsement request {request_id} is refused, no longer pending: defer the item"
    )
    assert committee.decisions() == []  # nothing of the decision was kept


def test_endorsement_requests_refused(client: TestClient, make_account: MakeAccount) -> None:
    response = _ask(client, SigningKey.generate())
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "endorsement request refused: the request is not signed by a key on the trust list"
    )
    key, _ = _join(client, make_account)
    wrong = replace(REF, digest="sha256:" + "0" * 64)
    response = _ask(client, key, wrong)
    assert response.status_code == 422
    assert "not the" in response.json()["detail"]
    reviewer = make_account(Role.REVIEWER).headers
    listed = client.get("/federation/endorsements", headers=reviewer)
    assert listed.status_code == 403
    assert listed.json()["detail"] == "a reviewer may not do this"
    missing = client.get("/federation/endorsements/999999")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "endorsement request 999999 not found"
