"""The federation's trust list (DESIGN §5): which nodes exist, their keys and endorsed frameworks.

The global node signs it with its root key (`typ: trust-list+jwt`). The root public key travels in
the header (`jwk`), but it is trusted only when its RFC 7638 thumbprint is one the verifier pinned
in its own configuration: the network never tells a verifier whom to trust. The root key is the
global node's: the header's `kid` is `<the list's issuer DID>#<root thumbprint>`, and so is every
endorsement's. A list is refused when
it is older than one already seen (rollback) or past its next-update time plus a grace (stale).
Entries are never deleted: a withdrawn node or a retired key stays, with the time of the change,
so what it signed before keeps its meaning. Each node carries its jurisdiction, the countries
whose cities it certifies (`jurisdiction.py`).

Cut-offs (DESIGN §3): a node's suspension or withdrawal, or a key marked compromised, is a
moment after which `iat` proves nothing. Each cut-off carries `receivedBeforeCutoff`, the sorted
ids of the certificates the global node received from that node (or signed with that key) in
signed reports before it; the verifier accepts a certificate from that node or key only when its
id is there. The ids are parsed into a frozenset. At about 64 bytes per id in the signed token,
the 4 MiB cap holds some 60,000 ids over all cut-offs together; `sign` refuses a larger list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from .countries import is_country_code
from .endorsement import Endorsement
from .errors import (
    MalformedError,
    RootNotPinned,
    TrustListRollback,
    TrustListStale,
    TrustListTooLarge,
    UntrustedIssuer,
)
from .jurisdiction import Jurisdiction
from .jws import KID_NAMES_ANOTHER_DID, JwsToken, sign_jws
from .keys import KeyPeriod, KeyStatus, PublicKey, SigningKey
from .vc import FrameworkRef, isoformat, parse_datetime

TRUST_LIST_TYP = "trust-list+jwt"
DEFAULT_GRACE = timedelta(hours=24)
MAX_TRUST_LIST_BYTES = 4 * 1024 * 1024
_TRUST_LIST_HEADERS = frozenset({"alg", "typ", "kid", "jwk"})
# A node built in code without a jurisdiction gets the one its id implies (`for_node_id`).
_FROM_NODE_ID = Jurisdiction(countries=frozenset())


class NodeStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class TrustedNode:
    id: str
    did: str
    name: str
    base_url: str
    status: NodeStatus
    status_since: datetime
    keys: tuple[KeyPeriod, ...]
    frameworks: tuple[Endorsement, ...] = ()
    # Only for a node that is not active: its certificates the global node received before
    # `status_since` (see the module docstring).
    received_before_cutoff: frozenset[str] = frozenset()
    jurisdiction: Jurisdiction = _FROM_NODE_ID

    def __post_init__(self) -> None:
        if self.jurisdiction is _FROM_NODE_ID:
            object.__setattr__(self, "jurisdiction", Jurisdiction.for_node_id(self.id))
        elif is_country_code(self.id) and self.jurisdiction != Jurisdiction.national(self.id):
            raise MalformedError(f"national node {self.id} certifies its own country only")

    def certifies(self, country: str, *, at: datetime) -> bool:
        """Whether this node may certify a city of `country` at `at` (a signing time)."""
        return self.jurisdiction.holds(country, at=at)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "did": self.did,
            "name": self.name,
            "baseUrl": self.base_url,
            "status": self.status.value,
            "statusSince": isoformat(self.status_since),
            "jurisdiction": self.jurisdiction.to_json(),
            "keys": [_key_to_json(k) for k in self.keys],
            "frameworks": [
                {**e.framework.to_json(), "endorsement": e.token} for e in self.frameworks
            ],
        }
        if self.status is not NodeStatus.ACTIVE:
            data["receivedBeforeCutoff"] = sorted(self.received_before_cutoff)
        return data

    @classmethod
    def from_json(cls, data: Any, *, root_keys: tuple[PublicKey, ...], root_did: str) -> Self:
        if not isinstance(data, dict):
            raise MalformedError("a trust-list node must be an object")
        try:
            keys = tuple(_key_from_json(k) for k in _list(data["keys"]))
            frameworks = tuple(
                Endorsement.verify(_str(f["endorsement"]), root_keys=root_keys, root_did=root_did)
                for f in _list(data.get("frameworks", []))
            )
            node = cls(
                id=_str(data["id"]),
                did=_str(data["did"]),
                name=_str(data["name"]),
                base_url=_str(data["baseUrl"]),
                status=NodeStatus(data["status"]),
                status_since=parse_datetime(_str(data["statusSince"])),
                keys=keys,
                frameworks=frameworks,
                received_before_cutoff=_ids(data.get("receivedBeforeCutoff", [])),
                jurisdiction=Jurisdiction.from_json(data["jurisdiction"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedError(f"trust-list node is malformed: {exc}") from exc
        if node.status is NodeStatus.ACTIVE and "receivedBeforeCutoff" in data:
            raise MalformedError(f"node {node.id} is active: it has no cut-off")
        if any(e.node_id != node.id for e in frameworks):
            raise MalformedError(f"node {node.id} carries an endorsement made for another node")
        return node

    def endorses(self, framework: FrameworkRef) -> bool:
        return any(e.framework == framework for e in self.frameworks)

    def endorses_framework(self, framework_id: str, version: str, digest: str) -> bool:
        """`endorses`, given the reference's three members as a certificate carries them (the
        verifier does not build a `FrameworkRef` for each certificate)."""
        for endorsement in self.frameworks:
            endorsed = endorsement.framework
            if (
                endorsed.id == framework_id
                and endorsed.version == version
                and endorsed.digest == digest
            ):
                return True
        return False


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _ids(value: Any) -> frozenset[str]:
    return frozenset(_str(item) for item in _list(value))


def _key_to_json(period: KeyPeriod) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jwk": period.public_key.to_jwk(),
        "status": period.status.value,
        "validFrom": isoformat(period.valid_from),
    }
    if period.valid_until is not None:
        data["validUntil"] = isoformat(period.valid_until)
    if period.status_since is not None:
        data["statusSince"] = isoformat(period.status_since)
    if period.status is KeyStatus.COMPROMISED:
        data["receivedBeforeCutoff"] = sorted(period.received_before_cutoff)
    return data


def _key_from_json(data: Any) -> KeyPeriod:
    if not isinstance(data, dict):
        raise TypeError("a key entry must be an object")
    until, since = data.get("validUntil"), data.get("statusSince")
    period = KeyPeriod(
        public_key=PublicKey.from_jwk(data["jwk"]),
        status=KeyStatus(data["status"]),
        valid_from=parse_datetime(_str(data["validFrom"])),
        valid_until=parse_datetime(_str(until)) if until is not None else None,
        status_since=parse_datetime(_str(since)) if since is not None else None,
        received_before_cutoff=_ids(data.get("receivedBeforeCutoff", [])),
    )
    if period.status is not KeyStatus.ACTIVE and period.status_since is None:
        raise ValueError("a retired or compromised key needs statusSince")
    if period.status is not KeyStatus.COMPROMISED and "receivedBeforeCutoff" in data:
        raise ValueError("only a compromised key has a cut-off")
    return period


@dataclass(frozen=True, slots=True)
class TrustList:
    issuer: str
    sequence: int
    issued_at: datetime
    next_update: datetime
    nodes: tuple[TrustedNode, ...]
    token: str | None = None
    _keys: Mapping[str, tuple[TrustedNode, KeyPeriod]] = field(
        init=False, repr=False, compare=False
    )
    _by_did: Mapping[str, TrustedNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: dict[str, tuple[TrustedNode, KeyPeriod]] = {}
        for node in self.nodes:
            for period in node.keys:
                if period.public_key.kid in keys:
                    # One key, one issuer: a kid listed twice could make a token ambiguous.
                    raise MalformedError(f"key {period.public_key.kid} is listed twice")
                keys[period.public_key.kid] = (node, period)
        by_did = {node.did: node for node in self.nodes}
        if len(by_did) != len(self.nodes) or len({n.id for n in self.nodes}) != len(self.nodes):
            raise MalformedError("a node id or DID is listed twice")
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_by_did", by_did)

    def key(self, thumbprint: str) -> tuple[TrustedNode, KeyPeriod] | None:
        """The node holding the key with this RFC 7638 thumbprint, and the key's period."""
        return self._keys.get(thumbprint)

    def signer_of(self, token: JwsToken) -> tuple[TrustedNode, KeyPeriod] | None:
        """The node and key `token`'s kid names: None when the thumbprint is on no node.

        Raises `UntrustedIssuer` when the kid's DID is not the DID of the node holding the key: a
        generic did:web verifier would look for the key in another node's DID document, and a
        member's key must not sign in another node's name.
        """
        found = self._keys.get(token.thumbprint)
        if found is not None and found[0].did != token.kid_did:
            raise UntrustedIssuer(KID_NAMES_ANOTHER_DID)
        return found

    def node_by_did(self, did: str) -> TrustedNode | None:
        return self._by_did.get(did)

    def node(self, node_id: str) -> TrustedNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def payload(self) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "iat": int(self.issued_at.timestamp()),
            "sequence": self.sequence,
            "issuedAt": isoformat(self.issued_at),
            "nextUpdate": isoformat(self.next_update),
            "nodes": [n.to_json() for n in self.nodes],
        }

    def sign(self, root_key: SigningKey) -> str:
        """Sign with the global root key, which belongs to the list's issuer (the global node)."""
        token = sign_jws(
            self.payload(),
            key=root_key,
            did=self.issuer,
            typ=TRUST_LIST_TYP,
            extra_headers={"jwk": root_key.public_key.to_jwk()},
        )
        if len(token) > MAX_TRUST_LIST_BYTES:
            # Verifiers refuse it unread: publishing it would leave the federation on the old list.
            raise TrustListTooLarge(
                f"trust list #{self.sequence} is {len(token)} bytes, more than verifiers "
                f"accept ({MAX_TRUST_LIST_BYTES})"
            )
        return token

    def check_fresh(self, *, now: datetime, grace: timedelta = DEFAULT_GRACE) -> None:
        # `now - grace`, not `next_update + grace`: a signed year-9999 date must not overflow.
        if now - grace > self.next_update:
            raise TrustListStale(
                f"trust list #{self.sequence} was due for update at "
                f"{isoformat(self.next_update)}; get a fresh one"
            )

    @classmethod
    def from_jws(
        cls,
        token: str,
        *,
        pinned_thumbprints: Collection[str],
        now: datetime | None = None,
        grace: timedelta = DEFAULT_GRACE,
        check_freshness: bool = True,
    ) -> Self:
        """Verify a signed trust list against the pinned root key thumbprint(s)."""
        parsed = JwsToken.parse(
            token,
            typ=TRUST_LIST_TYP,
            allowed_headers=_TRUST_LIST_HEADERS,
            max_bytes=MAX_TRUST_LIST_BYTES,
        )
        if parsed.thumbprint not in pinned_thumbprints:
            raise RootNotPinned(
                "the trust list is not signed by a pinned global root key (its root key's "
                f"thumbprint is {parsed.thumbprint})"
            )
        root_key = PublicKey.from_jwk(parsed.header.get("jwk"))
        if root_key.kid != parsed.thumbprint:
            raise UntrustedIssuer("the trust list's root key does not match its kid")
        payload = parsed.verify(root_key)
        if not isinstance(payload.get("iss"), str):
            raise MalformedError("trust list is malformed: iss must be the issuer's DID")
        if payload["iss"] != parsed.kid_did:
            # The root key is the issuer's (the global node's): its kid names the issuer's DID.
            raise UntrustedIssuer(KID_NAMES_ANOTHER_DID)
        try:
            trust_list = cls(
                issuer=_str(payload["iss"]),
                sequence=_sequence(payload["sequence"]),
                issued_at=parse_datetime(_str(payload["issuedAt"])),
                next_update=parse_datetime(_str(payload["nextUpdate"])),
                nodes=tuple(
                    TrustedNode.from_json(n, root_keys=(root_key,), root_did=parsed.kid_did)
                    for n in _list(payload["nodes"])
                ),
                token=token,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedError(f"trust list is malformed: {exc}") from exc
        if check_freshness:
            trust_list.check_fresh(now=now or datetime.now(UTC), grace=grace)
        return trust_list


def _sequence(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("sequence must be a non-negative integer")
    return value


class TrustAnchor:
    """What a verifier keeps between trust lists: the pinned root and the highest sequence seen.

    `accept` refuses a list older than one already accepted (a rollback), and one with the same
    sequence but other content (the global node never signs two lists with one number).
    """

    def __init__(
        self,
        pinned_thumbprints: Iterable[str],
        *,
        grace: timedelta = DEFAULT_GRACE,
        highest_seen: int = -1,
        seen_token: str | None = None,
    ) -> None:
        self.pinned_thumbprints = frozenset(pinned_thumbprints)
        self.grace = grace
        self.highest_seen = highest_seen
        self._seen_token = seen_token

    def accept(self, token: str, *, now: datetime | None = None) -> TrustList:
        trust_list = TrustList.from_jws(
            token, pinned_thumbprints=self.pinned_thumbprints, now=now, grace=self.grace
        )
        if trust_list.sequence < self.highest_seen:
            raise TrustListRollback(
                f"trust list #{trust_list.sequence} is older than #{self.highest_seen}, "
                "already seen"
            )
        if (
            trust_list.sequence == self.highest_seen
            and self._seen_token is not None
            and token != self._seen_token
        ):
            raise TrustListRollback(
                f"two different trust lists carry sequence #{trust_list.sequence}"
            )
        self.highest_seen, self._seen_token = trust_list.sequence, token
        return trust_list
