"""Inviting a person: the account is created and a one-time link to set a password is mailed.

The secretariat invites anyone but an administrator; an administrator invites anyone.
"""

from __future__ import annotations

from sqlmodel import Session

from sdgcities.node.actor import Actor
from sdgcities.node.errors import Forbidden

from .models import Role, User
from .schemas import UserCreate
from .service import create_user


def create_invited_user(*, session: Session, data: UserCreate, actor: Actor) -> User:
    if data.role is Role.ADMINISTRATOR and actor.role is not Role.ADMINISTRATOR:
        raise Forbidden("only an administrator may invite an administrator")
    return create_user(session=session, data=data, actor=actor)
