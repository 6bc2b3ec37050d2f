from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from sdgcities.credentials import (
    JwsToken,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustList,
    sign_jws,
)
from sdgcities.federation import (
    MAX_REPORT_BYTES,
    MAX_REPORT_EVENTS,
    REPORT_TYP,
    ChainBroken,
    ReportBatch,
    ReportInvalid,
    ReportTooLarge,
    SequenceGap,
    fit_report,
    sign_report,
)

from .factories import T0, make_chain, trust_list, trusted_node

KENYA_KEY = SigningKey.generate()
UGANDA_KEY = SigningKey.generate()
KENYA_DID = "did:web:ke.example.org"
UGANDA_DID = "did:web:ug.example.org"
SIGNED_AT = T0 + timedelta(hours=1)


@pytest.fixture
def trusted() -> TrustList:
    return trust_list(trusted_node("KE", KENYA_KEY), trusted_node("UG", UGANDA_KEY))


def report(events: list[Any], **options: Any) -> str:
    arguments: dict[str, Any] = {
        "key": KENYA_KEY,
        "node_id": "KE",
        "issuer_did": KENYA_DID,
        "issued_at": SIGNED_AT,
    }
    return sign_report(events, **{**arguments, **options})


def payload_of(token: str) -> dict[str, Any]:
    parsed = JwsToken.parse(token, typ=REPORT_TYP, max_bytes=MAX_REPORT_BYTES)
    return parsed.verify(KENYA_KEY.public_key)


def resigned(payload: dict[str, Any], key: SigningKey = KENYA_KEY) -> str:
    return sign_jws(payload, key=key, did=KENYA_DID, typ=REPORT_TYP)


def test_signed_report_verifies_and_round_trips(trusted: TrustList) -> None:
    events = make_chain(5)
    token = report(events[2:])
    batch = ReportBatch.verify(token, trust_list=trusted)
    assert batch.events == tuple(events[2:])
    assert (batch.node_id, batch.issuer, batch.first, batch.last) == ("KE", KENYA_DID, 3, 5)
    assert batch.issued_at == SIGNED_AT
    assert batch.kid == KENYA_KEY.kid  # the thumbprint: the kid names the key inside the list
    assert JwsToken.parse(token, typ=REPORT_TYP).kid == f"{KENYA_DID}#{KENYA_KEY.kid}"
    assert batch.head == events[-1].head
    assert batch.token == token
    assert JwsToken.parse(token, typ=REPORT_TYP).header["typ"] == "federation-report+jwt"
    assert set(payload_of(token)) == {"iss", "sub", "iat", "first", "last", "events"}


def test_empty_report_says_nothing_follows(trusted: TrustList) -> None:
    batch = ReportBatch.verify(report([], after=7), trust_list=trusted)
    assert (batch.first, batch.last, batch.events, batch.head) == (8, 7, (), None)


def test_sign_report_refuses_inconsistent_input() -> None:
    events = make_chain(4)
    with pytest.raises(ReportInvalid, match="needs the sequence it follows"):
        report([])
    with pytest.raises(ReportInvalid, match="starts at event 2, not after event 5"):
        report(events[1:], after=5)
    with pytest.raises(ReportInvalid, match="reports only its own events, not UG's"):
        report([*events[:1], *make_chain(1, node_id="UG")])
    with pytest.raises(SequenceGap):
        report([events[0], events[2]])
    with pytest.raises(ReportTooLarge, match="at most 1000 events"):
        report(make_chain(MAX_REPORT_EVENTS + 1))


def test_a_node_reports_only_as_itself(trusted: TrustList) -> None:
    # Uganda signs, under its own DID, a report that claims to be Kenya's, with Kenya's events.
    payload = payload_of(report(make_chain(2)))
    forged = sign_jws(payload, key=UGANDA_KEY, did=UGANDA_DID, typ=REPORT_TYP)
    with pytest.raises(ReportInvalid, match=r"signed with a key of node UG but claims .*'KE'"):
        ReportBatch.verify(forged, trust_list=trusted)
    # The DID must be the node's too: Kenya's key, its kid naming Kenya, `iss` another DID.
    wrong_iss = resigned({**payload, "iss": "did:web:evil.example.org"})
    with pytest.raises(ReportInvalid, match="a node reports only as itself"):
        ReportBatch.verify(wrong_iss, trust_list=trusted)


@pytest.mark.parametrize("kid_did", [KENYA_DID, "did:web:evil.example.org"])
def test_a_kid_naming_another_did_than_the_keys_node_is_refused(
    trusted: TrustList, kid_did: str
) -> None:
    # Uganda's real key, its kid naming Kenya (whose report it claims to be) or a stranger.
    payload = payload_of(report(make_chain(2)))
    forged = sign_jws(payload, key=UGANDA_KEY, did=kid_did, typ=REPORT_TYP)
    with pytest.raises(ReportInvalid, match="kid names another DID than the key's node"):
        ReportBatch.verify(forged, trust_list=trusted)


def test_a_node_cannot_slip_in_another_nodes_events(trusted: TrustList) -> None:
    payload = payload_of(report(make_chain(1)))
    payload["events"] = [e.to_json() for e in make_chain(1, node_id="UG")]
    with pytest.raises(ReportInvalid, match="node KE reported events of another node"):
        ReportBatch.verify(resigned(payload), trust_list=trusted)


def test_unknown_key_and_bad_signature_are_refused(trusted: TrustList) -> None:
    stranger = SigningKey.generate()
    with pytest.raises(ReportInvalid, match="not on the trust list"):
        ReportBatch.verify(report(make_chain(1), key=stranger), trust_list=trusted)
    header, payload, signature = report(make_chain(1)).split(".")
    other_payload = report(make_chain(2)).split(".")[1]
    with pytest.raises(ReportInvalid, match="signature does not verify"):
        ReportBatch.verify(f"{header}.{other_payload}.{signature}", trust_list=trusted)
    assert payload != other_payload


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "not a token", "x" * (MAX_REPORT_BYTES + 1)],
)
def test_malformed_tokens_are_refused(trusted: TrustList, token: str) -> None:
    with pytest.raises(ReportInvalid, match="not a federation report"):
        ReportBatch.verify(token, trust_list=trusted)


def test_another_typ_is_refused(trusted: TrustList) -> None:
    payload = payload_of(report(make_chain(1)))
    token = sign_jws(payload, key=KENYA_KEY, did=KENYA_DID, typ="vc+jwt")
    with pytest.raises(ReportInvalid, match="typ must be 'federation-report\\+jwt'"):
        ReportBatch.verify(token, trust_list=trusted)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, "not allowed: extra"),
        ({"first": None}, "first must be a non-negative integer"),
        ({"last": True}, "last must be a non-negative integer"),
        ({"iat": "yesterday"}, "iat must be a non-negative integer"),
        ({"iat": 10**15}, "iat is out of range"),
        ({"events": {}}, "events must be a list"),
        ({"last": 3}, "says events 1 to 3 but carries 2"),
        ({"first": 0, "last": 1}, "says events 0 to 1"),
        ({"first": 2, "last": 3}, "says it starts at 2"),
    ],
)
def test_payload_shape_is_checked(trusted: TrustList, change: dict[str, Any], message: str) -> None:
    payload = {**payload_of(report(make_chain(2))), **change}
    with pytest.raises(ReportInvalid, match=message):
        ReportBatch.verify(resigned(payload), trust_list=trusted)


def test_missing_payload_member_is_refused(trusted: TrustList) -> None:
    payload = payload_of(report(make_chain(2)))
    del payload["first"]
    with pytest.raises(ReportInvalid, match="lacks first"):
        ReportBatch.verify(resigned(payload), trust_list=trusted)


def test_malformed_event_is_refused_with_its_position(trusted: TrustList) -> None:
    payload = payload_of(report(make_chain(2)))
    payload["events"][1]["sequence"] = "2"
    with pytest.raises(ReportInvalid, match="event 2 of the report is malformed"):
        ReportBatch.verify(resigned(payload), trust_list=trusted)


def test_chain_inside_a_signed_report_is_checked(trusted: TrustList) -> None:
    events = make_chain(3)
    payload = payload_of(report(events))
    payload["events"][1]["data"] = {"n": 99}
    with pytest.raises(ChainBroken, match="event 2 does not match its hash"):
        ReportBatch.verify(resigned(payload), trust_list=trusted)
    payload["events"] = [events[0].to_json(), events[2].to_json(), events[2].to_json()]
    with pytest.raises(SequenceGap, match="event 2 is missing"):
        ReportBatch.verify(resigned(payload), trust_list=trusted)


@pytest.mark.parametrize(
    ("node_options", "accepted"),
    [
        ({"key_status": KeyStatus.COMPROMISED, "key_status_since": T0}, False),
        ({"key_status": KeyStatus.RETIRED, "key_status_since": T0}, False),
        ({"key_status": KeyStatus.RETIRED, "key_status_since": T0 + timedelta(days=1)}, True),
        ({"status": NodeStatus.WITHDRAWN, "status_since": T0}, False),
        ({"status": NodeStatus.WITHDRAWN, "status_since": T0 + timedelta(days=1)}, True),
        ({"status": NodeStatus.SUSPENDED, "status_since": T0}, True),
    ],
)
def test_signer_status_at_signing_time(node_options: dict[str, Any], accepted: bool) -> None:
    trusted = trust_list(trusted_node("KE", KENYA_KEY, **node_options))
    token = report(make_chain(1))
    if accepted:
        assert ReportBatch.verify(token, trust_list=trusted).last == 1
    else:
        with pytest.raises(ReportInvalid):
            ReportBatch.verify(token, trust_list=trusted)


def test_key_validity_window_is_checked() -> None:
    node = trusted_node("KE", KENYA_KEY)
    (period,) = node.keys
    late = dataclasses.replace(period, valid_from=SIGNED_AT + timedelta(seconds=1))
    trusted = trust_list(dataclasses.replace(node, keys=(late,)))
    with pytest.raises(ReportInvalid, match="outside its key's validity"):
        ReportBatch.verify(report(make_chain(1)), trust_list=trusted)


def test_fit_report_keeps_reports_under_the_byte_cap(trusted: TrustList) -> None:
    bulky = make_chain(400, data={"note": "x" * 15_000})
    fitted = fit_report(bulky)
    assert 100 < len(fitted) < len(bulky)
    token = report(list(fitted))
    assert len(token) <= MAX_REPORT_BYTES
    assert ReportBatch.verify(token, trust_list=trusted).last == len(fitted)
    with pytest.raises(ReportTooLarge, match="bytes, over"):
        report(bulky[:300])
    small = make_chain(3)
    assert list(fit_report(small)) == small
    assert list(fit_report(small, max_events=2)) == small[:2]
    assert list(fit_report([])) == []
    with pytest.raises(ValueError, match="max_events"):
        fit_report(small, max_events=MAX_REPORT_EVENTS + 1)
