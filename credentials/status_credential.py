"""The signed `BitstringStatusListCredential` (W3C Bitstring Status List v1.0), as `vc+jwt`.

A status list credential has a short validity and is re-signed before it lapses even when no bit
changed, so a verifier can tell a fresh list from a replayed old one (as ICAO CRLs do).

A node's lists have the purpose `message`, two bits per certificate (`status_entry`). The entry,
not the list, says `statusSize` and `statusMessage`: the spec's data model puts them there and
the v2 context defines them only there (the sentence of the spec's §2.2 that asks for them in the
list's subject is a known leftover, w3c/vc-bitstring-status-list#175).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from .errors import MalformedError
from .jws import sign_jws
from .keys import SigningKey
from .status_entry import STATUS_PURPOSE
from .status_list import StatusBitstring
from .vc import VC_CONTEXT, VC_JWT_TYP, isoformat, parse_datetime

STATUS_LIST_TYPES = ("VerifiableCredential", "BitstringStatusListCredential")


def _isoformat_ms(moment: datetime) -> str:
    """`isoformat`, with milliseconds when there are any: a node dates two versions of one list
    signed within a second a millisecond apart, so that verifiers can order them (DESIGN §4)."""
    utc = moment.astimezone(UTC)
    if utc.microsecond < 1000:
        return isoformat(utc)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def sign_status_list(
    *,
    list_url: str,
    bitstring: StatusBitstring,
    issuer_did: str,
    key: SigningKey,
    valid_from: datetime,
    valid_until: datetime,
) -> str:
    payload = {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": list(STATUS_LIST_TYPES),
        "issuer": issuer_did,
        "validFrom": _isoformat_ms(valid_from),
        "validUntil": _isoformat_ms(valid_until),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": bitstring.encode(),
        },
        "iss": issuer_did,
        "jti": list_url,
        "sub": f"{list_url}#list",
        "iat": int(valid_from.timestamp()),
        "exp": int(valid_until.timestamp()),
    }
    return sign_jws(payload, key=key, did=issuer_did, typ=VC_JWT_TYP)


@dataclass(frozen=True, slots=True)
class StatusList:
    """A status list credential's content, read from a payload whose signature was checked."""

    url: str
    issuer: str
    purpose: str
    valid_from: datetime
    valid_until: datetime
    bits: StatusBitstring

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        """Shape checks only; the caller has verified the signature and decides on trust."""
        try:
            types = payload["type"]
            subject = payload["credentialSubject"]
            url, issuer = payload["id"], payload["issuer"]
            valid_from = parse_datetime(payload["validFrom"])
            valid_until = parse_datetime(payload["validUntil"])
            purpose, encoded = subject["statusPurpose"], subject["encodedList"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedError(f"status list credential is incomplete: {exc}") from exc
        if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
            raise MalformedError("not a BitstringStatusListCredential")
        if not all(isinstance(v, str) for v in (url, issuer, purpose, encoded)):
            raise MalformedError("status list credential members have the wrong types")
        if payload.get("iss") != issuer:
            raise MalformedError("status list iss differs from its issuer")
        if subject.get("type") != "BitstringStatusList":
            raise MalformedError("credentialSubject is not a BitstringStatusList")
        return cls(
            url=url,
            issuer=issuer,
            purpose=purpose,
            valid_from=valid_from,
            valid_until=valid_until,
            bits=StatusBitstring.decode(encoded),
        )
