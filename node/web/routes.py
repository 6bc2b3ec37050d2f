"""The site's own routes: the language redirect at `/`, the home page, sign-out, assets.

Every page's path begins with its language, matched by the `lang` convertor (only the six
codes), so no page route can shadow an API path.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Final

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from sdgcities.node.accounts.models import Role
from sdgcities.node.deps import SessionDep, StateDep

from .i18n import BY_CODE, Language, preferred_language
from .pages import STATIC_PATH, render
from .session import WebCaller, check_csrf, end_session, page_access


async def page_language(lang: str) -> Language:
    return BY_CODE[lang]


LanguageDep = Annotated[Language, Depends(page_language)]
Visitor = Annotated[WebCaller, page_access(Role.PUBLIC)]
PEOPLE: Final = tuple(role for role in Role if role is not Role.PUBLIC)
SignedIn = Annotated[WebCaller, page_access(*PEOPLE)]
# Signing out is allowed before a required second factor is enrolled.
SigningOut = Annotated[WebCaller, page_access(*PEOPLE, before_enrolment=True)]

router = APIRouter(include_in_schema=False)
_PACKAGE: Final = __name__.rpartition(".")[0]


@router.get("/", dependencies=[page_access(Role.PUBLIC)])
async def choose_language(request: Request) -> RedirectResponse:
    language = preferred_language(request.headers.get("accept-language"))
    return RedirectResponse(
        f"/{language.code}/", status_code=303, headers={"Vary": "Accept-Language"}
    )


@router.get("/{lang:lang}/")
def home(request: Request, language: LanguageDep, caller: Visitor) -> Response:
    return render(request, "home.html", language=language, caller=caller)


@router.get("/{lang:lang}")
async def home_without_slash(lang: str, _caller: Visitor) -> RedirectResponse:
    return RedirectResponse(f"/{lang}/", status_code=308)


@router.post("/{lang:lang}/sign-out")
async def sign_out(
    request: Request,
    language: LanguageDep,
    caller: SigningOut,
    state: StateDep,
    session: SessionDep,
) -> RedirectResponse:
    await check_csrf(request, caller)
    response = RedirectResponse(f"/{language.code}/", status_code=303)
    end_session(session=session, caller=caller, response=response, settings=state.settings)
    return response


PAGE_PATH_PREFIX: Final = "/{lang:lang}"


def is_page_route(route: APIRoute) -> bool:
    """A web page (guarded by `page_access`), as opposed to an API route."""
    return route.path == "/" or route.path.startswith(PAGE_PATH_PREFIX)


def install_site(app: FastAPI) -> None:
    # Imported here: the pages' modules import this one's dependencies (`LanguageDep`).
    from . import (
        assistance,
        committee,
        communities,
        criteria,
        fees,
        frameworks,
        global_console,
        global_spotchecks,
        public,
        review,
        secretariat,
        verify,
        watches,
    )
    from .account.routes import router as account_router
    from .city.routes import router as city_router

    for pages in (
        router,
        account_router,
        verify.router,
        criteria.router,
        public.router,
        city_router,
        review.router,
        committee.router,
        frameworks.router,
        secretariat.router,
        fees.router,
        watches.router,
        assistance.router,
        communities.router,
    ):
        app.include_router(pages)
    if app.state.node.settings.is_global:
        app.include_router(global_console.router)
        app.include_router(global_spotchecks.router)
    static = resources.files(_PACKAGE) / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(static)), name="static")
