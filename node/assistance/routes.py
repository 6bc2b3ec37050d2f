"""`/assistance`: a city's requests for technical assistance with its gaps (report §25, §37).

City applicants ask, about their own applications, and read their own requests (another
city's is 404); the secretariat and administrators read every request, assign, note and close.
Reviewers and committee members have no part in it (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.schemas import Id

from . import service
from .models import AssistanceRequest, RequestState
from .schemas import (
    AssignmentCreate,
    AssistanceNotePublic,
    AssistanceRequestCreate,
    AssistanceRequestPublic,
    AssistanceRequestsPublic,
    AssistanceSummary,
    ClosureCreate,
    NoteCreate,
)

router = APIRouter(tags=["assistance"])

Asker = Annotated[Actor, access(Role.CITY_APPLICANT)]
Reader = Annotated[Actor, access(Role.CITY_APPLICANT, Role.SECRETARIAT, Role.ADMINISTRATOR)]
Staff = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
REQUESTS = "/assistance/requests"


def request_public(session: Session, request: AssistanceRequest) -> AssistanceRequestPublic:
    notes = service.notes_of(session=session, request=request)
    return AssistanceRequestPublic.model_validate(
        {
            **request.model_dump(),
            "notes": [AssistanceNotePublic.model_validate(note) for note in notes],
        }
    )


@router.post(REQUESTS, status_code=status.HTTP_201_CREATED)
def ask(
    data: AssistanceRequestCreate, session: SessionDep, state: StateDep, actor: Asker
) -> AssistanceRequestPublic:
    """Asks for help with a gap (a criterion not met or partly met) of the latest stage report
    of one of the city's applications: advice, a consultation, or a named catalogue entry."""
    return request_public(
        session,
        service.ask(session=session, actor=actor, node_id=state.settings.node_id, data=data),
    )


@router.get(REQUESTS)
def list_requests(
    session: ReadSessionDep,
    actor: Reader,
    state: RequestState | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AssistanceRequestsPublic:
    """The requests the caller may see (a city: its own), newest first."""
    found, count = service.list_requests(
        session=session, actor=actor, offset=offset, limit=limit, state=state
    )
    return AssistanceRequestsPublic(
        data=[request_public(session, request) for request in found], count=count
    )


@router.get(REQUESTS + "/{request_id}")
def get_request(session: ReadSessionDep, actor: Reader, request_id: Id) -> AssistanceRequestPublic:
    request = service.get_request_or_raise(session=session, actor=actor, request_id=request_id)
    return request_public(session, request)


@router.post(REQUESTS + "/{request_id}/assignment")
def assign(
    data: AssignmentCreate, session: SessionDep, actor: Staff, request_id: Id
) -> AssistanceRequestPublic:
    """Assigns (or reassigns) the request to a member of the secretariat (`user_id`) or to a
    provider of the catalogue (`tool_id`, an active entry naming its provider)."""
    request = service.get_request_or_raise(
        session=session, actor=actor, request_id=request_id, for_update=True
    )
    service.assign(session=session, actor=actor, request=request, data=data)
    return request_public(session, request)


@router.post(REQUESTS + "/{request_id}/notes", status_code=status.HTTP_201_CREATED)
def add_note(
    data: NoteCreate, session: SessionDep, actor: Staff, request_id: Id
) -> AssistanceRequestPublic:
    """A note of progress, which the city reads with its request."""
    request = service.get_request_or_raise(
        session=session, actor=actor, request_id=request_id, for_update=True
    )
    service.add_note(session=session, actor=actor, request=request, data=data)
    return request_public(session, request)


@router.post(REQUESTS + "/{request_id}/closure")
def close(
    data: ClosureCreate, session: SessionDep, state: StateDep, actor: Staff, request_id: Id
) -> AssistanceRequestPublic:
    """Closes the request, `resolved` (once assigned) or `declined`, with the reason."""
    request = service.get_request_or_raise(
        session=session, actor=actor, request_id=request_id, for_update=True
    )
    service.close(
        session=session, actor=actor, node_id=state.settings.node_id, request=request, data=data
    )
    return request_public(session, request)


@router.get("/assistance/summary")
def summary(session: ReadSessionDep, state: StateDep, _actor: Staff) -> AssistanceSummary:
    """The node's requests counted by criterion and state, to plan capacity building; no city
    and no person is named."""
    return AssistanceSummary(node=state.settings.node_id, data=service.summary(session=session))
