"""The secretariat's API for people: invitations, and the cities' requests for an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from sdgcities.node.actor import Actor
from sdgcities.node.deps import SessionDep, StateDep, access
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest
from sdgcities.node.schemas import Id
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.account.mails import approve_and_invite, refuse_and_tell, send_invitation
from sdgcities.node.web.i18n import BY_CODE

from . import account_requests, service
from .invitations import create_invited_user
from .models import AccountRequestStatus, Role
from .schemas import (
    AccountRequestApproval,
    AccountRequestPublic,
    AccountRequestsPublic,
    InvitationCreate,
    UserCreate,
    UserPublic,
)

router = APIRouter(tags=["accounts"])
Secretariat = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No such city (`city_locode`)"}},
)
def invite(
    session: SessionDep, state: StateDep, actor: Secretariat, body: InvitationCreate
) -> UserPublic:
    """Creates the account and mails its holder a one-time link to set a password."""
    language = BY_CODE.get(body.language) if body.language else None
    if body.language and language is None:
        raise InvalidRequest(f"{body.language!r} is not one of the site's languages")
    data = UserCreate.model_validate(body.model_dump(exclude={"language"}))
    user = create_invited_user(session=session, data=data, actor=actor)
    send_invitation(
        session=session, user=user, settings=state.settings, now=utcnow(), language=language
    )
    return UserPublic.model_validate(user)


@router.post("/users/{user_id}/invitation", status_code=status.HTTP_202_ACCEPTED)
def invite_again(
    session: SessionDep, state: StateDep, actor: Secretariat, user_id: Id
) -> UserPublic:
    """A new link for someone who has not set a password yet (earlier links stop working)."""
    user = service.get_user_or_raise(session=session, user_id=user_id)
    if user.role is Role.ADMINISTRATOR and actor.role is not Role.ADMINISTRATOR:
        raise Forbidden("only an administrator may invite an administrator")
    if user.password_hash is not None:
        raise Conflict("this person has set a password already: they can reset it themselves")
    if not user.active:
        raise Conflict("this account is deactivated")
    send_invitation(session=session, user=user, settings=state.settings, now=utcnow())
    return UserPublic.model_validate(user)


@router.get("/account-requests")
def list_account_requests(
    session: SessionDep,
    _actor: Secretariat,
    status: AccountRequestStatus | None = AccountRequestStatus.PENDING,
) -> AccountRequestsPublic:
    found = account_requests.list_requests(session=session, status=status)
    return AccountRequestsPublic(
        data=[AccountRequestPublic.model_validate(r) for r in found], count=len(found)
    )


@router.post("/account-requests/{request_id}/approve")
def approve_account_request(
    session: SessionDep,
    state: StateDep,
    actor: Secretariat,
    request_id: Id,
    body: AccountRequestApproval,
) -> UserPublic:
    """Creates the city applicant's account and mails the invitation."""
    user = approve_and_invite(
        session=session,
        request_id=request_id,
        city_locode=body.city_locode,
        actor=actor,
        settings=state.settings,
        now=utcnow(),
    )
    return UserPublic.model_validate(user)


@router.post("/account-requests/{request_id}/refuse")
def refuse_account_request(
    session: SessionDep, state: StateDep, actor: Secretariat, request_id: Id
) -> AccountRequestPublic:
    refused = refuse_and_tell(
        session=session, request_id=request_id, actor=actor, settings=state.settings, now=utcnow()
    )
    return AccountRequestPublic.model_validate(refused)
