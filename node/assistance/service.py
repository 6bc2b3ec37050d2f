"""Technical assistance for the gaps of a city's stage report (report §25, §37).

§25: "When not eligible, cities ... will have the option to consult with UN-Habitat and United
Nations partners ... Cities may additionally solicit technical assistance, including from
consultancies, UN-Habitat's catalogue of services, United Nations country teams and United
Nations expert entities."

A city's applicants ask for help with one gap (a criterion the latest stage report of their
application gives as not met or partly met): advice, a consultation, or a named entry of the
catalogue. The secretariat (and administrators) assign the request to one of the secretariat's
people or to a provider of the catalogue (an active entry that names its provider), add notes
of progress, and close it, resolved or declined, with a reason:

    open ──assign──▶ assigned ──resolve──▶ closed
      │                 ▲  │
      │                 └──┘ reassign
      └──────decline (from open or assigned)──────▶ closed

A closed request takes no more assignments, notes or closures (409). A city sees its own
requests only (another city's is 404, as if it did not exist); every change is audited. The
summary counts requests by criterion and state, with no city and no person in it, so that the
node can plan capacity building.

§37 asks for the same across the federation, so each request and its closure is an event of the
node's log (`assistance.requested`, `assistance.closed`), which the global node projects
(`node/federation_registry/projection.py`) and counts by gap (`.../assistance.py` there). The
events say which gap (the criterion, whether the city's framework added it or took it from the
global baseline, its stage and framework) and the kind of help; never the message, the reason
or who asked.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from sdgcities.federation import EventType
from sdgcities.federation.event_data import AssistanceClosed, AssistanceRequested, FrameworkKey
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.frameworks.service import document_of
from sdgcities.node.reports import service as reports
from sdgcities.node.timeutil import utcnow

from .models import (
    AssistanceNote,
    AssistanceRequest,
    Closure,
    HelpKind,
    RequestState,
)
from .schemas import (
    AssignmentCreate,
    AssistanceRequestCreate,
    ClosureCreate,
    GapCount,
    NoteCreate,
)

TARGET = "assistance_request"
ASSIGNABLE_ROLES = frozenset({Role.SECRETARIAT})


# Asking -----------------------------------------------------------------------------------------


def _named_tool(session: Session, data: AssistanceRequestCreate) -> int | None:
    if data.kind is not HelpKind.TOOL:
        if data.tool_id is not None:
            raise InvalidRequest("only a request of kind 'tool' names a catalogue entry")
        return None
    if data.tool_id is None:
        raise InvalidRequest("a request of kind 'tool' names the catalogue entry (tool_id)")
    tool = session.get(Tool, data.tool_id)
    if tool is None or not tool.active:
        raise InvalidRequest(f"the catalogue has no active entry {data.tool_id}")
    return tool.id


def ask(
    *, session: Session, actor: Actor, node_id: str, data: AssistanceRequestCreate
) -> AssistanceRequest:
    """A city applicant's request about a gap of their application's latest stage report, and
    its event in node `node_id`'s log."""
    application = reports.get_application_or_raise(
        session=session, application_id=data.application_id, actor=actor
    )
    report = reports.get_report_or_raise(session=session, application=application)
    gaps = reports.document_of(report).gaps
    if data.criterion_code not in gaps:
        listed = ", ".join(gaps) if gaps else "none"
        raise InvalidRequest(
            f"{data.criterion_code} is not a gap of the stage report of application "
            f"{application.id} (its gaps: {listed}); help is asked for a gap"
        )
    tool_id = _named_tool(session, data)
    waiting = session.exec(
        select(AssistanceRequest).where(
            AssistanceRequest.application_id == application.id,
            AssistanceRequest.criterion_code == data.criterion_code,
            AssistanceRequest.state != RequestState.CLOSED,
        )
    ).first()
    if waiting is not None:
        raise Conflict(
            f"request {waiting.id} about {data.criterion_code} is still {waiting.state.value}: "
            "add to it through the secretariat, or wait until it is closed"
        )
    request = AssistanceRequest(
        city_locode=application.city_locode,
        application_id=saved_id(application.id),
        report_version=report.version,
        criterion_code=data.criterion_code,
        kind=data.kind,
        tool_id=tool_id,
        message=data.message,
        state=RequestState.OPEN,
        asked_by=saved_id(actor.user_id),
    )
    session.add(request)
    session.flush()
    _audit(session, actor, "assistance.ask", request, criterion=request.criterion_code)
    framework = session.get(FrameworkVersion, application.framework_version_id)
    assert framework is not None  # a foreign key; versions are never deleted
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.ASSISTANCE_REQUESTED,
        subject={"locode": request.city_locode, "request": saved_id(request.id)},
        data=AssistanceRequested(
            criterion=request.criterion_code,
            # A baseline criterion keeps its code in every national adaptation; one the node
            # added is its country's alone (node/frameworks/adapt.py).
            national=document_of(framework).criterion(request.criterion_code).national,
            stage=application.stage,
            kind=request.kind.value,
            framework=FrameworkKey(id=framework.framework_id, version=framework.version),
        ),
        occurred_at=request.created_at,
    )
    return request


# Reading ----------------------------------------------------------------------------------------


def _visible(actor: Actor) -> list[Any]:
    if actor.role is Role.CITY_APPLICANT:
        return [AssistanceRequest.city_locode == actor.city_locode]
    return []


def get_request_or_raise(
    *, session: Session, actor: Actor, request_id: int, for_update: bool = False
) -> AssistanceRequest:
    query = select(AssistanceRequest).where(AssistanceRequest.id == request_id, *_visible(actor))
    if for_update:
        query = query.with_for_update()
    request = session.exec(query).first()
    if request is None:
        raise NotFound(f"no assistance request {request_id}")
    return request


def list_requests(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    state: RequestState | None = None,
) -> tuple[list[AssistanceRequest], int]:
    """The requests the actor may see, newest first."""
    conditions = _visible(actor)
    if state is not None:
        conditions.append(AssistanceRequest.state == state)
    return page_of(
        session,
        AssistanceRequest,
        conditions=conditions,
        order_by=[col(AssistanceRequest.id).desc()],
        offset=offset,
        limit=limit,
    )


def notes_of(*, session: Session, request: AssistanceRequest) -> list[AssistanceNote]:
    return list(
        session.exec(
            select(AssistanceNote)
            .where(AssistanceNote.request_id == request.id)
            .order_by(col(AssistanceNote.id))
        ).all()
    )


def assignable_people(*, session: Session) -> list[User]:
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_(ASSIGNABLE_ROLES), User.active == True)  # noqa: E712
            .order_by(col(User.name))
        ).all()
    )


def providers(*, session: Session) -> list[Tool]:
    """The catalogue's active entries that name who provides them."""
    return list(
        session.exec(
            select(Tool)
            .where(Tool.active == True, Tool.provider != "")  # noqa: E712
            .order_by(col(Tool.provider), col(Tool.title))
        ).all()
    )


# The secretariat's work -------------------------------------------------------------------------


def _open_or_raise(request: AssistanceRequest, doing: str) -> None:
    if request.state is RequestState.CLOSED:
        raise Conflict(
            f"assistance request {request.id} is closed ({request.closure}): it cannot be {doing}"
        )


def assign(
    *, session: Session, actor: Actor, request: AssistanceRequest, data: AssignmentCreate
) -> AssistanceRequest:
    """Assigns (or reassigns) the request to a secretariat person or a catalogue provider."""
    _open_or_raise(request, "assigned")
    if (data.user_id is None) == (data.tool_id is None):
        raise InvalidRequest("assign to exactly one of a person (user_id) or a provider (tool_id)")
    if data.user_id is not None:
        person = session.get(User, data.user_id)
        if person is None or not person.active or person.role not in ASSIGNABLE_ROLES:
            raise InvalidRequest(f"user {data.user_id} is not an active member of the secretariat")
    if data.tool_id is not None:
        tool = session.get(Tool, data.tool_id)
        if tool is None or not tool.active or not tool.provider:
            raise InvalidRequest(
                f"catalogue entry {data.tool_id} is not an active entry that names its provider"
            )
    request.assignee_user_id = data.user_id
    request.assignee_tool_id = data.tool_id
    request.state = RequestState.ASSIGNED
    request.updated_at = utcnow()
    session.add(request)
    session.flush()
    _audit(
        session,
        actor,
        "assistance.assign",
        request,
        user_id=data.user_id,
        tool_id=data.tool_id,
    )
    return request


def add_note(
    *, session: Session, actor: Actor, request: AssistanceRequest, data: NoteCreate
) -> AssistanceNote:
    _open_or_raise(request, "noted")
    note = AssistanceNote(
        request_id=saved_id(request.id), author_user_id=saved_id(actor.user_id), text=data.text
    )
    request.updated_at = utcnow()
    session.add(note)
    session.add(request)
    session.flush()
    _audit(session, actor, "assistance.note", request, note_id=note.id)
    return note


def close(
    *,
    session: Session,
    actor: Actor,
    node_id: str,
    request: AssistanceRequest,
    data: ClosureCreate,
) -> AssistanceRequest:
    """Closes the request: resolved once someone assigned helped, or declined at any time."""
    _open_or_raise(request, "closed again")
    if data.closure is Closure.RESOLVED and request.state is not RequestState.ASSIGNED:
        raise Conflict(
            f"assistance request {request.id} is open: it is resolved by whoever it is "
            "assigned to, so assign it first (or decline it)"
        )
    now = utcnow()
    request.state = RequestState.CLOSED
    request.closure = data.closure
    request.closure_reason = data.reason
    request.closed_at = now
    request.updated_at = now
    session.add(request)
    session.flush()
    _audit(session, actor, "assistance.close", request, closure=data.closure.value)
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.ASSISTANCE_CLOSED,
        subject={"locode": request.city_locode, "request": saved_id(request.id)},
        # The closure only: the reason is the secretariat's words about the city.
        data=AssistanceClosed(closure=data.closure.value),
        occurred_at=now,
    )
    return request


def _audit(
    session: Session, actor: Actor, action: str, request: AssistanceRequest, **detail: Any
) -> None:
    record(
        session=session,
        actor=actor,
        action=action,
        target_type=TARGET,
        target_id=request.id,
        detail={key: value for key, value in detail.items() if value is not None},
    )


# Planning capacity building ---------------------------------------------------------------------


def summary(*, session: Session) -> list[GapCount]:
    """The node's requests counted by criterion and state, most asked-about first."""
    rows = session.exec(
        select(AssistanceRequest.criterion_code, AssistanceRequest.state, func.count()).group_by(
            col(AssistanceRequest.criterion_code), col(AssistanceRequest.state)
        )
    ).all()
    counts: dict[str, dict[RequestState, int]] = {}
    for code, state, count in rows:
        counts.setdefault(code, {})[RequestState(state)] = count
    gaps = [
        GapCount(
            criterion_code=code,
            open=by_state.get(RequestState.OPEN, 0),
            assigned=by_state.get(RequestState.ASSIGNED, 0),
            closed=by_state.get(RequestState.CLOSED, 0),
            total=sum(by_state.values()),
        )
        for code, by_state in counts.items()
    ]
    return sorted(gaps, key=lambda gap: (-gap.total, gap.criterion_code))
