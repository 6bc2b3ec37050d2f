"""Renewal (§18, §42c): a renewal application pre-filled from a certificate's award, confirmed
criterion by criterion, decided like any application; the award continues the old certificate
and the registry shows the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, select

from sdgcities.federation import EventType
from sdgcities.node.applications.models import (
    CriterionAnswer,
    Evidence,
)
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.events.models import EventRecord
from sdgcities.node.renewal.service import renewal_refusal
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from ..evidence.samples import PDF
from ..review.factories import QUALIFICATION, ok
from .conftest import Desk, award, certified, recommend


def _renew(desk: Desk, certificate_id: str, account: Any = None) -> Any:
    return desk.client.post(
        f"/certificates/{certificate_id}/renewal", headers=(account or desk.nairobi).headers
    )


@pytest.mark.usefixtures("wide_window")
def test_a_renewal_is_prefilled_confirmed_decided_and_continues_the_certificate(
    desk: Desk, session: Session
) -> None:
    old = certified(desk)
    renewal = ok(_renew(desk, old["id"]), 201)
    assert (renewal["state"], renewal["stage"], renewal["renews"]) == (
        "draft",
        "qualification",
        old["id"],
    )
    # Every answer carried over, to confirm; the dropped criterion left behind.
    assert renewal["missing"] == []
    assert renewal["to_confirm"] == list(QUALIFICATION)
    answers = {answer["criterion_code"]: answer for answer in renewal["answers"]}
    assert set(answers) == set(QUALIFICATION)
    assert answers["A.a"]["narrative"] == "How Nairobi meets A.a."
    assert answers["A.a"]["indicator_values"][0]["value"] == 12.5
    assert all(answer["to_confirm"] for answer in answers.values())
    # The evidence re-linked: the same stored files, served again from the renewal.
    assert sorted(e["filename"] for e in renewal["evidence"]) == [f"{c}.pdf" for c in QUALIFICATION]
    source = ok(
        desk.client.get(f"/applications/{old['application_id']}", headers=desk.admin.headers)
    )
    assert {e["digest"] for e in renewal["evidence"]} == {e["digest"] for e in source["evidence"]}
    first = renewal["evidence"][0]
    download = desk.client.get(
        f"/applications/{renewal['id']}/evidence/{first['id']}", headers=desk.nairobi.headers
    )
    assert download.status_code == 200
    assert download.content == PDF

    # The gate: submission names every answer still to confirm.
    refused = desk.client.post(
        f"/applications/{renewal['id']}/submit", headers=desk.nairobi.headers
    )
    assert refused.status_code == 422
    assert "still to confirm: A.a, A.b, A.c" in refused.json()["detail"]

    # Confirmed as it stands, or updated (which confirms it).
    confirmed = ok(
        desk.client.post(
            f"/applications/{renewal['id']}/criteria/A.a/confirm", headers=desk.nairobi.headers
        )
    )
    assert confirmed["to_confirm"] is False
    assert confirmed["narrative"] == "How Nairobi meets A.a."
    again = desk.client.post(
        f"/applications/{renewal['id']}/criteria/A.a/confirm", headers=desk.nairobi.headers
    )
    assert again.status_code == 409
    assert "no carried-over answer to confirm" in again.json()["detail"]
    ok(
        desk.client.put(
            f"/applications/{renewal['id']}/criteria/A.b",
            headers=desk.nairobi.headers,
            json={"narrative": "Updated for the renewal."},
        )
    )
    still = desk.client.post(f"/applications/{renewal['id']}/submit", headers=desk.nairobi.headers)
    assert still.status_code == 422
    assert "still to confirm: A.c" in still.json()["detail"]
    ok(
        desk.client.post(
            f"/applications/{renewal['id']}/criteria/A.c/confirm", headers=desk.nairobi.headers
        )
    )
    submitted = ok(
        desk.client.post(f"/applications/{renewal['id']}/submit", headers=desk.nairobi.headers)
    )
    assert submitted["state"] == "submitted"
    assert submitted["to_confirm"] == []
    late = desk.client.post(
        f"/applications/{renewal['id']}/criteria/A.a/confirm", headers=desk.nairobi.headers
    )
    assert late.status_code == 409
    assert "while it is a draft" in late.json()["detail"]

    # Decided like any application; the new certificate follows on from the old one's end.
    recommend(desk, renewal["id"])
    new = award(desk, renewal["id"])
    assert new["renews"] == old["id"]
    assert datetime.fromisoformat(new["valid_from"]) == datetime.fromisoformat(old["valid_until"])
    assert datetime.fromisoformat(new["valid_until"]) > datetime.fromisoformat(new["valid_from"])
    still_old = ok(desk.client.get(f"/certificates/{old['id']}", headers=desk.admin.headers))
    assert still_old["status"] == "active"
    assert still_old["renews"] is None

    # The federation event carries the link, for the global registry (old: no link at all).
    issued = {
        e.subject["credential"]: e.data
        for e in session.exec(
            select(EventRecord).where(EventRecord.type == EventType.CREDENTIAL_ISSUED)
        ).all()
    }
    assert issued[new["id"]]["renews"] == old["id"]
    assert "renews" not in issued[old["id"]]

    # The registry shows the history, both ways.
    record = ok(desk.client.get("/registry/cities/KE-NBO"))
    links = {c["id"]: (c["renews"], c["renewedBy"]) for c in record["certificates"]}
    assert links == {old["id"]: (None, new["id"]), new["id"]: (old["id"], None)}

    # A certificate is renewed once.
    twice = _renew(desk, old["id"])
    assert twice.status_code == 409
    assert f"already renewed by {new['id']}" in twice.json()["detail"]
    actions = set(session.exec(select(AuditEntry.action)).all())
    assert {"application.renew", "application.confirm"} <= actions


@pytest.mark.usefixtures("wide_window")
def test_criteria_the_framework_dropped_are_not_carried_and_new_ones_start_empty(
    desk: Desk, session: Session
) -> None:
    old = certified(desk)
    # A.c is answered nowhere in the source: as if the framework added it since.
    for model in (CriterionAnswer, Evidence):
        session.execute(
            delete(model).where(
                col(model.application_id) == old["application_id"],
                col(model.criterion_code) == "A.c",
            )
        )
    session.commit()
    renewal = ok(_renew(desk, old["id"]), 201)
    assert {a["criterion_code"] for a in renewal["answers"]} == {"A.a", "A.b"}
    assert renewal["missing"] == ["A.c"]
    assert {e["criterion_code"] for e in renewal["evidence"]} == {"A.a", "A.b"}


def test_refusals(desk: Desk, node_state: NodeState) -> None:
    old = certified(desk)
    # Before the window (180 days before the end, by default).
    early = _renew(desk, old["id"])
    assert early.status_code == 409
    assert "can be renewed from" in early.json()["detail"]
    assert "180 days before it ends" in early.json()["detail"]

    saved = node_state.settings
    node_state.settings = saved.model_copy(update={"renewal_window_days": 1200})
    try:
        # Another city's certificate; the public and staff who do not act for cities.
        other = _renew(desk, old["id"], desk.mombasa)
        assert other.status_code == 403
        assert "renews its own certificates only" in other.json()["detail"]
        assert _renew(desk, old["id"], desk.secretariat).status_code == 403
        assert desk.client.post(f"/certificates/{old['id']}/renewal").status_code == 401
        assert _renew(desk, "urn:uuid:none").status_code == 404

        # While the city has another open application.
        draft = desk.client.post(
            "/applications",
            headers=desk.nairobi.headers,
            json={"stage": "evidence-based-processes", "framework_version_id": desk.framework_id},
        )
        assert draft.status_code == 201, draft.text
        busy = _renew(desk, old["id"])
        assert busy.status_code == 409
        assert "already has an open application" in busy.json()["detail"]
        ok(
            desk.client.post(
                f"/applications/{draft.json()['id']}/withdraw", headers=desk.nairobi.headers
            )
        )

        # Confirming outside a renewal.
        plain = ok(
            desk.client.post(
                "/applications",
                headers=desk.nairobi.headers,
                json={
                    "stage": "evidence-based-processes",
                    "framework_version_id": desk.framework_id,
                },
            ),
            201,
        )
        nothing = desk.client.post(
            f"/applications/{plain['id']}/criteria/B.a/confirm", headers=desk.nairobi.headers
        )
        assert nothing.status_code == 409
        hidden = desk.client.post(
            f"/applications/{plain['id']}/criteria/B.a/confirm", headers=desk.mombasa.headers
        )
        assert hidden.status_code == 404
        ok(desk.client.post(f"/applications/{plain['id']}/withdraw", headers=desk.nairobi.headers))

        # Suspended, then revoked.
        assert desk.carry(old["id"], "suspension").status_code == 200
        suspended = _renew(desk, old["id"])
        assert suspended.status_code == 409
        assert "is suspended" in suspended.json()["detail"]
        assert desk.carry(old["id"], "revocation").status_code == 200
        revoked = _renew(desk, old["id"])
        assert revoked.status_code == 409
        assert "is revoked" in revoked.json()["detail"]
    finally:
        node_state.settings = saved


def test_an_ended_certificate_is_not_renewed(desk: Desk, session: Session) -> None:
    old = certified(desk)
    certificate = session.get(Certificate, old["id"])
    assert certificate is not None
    after = certificate.valid_until
    refusal = renewal_refusal(session=session, certificate=certificate, window_days=180, now=after)
    assert refusal is not None
    assert "an ended certificate is not renewed" in refusal
    inside = renewal_refusal(
        session=session,
        certificate=certificate,
        window_days=180,
        now=certificate.valid_until - (certificate.valid_until - utcnow()) / 100,
    )
    assert inside is None
