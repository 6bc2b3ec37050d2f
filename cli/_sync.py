"""`sdgcities trust sync`: the signed trust list and every node's status lists into a bundle.

The trust list comes from `GET {registry_url}/federation/trust-list` and is accepted only through
`credentials.TrustAnchor` (pinned root thumbprint, freshness, the bundle's rollback anchor). Status
lists are looked up only under the base URLs that list names: each node's index
`GET {base_url}/status` answers `{"lists": [{"id", "purpose", "url", "validUntil"}, ...]}`, and
only the URLs under that node's base URL are fetched. Each list is checked against its issuer's
key before it is stored (the verifier checks it again when it is used). A node that cannot be
reached keeps the lists the bundle already held for it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from sdgcities.credentials import (
    STATUS_PURPOSE,
    VC_JWT_TYP,
    JwsToken,
    RootNotPinned,
    StatusList,
    StatusListHistory,
    StatusListRollback,
    TrustedNode,
    TrustList,
    VerificationError,
    isoformat,
)

from ._bundle import (
    TRUST_LIST_PATH,
    Anchor,
    Manifest,
    read_previous_lists,
    trust_anchor,
    write_bundle,
)
from ._config import CHECK_THE_PIN
from ._http import (
    MAX_STATUS_LIST_BYTES,
    MAX_TRUST_LIST_BYTES,
    TRUST_LIST_MEDIA_TYPE,
    VC_JWT_MEDIA_TYPE,
    FetchError,
    fetch_json,
    fetch_token,
)
from .errors import CliError, ExitCode


class Steps(Protocol):
    """Where progress goes (a rich progress bar, or nowhere)."""

    def add(self, count: int) -> None: ...

    def advance(self, label: str) -> None: ...


@dataclass(slots=True)
class ListReport:
    url: str
    purpose: str | None  # None for a list kept from the previous sync when the index failed
    valid_until: datetime | None = None
    kept: bool = False  # the copy from the previous sync, since a fresh one was not obtained
    problem: str | None = None


@dataclass(slots=True)
class NodeReport:
    node: TrustedNode
    lists: list[ListReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # fetched now, by URL

    @property
    def complete(self) -> bool:
        return not self.problems and all(item.problem is None for item in self.lists)


@dataclass(frozen=True, slots=True)
class SyncReport:
    bundle_dir: Path
    source: str
    trust_list: TrustList
    previous: Anchor | None
    nodes: tuple[NodeReport, ...]
    manifest: Manifest

    @property
    def complete(self) -> bool:
        return all(node.complete for node in self.nodes)


def sync_bundle(
    *,
    client: httpx.Client,
    registry_url: str,
    pins: Collection[str],
    bundle_dir: Path,
    now: datetime,
    steps: Steps,
    history: StatusListHistory,
) -> SyncReport:
    anchor = Anchor.read(bundle_dir)
    source = f"{registry_url}{TRUST_LIST_PATH}"
    steps.add(1)
    try:
        token = fetch_token(
            client, source, accept=TRUST_LIST_MEDIA_TYPE, max_bytes=MAX_TRUST_LIST_BYTES
        )
    except FetchError as exc:
        raise CliError(
            f"trust list not fetched: {exc}; the bundle is unchanged", ExitCode.CANNOT_DECIDE
        ) from exc
    try:
        trust_list = trust_anchor(pins, anchor, token).accept(token, now=now)
    except VerificationError as exc:
        hint = f"; {CHECK_THE_PIN}" if isinstance(exc, RootNotPinned) else ""
        raise CliError(
            f"trust list refused ({exc.reason.value}): {exc}; the bundle is unchanged{hint}",
            ExitCode.CANNOT_DECIDE,
        ) from exc
    steps.advance(f"trust list #{trust_list.sequence}")
    steps.add(len(trust_list.nodes))

    previous = read_previous_lists(bundle_dir)
    lists: dict[str, str] = {}
    reports = []
    for node in trust_list.nodes:
        report = _sync_node(
            client, node, trust_list=trust_list, now=now, steps=steps, history=history
        )
        lists.update(report.tokens)
        _keep_previous(report, previous, lists, trust_list)
        reports.append(report)
        steps.advance(f"node {node.id}")
    manifest = write_bundle(
        bundle_dir, trust_list=trust_list, token=token, source=source, lists=lists, created_at=now
    )
    return SyncReport(bundle_dir, source, trust_list, anchor, tuple(reports), manifest)


def _keep_previous(
    report: NodeReport, previous: dict[str, str], lists: dict[str, str], trust_list: TrustList
) -> None:
    """What could not be fetched afresh keeps the copy the bundle held (the verifier judges it)."""
    for item in report.lists:
        kept = previous.get(item.url)
        if item.problem is not None and kept is not None:
            lists[item.url], item.kept = kept, True
    if report.problems:  # the index itself failed: keep every list held for this node
        for url, kept in previous.items():
            if node_for(url, trust_list) is report.node and url not in lists:
                lists[url] = kept
                report.lists.append(ListReport(url, None, kept=True))


def _sync_node(
    client: httpx.Client,
    node: TrustedNode,
    *,
    trust_list: TrustList,
    now: datetime,
    steps: Steps,
    history: StatusListHistory,
) -> NodeReport:
    report = NodeReport(node)
    index_url = f"{node.base_url.rstrip('/')}/status"
    try:
        entries = _index_entries(fetch_json(client, index_url), node)
    except (FetchError, ValueError) as exc:
        report.problems.append(f"status index: {exc}")
        return report
    steps.add(len(entries))
    for url, purpose in entries:
        item = ListReport(url, purpose)
        report.lists.append(item)
        try:
            token = fetch_token(
                client, url, accept=VC_JWT_MEDIA_TYPE, max_bytes=MAX_STATUS_LIST_BYTES
            )
            status_list = checked_status_list(token, url=url, node=node, trust_list=trust_list)
            if status_list.purpose != purpose:
                raise ValueError(f"{url} is for {status_list.purpose}, the index says {purpose}")
            if status_list.valid_until < now:
                raise ValueError(f"{url} expired at {isoformat(status_list.valid_until)}")
            # A list older than one this user accepted is not stored: it may hide a revocation.
            history.accept(url, status_list.valid_from)
        except (FetchError, ValueError, StatusListRollback) as exc:
            item.problem = str(exc)
        else:
            item.valid_until = status_list.valid_until
            report.tokens[url] = token
        steps.advance(f"{node.id}: {url.rsplit('/', 1)[-1]}")
    return report


def _index_entries(index: Any, node: TrustedNode) -> list[tuple[str, str]]:
    """(url, purpose) of each listed status list, refusing URLs outside the node's base URL."""
    lists = index.get("lists") if isinstance(index, dict) else None
    if not isinstance(lists, list):
        raise ValueError('the index is not {"lists": [...]}')
    entries: list[tuple[str, str]] = []
    for entry in lists:
        url = entry.get("url") if isinstance(entry, dict) else None
        purpose = entry.get("purpose") if isinstance(entry, dict) else None
        if not isinstance(url, str) or purpose != STATUS_PURPOSE:
            raise ValueError(f"an index entry lacks its url or the purpose {STATUS_PURPOSE!r}")
        if not is_under(url, node.base_url):
            raise ValueError(f"{url} is not under the node's base URL {node.base_url}")
        if url not in {u for u, _ in entries}:
            entries.append((url, str(purpose)))
    return entries


def checked_status_list(
    token: str, *, url: str, node: TrustedNode, trust_list: TrustList
) -> StatusList:
    """A sanity check before storing or showing a list; the verifier repeats its own checks."""
    try:
        parsed = JwsToken.parse(token, typ=VC_JWT_TYP, max_bytes=MAX_STATUS_LIST_BYTES)
        found = trust_list.signer_of(parsed)
        if found is None or found[0] is not node:
            raise ValueError(f"{url} is not signed by a key of node {node.id}")
        status_list = StatusList.from_payload(parsed.verify(found[1].public_key))
    except VerificationError as exc:
        raise ValueError(f"{url} cannot be trusted: {exc}") from exc
    if status_list.url != url or status_list.issuer != node.did:
        raise ValueError(f"{url} names another address or issuer")
    return status_list


def node_for(url: str, trust_list: TrustList) -> TrustedNode | None:
    """The node whose base URL the list lies under (the longest, as base URLs may nest)."""
    under = [n for n in trust_list.nodes if is_under(url, n.base_url)]
    return max(under, key=lambda n: len(n.base_url), default=None)


def is_under(url: str, base_url: str) -> bool:
    return url.startswith(base_url.rstrip("/") + "/")
