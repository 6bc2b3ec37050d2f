"""Reading what the notices put in the outbox."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import User
from sdgcities.node.mail.models import OutboxMessage

from ..conftest import Account


def email_of(session: Session, account: Account) -> str:
    user = session.get(User, account.user_id)
    assert user is not None
    return user.email


def mail_to(session: Session, account: Account) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == email_of(session, account))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def outbox_size(session: Session) -> int:
    session.expire_all()
    return len(session.exec(select(OutboxMessage)).all())
