"""Framework endorsements: the global root key's signature over an adapted framework's digest.

A node certifies only under a framework version that carries one (DESIGN §2). The endorsement is a
compact JWS (`typ: framework-endorsement+jwt`) that a node verifies against the pinned root key
before it stores it, and that the trust list carries beside the node. The root key is the global
node's: the header's `kid` is `<global node DID>#<root thumbprint>`, the DID also in `iss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from .errors import MalformedError, UntrustedIssuer
from .jws import KID_NAMES_ANOTHER_DID, JwsToken, sign_jws
from .keys import PublicKey, SigningKey
from .vc import FrameworkRef

ENDORSEMENT_TYP = "framework-endorsement+jwt"


@dataclass(frozen=True, slots=True)
class Endorsement:
    framework: FrameworkRef
    node_id: str
    endorsed_at: datetime
    token: str

    @classmethod
    def sign(
        cls,
        *,
        framework: FrameworkRef,
        node_id: str,
        root_key: SigningKey,
        issuer_did: str,
        endorsed_at: datetime,
    ) -> Self:
        payload = {
            "iss": issuer_did,
            "sub": node_id,
            "iat": int(endorsed_at.timestamp()),
            "framework": framework.to_json(),
        }
        token = sign_jws(payload, key=root_key, did=issuer_did, typ=ENDORSEMENT_TYP)
        return cls(framework=framework, node_id=node_id, endorsed_at=endorsed_at, token=token)

    @classmethod
    def verify(
        cls, token: str, *, root_keys: tuple[PublicKey, ...], root_did: str | None = None
    ) -> Self:
        """Check the signature against the pinned root key(s) and return what it endorses.

        The kid's DID must be the endorsement's `iss`, and `root_did` (the global node's DID,
        when the caller knows it: the trust list's issuer) too.
        """
        parsed = JwsToken.parse(token, typ=ENDORSEMENT_TYP)
        key = next((k for k in root_keys if k.kid == parsed.thumbprint), None)
        if key is None:
            raise UntrustedIssuer("the endorsement is not signed by a pinned global root key")
        if root_did is not None and parsed.kid_did != root_did:
            raise UntrustedIssuer(KID_NAMES_ANOTHER_DID)
        payload = parsed.verify(key)
        if not isinstance(payload.get("iss"), str):
            raise MalformedError("endorsement lacks its issuer (iss)")
        if payload["iss"] != parsed.kid_did:
            raise UntrustedIssuer(KID_NAMES_ANOTHER_DID)
        framework, node_id, iat = payload.get("framework"), payload.get("sub"), payload.get("iat")
        if not isinstance(framework, dict) or not isinstance(node_id, str):
            raise MalformedError("endorsement lacks its framework or node")
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise MalformedError("endorsement iat must be an integer")
        fields = {name: framework.get(name) for name in ("id", "version", "digest")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise MalformedError("endorsed framework needs id, version and digest")
        try:
            endorsed_at = datetime.fromtimestamp(iat, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedError("endorsement iat is out of range") from exc
        return cls(
            framework=FrameworkRef(**fields),  # type: ignore[arg-type]
            node_id=node_id,
            endorsed_at=endorsed_at,
            token=token,
        )
