"""Republishing the trust list before its next-update time, even when nothing changed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from sdgcities.node.members.publish import latest_published, republish_if_due
from sdgcities.node.timeutil import utcnow

from ..conftest import Backend


def test_republish_only_when_half_the_validity_is_gone(session: Session, backend: Backend) -> None:
    state = backend.app.state.node
    assert state.root_key is not None
    latest = latest_published(session=session)
    assert latest is not None  # published when the app started
    fresh = republish_if_due(
        session=session, settings=state.settings, root_key=state.root_key, now=utcnow()
    )
    assert fresh is None
    due = republish_if_due(
        session=session,
        settings=state.settings,
        root_key=state.root_key,
        now=latest.next_update - timedelta(hours=1),
    )
    assert due is not None
    assert due.sequence == latest.sequence + 1
    assert due.next_update == due.issued_at + timedelta(hours=24)


def test_a_national_node_publishes_nothing(session: Session, backend: Backend) -> None:
    state = backend.app.state.node
    published = republish_if_due(
        session=session, settings=state.settings, root_key=None, now=utcnow()
    )
    assert published is None
