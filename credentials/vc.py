"""SDG Cities certificates: W3C VCDM 2.0 credentials secured as `vc+jwt` (VC-JOSE-COSE).

The JWT payload *is* the credential (no `vc` claim). The registered claims that are set agree with
it: `iss` = `issuer.id`, `jti` = `id`, `sub` = `credentialSubject.id`, `iat` = signing time and
`exp` = `validUntil`, so any JOSE library can check the signature and expiry. The credential is
also an Open Badges 3.0 `OpenBadgeCredential`, so badge wallets can display it, and every term
in it is defined by one of the three contexts it lists, the last being the project's own
(`context.py`), so that JSON-LD processors drop nothing (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .context import SDGCITIES_CONTEXT
from .jws import sign_jws
from .keys import SigningKey
from .status_entry import StatusEntry

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# A certificate's `@context`, exactly: VCDM 2.0 first (as it requires), Open Badges second (as
# its schema requires), ours last: it only adds terms, and no later context may redefine them.
CERTIFICATE_CONTEXTS = (VC_CONTEXT, OB_CONTEXT, SDGCITIES_CONTEXT)
VC_JWT_TYP = "vc+jwt"
CERTIFICATE_TYPE = "SDGCitiesCertificate"
CERTIFICATE_TYPES = ("VerifiableCredential", "OpenBadgeCredential", CERTIFICATE_TYPE)

# DESIGN §2: four stages, certified in order, one level each (§24 of the source document).
STAGE_LEVELS: Mapping[str, str] = {
    "qualification": "silver",
    "evidence-based-processes": "gold",
    "enabling-environment": "platinum",
    "impact": "diamond",
}
STAGE_NAMES: Mapping[str, str] = {
    "qualification": "Qualification (candidate city)",
    "evidence-based-processes": "Inclusive, evidence-based processes",
    "enabling-environment": "Effective enabling environment",
    "impact": "Impact",
}


def city_subject_id(locode: str) -> str:
    return f"urn:sdgcities:city:{locode}"


def isoformat(moment: datetime) -> str:
    """XML Schema dateTime in UTC with a `Z`, to the second, as VCDM 2.0 examples write it.

    The one formatter of every timestamp the system writes (credentials, events, messages,
    manifests). A naive `moment` is taken as UTC, never as the machine's local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date-time must carry a time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # year 1 or 9999 pushed out of range by its offset
        raise ValueError(f"date-time {value!r} is out of range in UTC") from exc


@dataclass(frozen=True, slots=True)
class FrameworkRef:
    id: str
    version: str
    digest: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "digest": self.digest}


@dataclass(frozen=True, slots=True)
class Decision:
    committee: str
    meeting: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class CertificateIssue:
    """Everything a node decides about one certificate before it is signed."""

    credential_id: str
    issuer_did: str
    issuer_name: str
    locode: str
    city_name: str
    country: str
    stage: str
    framework: FrameworkRef
    decision: Decision
    criteria: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    status: StatusEntry

    def __post_init__(self) -> None:
        if self.stage not in STAGE_LEVELS:
            raise ValueError(f"unknown stage {self.stage!r}")
        if self.valid_until <= self.valid_from:
            raise ValueError("validUntil must be after validFrom")

    @property
    def level(self) -> str:
        return STAGE_LEVELS[self.stage]

    def credential(self) -> dict[str, Any]:
        """The VCDM 2.0 credential (also the JWT payload, before the registered claims)."""
        level, stage_name = self.level, STAGE_NAMES[self.stage]
        title = f"SDG Cities {level.capitalize()}: {stage_name}"
        return {
            "@context": list(CERTIFICATE_CONTEXTS),
            "id": self.credential_id,
            "type": list(CERTIFICATE_TYPES),
            "name": f"{title} — {self.city_name}",
            "issuer": {"id": self.issuer_did, "type": ["Profile"], "name": self.issuer_name},
            "validFrom": isoformat(self.valid_from),
            "validUntil": isoformat(self.valid_until),
            "credentialSubject": {
                "id": city_subject_id(self.locode),
                "type": ["AchievementSubject"],
                "city": {"locode": self.locode, "name": self.city_name, "country": self.country},
                "stage": self.stage,
                "level": level,
                "framework": self.framework.to_json(),
                "decision": {
                    "committee": self.decision.committee,
                    "meeting": self.decision.meeting,
                    "decidedAt": isoformat(self.decision.decided_at),
                },
                "achievement": {
                    "id": (
                        f"urn:sdgcities:achievement:{self.framework.id}:"
                        f"{self.framework.version}:{self.stage}"
                    ),
                    "type": ["Achievement"],
                    "achievementType": "Certificate",
                    "name": title,
                    "description": (
                        f"SDG Cities {level}, framework {self.framework.id} "
                        f"v{self.framework.version}"
                    ),
                    "criteria": {
                        "narrative": "Criteria met, as reviewed by the technical team: "
                        + ", ".join(self.criteria)
                    },
                },
            },
            "credentialStatus": self.status.to_json(),
        }

    def sign(self, key: SigningKey, *, issued_at: datetime) -> str:
        """The `vc+jwt` compact token."""
        payload = {
            **self.credential(),
            "iss": self.issuer_did,
            "jti": self.credential_id,
            "sub": city_subject_id(self.locode),
            "iat": int(issued_at.timestamp()),
            "exp": int(self.valid_until.timestamp()),
        }
        return sign_jws(payload, key=key, did=self.issuer_did, typ=VC_JWT_TYP)
