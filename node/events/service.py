"""Writing and reading the node's event log.

`append_event` is called by the workflow inside the transaction that makes the change it records,
so the change and its event commit together or not at all (the log is the outbox the federation
reporter reads). Appends are serialised on the head row: on PostgreSQL by its row lock, on SQLite
by the write lock the transaction took when it began (node/db.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select, update

from sdgcities.federation import (
    GENESIS,
    ChainBroken,
    ChainHead,
    Event,
    EventInvalid,
    EventType,
    fit_report,
    sign_report,
    verify_chain,
)
from sdgcities.federation.event_data import EventData
from sdgcities.node.errors import NotFound
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import EventLogHead, EventRecord

HEAD_ROW_ID = 1
VERIFY_BATCH = 1000


class EventPage(NamedTuple):
    """One page of the public feed: the signed report and what the route says beside it."""

    report: str
    events: list[Event]
    head: ChainHead
    more: bool


def append_event(
    *,
    session: Session,
    node_id: str,
    type: EventType,
    subject: Mapping[str, str | int],
    data: EventData,
    occurred_at: datetime | None = None,
) -> EventRecord:
    """Add the next event to the log in the caller's transaction (flushed, not committed).

    `subject` names what the event is about by id (locode, application, credential ...);
    `data`, the model of `type`'s data (federation/event_data.py), holds the facts, never
    personal data: the log goes to the global node for good.
    The transaction must be a writing one (`SessionDep`, `session_scope`): on SQLite a read
    transaction that starts writing late can fail at the lock upgrade.
    """
    if type not in data.TYPES:
        raise EventInvalid(f"{data.__class__.__name__} is not the data of {type.value} events")
    # Selecting the columns (not the entity) always reads the row, never a stale cached object.
    sequence, head_hash = session.exec(
        select(EventLogHead.sequence, EventLogHead.hash)
        .where(EventLogHead.id == HEAD_ROW_ID)
        .with_for_update()
    ).one()
    event = Event.following(
        ChainHead(sequence, head_hash),
        node_id=node_id,
        type=type,
        occurred_at=occurred_at or utcnow(),
        subject=subject,
        data=data.to_data(),
    )
    record = EventRecord.from_event(event)
    session.add(record)
    session.exec(
        update(EventLogHead)
        .where(col(EventLogHead.id) == HEAD_ROW_ID)
        .values(sequence=event.sequence, hash=event.hash)
    )
    session.flush()
    return record


def log_head(*, session: Session) -> ChainHead:
    sequence, head_hash = session.exec(
        select(EventLogHead.sequence, EventLogHead.hash).where(EventLogHead.id == HEAD_ROW_ID)
    ).one()
    return ChainHead(sequence, head_hash)


def list_events(*, session: Session, after: int, limit: int) -> list[Event]:
    """Up to `limit` events from sequence `after + 1`, in order."""
    records = session.exec(
        select(EventRecord)
        .where(col(EventRecord.sequence) > after)
        .order_by(col(EventRecord.sequence))
        .limit(limit)
    ).all()
    return [record.to_event() for record in records]


def verify_log(*, session: Session) -> ChainHead:
    """Check the whole stored log from genesis against the head row; raise on any break.

    Raises the `sdgcities.federation` chain errors, or `ChainBroken` when the head row does not
    name the last stored event.
    """
    head = GENESIS
    while batch := list_events(session=session, after=head.sequence, limit=VERIFY_BATCH):
        checked = verify_chain(batch, after=head)
        assert checked is not None
        head = checked
    recorded = log_head(session=session)
    if recorded != head:
        raise ChainBroken(
            f"the head row names event {recorded.sequence} but the log ends at {head.sequence}",
            sequence=recorded.sequence,
        )
    return head


def report_after(
    *, session: Session, state: NodeState, after: int, limit: int, now: datetime | None = None
) -> EventPage:
    """The signed report of the events from `after + 1` (at most `limit`), for the feed.

    Says too what the log's head is and whether more events follow. An `after`
    beyond the head is `NotFound`: the caller holds events this node does not (a fork, or a
    node restored from an old backup), which an empty report would hide.
    """
    head = log_head(session=session)
    # Checked before the query: a sequence past the head may be past the column's range too
    # (`integer` on PostgreSQL, while MAX_SEQUENCE is 2^53 - 1).
    if after > head.sequence:
        raise NotFound(
            f"this node's event log ends at sequence {head.sequence}; nothing follows {after}"
        )
    fetched = list_events(session=session, after=after, limit=limit + 1)
    events = list(fit_report(fetched, max_events=limit))
    settings = state.settings
    report = sign_report(
        events,
        key=state.signing_key,
        node_id=settings.node_id,
        issuer_did=settings.did,
        issued_at=now or utcnow(),
        after=after,
    )
    return EventPage(report=report, events=events, head=head, more=len(events) < len(fetched))
