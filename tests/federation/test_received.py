"""The global node's signed statement that it received a certificate (`received-statement+jwt`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sdgcities.credentials import SigningKey, sign_jws
from sdgcities.federation import RECEIVED_STATEMENT_TYP, ReceivedStatement, ReportInvalid
from tests.vectors.builders import GLOBAL_DID, NOW, federation, payload_of, trust_list

STATEMENT = ReceivedStatement(
    node_id="KE",
    credential_id="urn:uuid:00000000-0000-4000-8000-000000070002",
    received_at=NOW - timedelta(days=20),
    report="sha256:" + "ab" * 32,
    issued_at=NOW,
)


def _global_key() -> SigningKey:
    return federation().node("global").key


def test_a_statement_signed_by_the_global_node_verifies() -> None:
    token = STATEMENT.sign(key=_global_key(), issuer_did=GLOBAL_DID)

    assert ReceivedStatement.verify(token, trust_list=trust_list()) == STATEMENT
    assert payload_of(token) == {
        "iss": GLOBAL_DID,
        "sub": "KE",
        "iat": int(NOW.timestamp()),
        "credential": STATEMENT.credential_id,
        "receivedAt": "2026-02-10T12:00:00Z",
        "report": STATEMENT.report,
    }


def test_a_members_key_cannot_speak_for_the_global_node() -> None:
    ke = federation().node("KE")
    # Under the global node's DID, the kid names another DID than the key's node.
    token = STATEMENT.sign(key=ke.key, issuer_did=GLOBAL_DID)
    with pytest.raises(ReportInvalid, match="another DID than the key's node"):
        ReceivedStatement.verify(token, trust_list=trust_list())
    # Under its own DID, the key is KE's, not the global node's.
    token = STATEMENT.sign(key=ke.key, issuer_did=ke.did)
    with pytest.raises(ReportInvalid, match="not signed with a key of the global node"):
        ReceivedStatement.verify(token, trust_list=trust_list())


def _resigned(**changes: Any) -> str:
    payload = payload_of(STATEMENT.sign(key=_global_key(), issuer_did=GLOBAL_DID)) | changes
    return sign_jws(
        {k: v for k, v in payload.items() if v is not None},
        key=_global_key(),
        did=GLOBAL_DID,
        typ=RECEIVED_STATEMENT_TYP,
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: "not a token", "not a received statement"),
        (
            lambda: sign_jws({"iss": GLOBAL_DID}, key=_global_key(), did=GLOBAL_DID, typ="vc+jwt"),
            "not a received statement",
        ),
        (lambda: _resigned(extra=1), "members"),
        (lambda: _resigned(report=None), "members"),
        (lambda: _resigned(iss="did:web:ke.sdgcities.example"), "members"),
        (lambda: _resigned(sub=7), "malformed"),
        (lambda: _resigned(iat="2026"), "malformed"),
        (lambda: _resigned(receivedAt="yesterday"), "malformed"),
    ],
)
def test_anything_else_is_refused(token: Any, message: str) -> None:
    with pytest.raises(ReportInvalid, match=message):
        ReceivedStatement.verify(token(), trust_list=trust_list())


def test_a_tampered_statement_is_refused() -> None:
    token = STATEMENT.sign(key=_global_key(), issuer_did=GLOBAL_DID)
    header, _, signature = token.split(".")
    other = _resigned(sub="UG").split(".")[1]

    with pytest.raises(ReportInvalid, match="does not verify"):
        ReceivedStatement.verify(f"{header}.{other}.{signature}", trust_list=trust_list())
