"""The global node's spot-check rounds: drawing a round, its checks, each check's dossier and
the re-review's outcome (`spotchecks.rounds`, as `/federation/spot-checks` calls it).

Mounted with the rest of the global console, on the global node only. The secretariat and
administrators draw rounds; reviewers and the secretariat fetch dossiers and record outcomes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from sdgcities.federation.spotcheck import Outcome
from sdgcities.node.accounts.models import Role
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.spotchecks import rounds
from sdgcities.node.spotchecks.schemas import OutcomeCreate, RoundCreate

from .global_console import FieldError, console_context, console_path
from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access

router = APIRouter(include_in_schema=False)
Drawers = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Reviewers = Annotated[WebCaller, page_access(Role.REVIEWER, Role.SECRETARIAT)]
Readers = Annotated[WebCaller, page_access(Role.REVIEWER, Role.SECRETARIAT, Role.ADMINISTRATOR)]
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CheckId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ROUNDS_SHOWN: Final = 50
OUTCOME_NAMES: Final = {
    Outcome.CONFIRMED: N_("Confirmed: the award stands"),
    Outcome.NOT_CONFIRMED: N_("Not confirmed: the award does not stand"),
}
DRAW_FIELDS: Final = {"rate": "draw-rate", "window_from": "draw-from", "window_until": "draw-until"}


def _rounds_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    errors: list[FieldError] | None = None,
    refusal: NodeError | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows, count = rounds.list_rounds(session=session, offset=0, limit=ROUNDS_SHOWN)
    return render(
        request,
        "global/spot_checks.html",
        language=language,
        caller=caller,
        status_code=status_code,
        rounds=rows,
        count=count,
        may_draw=caller.actor.role in (Role.SECRETARIAT, Role.ADMINISTRATOR),
        refusal=refusal,
        values=values or {},
        **console_context(language, None, errors),
    )


@router.get("/{lang:lang}/global/spot-checks")
def rounds_page(
    request: Request, language: LanguageDep, caller: Readers, session: ReadSessionDep
) -> Response:
    return _rounds_page(request, language=language, caller=caller, session=session)


def _day(raw: str, *, end: bool) -> datetime | None:
    """A date from the form as a moment in UTC: its start, or (`end`) its last second."""
    if not raw:
        return None
    day = date.fromisoformat(raw)
    return datetime.combine(day, time(23, 59, 59) if end else time(0), tzinfo=UTC)


def _read_draw(form: Any) -> tuple[RoundCreate | None, list[FieldError], dict[str, str]]:
    values = {name: str(form.get(name) or "").strip() for name in DRAW_FIELDS}
    errors: list[FieldError] = []
    rate: float | None = None
    if values["rate"]:
        try:
            rate = float(values["rate"].replace(",", ".")) / 100
        except ValueError:
            errors.append(FieldError("draw-rate", N_("Give the share as a number from 1 to 100.")))
    moments: dict[str, datetime | None] = {}
    for name, end in (("window_from", False), ("window_until", True)):
        try:
            moments[name] = _day(values[name], end=end)
        except ValueError:
            errors.append(FieldError(DRAW_FIELDS[name], N_("Give a date such as 2026-03-31.")))
    if errors:
        return None, errors, values
    try:
        return RoundCreate(rate=rate, **moments), [], values
    except ValidationError as invalid:
        for problem in invalid.errors():
            field = DRAW_FIELDS.get(str(problem["loc"][0]) if problem["loc"] else "", "draw-rate")
            message = (
                N_("Give the share as a number from 1 to 100.")
                if field == "draw-rate"
                else N_("This date is outside the dates a round may cover.")
            )
            errors.append(FieldError(field, message))
        return None, errors, values


@router.post("/{lang:lang}/global/spot-checks/rounds")
async def draw_round(
    request: Request,
    language: LanguageDep,
    caller: Drawers,
    session: SessionDep,
    state: StateDep,
) -> Response:
    await check_csrf(request, caller)
    body, errors, values = _read_draw(await request.form())
    refusal: NodeError | None = None
    drawn_id = 0
    if body is not None:
        try:
            drawn = await run_in_threadpool(
                rounds.draw_round,
                session=session,
                state=state,
                rate=body.rate,
                window_from=body.window_from,
                window_until=body.window_until,
                actor=caller.actor,
            )
            drawn_id = drawn.id
        except NodeError as refused:
            refusal = refused
    if errors or refusal is not None:
        return await run_in_threadpool(
            lambda: _rounds_page(
                request,
                language=language,
                caller=caller,
                session=session,
                errors=errors,
                refusal=refusal,
                values=values,
                status_code=refusal.status_code if refusal else 400,
            )
        )
    return RedirectResponse(console_path(language, "spot-checks", "rounds", drawn_id), 303)


@router.get("/{lang:lang}/global/spot-checks/rounds/{round_id}")
def round_page(
    request: Request,
    language: LanguageDep,
    caller: Readers,
    session: ReadSessionDep,
    round_id: RoundId,
) -> Response:
    drawn = rounds.get_round_or_raise(session=session, round_id=round_id)
    return render(
        request,
        "global/spot_check_round.html",
        language=language,
        caller=caller,
        drawn=drawn,
        checks=rounds.checks_of(session=session, round_id=round_id),
        **console_context(language, None, None),
    )


def _check_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    check_id: int,
    errors: list[FieldError] | None = None,
    refusal: NodeError | None = None,
    summary: str = "",
    status_code: int = 200,
) -> Response:
    check = rounds.get_check_or_raise(session=session, check_id=check_id)
    return render(
        request,
        "global/spot_check.html",
        language=language,
        caller=caller,
        status_code=status_code,
        check=check,
        outcomes=list(Outcome),
        outcome_names=OUTCOME_NAMES,
        may_review=caller.actor.role in (Role.REVIEWER, Role.SECRETARIAT),
        refusal=refusal,
        summary=summary,
        **console_context(language, None, errors),
    )


@router.get("/{lang:lang}/global/spot-checks/checks/{check_id}")
def check_page(
    request: Request,
    language: LanguageDep,
    caller: Readers,
    session: ReadSessionDep,
    check_id: CheckId,
) -> Response:
    return _check_page(
        request, language=language, caller=caller, session=session, check_id=check_id
    )


@router.post("/{lang:lang}/global/spot-checks/checks/{check_id}/dossier")
async def fetch_dossier(
    request: Request,
    language: LanguageDep,
    caller: Reviewers,
    session: SessionDep,
    state: StateDep,
    check_id: CheckId,
) -> Response:
    await check_csrf(request, caller)
    try:
        await run_in_threadpool(
            rounds.fetch_dossier,
            session=session,
            state=state,
            check_id=check_id,
            actor=caller.actor,
        )
    except NodeError as refused:
        refusal = refused
        return await run_in_threadpool(
            lambda: _check_page(
                request,
                language=language,
                caller=caller,
                session=session,
                check_id=check_id,
                refusal=refusal,
                status_code=refusal.status_code,
            )
        )
    return RedirectResponse(console_path(language, "spot-checks", "checks", check_id), 303)


@router.post("/{lang:lang}/global/spot-checks/checks/{check_id}/outcome")
async def record_outcome(
    request: Request,
    language: LanguageDep,
    caller: Reviewers,
    session: SessionDep,
    state: StateDep,
    check_id: CheckId,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    raw_outcome = form.get("outcome")
    summary = str(form.get("summary") or "").strip()
    errors: list[FieldError] = []
    if raw_outcome not in set(Outcome):
        errors.append(FieldError("outcome-confirmed", N_("Choose confirmed or not confirmed.")))
    if not summary:
        errors.append(FieldError("outcome-summary", N_("Summarise the re-review's finding.")))
    refusal: NodeError | None = None
    if not errors:
        try:
            data = OutcomeCreate(outcome=Outcome(str(raw_outcome)), summary=summary)
            await run_in_threadpool(
                rounds.record_outcome,
                session=session,
                state=state,
                check_id=check_id,
                data=data,
                actor=caller.actor,
            )
        except ValidationError:
            errors.append(FieldError("outcome-summary", N_("The summary is too long.")))
        except NodeError as refused:
            refusal = refused
    if errors or refusal is not None:
        return await run_in_threadpool(
            lambda: _check_page(
                request,
                language=language,
                caller=caller,
                session=session,
                check_id=check_id,
                errors=errors,
                refusal=refusal,
                summary=summary,
                status_code=refusal.status_code if refusal else 400,
            )
        )
    return RedirectResponse(console_path(language, "spot-checks", "checks", check_id), 303)
