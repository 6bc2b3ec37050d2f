"""The person's notice preferences: the notices' language and which kinds they get."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from sdgcities.node.config import Settings
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.notifications import service as notices
from sdgcities.node.notifications.models import NoticeKind
from sdgcities.node.timeutil import utcnow

from ..i18n import BY_CODE, LANGUAGES, N_
from ..pages import render
from ..routes import LanguageDep, SignedIn
from ..session import WebCaller, check_csrf
from .forms import form_text
from .profile import signed_in_user

KIND_LABELS: Final = {
    NoticeKind.CLARIFICATION_ASKED: N_("A reviewer asks my city for a clarification"),
    NoticeKind.CLARIFICATION_ANSWERED: N_("A city answers a clarification on a review of mine"),
    NoticeKind.REVIEW_ASSIGNED: N_("I am assigned a review"),
    NoticeKind.MEETING_SCHEDULED: N_("A committee meeting is scheduled (with an invitation)"),
    NoticeKind.DECISION_TAKEN: N_("The committee takes a decision"),
    NoticeKind.CERTIFICATE_CHANGED: N_(
        "My city's certificate is issued, suspended, reinstated or revoked"
    ),
    NoticeKind.CERTIFICATE_EXPIRING: N_("My city's certificate expires in 180, 90 or 30 days"),
    NoticeKind.NODE_SILENT: N_("A member node falls silent"),
    NoticeKind.NODE_ALARM: N_("An alarm is raised about a member node"),
    NoticeKind.COMMUNITY_FORMED: N_("A learning community forms around my city's gaps"),
    NoticeKind.COMMUNITY_EVENT: N_(
        "A learning community of my city schedules an event (with an invitation)"
    ),
}
UNKNOWN_LANGUAGE = N_("Choose one of the languages in the list")
UNKNOWN_KIND = N_("Choose notices from the list")
MAX_KINDS_SENT: Final = 4 * len(NoticeKind)

router = APIRouter(include_in_schema=False)


def notices_path(language_code: str) -> str:
    return f"/{language_code}/account/notices"


def _page(
    request: Request,
    *,
    language: LanguageDep,
    caller: WebCaller,
    session: Session,
    chosen_language: str,
    wanted: set[str],
    offered: tuple[NoticeKind, ...],
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    user = signed_in_user(session, caller)
    preference = notices.preference_of(session=session, user_id=caller.actor.user_id or 0)
    return render(
        request,
        "account/notices.html",
        language=language,
        caller=caller,
        status_code=status_code,
        languages=LANGUAGES,
        chosen_language=chosen_language,
        account_language=notices.notice_language(user, None),
        effective_language=notices.notice_language(user, preference),
        kinds={kind: KIND_LABELS[kind] for kind in offered},
        wanted=wanted,
        errors=errors or {},
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/{lang:lang}/account/notices")
def notices_page(
    request: Request, language: LanguageDep, caller: SignedIn, session: SessionDep, state: StateDep
) -> Response:
    assert caller.actor.user_id is not None
    preference = notices.preference_of(session=session, user_id=caller.actor.user_id)
    muted = notices.muted_kinds(preference)
    return _page(
        request,
        language=language,
        caller=caller,
        session=session,
        chosen_language=(preference.language or "") if preference is not None else "",
        wanted={kind.value for kind in NoticeKind if kind not in muted},
        offered=_offered(caller, state.settings),
    )


def _offered(caller: WebCaller, settings: Settings) -> tuple[NoticeKind, ...]:
    return notices.kinds_for(caller.actor.role, is_global=settings.is_global)


@router.post("/{lang:lang}/account/notices")
async def save_notices(
    request: Request, language: LanguageDep, caller: SignedIn, session: SessionDep, state: StateDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    chosen_language = form_text(form, "language")
    sent = [value for value in form.getlist("notice")[:MAX_KINDS_SENT] if isinstance(value, str)]
    errors: dict[str, str] = {}
    if chosen_language and chosen_language not in BY_CODE:
        errors["language"] = UNKNOWN_LANGUAGE
    offered = _offered(caller, state.settings)
    known = {kind.value for kind in offered}
    if any(value not in known for value in sent) or len(form.getlist("notice")) > MAX_KINDS_SENT:
        errors["notices"] = UNKNOWN_KIND
    wanted = {value for value in sent if value in known}
    if errors:
        return _page(
            request,
            language=language,
            caller=caller,
            session=session,
            chosen_language=chosen_language if chosen_language in BY_CODE else "",
            wanted=wanted,
            offered=offered,
            status_code=400,
            errors=errors,
        )
    notices.save_preferences(
        session=session,
        user=signed_in_user(session, caller),
        language=chosen_language or None,
        muted=[kind for kind in offered if kind.value not in wanted],
        now=utcnow(),
    )
    return RedirectResponse(f"{notices_path(language.code)}?saved=1", status_code=303)
