"""The global node's signed community (`community-invitation+jwt`) and a member node's signed
post (`community-post+jwt`): they round-trip, and anything not signed by a key of the trust
list (the global node's, for the community), not of its type, too big or malformed is
refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sdgcities.credentials import SigningKey
from sdgcities.federation.communities import (
    MAX_COMMUNITY_BYTES,
    CommunityEventInfo,
    CommunityInvitation,
    CommunityPostInfo,
    CommunityPostMessage,
    JoinedCity,
    newest_posts,
)
from sdgcities.federation.errors import MessageRefused
from sdgcities.federation.spotcheck import MAX_MESSAGE_BYTES, Outcome, SpotCheckOutcome

from .factories import T0, trust_list, trusted_node

GLOBAL_KEY = SigningKey.generate()
KE_KEY = SigningKey.generate()
GLOBAL = trusted_node("global", GLOBAL_KEY)
KE = trusted_node("KE", KE_KEY)
TRUST = trust_list(GLOBAL, KE)
NOW = T0 + timedelta(days=1)
WEBINAR = CommunityEventInfo(
    id=4,
    kind="webinar",
    title="Water loss",
    starts_at=datetime(2027, 1, 5, 9, 0, tzinfo=UTC),
    minutes=60,
    cancelled=False,
)


def _claims(**overrides: Any) -> dict[str, Any]:
    return {
        "key": GLOBAL_KEY,
        "issuer": GLOBAL.did,
        "audience": KE.did,
        "node_id": "KE",
        "community_id": 7,
        "revision": 2,
        "title": "Water across borders",
        "description": "Non-revenue water.",
        "gaps": ["B.c"],
        "invited": ["KE-MBA"],
        "invited_count": 3,
        "joined": [JoinedCity("TZ-DAR", "Dar es Salaam")],
        "events": [WEBINAR],
        "now": NOW,
        **overrides,
    }


def _token(**overrides: Any) -> str:
    return CommunityInvitation.sign(**_claims(**overrides))


def test_the_community_round_trips() -> None:
    invitation = CommunityInvitation.from_jws(_token(), trust_list=TRUST, audience=KE.did, now=NOW)
    assert (invitation.node_id, invitation.community_id, invitation.revision) == ("KE", 7, 2)
    assert invitation.invited == ("KE-MBA",)
    assert invitation.invited_count == 3
    assert invitation.joined == (JoinedCity("TZ-DAR", "Dar es Salaam"),)
    assert invitation.events == (WEBINAR,)
    assert invitation.gaps == ("B.c",)


def _outcome() -> str:
    return SpotCheckOutcome.sign(
        key=GLOBAL_KEY,
        issuer=GLOBAL.did,
        audience=KE.did,
        node_id="KE",
        round_id=1,
        application_id=1,
        credential_id="urn:uuid:1",
        outcome=Outcome.CONFIRMED,
        summary="",
        now=NOW,
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        # A member's key, not the global node's: refused on the key, before the content.
        (lambda: _token(key=KE_KEY, issuer=KE.did), "signed by node KE, not by the global node"),
        (lambda: _token(key=SigningKey.generate()), "not signed by a key on the trust list"),
        (lambda: _token()[:-4] + ("AAAA" if not _token().endswith("AAAA") else "BBBB"), "verify"),
        (lambda: _outcome(), "typ must be 'community-invitation+jwt'"),
        (lambda: _token(audience="did:web:gh.example.org"), "not for did:web:ke"),
        (lambda: _token(lifetime=timedelta(hours=1)), "lives longer than 15"),
        (lambda: _token(now=NOW - timedelta(minutes=11)), "the token expired at"),
        (lambda: _token(gaps=["x" * MAX_COMMUNITY_BYTES]), "larger than"),
        (lambda: _token(invited=["Mombasa"]), "invited must list UN/LOCODEs"),
        (lambda: _token(invited=[f"KE-A{n:02d}" for n in range(51)]), "at most 50"),
        (lambda: _token(gaps=[]), "gaps must list 1 to 20"),
        (lambda: _token(title=""), "title must be a string"),
        (lambda: _token(community_id=0), "community must be a positive integer"),
        (lambda: _token(node_id="Kenya"), "nodeId must be"),
        (
            lambda: _token(events=[CommunityEventInfo(4, "party", "x", NOW, 60, False)]),
            "kind must be 'webinar' or 'peer_exchange'",
        ),
        (
            lambda: _token(events=[CommunityEventInfo(4, "webinar", "x", NOW, 5, False)]),
            "minutes must be from 15 to 480",
        ),
    ],
)
def test_refusals(token: Any, message: str) -> None:
    with pytest.raises(MessageRefused) as caught:
        CommunityInvitation.from_jws(token(), trust_list=TRUST, audience=KE.did, now=NOW)
    assert message in str(caught.value)


def _post(number: int, text: str = "Our meters", city: str | None = "TZ-DAR") -> CommunityPostInfo:
    return CommunityPostInfo(
        id=number, author="Amina", city=city, text=text, posted_at=NOW - timedelta(hours=1)
    )


def test_the_newest_posts_travel_in_the_community_and_stay_under_its_bound() -> None:
    posts = [_post(1, city=None), _post(2)]
    invitation = CommunityInvitation.from_jws(
        _token(posts=posts), trust_list=TRUST, audience=KE.did, now=NOW
    )
    assert invitation.posts == tuple(posts)
    # 60 posts of 2,000 four-byte characters (8 KB each, as signed) would not fit: the newest
    # that do are kept, oldest first, and the document is under its bound.
    long_posts = [_post(n, "\U0001f600" * 2000) for n in range(1, 61)]
    kept = newest_posts(long_posts)
    assert len(kept) == 16
    assert [post.id for post in kept] == list(range(61 - len(kept), 61))
    token = _token(posts=kept, description="\U0001f600" * 4000)
    assert len(token) <= MAX_COMMUNITY_BYTES
    assert len(
        CommunityInvitation.from_jws(token, trust_list=TRUST, audience=KE.did, now=NOW).posts
    ) == len(kept)
    assert [post.id for post in newest_posts([_post(n) for n in range(1, 61)])] == list(
        range(11, 61)
    )


@pytest.mark.parametrize(
    ("posts", "message"),
    [
        ([_post(1, "x" * 2001)], "a post's text must be a string of at most 2000"),
        ([_post(1, city="Dar")], "a post's city must be a UN/LOCODE or null"),
        ([_post(n) for n in range(1, 52)], "posts must be a list of at most 50"),
    ],
)
def test_malformed_posts_in_the_community_are_refused(
    posts: list[CommunityPostInfo], message: str
) -> None:
    with pytest.raises(MessageRefused) as caught:
        CommunityInvitation.from_jws(
            _token(posts=posts), trust_list=TRUST, audience=KE.did, now=NOW
        )
    assert message in str(caught.value)


def _member_post(**overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": KE_KEY,
        "issuer": KE.did,
        "audience": GLOBAL.did,
        "community_id": 7,
        "city": "KE-MBA",
        "author": "Amina Odhiambo",
        "text": "Our leak detection halved the losses.",
        "now": NOW,
        **overrides,
    }
    return CommunityPostMessage.sign(**fields)


def test_a_member_nodes_post_round_trips_naming_its_signer() -> None:
    post = CommunityPostMessage.from_jws(
        _member_post(), trust_list=TRUST, audience=GLOBAL.did, now=NOW
    )
    assert (post.node_id, post.community_id, post.city, post.author) == (
        "KE",
        7,
        "KE-MBA",
        "Amina Odhiambo",
    )
    assert post.text == "Our leak detection halved the losses."


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: _member_post(key=SigningKey.generate()), "not signed by a key on the trust list"),
        (lambda: _member_post()[:-4] + "AAAA", "verify"),
        (lambda: _member_post(issuer=GLOBAL.did), "the kid names another DID"),
        (lambda: _token(audience=GLOBAL.did), "typ must be 'community-post+jwt'"),
        (lambda: _member_post(audience=KE.did), "not for did:web:global"),
        (lambda: _member_post(lifetime=timedelta(hours=1)), "lives longer than 15"),
        (lambda: _member_post(now=NOW - timedelta(minutes=3)), "the token expired at"),
        (lambda: _member_post(text="x" * 2001), "text must be a string of at most 2000"),
        (lambda: _member_post(text="  "), "text must not be blank"),
        (lambda: _member_post(text="x" * MAX_MESSAGE_BYTES), "larger than"),
        (lambda: _member_post(city="Mombasa"), "city must be a UN/LOCODE"),
        (lambda: _member_post(author=""), "author must be"),
        (lambda: _member_post(community_id=0), "community must be a positive integer"),
    ],
)
def test_post_refusals(token: Any, message: str) -> None:
    with pytest.raises(MessageRefused) as caught:
        CommunityPostMessage.from_jws(token(), trust_list=TRUST, audience=GLOBAL.did, now=NOW)
    assert message in str(caught.value)
