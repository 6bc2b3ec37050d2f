"""A small test federation built with the credentials library, dated from the real clock.

The CLI runs in a subprocess with the real clock, so every date here is relative to `now()`
(the vector builders in tests/vectors use a fixed clock instead). One root key signs the trust
list; node KE signs certificates and its status lists: list 1, which its certificates point
at, and list 2 (an older, full list), two bits per certificate (revoked, suspended).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sdgcities.cli._bundle import write_bundle
from sdgcities.credentials import (
    MIN_ENTRIES,
    STATUS_SIZE,
    CertificateIssue,
    Decision,
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    StatusBitstring,
    StatusEntry,
    TrustAnchor,
    TrustedNode,
    TrustList,
    did_web_from_base_url,
    sign_status_list,
)

GLOBAL_DID = "did:web:sdgcities.example"
LIST_IDS = ("1", "2")
FRAMEWORK = FrameworkRef("ke-national", "1", "sha256:" + "ab" * 32)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class TestFederation:
    """Node KE at `base_url`; `bits` is its status list 1, to set (`revoke`, `suspend`) before
    signing it."""

    base_url: str = "https://ke.sdgcities.example"
    root: SigningKey = field(default_factory=SigningKey.generate)
    key: SigningKey = field(default_factory=SigningKey.generate)
    node_id: str = "KE"
    framework: FrameworkRef = FRAMEWORK
    bits: StatusBitstring = field(default_factory=lambda: StatusBitstring(2 * MIN_ENTRIES))
    _next_index: int = 1000

    __test__ = False  # not a pytest test class

    @property
    def did(self) -> str:
        return did_web_from_base_url(self.base_url)

    @property
    def pin(self) -> str:
        return self.root.kid

    def list_url(self, list_id: str = "1") -> str:
        return f"{self.base_url}/status/{list_id}"

    def revoke(self, index: int) -> None:
        self.bits.set(index * STATUS_SIZE)

    def suspend(self, index: int) -> None:
        self.bits.set(index * STATUS_SIZE + 1)

    def node(self, *, status: NodeStatus = NodeStatus.ACTIVE) -> TrustedNode:
        since = now() - timedelta(days=400)
        return TrustedNode(
            id=self.node_id,
            did=self.did,
            name="Kenya SDG Cities",
            base_url=self.base_url,
            status=status,
            status_since=since if status is NodeStatus.ACTIVE else now() - timedelta(days=1),
            keys=(KeyPeriod(self.key.public_key, KeyStatus.ACTIVE, since),),
            frameworks=(
                Endorsement.sign(
                    framework=self.framework,
                    node_id=self.node_id,
                    root_key=self.root,
                    issuer_did=GLOBAL_DID,
                    endorsed_at=since,
                ),
            ),
        )

    def trust_list(
        self,
        *,
        sequence: int = 5,
        issued_at: datetime | None = None,
        next_update: datetime | None = None,
        root: SigningKey | None = None,
        extra_nodes: tuple[TrustedNode, ...] = (),
    ) -> str:
        issued_at = issued_at or now() - timedelta(hours=1)
        return TrustList(
            issuer=GLOBAL_DID,
            sequence=sequence,
            issued_at=issued_at,
            next_update=next_update or issued_at + timedelta(days=1),
            nodes=(self.node(), *extra_nodes),
        ).sign(root or self.root)

    def status_list(
        self,
        list_id: str = "1",
        *,
        valid_until: datetime | None = None,
        url: str | None = None,
        signed_ago: timedelta = timedelta(hours=1),
    ) -> str:
        valid_from = now() - signed_ago
        return sign_status_list(
            list_url=url or self.list_url(list_id),
            bitstring=self.bits if list_id == "1" else StatusBitstring(2 * MIN_ENTRIES),
            issuer_did=self.did,
            key=self.key,
            valid_from=valid_from,
            valid_until=valid_until or valid_from + timedelta(hours=48),
        )

    def status_lists(self, *, signed_ago: timedelta = timedelta(hours=1)) -> dict[str, str]:
        return {self.list_url(n): self.status_list(n, signed_ago=signed_ago) for n in LIST_IDS}

    def certificate(
        self,
        *,
        locode: str = "KE-NBO",
        city: str = "Nairobi",
        stage: str = "evidence-based-processes",
        valid_until: datetime | None = None,
        key: SigningKey | None = None,
        index: int | None = None,
        credential_id: str | None = None,
    ) -> tuple[str, int]:
        """A signed certificate and its status index."""
        if index is None:
            index = self._next_index
            self._next_index += 1
        issued = now() - timedelta(days=30)
        issue = CertificateIssue(
            credential_id=credential_id or f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            issuer_did=self.did,
            issuer_name="Kenya SDG Cities",
            locode=locode,
            city_name=city,
            country=locode[:2],
            stage=stage,
            framework=self.framework,
            decision=Decision("KE national committee", "2026-1", issued),
            criteria=("B.a", "B.b"),
            valid_from=issued,
            valid_until=valid_until or issued + timedelta(days=3 * 365),
            status=StatusEntry(self.list_url(), index),
        )
        return issue.sign(key or self.key, issued_at=issued), index

    def write_bundle(
        self,
        path: Path,
        *,
        trust_list: str | None = None,
        lists: dict[str, str] | None = None,
        created_at: datetime | None = None,
    ) -> Path:
        """A bundle as `trust sync` writes it, without the network (and without its checks)."""
        token = trust_list or self.trust_list()
        parsed = (
            TrustAnchor([self.pin]).accept(token)
            if trust_list is None
            else _unchecked(token, self.pin)
        )
        write_bundle(
            path,
            trust_list=parsed,
            token=token,
            source=f"{self.base_url}/federation/trust-list",
            lists=self.status_lists() if lists is None else lists,
            created_at=created_at or now(),
        )
        return path


def _unchecked(token: str, pin: str) -> TrustList:
    return TrustList.from_jws(token, pinned_thumbprints=[pin], check_freshness=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
