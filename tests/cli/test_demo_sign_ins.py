"""The demo's sign-ins: the set-password link is read from the mail the demo's server saved, and
a missing mail or a page without its form stops the step with a reason."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from sdgcities.cli.demo.sign_ins import SignInFailed, link_in_mail, post_form


def _save_mail(folder: Path, number: int, to: str, body: str) -> None:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = "Choose a new password"
    message.set_content(body)
    (folder / f"{number:04d}-{to}.eml").write_bytes(bytes(message))


def test_the_newest_link_to_the_person_is_read(tmp_path: Path) -> None:
    _save_mail(tmp_path, 1, "a@ke.example.org", "http://n/en/set-password/old-token")
    _save_mail(tmp_path, 2, "b@ke.example.org", "http://n/en/set-password/not-for-a")
    _save_mail(tmp_path, 3, "a@ke.example.org", "Follow http://n/en/set-password/new_Token-1 .")
    assert link_in_mail(tmp_path, "a@ke.example.org", 0) == "/en/set-password/new_Token-1"


def test_no_mail_stops_with_the_reason(tmp_path: Path) -> None:
    _save_mail(tmp_path, 1, "b@ke.example.org", "http://n/en/set-password/not-for-a")
    with pytest.raises(SignInFailed, match=re.escape("no set-password mail to a@ke.example.org")):
        link_in_mail(tmp_path, "a@ke.example.org", 0)


@pytest.mark.parametrize(
    ("status", "html", "reason"),
    [
        (404, "<p>gone</p>", "GET /en/forgot-password: 404, no form"),
        (200, "<p>no form here</p>", "GET /en/forgot-password: 200, no form"),
        (200, '<input name="csrf_token" value="t">', "POST /en/forgot-password: 400, expected 200"),
    ],
)
def test_a_page_that_does_not_answer_as_expected_stops_the_step(
    status: int, html: str, reason: str
) -> None:
    # A stand-in for a node that answers wrongly: the real node's answers are in test_demo.py.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status if request.method == "GET" else 400, text=html)

    with httpx.Client(transport=httpx.MockTransport(answer), base_url="http://node") as client:
        with pytest.raises(SignInFailed, match=re.escape(reason)):
            post_form(client, "/en/forgot-password", {"email": "a@ke.example.org"}, expect=200)
