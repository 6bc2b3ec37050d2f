"""The public pages on the global node: the whole federation, as its JSON registry lists it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from .conftest import MakeLog

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_global_nodes_pages_show_the_federation(client: TestClient, make_log: MakeLog) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    nairobi = kenya.issue("KE-NBO", "Nairobi", stage="evidence-based-processes")
    accra = ghana.issue("GH-ACC", "Accra", city={"priorities": ["Transport"]})
    ghana.change(accra, "revocation", locode="GH-ACC")
    kenya.send()
    ghana.send()

    registry = client.get("/en/registry")
    assert registry.status_code == 200
    assert "from a node of the federation" in registry.text
    # Accra's only certificate is revoked: not certified, not listed.
    assert 'href="/en/cities/KE-NBO"' in registry.text
    assert 'href="/en/cities/GH-ACC"' not in registry.text

    city = client.get("/en/cities/GH-ACC")
    assert city.status_code == 200
    assert '<span class="status status-revoked">Revoked</span>' in city.text

    certificate = client.get(f"/en/certificates/{nairobi}")
    assert certificate.status_code == 200
    assert "KE node" in certificate.text  # the issuer, from the reported token
    assert '<span class="status status-valid">Valid</span>' in certificate.text
    token = client.get(f"/en/certificates/{nairobi}/certificate.jwt")
    assert token.text == kenya.events[-1].data["jwt"]

    feed = ET.fromstring(client.get("/en/registry/feed.atom?country=GH").content)  # noqa: S314
    kinds = [
        entry.find(f"{ATOM}category").get("term")  # type: ignore[union-attr]
        for entry in feed.findall(f"{ATOM}entry")
    ]
    assert sorted(kinds) == ["certified", "revoked"]
