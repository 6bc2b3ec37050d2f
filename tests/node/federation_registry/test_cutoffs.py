"""What the global node publishes for each cut-off (DESIGN §3): the certificates it received, in
signed reports, from a member before its suspension or withdrawal, or signed with a key before
it was marked compromised. Reports ingested after the cut-off add nothing to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session, select

from sdgcities.credentials import NodeStatus, SigningKey, TrustedNode, TrustList
from sdgcities.federation import ReceivedStatement
from sdgcities.federation.onboarding import KeyRotation
from sdgcities.node.federation_registry.models import FederationCertificate
from sdgcities.node.timeutil import utcnow
from tests.vectors.builders import payload_of

from ..conftest import ROOT_KEY, Account
from .conftest import MakeLog


def _trust_list(client: TestClient) -> TrustList:
    response = client.get("/federation/trust-list")
    assert response.status_code == 200, response.text
    return TrustList.from_jws(response.text, pinned_thumbprints=[ROOT_KEY.kid])


def _member(client: TestClient, node_id: str) -> TrustedNode:
    node = _trust_list(client).node(node_id)
    assert node is not None
    return node


def _change(client: TestClient, secretariat: Account, path: str) -> None:
    response = client.post(
        path, json={"reason": "spot-check findings"}, headers=secretariat.headers
    )
    assert response.status_code == 200, response.text


def test_a_suspension_carries_what_was_received_before_it_and_nothing_after(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    first, second = kenya.issue("KE-NBO"), kenya.issue("KE-MBA", "Mombasa")
    kenya.send()
    ghana.issue("GH-ACC", "Accra")
    ghana.send()
    assert _member(client, "KE").received_before_cutoff == frozenset()  # active: no cut-off

    _change(client, secretariat, "/federation/members/KE/suspend")
    assert _member(client, "KE").received_before_cutoff == {first, second}

    # A suspended node still reports; what arrives now, whatever its `iat`, was not received
    # before the suspension, and stays out of every later list.
    late = kenya.issue("KE-KIS", "Kisumu", issued_at=utcnow() - timedelta(days=1))
    kenya.send()
    published = client.post("/federation/trust-list/publish", headers=secretariat.headers)
    assert published.status_code == 200, published.text
    ke = _member(client, "KE")
    assert ke.status is NodeStatus.SUSPENDED
    assert late not in ke.received_before_cutoff
    assert ke.received_before_cutoff == {first, second}
    assert _member(client, "GH").received_before_cutoff == frozenset()

    _change(client, secretariat, "/federation/members/KE/reinstate")
    assert _member(client, "KE").received_before_cutoff == frozenset()


def test_a_withdrawal_carries_only_certificates_whose_token_verified(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kept = kenya.issue("KE-NBO")
    # Signed by a key that is not KE's: the projection lists no certificate for it.
    forged = kenya.issue("KE-MBA", "Mombasa", key=SigningKey.generate())
    kenya.send()

    _change(client, secretariat, "/federation/members/KE/withdraw")

    ke = _member(client, "KE")
    assert ke.status is NodeStatus.WITHDRAWN
    assert ke.received_before_cutoff == {kept}
    assert forged not in ke.received_before_cutoff


def test_a_compromised_key_carries_its_own_certificates_received_before(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    second_key = SigningKey.generate()
    rotated = client.post(
        "/federation/keys/rotate",
        json={
            "token": KeyRotation.sign(
                node_id="KE",
                did=kenya.member.did,
                current_key=kenya.member.key,
                new_key=second_key,
            )
        },
    )
    assert rotated.status_code == 201, rotated.text
    by_second = kenya.issue("KE-NBO", key=second_key)
    by_first = kenya.issue("KE-MBA", "Mombasa")
    kenya.send()

    _change(client, secretariat, f"/federation/members/KE/keys/{second_key.kid}/compromise")
    # Reported after the compromise (with KE's other key), dated before it.
    late = kenya.issue("KE-KIS", "Kisumu", key=second_key, issued_at=utcnow() - timedelta(days=1))
    kenya.send()
    published = client.post("/federation/trust-list/publish", headers=secretariat.headers)
    assert published.status_code == 200, published.text

    trust = _trust_list(client)
    found = trust.key(second_key.kid)
    assert found is not None
    node, compromised = found
    assert compromised.received_before_cutoff == {by_second}
    assert by_first not in compromised.received_before_cutoff
    assert late not in compromised.received_before_cutoff
    assert node.status is NodeStatus.ACTIVE
    assert node.received_before_cutoff == frozenset()
    first = trust.key(kenya.member.key.kid)
    assert first is not None
    assert first[1].received_before_cutoff == frozenset()  # active key: no cut-off


def test_a_change_whose_list_would_pass_the_cap_is_refused(
    client: TestClient, make_log: MakeLog, secretariat: Account, session: Session
) -> None:
    kenya = make_log("KE")
    kenya.issue("KE-NBO")
    kenya.send()
    # 70,000 more certificates held from KE's one report: past the ~60,000 ids 4 MiB holds.
    held = session.exec(select(FederationCertificate)).one()
    row = held.model_dump() | {"token": "not read for a node's cut-off"}
    session.execute(
        insert(FederationCertificate),
        [{**row, "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}"} for n in range(70_000)],
    )
    session.flush()

    refused = client.post(
        "/federation/members/KE/suspend",
        json={"reason": "spot-check findings"},
        headers=secretariat.headers,
    )

    assert refused.status_code == 409, refused.text
    assert "more than verifiers accept" in refused.json()["detail"]
    assert _member(client, "KE").status is NodeStatus.ACTIVE


def test_the_global_node_answers_whether_and_when_it_received_a_certificate(
    client: TestClient, make_log: MakeLog
) -> None:
    kenya = make_log("KE")
    credential = kenya.issue("KE-NBO")
    receipt = kenya.send().json()["receipt"]
    forged = kenya.issue("KE-MBA", "Mombasa", key=SigningKey.generate())
    kenya.send()

    answer = client.get(f"/federation/received/{credential}")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    statement = ReceivedStatement.verify(body["statement"], trust_list=_trust_list(client))
    assert (statement.node_id, statement.credential_id) == ("KE", credential)
    # The report that carried it, as the receipt KE was given names it.
    assert statement.report == body["report"] == payload_of(receipt)["report"]
    assert statement.received_at == datetime.fromisoformat(body["received_at"])
    assert abs(utcnow() - statement.received_at) < timedelta(minutes=1)
    assert (body["node_id"], body["credential_id"]) == ("KE", credential)
    # A certificate whose token did not verify was not received as a certificate.
    for unknown in (forged, "urn:uuid:00000000-0000-4000-8000-000000000000"):
        missing = client.get(f"/federation/received/{unknown}")
        assert missing.status_code == 404
        assert missing.json()["detail"] == (
            f"the global node has not received certificate {unknown}"
        )
