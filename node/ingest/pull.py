"""The global node pulls a member's log (`GET {base_url}/federation/events?after=N`).

Used when a pushed report skipped ahead (a gap), from the admin endpoint, and periodically for
every member as a safety net for a relay that is silent. Pages are ingested through the same
`receive_report` as pushed reports; the `Link: rel="next"` header is followed only while it
stays on the member's base URL from the trust list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlmodel import select

from sdgcities.federation import MAX_REPORT_BYTES, MAX_REPORT_EVENTS, REPORT_MEDIA_TYPE, ChainHead
from sdgcities.node.db import transaction
from sdgcities.node.errors import Conflict, NodeError, NotFound
from sdgcities.node.membership.client import FederationUnreachable, allowed_base_urls, exchange
from sdgcities.node.state import NodeState

from .models import AlarmKind, IngestAlarm, IngestedLog, ReportSource
from .service import IngestRuntime, ReportConflict, held_head, raise_alarm, receive_report

MAX_PAGES_PER_PULL: Final = 1000
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class PullResult:
    node_id: str
    pages: int
    added: int
    head: ChainHead


def pull_node(*, state: NodeState, runtime: IngestRuntime, node_id: str) -> PullResult:
    """Fetch and ingest everything `node_id` has after the held head.

    A gap the node's own report showed (`ingested_log.missing_*`) that the pull cannot fill,
    because the node is unreachable or answers without those events, raises a `gap` alarm
    (once per gap): the node claimed events it does not hand over.
    """
    if node_id == state.settings.node_id:
        raise Conflict("the global node's own log is ingested in-process, not pulled")
    with transaction(state.engine, write=False) as session:
        trust_list = runtime.trust_lists.current(session=session, state=state)
        head = held_head(session=session, node_id=node_id)
        log = session.get(IngestedLog, node_id)
        gap = _missing(log)
    node = trust_list.node(node_id) if trust_list is not None else None
    if trust_list is None or node is None:
        raise NotFound(f"node {node_id} is not on the trust list")
    pulled: list[str] = []
    try:
        result = _pull(
            state,
            runtime,
            node_id,
            feed=f"{node.base_url}/federation/events",
            allowed=allowed_base_urls(global_url=None, trust_list=trust_list),
            head=head,
            pulled=pulled,
        )
    except ReportConflict as exc:
        if exc.reason_code == "gap" and gap is not None:
            _gap(state, node_id, gap, f"its feed skipped them too ({exc.message})", pulled)
        raise  # a fork or a rollback raised its own alarm
    except NodeError as exc:
        if gap is not None:
            _gap(state, node_id, gap, f"the pull failed: {exc.message}", pulled)
        raise
    if gap is not None and result.head.sequence < gap[1]:
        _gap(state, node_id, gap, f"its feed ends at event {result.head.sequence}", pulled)
    runtime.wanted.discard(node_id)
    return result


def _pull(
    state: NodeState,
    runtime: IngestRuntime,
    node_id: str,
    *,
    feed: str,
    allowed: set[str],
    head: ChainHead,
    pulled: list[str],
) -> PullResult:
    """Page through the node's feed from `head`, each page ingested; `pulled` gets each token."""
    url: str | None = f"{feed}?after={head.sequence}&limit={MAX_REPORT_EVENTS}"
    pages = added = 0
    while url is not None and pages < MAX_PAGES_PER_PULL:
        answer = exchange(
            state.http,
            method="GET",
            url=url,
            allowed=allowed,
            headers={"Accept": REPORT_MEDIA_TYPE},
            max_response_bytes=MAX_REPORT_BYTES,
        )
        if answer.status == 404 and pages == 0 and head.sequence > 0:
            _rollback(state, node_id, head)
        if answer.status != 200:
            raise FederationUnreachable(f"{url} answered {answer.status}")
        try:
            token = answer.body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise FederationUnreachable(f"{url} did not answer a compact JWS") from exc
        pulled.append(token)
        accepted = receive_report(
            state=state, runtime=runtime, token=token, source=ReportSource.PULLED
        )
        pages += 1
        added += accepted.added
        head = accepted.head
        url = _next_page(answer.headers.get("link", ""), feed)
    return PullResult(node_id=node_id, pages=pages, added=added, head=head)


def _missing(log: IngestedLog | None) -> tuple[int, int] | None:
    if log is None or log.missing_from is None or log.missing_to is None:
        return None
    return log.missing_from, log.missing_to


def _gap(state: NodeState, node_id: str, gap: tuple[int, int], why: str, pulled: list[str]) -> None:
    """The `gap` alarm, once per gap (a pull retried later adds none), with what was pulled."""
    first, last = gap
    with transaction(state.engine) as session:
        raised = session.exec(
            select(IngestAlarm.id).where(
                IngestAlarm.kind == AlarmKind.GAP,
                IngestAlarm.node_id == node_id,
                IngestAlarm.sequence == first,
            )
        ).first()
        if raised is not None:
            return
        raise_alarm(
            session=session,
            kind=AlarmKind.GAP,
            node_id=node_id,
            sequence=first,
            detail=(
                f"node {node_id} reported events past {first - 1}, but events {first} to {last} "
                f"could not be pulled: {why}"
            ),
            evidence=pulled[-1:],
        )


def _next_page(link: str, feed: str) -> str | None:
    match = _NEXT_LINK.search(link)
    if match is None:
        return None
    target = match.group(1)
    # Only the member's own feed: a Link elsewhere would make us fetch what it chooses.
    return target if target.startswith(f"{feed}?") else None


def _rollback(state: NodeState, node_id: str, head: ChainHead) -> None:
    detail = (
        f"node {node_id} says its log ends before event {head.sequence}, which it reported "
        "earlier (its feed answered 404)"
    )
    with transaction(state.engine) as session:
        raise_alarm(
            session=session,
            kind=AlarmKind.ROLLBACK,
            node_id=node_id,
            sequence=head.sequence,
            detail=detail,
        )
    raise ReportConflict(detail, code="rollback")
