"""Technical assistance pages (§25, §37): a city asks from its stage report's gaps and follows
its requests; the secretariat assigns, notes and closes them, as their browsers would."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from ..assistance.factories import catalogue, reported_application
from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world
from .conftest import SignIn, form_token


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


def _post(client: TestClient, page: str, action: str, data: dict[str, str]) -> Response:
    """Posts a form of `page` as a browser would: with the page's form token."""
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _ask(client: TestClient, application_id: int, code: str = "A.b", **data: str) -> Response:
    page = f"/en/city/applications/{application_id}/assistance/{code}"
    body = {"kind": "advice", "message": "We need help with our work programme.", **data}
    return _post(client, page, page, body)


def _request_id(client: TestClient) -> int:
    found = re.search(
        r'/en/secretariat/assistance/(\d+)"', client.get("/en/secretariat/assistance").text
    )
    assert found is not None
    return int(found.group(1))


def test_the_whole_path(
    client: TestClient, world: ReviewWorld, session: Session, sign_in: SignIn
) -> None:
    service_id, _ = catalogue(session)
    application_id = reported_application(client, world)
    sign_in(world.nairobi)
    report = client.get(f"/en/city/applications/{application_id}/report").text
    # Each gap, and only a gap, has its link.
    assert f"/en/city/applications/{application_id}/assistance/A.b" in report
    assert f"/en/city/applications/{application_id}/assistance/A.c" in report
    assert f"/en/city/applications/{application_id}/assistance/A.a" not in report
    form = client.get(f"/en/city/applications/{application_id}/assistance/A.b").text
    assert "Work programme advisory service (UN-Habitat)" in form
    asked = _ask(client, application_id, kind="tool", tool_id=str(service_id))
    assert (asked.status_code, asked.headers["location"]) == (303, "/en/city/assistance?done=asked")
    mine = client.get("/en/city/assistance?done=asked").text
    assert "Your request is sent to the secretariat." in mine
    assert "Open: waiting to be assigned" in mine
    assert "A tool from the catalogue: Work programme advisory service" in mine

    sign_in(world.secretariat)
    listing = client.get("/en/secretariat/assistance?state=open").text
    assert "KE-NBO" in listing
    assert '<th scope="row">A.b</th><td>1</td>' in listing
    request_id = _request_id(client)
    page = f"/en/secretariat/assistance/{request_id}"
    assigned = _post(client, page, f"{page}/assignment", {"assignee": f"provider:{service_id}"})
    assert (assigned.status_code, assigned.headers["location"]) == (303, f"{page}?done=assigned")
    assert (
        _post(client, page, f"{page}/notes", {"text": "A call is set for Monday."}).status_code
        == 303
    )
    closed = _post(
        client,
        page,
        f"{page}/closure",
        {"closure": "resolved", "reason": "The programme is drafted."},
    )
    assert closed.status_code == 303
    shown = client.get(f"{page}?done=closed").text
    assert "The request is closed." in shown
    assert 'id="assign-form"' not in shown
    assert client.get("/en/secretariat/assistance?state=closed").text.count("Request ") >= 1

    sign_in(world.nairobi)
    mine = client.get("/en/city/assistance").text
    assert "Closed" in mine
    assert "Resolved" in mine
    assert "UN-Habitat (Work programme advisory service)" in mine
    assert "A call is set for Monday." in mine
    assert "The programme is drafted." in mine


def test_the_pages_in_french(client: TestClient, world: ReviewWorld, sign_in: SignIn) -> None:
    application_id = reported_application(client, world)
    sign_in(world.nairobi)
    form = client.get(f"/fr/city/applications/{application_id}/assistance/A.c").text
    assert "Demander de l\u2019aide pour la lacune A.c" in form
    assert (
        "Demander de l\u2019aide pour cette lacune"
        in client.get(f"/fr/city/applications/{application_id}/report").text
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": ""}, "Choose the kind of help"),
        ({"message": "x" * 2001}, "Write your message (at most 2,000 characters)"),
        ({"message": "   "}, "Write your message (at most 2,000 characters)"),
        ({"kind": "tool"}, "Choose the tool you would like help with"),
    ],
)
def test_a_bad_form_is_shown_again(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, data: dict[str, str], message: str
) -> None:
    application_id = reported_application(client, world)
    sign_in(world.nairobi)
    response = _ask(client, application_id, **data)
    assert response.status_code == 400
    assert message in response.text
    assert "There is a problem" in response.text
    if "message" in data and data["message"].strip():
        assert data["message"] in response.text  # nothing typed is lost
    assert "Your city has asked for no help yet." in client.get("/en/city/assistance").text


def test_refusals_of_the_city(client: TestClient, world: ReviewWorld, sign_in: SignIn) -> None:
    application_id = reported_application(client, world)
    sign_in(world.nairobi)
    not_a_gap = client.get(f"/en/city/applications/{application_id}/assistance/A.a")
    assert not_a_gap.status_code == 422
    assert "A.a is not a gap of the stage report" in not_a_gap.text
    assert _ask(client, application_id).status_code == 303
    again = _ask(client, application_id)
    assert again.status_code == 409
    assert "is still open" in again.text
    forged = client.post(
        f"/en/city/applications/{application_id}/assistance/A.c",
        data={"kind": "advice", "message": "Forged."},
    )
    assert forged.status_code == 403
    # Another city sees neither the gap nor the request.
    sign_in(world.mombasa)
    assert client.get(f"/en/city/applications/{application_id}/assistance/A.b").status_code == 404
    assert "Your city has asked for no help yet." in client.get("/en/city/assistance").text


def test_refusals_of_the_secretariat(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    application_id = reported_application(client, world)
    sign_in(world.nairobi)
    _ask(client, application_id)
    sign_in(world.secretariat)
    request_id = _request_id(client)
    page = f"/en/secretariat/assistance/{request_id}"
    unassigned = _post(client, page, f"{page}/closure", {"closure": "resolved", "reason": "Done."})
    assert unassigned.status_code == 409
    assert "assign it first" in unassigned.text
    no_reason = _post(client, page, f"{page}/closure", {"closure": "declined", "reason": ""})
    assert no_reason.status_code == 400
    assert "Write the reason (at most 1,000 characters)" in no_reason.text
    no_choice = _post(client, page, f"{page}/closure", {"reason": "Why not."})
    assert no_choice.status_code == 400
    assert "Why not." in no_choice.text
    nobody = _post(client, page, f"{page}/assignment", {"assignee": "person:x"})
    assert nobody.status_code == 400
    assert "Choose who takes the request" in nobody.text
    reviewer = _post(
        client, page, f"{page}/assignment", {"assignee": f"person:{world.lead.user_id}"}
    )
    assert reviewer.status_code == 422
    empty_note = _post(client, page, f"{page}/notes", {"text": ""})
    assert empty_note.status_code == 400
    forged = client.post(f"{page}/notes", data={"text": "Forged."})
    assert forged.status_code == 403
    declined = _post(
        client, page, f"{page}/closure", {"closure": "declined", "reason": "Asked twice."}
    )
    assert declined.status_code == 303
    late = _post(client, "/en/secretariat/assistance", f"{page}/notes", {"text": "Late."})
    assert late.status_code == 409
    assert "is closed (declined)" in late.text


@pytest.mark.parametrize("who", ["lead", "committee", "nairobi"])
def test_who_may_see_the_secretariat_pages(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, who: str
) -> None:
    account = {"lead": world.lead, "committee": world.committee, "nairobi": world.nairobi}[who]
    sign_in(account)
    assert client.get("/en/secretariat/assistance").status_code == 403
    assert client.get("/en/secretariat/assistance/1").status_code == 403


def test_who_may_see_the_city_pages(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    for path in ("/en/city/assistance", "/en/secretariat/assistance"):
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith(f"/en/sign-in?next={path}")
    for account in (world.secretariat, world.lead, world.committee):
        sign_in(account)
        assert client.get("/en/city/assistance").status_code == 403
