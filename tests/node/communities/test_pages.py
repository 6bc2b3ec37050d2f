"""Learning communities' pages (§30c): the secretariat forms a community from a proposal and
schedules its events; a city joins, then meets the other members and posts, as their browsers
would. Each refusal is the page again with the problem, or the error page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from ..notifications.outbox import mail_to
from ..web.conftest import SignIn, form_token
from .conftest import CommunityWorld
from .factories import case_study, sharing_a_gap

STAFF_LIST = "/en/secretariat/communities"


def _post(client: TestClient, page: str, action: str, data: dict[str, object]) -> Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def _formed(client: TestClient, title: str = "Work programmes") -> Response:
    return _post(
        client,
        STAFF_LIST,
        STAFF_LIST,
        {"proposal": "1", "gap": ["A.b"], "city": ["KE-MBA", "KE-NBO"], "title": title},
    )


def test_the_whole_path(
    client: TestClient, world: CommunityWorld, session: Session, sign_in: SignIn
) -> None:
    review = world.review
    case_study(session)
    sharing_a_gap(client, review)

    sign_in(review.secretariat)
    listing = client.get(STAFF_LIST).text
    assert "Proposal 1: 2 cities share A.b" in listing
    assert "Mombasa, Nairobi" in listing
    assert "urban water" in listing
    formed = _formed(client)
    assert formed.status_code == 303
    community_page = formed.headers["location"].removesuffix("?done=formed")
    found = re.fullmatch(r"/en/secretariat/communities/(\d+)", community_page)
    assert found is not None
    community_id = found.group(1)
    staff_view = client.get(formed.headers["location"]).text
    assert "The community is formed, and its cities are invited." in staff_view
    assert staff_view.count("Invited: no answer yet") == 2
    assert "How a coastal city drew up its work programme" in staff_view
    assert f'href="/en/secretariat/communities/{community_id}"' in client.get(STAFF_LIST).text

    sign_in(review.mombasa)
    city_page = f"/en/city/communities/{community_id}"
    assert f'href="{city_page}"' in client.get("/en/city/communities").text
    invited = client.get(city_page).text
    assert "Join the community" in invited
    assert "Nairobi" not in invited  # nobody else is shown before joining
    assert 'id="post-form"' not in invited
    joined = _post(client, city_page, f"{city_page}/consent", {"answer": "join"})
    assert (joined.status_code, joined.headers["location"]) == (303, f"{city_page}?done=joined")
    member_view = client.get(city_page).text
    assert "Your city joined the community." not in member_view
    assert "Leave the community" in member_view
    assert "Mombasa (KE-MBA)" in member_view
    assert "Nairobi" not in member_view  # Nairobi has not joined
    posted = _post(client, city_page, f"{city_page}/posts", {"text": "Ours is drafted."})
    assert posted.status_code == 303
    assert "Ours is drafted." in client.get(city_page).text

    sign_in(review.secretariat)
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    scheduled = _post(
        client,
        community_page,
        f"{community_page}/events",
        {"kind": "peer_exchange", "title": "Peer visit", "day": day, "time": "09:30"},
    )
    assert scheduled.status_code == 303
    shown = client.get(scheduled.headers["location"]).text
    assert "The event is scheduled, and the members are invited." in shown
    assert "Peer visit" in shown
    assert "Peer exchange" in shown
    assert mail_to(session, review.mombasa)[-1].calendar is not None
    assert all(mail.calendar is None for mail in mail_to(session, review.nairobi))


def test_forms_refused_with_the_problem(
    client: TestClient, world: CommunityWorld, sign_in: SignIn
) -> None:
    review = world.review
    sharing_a_gap(client, review)
    sign_in(review.secretariat)
    untitled = _formed(client, title="")
    assert untitled.status_code == 400
    assert "Write the title (at most 200 characters)" in untitled.text
    assert 'id="title"' in untitled.text  # the error summary's link finds the field
    forged = _post(
        client, STAFF_LIST, STAFF_LIST, {"title": "T", "gap": ["A.b"], "city": ["KE-MBA"]}
    )
    assert forged.status_code == 422
    not_shared = _post(
        client,
        STAFF_LIST,
        STAFF_LIST,
        {"title": "T", "gap": ["A.c"], "city": ["KE-MBA", "KE-NBO"]},
    )
    assert not_shared.status_code == 422
    assert "A.c is not a gap of KE-MBA" in not_shared.text
    community_page = _formed(client).headers["location"].removesuffix("?done=formed")
    yesterday = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    refused = _post(
        client,
        community_page,
        f"{community_page}/events",
        {"kind": "", "title": "", "day": yesterday, "time": "25:00", "minutes": "5"},
    )
    assert refused.status_code == 400
    for message in (
        "Choose the kind of event",
        "title (at most 200 characters)",
        "Give the time as hours and minutes",
        "Give the length in minutes, from 15 to 480",
    ):
        assert message in refused.text
    past = _post(
        client,
        community_page,
        f"{community_page}/events",
        {"kind": "webinar", "title": "T", "day": yesterday, "time": "10:00", "minutes": "60"},
    )
    assert past.status_code == 400
    assert "Give the day as a date from today on" in past.text
    too_long = _post(client, community_page, f"{community_page}/posts", {"text": "x" * 2001})
    assert too_long.status_code == 400
    assert "Write your message (at most 2,000 characters)" in too_long.text

    community_id = community_page.rsplit("/", 1)[1]
    city_page = f"/en/city/communities/{community_id}"
    sign_in(review.mombasa)
    early = _post(client, city_page, f"{city_page}/posts", {"text": "Hello"})
    assert early.status_code == 409
    assert "join it to take part" in early.text
    assert _post(client, city_page, f"{city_page}/consent", {"answer": "maybe"}).status_code == 422
    wrong_area = _post(
        client, city_page, f"/en/secretariat/communities/{community_id}/posts", {"text": "Hi"}
    )
    assert wrong_area.status_code == 404
    sign_in(world.kisumu)
    assert client.get(city_page).status_code == 404
    assert client.get(STAFF_LIST).status_code == 403
    sign_in(review.lead)
    assert client.get("/en/city/communities").status_code == 403


def test_a_city_shares_its_gaps_across_countries(
    client: TestClient, world: CommunityWorld, sign_in: SignIn
) -> None:
    sign_in(world.review.mombasa)
    page = "/en/city/communities"
    assert "Your city has not consented to share its gaps across countries." in (
        client.get(page).text
    )
    shared = _post(client, page, f"{page}/sharing", {"share": "true"})
    assert (shared.status_code, shared.headers["location"]) == (303, f"{page}?done=shared")
    shown = client.get(shared.headers["location"]).text
    assert "Your city&#39;s gaps may now be used" in shown or "Your city's gaps may now" in shown
    assert "Stop sharing my city" in shown
    again = _post(client, page, f"{page}/sharing", {"share": "true"})
    assert again.status_code == 409
    assert _post(client, page, f"{page}/sharing", {"share": ""}).status_code == 422
    stopped = _post(client, page, f"{page}/sharing", {"share": "false"})
    assert stopped.headers["location"] == f"{page}?done=unshared"
    sign_in(world.review.secretariat)
    # A national node proposes no communities across countries.
    assert "Proposed across countries" not in client.get(STAFF_LIST).text
