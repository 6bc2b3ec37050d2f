"""Certificates: issued by an award in the decision's transaction, verifiable by an investor's
verifier; suspended, reinstated and revoked by committee decisions; expiry; the stage order."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from sdgcities.credentials import JwsToken, Reason
from sdgcities.node.applications.service import previous_stage_certified
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.certificates.service import holds_valid_certificate, validity_end
from sdgcities.node.committee.models import AgendaItem
from sdgcities.node.events.models import EventRecord
from sdgcities.node.frameworks import load_baseline
from sdgcities.node.frameworks.models import FrameworkStatus, FrameworkVersion
from sdgcities.node.frameworks.service import canonical_text
from sdgcities.node.status.models import StatusListRecord

from ..conftest import ROOT_KEY
from ..framework_versions import sign_endorsement
from .conftest import Desk


def _payload(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(JwsToken.parse(token, typ="vc+jwt").payload_bytes)
    return payload


# Issuing ----------------------------------------------------------------------------------------


def test_an_award_issues_a_certificate_that_verifies(desk: Desk) -> None:
    certificate = desk.award("KE-NBO")
    assert certificate["id"].startswith("urn:uuid:")
    assert (certificate["city_locode"], certificate["stage"], certificate["level"]) == (
        "KE-NBO",
        "qualification",
        "silver",
    )
    assert certificate["status"] == "active"
    assert certificate["expired"] is False
    result = desk.verify(certificate["token"])
    assert result.valid, result.message

    credential = _payload(certificate["token"])
    subject = credential["credentialSubject"]
    framework = desk.session.get(FrameworkVersion, desk.framework_id)
    assert framework is not None
    assert subject["framework"] == {
        "id": "sdgcities-ke",
        "version": "1",
        "digest": framework.digest,
    }
    assert subject["city"] == {"locode": "KE-NBO", "name": "Nairobi", "country": "KE"}
    assert subject["decision"]["committee"] == f"{desk.backend.settings.node_name} committee"
    assert subject["decision"]["meeting"].endswith(": Award to KE-NBO")
    assert "A.a, A.b, A.c" in subject["achievement"]["criteria"]["narrative"]
    # Three years by default (the stage's validityYears), from the decision.
    valid_from = datetime.fromisoformat(credential["validFrom"])
    valid_until = datetime.fromisoformat(credential["validUntil"])
    assert valid_until == valid_from.replace(year=valid_from.year + 3)
    assert certificate["valid_until"].startswith(valid_until.date().isoformat())
    status = credential["credentialStatus"]
    assert status["statusPurpose"] == "message"
    assert status["statusListIndex"] == str(certificate["status_index"])
    assert status["statusListCredential"].endswith(f"/status/{certificate['status_list_id']}")


def test_an_award_stores_the_decision_the_certificate_and_their_events(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    decided = desk.decided(item["id"])
    assert decided.status_code == 200
    certificate_id = decided.json()["certificate_id"]
    assert desk.application_state(application_id) == "awarded"
    stored = desk.session.get(Certificate, certificate_id)
    assert stored is not None
    assert (stored.application_id, stored.agenda_item_id) == (application_id, item["id"])
    decision, issued = desk.events("decision.recorded", "credential.issued")
    assert issued.sequence == decision.sequence + 1
    assert issued.subject == {"locode": "KE-NBO", "credential": certificate_id}
    assert issued.data["jwt"] == stored.token
    assert issued.data["level"] == "silver"
    assert issued.data["decision"]["item"] == item["id"]
    assert desk.verify(issued.data["jwt"]).valid


class _BrokenKey:
    """The node's key as a failing signing device would present it: it names itself, but
    cannot sign."""

    def __init__(self, real: Any) -> None:
        self.kid, self.algorithm, self.public_key = real.kid, real.algorithm, real.public_key

    @property
    def key_object(self) -> Any:
        raise RuntimeError("the signing device is unavailable")


def _count(session: Session, table: type[Any]) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(table)).one()


def test_an_award_that_cannot_be_signed_stores_nothing(
    desk: Desk, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.award("KE-MBA")  # so the status lists exist and the failure comes at signing
    application_id = desk.recommended("KE-NBO")
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    for member in desk.members:
        desk.vote(item["id"], member).raise_for_status()
    before = {
        table.__name__: _count(session, table)
        for table in (Certificate, EventRecord, AuditEntry, StatusListRecord)
    }
    allocated = session.exec(select(col(StatusListRecord.next_position))).all()
    state = desk.backend.app.state.node
    monkeypatch.setattr(state, "signing_key", _BrokenKey(state.signing_key))

    with pytest.raises(RuntimeError, match="the signing device is unavailable"):
        desk.decide(item["id"])

    after = {
        table.__name__: _count(session, table)
        for table in (Certificate, EventRecord, AuditEntry, StatusListRecord)
    }
    assert after == before
    assert session.exec(select(col(StatusListRecord.next_position))).all() == allocated
    assert desk.events("decision.recorded")[-1].subject["locode"] == "KE-MBA"
    assert desk.application_state(application_id) == "recommended"
    stored_item = session.get(AgendaItem, item["id"])
    assert stored_item is not None
    assert (stored_item.outcome.value, stored_item.decided_at, stored_item.quorum) == (
        "pending",
        None,
        None,
    )
    # With the key back, the same decision goes through.
    monkeypatch.undo()
    assert desk.decide(item["id"]).status_code == 200


def test_validity_never_passes_the_frameworks_end() -> None:
    decided = datetime(2029, 3, 1, 10, 0, 0, tzinfo=UTC)
    assert validity_end(decided, years=3, framework_until=date(2030, 12, 31)) == datetime(
        2030, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    assert validity_end(decided, years=1, framework_until=date(2030, 12, 31)) == datetime(
        2030, 3, 1, 10, 0, 0, tzinfo=UTC
    )
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert validity_end(leap, years=3, framework_until=date(2040, 1, 1)) == datetime(
        2031, 2, 28, 12, 0, tzinfo=UTC
    )


def _framework_ending(desk: Desk, *, valid_from: date, valid_until: date, version: str) -> int:
    """A national framework version, published and endorsed, valid between the two dates."""
    data = load_baseline().to_json_dict()
    data.update(
        id="sdgcities-ke",
        version=version,
        title="Kenya framework",
        publisher="KE",
        country="KE",
        basedOn=load_baseline().ref.model_dump(mode="json", by_alias=True),
        validFrom=valid_from.isoformat(),
        validUntil=valid_until.isoformat(),
    )
    from sdgcities.node.frameworks import FrameworkDocument

    document = FrameworkDocument.from_json_dict(data)
    framework = FrameworkVersion(
        framework_id=document.id,
        version=document.version,
        title=document.title,
        country="KE",
        status=FrameworkStatus.PUBLISHED,
        document=canonical_text(document),
        digest=document.digest,
        endorsement_jws=sign_endorsement(
            framework_id=document.id, version=version, digest=document.digest, key=ROOT_KEY
        ),
    )
    desk.session.add(framework)
    desk.session.commit()
    assert framework.id is not None
    return framework.id


def test_an_award_under_a_framework_ending_soon_ends_with_it(desk: Desk) -> None:
    today = date.today()
    desk.framework_id = _framework_ending(
        desk,
        valid_from=today - timedelta(days=10),
        valid_until=today + timedelta(days=100),
        version="2",
    )
    certificate = desk.award()
    end = datetime.combine(today + timedelta(days=100), datetime.min.time(), tzinfo=UTC)
    assert datetime.fromisoformat(certificate["valid_until"]) == end.replace(
        hour=23, minute=59, second=59
    )
    assert _payload(certificate["token"])["validUntil"] == (
        f"{(today + timedelta(days=100)).isoformat()}T23:59:59Z"
    )


def test_no_award_under_a_framework_that_has_ended(desk: Desk) -> None:
    today = date.today()
    desk.framework_id = _framework_ending(
        desk,
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=1),
        version="3",
    )
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    refused = desk.decided(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"sdgcities-ke version 3 was valid until {(today - timedelta(days=1)).isoformat()}: it "
        "can no longer certify, so the award cannot be issued; defer the item"
    )
    assert desk.events("decision.recorded") == []


# Suspension, reinstatement, revocation ----------------------------------------------------------


def test_suspension_reinstatement_and_revocation(desk: Desk) -> None:
    certificate = desk.award()
    certificate_id, token = certificate["id"], certificate["token"]
    list_path = f"/status/{certificate['status_list_id']}"
    before = desk.client.get(list_path)

    suspended = desk.carry(certificate_id, "suspension", "evidence under investigation")
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["outcome"] == "approved"
    result = desk.verify(token)
    assert (result.valid, result.reason) == (False, Reason.SUSPENDED)
    republished = desk.client.get(list_path)
    assert republished.text != before.text
    assert republished.headers["etag"] != before.headers["etag"]

    reinstated = desk.carry(certificate_id, "reinstatement", "investigation closed")
    assert reinstated.status_code == 200, reinstated.text
    assert desk.verify(token).valid

    revoked = desk.carry(certificate_id, "revocation", "falsified evidence")
    assert revoked.status_code == 200, revoked.text
    result = desk.verify(token)
    assert (result.valid, result.reason) == (False, Reason.REVOKED)

    shown = desk.client.get(f"/certificates/{certificate_id}", headers=desk.admin.headers)
    assert shown.json()["status"] == "revoked"
    kinds = [e.type.value for e in desk.events() if e.subject.get("credential") == certificate_id]
    assert kinds == [
        "credential.issued",
        "decision.recorded",
        "credential.suspended",
        "decision.recorded",
        "credential.reinstated",
        "decision.recorded",
        "credential.revoked",
    ]
    (revocation,) = desk.events("credential.revoked")
    assert revocation.data["reason"] == "falsified evidence"
    assert revocation.data["status"] == "revoked"


def test_the_nodes_verify_refuses_its_own_list_taken_back_before_a_revocation(
    desk: Desk, session: Session
) -> None:
    certificate = desk.award()
    token, list_id = certificate["token"], certificate["status_list_id"]
    accepted = desk.client.put(
        "/admin/trust-list", headers=desk.admin.headers, json={"token": desk.trust_list().token}
    )
    assert accepted.status_code == 200, accepted.text
    assert desk.client.post("/verify", json={"jwt": token}).json()["valid"] is True
    before = desk.client.get(f"/status/{list_id}").text
    assert desk.carry(certificate["id"], "revocation", "falsified evidence").status_code == 200
    assert desk.client.post("/verify", json={"jwt": token}).json()["reason"] == "revoked"

    # The list as signed before the revocation comes back (a database restored from an old
    # backup under the running node, a replica behind its primary): still within its validity.
    session.execute(
        text("UPDATE status_list SET token = :token WHERE list_id = :list_id"),
        {"token": before, "list_id": list_id},
    )
    desk.backend.app.state.node.verifiers.own_status_list_changed(list_id)
    answer = desk.client.post("/verify", json={"jwt": token}).json()

    assert (answer["status"], answer["reason"]) == ("indeterminate", "status_list_rollback")


def test_a_revocation_can_never_be_undone(desk: Desk, session: Session) -> None:
    certificate_id = desk.award()["id"]
    # A reinstatement proposed while the certificate is suspended, decided after the revocation.
    assert desk.carry(certificate_id, "suspension").status_code == 200
    reinstatement = desk.propose(certificate_id, "reinstatement", "appeal upheld")
    assert reinstatement.status_code == 201
    meeting_id = desk.meeting()
    waiting = desk.item_for(meeting_id, proposal_id=reinstatement.json()["id"])
    assert desk.carry(certificate_id, "revocation", "falsified evidence").status_code == 200
    # Revoked while suspended: both bits set (0x3), which every verifier reads as revoked.
    result = desk.verify(
        desk.client.get(f"/certificates/{certificate_id}", headers=desk.admin.headers).json()[
            "token"
        ]
    )
    assert (result.valid, result.reason) == (False, Reason.REVOKED)

    for kind in ("reinstatement", "suspension", "revocation"):
        refused = desk.propose(certificate_id, kind)
        assert refused.status_code == 409, kind
        assert refused.json()["detail"] == (
            f"certificate {certificate_id} is revoked: a revocation can never be undone"
        )
    # The waiting item left the agenda with the revocation; nothing puts it back.
    item = desk.client.get(f"/committee/items/{waiting['id']}", headers=desk.admin.headers)
    assert item.json()["outcome"] == "deferred"
    assert item.json()["deferral_reason"].startswith("certificate revoked by agenda item ")
    proposals = desk.client.get(
        "/certificates/proposals", headers=desk.secretariat.headers, params={"state": "open"}
    )
    assert proposals.json()["count"] == 0
    # Nor can anything under the service: the database refuses it too.
    with (
        pytest.raises(DBAPIError, match="a revocation can never be undone"),
        session.begin_nested(),
    ):
        session.execute(
            text("UPDATE certificate SET status = 'active' WHERE id = :id"), {"id": certificate_id}
        )
    # Nor does a certificate ever move to another status entry.
    with (
        pytest.raises(DBAPIError, match="what it was signed with never changes"),
        session.begin_nested(),
    ):
        session.execute(
            text("UPDATE certificate SET status_index = status_index + 1 WHERE id = :id"),
            {"id": certificate_id},
        )


def test_a_reinstatement_decided_after_a_revocation_is_refused(desk: Desk) -> None:
    certificate_id = desk.award()["id"]
    assert desk.carry(certificate_id, "suspension").status_code == 200
    reinstatement = desk.propose(certificate_id, "reinstatement", "appeal upheld")
    revocation = desk.propose(certificate_id, "revocation", "falsified evidence")
    meeting_id = desk.meeting()
    reinstate_item = desk.item_for(meeting_id, proposal_id=reinstatement.json()["id"])
    revoke_item = desk.item_for(meeting_id, proposal_id=revocation.json()["id"])
    assert desk.decided(revoke_item["id"]).status_code == 200
    late = desk.client.get(f"/committee/items/{reinstate_item['id']}", headers=desk.admin.headers)
    assert late.json()["outcome"] == "deferred"
    refused = desk.decide(reinstate_item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"agenda item {reinstate_item['id']} is already deferred"


def test_proposal_refusals(desk: Desk) -> None:
    certificate_id = desk.award()["id"]
    not_suspended = desk.propose(certificate_id, "reinstatement")
    assert not_suspended.status_code == 409
    assert not_suspended.json()["detail"] == (
        f"certificate {certificate_id} is active: only a suspended certificate can be reinstated"
    )
    first = desk.propose(certificate_id, "suspension", "spot-check found gaps")
    assert first.status_code == 201
    assert first.json()["state"] == "open"
    twice = desk.propose(certificate_id, "suspension", "again")
    assert twice.status_code == 409
    assert twice.json()["detail"] == (
        f"certificate {certificate_id} already has an open suspension proposal "
        f"({first.json()['id']})"
    )
    no_reason = desk.client.post(
        f"/certificates/{certificate_id}/proposals",
        headers=desk.secretariat.headers,
        json={"kind": "revocation", "reason": ""},
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == "body.reason: String should have at least 1 character"
    unknown = desk.propose("urn:uuid:00000000-0000-4000-8000-000000000000", "suspension")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "no certificate urn:uuid:00000000-0000-4000-8000-000000000000"
    )
    for account, role in ((desk.academic, "committee_member"), (desk.nairobi, "city_applicant")):
        refused = desk.client.post(
            f"/certificates/{certificate_id}/proposals",
            headers=account.headers,
            json={"kind": "revocation", "reason": "no"},
        )
        assert refused.status_code == 403
        assert refused.json()["detail"] == f"a {role} may not do this"


def test_a_suspension_of_a_suspended_certificate_is_refused(desk: Desk) -> None:
    certificate_id = desk.award()["id"]
    assert desk.carry(certificate_id, "suspension").status_code == 200
    refused = desk.propose(certificate_id, "suspension")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"certificate {certificate_id} is already suspended"


def test_a_rejected_proposal_changes_nothing(desk: Desk) -> None:
    certificate = desk.award()
    proposed = desk.propose(certificate["id"], "revocation", "complaint")
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, proposal_id=proposed.json()["id"])
    assert item["reason"] == "complaint"
    assert item["certificate_id"] == certificate["id"]
    rejected = desk.decided(item["id"], ("no", "no", "yes"))
    assert rejected.json()["outcome"] == "rejected"
    assert desk.verify(certificate["token"]).valid
    assert desk.events("credential.revoked") == []
    proposals = desk.client.get("/certificates/proposals", headers=desk.academic.headers).json()
    assert [(p["id"], p["state"]) for p in proposals["data"]] == [
        (proposed.json()["id"], "rejected")
    ]


# Reading and expiry -----------------------------------------------------------------------------


def test_who_sees_which_certificates(desk: Desk) -> None:
    nairobi = desk.award("KE-NBO")["id"]
    mombasa = desk.award("KE-MBA")["id"]
    own = desk.client.get("/certificates", headers=desk.nairobi.headers).json()
    assert [c["id"] for c in own["data"]] == [nairobi]
    other = desk.client.get(f"/certificates/{mombasa}", headers=desk.nairobi.headers)
    assert other.status_code == 404
    assert other.json()["detail"] == f"no certificate {mombasa}"
    staff = desk.client.get("/certificates", headers=desk.reviewer.headers).json()
    assert {c["id"] for c in staff["data"]} == {nairobi, mombasa}
    assert desk.client.get("/certificates").status_code == 401


def test_certificates_near_expiry(desk: Desk) -> None:
    kept = desk.award("KE-NBO")
    revoked = desk.award("KE-MBA")
    assert desk.carry(revoked["id"], "revocation").status_code == 200
    # Issued today for three years: about 1,095 days left.
    near = desk.client.get(
        "/certificates/expiring", headers=desk.secretariat.headers, params={"within_days": 1100}
    )
    assert near.status_code == 200
    assert [c["id"] for c in near.json()["data"]] == [kept["id"]]
    default = desk.client.get("/certificates/expiring", headers=desk.admin.headers)
    assert default.json() == {"count": 0, "data": []}
    for account, role in ((desk.academic, "committee_member"), (desk.nairobi, "city_applicant")):
        refused = desk.client.get("/certificates/expiring", headers=account.headers)
        assert refused.status_code == 403
        assert refused.json()["detail"] == f"a {role} may not do this"
    too_short = desk.client.get(
        "/certificates/expiring", headers=desk.admin.headers, params={"within_days": 0}
    )
    assert too_short.status_code == 422
    assert too_short.json()["detail"] == (
        "query.within_days: Input should be greater than or equal to 1"
    )


# The stage order --------------------------------------------------------------------------------


def _apply(desk: Desk, stage: str) -> Any:
    return desk.client.post(
        "/applications",
        headers=desk.nairobi.headers,
        json={"stage": stage, "framework_version_id": desk.framework_id},
    )


def test_a_later_stage_needs_a_valid_certificate_of_the_stage_before(desk: Desk) -> None:
    refused = _apply(desk, "evidence-based-processes")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "stage evidence-based-processes needs a valid certificate for stage qualification, and "
        "city KE-NBO holds none that is active and unexpired"
    )
    certificate_id = desk.award("KE-NBO")["id"]
    skipped = _apply(desk, "enabling-environment")
    assert skipped.status_code == 409
    assert skipped.json()["detail"].startswith(
        "stage enabling-environment needs a valid certificate for stage evidence-based-processes"
    )
    assert desk.carry(certificate_id, "suspension").status_code == 200
    while_suspended = _apply(desk, "evidence-based-processes")
    assert while_suspended.status_code == 409
    assert desk.carry(certificate_id, "reinstatement").status_code == 200
    accepted = _apply(desk, "evidence-based-processes")
    assert accepted.status_code == 201, accepted.text


def test_an_expired_or_revoked_certificate_does_not_count(desk: Desk, session: Session) -> None:
    certificate = desk.award("KE-NBO")
    until = datetime.fromisoformat(certificate["valid_until"])
    assert holds_valid_certificate(session=session, city_locode="KE-NBO", stage="qualification")
    assert not holds_valid_certificate(
        session=session, city_locode="KE-NBO", stage="qualification", now=until
    )
    assert not holds_valid_certificate(session=session, city_locode="KE-MBA", stage="qualification")
    assert previous_stage_certified(
        session=session, city_locode="KE-NBO", stage="evidence-based-processes"
    )
    assert desk.carry(certificate["id"], "revocation").status_code == 200
    session.expire_all()
    assert not previous_stage_certified(
        session=session, city_locode="KE-NBO", stage="evidence-based-processes"
    )
    assert previous_stage_certified(session=session, city_locode="KE-NBO", stage="qualification")


# The database's own guarantees ------------------------------------------------------------------


def test_a_certificate_is_never_deleted_nor_its_signed_facts_changed(
    desk: Desk, session: Session
) -> None:
    certificate_id = desk.award()["id"]
    for statement in (
        "UPDATE certificate SET valid_until = valid_from WHERE id = :id",
        "UPDATE certificate SET token = 'x' WHERE id = :id",
        "DELETE FROM certificate WHERE id = :id",
    ):
        with (
            pytest.raises(DBAPIError, match="what it was signed with never changes"),
            session.begin_nested(),
        ):
            session.execute(text(statement), {"id": certificate_id})


def test_a_status_index_is_used_once(desk: Desk, session: Session) -> None:
    first = desk.award("KE-NBO")
    stored = session.get(Certificate, first["id"])
    assert stored is not None
    # Another decision on another application, so that only the status entry is shared.
    application_id = desk.recommended("KE-MBA")
    meeting_id = desk.meeting(attend=[], open_it=False)
    item = desk.item_for(meeting_id, application_id=application_id)
    twin = Certificate.model_validate(
        {
            **stored.model_dump(),
            "id": "urn:uuid:00000000-0000-4000-8000-0000000000aa",
            "city_locode": "KE-MBA",
            "application_id": application_id,
            "agenda_item_id": item["id"],
        }
    )
    session.add(twin)
    shared_entry = (
        r"uq_certificate_status_entry|certificate\.status_list_id, certificate\.status_index"
    )
    with pytest.raises(DBAPIError, match=shared_entry), session.begin_nested():
        session.flush()
