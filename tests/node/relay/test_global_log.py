"""The global node's own log reaches its federation store, in-process, through the same ingest
as its members' reports: a committee decision on the global node, then its events are held for
node `global` exactly as its log has them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from sdgcities.node.events.models import EventRecord
from sdgcities.node.ingest.local import LocalTransport
from sdgcities.node.ingest.models import IngestAlarm, IngestedEvent, ReportSource
from sdgcities.node.ingest.service import IngestRuntime
from sdgcities.node.relay.service import Relay, Round

from ..certification import Desk
from ..certification import desk as national_desk
from ..conftest import Account, Backend, MakeAccount, MakeCity
from ..global_mechanism.conftest import baseline_id
from ..members.conftest import backend

__all__ = ["backend", "baseline_id"]


@pytest.fixture
def desk(
    client: TestClient,
    session: Session,
    backend: Backend,
    admin: Account,
    make_account: MakeAccount,
    make_city: MakeCity,
    baseline_id: int,
) -> Desk:
    """The committee desk of `tests/node/certification.py`, on the global node: it certifies
    under the baseline endorsed for itself (a city of a country with no national node)."""
    return national_desk.__wrapped__(  # type: ignore[attr-defined]
        client, session, backend, admin, make_account, make_city, lambda: baseline_id
    )


def test_a_decision_on_the_global_node_reaches_its_federation_store(
    desk: Desk, backend: Backend, connection: Connection, session: Session
) -> None:
    certificate = desk.award("KE-NBO")
    assert certificate["status"] == "active"

    @contextmanager
    def savepoint() -> Iterator[Session]:
        # The relay's own sessions, on the test's transaction (rolled back when it ends).
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as relay_session:
            yield relay_session
            relay_session.commit()

    state = backend.app.state.node
    transport = LocalTransport(state, IngestRuntime(), open_session=savepoint)
    relay = Relay(state, transport, read_session=savepoint, write_session=savepoint)
    log = list(session.exec(select(EventRecord).order_by(col(EventRecord.sequence))).all())
    types = [record.type for record in log]
    assert "decision.recorded" in types
    assert "credential.issued" in types

    assert relay.run_once() == Round(len(log))
    session.expire_all()
    held = session.exec(
        select(IngestedEvent)
        .where(IngestedEvent.node_id == "global")
        .order_by(col(IngestedEvent.sequence))
    ).all()
    assert [(e.sequence, e.type, e.hash) for e in held] == [
        (r.sequence, r.type, r.hash) for r in log
    ]
    decided = next(e for e in held if e.type == "decision.recorded")
    assert decided.data["outcome"] == "approved"
    assert decided.report_id is not None
    from sdgcities.node.ingest.models import ReceivedReport

    report = session.get(ReceivedReport, decided.report_id)
    assert report is not None
    assert report.source == ReportSource.LOCAL
    assert session.exec(select(IngestAlarm)).all() == []
    # Nothing new: the next round sends nothing (the global node sends itself no heartbeats).
    assert relay.run_once() == Round(0)
