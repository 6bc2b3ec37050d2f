"""`GET /.well-known/did.json` and `jwks.json` on a national node: its keys, named by the DID URLs
its JOSE headers carry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import JwsToken, PublicKey
from sdgcities.node.status.service import allocate_status_entry

from ..conftest import ROOT_KEY, Backend


def test_the_did_document_names_each_key_by_its_kid(client: TestClient, backend: Backend) -> None:
    did = backend.settings.did
    document = client.get("/.well-known/did.json").json()

    (method,) = document["verificationMethod"]
    key = backend.app.state.node.signing_key
    assert method == {
        "id": f"{did}#{key.kid}",
        "type": "JsonWebKey",
        "controller": did,
        "publicKeyJwk": key.public_key.to_jwk(),
    }
    assert document["assertionMethod"] == document["authentication"] == [method["id"]]
    # A national node pins the root key but does not hold it: its document does not list it.
    assert backend.settings.pinned_root_keys == (ROOT_KEY.public_key,)
    assert ROOT_KEY.kid not in str(document)


def test_a_status_list_names_a_key_of_the_did_document(
    client: TestClient, backend: Backend, session: Session
) -> None:
    status = allocate_status_entry(session=session, state=backend.app.state.node)
    session.commit()
    document = client.get("/.well-known/did.json").json()
    jwks = client.get("/.well-known/jwks.json").json()
    response = client.get("/status/" + status.list_id)
    assert response.status_code == 200, response.text

    token = JwsToken.parse(response.text, typ="vc+jwt", max_bytes=1024 * 1024)
    (method,) = (m for m in document["verificationMethod"] if m["id"] == token.kid)
    assert token.kid_did == document["id"]
    assert token.verify(PublicKey.from_jwk(method["publicKeyJwk"]))
    assert [jwk["kid"] for jwk in jwks["keys"]] == [token.kid]
