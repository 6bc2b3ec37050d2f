"""Jurisdiction (DESIGN §3): which countries' cities a trust-list node certifies, on the wire and
in the verifier's rules for a certificate as it is received (`verify_received`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sdgcities.credentials import (
    Exclusion,
    IssuerSuspended,
    Jurisdiction,
    MalformedError,
    NotYetValid,
    OutsideJurisdiction,
    Reason,
    TrustList,
    VerificationError,
    verify_received,
)
from tests.vectors.builders import (
    CHANGED_AT,
    ISSUED_AT,
    NOW,
    RECEIVED_INDEX,
    SN_JOINED_AT,
    certificate,
    federation,
    payload_of,
)

from .test_trust_list import root_signed

JOINED = NOW - timedelta(days=100)
LEFT = NOW - timedelta(days=10)


def test_a_national_jurisdiction_holds_its_country_at_any_time():
    kenya = Jurisdiction.national("KE")
    assert kenya.holds("KE", at=NOW - timedelta(days=9999))
    assert not kenya.holds("GH", at=NOW)
    assert kenya.to_json() == {"countries": ["KE"]}


def test_the_global_jurisdiction_excludes_a_member_country_while_it_is_held():
    jurisdiction = Jurisdiction.every_country(
        excluded=(Exclusion("KE", JOINED), Exclusion("RW", JOINED, LEFT))
    )
    assert jurisdiction.holds("BO", at=NOW)
    # Before KE joined, from its joining on (to the second, inclusive), for good.
    assert jurisdiction.holds("KE", at=JOINED - timedelta(seconds=1))
    assert not jurisdiction.holds("KE", at=JOINED)
    assert not jurisdiction.holds("KE", at=NOW + timedelta(days=9999))
    # A withdrawn member's country returns from the moment it left.
    assert not jurisdiction.holds("RW", at=LEFT - timedelta(seconds=1))
    assert jurisdiction.holds("RW", at=LEFT)


@pytest.mark.parametrize(
    "jurisdiction",
    [
        Jurisdiction.national("KE"),
        Jurisdiction.every_country(),
        Jurisdiction.every_country(
            excluded=(Exclusion("KE", JOINED), Exclusion("RW", JOINED, LEFT))
        ),
        # A country that left and whose node came back: two exclusions that do not overlap.
        Jurisdiction.every_country(
            excluded=(Exclusion("RW", JOINED, LEFT), Exclusion("RW", NOW, None))
        ),
    ],
)
def test_a_jurisdiction_round_trips(jurisdiction):
    assert Jurisdiction.from_json(jurisdiction.to_json()) == jurisdiction


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["KE"], "an object"),
        ({"countries": ["KE"], "extra": 1}, "an object"),
        ({}, "countries"),
        ({"countries": "KE"}, "countries"),
        ({"countries": [1]}, "countries"),
        ({"countries": ["ke"]}, "ISO 3166-1"),
        ({"countries": ["XX"]}, "ISO 3166-1"),
        ({"countries": ["UK"]}, "ISO 3166-1"),
        ({"countries": ["KE", "KE"]}, "twice"),
        ({"countries": ["KE"], "excluded": []}, "only a jurisdiction of every country"),
        ({"countries": "*"}, "lists its exclusions"),
        ({"countries": "*", "excluded": {}}, "lists its exclusions"),
        ({"countries": "*", "excluded": ["KE"]}, "an exclusion"),
        ({"countries": "*", "excluded": [{"country": "KE"}]}, "since"),
        (
            {"countries": "*", "excluded": [{"country": "KE", "since": "x", "other": 1}]},
            "an exclusion",
        ),
        ({"countries": "*", "excluded": [{"country": "KE", "since": "tomorrow"}]}, "malformed"),
        (
            {"countries": "*", "excluded": [{"country": "KE", "since": "2026-01-01T00:00:00"}]},
            "time zone",
        ),
        (
            {"countries": "*", "excluded": [{"country": "XX", "since": "2026-01-01T00:00:00Z"}]},
            "ISO 3166-1",
        ),
        (
            {
                "countries": "*",
                "excluded": [{"country": "KE", "since": "2026-01-01T00:00:00Z", "until": 5}],
            },
            "until",
        ),
        (
            {
                "countries": "*",
                "excluded": [
                    {
                        "country": "KE",
                        "since": "2026-01-01T00:00:00Z",
                        "until": "2026-01-01T00:00:00Z",
                    }
                ],
            },
            "ends before it begins",
        ),
        (
            {
                "countries": "*",
                "excluded": [
                    {"country": "KE", "since": "2026-01-01T00:00:00Z"},
                    {"country": "KE", "since": "2026-02-01T00:00:00Z"},
                ],
            },
            "overlap",
        ),
    ],
)
def test_a_malformed_jurisdiction_is_refused(data: Any, message: str):
    with pytest.raises(MalformedError, match=message):
        Jurisdiction.from_json(data)


def _node(payload: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in payload["nodes"] if n["id"] == node_id)


@pytest.mark.parametrize(
    ("node_id", "jurisdiction", "message"),
    [
        ("KE", None, "jurisdiction"),
        ("KE", {"countries": ["GH"]}, "its own country only"),
        ("KE", {"countries": ["KE", "GH"]}, "its own country only"),
        ("KE", {"countries": "*", "excluded": []}, "its own country only"),
        ("global", {"countries": ["XX"]}, "ISO 3166-1"),
    ],
)
def test_a_root_signed_list_with_a_wrong_jurisdiction_is_refused(
    fed, node_id, jurisdiction, message
):
    payload = payload_of(fed.trust_list().sign(fed.root))
    node = _node(payload, node_id)
    if jurisdiction is None:
        del node["jurisdiction"]
    else:
        node["jurisdiction"] = jurisdiction

    with pytest.raises(MalformedError, match=message):
        TrustList.from_jws(root_signed(fed, payload), pinned_thumbprints=fed.pinned, now=NOW)


def test_the_signed_list_states_every_jurisdiction(fed):
    payload = payload_of(fed.trust_list().sign(fed.root))
    assert _node(payload, "KE")["jurisdiction"] == {"countries": ["KE"]}
    excluded = _node(payload, "global")["jurisdiction"]["excluded"]
    assert {"country": "SN", "since": "2025-11-22T12:00:00Z"} in excluded
    assert {
        "country": "RW",
        "since": "2025-03-02T12:00:00Z",
        "until": "2026-02-20T12:00:00Z",
    } in excluded


def test_a_node_built_without_a_jurisdiction_gets_its_ids():
    kenya = Jurisdiction.for_node_id("KE")
    assert kenya == Jurisdiction.national("KE")
    assert Jurisdiction.for_node_id("global") == Jurisdiction.every_country()
    assert not Jurisdiction.for_node_id("lab").holds("KE", at=NOW)


# The verifier's rules for a certificate as it is received.


def test_a_certificate_received_in_its_issuers_jurisdiction_is_taken(accepted_trust_list):
    received = verify_received(certificate(), trust_list=accepted_trust_list, received_at=ISSUED_AT)
    assert received.issuer.id == "KE"
    assert received.issued_at == ISSUED_AT
    assert received.credential["credentialSubject"]["city"]["locode"] == "KE-NBO"


def test_another_countrys_city_is_refused(accepted_trust_list):
    with pytest.raises(OutsideJurisdiction, match="does not certify cities of GH"):
        verify_received(
            certificate(locode="GH-ACC"), trust_list=accepted_trust_list, received_at=ISSUED_AT
        )


def test_an_iat_past_the_receipt_and_its_leeway_is_refused(accepted_trust_list):
    token = certificate()
    leeway = timedelta(minutes=10)
    verify_received(
        token, trust_list=accepted_trust_list, received_at=ISSUED_AT - leeway, leeway=leeway
    )
    with pytest.raises(NotYetValid, match="later than now"):
        verify_received(
            token,
            trust_list=accepted_trust_list,
            received_at=ISSUED_AT - leeway - timedelta(seconds=1),
            leeway=leeway,
        )


def test_a_certificate_received_after_its_issuer_was_suspended_is_refused(accepted_trust_list):
    # UG signed it before its suspension (the trust list says it was received then), but here it
    # is received only after.
    token = certificate("UG", issued_at=CHANGED_AT - timedelta(days=1), index=RECEIVED_INDEX)
    verify_received(token, trust_list=accepted_trust_list, received_at=CHANGED_AT - timedelta(1))
    with pytest.raises(IssuerSuspended):
        verify_received(token, trust_list=accepted_trust_list, received_at=CHANGED_AT)


def test_the_global_nodes_certificate_from_before_a_join_is_taken_after_it(accepted_trust_list):
    token = certificate("global", locode="SN-DKR", issued_at=SN_JOINED_AT - timedelta(days=1))
    received = verify_received(token, trust_list=accepted_trust_list, received_at=NOW)
    assert received.issuer.id == "global"
    with pytest.raises(OutsideJurisdiction):
        verify_received(
            certificate("global", locode="SN-DKR", issued_at=SN_JOINED_AT),
            trust_list=accepted_trust_list,
            received_at=NOW,
        )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: "not a token", Reason.MALFORMED),
        (lambda: certificate(key=federation().stranger), Reason.UNKNOWN_ISSUER),
    ],
)
def test_what_the_verifier_refuses_is_refused_on_receipt(accepted_trust_list, token, reason):
    with pytest.raises(VerificationError) as raised:
        verify_received(token(), trust_list=accepted_trust_list, received_at=NOW)
    assert raised.value.reason is reason
