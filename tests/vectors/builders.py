"""Builders of the known-bad (and a few known-good) inputs in `cases/`.

Everything is derived from one fixed test federation: private keys come from fixed 32-byte seeds
(Ed25519) or fixed scalars (P-256), and every date is relative to `NOW`, the verifier's clock. A
case file names a builder and its arguments; the builder returns a `Scenario`, whose `run()` is
the answer a verifier gives. Hostile tokens are put together by hand (`compact`, `sign_raw`) so
that a vector is exactly the bytes an attacker would send, and wherever it makes the vector
sharper the token carries a *valid* signature over those bytes: only the check under test stands
between it and "valid".

The federation:

    global root key (pinned)   signs the trust list and the framework endorsements
    global  https://sdgcities.example            active; certifies too (global mechanism), every
                                                 country but those of the national nodes below
    KE      https://ke.sdgcities.example         active; keys: EdDSA, ES256 (active),
                                                 EdDSA retired and EdDSA compromised
    SN      https://sdgcities.example/sn         active; its base URL is under the global one;
                                                 joined NOW - 100 days (the others a year ago)
    UG      https://ug.sdgcities.example         suspended since NOW - 10 days
    RW      https://rw.sdgcities.example         withdrawn since NOW - 10 days
    cut-offs (UG, RW, KE's compromised key)      the global node received certificate
                                                 RECEIVED_INDEX before each, and no other
    stranger keys (EdDSA and ES256)              on no trust list

Each national node certifies its own country; a certificate names the city `<node id>-NBO`
(`GL-NBO`, Greenland, for the global node) unless a builder says otherwise.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from sdgcities.credentials import (
    MIN_ENTRIES,
    STATUS_SIZE,
    CertificateIssue,
    Decision,
    Endorsement,
    Exclusion,
    FrameworkRef,
    Jurisdiction,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    StatusBitstring,
    StatusEntry,
    StatusListUnavailable,
    TrustAnchor,
    TrustedNode,
    TrustList,
    VerificationError,
    VerificationResult,
    Verifier,
    did_web_from_base_url,
    key_id,
    sign_jws,
    sign_status_list,
)
from sdgcities.credentials.jws import P256_ORDER, low_s

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ISSUED_AT = NOW - timedelta(days=30)
VALID_UNTIL = ISSUED_AT + timedelta(days=3 * 365)
KEYS_VALID_FROM = NOW - timedelta(days=365)
CHANGED_AT = NOW - timedelta(days=10)  # a node suspended or withdrawn, a key retired
SN_JOINED_AT = NOW - timedelta(days=100)
COMPROMISED_AT = NOW - timedelta(days=3)
DEFAULT_INDEX = 70_001
RECEIVED_INDEX = 70_002  # the one certificate id each cut-off carries as received before it
TRUST_LIST_SEQUENCE = 7
GLOBAL_DID = "did:web:sdgcities.example"


# Keys and the federation.


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"sdgcities test vectors/{label}".encode()).digest()


def ed25519_key(label: str) -> SigningKey:
    """A deterministic Ed25519 `SigningKey`."""
    return SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(_seed(label)))


def p256_key(label: str) -> SigningKey:
    """A deterministic P-256 `SigningKey`."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(_seed(label), "big") % (order - 1) + 1
    return SigningKey(ec.derive_private_key(scalar, ec.SECP256R1()))


@dataclass(frozen=True)
class Node:
    id: str
    base_url: str
    key: SigningKey  # the active EdDSA key
    framework: FrameworkRef

    @property
    def did(self) -> str:
        return did_web_from_base_url(self.base_url)

    def list_url(self) -> str:
        return f"{self.base_url}/status/1"


def _framework(node_id: str) -> FrameworkRef:
    digest = "sha256:" + hashlib.sha256(f"framework/{node_id}".encode()).hexdigest()
    return FrameworkRef(f"{node_id.lower()}-national", "1", digest)


@dataclass(frozen=True)
class Federation:
    root: SigningKey
    other_root: SigningKey
    nodes: Mapping[str, Node]
    ke_es256: SigningKey
    ke_retired: SigningKey
    ke_compromised: SigningKey
    stranger: SigningKey
    stranger_es256: SigningKey

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def trusted_nodes(self, *, endorser: SigningKey | None = None) -> tuple[TrustedNode, ...]:
        since = KEYS_VALID_FROM
        status = {
            "UG": (NodeStatus.SUSPENDED, CHANGED_AT),
            "RW": (NodeStatus.WITHDRAWN, CHANGED_AT),
        }
        joined = {node_id: since for node_id in self.nodes if node_id != "global"}
        joined["SN"] = SN_JOINED_AT
        # The global node certifies every country but the national nodes': from when each
        # joined, and for a withdrawn node only until it left.
        exclusions = tuple(
            Exclusion(node_id, at, CHANGED_AT if node_id == "RW" else None)
            for node_id, at in joined.items()
        )
        trusted = []
        for node in self.nodes.values():
            keys = [KeyPeriod(node.key.public_key, KeyStatus.ACTIVE, joined.get(node.id, since))]
            if node.id == "KE":
                keys += [
                    KeyPeriod(self.ke_es256.public_key, KeyStatus.ACTIVE, since),
                    KeyPeriod(
                        self.ke_retired.public_key, KeyStatus.RETIRED, since, None, CHANGED_AT
                    ),
                    KeyPeriod(
                        self.ke_compromised.public_key,
                        KeyStatus.COMPROMISED,
                        since,
                        COMPROMISED_AT,
                        COMPROMISED_AT,
                        frozenset({credential_id(RECEIVED_INDEX)}),
                    ),
                ]
            endorsement = Endorsement.sign(
                framework=node.framework,
                node_id=node.id,
                root_key=endorser or self.root,
                issuer_did=GLOBAL_DID,
                endorsed_at=since,
            )
            node_status, status_since = status.get(node.id, (NodeStatus.ACTIVE, since))
            trusted.append(
                TrustedNode(
                    id=node.id,
                    did=node.did,
                    name=f"SDG Cities {node.id}",
                    base_url=node.base_url,
                    status=node_status,
                    status_since=status_since,
                    keys=tuple(keys),
                    frameworks=(endorsement,),
                    received_before_cutoff=(
                        frozenset()
                        if node_status is NodeStatus.ACTIVE
                        else frozenset({credential_id(RECEIVED_INDEX)})
                    ),
                    jurisdiction=(
                        Jurisdiction.every_country(excluded=exclusions)
                        if node.id == "global"
                        else Jurisdiction.national(node.id)
                    ),
                )
            )
        return tuple(trusted)

    def trust_list(
        self,
        *,
        sequence: int = TRUST_LIST_SEQUENCE,
        issued_at: datetime = NOW - timedelta(hours=1),
        next_update: datetime = NOW + timedelta(days=1),
        nodes: tuple[TrustedNode, ...] | None = None,
    ) -> TrustList:
        return TrustList(
            issuer=GLOBAL_DID,
            sequence=sequence,
            issued_at=issued_at,
            next_update=next_update,
            nodes=self.trusted_nodes() if nodes is None else nodes,
        )

    @property
    def pinned(self) -> frozenset[str]:
        return frozenset({self.root.kid})


@cache
def federation() -> Federation:
    nodes = {
        "global": Node(
            "global", "https://sdgcities.example", ed25519_key("global"), _framework("GL")
        ),
        "KE": Node("KE", "https://ke.sdgcities.example", ed25519_key("KE"), _framework("KE")),
        "SN": Node("SN", "https://sdgcities.example/sn", ed25519_key("SN"), _framework("SN")),
        "UG": Node("UG", "https://ug.sdgcities.example", ed25519_key("UG"), _framework("UG")),
        "RW": Node("RW", "https://rw.sdgcities.example", ed25519_key("RW"), _framework("RW")),
    }
    return Federation(
        root=ed25519_key("root"),
        other_root=ed25519_key("other root"),
        nodes=nodes,
        ke_es256=p256_key("KE es256"),
        ke_retired=ed25519_key("KE retired"),
        ke_compromised=ed25519_key("KE compromised"),
        stranger=ed25519_key("stranger"),
        stranger_es256=p256_key("stranger es256"),
    )


@cache
def trust_list() -> TrustList:
    """The federation's current trust list, as a verifier accepted it."""
    fed = federation()
    token = fed.trust_list().sign(fed.root)
    return TrustAnchor(fed.pinned).accept(token, now=NOW)


# Compact JWS by hand.


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def raw_signature(key: SigningKey, signing_input: bytes) -> bytes:
    """The JWS signature of `signing_input` with a `SigningKey` (EdDSA, or ES256 as r || s)."""
    private = key.key_object
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(signing_input)
    r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return low_s(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def compact(header_segment: str, payload_segment: str, key: SigningKey) -> str:
    """Sign exactly these two segments (whatever they contain) and join the token."""
    signing_input = f"{header_segment}.{payload_segment}".encode()
    return f"{header_segment}.{payload_segment}.{b64url(raw_signature(key, signing_input))}"


def sign_raw(
    header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes, key: SigningKey
) -> str:
    """A token over arbitrary header and payload bytes (or JSON objects), signed with `key`."""
    header_bytes = header if isinstance(header, bytes) else json_bytes(header)
    payload_bytes = payload if isinstance(payload, bytes) else json_bytes(payload)
    return compact(b64url(header_bytes), b64url(payload_bytes), key)


def segments(token: str) -> list[str]:
    return token.split(".")


def header_of(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(segments(token)[0]))


def payload_of(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(segments(token)[1]))


def with_raw_members(value: Mapping[str, Any], raw: Mapping[str, str]) -> bytes:
    """JSON of `value` with the members in `raw` written as the given literal JSON text."""
    placeholders = {name: f"\x00{name}\x00" for name in raw}
    text = json_bytes({**value, **placeholders}).decode()
    for name, literal in raw.items():
        text = text.replace(json.dumps(placeholders[name]), literal)
    return text.encode()


# Certificates and status lists.


def credential_id(index: int) -> str:
    """The id of the certificate `certificate(index=...)` builds."""
    return f"urn:uuid:00000000-0000-4000-8000-{index:012d}"


def certificate(
    node_id: str = "KE",
    *,
    key: SigningKey = None,
    issued_at: datetime = ISSUED_AT,
    valid_from: datetime | None = None,
    valid_until: datetime = VALID_UNTIL,
    index: int = DEFAULT_INDEX,
    list_url: str | None = None,
    framework: FrameworkRef | None = None,
    locode: str | None = None,
) -> str:
    """A certificate as the node would issue it (through the library's own signer)."""
    node = federation().node(node_id)
    locode = locode or f"{node.id[:2].upper()}-NBO"
    issue = CertificateIssue(
        credential_id=credential_id(index),
        issuer_did=node.did,
        issuer_name=f"SDG Cities {node.id}",
        locode=locode,
        city_name="Nairobi",
        country=locode[:2],
        stage="evidence-based-processes",
        framework=framework or node.framework,
        decision=Decision(f"{node.id} national committee", "2026-1", issued_at),
        criteria=("B.a", "B.b", "B.c", "B.d", "B.e"),
        valid_from=issued_at if valid_from is None else valid_from,
        valid_until=valid_until,
        status=StatusEntry(list_url or node.list_url(), index),
    )
    return issue.sign(key or node.key, issued_at=issued_at)


def resigned(token: str, key: SigningKey | None = None, **changes: Any) -> str:
    """`token` with payload members replaced (None deletes one), signed again by `key`."""
    payload = payload_of(token)
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return sign_raw(header_of(token), payload, key or federation().node("KE").key)


def status_list_token(
    node_id: str,
    *,
    revoked: Iterable[int] = (),
    suspended: Iterable[int] = (),
    raw_bits: Iterable[int] = (),
    key: SigningKey = None,
    url: str | None = None,
    issuer_did: str | None = None,
    purpose: Any = None,
    valid_from: datetime = NOW - timedelta(hours=1),
    valid_until: datetime = NOW + timedelta(days=1),
) -> str:
    """A node's status list (131,072 two-bit entries) with the given entries revoked and
    suspended and the given raw bit positions set; another `purpose` is signed again as is."""
    node = federation().node(node_id)
    bits = StatusBitstring(MIN_ENTRIES * STATUS_SIZE)
    for index in revoked:
        bits.set(index * STATUS_SIZE)
    for index in suspended:
        bits.set(index * STATUS_SIZE + 1)
    for position in raw_bits:
        bits.set(position)
    token = sign_status_list(
        list_url=url or node.list_url(),
        bitstring=bits,
        issuer_did=issuer_did or node.did,
        key=key or node.key,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if purpose is None:
        return token
    payload = payload_of(token)
    payload["credentialSubject"]["statusPurpose"] = purpose
    return sign_jws(payload, key=key or node.key, did=issuer_did or node.did, typ="vc+jwt")


def with_encoded_list(status_token: str, encoded: str, key: SigningKey) -> str:
    """A status list credential whose `encodedList` is replaced, signed again by `key`."""
    payload = payload_of(status_token)
    payload["credentialSubject"]["encodedList"] = encoded
    return sign_jws(payload, key=key, did=_ke().did, typ="vc+jwt")


@cache
def _empty_lists() -> dict[str, str]:
    return {federation().node(n).list_url(): status_list_token(n) for n in federation().nodes}


# Scenarios.

Document = str | BaseException


@dataclass
class Scenario:
    """What a verifier is shown: a token, the trust it holds and the status lists it can fetch.

    `kind` "certificate": `token` is verified by a `Verifier` holding the trust list
    `trust_list_token` (the federation's current one by default) accepted at
    `trust_list_accepted_at`, after each of `warm` (certificates that must be valid) has been
    verified by the same verifier. `kind` "trust-list": `token` is a trust list offered to an
    anchor pinning the federation's root that has accepted each of `seen` before; when accepted,
    a known-good certificate is verified with it, so every scenario ends in a
    `VerificationResult`. `documents` are what the status-list URLs serve (the federation's empty
    lists otherwise), or the error the fetcher raises there.
    """

    token: str
    kind: str = "certificate"
    trust_list_token: str | None = None
    trust_list_accepted_at: datetime = NOW
    documents: dict[str, Document] = field(default_factory=dict)
    warm: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    fetched: list[str] = field(default_factory=list)

    def fetch(self, url: str) -> str:
        self.fetched.append(url)
        document = self.served().get(url)
        if document is None:
            raise StatusListUnavailable(f"404 at {url}")
        if isinstance(document, BaseException):
            raise document
        return document

    def served(self) -> dict[str, Document]:
        return {**_empty_lists(), **self.documents}

    def held_trust_list(self) -> TrustList:
        if self.trust_list_token is None:
            return trust_list()
        return TrustList.from_jws(
            self.trust_list_token,
            pinned_thumbprints=federation().pinned,
            now=self.trust_list_accepted_at,
        )

    def verifier(self, trust: TrustList | None = None) -> Verifier:
        return Verifier(trust or self.held_trust_list(), fetcher=self.fetch, clock=lambda: NOW)

    def run(self) -> VerificationResult:
        if self.kind == "trust-list":
            anchor = TrustAnchor(federation().pinned)
            for seen in self.seen:
                anchor.accept(seen, now=NOW)
            try:
                accepted = anchor.accept(self.token, now=NOW)
            except VerificationError as error:
                return VerificationResult.from_error(error)
            return self.verifier(accepted).verify(certificate())
        verifier = self.verifier()
        for token in self.warm:
            warm_result = verifier.verify(token)
            if not warm_result.valid:
                raise AssertionError(f"warm-up certificate is not valid: {warm_result}")
        return verifier.verify(self.token)


BUILDERS: dict[str, Callable[..., Scenario]] = {}


def builder(function: Callable[..., Scenario]) -> Callable[..., Scenario]:
    BUILDERS[function.__name__] = function
    return function


def build(name: str, args: Mapping[str, Any] | None = None) -> Scenario:
    return BUILDERS[name](**(args or {}))


def _ke() -> Node:
    return federation().node("KE")


def ke_kid(key: SigningKey | None = None) -> str:
    """The DID URL KE writes as the kid of its `key` (its active EdDSA key by default)."""
    return key_id(_ke().did, (key or _ke().key).kid)


def _ke_header(**changes: Any) -> dict[str, Any]:
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": ke_kid()}
    for name, value in changes.items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    return header


# Baselines.


@builder
def valid(algorithm: str = "EdDSA") -> Scenario:
    key = federation().ke_es256 if algorithm == "ES256" else None
    return Scenario(certificate(key=key))


# The header and the algorithm.


@builder
def alg_none(alg: str, signature: str) -> Scenario:
    """`alg` none in some spelling; `signature` "empty", or "valid": the issuer's real signature
    over the very same segments, so that only the algorithm check refuses it."""
    header = b64url(json_bytes(_ke_header(alg=alg)))
    payload = segments(certificate())[1]
    if signature == "empty":
        return Scenario(f"{header}.{payload}.")
    return Scenario(compact(header, payload, _ke().key))


@builder
def alg_not_a_string(alg: Any) -> Scenario:
    return Scenario(sign_raw(_ke_header(alg=alg), payload_of(certificate()), _ke().key))


@builder
def hs256_with_public_key(secret: str) -> Scenario:
    """Algorithm confusion: HMAC-SHA256 keyed with the issuer's *public* key, as a naive
    library that takes "the key" for any `alg` would check it."""
    public = _ke().key.public_key
    if secret == "pem":
        mac_key = public.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    elif secret == "raw":
        mac_key = public.key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    else:  # the JWK exactly as the issuer publishes it in its JWKS
        mac_key = json.dumps(public.to_jwk()).encode()
    header = b64url(json_bytes(_ke_header(alg="HS256")))
    payload = segments(certificate())[1]
    mac = hmac.new(mac_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return Scenario(f"{header}.{payload}.{b64url(mac)}")


@builder
def algorithm_not_the_keys(target: str) -> Scenario:
    """The header names a trusted key but another algorithm, signed with that algorithm."""
    fed = federation()
    if target == "EdDSA":  # an ES256 token for the issuer's Ed25519 key
        header, key = _ke_header(alg="ES256"), fed.stranger_es256
    else:  # an EdDSA token for the issuer's P-256 key
        header, key = _ke_header(alg="EdDSA", kid=ke_kid(fed.ke_es256)), fed.stranger
    return Scenario(sign_raw(header, payload_of(certificate()), key))


@builder
def signature(kind: str) -> Scenario:
    header, payload, real = segments(certificate())
    forged = {
        "zeroed": b64url(bytes(64)),
        "single_zero_byte": "AA",
        "truncated": b64url(b64url_decode(real)[:-1]),
        "other_key": segments(certificate(key=federation().stranger))[2],
        "empty": "",
    }[kind]
    return Scenario(f"{header}.{payload}.{forged}")


@builder
def es256_high_s() -> Scenario:
    """The issuer's own valid ES256 signature (r, s) respelt as (r, n - s): mathematically valid
    too (PyJWT and OpenSSL accept it), but a second spelling of one signature."""
    header, payload, real = segments(certificate(key=federation().ke_es256))
    raw = b64url_decode(real)
    high_s = (P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    return Scenario(f"{header}.{payload}.{b64url(raw[:32] + high_s)}")


@builder
def tampered_payload() -> Scenario:
    header, _, real = segments(certificate())
    payload = payload_of(certificate())
    payload["credentialSubject"]["level"] = "diamond"
    payload["credentialSubject"]["stage"] = "impact"
    return Scenario(f"{header}.{b64url(json_bytes(payload))}.{real}")


@builder
def encoding(kind: str) -> Scenario:
    """Non-canonical encodings; where the bytes can be signed, the signature covers them."""
    token = certificate()
    header, payload, sig = segments(token)
    key = _ke().key
    if kind == "padded_header":
        # Pad the header JSON with spaces until its base64 needs padding, then sign *that*.
        raw = json_bytes(header_of(token))
        while len(raw) % 3 == 0:
            raw += b" "
        padded = base64.urlsafe_b64encode(raw).decode()
        return Scenario(compact(padded, payload, key))
    if kind == "padded_payload":
        raw = json_bytes(payload_of(token))
        while len(raw) % 3 == 0:
            raw += b" "
        return Scenario(compact(header, base64.urlsafe_b64encode(raw).decode(), key))
    if kind == "padded_signature":
        return Scenario(token + "==")
    if kind == "newline_in_payload":
        return Scenario(compact(header, payload[:40] + "\n" + payload[40:], key))
    if kind == "space_in_header":
        return Scenario(compact(header[:10] + " " + header[10:], payload, key))
    if kind == "non_ascii_in_payload":  # signed over its UTF-8 bytes
        return Scenario(compact(header, payload[:40] + "\u00e9" + payload[41:], key))
    if kind == "leading_space":
        return Scenario(" " + token)
    if kind == "trailing_newline":
        return Scenario(token + "\n")
    if kind == "standard_alphabet":
        # Re-sign a payload whose base64 contains '+' or '/', spelt in the standard alphabet.
        body = payload_of(token)
        for n in range(200):
            body["name"] = f"Certificate {'~' * n}"
            raw = json_bytes(body)
            standard = base64.b64encode(raw).decode().rstrip("=")
            if "+" in standard or "/" in standard:
                return Scenario(compact(header, standard, key))
        raise AssertionError("no payload spelling with + or / found")
    if kind == "noncanonical_signature":
        # The same signature bytes with the unused low bits of the last character set.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet[alphabet.index(sig[-1]) | 0b1111]
        return Scenario(f"{header}.{payload}.{sig[:-1]}{last}")
    if kind == "four_segments":
        return Scenario(token + "." + sig)
    if kind == "two_segments":
        return Scenario(f"{header}.{payload}")
    if kind == "not_text":
        return Scenario(token.encode())  # type: ignore[arg-type]
    raise KeyError(kind)


@builder
def duplicate_member(where: str) -> Scenario:
    """A member given twice; lenient parsers keep the last, which is the dangerous one."""
    key = _ke().key
    if where == "header":
        header = f'{{"alg":"none","alg":"EdDSA","typ":"vc+jwt","kid":"{ke_kid()}"}}'.encode()
        return Scenario(sign_raw(header, payload_of(certificate()), key))
    body = json_bytes(payload_of(certificate())).decode()
    payload = '{"iss":"did:web:evil.example",' + body[1:]
    return Scenario(sign_raw(_ke_header(), payload.encode(), key))


@builder
def typ(value: str | None) -> Scenario:
    return Scenario(sign_raw(_ke_header(typ=value), payload_of(certificate()), _ke().key))


@builder
def trust_list_offered_as_certificate() -> Scenario:
    fed = federation()
    return Scenario(fed.trust_list().sign(fed.root))


@builder
def header_member(name: str) -> Scenario:
    """A header member that would let the token choose its own key or change the rules."""
    fed = federation()
    values = {
        "jku": "https://evil.example/jwks.json",
        "jwk": fed.stranger.public_key.to_jwk(),
        "x5c": [b64url(b"not a certificate")],
        "x5u": "https://evil.example/chain.pem",
        "crit": ["exp"],
        "b64": False,
    }
    header = _ke_header(**{name: values[name]})
    return Scenario(sign_raw(header, payload_of(certificate()), _ke().key))


@builder
def kid(value: Any) -> Scenario:
    return Scenario(sign_raw(_ke_header(kid=value), payload_of(certificate()), _ke().key))


@builder
def kid_of_key(did: str | None, signer: str = "KE") -> Scenario:
    """`signer`'s real active key signs `signer`'s own certificate, but the kid says
    `<did>#<that key's thumbprint>` (the bare thumbprint when `did` is null): only the kid's DID
    stands between it and "valid"."""
    node = federation().node(signer)
    token = certificate(signer)
    kid = node.key.kid if did is None else key_id(did, node.key.kid)
    return Scenario(sign_raw({**header_of(token), "kid": kid}, payload_of(token), node.key))


# The payload.


@builder
def exp_literal(literal: str) -> Scenario:
    """`exp` written as the JSON text `literal` (a string, an array, null, 1e400, ...)."""
    body = with_raw_members(payload_of(certificate()), {"exp": literal})
    return Scenario(sign_raw(_ke_header(), body, _ke().key))


@builder
def nesting(where: str, depth: int) -> Scenario:
    """`depth` nested arrays in the header or the payload, signed with the issuer's key."""
    deep = "[" * depth + "]" * depth
    key = _ke().key
    if where == "header":
        header = with_raw_members(_ke_header(), {"nest": deep})
        return Scenario(sign_raw(header, payload_of(certificate()), key))
    payload = with_raw_members(payload_of(certificate()), {"nest": deep})
    return Scenario(sign_raw(_ke_header(), payload, key))


@builder
def oversized(size: int) -> Scenario:
    """A certificate of about `size` bytes, signed by the issuer (base64 adds a third)."""
    token = certificate()
    filler = "x" * ((size - len(token)) * 3 // 4)
    return Scenario(resigned(token, name=payload_of(token)["name"] + filler))


@builder
def claim(name: str, value: Any = None) -> Scenario:
    """The certificate with one payload member set (or deleted, for null), signed again; a `vc`
    claim gets a copy of the credential, as VC-JWT 1.1 would have put it."""
    token = certificate()
    if name == "vc":
        value = {k: v for k, v in payload_of(token).items() if k not in ("iss", "jti", "sub")}
    return Scenario(resigned(token, **{name: value}))


@builder
def subject_member(name: str, value: Any) -> Scenario:
    token = certificate()
    subject = payload_of(token)["credentialSubject"]
    subject[name] = value
    return Scenario(resigned(token, credentialSubject=subject))


@builder
def issuer_is_another_node() -> Scenario:
    """KE's key signs a certificate that names the global node as its issuer."""
    token = certificate()
    other = federation().node("global")
    issuer = {**payload_of(token)["issuer"], "id": other.did}
    return Scenario(resigned(token, iss=other.did, issuer=issuer))


@builder
def validity(valid_from_seconds: int, valid_until_seconds: int) -> Scenario:
    """Valid from NOW + `valid_from_seconds` until NOW + `valid_until_seconds`."""
    start = NOW + timedelta(seconds=valid_from_seconds)
    return Scenario(
        certificate(
            issued_at=min(start, NOW),
            valid_from=start,
            valid_until=NOW + timedelta(seconds=valid_until_seconds),
        )
    )


@builder
def signed_at(days: float) -> Scenario:
    """Signed by KE's active key at NOW + `days`."""
    return Scenario(certificate(issued_at=NOW + timedelta(days=days)))


@builder
def iat_ahead(seconds: int) -> Scenario:
    """KE's certificate, valid from a day ago, with `iat` NOW + `seconds` (signed again)."""
    token = certificate(issued_at=NOW - timedelta(days=1))
    return Scenario(resigned(token, iat=int((NOW + timedelta(seconds=seconds)).timestamp())))


@builder
def validity_literal(valid_from: str | None = None, valid_until: str | None = None) -> Scenario:
    """validFrom / validUntil written literally (exp follows validUntil when it can)."""
    token = certificate()
    changes: dict[str, Any] = {}
    if valid_from is not None:
        changes["validFrom"] = valid_from
    if valid_until is not None:
        changes["validUntil"] = valid_until
        changes["exp"] = int(datetime.fromisoformat(valid_until).timestamp())
    return Scenario(resigned(token, **changes))


# Trust: issuers, keys and frameworks.


@builder
def unknown_issuer(algorithm: str = "EdDSA") -> Scenario:
    fed = federation()
    key = fed.stranger_es256 if algorithm == "ES256" else fed.stranger
    return Scenario(certificate(key=key))


@builder
def node_status(node_id: str, signed_days_after_change: float, received: bool = False) -> Scenario:
    """Signed by `node_id` at its status change + `signed_days_after_change` (`iat`).

    `received`: the certificate's id is the one the trust list says the global node received
    before the change; otherwise its id is one the global node never received.
    """
    return Scenario(
        certificate(
            node_id,
            issued_at=CHANGED_AT + timedelta(days=signed_days_after_change),
            index=RECEIVED_INDEX if received else DEFAULT_INDEX,
        )
    )


@builder
def city(
    locode: str,
    node_id: str = "KE",
    country: str | None = None,
    subject_id: str | None = None,
    signed_days_after_change: float | None = None,
) -> Scenario:
    """`node_id`'s key signs a certificate for `locode` (at ISSUED_AT, or CHANGED_AT + days),
    with its city's country (or `country`) and subject id (or `subject_id`) as given."""
    issued_at = (
        ISSUED_AT
        if signed_days_after_change is None
        else CHANGED_AT + timedelta(days=signed_days_after_change)
    )
    node = federation().node(node_id)
    token = certificate(node_id, locode=locode, issued_at=issued_at)
    if country is None and subject_id is None:
        return Scenario(token)
    subject = payload_of(token)["credentialSubject"]
    if country is not None:
        subject["city"]["country"] = country
    if subject_id is not None:
        subject["id"] = subject_id
    return Scenario(resigned(token, node.key, credentialSubject=subject, sub=subject["id"]))


@builder
def global_city(locode: str, signed_days_after_join: float) -> Scenario:
    """The global node certifies `locode` at SN_JOINED_AT + days (SN joined then)."""
    issued_at = SN_JOINED_AT + timedelta(days=signed_days_after_join)
    return Scenario(certificate("global", locode=locode, issued_at=issued_at))


@builder
def ke_key(which: str, signed_days_after_change: float = -20, received: bool = False) -> Scenario:
    """Signed with KE's retired or compromised key; `received` as for `node_status`."""
    fed = federation()
    key = {"retired": fed.ke_retired, "compromised": fed.ke_compromised}[which]
    changed = CHANGED_AT if which == "retired" else COMPROMISED_AT
    return Scenario(
        certificate(
            key=key,
            issued_at=changed + timedelta(days=signed_days_after_change),
            index=RECEIVED_INDEX if received else DEFAULT_INDEX,
        )
    )


@builder
def framework(which: str) -> Scenario:
    fed = federation()
    own = _ke().framework
    chosen = {
        "other_digest": replace(own, digest="sha256:" + "00" * 32),
        "other_version": replace(own, version="2"),
        "another_nodes": fed.node("SN").framework,
    }[which]
    return Scenario(certificate(framework=chosen))


# Status.


@builder
def status_bits(
    revocation: list[int], suspension: list[int], index: int = DEFAULT_INDEX
) -> Scenario:
    """The certificate at `index`; the entries in `revocation` have their revoked (high) bit
    set, those in `suspension` their suspended (low) bit."""
    ke = _ke()
    served = status_list_token("KE", revoked=revocation, suspended=suspension)
    return Scenario(certificate(index=index), documents={ke.list_url(): served})


@builder
def status_bit_order(index: int, set_bits: list[int]) -> Scenario:
    """The certificate's index is `index`; only the raw bit positions `set_bits` are set (entry
    i is bits 2i, its revoked bit, and 2i + 1, its suspended bit; bit 0 is the most significant
    bit of byte 0)."""
    served = status_list_token("KE", raw_bits=set_bits)
    return Scenario(certificate(index=index), documents={_ke().list_url(): served})


@builder
def status_index(index: int) -> Scenario:
    return Scenario(certificate(index=index))


@builder
def credential_status(change: str) -> Scenario:
    """The certificate with its `credentialStatus` changed as `change` says, signed again."""
    token = certificate()
    entry = payload_of(token)["credentialStatus"]
    messages = entry["statusMessage"]
    changed: Any = {
        "status_size_1": {**entry, "statusSize": 1, "statusMessage": messages[:2]},
        "status_size_string": {**entry, "statusSize": "2"},
        "status_size_true": {**entry, "statusSize": True},
        "status_message_missing": {k: v for k, v in entry.items() if k != "statusMessage"},
        "status_message_reordered": {**entry, "statusMessage": [messages[i] for i in (0, 2, 1, 3)]},
        "status_message_three": {**entry, "statusMessage": messages[:3]},
        "purpose_revocation": {**entry, "statusPurpose": "revocation"},
        "id_missing": {k: v for k, v in entry.items() if k != "id"},
        "id_of_another_index": {**entry, "id": f"{entry['statusListCredential']}#1"},
        "index_leading_zero": {
            **entry,
            "statusListIndex": f"0{DEFAULT_INDEX}",
            "id": f"{entry['statusListCredential']}#0{DEFAULT_INDEX}",
        },
        "index_number": {**entry, "statusListIndex": DEFAULT_INDEX},
        "extra_member": {**entry, "statusReference": "https://ke.sdgcities.example/status"},
        "two_entry_list": [
            {**entry, "statusPurpose": "revocation"},
            {**entry, "statusPurpose": "suspension"},
        ],
        "one_entry_list": [entry],
    }[change]
    return Scenario(resigned(token, credentialStatus=changed))


@builder
def status_list_encoded(kind: str) -> Scenario:
    """The status list, properly signed by the issuer, with a hostile `encodedList`."""
    ke = _ke()
    url = ke.list_url()
    if kind == "short":  # 8,192 bits, below the spec's 16 KiB
        encoded = "u" + b64url(gzip.compress(bytes(1024), mtime=0))
    elif kind == "one_bit_sized":  # 16 KiB: 131,072 bits, but only 65,536 two-bit entries
        encoded = "u" + b64url(gzip.compress(bytes(16 * 1024), mtime=0))
    elif kind == "gzip_bomb":  # 64 MiB of zeros in ~64 KiB
        encoded = "u" + b64url(_gzip_bomb())
    else:  # raw, not gzip
        encoded = "u" + b64url(bytes(16 * 1024))
    token = with_encoded_list(status_list_token("KE"), encoded, ke.key)
    return Scenario(certificate(), documents={url: token})


@cache
def _gzip_bomb() -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    return b"".join(deflater.compress(chunk) for _ in range(64)) + deflater.flush()


@builder
def status_list_served(kind: str) -> Scenario:
    """The status list URL serves a list that is signed but not the right one."""
    fed = federation()
    ke = _ke()
    url = ke.list_url()
    served = {
        # Signed by another node, naming that node as its issuer.
        "another_issuer": lambda: status_list_token("SN", url=url),
        # Signed by another node's key but claiming KE as its issuer.
        "another_issuers_key": lambda: status_list_token("KE", key=fed.node("SN").key),
        "stranger_key": lambda: status_list_token("KE", key=fed.stranger),
        "wrong_purpose": lambda: status_list_token("KE", purpose="revocation"),
        "purpose_list": lambda: status_list_token("KE", purpose=["message"]),
        "another_url": lambda: status_list_token("KE", url=url + "0"),
        "stale": lambda: status_list_token(
            "KE",
            valid_from=NOW - timedelta(days=3),
            valid_until=NOW - timedelta(days=2),
        ),
        "not_yet_valid": lambda: status_list_token(
            "KE",
            valid_from=NOW + timedelta(days=1),
            valid_until=NOW + timedelta(days=2),
        ),
        "retired_key": lambda: status_list_token("KE", key=fed.ke_retired),
        "compromised_key": lambda: status_list_token("KE", key=fed.ke_compromised),
        "not_a_jws": lambda: "<html>503 Service Unavailable</html>",
        # KE's real key and KE as the issuer, but the kid names SN's DID.
        "kid_names_another_did": lambda: _status_list_kid_did(fed.node("SN").did),
        "alg_none": _alg_none_status_list,
    }[kind]()
    return Scenario(certificate(), documents={url: served})


def _status_list_kid_did(did: str) -> str:
    token = status_list_token("KE", revoked=[DEFAULT_INDEX])
    header = {**header_of(token), "kid": key_id(did, _ke().key.kid)}
    return sign_raw(header, payload_of(token), _ke().key)


def _alg_none_status_list() -> str:
    token = status_list_token("KE", revoked=[DEFAULT_INDEX])
    header = b64url(json_bytes({**header_of(token), "alg": "none"}))
    return f"{header}.{segments(token)[1]}."


@builder
def status_fetcher_raises(error: str) -> Scenario:
    url = _ke().list_url()
    exception: BaseException = {
        "unavailable": StatusListUnavailable(f"connection refused: {url}"),
        "os_error": ConnectionResetError(104, "Connection reset by peer"),
        "value_error": ValueError("a fetcher bug"),
        "timeout": TimeoutError("timed out"),
    }[error]
    return Scenario(certificate(), documents={url: exception})


@builder
def status_url(url: str) -> Scenario:
    """The status entry points at `url`. The fetcher would serve a clean list, signed by the
    issuer, there: only the base-URL check stands between this and "valid"."""
    served = status_list_token("KE", url=url)
    return Scenario(certificate(list_url=url), documents={url: served})


@builder
def status_list_cached_for_another_issuer() -> Scenario:
    """SN (at https://sdgcities.example/sn) is under the global node's base URL. The verifier
    first checks a genuine SN certificate, caching SN's list; then a certificate signed by the
    global node points its status at SN's (empty) list instead of its own."""
    sn = federation().node("SN")
    return Scenario(certificate("global", list_url=sn.list_url()), warm=(certificate("SN"),))


# The trust list.


@builder
def stale_trust_list_at_verification() -> Scenario:
    """A verifier holding a trust list, accepted while it was fresh, that has gone stale since."""
    fed = federation()
    issued_at = NOW - timedelta(days=4)
    token = fed.trust_list(issued_at=issued_at, next_update=NOW - timedelta(days=3)).sign(fed.root)
    return Scenario(certificate(), trust_list_token=token, trust_list_accepted_at=issued_at)


@builder
def trust_list_sequence(seen: int, offered: int, same_content: bool = True) -> Scenario:
    """The anchor has accepted list #`seen`; list #`offered` comes next."""
    fed = federation()
    seen_token = fed.trust_list(sequence=seen).sign(fed.root)
    issued_at = NOW - timedelta(hours=1 if same_content else 2)
    offered_token = fed.trust_list(sequence=offered, issued_at=issued_at).sign(fed.root)
    return Scenario(offered_token, kind="trust-list", seen=(seen_token,))


@builder
def trust_list_dates(issued_days: float, next_update_days: float) -> Scenario:
    fed = federation()
    token = fed.trust_list(
        issued_at=NOW + timedelta(days=issued_days),
        next_update=NOW + timedelta(days=next_update_days),
    ).sign(fed.root)
    return Scenario(token, kind="trust-list")


@builder
def trust_list_signature(kind: str) -> Scenario:
    fed = federation()
    good = fed.trust_list().sign(fed.root)
    header, payload, sig = segments(good)
    if kind == "unpinned_key":
        # A whole forged federation: list and endorsements signed by a root nobody pinned.
        nodes = fed.trusted_nodes(endorser=fed.other_root)
        token = fed.trust_list(nodes=nodes).sign(fed.other_root)
    elif kind == "jwk_not_the_kid":
        # The pinned kid, but the header's jwk (and the signature) are another key's.
        forged = {**header_of(good), "jwk": fed.other_root.public_key.to_jwk()}
        forged["jwk"].pop("kid")
        token = sign_raw(forged, b64url_decode(payload), fed.other_root)
    elif kind == "jwk_with_wrong_kid_member":
        forged = {
            **header_of(good),
            "jwk": {**fed.other_root.public_key.to_jwk(), "kid": fed.root.kid},
        }
        token = sign_raw(forged, b64url_decode(payload), fed.other_root)
    elif kind == "jwk_missing":
        forged = {k: v for k, v in header_of(good).items() if k != "jwk"}
        token = sign_raw(forged, b64url_decode(payload), fed.root)
    elif kind == "tampered":
        body = payload_of(good)
        body["nodes"][0]["status"] = "active"
        body["sequence"] += 1
        token = f"{header}.{b64url(json_bytes(body))}.{sig}"
    elif kind == "alg_none":
        token = f"{b64url(json_bytes({**header_of(good), 'alg': 'none'}))}.{payload}."
    elif kind == "kid_names_another_did":
        # The pinned root key, but the kid names KE's DID rather than the issuer's (global's).
        forged = {**header_of(good), "kid": key_id(fed.node("KE").did, fed.root.kid)}
        token = sign_raw(forged, b64url_decode(payload), fed.root)
    elif kind == "endorsement_kid_names_another_did":
        # KE's endorsement signed by the pinned root key under KE's DID (kid and iss agree).
        forged_nodes = tuple(
            replace(
                node,
                frameworks=(
                    Endorsement.sign(
                        framework=fed.node(node.id).framework,
                        node_id=node.id,
                        root_key=fed.root,
                        issuer_did=fed.node("KE").did,
                        endorsed_at=KEYS_VALID_FROM,
                    ),
                ),
            )
            if node.id == "KE"
            else node
            for node in fed.trusted_nodes()
        )
        token = fed.trust_list(nodes=forged_nodes).sign(fed.root)
    else:  # "endorsement_by_another_key": a node's framework endorsed by an unpinned root
        nodes = fed.trusted_nodes(endorser=fed.other_root)
        token = fed.trust_list(nodes=nodes).sign(fed.root)
    return Scenario(token, kind="trust-list")
