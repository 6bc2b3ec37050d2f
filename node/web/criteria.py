"""The criteria page: the framework this node certifies against, in the reader's language.

`/{lang}/criteria` shows the version in use (a national adaptation before the baseline) and
lists the others in use; `/{lang}/criteria/{id}` shows any published version. Translations are
chosen by `frameworks.translations.in_language`; the page says which texts are unofficial
translations of the report and which are left in the framework's own language.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import PUBLIC
from sdgcities.node.db import SessionOpener
from sdgcities.node.deps import ReadSessionOpenerDep
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.frameworks.translations import ShownFramework, in_language

from .i18n import BY_CODE, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, page_access
from .terms import LEVEL_NAMES

router = APIRouter(include_in_schema=False)
Visitor = Annotated[WebCaller, page_access(Role.PUBLIC)]
TEMPLATE: Final = "criteria/criteria.html"


def _load(
    open_session: SessionOpener, version_id: int | None, language: str
) -> tuple[FrameworkVersion, ShownFramework, list[FrameworkVersion]]:
    with open_session() as session:
        in_use = frameworks.versions_in_use(session=session)
        shown = _chosen(session, version_id, in_use)
        document = frameworks.document_of(shown)
    return shown, in_language(document, language=language), in_use


def _chosen(
    session: Session, version_id: int | None, in_use: list[FrameworkVersion]
) -> FrameworkVersion:
    if version_id is None and in_use:
        return in_use[0]
    # Drafts and unknown ids answer 404, as the API does to the public.
    return frameworks.get_version_or_raise(
        session=session, version_id=version_id or 0, actor=PUBLIC
    )


async def _page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    open_session: SessionOpener,
    version_id: int | None,
) -> Response:
    version, framework, in_use = await run_in_threadpool(
        _load, open_session, version_id, language.code
    )
    own = BY_CODE.get(framework.own_language)
    return render(
        request,
        TEMPLATE,
        language=language,
        caller=caller,
        version=version,
        framework=framework,
        others=[other for other in in_use if other.id != version.id],
        in_use=any(other.id == version.id for other in in_use),
        own_language_name=own.name if own else framework.own_language,
        level_names=LEVEL_NAMES,
    )


@router.get("/{lang:lang}/criteria")
async def criteria_in_use(
    request: Request, language: LanguageDep, caller: Visitor, open_session: ReadSessionOpenerDep
) -> Response:
    return await _page(
        request, language=language, caller=caller, open_session=open_session, version_id=None
    )


@router.get("/{lang:lang}/criteria/{version_id}")
async def criteria_version(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    open_session: ReadSessionOpenerDep,
    version_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    return await _page(
        request, language=language, caller=caller, open_session=open_session, version_id=version_id
    )
