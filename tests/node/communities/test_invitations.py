"""A member node takes in the global node's signed community (`community-invitation+jwt`): it
invites its own cities, their people are told, their answers go to the global node as
`community.consent` events, the cities of other countries that joined are shown to the members,
and the events reach the joined cities' people. Anything not the global node's, not for this
node, naming another country's city, or seen before, is refused before it changes anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, col, select

from sdgcities.credentials import TrustList
from sdgcities.federation.communities import (
    CommunityEventInfo,
    CommunityInvitation,
    CommunityPostInfo,
    CommunityPostMessage,
    JoinedCity,
)
from sdgcities.federation.spotcheck import MAX_MESSAGE_BYTES, Outcome, SpotCheckOutcome
from sdgcities.node.accounts.models import User
from sdgcities.node.communities.models import Community
from sdgcities.node.events.models import EventRecord
from sdgcities.node.spotchecks.dossiers import held_trust_list

from ..conftest import Backend
from ..notifications.outbox import mail_to
from ..review.factories import ok
from ..spotchecks.conftest import GHANA_DID, GHANA_KEY, GLOBAL_DID, GLOBAL_KEY, trust
from ..web.conftest import SignIn, form_token
from .conftest import CommunityWorld

INVITATIONS = "/federation/community-invitations"
GLOBAL_ID = 41
WEBINAR = CommunityEventInfo(
    id=9,
    kind="webinar",
    title="Water loss across borders",
    starts_at=datetime(2031, 3, 4, 9, 0, tzinfo=UTC),
    minutes=90,
    cancelled=False,
)


@pytest.fixture
def trusted(world: CommunityWorld, session: Session, backend: Backend) -> CommunityWorld:
    """Kenya's node, which trusts the global node (and lists Ghana's node)."""
    trust(session, backend)
    return world


def _token(backend: Backend, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": GLOBAL_KEY,
        "issuer": GLOBAL_DID,
        "audience": backend.settings.did,
        "node_id": backend.settings.node_id,
        "community_id": GLOBAL_ID,
        "revision": 1,
        "title": "Water across borders",
        "description": "Non-revenue water in port cities.",
        "gaps": ["B.c"],
        "invited": ["KE-MBA"],
        "invited_count": 3,
        **overrides,
    }
    return CommunityInvitation.sign(**fields)


def _send(client: TestClient, token: str) -> Any:
    return client.post(INVITATIONS, json={"token": token})


def _local_id(session: Session) -> int:
    session.expire_all()
    community = session.exec(select(Community).where(Community.global_id == GLOBAL_ID)).one()
    assert community.id is not None
    return community.id


def test_the_global_nodes_community_reaches_the_city(
    client: TestClient, trusted: CommunityWorld, session: Session, backend: Backend
) -> None:
    review = trusted.review
    taken = _send(client, _token(backend))
    assert taken.status_code == 201, taken.text
    assert (taken.json()["global_id"], taken.json()["revision"]) == (GLOBAL_ID, 1)
    community_id = _local_id(session)
    [notice] = mail_to(session, review.mombasa)
    assert "learning community formed" in notice.subject
    assert "3" in notice.body
    assert mail_to(session, review.nairobi) == []  # not invited

    path = f"/communities/{community_id}"
    invited = ok(client.get(path, headers=review.mombasa.headers))
    assert (invited["across_countries"], invited["consent"], invited["members"]) == (
        True,
        "invited",
        [],
    )
    assert client.get(path, headers=review.nairobi.headers).status_code == 404

    # Mombasa joins: the answer is an event of Kenya's log, for the global node.
    ok(client.post(f"{path}/consent", json={"answer": "join"}, headers=review.mombasa.headers))
    session.expire_all()
    [answer] = session.exec(
        select(EventRecord).where(EventRecord.type == "community.consent")
    ).all()
    assert answer.subject == {"locode": "KE-MBA"}
    assert answer.data == {"community": GLOBAL_ID, "answer": "joined"}

    # Revision 2: Accra joined, and a webinar. Mombasa sees Accra, and is invited to the webinar.
    updated = _token(
        backend,
        revision=2,
        joined=[JoinedCity("GH-ACC", "Accra"), JoinedCity("KE-MBA", "Mombasa")],
        events=[WEBINAR],
    )
    assert _send(client, updated).status_code == 201
    member = ok(client.get(path, headers=review.mombasa.headers))
    assert sorted(m["locode"] for m in member["members"]) == ["GH-ACC", "KE-MBA"]
    [event] = member["events"]
    assert (event["title"], event["minutes"]) == ("Water loss across borders", 90)
    invitation = mail_to(session, review.mombasa)[-1]
    assert invitation.calendar is not None
    [vevent] = Calendar.from_ical(invitation.calendar).walk("VEVENT")
    assert vevent["dtend"].dt - vevent["dtstart"].dt == timedelta(minutes=90)

    # The same message again is a replay; an older revision, newly signed, changes nothing.
    assert _send(client, updated).status_code == 409
    stale = _send(client, _token(backend, revision=1, title="Old title"))
    assert (stale.status_code, stale.json()["revision"]) == (200, 2)
    assert ok(client.get(path, headers=review.mombasa.headers))["title"] == "Water across borders"

    # The events are the global secretariat's.
    scheduled = client.post(
        f"{path}/events",
        json={"kind": "webinar", "title": "Ours", "starts_at": "2031-05-01T09:00:00Z"},
        headers=review.secretariat.headers,
    )
    assert scheduled.status_code == 409

    # A cancelled event is shown so.
    cancelled = replace(WEBINAR, cancelled=True)
    assert _send(client, _token(backend, revision=3, events=[cancelled])).status_code == 201
    [event] = ok(client.get(path, headers=review.mombasa.headers))["events"]
    assert event["cancelled_at"] is not None
    # Mombasa's people get the cancellation for their calendar, for the same calendar entry.
    cancellation = mail_to(session, review.mombasa)[-1]
    assert cancellation.subject.startswith("Cancelled: Water loss across borders")
    assert cancellation.calendar is not None
    told = Calendar.from_ical(cancellation.calendar)
    assert str(told["method"]) == "CANCEL"
    [cancelled_event] = told.walk("VEVENT")
    assert str(cancelled_event["status"]) == "CANCELLED"
    assert str(cancelled_event["uid"]) == str(vevent["uid"])
    # Only the global secretariat cancels the global node's events.
    refused = client.post(f"{path}/events/{event['id']}/cancel", headers=review.secretariat.headers)
    assert refused.status_code == 409


def _outcome(backend: Backend) -> str:
    return SpotCheckOutcome.sign(
        key=GLOBAL_KEY,
        issuer=GLOBAL_DID,
        audience=backend.settings.did,
        node_id=backend.settings.node_id,
        round_id=1,
        application_id=1,
        credential_id="urn:uuid:1",
        outcome=Outcome.CONFIRMED,
        summary="",
    )


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        # A member's key (Ghana's node), not the global node's.
        (
            lambda b: _token(b, key=GHANA_KEY, issuer=GHANA_DID),
            422,
            "signed by node GH, not by the global node",
        ),
        (lambda b: _token(b, invited=["GH-ACC"]), 422, "GH-ACC is not a city of this node's"),
        (lambda b: _token(b, invited=["KE-XYZ"]), 422, "no city KE-XYZ on this node"),
        (lambda b: _token(b, node_id="GH"), 422, "the invitation is for node GH"),
        (lambda b: _token(b, audience=GHANA_DID), 422, "not for did:web"),
        (lambda b: _outcome(b), 422, "typ must be 'community-invitation+jwt'"),
        (lambda _backend: "x" * (MAX_MESSAGE_BYTES + 1), 422, "token"),
    ],
)
def test_refusals_change_nothing(
    client: TestClient,
    trusted: CommunityWorld,
    session: Session,
    backend: Backend,
    make: Any,
    status: int,
    message: str,
) -> None:
    refused = _send(client, make(backend))
    assert refused.status_code == status, refused.text
    assert message in refused.text
    session.expire_all()
    assert session.exec(select(Community).where(col(Community.global_id).is_not(None))).all() == []
    assert mail_to(session, trusted.review.mombasa) == []


@pytest.mark.usefixtures("world")
def test_without_a_trust_list_nothing_is_taken(client: TestClient, backend: Backend) -> None:
    refused = _send(client, _token(backend))
    assert refused.status_code == 409
    assert "no trust list" in refused.json()["detail"]


class GlobalNode:
    """Plays the global node for the posts: each signed post it is sent, checked as it would,
    answered with Kenya's new document carrying it (or with `failure`)."""

    def __init__(self, trust_list: TrustList, backend: Backend) -> None:
        self.trust_list, self.backend = trust_list, backend
        self.received: list[CommunityPostMessage] = []
        self.failure: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/federation/community-posts"
        if self.failure is not None:
            return self.failure
        message = CommunityPostMessage.from_jws(
            json.loads(request.content)["token"], trust_list=self.trust_list, audience=GLOBAL_DID
        )
        self.received.append(message)
        posts = [ELSEWHERE] + [
            CommunityPostInfo(
                id=20 + number,
                author=post.author,
                city=post.city,
                text=post.text,
                posted_at=datetime.now(UTC),
            )
            for number, post in enumerate(self.received)
        ]
        document = _token(
            self.backend, revision=2 + len(self.received), invited=INVITED, posts=posts
        )
        return httpx.Response(201, json={"token": document})


ELSEWHERE = CommunityPostInfo(
    id=3,
    author="Kofi Mensah",
    city="GH-ACC",
    text="Accra's district metering, in brief.",
    posted_at=datetime(2031, 1, 2, 10, 0, tzinfo=UTC),
)
INVITED = ["KE-MBA", "KE-KIS"]


@pytest.fixture
def global_node(
    trusted: CommunityWorld,  # noqa: ARG001 - the trust list it signs for
    session: Session,
    backend: Backend,
) -> Iterator[GlobalNode]:
    state = backend.app.state.node
    saved = state.http
    node = GlobalNode(held_trust_list(session=session, state=state), backend)
    state.http = httpx.Client(transport=httpx.MockTransport(node.handle), follow_redirects=False)
    yield node
    state.http = saved


def _posts(client: TestClient, path: str, account: Any) -> list[tuple[str, str | None, str]]:
    shown = ok(client.get(path, headers=account.headers))["posts"]
    return [(post["author"], post["city_locode"], post["text"]) for post in shown]


def test_the_discussion_across_countries_reaches_the_cities_that_joined_only(
    client: TestClient,
    trusted: CommunityWorld,
    global_node: GlobalNode,
    session: Session,
    backend: Backend,
) -> None:
    review = trusted.review
    first = _token(backend, invited=INVITED, posts=[ELSEWHERE])
    assert _send(client, first).status_code == 201
    path = f"/communities/{_local_id(session)}"
    ok(client.post(f"{path}/consent", json={"answer": "join"}, headers=review.mombasa.headers))
    ghana_post = ("Kofi Mensah", "GH-ACC", "Accra's district metering, in brief.")
    assert _posts(client, path, review.mombasa) == [ghana_post]
    # Kisumu, invited, reads no post; nor once it declined.
    assert _posts(client, path, trusted.kisumu) == []
    ok(client.post(f"{path}/consent", json={"answer": "decline"}, headers=trusted.kisumu.headers))
    assert _posts(client, path, trusted.kisumu) == []
    refused = client.post(f"{path}/posts", json={"text": "Hi"}, headers=trusted.kisumu.headers)
    assert refused.status_code == 409
    assert global_node.received == []

    # Mombasa posts: sent to the global node at once, shown from its answer.
    posted = client.post(
        f"{path}/posts", json={"text": "Our meters, too."}, headers=review.mombasa.headers
    )
    assert posted.status_code == 201, posted.text
    [message] = global_node.received
    author = session.get(User, review.mombasa.user_id)
    assert author is not None
    assert (message.community_id, message.city, message.node_id) == (GLOBAL_ID, "KE-MBA", "KE")
    assert message.author == author.name
    assert _posts(client, path, review.mombasa) == [
        ghana_post,
        (author.name, "KE-MBA", "Our meters, too."),
    ]
    # This node's secretariat reads the discussion, and leaves it to the cities.
    assert len(_posts(client, path, review.secretariat)) == 2
    staff = client.post(f"{path}/posts", json={"text": "Hi"}, headers=review.secretariat.headers)
    assert staff.status_code == 409
    assert "global secretariat" in staff.json()["detail"]
    # Posts reach the global node only: a national node has no such endpoint.
    assert client.post("/federation/community-posts", json={"token": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (httpx.ConnectError("refused"), 503, "could not be reached"),
        (httpx.Response(503, json={"detail": "down"}), 503, "refused the post (503)"),
        (httpx.Response(409, json={"detail": "KE-MBA has not joined"}), 502, "has not joined"),
        (httpx.Response(201, json={"token": "x"}), 502, "answer to the post is refused"),
        (httpx.Response(201, json={}), 502, "carries no document"),
    ],
)
def test_a_post_the_global_node_does_not_take_is_not_shown(
    client: TestClient,
    trusted: CommunityWorld,
    global_node: GlobalNode,
    session: Session,
    backend: Backend,
    failure: Any,
    status: int,
    message: str,
) -> None:
    mombasa = trusted.review.mombasa
    assert _send(client, _token(backend, invited=INVITED)).status_code == 201
    path = f"/communities/{_local_id(session)}"
    ok(client.post(f"{path}/consent", json={"answer": "join"}, headers=mombasa.headers))
    if isinstance(failure, httpx.HTTPError):
        error = failure

        def unreachable(_request: httpx.Request) -> httpx.Response:
            raise error

        backend.app.state.node.http = httpx.Client(transport=httpx.MockTransport(unreachable))
    else:
        global_node.failure = failure
    refused = client.post(f"{path}/posts", json={"text": "Lost?"}, headers=mombasa.headers)
    assert refused.status_code == status, refused.text
    assert message in refused.json()["detail"]
    assert _posts(client, path, mombasa) == []


def test_the_city_reads_and_writes_the_discussion_on_its_page(
    client: TestClient,
    trusted: CommunityWorld,
    global_node: GlobalNode,
    session: Session,
    backend: Backend,
    sign_in: SignIn,
) -> None:
    review = trusted.review
    assert _send(client, _token(backend, invited=INVITED, posts=[ELSEWHERE])).status_code == 201
    community_id = _local_id(session)
    ok(
        client.post(
            f"/communities/{community_id}/consent",
            json={"answer": "join"},
            headers=review.mombasa.headers,
        )
    )
    sign_in(review.mombasa)
    page = f"/en/city/communities/{community_id}"
    shown = client.get(page)
    assert shown.status_code == 200
    assert "Accra's district metering, in brief." in shown.text.replace("&#39;", "'")
    assert 'id="post-form"' in shown.text
    posted = client.post(
        f"{page}/posts",
        data={"csrf_token": form_token(shown.text), "text": "Our meters, too."},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert "Our meters, too." in client.get(page).text
    assert [message.text for message in global_node.received] == ["Our meters, too."]
    # This node's secretariat reads it, without the form.
    sign_in(review.secretariat)
    staff_page = client.get(f"/en/secretariat/communities/{community_id}")
    assert "Our meters, too." in staff_page.text
    assert 'id="post-form"' not in staff_page.text
