"""The global node's own endorsed frameworks are on the trust list as soon as it stores them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.credentials import TrustList

from ..conftest import ROOT_KEY, Account, Backend
from .test_end_to_end import endorse_the_baseline


def served(client: TestClient) -> TrustList:
    token = client.get("/federation/trust-list").text
    return TrustList.from_jws(token, pinned_thumbprints=[ROOT_KEY.kid])


def test_endorsing_its_own_framework_republishes_the_trust_list(
    client: TestClient, admin: Account, backend: Backend
) -> None:
    before = served(client)
    endorse_the_baseline(client, admin, backend)
    after = served(client)
    assert after.sequence == before.sequence + 1
    own = after.node("global")
    assert own is not None
    assert [e.framework.id for e in own.frameworks] == ["sdgcities-baseline"]


def test_storing_the_same_endorsement_again_publishes_nothing(
    client: TestClient, admin: Account, backend: Backend
) -> None:
    endorse_the_baseline(client, admin, backend)
    published = served(client).sequence
    endorse_the_baseline(client, admin, backend)
    assert served(client).sequence == published
