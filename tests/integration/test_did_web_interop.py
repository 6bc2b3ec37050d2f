"""An independent check, across real processes: tokens our nodes sign verify with joserfc alone,
the key found the way a generic did:web verifier finds it.

The resolution below is written from the did:web method specification, not from our code:
`did:web:host%3Aport:path` -> `https://host:port/path/did.json` (`/.well-known/did.json` when there
is no path), with plain http for the loopback test federation. In the document it fetches, the
verification method whose `id` equals the token's `kid` gives the public JWK; joserfc checks the
signature with that key and nothing else. The tokens are real: a certificate signed with KE's key
file under KE's framework as the global node endorsed it, the status list KE serves for it, the
trust list the global node serves and the endorsement it carries, and the report KE serves from
its event log.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import JWKRegistry

from sdgcities.credentials import SigningKey
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE

from .harness import endorsed_framework, federation, sign_certificate

# RFC 9864 deprecates the polymorphic "EdDSA" identifier; DESIGN §3 still names it.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:EdDSA is deprecated:Warning")]

REPORT_MEDIA_TYPE = "application/federation-report+jwt"


def did_web_url(did: str) -> str:
    """The did:web spec's DID-to-URL transformation (http for a loopback host only)."""
    assert did.startswith("did:web:"), did
    host, *path = (unquote(segment) for segment in did.removeprefix("did:web:").split(":"))
    scheme = "http" if host.split(":")[0] in {"127.0.0.1", "localhost"} else "https"
    return f"{scheme}://{host}/{'/'.join(path) if path else '.well-known'}/did.json"


def header_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    header: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return header


def generic_did_web_verify(http: httpx.Client, token: str) -> tuple[str, dict[str, Any]]:
    """Resolve the kid's DID, take the method the kid names, verify with joserfc: the method
    id and the payload."""
    header = header_of(token)
    kid = header["kid"]
    did, _, fragment = kid.partition("#")
    assert fragment, kid
    document = http.get(did_web_url(did)).raise_for_status().json()
    assert document["id"] == did
    (method,) = (m for m in document["verificationMethod"] if m["id"] == kid)
    assert method["controller"] == did
    assert kid in document["assertionMethod"]
    key = JWKRegistry.import_key(method["publicKeyJwk"])
    verified = jws.deserialize_compact(token, key, algorithms=[header["alg"]])
    return method["id"], json.loads(verified.payload)


def test_tokens_verify_with_joserfc_by_did_web_resolution(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke,) = federation(tmp_path, processes, ("KE",))
    key = SigningKey.load(ke.data_dir / "keys" / f"{ke.init['kid']}.pem", DEVELOPMENT_PASSPHRASE)
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        certificate = sign_certificate(ke, key, endorsed_framework(http, global_node, ke), 1)
        # Valid to our own verifier too: a real certificate, not only a signed payload.
        assert http.post(f"{global_node.url}/verify", json={"jwt": certificate}).json()["valid"]
        kid, credential = generic_did_web_verify(http, certificate)
        assert kid == f"{ke.init['did']}#{key.kid}"
        assert credential["iss"] == ke.init["did"]

        status_url = credential["credentialStatus"]["statusListCredential"]
        status_list = http.get(status_url, headers={"Accept": "application/vc+jwt"})
        kid, listed = generic_did_web_verify(http, status_list.raise_for_status().text)
        assert kid == f"{ke.init['did']}#{key.kid}"
        assert listed["id"] == status_url

        trust_list = http.get(f"{global_node.url}/federation/trust-list").raise_for_status().text
        kid, payload = generic_did_web_verify(http, trust_list)
        assert kid == f"{global_node.init['did']}#{global_node.init['root_thumbprint']}"
        assert payload["iss"] == global_node.init["did"]
        endorsements = [f["endorsement"] for n in payload["nodes"] for f in n["frameworks"]]
        assert endorsements
        for endorsement in endorsements:
            assert generic_did_web_verify(http, endorsement)[0] == kid

        report = http.get(
            f"{ke.url}/federation/events?after=0", headers={"Accept": REPORT_MEDIA_TYPE}
        )
        kid, events = generic_did_web_verify(http, report.raise_for_status().text)
        assert kid == f"{ke.init['did']}#{key.kid}"
        assert (events["sub"], events["iss"]) == ("KE", ke.init["did"])


def test_the_did_web_resolution_follows_the_spec() -> None:
    assert (
        did_web_url("did:web:w3c-ccg.github.io") == "https://w3c-ccg.github.io/.well-known/did.json"
    )
    assert (
        did_web_url("did:web:w3c-ccg.github.io:user:alice")
        == "https://w3c-ccg.github.io/user/alice/did.json"
    )
    assert (
        did_web_url("did:web:example.com%3A3000") == "https://example.com:3000/.well-known/did.json"
    )
    assert did_web_url("did:web:127.0.0.1%3A8001") == "http://127.0.0.1:8001/.well-known/did.json"
