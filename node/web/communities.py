"""Learning communities' pages (report §18, §30c): the secretariat forms communities from the
node's proposals, schedules their events and takes part in their discussion; a city joins or
declines the communities it is invited to, and once joined meets the other members there.

§30(c): "Diagnostic processes linked to certification stages can enable cities with common
challenges and priorities to be grouped as 'learning communities' where they can learn from
each other and benefit from joint training support programmes."

The pages call `node.communities.service` and show `community_view`, the API's answer, so a
city sees here exactly what the API shows it: another city's community is 404, a city that has
not joined sees no other city. A form with a missing or oversized field is the same page again
(400) with the problem beside the field and nothing typed lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from sdgcities.node.accounts.models import Role
from sdgcities.node.communities import across, federation, service
from sdgcities.node.communities.models import Community, Consent, EventKind
from sdgcities.node.communities.schemas import (
    CommunityCreate,
    ConsentCreate,
    EventCreate,
    PostCreate,
    SharingUpdate,
)
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import InvalidRequest, NotFound
from sdgcities.node.schemas import Id
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .assistance import field_errors
from .city.pages import City_
from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .secretariat import TOOL_KIND_NAMES
from .session import WebCaller, check_csrf, page_access

router = APIRouter(include_in_schema=False)

Staff = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Member = Annotated[
    WebCaller, page_access(Role.CITY_APPLICANT, Role.SECRETARIAT, Role.ADMINISTRATOR)
]
# A proposal's form sends its gaps and cities back; far more than any proposal has.
MAX_FORM_ITEMS: Final = 100

CONSENT_NAMES: Final = {
    Consent.INVITED: N_("Invited: no answer yet"),
    Consent.JOINED: N_("Joined: a member"),
    Consent.DECLINED: N_("Declined: not a member"),
}
EVENT_KINDS: Final = {
    EventKind.WEBINAR: N_("Webinar"),
    EventKind.PEER_EXCHANGE: N_("Peer exchange"),
}
DONE_NOTICES: Final = {
    "formed": N_("The community is formed, and its cities are invited."),
    "joined": N_("Your city joined the community."),
    "declined": N_("Your city declined the community."),
    "scheduled": N_("The event is scheduled, and the members are invited."),
    "posted": N_("Your message is posted."),
    "shared": N_("Your city's gaps may now be used for communities across countries."),
    "unshared": N_("Your city's gaps are no longer used for communities across countries."),
}
WRITE_TITLE = N_("Write the title (at most 200 characters)")
WRITE_DESCRIPTION = N_("Shorten the description (at most 2,000 characters)")
CHOOSE_EVENT_KIND = N_("Choose the kind of event")
WRITE_EVENT_TITLE = N_("Write the event's title (at most 200 characters)")
GIVE_DAY = N_("Give the day as a date from today on")
GIVE_TIME = N_("Give the time as hours and minutes")
GIVE_MINUTES = N_("Give the length in minutes, from 15 to 480")
WRITE_POST = N_("Write your message (at most 2,000 characters)")


def _names() -> dict[str, Any]:
    return {
        "consents": CONSENT_NAMES,
        "kinds": EVENT_KINDS,
        "tool_kinds": {kind.value: label for kind, label in TOOL_KIND_NAMES.items()},
    }


def _area(caller: WebCaller) -> str:
    return "city" if caller.actor.role is Role.CITY_APPLICANT else "secretariat"


def _base(language: Language, caller: WebCaller) -> str:
    return f"/{language.code}/{_area(caller)}/communities"


# The secretariat's list: proposals and communities -----------------------------------------------


def _staff_page(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    proposal: str | None = None,
    done: str | None = None,
) -> Response:
    found, count = service.list_communities(
        session=session, actor=caller.actor, offset=0, limit=500
    )
    settings = request.app.state.node.settings
    return render(
        request,
        "communities/staff_list.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language, caller),
        proposals=service.proposals(session=session),
        across_countries=federation.proposals(session=session, settings=settings, now=utcnow())
        if settings.is_global
        else None,
        communities=found,
        count=count,
        proposal=proposal,
        values=values or {},
        errors=errors or {},
        done_notice=DONE_NOTICES.get(done or ""),
        names=_names(),
    )


@router.get("/{lang:lang}/secretariat/communities")
def staff_communities(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    """The communities the node proposes from the stage reports' gaps, and those formed."""
    return _staff_page(request, session=session, language=language, caller=caller, done=done)


def _community_form(form: FormData) -> tuple[dict[str, str], CommunityCreate | dict[str, str]]:
    """The proposal's form as the API's body, or the errors by field (the form's values kept)."""
    values = {name: str(form.get(name, "")) for name in ("title", "description", "proposal")}
    try:
        data = CommunityCreate.model_validate(
            {
                "title": values["title"],
                "description": values["description"],
                "gaps": [str(v) for v in form.getlist("gap")][:MAX_FORM_ITEMS],
                "cities": [str(v) for v in form.getlist("city")][:MAX_FORM_ITEMS],
            }
        )
    except ValidationError as invalid:
        errors = field_errors(invalid, {"title": WRITE_TITLE, "description": WRITE_DESCRIPTION})
        if not errors:  # the proposal's own fields: a forged form
            raise InvalidRequest(
                "the form names no gaps or fewer than two cities: form a community from "
                "one of the proposals"
            ) from invalid
        return values, errors
    return values, data


async def _form_from_proposal(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    form_it: Callable[[CommunityCreate], Community],
) -> Response:
    await check_csrf(request, caller)
    values, data = _community_form(await request.form())
    if isinstance(data, dict):
        return _staff_page(
            request,
            session=session,
            language=language,
            caller=caller,
            values=values,
            errors=data,
            proposal=values["proposal"],
        )
    # Forming across countries sends the member nodes their invitations: off the event loop.
    community = await run_in_threadpool(form_it, data)
    return RedirectResponse(
        f"{_base(language, caller)}/{community.id}?done=formed", status_code=303
    )


@router.post("/{lang:lang}/secretariat/communities")
async def form_community(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Forms a community from one proposal (its gaps and cities), as `POST /communities`."""
    return await _form_from_proposal(
        request,
        language=language,
        caller=caller,
        session=session,
        form_it=lambda data: service.form(
            session=session, settings=state.settings, actor=caller.actor, data=data
        ),
    )


@router.post("/{lang:lang}/secretariat/communities/federation")
async def form_community_across(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """On the global node: forms a community across countries from one of its proposals, as
    `POST /communities/federation`; each city's node is sent its signed invitation."""
    return await _form_from_proposal(
        request,
        language=language,
        caller=caller,
        session=session,
        form_it=lambda data: across.form_across(
            session=session, state=state, actor=caller.actor, data=data
        ),
    )


# A city's list -----------------------------------------------------------------------------------


@router.get("/{lang:lang}/city/communities")
def city_communities(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    """The communities the city is invited to, with its answer."""
    found, count = service.list_communities(
        session=session, actor=caller.actor, offset=0, limit=500
    )
    assert caller.actor.city_locode is not None
    sharing = federation.sharing_of(session=session, locode=caller.actor.city_locode)
    return render(
        request,
        "communities/city_list.html",
        language=language,
        caller=caller,
        base=_base(language, caller),
        communities=found,
        count=count,
        sharing=sharing is not None and sharing.share,
        done_notice=DONE_NOTICES.get(done or ""),
        names=_names(),
    )


@router.post("/{lang:lang}/city/communities/sharing")
async def sharing(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Gives or withdraws the city's consent to share its gaps across countries (the button
    pressed), as `PUT /communities/sharing`."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        data = SharingUpdate.model_validate({"share": str(form.get("share", ""))})
    except ValidationError as invalid:
        raise InvalidRequest("answer with one of the buttons: share or stop sharing") from invalid
    federation.set_sharing(session=session, settings=state.settings, actor=caller.actor, data=data)
    done = "shared" if data.share else "unshared"
    return RedirectResponse(f"{_base(language, caller)}?done={done}", status_code=303)


# One community ------------------------------------------------------------------------------------


def _community_page(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    community_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
) -> Response:
    community = service.get_community_or_raise(
        session=session, actor=caller.actor, community_id=community_id
    )
    staff = caller.actor.role is not Role.CITY_APPLICANT
    return render(
        request,
        "communities/community.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language, caller),
        staff=staff,
        # A member node's copy of the global node's community: the global secretariat schedules.
        can_schedule=staff and community.global_id is None,
        # ... and its cities' people post (a member node's secretariat reads the discussion).
        can_post=not (staff and community.global_id is not None),
        deliveries=across.deliveries(session=session, community=community) if staff else [],
        revision=community.revision,
        community=service.community_view(session=session, actor=caller.actor, community=community),
        values=values or {},
        errors=errors or {},
        done_notice=DONE_NOTICES.get(done or ""),
        names=_names(),
    )


def _show(
    request: Request,
    language: Language,
    caller: WebCaller,
    session: Session,
    community_id: int,
    done: str | None,
) -> Response:
    return _community_page(
        request,
        session=session,
        language=language,
        caller=caller,
        community_id=community_id,
        done=done,
    )


@router.get("/{lang:lang}/secretariat/communities/{community_id}")
def staff_community(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    community_id: Id,
    done: str | None = None,
) -> Response:
    """Every invitation and its answer, the gaps' tools, the events and the discussion."""
    return _show(request, language, caller, session, community_id, done)


@router.get("/{lang:lang}/city/communities/{community_id}")
def city_community(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    community_id: Id,
    done: str | None = None,
) -> Response:
    """The city's answer, the gaps' tools; once joined, the members, events and discussion."""
    return _show(request, language, caller, session, community_id, done)


@router.post("/{lang:lang}/city/communities/{community_id}/consent")
async def consent(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    state: StateDep,
    community_id: Id,
) -> Response:
    """Joins or declines (the button pressed), as `POST /communities/{id}/consent`."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        data = ConsentCreate.model_validate({"answer": str(form.get("answer", ""))})
    except ValidationError as invalid:
        raise InvalidRequest("answer with one of the buttons: join or decline") from invalid
    community = service.get_community_or_raise(
        session=session, actor=caller.actor, community_id=community_id, for_update=True
    )
    service.answer(session=session, state=state, actor=caller.actor, community=community, data=data)
    done = "joined" if data.answer == "join" else "declined"
    return RedirectResponse(
        f"{_base(language, caller)}/{community_id}?done={done}", status_code=303
    )


def _event(values: dict[str, str]) -> EventCreate | dict[str, str]:
    """The form's day and time (UTC) as the API's body, or the errors by field."""
    errors: dict[str, str] = {}
    starts_at: datetime | None = None
    try:
        starts_at = datetime.combine(
            date.fromisoformat(values["day"]), time.fromisoformat(values["time"]), UTC
        )
    except ValueError:
        try:
            date.fromisoformat(values["day"])
        except ValueError:
            errors["day"] = GIVE_DAY
        else:
            errors["time"] = GIVE_TIME
    try:
        body: dict[str, object] = {
            "kind": values["kind"] or None,
            "title": values["title"],
            "starts_at": starts_at,
        }
        if values["minutes"]:  # else the API's default length
            body["minutes"] = values["minutes"]
        return EventCreate.model_validate(body)
    except ValidationError as invalid:
        messages = {
            "kind": CHOOSE_EVENT_KIND,
            "title": WRITE_EVENT_TITLE,
            "starts_at": GIVE_DAY,
            "minutes": GIVE_MINUTES,
        }
        found = field_errors(invalid, messages)
        if "starts_at" in found:
            found.pop("starts_at")
            if not errors:
                errors["day"] = GIVE_DAY
        return {**found, **errors}


@router.post("/{lang:lang}/secretariat/communities/{community_id}/events")
async def schedule_event(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
    community_id: Id,
) -> Response:
    """Schedules a webinar or peer exchange; the joined cities' people get the invitation."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {
        name: str(form.get(name, "")).strip()
        for name in ("kind", "title", "day", "time", "minutes")
    }
    community = service.get_community_or_raise(
        session=session, actor=caller.actor, community_id=community_id, for_update=True
    )
    data = _event(values)
    if isinstance(data, dict):
        return _community_page(
            request,
            session=session,
            language=language,
            caller=caller,
            community_id=community_id,
            values=values,
            errors=data,
        )
    service.schedule_event(
        session=session, settings=state.settings, actor=caller.actor, community=community, data=data
    )
    # Sends the member nodes the new revision, for a community across countries.
    await run_in_threadpool(across.changed, session=session, state=state, community=community)
    return RedirectResponse(
        f"{_base(language, caller)}/{community_id}?done=scheduled", status_code=303
    )


@router.post("/{lang:lang}/{area}/communities/{community_id}/posts")
async def add_post(
    request: Request,
    language: LanguageDep,
    caller: Member,
    session: SessionDep,
    state: StateDep,
    community_id: Id,
    area: Annotated[str, Path(pattern="^(city|secretariat)$")],
) -> Response:
    """A message in the discussion, by a city that joined or by the secretariat."""
    await check_csrf(request, caller)
    if area != _area(caller):
        raise NotFound(f"no page /{area}/communities for a {caller.actor.role.value}")
    form = await request.form()
    values = {"text": str(form.get("text", ""))}
    community = service.get_community_or_raise(
        session=session, actor=caller.actor, community_id=community_id, for_update=True
    )
    try:
        data = PostCreate.model_validate(values)
    except ValidationError:
        return _community_page(
            request,
            session=session,
            language=language,
            caller=caller,
            community_id=community_id,
            values=values,
            errors={"text": WRITE_POST},
        )
    # Across countries the post travels to the global node, or on from it: off the event loop.
    await run_in_threadpool(
        _post_and_send, session=session, state=state, caller=caller, community=community, data=data
    )
    return RedirectResponse(
        f"{_base(language, caller)}/{community_id}?done=posted#discussion", status_code=303
    )


def _post_and_send(
    *, session: Session, state: NodeState, caller: WebCaller, community: Community, data: PostCreate
) -> None:
    service.post(session=session, state=state, actor=caller.actor, community=community, data=data)
    across.changed(session=session, state=state, community=community)
