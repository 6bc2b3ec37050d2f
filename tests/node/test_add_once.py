"""`add_once`: a row a unique constraint allows once, added by two transactions at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from sdgcities.node.db import add_once
from sdgcities.node.errors import Conflict
from sdgcities.node.spotchecks.models import SeenMessage

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def _seen(jti: str) -> SeenMessage:
    return SeenMessage(jti=jti, typ="spotcheck-request+jwt", expires_at=EXPIRES)


def test_the_second_row_is_refused_and_the_transaction_goes_on(session: Session) -> None:
    # What another transaction committed between this one's check and its insert: written
    # around the session, so that only the database knows of it.
    session.execute(
        insert(SeenMessage).values(jti="m-1", typ="spotcheck-request+jwt", expires_at=EXPIRES)
    )
    refusal = Conflict("message m-1 was already used: a replay is refused")

    with pytest.raises(Conflict) as raised:
        add_once(session, _seen("m-1"), refusal=refusal)

    assert raised.value is refusal
    add_once(session, _seen("m-2"), _seen("m-3"), refusal=Conflict("unused"))
    assert session.exec(select(SeenMessage.jti).order_by(SeenMessage.jti)).all() == [
        "m-1",
        "m-2",
        "m-3",
    ]


def test_rows_added_once_are_all_there(session: Session) -> None:
    add_once(session, _seen("a"), _seen("b"), refusal=Conflict("unused"))

    assert {row.jti for row in session.exec(select(SeenMessage)).all()} == {"a", "b"}
    assert session.get(SeenMessage, "a") is not None
