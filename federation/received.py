"""The global node's signed word that it received a certificate, and when (DESIGN §3, "Cut-offs").

`GET /federation/received/{credential id}` on the global node answers with this statement
(`typ: received-statement+jwt`), signed with a key the trust list gives the global node:

    {"iss": "<global DID>", "sub": "<node id>", "iat": <time>, "credential": "<credential id>",
     "receivedAt": "2026-03-01T09:30:00Z", "report": "sha256:<hex of the report token>"}

`report` names the member's signed report that carried the certificate (its `credential.issued`
event). Verifiers do not need it: the trust list's `receivedBeforeCutoff` is what they check,
online and offline. The statement answers one question for anyone who asks about one
certificate: did the global node receive it, in which report, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Self

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import (
    JwsToken,
    SigningKey,
    TrustList,
    isoformat,
    parse_datetime,
    sign_jws,
)

from .errors import ReportInvalid

__all__ = ["RECEIVED_STATEMENT_TYP", "ReceivedStatement"]

RECEIVED_STATEMENT_TYP: Final = "received-statement+jwt"
_MEMBERS: Final = frozenset({"iss", "sub", "iat", "credential", "receivedAt", "report"})


@dataclass(frozen=True, slots=True)
class ReceivedStatement:
    node_id: str
    credential_id: str
    received_at: datetime
    report: str
    issued_at: datetime

    def sign(self, *, key: SigningKey, issuer_did: str) -> str:
        payload = {
            "iss": issuer_did,
            "sub": self.node_id,
            "iat": int(self.issued_at.timestamp()),
            "credential": self.credential_id,
            "receivedAt": isoformat(self.received_at),
            "report": self.report,
        }
        return sign_jws(payload, key=key, did=issuer_did, typ=RECEIVED_STATEMENT_TYP)

    @classmethod
    def verify(cls, token: str, *, trust_list: TrustList) -> Self:
        """Check that a key the trust list gives the global node (its issuer) signed `token`."""
        try:
            parsed = JwsToken.parse(token, typ=RECEIVED_STATEMENT_TYP)
        except CredentialsError as exc:
            raise ReportInvalid(f"not a received statement: {exc}") from exc
        try:
            found = trust_list.signer_of(parsed)
        except CredentialsError as exc:
            raise ReportInvalid(f"the statement's kid does not name its key: {exc}") from exc
        if found is None or found[0].did != trust_list.issuer:
            raise ReportInvalid("the statement is not signed with a key of the global node")
        try:
            payload = parsed.verify(found[1].public_key)
        except CredentialsError as exc:
            raise ReportInvalid(f"the statement's signature does not verify: {exc}") from exc
        if set(payload) != _MEMBERS or payload["iss"] != trust_list.issuer:
            raise ReportInvalid("the statement's members are not those of a received statement")
        try:
            iat = payload["iat"]
            if type(iat) is not int:
                raise TypeError("iat must be an integer")
            statement = cls(
                node_id=_text(payload["sub"]),
                credential_id=_text(payload["credential"]),
                received_at=parse_datetime(_text(payload["receivedAt"])),
                report=_text(payload["report"]),
                issued_at=datetime.fromtimestamp(iat, UTC),
            )
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise ReportInvalid(f"the statement is malformed: {exc}") from exc
        return statement


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
