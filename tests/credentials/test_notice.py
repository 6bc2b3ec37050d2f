"""`verify_notice`, as an investor's receiver calls it, against forged and altered notices."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import pytest

from sdgcities.credentials import (
    MAX_NOTICE_BYTES,
    NOTICE_TYP,
    MalformedError,
    NoticeEvent,
    SignatureInvalid,
    SigningKey,
    TrustList,
    UntrustedIssuer,
    VerificationError,
    key_id,
    sign_notice,
    verify_notice,
)
from tests.vectors.builders import (
    CHANGED_AT,
    NOW,
    Federation,
    b64url,
    compact,
    header_of,
    json_bytes,
    payload_of,
    segments,
    sign_raw,
)

EVENT = NoticeEvent(
    type="credential.suspended",
    sequence=42,
    credential="urn:uuid:00000000-0000-4000-8000-000000000042",
    locode="KE-NBO",
    country="KE",
    stage="qualification",
    level="silver",
    status="suspended",
)


def _notice(
    fed: Federation,
    *,
    key: SigningKey | None = None,
    node_id: str = "KE",
    did_of: str = "KE",
    issued_at: datetime = NOW,
) -> str:
    return sign_notice(
        key=key or fed.node("KE").key,
        node_id=node_id,
        node_did=fed.node(did_of).did,
        issued_at=issued_at,
        delivery_id="d-1",
        watch_id=7,
        event=EVENT,
        certificate_url="https://ke.example/en/certificates/urn:uuid:42",
        cancel_url="https://ke.example/en/watch/cancel?token=abc",
    )


def test_a_genuine_notice_verifies(fed: Federation, accepted_trust_list: TrustList) -> None:
    token = _notice(fed)
    notice = verify_notice(token, trust_list=accepted_trust_list)
    assert (notice.node_id, notice.delivery_id, notice.watch_id) == ("KE", "d-1", 7)
    assert notice.event == EVENT
    assert notice.issued_at == NOW
    assert notice.kid == fed.node("KE").key.public_key.kid
    # What an HTTP body is: bytes, perhaps with a final newline.
    assert verify_notice(token.encode() + b"\n", trust_list=accepted_trust_list) == notice


def test_another_typ_is_refused(fed: Federation, accepted_trust_list: TrustList) -> None:
    token = _notice(fed)
    header = {**header_of(token), "typ": "federation-report+jwt"}
    forged = sign_raw(header, payload_of(token), fed.node("KE").key)
    with pytest.raises(MalformedError, match="typ"):
        verify_notice(forged, trust_list=accepted_trust_list)


def test_alg_none_is_refused(fed: Federation, accepted_trust_list: TrustList) -> None:
    token = _notice(fed)
    header = {**header_of(token), "alg": "none"}
    unsigned = f"{b64url(json_bytes(header))}.{segments(token)[1]}."
    with pytest.raises(VerificationError):
        verify_notice(unsigned, trust_list=accepted_trust_list)


def test_hs256_keyed_with_the_public_key_is_refused(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    token = _notice(fed)
    header = {**header_of(token), "alg": "HS256"}
    signing_input = f"{b64url(json_bytes(header))}.{segments(token)[1]}"
    public = fed.node("KE").key.public_key.to_jwk()["x"].encode()
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(MalformedError, match="algorithm"):
        verify_notice(forged, trust_list=accepted_trust_list)


def test_es256_even_with_a_listed_key_is_refused(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    token = _notice(fed)
    header = {
        "alg": "ES256",
        "typ": NOTICE_TYP,
        "kid": key_id(fed.node("KE").did, fed.ke_es256.public_key.kid),
    }
    forged = sign_raw(header, payload_of(token), fed.ke_es256)
    with pytest.raises(SignatureInvalid, match="EdDSA"):
        verify_notice(forged, trust_list=accepted_trust_list)


def test_a_key_not_on_the_trust_list_is_refused(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    with pytest.raises(UntrustedIssuer, match="not on the trust list"):
        verify_notice(_notice(fed, key=fed.stranger), trust_list=accepted_trust_list)


def test_another_members_real_key_cannot_sign_as_this_node(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    # Uganda's own key, its own DID in the kid, but the payload claims Kenya.
    with pytest.raises(UntrustedIssuer, match="claims to come from"):
        verify_notice(
            _notice(fed, key=fed.node("UG").key, did_of="UG"), trust_list=accepted_trust_list
        )
    # Uganda's key under Kenya's DID.
    with pytest.raises(UntrustedIssuer):
        verify_notice(_notice(fed, key=fed.node("UG").key), trust_list=accepted_trust_list)


def test_a_tampered_payload_is_refused(fed: Federation, accepted_trust_list: TrustList) -> None:
    token = _notice(fed)
    header_segment, _, signature = segments(token)
    payload: dict[str, Any] = payload_of(token)
    payload["event"]["type"] = "credential.reinstated"
    tampered = f"{header_segment}.{b64url(json_bytes(payload))}.{signature}"
    with pytest.raises(SignatureInvalid):
        verify_notice(tampered, trust_list=accepted_trust_list)


def test_an_oversized_notice_is_refused_before_parsing(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    token = _notice(fed)
    header_segment = segments(token)[0]
    payload = {**payload_of(token), "padding": "x" * MAX_NOTICE_BYTES}
    huge = compact(header_segment, b64url(json_bytes(payload)), fed.node("KE").key)
    with pytest.raises(MalformedError):
        verify_notice(huge, trust_list=accepted_trust_list)
    with pytest.raises(MalformedError, match="at most"):
        verify_notice(huge.encode(), trust_list=accepted_trust_list)


def test_unexpected_members_are_refused(fed: Federation, accepted_trust_list: TrustList) -> None:
    token = _notice(fed)
    payload = {**payload_of(token), "admin": True}
    forged = compact(segments(token)[0], b64url(json_bytes(payload)), fed.node("KE").key)
    with pytest.raises(MalformedError, match="unexpected"):
        verify_notice(forged, trust_list=accepted_trust_list)


def test_a_retired_key_verifies_only_what_it_signed_before_retirement(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    before = _notice(fed, key=fed.ke_retired, issued_at=CHANGED_AT - timedelta(days=1))
    assert verify_notice(before, trust_list=accepted_trust_list).node_id == "KE"
    with pytest.raises(UntrustedIssuer, match="retired"):
        verify_notice(_notice(fed, key=fed.ke_retired), trust_list=accepted_trust_list)


def test_a_compromised_key_and_a_withdrawn_node_are_refused(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    with pytest.raises(UntrustedIssuer, match="compromised"):
        verify_notice(_notice(fed, key=fed.ke_compromised), trust_list=accepted_trust_list)
    withdrawn = _notice(fed, key=fed.node("RW").key, node_id="RW", did_of="RW")
    with pytest.raises(UntrustedIssuer, match="withdrawn"):
        verify_notice(withdrawn, trust_list=accepted_trust_list)


def test_an_event_type_that_is_not_a_notice_is_refused(
    fed: Federation, accepted_trust_list: TrustList
) -> None:
    token = _notice(fed)
    payload: dict[str, Any] = payload_of(token)
    payload["event"]["type"] = "application.submitted"
    forged = compact(segments(token)[0], b64url(json_bytes(payload)), fed.node("KE").key)
    with pytest.raises(MalformedError, match="does not report"):
        verify_notice(forged, trust_list=accepted_trust_list)


def test_non_ascii_bytes_are_refused(accepted_trust_list: TrustList) -> None:
    with pytest.raises(MalformedError, match="ASCII"):
        verify_notice("é.é.é".encode(), trust_list=accepted_trust_list)
