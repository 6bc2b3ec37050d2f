"""The account pages' routers, joined into one for `install_site`."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from . import notices, profile, requests, sign_in

SIGN_IN_PATH: Final = sign_in.SIGN_IN_PATH
# Anonymous forms that can make the node send a mail.
MAIL_FORM_PATHS: Final = (sign_in.FORGOT_PASSWORD_PATH, requests.REQUEST_ACCOUNT_PATH)

router = APIRouter(include_in_schema=False)
router.include_router(sign_in.router)
router.include_router(profile.router)
router.include_router(notices.router)
router.include_router(requests.router)


def enrolment_redirect(language_code: str) -> RedirectResponse:
    return RedirectResponse(profile.second_factor_path(language_code), status_code=303)
