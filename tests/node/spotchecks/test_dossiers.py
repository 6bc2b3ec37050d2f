"""A national node answers the global node's signed dossier requests and takes in its signed
spot-check outcome; everything else is refused before the token's content is used."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.credentials import KeyStatus, SigningKey
from sdgcities.federation.spotcheck import (
    CriterionReason,
    DossierRequest,
    Outcome,
    SpotCheckOutcome,
)
from sdgcities.node.certificates.models import CertificateProposal, ProposalKind, ProposalState
from sdgcities.node.events.models import EventRecord

from ..conftest import Backend
from .conftest import (
    GHANA_DID,
    GHANA_KEY,
    GLOBAL_DID,
    GLOBAL_KEY,
    REVIEWER_NAMES,
    Certified,
    Desk,
    trust,
)

DOSSIERS = "/federation/dossiers"
EVIDENCE = "/federation/dossiers/evidence"
OUTCOMES = "/federation/spot-check-outcomes"


def _request(backend: Backend, application_id: int, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": GLOBAL_KEY,
        "issuer": GLOBAL_DID,
        "audience": backend.settings.did,
        "node_id": backend.settings.node_id,
        "round_id": 1,
        "application_id": application_id,
    }
    return DossierRequest.sign(**{**fields, **overrides})


def _outcome(backend: Backend, certified: Certified, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": GLOBAL_KEY,
        "issuer": GLOBAL_DID,
        "audience": backend.settings.did,
        "node_id": backend.settings.node_id,
        "round_id": 1,
        "application_id": certified.application_id,
        "credential_id": certified.certificate_id,
        "outcome": Outcome.NOT_CONFIRMED,
        "summary": "The adopted plan is not in the evidence.",
        "reasons": (CriterionReason("A.b", "No council resolution adopting the plan."),),
    }
    return SpotCheckOutcome.sign(**{**fields, **overrides})


def _events(session: Session, type_: str) -> list[EventRecord]:
    session.expire_all()
    return list(
        session.exec(
            select(EventRecord).where(EventRecord.type == type_).order_by(col(EventRecord.sequence))
        ).all()
    )


# Dossiers ---------------------------------------------------------------------------------------


def test_the_dossier_of_a_certified_application(
    client: TestClient, backend: Backend, certified: Certified, desk: Desk
) -> None:
    answer = client.post(DOSSIERS, json={"token": _request(backend, certified.application_id)})
    assert answer.status_code == 200, answer.text
    dossier = answer.json()
    assert dossier["format"] == "sdgcities-dossier/1"
    assert dossier["nodeId"] == "KE"
    assert dossier["round"] == 1
    assert dossier["application"]["id"] == certified.application_id
    assert dossier["application"]["state"] == "awarded"
    assert dossier["certificate"]["id"] == certified.certificate_id
    assert dossier["certificate"]["status"] == "active"
    report = dossier["report"]
    assert report["document"]["recommendation"] == "recommended"
    assert report["digest"].startswith("sha256:")
    assert {a["criterion"] for a in dossier["answers"]} == {"A.a", "A.b", "A.c"}
    assert {(r["reviewer"], r["criterion"]) for r in dossier["reviews"]} == {
        (who, code) for who in ("lead reviewer", "reviewer 1") for code in ("A.a", "A.b", "A.c")
    }
    assert all(r["verdict"] == "met" and r["reasons"] for r in dossier["reviews"])
    lead_on_a = next(
        r for r in dossier["reviews"] if (r["reviewer"], r["criterion"]) == ("lead reviewer", "A.a")
    )
    assert lead_on_a["evidence"] == [certified.evidence["A.a"]]
    assert sorted((e["criterion"], e["digest"]) for e in dossier["evidence"]) == sorted(
        certified.evidence.items()
    )
    assert {e["mediaType"] for e in dossier["evidence"]} == {"application/pdf"}
    assert all(e["size"] > 0 for e in dossier["evidence"])
    # Nothing personal: no reviewer's or user's name or email anywhere.
    text = answer.text
    for name in REVIEWER_NAMES:
        assert name not in text
    assert "@" not in text
    assert desk.nairobi.token not in text


def test_an_evidence_file_by_digest(
    client: TestClient, backend: Backend, certified: Certified
) -> None:
    digest = certified.evidence["A.b"]
    token = _request(backend, certified.application_id, evidence=digest)
    answer = client.post(EVIDENCE, json={"token": token})
    assert answer.status_code == 200, answer.text
    assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == digest
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "private, no-store"

    other = _request(backend, certified.application_id, evidence="sha256:" + "0" * 64)
    refused = client.post(EVIDENCE, json={"token": other})
    assert refused.status_code == 404
    assert refused.json()["detail"] == (
        f"application {certified.application_id} has no evidence sha256:{'0' * 64}"
    )
    # Each path takes its own kind of request.
    wrong_path = client.post(DOSSIERS, json={"token": _request(backend, 1, evidence=digest)})
    assert wrong_path.status_code == 422
    assert "send it to /federation/dossiers/evidence" in wrong_path.json()["detail"]
    no_digest = client.post(EVIDENCE, json={"token": _request(backend, certified.application_id)})
    assert no_digest.status_code == 422
    assert no_digest.json()["detail"].startswith("the request names no evidence file")


Tamper = Callable[[Backend, int], str]


def _flip_signature(token: str) -> str:
    head, _, signature = token.rpartition(".")
    return f"{head}.{('B' if signature[0] == 'A' else 'A')}{signature[1:]}"


REFUSALS: list[tuple[str, Tamper, str]] = [
    (
        "bad signature",
        lambda b, a: _flip_signature(_request(b, a)),
        "signature does not verify",
    ),
    (
        "wrong audience",
        lambda b, a: _request(b, a, audience=GHANA_DID),
        f"the token is for {GHANA_DID}, not for did:web:",
    ),
    (
        "expired",
        lambda b, a: _request(b, a, now=datetime.now(UTC) - timedelta(minutes=5)),
        "the token expired at",
    ),
    (
        "non-global key",
        lambda b, a: _request(b, a, key=GHANA_KEY, issuer=GHANA_DID),
        "signed by node GH, not by the global node",
    ),
    (
        "unknown key",
        lambda b, a: _request(b, a, key=SigningKey.generate()),
        "not signed by a key on the trust list",
    ),
    (
        "another node's application",
        lambda b, a: _request(b, a, node_id="GH"),
        "the request is for node GH, this is node KE",
    ),
    ("not a JWS", lambda _b, _a: "not-a-token", "not a dossier-request+jwt token"),
]


@pytest.mark.parametrize(("case", "token", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_dossier_request_refusals(
    client: TestClient,
    backend: Backend,
    certified: Certified,
    case: str,
    token: Tamper,
    message: str,
) -> None:
    answer = client.post(DOSSIERS, json={"token": token(backend, certified.application_id)})
    assert answer.status_code == 422, (case, answer.text)
    assert answer.json()["detail"].startswith("dossier request refused: ") or case.startswith(
        "another"
    )
    assert message in answer.json()["detail"]


def test_a_replayed_request_is_refused(
    client: TestClient, backend: Backend, certified: Certified
) -> None:
    token = _request(backend, certified.application_id)
    assert client.post(DOSSIERS, json={"token": token}).status_code == 200
    again = client.post(DOSSIERS, json={"token": token})
    assert again.status_code == 409
    assert again.json()["detail"].endswith("was already used: a replay is refused")


@pytest.mark.usefixtures("certified")
def test_unknown_and_uncertified_applications(
    client: TestClient, backend: Backend, desk: Desk
) -> None:
    unknown = client.post(DOSSIERS, json={"token": _request(backend, 999_999)})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no application 999999"
    recommended = desk.recommended("KE-MBA")
    answer = client.post(DOSSIERS, json={"token": _request(backend, recommended)})
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        f"application {recommended} holds no certificate: only certified applications are "
        "spot-checked"
    )


def test_oversized_bodies(client: TestClient, backend: Backend) -> None:
    huge = client.post(
        DOSSIERS,
        content=json.dumps({"token": "x" * (backend.settings.max_request_bytes + 1)}),
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    long_token = client.post(DOSSIERS, json={"token": "x" * (64 * 1024 + 1)})
    assert long_token.status_code == 422
    assert "token" in long_token.json()["detail"]


def test_without_a_trust_list_nothing_is_answered(client: TestClient, backend: Backend) -> None:
    answer = client.post(DOSSIERS, json={"token": _request(backend, 1)})
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        "this node holds no trust list yet, so it cannot check the global node's signature"
    )


def test_a_compromised_global_key_is_refused(
    client: TestClient, backend: Backend, session: Session, certified: Certified
) -> None:
    trust(
        session,
        backend,
        sequence=2,
        key_status=KeyStatus.COMPROMISED,
        key_status_since=datetime.now(UTC) - timedelta(days=1),
    )
    answer = client.post(DOSSIERS, json={"token": _request(backend, certified.application_id)})
    assert answer.status_code == 422
    assert "not active on the trust list" in answer.json()["detail"]


# Outcomes ---------------------------------------------------------------------------------------


def test_a_negative_outcome_puts_a_suspension_on_the_committees_agenda(
    client: TestClient, backend: Backend, session: Session, certified: Certified, desk: Desk
) -> None:
    answer = client.post(OUTCOMES, json={"token": _outcome(backend, certified)})
    assert answer.status_code == 201, answer.text
    received = answer.json()
    assert received["outcome"] == "not_confirmed"
    assert received["certificate_id"] == certified.certificate_id
    proposal = session.get(CertificateProposal, received["proposal_id"])
    assert proposal is not None
    assert (proposal.kind, proposal.state) == (ProposalKind.SUSPENSION, ProposalState.OPEN)
    assert proposal.reason.startswith("Spot-check round 1 by the global node: not confirmed.")
    assert "A.b: No council resolution adopting the plan." in proposal.reason

    [event] = _events(session, "spotcheck.result")
    assert event.subject == {
        "locode": "KE-NBO",
        "application": certified.application_id,
        "credential": certified.certificate_id,
        "round": 1,
    }
    assert event.data == {
        "outcome": "not_confirmed",
        "by": GLOBAL_DID,
        "criteria": ["A.b"],
        "suspensionProposed": True,
    }
    # The committee's next agenda carries it.
    meeting_id = desk.meeting(title="After the spot-check")
    item = desk.item_for(meeting_id, proposal_id=proposal.id)
    assert item["kind"] == "suspension"

    # A re-delivery (a new token for the same round) changes nothing; a replay is refused.
    again = client.post(OUTCOMES, json={"token": _outcome(backend, certified)})
    assert again.status_code == 200
    assert again.json()["proposal_id"] == proposal.id
    assert len(_events(session, "spotcheck.result")) == 1
    token = _outcome(backend, certified, round_id=2)
    assert client.post(OUTCOMES, json={"token": token}).status_code == 201
    replay = client.post(OUTCOMES, json={"token": token})
    assert replay.status_code == 409
    assert "a replay is refused" in replay.json()["detail"]
    # Round 2's proposal could not be made twice: the outcome is kept, with why.
    second = session.exec(
        select(CertificateProposal).where(
            CertificateProposal.certificate_id == certified.certificate_id
        )
    ).all()
    assert len(second) == 1
    contradicting = client.post(
        OUTCOMES, json={"token": _outcome(backend, certified, outcome=Outcome.CONFIRMED)}
    )
    assert contradicting.status_code == 409
    assert contradicting.json()["detail"] == (
        f"round 1 already gave application {certified.application_id} the outcome not_confirmed"
    )


def test_a_confirmed_outcome_is_recorded_and_proposes_nothing(
    client: TestClient, backend: Backend, session: Session, certified: Certified
) -> None:
    token = _outcome(backend, certified, outcome=Outcome.CONFIRMED, reasons=())
    answer = client.post(OUTCOMES, json={"token": token})
    assert answer.status_code == 201, answer.text
    assert answer.json()["proposal_id"] is None
    [event] = _events(session, "spotcheck.result")
    assert event.data["outcome"] == "confirmed"
    assert event.data["suspensionProposed"] is False


@pytest.mark.parametrize(
    ("case", "overrides", "status", "message"),
    [
        ("non-global key", {"key": GHANA_KEY, "issuer": GHANA_DID}, 422, "signed by node GH"),
        ("wrong audience", {"audience": GHANA_DID}, 422, "not for did:web:"),
        (
            "expired",
            {"now": datetime.now(UTC) - timedelta(minutes=30)},
            422,
            "the token expired at",
        ),
        ("unknown application", {"application_id": 999_999}, 404, "no application 999999"),
        (
            "another certificate",
            {"credential_id": "urn:uuid:00000000-0000-4000-8000-000000000000"},
            422,
            "the outcome names certificate urn:uuid:00000000-0000-4000-8000-000000000000",
        ),
    ],
)
def test_outcome_refusals(
    client: TestClient,
    backend: Backend,
    session: Session,
    certified: Certified,
    case: str,
    overrides: dict[str, Any],
    status: int,
    message: str,
) -> None:
    answer = client.post(OUTCOMES, json={"token": _outcome(backend, certified, **overrides)})
    assert answer.status_code == status, (case, answer.text)
    assert message in answer.json()["detail"]
    assert _events(session, "spotcheck.result") == []


def test_an_outcome_with_a_bad_signature_is_refused(
    client: TestClient, backend: Backend, certified: Certified
) -> None:
    answer = client.post(OUTCOMES, json={"token": _flip_signature(_outcome(backend, certified))})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("spot-check outcome refused: the signature")
