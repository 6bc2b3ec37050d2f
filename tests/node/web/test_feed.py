"""The Atom feed of registry changes: valid Atom 1.0 (RFC 4287), entries with stable ids, by
country if asked, in the page's language."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.timeutil import utcnow

from ..conftest import Backend, MakeFramework
from ..registry.factories import Registrar

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def registrar(session: Session, backend: Backend, make_framework: MakeFramework) -> Registrar:
    return Registrar(session=session, state=backend.app.state.node, framework_id=make_framework())


def read_feed(client: TestClient, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)  # noqa: S314 (our own node's answer)
    assert feed.tag == f"{ATOM}feed"
    # RFC 4287 §4.1.1: a feed has exactly one id, title and updated, and an author (here the
    # feed's, as its entries have none); each entry has one id, title and updated, and an
    # alternate link as it has no content.
    for required in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{required}")) == 1, required
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    for entry in feed.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{required}")) == 1, required
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    return feed


def entries(feed: ET.Element) -> list[tuple[str, str]]:
    """(category, title) of each entry, in order."""
    return [
        (
            entry.find(f"{ATOM}category").get("term"),  # type: ignore[union-attr]
            entry.findtext(f"{ATOM}title") or "",
        )
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_the_feed_lists_awards_and_status_changes_newest_first(
    client: TestClient, registrar: Registrar, backend: Backend
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    registrar.city("KE-MBA", "Mombasa")
    registrar.city("UG-KLA", "Kampala")
    now = utcnow()
    registrar.issue("KE-NBO", decided_at=now - timedelta(days=30))
    registrar.issue("KE-MBA", "evidence-based-processes", then=ProposalKind.SUSPENSION)
    revoked = registrar.issue("UG-KLA", then=ProposalKind.REVOCATION)

    feed = read_feed(client, "/en/registry/feed.atom")
    listed = entries(feed)
    assert set(listed) == {
        ("certified", "Nairobi (KE-NBO) certified at Silver level"),
        ("certified", "Mombasa (KE-MBA) certified at Gold level"),
        ("suspended", "Mombasa (KE-MBA): Gold certificate suspended"),
        ("certified", "Kampala (UG-KLA) certified at Silver level"),
        ("revoked", "Kampala (UG-KLA): Silver certificate revoked"),
    }
    updated = [entry.findtext(f"{ATOM}updated") for entry in feed.findall(f"{ATOM}entry")]
    assert updated == sorted(updated, reverse=True)  # type: ignore[type-var]
    assert feed.findtext(f"{ATOM}updated") == updated[0]
    links = {
        entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
        for entry in feed.findall(f"{ATOM}entry")
    }
    assert f"{backend.settings.base_url}/en/certificates/{revoked.id}" in links

    # The same change keeps its id on every read and in every language.
    ids = [entry.findtext(f"{ATOM}id") for entry in feed.findall(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids)
    again = read_feed(client, "/fr/registry/feed.atom")
    assert sorted(entry.findtext(f"{ATOM}id") for entry in again.findall(f"{ATOM}entry")) == sorted(
        ids
    )  # type: ignore[type-var]
    assert ("revoked", "Kampala (UG-KLA) : certificat de niveau Argent révoqué") in entries(again)
    assert again.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"


def test_the_feed_of_one_country(client: TestClient, registrar: Registrar) -> None:
    registrar.city("KE-NBO", "Nairobi")
    registrar.city("UG-KLA", "Kampala")
    registrar.issue("KE-NBO")
    registrar.issue("UG-KLA")
    feed = read_feed(client, "/en/registry/feed.atom?country=ug")
    assert entries(feed) == [("certified", "Kampala (UG-KLA) certified at Silver level")]
    assert "Uganda" in (feed.findtext(f"{ATOM}title") or "")
    assert (feed.findtext(f"{ATOM}id") or "").endswith("/en/registry/feed.atom?country=UG")
    # The registry page links to the feed of the country it shows.
    page = client.get("/en/registry", params={"country": "UG"}).text
    assert 'href="/en/registry/feed.atom?country=UG"' in page


def test_an_empty_feed_is_still_valid_atom(client: TestClient) -> None:
    feed = read_feed(client, "/zh/registry/feed.atom?country=TZ")
    assert entries(feed) == []


def test_a_bad_country_is_a_400_page(client: TestClient) -> None:
    response = client.get("/en/registry/feed.atom?country=Kenya")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Choose a country from the list" in response.text
