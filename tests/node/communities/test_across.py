"""Forming a learning community across countries on the global node (§30c): the global
secretariat forms it from consenting cities' reported gaps, each member node is sent a signed
invitation for its own cities only, the cities' answers come back as `community.consent`
events (trusted only from the city's own node, for a city invited), and each change is sent
again."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import SigningKey, TrustList
from sdgcities.federation import EventType
from sdgcities.federation.communities import CommunityInvitation, CommunityPostMessage, JoinedCity
from sdgcities.node.communities import across
from sdgcities.node.state import NodeState

from ..conftest import ROOT_KEY, Account, Backend
from ..federation_registry.conftest import make_log  # noqa: F401 - fixtures
from ..federation_registry.factories import MemberLog
from ..ingest.conftest import (  # noqa: F401 - fixtures
    backend,
    client,
    make_member,
    secretariat,
)
from ..web import test_global_pages as global_pages
from ..web.conftest import SignIn, form_token
from .test_federation import _report, _share

# The global node's sign-in (its cookies are `__Host-`, over https).
sign_in = global_pages.sign_in
FORM = "/communities/federation"
Answer = Callable[[httpx.Request], httpx.Response]


class MemberNodes:
    """Plays the member nodes: each signed community they are sent, verified as they would."""

    def __init__(self, global_node: TestClient) -> None:
        self.global_node = global_node
        self.received: list[CommunityInvitation] = []
        self.answer: Answer = lambda _request: httpx.Response(201, json={})

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/federation/community-invitations"
        trust_list = TrustList.from_jws(
            self.global_node.get("/federation/trust-list").text,
            pinned_thumbprints=[ROOT_KEY.public_key.kid],
        )
        audience = f"did:web:{request.url.host}"
        token = json.loads(request.content)["token"]
        self.received.append(
            CommunityInvitation.from_jws(token, trust_list=trust_list, audience=audience)
        )
        return self.answer(request)

    def last_for(self, node_id: str) -> CommunityInvitation:
        return [m for m in self.received if m.node_id == node_id][-1]


@pytest.fixture
def members(backend: Backend, client: TestClient) -> Iterator[MemberNodes]:  # noqa: F811
    state: NodeState = backend.app.state.node
    saved = state.http
    nodes = MemberNodes(client)
    state.http = httpx.Client(transport=httpx.MockTransport(nodes.handle), follow_redirects=False)
    yield nodes
    state.http = saved


@pytest.fixture
def logs(make_log: Any) -> tuple[MemberLog, MemberLog]:  # noqa: F811
    """Kenya and Ghana report: Mombasa and Accra consent and share B.c; Kisumu does not consent;
    Kumasi consents, with B.c too."""
    kenya, ghana = make_log("KE"), make_log("GH")
    _report(kenya, "KE-MBA", ["B.a", "B.c"])
    _share(kenya, "KE-MBA", True)
    _report(kenya, "KE-KIS", ["B.c"])
    _report(ghana, "GH-ACC", ["B.c"])
    _share(ghana, "GH-ACC", True)
    _report(ghana, "GH-KMS", ["B.c"])
    _share(ghana, "GH-KMS", True)
    kenya.send()
    ghana.send()
    return kenya, ghana


def _form(http: TestClient, staff: Account, cities: list[str], gaps: list[str]) -> Any:
    return http.post(
        FORM,
        json={"title": "Water across borders", "description": "", "gaps": gaps, "cities": cities},
        headers=staff.headers,
    )


def _consent(log: MemberLog, locode: str, community: Any, answer: str) -> None:
    log.append(
        EventType.COMMUNITY_CONSENT, {"locode": locode}, {"community": community, "answer": answer}
    )
    log.send()


def _answers(http: TestClient, staff: Account, community_id: int) -> dict[str, str]:
    shown = http.get(f"/communities/{community_id}", headers=staff.headers).json()
    return {member["locode"]: member["consent"] for member in shown["members"]}


@pytest.mark.usefixtures("logs")
def test_forming_invites_each_node_for_its_own_cities_only(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    members: MemberNodes,
) -> None:
    formed = _form(client, secretariat, ["KE-MBA", "GH-ACC", "GH-KMS"], ["B.c"])
    assert formed.status_code == 201, formed.text
    community = formed.json()
    assert community["across_countries"] is True
    assert _answers(client, secretariat, community["id"]) == {
        "GH-ACC": "invited",
        "GH-KMS": "invited",
        "KE-MBA": "invited",
    }
    assert len(members.received) == 2
    kenya, ghana = members.last_for("KE"), members.last_for("GH")
    assert (kenya.invited, ghana.invited) == (("KE-MBA",), ("GH-ACC", "GH-KMS"))
    assert (kenya.community_id, kenya.revision, kenya.invited_count) == (community["id"], 1, 3)
    assert kenya.joined == ()  # nobody has joined: no city of another country is named
    # The proposal now names the community formed from it.
    proposals = client.get("/communities/federation/proposals", headers=secretariat.headers)
    assert [p["formed"] for p in proposals.json()["data"]] == [community["id"]]


@pytest.mark.parametrize(
    ("cities", "gaps", "status", "names"),
    [
        (["KE-MBA", "KE-KIS"], ["B.c"], 422, "KE-KIS is not a city that consents"),
        (["KE-MBA", "GH-ACC"], ["B.a"], 422, "B.a is not a gap of GH-ACC"),
        (["KE-MBA", "TZ-DAR"], ["B.c"], 422, "TZ-DAR is not a city that consents"),
        (["KE-MBA", "KE-MBA"], ["B.c"], 422, "at least two different cities"),
    ],
)
@pytest.mark.usefixtures("logs")
def test_forming_refuses_what_the_reports_do_not_support(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    members: MemberNodes,
    cities: list[str],
    gaps: list[str],
    status: int,
    names: str,
) -> None:
    refused = _form(client, secretariat, cities, gaps)
    assert refused.status_code == status, refused.text
    assert names in refused.json()["detail"]
    assert members.received == []


@pytest.mark.usefixtures("logs", "members")
def test_the_same_community_twice_is_a_conflict(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
) -> None:
    assert _form(client, secretariat, ["KE-MBA", "GH-ACC"], ["B.c"]).status_code == 201
    again = _form(client, secretariat, ["GH-ACC", "KE-MBA"], ["B.c"])
    assert again.status_code == 409
    assert "already formed" in again.json()["detail"]


def test_answers_count_only_from_the_citys_own_node_for_a_city_invited(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    logs: tuple[MemberLog, MemberLog],
    members: MemberNodes,
    backend: Backend,  # noqa: F811
    session: Session,
) -> None:
    kenya, ghana = logs
    community_id = _form(client, secretariat, ["KE-MBA", "GH-ACC"], ["B.c"]).json()["id"]
    _consent(ghana, "KE-MBA", community_id, "declined")  # another country's node
    _consent(ghana, "GH-KMS", community_id, "joined")  # a city not invited
    _consent(ghana, "GH-ACC", community_id + 1, "joined")  # an unknown community
    _consent(ghana, "GH-ACC", community_id, "maybe")  # not an answer
    assert _answers(client, secretariat, community_id) == {
        "GH-ACC": "invited",
        "KE-MBA": "invited",
    }

    _consent(kenya, "KE-MBA", community_id, "joined")
    assert _answers(client, secretariat, community_id)["KE-MBA"] == "joined"
    # The answer raised the revision: the duty sends it to both nodes, with Mombasa joined.
    sent = len(members.received)
    assert across.deliver_pending(session=session, state=backend.app.state.node) == 1
    assert len(members.received) == sent + 2
    ghana_view = members.last_for("GH")
    assert ghana_view.revision == 2
    assert ghana_view.joined == (JoinedCity("KE-MBA", "KE-MBA"),)
    assert ghana_view.invited == ("GH-ACC",)
    assert across.deliver_pending(session=session, state=backend.app.state.node) == 0


@pytest.mark.usefixtures("logs")
def test_a_failed_sending_is_kept_and_tried_again(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    members: MemberNodes,
    backend: Backend,  # noqa: F811
    session: Session,
    sign_in: SignIn,
) -> None:
    members.answer = lambda request: httpx.Response(
        503 if request.url.host.startswith("gh") else 201, json={"detail": "down"}
    )
    community_id = _form(client, secretariat, ["KE-MBA", "GH-ACC"], ["B.c"]).json()["id"]
    sign_in(secretariat)
    page = client.get(f"/en/secretariat/communities/{community_id}")
    assert page.status_code == 200
    assert "node GH refused the community (503)" in page.text

    members.answer = lambda _request: httpx.Response(201, json={})
    sent = len(members.received)
    assert across.deliver_pending(session=session, state=backend.app.state.node) == 1
    assert [m.node_id for m in members.received[sent:]] == ["GH"]


@pytest.mark.usefixtures("logs")
def test_an_event_reaches_every_member_node(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    members: MemberNodes,
) -> None:
    community_id = _form(client, secretariat, ["KE-MBA", "GH-ACC"], ["B.c"]).json()["id"]
    scheduled = client.post(
        f"/communities/{community_id}/events",
        json={"kind": "webinar", "title": "Water loss", "starts_at": "2040-01-05T09:00:00Z"},
        headers=secretariat.headers,
    )
    assert scheduled.status_code == 201, scheduled.text
    for node_id in ("KE", "GH"):
        sent = members.last_for(node_id)
        assert sent.revision == 2
        assert [(e.title, e.minutes, e.cancelled) for e in sent.events] == [
            ("Water loss", 60, False)
        ]
    # Cancelled: the member nodes are sent it so; cancelling again is a conflict.
    [event] = scheduled.json()["events"]
    cancel = f"/communities/{community_id}/events/{event['id']}/cancel"
    cancelled = client.post(cancel, headers=secretariat.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["events"][0]["cancelled_at"] is not None
    assert [(e.revision, e.events[0].cancelled) for e in members.received[-2:]] == [
        (3, True),
        (3, True),
    ]
    assert client.post(cancel, headers=secretariat.headers).status_code == 409
    missing = f"/communities/{community_id}/events/{event['id'] + 1}/cancel"
    assert client.post(missing, headers=secretariat.headers).status_code == 404


@pytest.mark.usefixtures("logs")
def test_the_secretariat_forms_it_from_the_proposal_on_its_page(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    members: MemberNodes,
    sign_in: SignIn,
) -> None:
    sign_in(secretariat)
    page = "/en/secretariat/communities"
    listed = client.get(page)
    assert listed.status_code == 200
    assert 'id="form-x1"' in listed.text
    token = form_token(listed.text)
    base = {
        "csrf_token": token,
        "proposal": "x1",
        "gap": ["B.c"],
        "city": ["GH-ACC", "GH-KMS", "KE-MBA"],
    }

    # A missing title: the same page again, the problem beside the proposal's field.
    refused = client.post(f"{page}/federation", data={**base, "title": ""})
    assert refused.status_code == 400
    assert 'id="title"' in refused.text
    assert members.received == []

    formed = client.post(
        f"{page}/federation", data={**base, "title": "Ports"}, follow_redirects=False
    )
    assert formed.status_code == 303, formed.text
    shown = client.get(formed.headers["location"])
    assert shown.status_code == 200
    for text in ("GH-ACC", "KE-MBA", "Invited: no answer yet", "community-deliveries"):
        assert text in shown.text
    assert 'id="post-form"' in shown.text  # the global secretariat takes part in the discussion
    posted = client.post(
        formed.headers["location"].split("?")[0] + "/posts",
        data={"csrf_token": form_token(shown.text), "text": "Welcome, all."},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert "Welcome, all." in client.get(formed.headers["location"]).text
    assert [p.text for p in members.last_for("KE").posts] == ["Welcome, all."]
    assert {m.node_id for m in members.received} == {"GH", "KE"}
    assert f"{page}/" in client.get(page).text  # listed among the communities formed


POSTS = "/federation/community-posts"


def _member_post(backend: Backend, log: MemberLog, community_id: int, **overrides: Any) -> str:  # noqa: F811
    fields: dict[str, Any] = {
        "key": log.member.key,
        "issuer": log.member.did,
        "audience": backend.settings.did,
        "community_id": community_id,
        "city": "KE-MBA",
        "author": "Amina Odhiambo",
        "text": "Our leak detection halved the losses.",
        **overrides,
    }
    return CommunityPostMessage.sign(**fields)


def _joined_community(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    logs: tuple[MemberLog, MemberLog],
) -> int:
    """Mombasa (Kenya) joined, Accra (Ghana) did not answer."""
    community_id: int = _form(client, secretariat, ["KE-MBA", "GH-ACC"], ["B.c"]).json()["id"]
    _consent(logs[0], "KE-MBA", community_id, "joined")
    return community_id


def test_a_member_nodes_post_is_kept_answered_and_sent_to_every_member(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    logs: tuple[MemberLog, MemberLog],
    members: MemberNodes,
    backend: Backend,  # noqa: F811
    session: Session,
) -> None:
    community_id = _joined_community(client, secretariat, logs)
    taken = client.post(POSTS, json={"token": _member_post(backend, logs[0], community_id)})
    assert taken.status_code == 201, taken.text
    trust_list = TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.public_key.kid]
    )
    # The answer is Kenya's new document, with the post.
    answer = CommunityInvitation.from_jws(
        taken.json()["token"], trust_list=trust_list, audience=logs[0].member.did
    )
    assert answer.node_id == "KE"
    [post] = answer.posts
    assert (post.author, post.city, post.text) == (
        "Amina Odhiambo",
        "KE-MBA",
        "Our leak detection halved the losses.",
    )
    # The global secretariat reads it, and the duty sends it to every member node.
    shown = client.get(f"/communities/{community_id}", headers=secretariat.headers).json()
    assert [(p["author"], p["city_locode"]) for p in shown["posts"]] == [
        ("Amina Odhiambo", "KE-MBA")
    ]
    sent = len(members.received)
    assert across.deliver_pending(session=session, state=backend.app.state.node) == 1
    ghana = members.last_for("GH")
    assert (ghana.revision, [p.text for p in ghana.posts]) == (
        answer.revision,
        ["Our leak detection halved the losses."],
    )
    assert len(members.received) == sent + 2

    # The global secretariat posts too: sent to both nodes at once.
    posted = client.post(
        f"/communities/{community_id}/posts",
        json={"text": "Welcome, all."},
        headers=secretariat.headers,
    )
    assert posted.status_code == 201, posted.text
    assert [p["city_locode"] for p in posted.json()["posts"]] == ["KE-MBA", None]
    for node_id in ("KE", "GH"):
        assert [p.text for p in members.last_for(node_id).posts][-1] == "Welcome, all."


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        # A key not on the trust list, in Kenya's name.
        (
            lambda b, logs, c: _member_post(b, logs[0], c, key=SigningKey.generate()),
            422,
            "not signed by a key on the trust list",
        ),
        # Ghana's node posting for a Kenyan city.
        (
            lambda b, logs, c: _member_post(b, logs[1], c),
            422,
            "node GH does not certify the cities of KE",
        ),
        # Ghana's city, invited, has not joined.
        (
            lambda b, logs, c: _member_post(b, logs[1], c, city="GH-ACC"),
            409,
            "GH-ACC has not joined",
        ),
        # A Ghanaian city not invited.
        (lambda b, logs, c: _member_post(b, logs[1], c, city="GH-KMS"), 404, "no community"),
        (lambda b, logs, c: _member_post(b, logs[0], c + 1), 404, "no community"),
        (lambda b, logs, c: _member_post(b, logs[0], c, text="x" * 2001), 422, "at most 2000"),
        (
            lambda b, logs, c: _member_post(b, logs[0], c, audience=logs[1].member.did),
            422,
            "not for did:web",
        ),
    ],
)
@pytest.mark.usefixtures("members")
def test_posts_refused_change_nothing(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    logs: tuple[MemberLog, MemberLog],
    backend: Backend,  # noqa: F811
    make: Any,
    status: int,
    message: str,
) -> None:
    community_id = _joined_community(client, secretariat, logs)
    refused = client.post(POSTS, json={"token": make(backend, logs, community_id)})
    assert refused.status_code == status, refused.text
    assert message in refused.json()["detail"]
    shown = client.get(f"/communities/{community_id}", headers=secretariat.headers).json()
    assert shown["posts"] == []


@pytest.mark.usefixtures("members")
def test_a_post_replayed_is_refused(
    client: TestClient,  # noqa: F811
    secretariat: Account,  # noqa: F811
    logs: tuple[MemberLog, MemberLog],
    backend: Backend,  # noqa: F811
) -> None:
    community_id = _joined_community(client, secretariat, logs)
    token = _member_post(backend, logs[0], community_id)
    assert client.post(POSTS, json={"token": token}).status_code == 201
    replayed = client.post(POSTS, json={"token": token})
    assert replayed.status_code == 409
    assert "replay" in replayed.json()["detail"]
    shown = client.get(f"/communities/{community_id}", headers=secretariat.headers).json()
    assert len(shown["posts"]) == 1
