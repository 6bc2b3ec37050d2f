"""Helpers for the account pages' tests: a password for an account, a second factor, a form post."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from sdgcities.node.accounts.models import User
from sdgcities.node.accounts.passwords import hash_password
from sdgcities.node.timeutil import utcnow

from ...conftest import TEST_PASSWORD_HASH_COST
from .conftest import form_token

PASSWORD = "correct horse battery staple"
_LINK = re.compile(r"/(\w\w)/set-password/([A-Za-z0-9_-]+)")


def give_password(session: Session, user_id: int, password: str = PASSWORD) -> User:
    user = session.get(User, user_id)
    assert user is not None
    user.password_hash = hash_password(password, TEST_PASSWORD_HASH_COST)
    session.add(user)
    session.commit()
    return user


def give_second_factor(session: Session, user_id: int) -> pyotp.TOTP:
    user = session.get(User, user_id)
    assert user is not None
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = utcnow()
    session.add(user)
    session.commit()
    return pyotp.TOTP(user.totp_secret)


def wrong_code(totp: pyotp.TOTP) -> str:
    """A code that is none of the three a check accepts now."""
    now = utcnow()
    valid = {totp.at(now + timedelta(seconds=step * 30)) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def post_form(
    client: TestClient, path: str, data: dict[str, str], *, page: str | None = None
) -> Response:
    """Posts `data` with the anti-forgery token of `page` (by default the form's own page)."""
    html = client.get(page or path).text
    return client.post(path, data={**data, "csrf_token": form_token(html)}, follow_redirects=False)


def sign_in_with_password(
    client: TestClient, email: str, password: str = PASSWORD, *, next_path: str = ""
) -> Response:
    return post_form(
        client, "/en/sign-in", {"email": email, "password": password, "next": next_path}
    )


def link_in(body: str) -> tuple[str, str]:
    """The language and token of the set-password link in a mail."""
    found = _LINK.search(body)
    assert found is not None, body
    return found.group(1), found.group(2)
