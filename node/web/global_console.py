"""The global node's console: the monitoring dashboard, join requests and members, the trust
list's history, and endorsement requests.

Mounted on the global node only (`install_site`), as the trust registry's API is. The
secretariat and administrators act here; the global committee reads the dashboard and the
endorsement requests, which it decides as agenda items of its meetings (`web/committee.py`).
Every action is the service's
(`members.service`, `members.endorsements`, `monitoring.service`), called as the API calls it;
a refusal (a request already decided, a status the member already has, the last active key)
is shown on the page with the status the API would answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, Final

from babel import dates
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from sdgcities.credentials import KeyStatus, NodeStatus
from sdgcities.node.accounts.models import Role
from sdgcities.node.committee.meetings import pending_endorsement_items
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.federation_registry.assistance import federation_gaps
from sdgcities.node.members import endorsements, service
from sdgcities.node.members.models import (
    EndorsementState,
    JoinRequestState,
    MemberNode,
    PublishedTrustList,
)
from sdgcities.node.monitoring import service as monitoring
from sdgcities.node.timeutil import utcnow

from .charts import Bar, Column, bar_chart, stacked_columns
from .i18n import N_, Language
from .pages import gettext_for, render
from .public import country_name
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import LEVEL_NAMES, STAGE_NAMES

router = APIRouter(include_in_schema=False)
Secretariat = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Committee = Annotated[
    WebCaller, page_access(Role.COMMITTEE_MEMBER, Role.SECRETARIAT, Role.ADMINISTRATOR)
]
NodeId = Annotated[str, Path(min_length=1, max_length=16)]
Kid = Annotated[str, Path(min_length=1, max_length=64)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MONTHS_SHOWN: Final = 12
TRUST_LISTS_SHOWN: Final = 50
MAX_REASON_CHARS: Final = 2000
NODE_VERBS: Final = {
    "suspend": NodeStatus.SUSPENDED,
    "reinstate": NodeStatus.ACTIVE,
    "withdraw": NodeStatus.WITHDRAWN,
}
KEY_VERBS: Final = {"retire": KeyStatus.RETIRED, "compromise": KeyStatus.COMPROMISED}
DONE_NOTICES: Final = {
    "approved": N_("The join request is approved: the node is a member."),
    "refused": N_("The request is refused."),
    "suspend": N_("The member is suspended."),
    "reinstate": N_("The member is reinstated."),
    "withdraw": N_("The member is withdrawn."),
    "retire": N_("The key is retired."),
    "compromise": N_("The key is marked as compromised."),
}
STATUS_NAMES: Final = {
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "withdrawn": N_("Withdrawn"),
    "retired": N_("Retired"),
    "compromised": N_("Compromised"),
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "refused": N_("Refused"),
    "endorsed": N_("Endorsed"),
}
CHECK_STATES: Final = {
    "selected": N_("Selected: dossier not fetched"),
    "dossier_fetched": N_("Dossier fetched"),
    "confirmed": N_("Confirmed"),
    "not_confirmed": N_("Not confirmed"),
}
REFUSAL_HEADINGS: Final = {
    404: N_("Not found"),
    502: N_("The other node could not be reached"),
    503: N_("The other node could not be reached"),
    409: N_("This cannot be done now"),
    422: N_("The request is not valid"),
}


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field the error is next to
    message: str  # a message id, translated by the template
    values: dict[str, Any] | None = None


def console_path(language: Language, *parts: object) -> str:
    return "/".join([f"/{language.code}/global", *(str(part) for part in parts)])


@cache
def _moment(language: Language) -> Callable[[datetime | None], str]:
    """A moment as the reader's locale writes a long date and a short time (UTC).

    The locale's patterns are parsed once: the dashboard writes hundreds of moments."""
    locale = language.babel_locale
    day_pattern = dates.parse_pattern(locale.date_formats["long"])
    time_pattern = dates.parse_pattern(locale.time_formats["short"])

    def written(value: datetime | None) -> str:
        if value is None:
            return ""
        moment = value.astimezone(UTC)
        return f"{day_pattern.apply(moment, locale)} {time_pattern.apply(moment, locale)}"

    return written


@cache
def _number(language: Language) -> Callable[[float], str]:
    """The locale's way of writing a number, remembered: a dashboard writes the same counts and
    scores over and over, and Babel's formatting is the dearest part of rendering it."""
    return lru_cache(maxsize=8192)(language.format_number)


def console_context(
    language: Language, done: str | None, errors: list[FieldError] | None
) -> dict[str, Any]:
    return {
        "base": console_path(language),
        "moment": _moment(language),
        "number": _number(language),
        "status_names": STATUS_NAMES,
        "stage_names": STAGE_NAMES,
        "level_names": LEVEL_NAMES,
        "done_notice": DONE_NOTICES.get(done or ""),
        "errors": errors or [],
        "error_by_field": {error.field: error for error in errors or []},
        "max_reason_chars": MAX_REASON_CHARS,
        "refusal_headings": REFUSAL_HEADINGS,
        "check_states": CHECK_STATES,
    }


def _reason(form: Any, field: str) -> tuple[str, FieldError | None]:
    raw = form.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        return reason, FieldError(field, N_("Give the reason."))
    if len(reason) > MAX_REASON_CHARS:
        return reason, FieldError(
            field, N_("Keep the reason under %(count)s characters."), {"count": MAX_REASON_CHARS}
        )
    return reason, None


# Monitoring ------------------------------------------------------------------------------------


def _hours(seconds: float | None) -> float:
    return round((seconds or 0) / 3600, 1)


_TALLIES: Final[dict[str, monitoring.TallyCache]] = {}


def _tally_cache(database_url: str) -> monitoring.TallyCache:
    # One per database: a process may serve several nodes (the tests do).
    return _TALLIES.setdefault(database_url, monitoring.TallyCache(months=MONTHS_SHOWN))


def dashboard_data(*, session: Session, state: Any, language: Language) -> dict[str, Any]:
    """Everything the dashboard shows, in the reader's numbers (also used by the benchmark)."""
    now = utcnow()
    tally = _tally_cache(state.settings.sqlalchemy_url).tally(session=session, now=now)
    standings = monitoring.list_standings(
        session=session, settings=state.settings, now=now, certificates=tally.current
    )
    by_stage_level: dict[tuple[str, str], int] = {}
    for standing in standings:
        for count in standing.certificates:
            key = (count.stage, count.level)
            by_stage_level[key] = by_stage_level.get(key, 0) + count.count
    stages = [stage for stage in STAGE_NAMES if any(s == stage for s, _ in by_stage_level)]
    stages += sorted({s for s, _ in by_stage_level} - set(stages))
    levels = [level for level in LEVEL_NAMES if any(lv == level for _, lv in by_stage_level)]
    levels += sorted({lv for _, lv in by_stage_level} - set(levels))
    monthly = tally.monthly
    months = monitoring.month_starts(now=tally.taken_at, months=MONTHS_SHOWN)
    month_stages = list(STAGE_NAMES) + sorted({row.stage for row in monthly} - set(STAGE_NAMES))
    month_counts = {(row.month, row.stage): row.count for row in monthly}
    month_label: Callable[[datetime], str] = lambda month: dates.format_skeleton(  # noqa: E731
        "yMMM", month, locale=language.babel_locale
    )
    translate = gettext_for(language)[0]
    return {
        "stage_columns": [
            Column(
                str(translate(STAGE_NAMES.get(stage, stage))),
                tuple(by_stage_level.get((stage, level), 0) for level in levels),
            )
            for stage in stages
        ],
        "month_columns": [
            Column(
                month_label(month),
                tuple(month_counts.get((month, stage), 0) for stage in month_stages),
            )
            for month in months
        ],
        "level_series": [str(translate(LEVEL_NAMES.get(level, level))) for level in levels],
        "stage_series": [str(translate(STAGE_NAMES.get(stage, stage))) for stage in month_stages],
        "lag_bars": [
            Bar(
                standing.node_id,
                _hours(standing.lag_seconds),
                _number(language)(_hours(standing.lag_seconds)),
            )
            for standing in standings
        ],
        "quality_bars": [
            Bar(
                standing.node_id,
                standing.quality_score or 0,
                "\N{EN DASH}"
                if standing.quality_score is None
                else _number(language)(round(standing.quality_score, 1)),
            )
            for standing in standings
        ],
        "standings": standings,
        "silence_after_hours": _hours(state.settings.silence_after.total_seconds()),
        "stages": stages,
        "levels": levels,
        "by_stage_level": by_stage_level,
        "months": [
            (month_label(month), [month_counts.get((month, stage), 0) for stage in month_stages])
            for month in months
        ],
        "month_stages": month_stages,
        "hours": _hours,
        "bar_chart": bar_chart,
        "stacked_columns": stacked_columns,
        "alarmed": [standing for standing in standings if not standing.healthy],
    }


@router.get("/{lang:lang}/global")
def dashboard_page(
    request: Request,
    language: LanguageDep,
    caller: Committee,
    session: ReadSessionDep,
    state: StateDep,
) -> Response:
    return render(
        request,
        "global/dashboard.html",
        language=language,
        caller=caller,
        **console_context(language, None, None),
        **dashboard_data(session=session, state=state, language=language),
    )


@router.get("/{lang:lang}/global/nodes/{node_id}")
def node_page(
    request: Request,
    language: LanguageDep,
    caller: Committee,
    session: ReadSessionDep,
    state: StateDep,
    node_id: NodeId,
) -> Response:
    from sdgcities.node.monitoring import quality

    standing = monitoring.get_standing_or_raise(
        session=session, settings=state.settings, node_id=node_id, now=utcnow()
    )
    reports, _count = quality.list_reports(session=session, node_id=node_id, offset=0, limit=20)
    return render(
        request,
        "global/node.html",
        language=language,
        caller=caller,
        standing=standing,
        hours=_hours,
        anomalies=monitoring.recent_anomalies(session=session, node_id=node_id, limit=100),
        alarms=monitoring.recent_alarms(session=session, node_id=node_id, limit=20),
        reports=reports,
        **console_context(language, None, None),
    )


# Join requests and members ---------------------------------------------------------------------


def _members_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    refusal: NodeError | None = None,
    status_code: int = 200,
) -> Response:
    requests = service.list_join_requests(session=session, state=None)
    members = session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all()
    return render(
        request,
        "global/members.html",
        language=language,
        caller=caller,
        status_code=status_code,
        pending=[row for row in requests if row.state is JoinRequestState.PENDING],
        decided=[row for row in requests if row.state is not JoinRequestState.PENDING],
        members=members,
        refusal=refusal,
        **console_context(language, done, errors),
    )


@router.get("/{lang:lang}/global/members")
def members_page(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    return _members_page(request, language=language, caller=caller, session=session, done=done)


@router.post("/{lang:lang}/global/join-requests/{request_id}/approve")
async def approve_join_request(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    state: StateDep,
    request_id: RequestId,
) -> Response:
    await check_csrf(request, caller)
    try:
        await run_in_threadpool(
            service.approve_join_request,
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            request_id=request_id,
            actor=caller.actor,
        )
    except NodeError as refused:
        refusal = refused
        return await run_in_threadpool(
            lambda: _members_page(
                request,
                language=language,
                caller=caller,
                session=session,
                refusal=refusal,
                status_code=refusal.status_code,
            )
        )
    return RedirectResponse(f"{console_path(language, 'members')}?done=approved", 303)


@router.post("/{lang:lang}/global/join-requests/{request_id}/refuse")
async def refuse_join_request(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    request_id: RequestId,
) -> Response:
    await check_csrf(request, caller)
    field = f"refuse-{request_id}-reason"
    reason, error = _reason(await request.form(), field)
    refusal: NodeError | None = None
    if error is None:
        try:
            await run_in_threadpool(
                service.refuse_join_request,
                session=session,
                request_id=request_id,
                reason=reason,
                actor=caller.actor,
            )
        except NodeError as refused:
            refusal = refused
    if error is not None or refusal is not None:
        return await run_in_threadpool(
            lambda: _members_page(
                request,
                language=language,
                caller=caller,
                session=session,
                errors=[error] if error else None,
                refusal=refusal,
                status_code=refusal.status_code if refusal else 400,
            )
        )
    return RedirectResponse(f"{console_path(language, 'members')}?done=refused", 303)


def _member_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    node_id: str,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    refusal: NodeError | None = None,
    status_code: int = 200,
) -> Response:
    member = service.get_member_or_raise(session=session, node_id=node_id)
    return render(
        request,
        "global/member.html",
        language=language,
        caller=caller,
        status_code=status_code,
        member=member,
        keys=service.member_keys(session=session, node_id=node_id),
        history=service.member_history(session=session, node_id=node_id),
        node_verbs=[verb for verb, status in NODE_VERBS.items() if status is not member.status],
        refusal=refusal,
        **console_context(language, done, errors),
    )


@router.get("/{lang:lang}/global/members/{node_id}")
def member_page(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: ReadSessionDep,
    node_id: NodeId,
    done: str | None = None,
) -> Response:
    return _member_page(
        request, language=language, caller=caller, session=session, node_id=node_id, done=done
    )


async def _member_action(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    node_id: str,
    field: str,
    verb: str,
    act: Callable[[str], object],
) -> Response:
    reason, error = _reason(await request.form(), field)
    refusal: NodeError | None = None
    if error is None:
        try:
            await run_in_threadpool(act, reason)
        except NodeError as refused:
            refusal = refused
    if error is not None or refusal is not None:
        return await run_in_threadpool(
            lambda: _member_page(
                request,
                language=language,
                caller=caller,
                session=session,
                node_id=node_id,
                errors=[error] if error else None,
                refusal=refusal,
                status_code=refusal.status_code if refusal else 400,
            )
        )
    return RedirectResponse(f"{console_path(language, 'members', node_id)}?done={verb}", 303)


@router.post("/{lang:lang}/global/members/{node_id}/{verb}")
async def change_member(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    state: StateDep,
    node_id: NodeId,
    verb: str,
) -> Response:
    await check_csrf(request, caller)
    status = NODE_VERBS.get(verb)
    if status is None:
        return RedirectResponse(console_path(language, "members", node_id), 303)
    return await _member_action(
        request,
        language=language,
        caller=caller,
        session=session,
        node_id=node_id,
        field=f"{verb}-reason",
        verb=verb,
        act=lambda reason: service.set_node_status(
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            node_id=node_id,
            status=status,
            reason=reason,
            actor=caller.actor,
        ),
    )


@router.post("/{lang:lang}/global/members/{node_id}/keys/{kid}/{verb}")
async def change_key(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    session: SessionDep,
    state: StateDep,
    node_id: NodeId,
    kid: Kid,
    verb: str,
) -> Response:
    await check_csrf(request, caller)
    status = KEY_VERBS.get(verb)
    if status is None:
        return RedirectResponse(console_path(language, "members", node_id), 303)
    return await _member_action(
        request,
        language=language,
        caller=caller,
        session=session,
        node_id=node_id,
        field=f"{verb}-{kid}-reason",
        verb=verb,
        act=lambda reason: service.set_key_status(
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            node_id=node_id,
            kid=kid,
            status=status,
            reason=reason,
            actor=caller.actor,
        ),
    )


# Trust list ------------------------------------------------------------------------------------


@router.get("/{lang:lang}/global/trust-list")
def trust_list_page(
    request: Request, language: LanguageDep, caller: Secretariat, session: ReadSessionDep
) -> Response:
    published = session.exec(
        select(PublishedTrustList)
        .order_by(col(PublishedTrustList.sequence).desc())
        .limit(TRUST_LISTS_SHOWN)
    ).all()
    members = session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all()
    changes = sorted(
        (
            (change, member)
            for member in members
            for change in service.member_history(session=session, node_id=member.node_id)
        ),
        key=lambda pair: pair[0].at,
        reverse=True,
    )
    return render(
        request,
        "global/trust_list.html",
        language=language,
        caller=caller,
        published=published,
        changes=changes,
        **console_context(language, None, None),
    )


# Endorsement requests --------------------------------------------------------------------------


@router.get("/{lang:lang}/global/endorsements")
def endorsements_page(
    request: Request, language: LanguageDep, caller: Committee, session: ReadSessionDep
) -> Response:
    rows = endorsements.list_endorsement_requests(session=session, state=None)
    pending = [row for row in rows if row.state is EndorsementState.PENDING]
    return render(
        request,
        "global/endorsements.html",
        language=language,
        caller=caller,
        pending=pending,
        waiting_items=pending_endorsement_items(
            session=session, request_ids=[row.id for row in pending if row.id is not None]
        ),
        decided=[row for row in rows if row.state is not EndorsementState.PENDING],
        **console_context(language, None, None),
    )


# Technical assistance across the federation ------------------------------------------------------


@router.get("/{lang:lang}/global/assistance")
def assistance_page(
    request: Request, language: LanguageDep, caller: Committee, session: ReadSessionDep
) -> Response:
    """Requests for technical assistance by gap across the federation (report §37), to plan
    capacity building: baseline criteria across countries, national ones within theirs."""
    gaps = federation_gaps(session=session)
    return render(
        request,
        "global/assistance.html",
        language=language,
        caller=caller,
        baseline=[gap for gap in gaps if gap.country is None],
        national=[gap for gap in gaps if gap.country is not None],
        country_names={
            gap.country: country_name(language, gap.country) for gap in gaps if gap.country
        },
        requests=sum(gap.requests for gap in gaps),
        **console_context(language, None, None),
    )
