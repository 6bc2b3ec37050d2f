"""The watch cursor as migrated (0013watc) starts at the log head."""

from __future__ import annotations

from sqlmodel import Session, select

from sdgcities.node.events.service import log_head
from sdgcities.node.watches.models import WatchCursor


def test_the_cursor_starts_at_the_log_head(session: Session) -> None:
    cursor = session.exec(select(WatchCursor)).one()
    assert cursor.id == 1
    assert cursor.sequence <= log_head(session=session).sequence
