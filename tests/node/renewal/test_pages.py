"""The renewal's pages: the dashboard's Renew action, the carried-over answers confirmed on the
self-assessment page, the refusals shown as the page's error, and the public city page's
history."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from ..web.conftest import SignIn, form_token, sign_in
from .conftest import Desk, award, certified, recommend

__all__ = ["sign_in"]


def _post(
    client: TestClient, page: str, action: str, data: dict[str, str] | None = None
) -> Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


@pytest.mark.usefixtures("wide_window")
def test_renew_confirm_and_see_the_history(desk: Desk, sign_in: SignIn) -> None:
    old = certified(desk)
    client = desk.client
    sign_in(desk.nairobi)
    dashboard = client.get("/fr/city")
    assert "Renouveler ce certificat" in dashboard.text
    started = _post(client, "/fr/city", f"/fr/city/certificates/{old['id']}/renewal")
    assert started.status_code == 303, started.text
    found = re.fullmatch(r"/fr/city/applications/(\d+)", started.headers["location"])
    assert found is not None
    application_id = int(found.group(1))
    page = f"/fr/city/applications/{application_id}"
    html = client.get(page).text
    assert html.count("reprise, à confirmer") == 3
    assert 'id="confirm-A-a"' in html or "/criteria/A.a/confirm" in html
    assert "How Nairobi meets A.a." in html
    # Nothing else to renew while the renewal is open.
    assert "Renouveler ce certificat" not in client.get("/fr/city").text

    # Submission names what is still to confirm.
    refused = _post(client, page, f"{page}/submit")
    assert refused.status_code == 422
    assert "still to confirm: A.a, A.b, A.c" in refused.text
    for code in ("A.a", "A.b", "A.c"):
        confirmed = _post(client, page, f"{page}/criteria/{code}/confirm")
        assert confirmed.status_code == 303, confirmed.text
    again = _post(client, page, f"{page}/criteria/A.a/confirm")
    assert again.status_code == 409
    assert "no carried-over answer to confirm" in again.text
    assert "reprise, à confirmer" not in client.get(page).text
    assert _post(client, page, f"{page}/submit").status_code == 303

    recommend(desk, application_id)
    new = award(desk, application_id)
    public = client.get("/en/cities/KE-NBO").text
    assert "Renews the certificate of" in public
    assert "Renewed by the certificate of" in public
    assert new["renews"] == old["id"]
    assert "Renews an earlier certificate" in client.get("/en/city").text


def test_refusals_are_shown_on_the_dashboard(desk: Desk, sign_in: SignIn) -> None:
    old = certified(desk)
    client = desk.client
    sign_in(desk.nairobi)
    assert "Renew this certificate" not in client.get("/en/city").text
    early = _post(client, "/en/city", f"/en/city/certificates/{old['id']}/renewal")
    assert early.status_code == 409
    assert "can be renewed from" in early.text
    # Without the form token.
    forged = client.post(
        f"/en/city/certificates/{old['id']}/renewal", data={}, follow_redirects=False
    )
    assert forged.status_code == 403
    # Another city's official.
    sign_in(desk.mombasa)
    other = _post(client, "/en/city", f"/en/city/certificates/{old['id']}/renewal")
    assert other.status_code == 403
    assert "renews its own certificates only" in other.text
