"""Web page helpers: sign a person in as the pages do, and read a page's form token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import Response
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import User
from sdgcities.node.web.session import SESSION_COOKIE, start_session

from ..conftest import Account, Backend

SignIn = Callable[[Account], None]
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sign_in(client: TestClient, session: Session, backend: Backend) -> SignIn:
    """Signs `account` in on `client` (the session cookie set), as a successful sign-in does."""

    def sign(account: Account) -> None:
        user = session.get(User, account.user_id)
        assert user is not None
        response = Response()
        start_session(session=session, user=user, response=response, settings=backend.settings)
        session.commit()
        cookie = response.headers["set-cookie"]
        value = cookie.split(";")[0].split("=", 1)[1]
        client.cookies.set(SESSION_COOKIE, value)

    return sign


def form_token(html: str) -> str:
    """The anti-forgery token a page's forms carry."""
    found = _CSRF_INPUT.search(html)
    assert found is not None, "the page has no form token"
    return found.group(1)
