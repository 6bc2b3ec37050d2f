"""A member node's log built event by event, with real certificates signed by its key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from sdgcities.credentials import (
    STAGE_LEVELS,
    CertificateIssue,
    Decision,
    FrameworkRef,
    SigningKey,
    StatusEntry,
)
from sdgcities.federation import MAX_REPORT_EVENTS, Event, EventType, sign_report
from sdgcities.federation.event_data import CredentialIssued, CredentialStatusChanged, DecisionRef
from sdgcities.node.events.service import list_events
from sdgcities.node.ingest.models import ReportSource
from sdgcities.node.ingest.service import Accepted, held_head, ingest_report
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from ..ingest.conftest import Member, post_report

GOOD_QUORUM: Final = {
    "sitting": 5,
    "attending": 3,
    "required": 3,
    "nonGovernmentAttending": 1,
    "requiredNonGovernment": 1,
    "met": True,
}
UNANIMOUS: Final = {"yes": 3, "no": 0, "abstain": 0}
NAIROBI: Final = {"region": "Nairobi County", "population": 4_397_073, "priorities": ["Housing"]}
STATUS_TYPES: Final = {
    "suspension": EventType.CREDENTIAL_SUSPENDED,
    "reinstatement": EventType.CREDENTIAL_REINSTATED,
    "revocation": EventType.CREDENTIAL_REVOKED,
}
FRAMEWORK: Final = FrameworkRef("sdgcities-baseline", "1.0.0", "sha256:" + "0" * 64)


@dataclass
class MemberLog:
    """Events of `member`'s log; `send` reports those not yet sent, as the relay would."""

    member: Member
    client: TestClient
    events: list[Event] = field(default_factory=list)
    sent: int = 0
    items: int = 0

    @property
    def node_id(self) -> str:
        return self.member.node_id

    def append(self, type: EventType, subject: dict[str, str | int], data: dict[str, Any]) -> Event:
        event = Event.create(
            self.events[-1] if self.events else None,
            node_id=self.node_id,
            type=type,
            occurred_at=_now(),
            subject=subject,
            data=data,
        )
        self.events.append(event)
        return event

    def decide(
        self,
        locode: str,
        *,
        kind: str = "award",
        outcome: str = "approved",
        quorum: Any = GOOD_QUORUM,
        votes: Any = UNANIMOUS,
    ) -> int:
        self.items += 1
        self.append(
            EventType.DECISION_RECORDED,
            {"meeting": 1, "item": self.items, "locode": locode, "application": self.items},
            {"kind": kind, "outcome": outcome, "quorum": quorum, "votes": votes},
        )
        return self.items

    def issue(
        self,
        locode: str = "KE-NBO",
        name: str = "Nairobi",
        *,
        stage: str = "qualification",
        city: dict[str, Any] | None = NAIROBI,
        item: int | None = None,
        key: SigningKey | None = None,
        did: str | None = None,
        valid_days: int = 3 * 365,
        issued_at: datetime | None = None,
        renews: Any = None,
        credential_id: str | None = None,
    ) -> str:
        """A certificate of `locode`, after its approved award decision unless `item` names one."""
        if item is None:
            item = self.decide(locode)
        credential_id = credential_id or f"urn:uuid:{uuid.uuid4()}"
        now = issued_at or _now()
        base = f"{self.member.base_url}/status"
        token = CertificateIssue(
            credential_id=credential_id,
            issuer_did=did or self.member.did,
            issuer_name=f"{self.node_id} node",
            locode=locode,
            city_name=name,
            country=locode[:2],
            stage=stage,
            framework=FRAMEWORK,
            decision=Decision("committee", "meeting 1: Q1", now),
            criteria=("Q1",),
            valid_from=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=valid_days),
            status=StatusEntry(f"{base}/status/1", 7),
        ).sign(key or self.member.key, issued_at=now)
        data = CredentialIssued(
            id=credential_id,
            stage=stage,
            level=STAGE_LEVELS[stage],
            decision=DecisionRef(meeting="meeting 1: Q1", item=item),
            jwt=token,
        ).to_data()
        # `city` and `renews` as given: the tests send malformed ones too.
        if city is not None:
            data["city"] = city
        if renews is not None:
            data["renews"] = renews
        self.append(
            EventType.CREDENTIAL_ISSUED, {"locode": locode, "credential": credential_id}, data
        )
        return credential_id

    def change(
        self, credential_id: str, kind: str, *, locode: str = "KE-NBO", decided: bool = True
    ) -> None:
        """Suspend, reinstate or revoke, after the committee's decision unless not `decided`."""
        item = self.decide(locode, kind=kind) if decided else 999
        self.append(
            STATUS_TYPES[kind],
            {"locode": locode, "credential": credential_id},
            CredentialStatusChanged(
                reason="spot-check", decision=DecisionRef(meeting="meeting 1: Q1", item=item)
            ).to_data(),
        )

    def ask(
        self,
        request: int,
        locode: str = "KE-NBO",
        *,
        criterion: str = "B.c",
        national: Any = False,
        stage: Any = "evidence-based-processes",
        kind: Any = "advice",
        framework: Any = None,
        **extra: Any,
    ) -> Event:
        """An `assistance.requested` event, as `node/assistance/service.py` writes it."""
        return self.append(
            EventType.ASSISTANCE_REQUESTED,
            {"locode": locode, "request": request},
            {
                "criterion": criterion,
                "national": national,
                "stage": stage,
                "kind": kind,
                "framework": framework or {"id": "sdgcities-baseline", "version": "1"},
                **extra,
            },
        )

    def close(self, request: int, locode: str = "KE-NBO", closure: Any = "resolved") -> Event:
        return self.append(
            EventType.ASSISTANCE_CLOSED,
            {"locode": locode, "request": request},
            {"closure": closure},
        )

    def send(self) -> Response:
        response = post_report(self.client, self.member.report(self.events[self.sent :]))
        assert response.status_code == 200, response.text
        self.sent = len(self.events)
        return response


def _now() -> datetime:
    return utcnow().replace(microsecond=0)


def relay_own_log(*, session: Session, state: NodeState) -> None:
    """What the global node's relay does within a second (`node/ingest/local.py`): its own new
    events, signed as a report and ingested, here on the test's session."""
    head = held_head(session=session, node_id=state.settings.node_id)
    events = list_events(session=session, after=head.sequence, limit=MAX_REPORT_EVENTS)
    token = sign_report(
        events,
        key=state.signing_key,
        node_id=state.settings.node_id,
        issuer_did=state.settings.did,
        issued_at=utcnow(),
        after=head.sequence,
    )
    result = ingest_report(
        session=session,
        state=state,
        trust_list=load_current(session=session, settings=state.settings),
        token=token,
        source=ReportSource.LOCAL,
    )
    assert isinstance(result, Accepted), result
    session.commit()
