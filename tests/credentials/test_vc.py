"""The certificate: a VCDM 2.0 credential as vc+jwt, and an Open Badges 3.0 OpenBadgeCredential."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sdgcities.credentials import (
    STAGE_LEVELS,
    CertificateIssue,
    Decision,
    FrameworkRef,
    StatusEntry,
    city_subject_id,
    isoformat,
    parse_datetime,
)
from tests.vectors.builders import DEFAULT_INDEX, ISSUED_AT, VALID_UNTIL, certificate, federation

VCDM_2 = "https://www.w3.org/ns/credentials/v2"
OB_3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SDGCITIES = "https://w3id.org/sdgcities/v1"


def decode(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture(params=["EdDSA", "ES256"])
def token(request) -> str:
    key = federation().ke_es256 if request.param == "ES256" else None
    return certificate(key=key)


@pytest.fixture
def credential(token) -> dict[str, Any]:
    return decode(token.split(".")[1])


def test_header_is_vc_jwt_with_alg_and_kid_only(token):
    header = decode(token.split(".")[0])
    key = federation().ke_es256 if header["alg"] == "ES256" else federation().node("KE").key

    kid = f"{federation().node('KE').did}#{key.kid}"
    assert header == {"alg": key.algorithm.value, "typ": "vc+jwt", "kid": kid}


def test_vcdm2_context_comes_first_then_open_badges_then_ours(credential):
    assert credential["@context"] == [VCDM_2, OB_3, SDGCITIES]


def test_types(credential):
    assert credential["type"][0] == "VerifiableCredential"
    assert {"OpenBadgeCredential", "SDGCitiesCertificate"} <= set(credential["type"])


def test_registered_claims_agree_with_the_credential(credential):
    # VC-JOSE-COSE: no vc/vp claim; the claims that are set mirror the credential.
    assert "vc" not in credential
    assert "vp" not in credential
    assert "nbf" not in credential
    assert credential["iss"] == credential["issuer"]["id"] == federation().node("KE").did
    assert credential["jti"] == credential["id"]
    assert credential["sub"] == credential["credentialSubject"]["id"]
    assert credential["iat"] == int(ISSUED_AT.timestamp())
    assert credential["exp"] == int(VALID_UNTIL.timestamp())
    valid_until = datetime.fromisoformat(credential["validUntil"])
    assert credential["exp"] == int(valid_until.timestamp())


def test_dates_are_utc_to_the_second(credential):
    for name in ("validFrom", "validUntil"):
        assert credential[name].endswith("Z")
        assert "." not in credential[name]
    assert datetime.fromisoformat(credential["validFrom"]) == ISSUED_AT


def test_one_message_status_entry_with_two_bits(credential):
    # OB 3.0's AchievementCredential schema allows one credentialStatus object, with an id.
    entry = credential["credentialStatus"]
    list_url = federation().node("KE").list_url()

    assert entry == {
        "id": f"{list_url}#{DEFAULT_INDEX}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": str(DEFAULT_INDEX),  # a string, as the spec asks
        "statusListCredential": list_url,
        "statusSize": 2,
        "statusMessage": [
            {"status": "0x0", "message": "active"},
            {"status": "0x1", "message": "suspended"},
            {"status": "0x2", "message": "revoked"},
            {"status": "0x3", "message": "revoked"},
        ],
    }


def test_the_status_entry_reads_back_what_it_writes():
    entry = StatusEntry("https://ke.example.org/status/1", 131_071)

    assert StatusEntry.from_json(entry.to_json()) == entry


def test_credential_subject(credential):
    subject = credential["credentialSubject"]
    ke = federation().node("KE")

    assert subject["id"] == city_subject_id("KE-NBO") == "urn:sdgcities:city:KE-NBO"
    assert subject["city"] == {"locode": "KE-NBO", "name": "Nairobi", "country": "KE"}
    assert (subject["stage"], subject["level"]) == ("evidence-based-processes", "gold")
    assert subject["framework"] == ke.framework.to_json()
    assert subject["decision"] == {
        "committee": "KE national committee",
        "meeting": "2026-1",
        "decidedAt": "2026-01-31T12:00:00Z",
    }


def test_open_badges_3_shape(credential):
    # OB 3.0: an AchievementSubject with an Achievement (id, type, name, description,
    # criteria) and an issuer Profile (id, type).
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    issuer = credential["issuer"]

    assert subject["type"] == ["AchievementSubject"]
    assert {"id", "type", "name", "description", "criteria"} <= set(achievement)
    assert "Achievement" in achievement["type"]
    assert achievement["id"].startswith("urn:")
    assert achievement["name"]
    assert achievement["description"]
    assert "narrative" in achievement["criteria"] or "id" in achievement["criteria"]
    assert "B.c" in achievement["criteria"]["narrative"]
    assert "Gold" in achievement["name"]
    assert "Profile" in issuer["type"]
    assert issuer["id"].startswith("did:web:")
    assert issuer["name"]
    assert credential["name"]


@pytest.mark.parametrize(("stage", "level"), sorted(STAGE_LEVELS.items()))
def test_each_stage_has_its_level(stage, level):
    issue = make_issue(stage=stage)

    subject = issue.credential()["credentialSubject"]

    assert (subject["stage"], subject["level"]) == (stage, level)
    assert level.capitalize() in subject["achievement"]["name"]


def make_issue(**changes: Any) -> CertificateIssue:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    base = "https://ke.example.org"
    fields: dict[str, Any] = {
        "credential_id": "urn:uuid:5b0e1c4e-0000-4000-8000-000000000001",
        "issuer_did": "did:web:ke.example.org",
        "issuer_name": "Kenya SDG Cities",
        "locode": "KE-NBO",
        "city_name": "Nairobi",
        "country": "KE",
        "stage": "qualification",
        "framework": FrameworkRef("ke-national", "1", "sha256:" + "ab" * 32),
        "decision": Decision("KE national committee", "2026-1", now),
        "criteria": ("A.a", "A.b", "A.c"),
        "valid_from": now,
        "valid_until": now + timedelta(days=365),
        "status": StatusEntry(f"{base}/status/1", 5),
    }
    return CertificateIssue(**{**fields, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"stage": "platinum"},
        {"valid_until": datetime(2026, 3, 2, tzinfo=UTC)},
    ],
)
def test_an_inconsistent_issue_is_refused_before_signing(changes):
    with pytest.raises(ValueError):  # noqa: PT011 (the issuing side's own programming error)
        make_issue(**changes)


PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 3, 1, 12, 30, 5, 999_999, tzinfo=UTC), "2026-03-01T12:30:05Z"),
        # Another zone is converted, not relabelled.
        (datetime(2026, 3, 1, 14, 30, 5, tzinfo=PLUS_TWO), "2026-03-01T12:30:05Z"),
        # A naive moment is UTC, whatever the machine's local time.
        (datetime(2026, 3, 1, 12, 30, 5), "2026-03-01T12:30:05Z"),
    ],
)
def test_every_timestamp_is_written_in_utc_to_the_second(moment: datetime, written: str) -> None:
    assert isoformat(moment) == written
    assert parse_datetime(written) == moment.replace(microsecond=0, tzinfo=moment.tzinfo or UTC)
