"""Certificates for registry tests, issued by the certificate service itself at chosen moments.

The committee's workflow is not these tests' subject (the end-to-end tests take it through the
API): a `Registrar` stores the awarded application and the decided agenda item an award needs,
then calls `certificates.service.issue_certificate` with a decision of the chosen date, so the
token, the status entries and the row are exactly what the node issues. Its validity follows from
that date (the framework's three years), which is how a test gets an expired certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from sdgcities.credentials import Decision
from sdgcities.node.actor import SYSTEM
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.certificates.models import Certificate, ProposalKind
from sdgcities.node.certificates.service import change_status, issue_certificate
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome, Meeting
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

VALIDITY = timedelta(days=3 * 365)
"""Roughly the baseline's `validityYears` (3): a decision older than this has expired."""


@dataclass
class Registrar:
    session: Session
    state: NodeState
    framework_id: int

    def city(
        self,
        locode: str,
        name: str,
        *,
        priorities: list[str] | None = None,
        region: str = "",
        population: int | None = None,
    ) -> str:
        """A city row as any node's registry may hold it, whatever its country (the global
        node's registry lists the whole federation)."""
        self.session.add(
            City(
                locode=locode,
                country=locode[:2],
                name=name,
                region=region,
                population=population,
                priorities=priorities or [],
            )
        )
        self.session.commit()
        return locode

    def issue(
        self,
        locode: str,
        stage: str = "qualification",
        *,
        decided_at: datetime | None = None,
        then: ProposalKind | None = None,
    ) -> Certificate:
        """A certificate awarded at `decided_at` (now by default); `then` suspends or revokes it
        as a later committee decision would."""
        decided_at = decided_at or utcnow() - timedelta(days=1)
        application = Application(
            city_locode=locode,
            stage=stage,
            framework_version_id=self.framework_id,
            state=ApplicationState.AWARDED,
            submitted_at=decided_at - timedelta(days=60),
        )
        meeting = Meeting(
            title=f"Award to {locode}",
            scheduled_for=decided_at,
            quorum_min_fraction=0.5,
            quorum_min_non_government=1,
        )
        self.session.add_all([application, meeting])
        self.session.flush()
        assert application.id is not None
        assert meeting.id is not None
        item = AgendaItem(
            meeting_id=meeting.id,
            kind=ItemKind.AWARD,
            application_id=application.id,
            outcome=ItemOutcome.APPROVED,
            decided_at=decided_at,
        )
        self.session.add(item)
        self.session.flush()
        assert item.id is not None
        decision = Decision(
            committee="Kenya national committee",
            meeting=f"meeting {meeting.id}",
            decided_at=decided_at,
        )
        certificate = issue_certificate(
            session=self.session,
            state=self.state,
            application=application,
            agenda_item_id=item.id,
            decision=decision,
            actor=SYSTEM,
        )
        if then is not None:
            later = Decision(
                committee=decision.committee,
                meeting=decision.meeting,
                decided_at=max(decided_at, utcnow() - timedelta(hours=1)),
            )
            change_status(
                session=self.session,
                state=self.state,
                certificate=certificate,
                kind=then,
                reason="spot-check",
                decision=later,
                agenda_item_id=item.id,
                actor=SYSTEM,
            )
        self.session.commit()
        return certificate
