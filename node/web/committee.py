"""The committee member's pages: coming meetings and their agendas, each item's dossier, the
attendance, casting a vote, recusing from an item, and the meeting report, in the reader's language.

Committee members act here as themselves; the secretariat and administrators may read every
page (and the secretariat records attendance from the meeting's page). Everything is done by
node/committee (`meetings`, `voting`, `decisions`), as the API does it: a refusal there (a second
vote, a vote on a decided item or at a closed meeting, a vote after recusing) is shown on the
item's page, in the reader's language, with the status the API would answer (409; 403 for a
member whose term has ended).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from babel import dates, numbers
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application
from sdgcities.node.certificates import service as certificates
from sdgcities.node.certificates.models import Certificate, CertificateProposal
from sdgcities.node.cities.models import City
from sdgcities.node.committee import decisions, meetings, roster, voting
from sdgcities.node.committee.models import (
    AgendaItem,
    ItemOutcome,
    Meeting,
    MeetingStatus,
    VoteChoice,
)
from sdgcities.node.committee.report import build_report, item_detail
from sdgcities.node.committee.schemas import ItemDetail
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest, NodeError, NotFound
from sdgcities.node.members.models import EndorsementRequestRecord
from sdgcities.node.reports import service as reports
from sdgcities.node.reports.schemas import StageReportDocument
from sdgcities.node.review.access import consolidation_of
from sdgcities.node.review.models import ReviewConsolidation

from . import committee_terms
from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import LEVEL_NAMES, STAGE_NAMES

router = APIRouter(include_in_schema=False)
Reader = Annotated[
    WebCaller, page_access(Role.COMMITTEE_MEMBER, Role.SECRETARIAT, Role.ADMINISTRATOR)
]
Member = Annotated[WebCaller, page_access(Role.COMMITTEE_MEMBER)]
Secretariat = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MeetingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAST_MEETINGS_SHOWN: Final = 20
HISTORY_SHOWN: Final = 50
MAX_REASON_CHARS: Final = 2000
# What a successful form says on the page it redirects to (`?done=...`).
DONE_NOTICES: Final = {
    "voted": N_("Your vote is recorded."),
    "recused": N_(
        "Your recusal is recorded: you will not vote on this item, and you do not count "
        "towards its quorum."
    ),
    "attendance": N_("The attendance is recorded."),
    "decided": N_("The decision is recorded and carried out."),
}


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field the error is next to
    message: str  # a message id, translated by the template
    values: dict[str, Any] | None = None


@dataclass(frozen=True)
class Dossier:
    """What the committee reads before deciding an item."""

    application: Application | None
    city: City | None
    certificate: Certificate | None
    proposal: CertificateProposal | None
    stage_report: StageReportDocument | None
    consolidation: ReviewConsolidation | None
    history: list[Application]
    certificates: list[Certificate]
    endorsement: EndorsementRequestRecord | None = None


def _path(language: Language, *parts: object) -> str:
    return "/".join([f"/{language.code}/committee", *(str(part) for part in parts)])


def _moment(language: Language) -> Callable[[datetime], str]:
    """A moment as the reader's locale writes a date and a time, to the minute (times are UTC;
    seconds are noise in a meeting's record)."""

    def written(value: datetime) -> str:
        day = language.format_date(value)
        time = dates.format_time(value, format="short", tzinfo=UTC, locale=language.babel_locale)
        return f"{day} {time}"

    return written


def _common(language: Language) -> dict[str, Any]:
    return {
        "moment": _moment(language),
        "terms": committee_terms,
        "stage_names": STAGE_NAMES,
        "level_names": LEVEL_NAMES,
        "base": _path(language),
    }


def _form_state(done: str | None, errors: list[FieldError] | None) -> dict[str, Any]:
    """What a page with forms shows of the last one sent: its notice, or its errors."""
    return {
        "done_notice": DONE_NOTICES.get(done or ""),
        "errors": errors or [],
        "error_by_field": {error.field: error for error in errors or []},
    }


# Meetings ---------------------------------------------------------------------------------------


@router.get("/{lang:lang}/committee")
def meetings_page(
    request: Request, language: LanguageDep, caller: Reader, session: ReadSessionDep
) -> Response:
    """Coming meetings (soonest first, those in session at the top), then the latest past ones."""
    coming: list[Meeting] = []
    for status in (MeetingStatus.OPEN, MeetingStatus.SCHEDULED):
        found, _count = meetings.list_meetings(session=session, offset=0, limit=100, status=status)
        coming += sorted(found, key=lambda meeting: (meeting.scheduled_for, meeting.id or 0))
    past, past_count = meetings.list_meetings(
        session=session, offset=0, limit=PAST_MEETINGS_SHOWN, status=MeetingStatus.CLOSED
    )
    agenda_sizes = {
        meeting.id: len(meetings.items_of(session=session, meeting=meeting))
        for meeting in [*coming, *past]
    }
    return render(
        request,
        "committee/meetings.html",
        language=language,
        caller=caller,
        coming=coming,
        past=past,
        past_count=past_count,
        agenda_sizes=agenda_sizes,
        **_common(language),
    )


def _meeting_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    meeting_id: int,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    attending = meetings.attendees(session=session, meeting=meeting)
    attending_ids = {member.id for member in attending}
    items = meetings.items_of(session=session, meeting=meeting)
    me = caller.actor.user_id
    mine = {
        item.id: _own_part(session=session, item=item, member_id=me)
        for item in items
        if caller.actor.role is Role.COMMITTEE_MEMBER and me is not None
    }
    can_record = caller.actor.role in {Role.SECRETARIAT, Role.ADMINISTRATOR}
    not_yet = (
        [
            member
            for member in roster.sitting_members(session=session, on=roster.today())
            if member.id not in attending_ids
        ]
        if can_record and meeting.status is not MeetingStatus.CLOSED
        else []
    )
    return render(
        request,
        "committee/meeting.html",
        language=language,
        caller=caller,
        status_code=status_code,
        meeting=meeting,
        attending=attending,
        i_attend=me in attending_ids,
        is_member=caller.actor.role is Role.COMMITTEE_MEMBER,
        quorum=voting.count_quorum(session=session, meeting=meeting, on=roster.today()),
        items=items,
        titles={item.id: _item_subject(session, item) for item in items},
        mine=mine,
        not_yet=not_yet,
        **_form_state(done, errors),
        **_common(language),
    )


@router.get("/{lang:lang}/committee/meetings/{meeting_id}")
def meeting_page(
    request: Request,
    language: LanguageDep,
    caller: Reader,
    session: ReadSessionDep,
    meeting_id: MeetingId,
    done: str | None = None,
) -> Response:
    return _meeting_page(
        request,
        language=language,
        caller=caller,
        session=session,
        meeting_id=meeting_id,
        done=done,
    )


@router.post("/{lang:lang}/committee/meetings/{meeting_id}/attendance")
async def record_attendance(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    meeting_id: MeetingId,
) -> Response:
    """The secretariat records a member as present (a member cannot record anyone, themselves
    included: the quorum counts the people the secretariat saw)."""
    await check_csrf(request, caller)
    form = await request.form()
    raw = form.get("member_id")
    member_id = (
        int(raw)
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10
        else None
    )
    error: FieldError | None = None
    status_code = 400
    if member_id is None:
        error = FieldError("member-id", N_("Choose the member who is present."))
    else:
        try:
            await run_in_threadpool(
                meetings.record_attendance,
                session=session,
                meeting_id=meeting_id,
                member_id=member_id,
                actor=caller.actor,
            )
        except (Conflict, InvalidRequest) as refused:
            status_code = refused.status_code
            error = FieldError(
                "member-id",
                N_("The attendance could not be recorded: %(detail)s"),
                {"detail": refused.message},
            )
    if error is not None:
        return await run_in_threadpool(
            lambda: _meeting_page(
                request,
                language=language,
                caller=caller,
                session=session,
                meeting_id=meeting_id,
                errors=[error],
                status_code=status_code,
            )
        )
    return RedirectResponse(f"{_path(language, 'meetings', meeting_id)}?done=attendance", 303)


@router.get("/{lang:lang}/committee/meetings/{meeting_id}/report")
def report_page(
    request: Request,
    language: LanguageDep,
    caller: Reader,
    session: ReadSessionDep,
    state: StateDep,
    meeting_id: MeetingId,
) -> Response:
    """The meeting report (§28) as `GET /committee/meetings/{id}/report` gives it, to read."""
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    report = build_report(session=session, settings=state.settings, meeting=meeting)
    return render(
        request,
        "committee/report.html",
        language=language,
        caller=caller,
        report=report,
        quorum_percent=numbers.format_percent(
            report.meeting.quorum_rule.min_fraction, locale=language.babel_locale
        ),
        **_common(language),
    )


# Items ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnPart:
    """What the calling member has done on an item."""

    vote: VoteChoice | None
    recused: bool


def _own_part(*, session: Session, item: AgendaItem, member_id: int | None) -> OwnPart:
    detail_votes = voting.votes_of(session=session, item=item)
    vote = next((v.choice for v, member in detail_votes if member.id == member_id), None)
    recused = member_id is not None and voting.is_recused(
        session=session, item=item, member_id=member_id
    )
    return OwnPart(vote=vote, recused=recused)


@dataclass(frozen=True)
class Subject:
    """What an item is about, for its title: the city, and the stage or the certificate."""

    city_name: str | None
    locode: str | None
    stage: str | None
    certificate_id: str | None
    endorsement: EndorsementRequestRecord | None = None


def _item_subject(session: Session, item: AgendaItem) -> Subject:
    application = session.get(Application, item.application_id) if item.application_id else None
    certificate = session.get(Certificate, item.certificate_id) if item.certificate_id else None
    locode = (
        application.city_locode if application else certificate.city_locode if certificate else None
    )
    city = session.get(City, locode) if locode else None
    return Subject(
        city_name=city.name if city else None,
        locode=locode,
        stage=application.stage if application else certificate.stage if certificate else None,
        certificate_id=item.certificate_id,
        endorsement=_endorsement_request(session, item),
    )


def _endorsement_request(session: Session, item: AgendaItem) -> EndorsementRequestRecord | None:
    if item.endorsement_request_id is None:
        return None
    return session.get(EndorsementRequestRecord, item.endorsement_request_id)


def _dossier(session: Session, item: AgendaItem) -> Dossier:
    application = session.get(Application, item.application_id) if item.application_id else None
    certificate = session.get(Certificate, item.certificate_id) if item.certificate_id else None
    proposal = session.get(CertificateProposal, item.proposal_id) if item.proposal_id else None
    subject = _item_subject(session, item)
    locode = subject.locode
    stage_report = None
    consolidation = None
    if application is not None:
        try:
            stage_report = reports.document_of(
                reports.get_report_or_raise(session=session, application=application)
            )
        except NotFound:
            stage_report = None
        consolidation = consolidation_of(session=session, application_id=application.id)
    # The committee reads every city's record: it reads as the secretariat does.
    reader = Actor(role=Role.SECRETARIAT)
    history: list[Application] = []
    held: list[Certificate] = []
    if locode is not None:
        history, _count = applications.list_applications(
            session=session, actor=reader, offset=0, limit=HISTORY_SHOWN, city_locode=locode
        )
        held, _count = certificates.list_certificates(
            session=session, actor=reader, offset=0, limit=HISTORY_SHOWN, city_locode=locode
        )
    return Dossier(
        application=application,
        city=session.get(City, locode) if locode else None,
        certificate=certificate,
        proposal=proposal,
        stage_report=stage_report,
        consolidation=consolidation,
        history=history,
        certificates=held,
        endorsement=_endorsement_request(session, item),
    )


def _item_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    item_id: int,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    reason: str = "",
) -> Response:
    item = meetings.get_item_or_raise(session=session, item_id=item_id)
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=item.meeting_id)
    detail: ItemDetail = item_detail(session=session, item=item)
    me = caller.actor.user_id
    is_member = caller.actor.role is Role.COMMITTEE_MEMBER and me is not None
    own = _own_part(session=session, item=item, member_id=me) if is_member else None
    attending = is_member and meetings.is_attending(
        session=session, meeting=meeting, member_id=me or 0
    )
    pending = item.outcome is ItemOutcome.PENDING
    return render(
        request,
        "committee/item.html",
        language=language,
        caller=caller,
        status_code=status_code,
        item=item,
        detail=detail,
        meeting=meeting,
        subject=_item_subject(session, item),
        dossier=_dossier(session, item),
        own=own,
        is_member=is_member,
        attending=attending,
        may_vote=is_member
        and pending
        and meeting.status is MeetingStatus.OPEN
        and own is not None
        and own.vote is None
        and not own.recused,
        may_recuse=is_member
        and pending
        and meeting.status is not MeetingStatus.CLOSED
        and own is not None
        and own.vote is None
        and not own.recused,
        may_decide=caller.actor.role in (Role.SECRETARIAT, Role.ADMINISTRATOR)
        and pending
        and meeting.status is MeetingStatus.OPEN,
        choices=list(VoteChoice),
        reason=reason,
        max_reason_chars=MAX_REASON_CHARS,
        **_form_state(done, errors),
        **_common(language),
    )


@router.get("/{lang:lang}/committee/items/{item_id}")
def item_page(
    request: Request,
    language: LanguageDep,
    caller: Reader,
    session: ReadSessionDep,
    item_id: ItemId,
    done: str | None = None,
) -> Response:
    """An item's dossier: the stage report, the review's consolidation, the city's history; the
    votes and recusals so far; and for a member, the forms to vote or to recuse."""
    return _item_page(
        request, language=language, caller=caller, session=session, item_id=item_id, done=done
    )


def _refusal_message(
    refused: NodeError, *, session: Session, item_id: int, member: int, to_vote: bool
) -> str:
    """The service's refusal in the reader's words. The service has decided; this only reads
    the records, in the order the service checks them, to say which of its rules applied."""
    item = meetings.get_item_or_raise(session=session, item_id=item_id)
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=item.meeting_id)
    if meeting.status is MeetingStatus.CLOSED:
        return N_("The meeting is closed: nothing more can be done on its items.")
    if to_vote and meeting.status is MeetingStatus.SCHEDULED:
        return N_("The meeting has not opened yet: members vote once it is in session.")
    if item.outcome is not ItemOutcome.PENDING:
        return N_("This item has already been decided or deferred.")
    if isinstance(refused, Forbidden):
        return N_("You are not a sitting member of the committee today, so you may not vote.")
    if to_vote and not meetings.is_attending(session=session, meeting=meeting, member_id=member):
        return N_(
            "You are not recorded as attending this meeting. The secretariat records "
            "attendance before members vote."
        )
    if voting.is_recused(session=session, item=item, member_id=member):
        if to_vote:
            return N_("You have recused yourself from this item, so you may not vote on it.")
        return N_("You have already recused yourself from this item.")
    if voting.has_voted(session=session, item=item, member_id=member):
        if to_vote:
            return N_("You have already voted on this item. Each member votes once per item.")
        return N_(
            "You have already voted on this item. A vote cast is not withdrawn, so a recusal "
            "comes before voting."
        )
    return N_("This cannot be done now.")


async def _refused_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    item_id: int,
    field: str,
    refused: NodeError,
    reason: str = "",
) -> Response:
    member = caller.actor.user_id or 0

    def page() -> Response:
        message = _refusal_message(
            refused,
            session=session,
            item_id=item_id,
            member=member,
            to_vote=field != "recusal-reason",
        )
        return _item_page(
            request,
            language=language,
            caller=caller,
            session=session,
            item_id=item_id,
            errors=[FieldError(field, message)],
            status_code=refused.status_code,
            reason=reason,
        )

    return await run_in_threadpool(page)


@router.post("/{lang:lang}/committee/items/{item_id}/vote")
async def cast_vote(
    request: Request,
    language: LanguageDep,
    caller: Member,
    session: SessionDep,
    item_id: ItemId,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    raw = form.get("choice")
    choice = VoteChoice(raw) if isinstance(raw, str) and raw in set(VoteChoice) else None
    if choice is None:
        return await run_in_threadpool(
            lambda: _item_page(
                request,
                language=language,
                caller=caller,
                session=session,
                item_id=item_id,
                errors=[FieldError("vote-yes", N_("Choose yes, no or abstain."))],
                status_code=400,
            )
        )
    try:
        await run_in_threadpool(
            voting.cast_vote, session=session, item_id=item_id, choice=choice, actor=caller.actor
        )
    except (Conflict, Forbidden) as refused:
        return await _refused_page(
            request,
            language=language,
            caller=caller,
            session=session,
            item_id=item_id,
            field="vote-yes",
            refused=refused,
        )
    return RedirectResponse(f"{_path(language, 'items', item_id)}?done=voted#votes", 303)


@router.post("/{lang:lang}/committee/items/{item_id}/recusal")
async def recuse(
    request: Request,
    language: LanguageDep,
    caller: Member,
    session: SessionDep,
    item_id: ItemId,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    raw = form.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    error = None
    if not reason:
        error = FieldError("recusal-reason", N_("Say what the conflict of interest is."))
    elif len(reason) > MAX_REASON_CHARS:
        error = FieldError(
            "recusal-reason",
            N_("Write at most %(count)s characters."),
            {"count": MAX_REASON_CHARS},
        )
    if error is not None:
        return await run_in_threadpool(
            lambda: _item_page(
                request,
                language=language,
                caller=caller,
                session=session,
                item_id=item_id,
                errors=[error],
                status_code=400,
                reason=reason[: MAX_REASON_CHARS * 2],
            )
        )
    try:
        await run_in_threadpool(
            voting.recuse, session=session, item_id=item_id, reason=reason, actor=caller.actor
        )
    except Conflict as refused:
        return await _refused_page(
            request,
            language=language,
            caller=caller,
            session=session,
            item_id=item_id,
            field="recusal-reason",
            refused=refused,
            reason=reason,
        )
    return RedirectResponse(f"{_path(language, 'items', item_id)}?done=recused#recusals", 303)


@router.post("/{lang:lang}/committee/items/{item_id}/decide")
async def decide(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    state: StateDep,
    item_id: ItemId,
) -> Response:
    """The secretariat records the item's decision, as `POST /committee/items/{id}/decide`
    does: the quorum checked, the votes counted, the award or the status change carried out.
    A refusal (no quorum, no vote yet, a closed meeting, an item already decided) is shown on
    the item's page with the API's status."""
    await check_csrf(request, caller)
    try:
        await run_in_threadpool(
            decisions.decide_item,
            session=session,
            state=state,
            item_id=item_id,
            actor=caller.actor,
        )
    except (Conflict, InvalidRequest) as refused:
        error = FieldError(
            "decide-submit",
            N_("The decision could not be recorded: %(detail)s"),
            {"detail": refused.message},
        )
        status_code = refused.status_code
        session.rollback()
        return await run_in_threadpool(
            lambda: _item_page(
                request,
                language=language,
                caller=caller,
                session=session,
                item_id=item_id,
                errors=[error],
                status_code=status_code,
            )
        )
    return RedirectResponse(f"{_path(language, 'items', item_id)}?done=decided#votes", 303)
