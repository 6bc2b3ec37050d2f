"""Demo sign-ins: people the walk-through enrolled choose a password as anyone would, on the
site ("Forgot your password?", the mail, the link), so a newcomer can sign in to the web pages.

The demo's people were enrolled through the API and have no password. Each one here asks for a
link on the forgot-password page, the node mails it (to the demo's mail server, which saves it
under the mail folder), and the link's page sets the password. Nothing is written in a database
behind the node's back.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Final

import httpx

# Printed for everyone: the demo runs on loopback with sample data only.
DEMO_PASSWORD: Final = "sdg cities demo 2026"  # noqa: S105
MAIL_WAIT_SECONDS: Final = 30.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"/en/set-password/[A-Za-z0-9_-]+")


class SignInFailed(Exception):
    """The site did not let a demo person choose a password; says which answer was wrong."""


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    role: str
    email: str
    password: str
    node_url: str
    node_id: str

    @property
    def page(self) -> str:
        return f"{self.node_url}/en/sign-in"


def choose_password(
    *,
    node_url: str,
    email: str,
    mail_folder: Path,
    password: str = DEMO_PASSWORD,
    wait: float = MAIL_WAIT_SECONDS,
) -> None:
    """`email`'s password becomes `password`, through the forgot-password page and its mail."""
    with httpx.Client(base_url=node_url, timeout=30.0, follow_redirects=False) as browser:
        post_form(browser, "/en/forgot-password", {"email": email}, expect=200)
        link = link_in_mail(mail_folder, email, wait)
        post_form(
            browser,
            link,
            {"new_password": password, "confirm_password": password},
            expect=303,
        )


def post_form(browser: httpx.Client, path: str, data: dict[str, str], *, expect: int) -> None:
    """Posts a page's form as a browser would: with the token the page's form carries."""
    page = browser.get(path)
    found = _CSRF.search(page.text)
    if page.status_code != 200 or found is None:
        raise SignInFailed(f"GET {path}: {page.status_code}, no form")
    answer = browser.post(path, data={"csrf_token": found.group(1), **data})
    if answer.status_code != expect:
        raise SignInFailed(f"POST {path}: {answer.status_code}, expected {expect}")


def link_in_mail(folder: Path, email: str, wait: float) -> str:
    """The set-password link of the newest mail to `email` the demo's mail server saved."""
    deadline = time.monotonic() + wait
    while True:
        for path in sorted(folder.glob(f"*-{email}.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            found = _LINK.search(body.get_content() if body is not None else "")
            if found is not None:
                return found.group(0)
        if time.monotonic() > deadline:
            raise SignInFailed(f"no set-password mail to {email} under {folder} in {wait:.0f} s")
        time.sleep(0.2)
