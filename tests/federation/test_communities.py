"""The global node's signed community (`community-invitation+jwt`): it round-trips, and anything
not signed by the global node's key, not of its type, too big or malformed is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sdgcities.credentials import SigningKey
from sdgcities.federation.communities import (
    CommunityEventInfo,
    CommunityInvitation,
    JoinedCity,
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
        (lambda: _token(description="x" * MAX_MESSAGE_BYTES), "larger than"),
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
