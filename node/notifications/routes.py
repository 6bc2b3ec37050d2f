"""The signed-in person's notice preferences, in the JSON API (`/me/notices`, beside `/me`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sdgcities.node.accounts import service as accounts
from sdgcities.node.accounts.routes import SignedIn
from sdgcities.node.actor import Actor
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from . import service
from .models import NoticeKind

router = APIRouter(tags=["accounts"])

NoticeLanguage = Literal["ar", "zh", "en", "fr", "ru", "es"]


class NoticePreferences(BaseModel):
    """Which notices the person gets by mail, and in which language."""

    model_config = ConfigDict(extra="forbid")

    language: NoticeLanguage | None = Field(
        default=None,
        description="The notices' language; null: the first of the account's languages the "
        "site speaks, else English",
    )
    muted: list[NoticeKind] = Field(
        default_factory=list, max_length=len(NoticeKind), description="The kinds turned off"
    )


class NoticePreferencesPublic(NoticePreferences):
    effective_language: NoticeLanguage = Field(description="The language notices are sent in")
    kinds: list[NoticeKind] = Field(description="The kinds this node sends to your role")


def _public(
    preferences: NoticePreferences, effective: str, actor: Actor, state: NodeState
) -> NoticePreferencesPublic:
    return NoticePreferencesPublic(
        language=preferences.language,
        muted=sorted(set(preferences.muted)),
        effective_language=effective,
        kinds=list(service.kinds_for(actor.role, is_global=state.settings.is_global)),
    )


@router.get("/me/notices")
def get_notice_preferences(
    session: SessionDep, state: StateDep, actor: SignedIn
) -> NoticePreferencesPublic:
    """Your notice preferences (every kind on until you turn some off)."""
    assert actor.user_id is not None
    user = accounts.get_user_or_raise(session=session, user_id=actor.user_id)
    preference = service.preference_of(session=session, user_id=actor.user_id)
    chosen = NoticePreferences(
        language=preference.language if preference is not None else None,
        muted=sorted(service.muted_kinds(preference)),
    )
    return _public(chosen, service.notice_language(user, preference).code, actor, state)


@router.put("/me/notices")
def put_notice_preferences(
    session: SessionDep, state: StateDep, actor: SignedIn, body: NoticePreferences
) -> NoticePreferencesPublic:
    """Choose your notices' language and the kinds you do not want."""
    assert actor.user_id is not None
    user = accounts.get_user_or_raise(session=session, user_id=actor.user_id)
    preference = service.save_preferences(
        session=session, user=user, language=body.language, muted=body.muted, now=utcnow()
    )
    return _public(body, service.notice_language(user, preference).code, actor, state)
