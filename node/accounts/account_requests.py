"""A city's request for an account, made on the public site, and the secretariat's decision.

Approval creates the city applicant's account (the caller then sends the invitation, in the
same transaction); refusal only records who refused and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.errors import Conflict, NotFound

from .models import AccountRequest, AccountRequestStatus, Role, User
from .schemas import AccountRequestCreate, UserCreate
from .service import create_user


def submit_request(
    *, session: Session, data: AccountRequestCreate, language: str, now: datetime
) -> AccountRequest:
    request = AccountRequest.model_validate(
        {**data.model_dump(), "language": language, "created_at": now}
    )
    session.add(request)
    session.flush()
    return request


def list_requests(
    *, session: Session, status: AccountRequestStatus | None = AccountRequestStatus.PENDING
) -> list[AccountRequest]:
    query = select(AccountRequest)
    if status is not None:
        query = query.where(AccountRequest.status == status)
    return list(session.exec(query.order_by(col(AccountRequest.created_at))).all())


def _pending_or_raise(session: Session, request_id: int) -> AccountRequest:
    request = session.get(AccountRequest, request_id)
    if request is None:
        raise NotFound(f"no account request {request_id}")
    if request.status is not AccountRequestStatus.PENDING:
        raise Conflict(f"account request {request_id} is already {request.status.value}")
    return request


def approve_request(
    *, session: Session, request_id: int, city_locode: str, actor: Actor, now: datetime
) -> User:
    """Creates the city applicant's account for a pending request."""
    request = _pending_or_raise(session, request_id)
    taken = session.exec(
        select(User.id).where(func.lower(User.email) == request.email.lower())
    ).first()
    if taken is not None:
        raise Conflict(f"an account with the address {request.email} exists already")
    user = create_user(
        session=session,
        data=UserCreate(
            name=request.name,
            email=request.email,
            role=Role.CITY_APPLICANT,
            city_locode=city_locode,
            languages=[request.language],
        ),
        actor=actor,
    )
    _decide(session, request, AccountRequestStatus.APPROVED, actor, now, user_id=user.id)
    return user


def refuse_request(
    *, session: Session, request_id: int, actor: Actor, now: datetime
) -> AccountRequest:
    request = _pending_or_raise(session, request_id)
    _decide(session, request, AccountRequestStatus.REFUSED, actor, now)
    return request


def _decide(
    session: Session,
    request: AccountRequest,
    status: AccountRequestStatus,
    actor: Actor,
    now: datetime,
    *,
    user_id: int | None = None,
) -> None:
    request.status, request.decided_at, request.decided_by = status, now, actor.user_id
    request.user_id = user_id
    session.add(request)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"account_request.{status.value}",
        target_type="account_request",
        target_id=request.id,
    )
