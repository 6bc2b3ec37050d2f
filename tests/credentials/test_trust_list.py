"""The trust list: signed by the pinned root, refused when rolled back, stale or not pinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdgcities.credentials import (
    TRUST_LIST_TYP,
    Error,
    JwsToken,
    KeyPeriod,
    KeyStatus,
    MalformedError,
    TrustAnchor,
    TrustList,
    TrustListRollback,
    TrustListStale,
    TrustListTooLarge,
    UntrustedIssuer,
    sign_jws,
)
from tests.vectors.builders import (
    GLOBAL_DID,
    NOW,
    RECEIVED_INDEX,
    credential_id,
    header_of,
    payload_of,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def root_signed(fed, payload: dict[str, Any]) -> str:
    return sign_jws(
        payload,
        key=fed.root,
        did=GLOBAL_DID,
        typ=TRUST_LIST_TYP,
        extra_headers={"jwk": fed.root.public_key.to_jwk()},
    )


def test_sign_and_accept_round_trip(fed):
    published = fed.trust_list()
    token = published.sign(fed.root)

    accepted = TrustAnchor(fed.pinned).accept(token, now=NOW)

    assert accepted.nodes == published.nodes  # every node, key period and endorsement
    assert (accepted.issuer, accepted.sequence) == (published.issuer, 7)
    assert (accepted.issued_at, accepted.next_update) == (
        published.issued_at,
        published.next_update,
    )
    assert accepted.token == token
    ke = accepted.node("KE")
    assert ke is not None
    assert accepted.node_by_did(ke.did) is ke
    assert accepted.key(fed.ke_es256.kid) == (ke, ke.keys[1])
    assert accepted.key(fed.stranger.kid) is None
    assert ke.endorses(fed.node("KE").framework)
    assert not ke.endorses(fed.node("SN").framework)


def test_the_header_carries_the_root_jwk_and_kid(fed):
    token = fed.trust_list().sign(fed.root)

    assert header_of(token) == {
        "alg": "EdDSA",
        "typ": TRUST_LIST_TYP,
        "kid": f"{GLOBAL_DID}#{fed.root.kid}",
        "jwk": fed.root.public_key.to_jwk(),
    }


def test_a_list_whose_kid_names_another_did_than_its_issuer_is_refused(fed):
    # The root key is the global node's, and the list's issuer is the global node: a list signed
    # by the real root key but naming another DID in its kid is not what a did:web resolver of
    # the issuer would verify.
    payload = fed.trust_list().payload()
    token = sign_jws(
        payload,
        key=fed.root,
        did=fed.node("KE").did,
        typ=TRUST_LIST_TYP,
        extra_headers={"jwk": fed.root.public_key.to_jwk()},
    )

    with pytest.raises(UntrustedIssuer, match="kid names another DID"):
        TrustAnchor(fed.pinned).accept(token, now=NOW)


def test_signer_of_checks_the_kid_did_against_the_keys_node(accepted_trust_list, fed):
    ke, ke_key = fed.node("KE"), fed.node("KE").key
    own = sign_jws({"a": 1}, key=ke_key, did=ke.did, typ="x")
    as_sn = sign_jws({"a": 1}, key=ke_key, did=fed.node("SN").did, typ="x")
    stranger = sign_jws({"a": 1}, key=fed.stranger, did=ke.did, typ="x")

    assert accepted_trust_list.signer_of(JwsToken.parse(own, typ="x")) == accepted_trust_list.key(
        ke_key.kid
    )
    assert accepted_trust_list.signer_of(JwsToken.parse(stranger, typ="x")) is None
    with pytest.raises(UntrustedIssuer, match="kid names another DID than the key's node"):
        accepted_trust_list.signer_of(JwsToken.parse(as_sn, typ="x"))


def test_the_anchor_moves_forward_and_refuses_to_go_back(fed):
    anchor = TrustAnchor(fed.pinned)
    seventh = fed.trust_list(sequence=7).sign(fed.root)
    eighth = fed.trust_list(sequence=8).sign(fed.root)

    anchor.accept(seventh, now=NOW)
    anchor.accept(eighth, now=NOW)
    anchor.accept(eighth, now=NOW)  # the same list again is fine

    assert anchor.highest_seen == 8
    with pytest.raises(TrustListRollback):
        anchor.accept(seventh, now=NOW)
    assert anchor.highest_seen == 8


def test_an_anchor_restored_from_storage_remembers(fed):
    eighth = fed.trust_list(sequence=8).sign(fed.root)
    other_eighth = fed.trust_list(sequence=8, issued_at=NOW - timedelta(hours=3)).sign(fed.root)
    anchor = TrustAnchor(fed.pinned, highest_seen=8, seen_token=eighth)

    assert anchor.accept(eighth, now=NOW).sequence == 8
    with pytest.raises(TrustListRollback, match="two different"):
        anchor.accept(other_eighth, now=NOW)


def test_a_refused_list_does_not_move_the_anchor(fed):
    anchor = TrustAnchor(fed.pinned, highest_seen=7)
    stale_ninth = fed.trust_list(
        sequence=9, issued_at=NOW - timedelta(days=5), next_update=NOW - timedelta(days=4)
    ).sign(fed.root)

    with pytest.raises(TrustListStale):
        anchor.accept(stale_ninth, now=NOW)

    assert anchor.highest_seen == 7


def test_freshness_can_be_checked_later(fed):
    token = fed.trust_list(next_update=NOW - timedelta(days=3)).sign(fed.root)

    offline = TrustList.from_jws(token, pinned_thumbprints=fed.pinned, check_freshness=False)

    with pytest.raises(TrustListStale):
        offline.check_fresh(now=NOW)
    offline.check_fresh(now=NOW, grace=timedelta(days=4))


def test_a_far_future_next_update_does_not_overflow(fed):
    # `next_update + grace` overflowed for a date near year 9999.
    trust_list = fed.trust_list(next_update=datetime.max.replace(tzinfo=UTC))

    trust_list.check_fresh(now=NOW, grace=timedelta(days=365))


def test_unpinned_root_is_refused_even_with_its_own_jwk(fed):
    token = fed.trust_list(nodes=fed.trusted_nodes(endorser=fed.other_root)).sign(fed.other_root)

    with pytest.raises(UntrustedIssuer, match="pinned"):
        TrustList.from_jws(token, pinned_thumbprints=fed.pinned, now=NOW)
    # ... and accepted by whoever pinned that root: the pin is the only difference.
    assert TrustList.from_jws(token, pinned_thumbprints={fed.other_root.kid}, now=NOW)


def test_a_key_listed_twice_is_refused(fed):
    nodes = list(fed.trusted_nodes())
    ke = next(n for n in nodes if n.id == "KE")
    sn_index = next(i for i, n in enumerate(nodes) if n.id == "SN")
    nodes[sn_index] = type(ke)(**{**_fields(nodes[sn_index]), "keys": (ke.keys[0],)})

    with pytest.raises(MalformedError, match="listed twice"):
        fed.trust_list(nodes=tuple(nodes))


def _fields(node) -> dict[str, Any]:
    return {name: getattr(node, name) for name in node.__dataclass_fields__}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.update(sequence=-1), "sequence"),
        (lambda p: p.pop("iss"), "iss must be"),
        (lambda p: p.update(iss=7), "iss must be"),
        (lambda p: p.update(sequence=True), "sequence"),
        (lambda p: p.update(sequence="8"), "sequence"),
        (lambda p: p.update(nextUpdate="tomorrow"), "malformed"),
        (lambda p: p.update(nextUpdate="2026-03-03T12:00:00"), "time zone"),
        (lambda p: p.update(nodes={}), "malformed"),
        (lambda p: p["nodes"][1].update(status="deleted"), "malformed"),
        (lambda p: p["nodes"][1].update(statusSince="9999-12-31T23:59:59-01:00"), "range"),
        (lambda p: p["nodes"][1]["keys"][2].pop("statusSince"), "statusSince"),
        (lambda p: p["nodes"][1]["keys"][0]["jwk"].update(d="AAAA"), "private"),
        (lambda p: p["nodes"][1]["frameworks"].append(p["nodes"][2]["frameworks"][0]), "another"),
        (lambda p: p["nodes"].append(p["nodes"][1]), "twice"),
        (lambda p: p["nodes"][1].update(receivedBeforeCutoff=[]), "active: it has no cut-off"),
        (lambda p: p["nodes"][3].update(receivedBeforeCutoff="urn:uuid:1"), "malformed"),
        (lambda p: p["nodes"][3].update(receivedBeforeCutoff=[1]), "malformed"),
        (
            lambda p: p["nodes"][1]["keys"][2].update(receivedBeforeCutoff=[]),
            "only a compromised key",
        ),
        (lambda p: p["nodes"][1]["keys"][3].update(receivedBeforeCutoff=[None]), "malformed"),
    ],
)
def test_a_root_signed_but_malformed_list_is_refused(fed, mutate, message):
    payload = payload_of(fed.trust_list().sign(fed.root))
    assert payload["nodes"][1]["id"] == "KE"
    mutate(payload)

    with pytest.raises(MalformedError, match=message):
        TrustList.from_jws(root_signed(fed, payload), pinned_thumbprints=fed.pinned, now=NOW)


def test_each_cut_off_carries_the_ids_received_before_it(fed, accepted_trust_list):
    payload = payload_of(fed.trust_list().sign(fed.root))
    by_id = {node["id"]: node for node in payload["nodes"]}
    received = [credential_id(RECEIVED_INDEX)]

    assert by_id["UG"]["receivedBeforeCutoff"] == received
    assert by_id["RW"]["receivedBeforeCutoff"] == received
    assert "receivedBeforeCutoff" not in by_id["KE"]  # active: no cut-off
    ke_keys = {key["status"]: key for key in by_id["KE"]["keys"]}
    assert ke_keys["compromised"]["receivedBeforeCutoff"] == received
    assert "receivedBeforeCutoff" not in ke_keys["retired"]
    ug, ke = accepted_trust_list.node("UG"), accepted_trust_list.node("KE")
    assert ug is not None
    assert ke is not None
    assert ug.received_before_cutoff == frozenset(received)
    assert ke.received_before_cutoff == frozenset()
    compromised = accepted_trust_list.key(fed.ke_compromised.kid)
    assert compromised is not None
    assert compromised[1].received_before_cutoff == frozenset(received)


def test_the_ids_are_written_sorted(fed):
    nodes = tuple(
        type(n)(**{**_fields(n), "received_before_cutoff": frozenset({"urn:b", "urn:a", "urn:c"})})
        if n.id == "UG"
        else n
        for n in fed.trusted_nodes()
    )

    payload = payload_of(fed.trust_list(nodes=nodes).sign(fed.root))

    ug = next(node for node in payload["nodes"] if node["id"] == "UG")
    assert ug["receivedBeforeCutoff"] == ["urn:a", "urn:b", "urn:c"]


def test_a_list_past_the_cap_is_not_signed(fed):
    # About 48 bytes of JSON per id, 64 once signed: 70,000 ids are past the 4 MiB verifiers read.
    ids = frozenset(f"urn:uuid:00000000-0000-4000-8000-{n:012d}" for n in range(70_000))
    nodes = tuple(
        type(n)(**{**_fields(n), "received_before_cutoff": ids}) if n.id == "UG" else n
        for n in fed.trusted_nodes()
    )

    with pytest.raises(TrustListTooLarge, match="more than verifiers accept"):
        fed.trust_list(nodes=nodes).sign(fed.root)
    # 60,000 still fit: the capacity docs/architecture.md gives.
    fitting = frozenset(list(ids)[:60_000])
    nodes = tuple(
        type(n)(**{**_fields(n), "received_before_cutoff": fitting}) if n.id == "UG" else n
        for n in fed.trusted_nodes()
    )
    token = fed.trust_list(nodes=nodes).sign(fed.root)
    accepted = TrustList.from_jws(token, pinned_thumbprints=fed.pinned, now=NOW)
    ug = accepted.node("UG")
    assert ug is not None
    assert ug.received_before_cutoff == fitting


def test_retired_and_compromised_keys_keep_their_dates(fed, accepted_trust_list):
    ke = accepted_trust_list.node("KE")
    assert ke is not None

    statuses = {(p.public_key.kid, p.status, p.status_since) for p in ke.keys}

    assert (fed.ke_retired.kid, KeyStatus.RETIRED, NOW - timedelta(days=10)) in statuses
    assert (fed.ke_compromised.kid, KeyStatus.COMPROMISED, NOW - timedelta(days=3)) in statuses
    assert all(isinstance(p, KeyPeriod) for p in ke.keys)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_change_to_a_signed_list_is_refused_with_a_library_error(fed, data):
    token = fed.trust_list().sign(fed.root)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET + ".=+/ \n\u00e9"))
    mutated = token[:position] + replacement + token[position + 1 :]

    try:
        accepted = TrustList.from_jws(mutated, pinned_thumbprints=fed.pinned, now=NOW)
    except Error:
        return
    assert mutated == token
    assert accepted.token == token


@settings(max_examples=50, deadline=None)
@given(cut=st.integers(min_value=0, max_value=5000))
def test_any_truncation_is_refused(fed, cut):
    token = fed.trust_list().sign(fed.root)

    with pytest.raises(Error):
        TrustList.from_jws(
            token[: len(token) - 1 - cut % len(token)], pinned_thumbprints=fed.pinned
        )
