"""`GET /registry/credentials/{id}`: the certificate as issued, as JSON or `application/vc+jwt`,
by its `urn:uuid:` id written raw or percent-encoded, with validators for caches."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from sdgcities.credentials import JwsToken
from sdgcities.node.certificates.models import Certificate, ProposalKind
from sdgcities.node.registry.routes import wants_token

from ..conftest import Backend
from .factories import Registrar


@pytest.fixture
def certificate(registrar: Registrar) -> Certificate:
    registrar.city("KE-NBO", "Nairobi")
    return registrar.issue("KE-NBO")


def test_json_holds_the_token_and_the_credential_it_states(
    client: TestClient, certificate: Certificate, backend: Backend
) -> None:
    response = client.get(f"/registry/credentials/{certificate.id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"jwt", "credential"}
    assert body["jwt"] == certificate.token
    # The decoded credential is exactly what the signature covers.
    signed: dict[str, Any] = JwsToken.parse(certificate.token, typ="vc+jwt").verify(
        backend.app.state.node.signing_key.public_key
    )
    assert body["credential"] == signed
    assert body["credential"]["id"] == certificate.id
    assert body["credential"]["credentialSubject"]["city"]["locode"] == "KE-NBO"


@pytest.mark.parametrize(
    "accept", ["application/vc+jwt", "application/json;q=0.5, application/vc+jwt"]
)
def test_accept_vc_jwt_answers_the_token_alone(
    client: TestClient, certificate: Certificate, accept: str
) -> None:
    response = client.get(f"/registry/credentials/{certificate.id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.text == certificate.token


@pytest.mark.parametrize(
    "spell", [lambda i: i, lambda i: quote(i, safe=""), lambda i: i.replace(":", "%3a")]
)
def test_the_id_may_be_written_raw_or_percent_encoded(
    client: TestClient, certificate: Certificate, spell: Any
) -> None:
    path = f"/registry/credentials/{spell(certificate.id)}"
    assert certificate.id.startswith("urn:uuid:")
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.json()["jwt"] == certificate.token


def test_validators_and_caching(client: TestClient, certificate: Certificate) -> None:
    path = f"/registry/credentials/{certificate.id}"
    as_json = client.get(path)
    as_token = client.get(path, headers={"Accept": "application/vc+jwt"})
    digest = hashlib.sha256(certificate.token.encode()).hexdigest()
    assert as_token.headers["etag"] == f'"{digest}"'
    assert as_json.headers["etag"] == f'"{digest}-json"'
    for response in (as_json, as_token):
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["vary"] == "Accept"

    unchanged = client.get(path, headers={"If-None-Match": as_json.headers["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    # The token's validator does not stand for the JSON representation.
    other = client.get(path, headers={"If-None-Match": as_token.headers["etag"]})
    assert other.status_code == 200
    weak = client.get(
        path,
        headers={"Accept": "application/vc+jwt", "If-None-Match": f"W/{as_token.headers['etag']}"},
    )
    assert weak.status_code == 304


def test_a_revoked_certificate_is_still_served(client: TestClient, registrar: Registrar) -> None:
    # Its text is public record; that it is revoked is for the status list (and /verify) to say.
    registrar.city("KE-NBO", "Nairobi")
    revoked = registrar.issue("KE-NBO", then=ProposalKind.REVOCATION)
    assert client.get(f"/registry/credentials/{revoked.id}").json()["jwt"] == revoked.token


@pytest.mark.parametrize(
    "accept", [None, "application/vc+jwt", "application/json"], ids=["none", "jwt", "json"]
)
def test_an_unknown_certificate_is_404(client: TestClient, accept: str | None) -> None:
    missing = "urn:uuid:00000000-0000-4000-8000-000000000000"
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/registry/credentials/{quote(missing, safe='')}", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": f"no certificate {missing}", "code": "not_found"}


def test_an_overlong_id_is_refused(client: TestClient) -> None:
    assert client.get(f"/registry/credentials/urn:uuid:{'a' * 60}").status_code == 422


@pytest.mark.parametrize(
    ("accept", "token"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/*", False),
        ("application/json", False),
        ("text/html", False),
        ("application/vc+jwt", True),
        ("Application/VC+JWT", True),
        ("application/vc+jwt, application/json", False),
        ("application/vc+jwt, application/json;q=0.9", True),
        ("application/vc+jwt;q=0.9, */*;q=0.1", True),
        ("application/vc+jwt;q=0", False),
        ("application/vc+jwt;q=zero", False),
        ("application/*;q=0.2, application/vc+jwt;q=0.1", False),
    ],
)
def test_content_negotiation(accept: str | None, token: bool) -> None:
    assert wants_token(accept) is token
