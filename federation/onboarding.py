"""Onboarding messages a national node sends the global node (DESIGN §5), with proof of possession.

Both are compact JWS; each proves itself, so the global node needs no prior trust in the sender:

- `JoinRequest` (`typ: join-request+jwt`): {nodeId, did, baseUrl, name, keys: [jwk], iat, nonce},
  signed by one of the keys it carries, under the joining node's own DID (the header `kid` is
  `<did>#<thumbprint>`). The DID must be the `did:web` of the base URL and `iat` within
  `MAX_CLOCK_SKEW` of now. Every key must be an acceptable public JWK.
- `EndorsementRequest` (`typ: endorsement-request+jwt`): a member's adapted framework document
  and its digest, signed by an active key the trust list gives that member.
- `KeyRotation` (`typ: key-rotation+jwt`): {nodeId, newKey: jwk, iat, newKeyProof}, signed by a key
  the node already holds; `newKeyProof` is a JWS by the new key over {nodeId, kid, iat}, so both
  possessions are proven. Both kids name the node's DID. Which keys and DID the node holds is the
  caller's (the registry's) to say.

`from_jws` checks shape, signatures and freshness; whether the node may join or rotate (already a
member, key taken) is the trust registry's decision.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import (
    FrameworkRef,
    KeyStatus,
    NodeStatus,
    PublicKey,
    SigningKey,
    TrustList,
    did_web_from_base_url,
    normalise_base_url,
    parse_json_object,
)
from sdgcities.credentials.jws import KID_NAMES_ANOTHER_DID, JwsToken, sign_jws

from .errors import OnboardingError, PossessionNotProven, RequestStale

JOIN_REQUEST_TYP = "join-request+jwt"
KEY_ROTATION_TYP = "key-rotation+jwt"
NEW_KEY_PROOF_TYP = "key-possession+jwt"
MAX_CLOCK_SKEW = timedelta(minutes=10)
MAX_ONBOARDING_BYTES = 64 * 1024
MAX_KEYS = 8
ENDORSEMENT_REQUEST_TYP = "endorsement-request+jwt"
MAX_ENDORSEMENT_REQUEST_BYTES = 768 * 1024

__all__ = [
    "ENDORSEMENT_REQUEST_TYP",
    "JOIN_REQUEST_TYP",
    "KEY_ROTATION_TYP",
    "MAX_CLOCK_SKEW",
    "MAX_ONBOARDING_BYTES",
    "EndorsementRequest",
    "JoinRequest",
    "KeyRotation",
]


def _parse(token: str, *, typ: str) -> JwsToken:
    try:
        return JwsToken.parse(token, typ=typ, max_bytes=MAX_ONBOARDING_BYTES)
    except CredentialsError as exc:
        raise OnboardingError(f"not a {typ} token: {exc}") from exc


def _verify(parsed: JwsToken, key: PublicKey) -> dict[str, Any]:
    try:
        return parsed.verify(key)
    except CredentialsError as exc:
        raise PossessionNotProven(f"the signature does not verify: {exc}") from exc


def _str(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise OnboardingError(f"{name} must be a non-empty string")
    return value


def _iat(payload: dict[str, Any]) -> datetime:
    value = payload.get("iat")
    if not isinstance(value, int) or isinstance(value, bool):
        raise OnboardingError("iat must be an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise OnboardingError("iat is out of range") from exc


def _key(jwk: Any) -> PublicKey:
    try:
        return PublicKey.from_jwk(jwk)
    except CredentialsError as exc:
        raise OnboardingError(f"a key is not a usable public JWK: {exc}") from exc


def _check_fresh(issued_at: datetime, now: datetime) -> None:
    if abs(now - issued_at) > MAX_CLOCK_SKEW:
        raise RequestStale(
            f"the request was signed at {issued_at.isoformat()}, more than "
            f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes from now"
        )


@dataclass(frozen=True, slots=True)
class JoinRequest:
    node_id: str
    did: str
    base_url: str
    name: str
    keys: tuple[PublicKey, ...]
    issued_at: datetime
    nonce: str
    token: str

    @classmethod
    def sign(
        cls,
        *,
        node_id: str,
        base_url: str,
        name: str,
        key: SigningKey,
        now: datetime | None = None,
    ) -> str:
        """The compact JWS a node sends to join, signed with (and carrying) its `key`."""
        issued = now or datetime.now(UTC)
        did = did_web_from_base_url(base_url)
        payload = {
            "nodeId": node_id,
            "did": did,
            "baseUrl": normalise_base_url(base_url),
            "name": name,
            "keys": [key.public_key.to_jwk()],
            "iat": int(issued.timestamp()),
            "nonce": secrets.token_urlsafe(16),
        }
        return sign_jws(payload, key=key, did=did, typ=JOIN_REQUEST_TYP)

    @classmethod
    def from_jws(cls, token: str, *, now: datetime | None = None) -> Self:
        """Parse and prove: the signing key is one the payload carries, the DID matches."""
        parsed = _parse(token, typ=JOIN_REQUEST_TYP)
        # The payload is not trusted yet; it is read only to find the key it claims.
        try:
            claims = parse_json_object(parsed.payload_bytes, what="payload")
        except CredentialsError as exc:
            raise OnboardingError(f"join request payload is malformed: {exc}") from exc
        raw_keys = claims.get("keys")
        if not isinstance(raw_keys, list) or not raw_keys or len(raw_keys) > MAX_KEYS:
            raise OnboardingError(f"keys must be a list of 1 to {MAX_KEYS} public JWKs")
        keys = tuple(_key(jwk) for jwk in raw_keys)
        if len({k.kid for k in keys}) != len(keys):
            raise OnboardingError("a key is listed twice")
        signer = next((k for k in keys if k.kid == parsed.thumbprint), None)
        if signer is None:
            raise PossessionNotProven("the request is not signed by a key it carries")
        payload = _verify(parsed, signer)
        base_url = _str(payload, "baseUrl")
        try:
            normalised = normalise_base_url(base_url)
            expected_did = did_web_from_base_url(normalised)
        except CredentialsError as exc:
            raise OnboardingError(f"baseUrl is not acceptable: {exc}") from exc
        did = _str(payload, "did")
        if did != expected_did:
            raise OnboardingError(f"did {did} is not the did:web of {normalised} ({expected_did})")
        if parsed.kid_did != did:
            raise PossessionNotProven(f"{KID_NAMES_ANOTHER_DID}: the kid must name {did}")
        request = cls(
            node_id=_str(payload, "nodeId"),
            did=did,
            base_url=normalised,
            name=_str(payload, "name"),
            keys=keys,
            issued_at=_iat(payload),
            nonce=_str(payload, "nonce"),
            token=token,
        )
        _check_fresh(request.issued_at, now or datetime.now(UTC))
        return request

    def payload(self) -> dict[str, Any]:
        return {
            "nodeId": self.node_id,
            "did": self.did,
            "baseUrl": self.base_url,
            "name": self.name,
            "keys": [k.to_jwk() for k in self.keys],
            "iat": int(self.issued_at.timestamp()),
            "nonce": self.nonce,
        }


@dataclass(frozen=True, slots=True)
class KeyRotation:
    node_id: str
    new_key: PublicKey
    signed_by: str
    issued_at: datetime
    token: str

    @classmethod
    def sign(
        cls,
        *,
        node_id: str,
        did: str,
        current_key: SigningKey,
        new_key: SigningKey,
        now: datetime | None = None,
    ) -> str:
        """Signed by `current_key`, with the new key's own proof; both kids name `did`."""
        issued = int((now or datetime.now(UTC)).timestamp())
        proof = sign_jws(
            {"nodeId": node_id, "kid": new_key.kid, "iat": issued},
            key=new_key,
            did=did,
            typ=NEW_KEY_PROOF_TYP,
        )
        payload = {
            "nodeId": node_id,
            "newKey": new_key.public_key.to_jwk(),
            "iat": issued,
            "newKeyProof": proof,
        }
        return sign_jws(payload, key=current_key, did=did, typ=KEY_ROTATION_TYP)

    @staticmethod
    def claimed_node_id(token: str) -> str:
        """The node the rotation says it is for, unverified: only to look up its keys."""
        parsed = _parse(token, typ=KEY_ROTATION_TYP)
        try:
            claims = parse_json_object(parsed.payload_bytes, what="payload")
        except CredentialsError as exc:
            raise OnboardingError(f"key rotation payload is malformed: {exc}") from exc
        return _str(claims, "nodeId")

    @classmethod
    def from_jws(
        cls,
        token: str,
        *,
        did: str,
        active_keys: Collection[PublicKey],
        now: datetime | None = None,
    ) -> Self:
        """Verify against the node's currently active keys, then the new key's own proof; `did`
        is the node's DID, which both kids must name."""
        parsed = _parse(token, typ=KEY_ROTATION_TYP)
        signer = next((k for k in active_keys if k.kid == parsed.thumbprint), None)
        if signer is None:
            raise PossessionNotProven("the rotation is not signed by an active key of the node")
        if parsed.kid_did != did:
            raise PossessionNotProven(f"{KID_NAMES_ANOTHER_DID} ({did})")
        payload = _verify(parsed, signer)
        node_id = _str(payload, "nodeId")
        new_key = _key(payload.get("newKey"))
        issued_at = _iat(payload)
        proof = _parse(_str(payload, "newKeyProof"), typ=NEW_KEY_PROOF_TYP)
        if proof.thumbprint != new_key.kid:
            raise PossessionNotProven("the new-key proof is not signed by the new key")
        if proof.kid_did != did:
            raise PossessionNotProven(f"the new-key proof: {KID_NAMES_ANOTHER_DID} ({did})")
        claims = _verify(proof, new_key)
        if claims.get("nodeId") != node_id or claims.get("kid") != new_key.kid:
            raise PossessionNotProven("the new-key proof is for another node or key")
        if claims.get("iat") != payload.get("iat"):
            raise PossessionNotProven("the new-key proof was made for another rotation")
        _check_fresh(issued_at, now or datetime.now(UTC))
        return cls(
            node_id=node_id,
            new_key=new_key,
            signed_by=signer.kid,
            issued_at=issued_at,
            token=token,
        )


@dataclass(frozen=True, slots=True)
class EndorsementRequest:
    """A member asks the global node to endorse an adapted framework version.

    `typ: endorsement-request+jwt`, payload {nodeId, framework: {id, version, digest}, document,
    iat}, signed by an active key of an active member on the trust list. Whether `document`
    hashes to `digest` is checked by the receiver, who knows the framework document format.
    """

    node_id: str
    framework: FrameworkRef
    document: str
    issued_at: datetime
    token: str

    @classmethod
    def sign(
        cls,
        *,
        node_id: str,
        did: str,
        framework: FrameworkRef,
        document: str,
        key: SigningKey,
        now: datetime | None = None,
    ) -> str:
        payload = {
            "nodeId": node_id,
            "framework": framework.to_json(),
            "document": document,
            "iat": int((now or datetime.now(UTC)).timestamp()),
        }
        return sign_jws(payload, key=key, did=did, typ=ENDORSEMENT_REQUEST_TYP)

    @classmethod
    def from_jws(cls, token: str, *, trust_list: TrustList, now: datetime | None = None) -> Self:
        try:
            parsed = JwsToken.parse(
                token, typ=ENDORSEMENT_REQUEST_TYP, max_bytes=MAX_ENDORSEMENT_REQUEST_BYTES
            )
        except CredentialsError as exc:
            raise OnboardingError(f"not a {ENDORSEMENT_REQUEST_TYP} token: {exc}") from exc
        try:
            found = trust_list.signer_of(parsed)
        except CredentialsError as exc:
            raise PossessionNotProven(str(exc)) from exc
        if found is None:
            raise PossessionNotProven("the request is not signed by a key on the trust list")
        node, period = found
        if node.status is not NodeStatus.ACTIVE or period.status is not KeyStatus.ACTIVE:
            raise PossessionNotProven(
                f"node {node.id} or its key is not active: it may not ask for endorsements"
            )
        payload = _verify(parsed, period.public_key)
        node_id = _str(payload, "nodeId")
        if node_id != node.id:
            raise PossessionNotProven(f"the request names node {node_id} but {node.id} signed it")
        framework = payload.get("framework")
        if not isinstance(framework, dict):
            raise OnboardingError("framework must be an object with id, version and digest")
        fields = {name: framework.get(name) for name in ("id", "version", "digest")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise OnboardingError("framework must be an object with id, version and digest")
        issued_at = _iat(payload)
        _check_fresh(issued_at, now or datetime.now(UTC))
        return cls(
            node_id=node_id,
            framework=FrameworkRef(**fields),  # type: ignore[arg-type]
            document=_str(payload, "document"),
            issued_at=issued_at,
            token=token,
        )
