"""`GET /registry/cities`: certified cities only, at their highest current level, filtered and
paged; bounded queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.timeutil import utcnow

from .factories import VALIDITY, Registrar


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/registry/cities", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [city["name"] for city in body["data"]]


@pytest.fixture
def federation(registrar: Registrar) -> Registrar:
    """Cities in every situation the listing must tell apart."""
    long_ago = utcnow() - VALIDITY - timedelta(days=30)
    registrar.city("KE-NBO", "Nairobi", priorities=["Housing", "transport"], region="Nairobi")
    registrar.issue("KE-NBO")
    registrar.city("KE-MBA", "Mombasa", priorities=["ports"])
    registrar.issue("KE-MBA", decided_at=long_ago)  # expired
    registrar.issue("KE-MBA", "evidence-based-processes")
    registrar.issue("KE-MBA", "enabling-environment", then=ProposalKind.REVOCATION)
    registrar.city("KE-KIS", "Kisumu", priorities=["water"])
    registrar.issue("KE-KIS", decided_at=long_ago)  # expired only
    registrar.city("KE-NAK", "Nakuru")
    registrar.issue("KE-NAK", then=ProposalKind.REVOCATION)
    registrar.city("KE-ELD", "Eldoret")
    registrar.issue("KE-ELD", then=ProposalKind.SUSPENSION)
    registrar.city("KE-THK", "Thika")  # registered, never certified
    registrar.city("KE-MLD", "Malindi")
    registrar.issue("KE-MLD", decided_at=utcnow() + timedelta(days=2))  # not yet valid
    registrar.city("UG-KLA", "Kampala", priorities=["housing"])
    registrar.issue("UG-KLA", "impact")
    return registrar


@pytest.mark.usefixtures("federation")
def test_lists_the_cities_holding_a_current_certificate_by_name(client: TestClient) -> None:
    body = listing(client)
    assert names(body) == ["Kampala", "Mombasa", "Nairobi"]
    assert body["count"] == 3
    nairobi = body["data"][2]
    assert nairobi == {
        "locode": "KE-NBO",
        "name": "Nairobi",
        "country": "KE",
        "region": "Nairobi",
        "population": None,
        "priorities": ["Housing", "transport"],
        "level": "silver",
        "stage": "qualification",
    }


@pytest.mark.usefixtures("federation")
def test_a_city_is_shown_at_its_highest_current_level(client: TestClient) -> None:
    # Mombasa: silver expired, gold current, platinum revoked.
    mombasa = next(c for c in listing(client)["data"] if c["locode"] == "KE-MBA")
    assert (mombasa["level"], mombasa["stage"]) == ("gold", "evidence-based-processes")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "KE"}, ["Mombasa", "Nairobi"]),
        ({"country": "ug"}, ["Kampala"]),
        ({"country": "TZ"}, []),
        ({"level": "gold"}, ["Mombasa"]),
        ({"level": "platinum"}, []),
        ({"level": "diamond"}, ["Kampala"]),
        ({"stage": "qualification"}, ["Nairobi"]),
        ({"stage": "impact", "level": "silver"}, []),
        ({"q": "NAI"}, ["Nairobi"]),
        ({"q": "ba"}, ["Mombasa"]),
        ({"q": "ke-nb"}, ["Nairobi"]),
        ({"q": "%"}, []),
        ({"q": "_"}, []),
        ({"q": "   "}, ["Kampala", "Mombasa", "Nairobi"]),
        ({"priority": "housing"}, ["Kampala", "Nairobi"]),
        ({"priority": "TRANSPORT"}, ["Nairobi"]),
        ({"priority": "water"}, []),
        ({"priority": "hous"}, []),
        ({"country": "KE", "priority": "housing", "level": "silver"}, ["Nairobi"]),
        # A search with other filters: each of them still applies to what the search found.
        ({"q": "a", "country": "KE"}, ["Mombasa", "Nairobi"]),
        ({"q": "a", "level": "diamond"}, ["Kampala"]),
        ({"q": "a", "priority": "housing"}, ["Kampala", "Nairobi"]),
        # Found by name and by UN/LOCODE, listed once.
        ({"q": "mba"}, ["Mombasa"]),
        ({"q": "ke-"}, ["Mombasa", "Nairobi"]),
        # Text that would span two search keys (name then UN/LOCODE, one city then the next)
        # in the snapshot's search text matches no city.
        ({"q": "i\tke-nbo"}, []),
        ({"q": "mba\nnai"}, []),
    ],
)
@pytest.mark.usefixtures("federation")
def test_filters(client: TestClient, params: dict[str, str], expected: list[str]) -> None:
    body = listing(client, **params)
    assert names(body) == expected
    assert body["count"] == len(expected)


@pytest.mark.usefixtures("federation")
def test_pages_keep_the_total_count(client: TestClient) -> None:
    pages = [listing(client, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [names(page) for page in pages] == [["Kampala", "Mombasa"], ["Nairobi"], []]
    assert [page["count"] for page in pages] == [3, 3, 3]


def test_a_suspended_higher_level_does_not_count(client: TestClient, registrar: Registrar) -> None:
    registrar.city("KE-NBO", "Nairobi")
    registrar.issue("KE-NBO")
    assert names(listing(client)) == ["Nairobi"]
    registrar.issue("KE-NBO", "evidence-based-processes", then=ProposalKind.SUSPENSION)
    assert listing(client)["data"][0]["level"] == "silver"


@pytest.mark.usefixtures("federation")
def test_listing_is_cacheable_for_a_short_while(client: TestClient) -> None:
    response = client.get("/registry/cities")
    assert response.headers["cache-control"] == "public, max-age=60"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 501},
        {"limit": 0},
        {"offset": -1},
        {"q": "x" * 101},
        {"priority": "x" * 101},
        {"country": "KEN"},
        {"country": "K1"},
        {"level": "bronze"},
        {"stage": "B"},
    ],
)
def test_out_of_bounds_queries_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/registry/cities", params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


@pytest.mark.usefixtures("federation")
def test_the_largest_page_is_allowed(client: TestClient) -> None:
    assert listing(client, limit=500, q="x" * 100)["count"] == 0
