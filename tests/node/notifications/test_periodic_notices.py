"""The leader's periodic notices: a certificate's expiry at 180, 90 and 30 days, a member node
fallen silent or alarming; each sent once, however many rounds or processes run."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome, Meeting
from sdgcities.node.config import GLOBAL_NODE_ID
from sdgcities.node.db import transaction
from sdgcities.node.ingest.models import AlarmKind, IngestAlarm
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.members.models import MemberNode
from sdgcities.node.notifications.models import NoticeKind, NoticePreference
from sdgcities.node.notifications.service import (
    expiry_threshold,
    send_expiry_notices,
    send_federation_notices,
)
from sdgcities.node.notifications.tasks import send_periodic_notices_once
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.timeutil import utcnow

from ...conftest import TemporaryDatabases
from ..conftest import ROOT_KEY, Backend
from ..framework_versions import make_framework_version
from ..fresh_database import fresh_state
from .conftest import Desk
from .outbox import mail_to

NAIROBI = "Nairobi (KE-NBO)"


def test_each_threshold_is_told_once(session: Session, backend: Backend, desk: Desk) -> None:
    certificate = desk.award()
    until = datetime.fromisoformat(certificate["valid_until"])

    def round_at(days_before: float) -> int:
        now = until - timedelta(days=days_before)
        return send_expiry_notices(session=session, settings=backend.settings, now=now)

    assert round_at(200) == 0
    assert round_at(170) == 1
    assert round_at(170) == 0  # the same round again
    assert round_at(100) == 0
    assert round_at(89) == 1
    assert round_at(31) == 0
    assert round_at(29) == 1
    assert round_at(1) == 0
    assert round_at(-1) == 0  # expired: nothing more to tell
    told = [m for m in mail_to(session, desk.nairobi) if "expires" in m.subject]
    assert [m.subject for m in told] == [
        f"The certificate of {NAIROBI} expires in {days} days" for days in (180, 90, 30)
    ]
    assert certificate["id"] in told[0].body
    assert mail_to(session, desk.mombasa) == []


def test_a_certificate_first_seen_late_gets_the_nearest_threshold_only() -> None:
    now = utcnow()
    certificate = Certificate(valid_until=now + timedelta(days=20))
    assert expiry_threshold(certificate, now) == 30
    assert expiry_threshold(certificate, now - timedelta(days=100)) == 180
    assert expiry_threshold(certificate, now - timedelta(days=200)) is None
    assert expiry_threshold(certificate, now + timedelta(days=21)) is None


def _committed_certificate(state: NodeState, *, expires_in: timedelta) -> str:
    """A certificate with its city, application, decision and status entry, committed; and
    two applicants of its city (one of whom turned expiry notices off)."""
    settings = state.settings
    with Session(state.engine) as session:
        framework = make_framework_version(session=session, settings=settings, root_key=ROOT_KEY)
        session.add(City(locode="KE-NBO", country="KE", name="Nairobi"))
        application = Application(
            city_locode="KE-NBO",
            stage="qualification",
            framework_version_id=framework.id,
            state=ApplicationState.AWARDED,
        )
        meeting = Meeting(
            title="Award",
            scheduled_for=utcnow(),
            quorum_min_fraction=0.5,
            quorum_min_non_government=1,
        )
        session.add_all([application, meeting])
        session.flush()
        item = AgendaItem(
            meeting_id=meeting.id,
            kind=ItemKind.AWARD,
            application_id=application.id,
            outcome=ItemOutcome.APPROVED,
        )
        session.add(item)
        session.flush()
        list_id, status = allocate_status_entry(session=session, state=state)
        now = utcnow()
        certificate = Certificate(
            id="urn:uuid:00000000-0000-4000-8000-000000000001",
            city_locode="KE-NBO",
            stage="qualification",
            level="bronze",
            application_id=application.id,
            agenda_item_id=item.id,
            framework_version_id=framework.id,
            valid_from=now - timedelta(days=365),
            valid_until=now + expires_in,
            issued_at=now - timedelta(days=365),
            token="not read by the notices",
            status_list_id=list_id,
            status_index=status.index,
        )
        told = User(
            name="Amina",
            email="amina@nairobi.example",
            role=Role.CITY_APPLICANT,
            city_locode="KE-NBO",
            languages=["fr-KE"],
        )
        quiet = User(
            name="Otieno",
            email="otieno@nairobi.example",
            role=Role.CITY_APPLICANT,
            city_locode="KE-NBO",
        )
        session.add_all([certificate, told, quiet])
        session.flush()
        assert quiet.id is not None
        session.add(NoticePreference(user_id=quiet.id, muted=[NoticeKind.CERTIFICATE_EXPIRING]))
        session.commit()
        return certificate.id


def _outbox(state: NodeState) -> list[OutboxMessage]:
    with transaction(state.engine, write=False) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def test_two_processes_running_the_duty_at_once_send_one_notice(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    with fresh_state(backend, databases) as state:
        _committed_certificate(state, expires_in=timedelta(days=85))
        start = threading.Barrier(2)
        counts: list[int] = []

        def worker() -> None:
            start.wait()
            counts.append(send_periodic_notices_once(state))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(counts) == [0, 1]
        assert send_periodic_notices_once(state) == 0  # a restart: nothing again
        [notice] = _outbox(state)
        assert notice.recipient == "amina@nairobi.example"
        assert notice.subject == "Le certificat de Nairobi (KE-NBO) expire dans 90 jours"


def test_the_global_secretariat_hears_of_silence_and_alarms_once(
    session: Session, backend: Backend, desk: Desk
) -> None:
    settings = backend.settings.model_copy(
        update={"node_id": GLOBAL_NODE_ID, "monitoring_silence_seconds": 3600}
    )
    secretariat = desk.secretariat
    now = utcnow()
    session.add(
        MemberNode(
            node_id="TZ",
            did="did:web:tz.example.org",
            name="Tanzania node",
            base_url="https://tz.example.org",
            joined_at=now - timedelta(hours=5),
        )
    )
    session.add(
        IngestAlarm(
            kind=AlarmKind.FORK,
            node_id="TZ",
            sequence=7,
            detail="two events at sequence 7",
            evidence=[],
            raised_at=now - timedelta(minutes=1),
        )
    )
    session.commit()
    assert send_federation_notices(session=session, settings=settings, now=now) == 2
    assert send_federation_notices(session=session, settings=settings, now=now) == 0
    subjects = sorted(m.subject for m in mail_to(session, secretariat))
    assert subjects == ["Alarm about node Tanzania node: fork", "Node Tanzania node is silent"]
    alarm = next(m for m in mail_to(session, secretariat) if m.subject.startswith("Alarm"))
    assert "two events at sequence 7" in alarm.body
    assert "because you are in the secretariat of" in alarm.body
    assert mail_to(session, desk.nairobi) == []
    assert mail_to(session, desk.government) == []
