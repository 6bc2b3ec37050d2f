"""`sdgcities spot-checks verify ROUND`: does a published spot-check round hold up?

Two checks, both from public data (report §26a, §28: the global node "spot-checks" national
decisions, so anyone must be able to see that it did not choose whom to check):

1. **The draw.** `federation.spotcheck.recompute` scores every candidate from the round's inputs
   and compares the scores, the candidates' digest and the selection with what is published.
2. **The round is the one the global node committed to.** The global node's signed event log
   (`GET /federation/events`, a `federation-report+jwt` checked against the trust list signed by
   the pinned root key) must hold, at the round's `logHead`, an event with that hash, and right
   after it the `spotcheck.selected` event naming this round and this document's digest. A round
   edited after the draw (another rate, a candidate dropped, the selection recomputed to match)
   passes check 1 but fails check 2.

The log head is locked while a round is drawn (node/spotchecks/rounds.py), so the round's event
is always the one that follows its head.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sdgcities.credentials import content_digest, isoformat
from sdgcities.federation import (
    GENESIS,
    MAX_REPORT_BYTES,
    REPORT_MEDIA_TYPE,
    EventType,
    FederationError,
    ReportBatch,
)
from sdgcities.federation.spotcheck import (
    GLOBAL_NODE_ID,
    RoundResult,
    parse_round_document,
    recompute,
)

from ._config import resolve_settings
from ._trustdata import fetch_trust_list
from ._ui import stdout_console, write_json
from .errors import CliError, ExitCode

if TYPE_CHECKING:
    import httpx

    from sdgcities.credentials import TrustList
    from sdgcities.federation import Event

# A round lists every award of its window with a score (~300 bytes each): room for 100,000.
MAX_ROUND_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RoundCheckRequest:
    round: str  # a round's URL or a file holding its JSON ('-' for standard input)
    json_output: bool
    config: Path | None
    root_thumbprints: list[str] | None
    registry_url: str | None
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class LogEntry:
    """Where the global node's signed log records the round."""

    sequence: int
    trust_list_sequence: int


def run_round_check(request: RoundCheckRequest) -> ExitCode:
    from ._http import new_client

    settings = resolve_settings(
        config=request.config,
        root_thumbprints=request.root_thumbprints,
        registry_url=request.registry_url,
        bundle_dir=None,
    )
    is_url = request.round.startswith(("http://", "https://"))
    if settings.registry_url is None and is_url:
        # The round's own node is the global node unless the user names another registry.
        parts = urlsplit(request.round)
        settings = dataclasses.replace(settings, registry_url=f"{parts.scheme}://{parts.netloc}")
    pins = settings.pins()
    with new_client(timeout=request.timeout) as client:
        text = _fetch_round(client, request.round) if is_url else _read_round(request.round)
        document = _round_document(text)
        try:
            result = recompute(document)
        except FederationError as exc:
            raise CliError(f"the round does not match its inputs: {exc}") from exc
        digest = content_digest(document)
        trust_list = fetch_trust_list(settings, pins, client=client, now=datetime.now(UTC))
        entry = _find_in_log(client, settings.registry(), trust_list, result, digest)
    if request.json_output:
        write_json(_round_json(result, digest, entry))
    else:
        _print_round(result, digest, entry)
    return ExitCode.OK


def _fetch_round(client: httpx.Client, url: str) -> bytes:
    from ._http import FetchError, fetch_bytes

    try:
        return fetch_bytes(client, url, accept="application/json", max_bytes=MAX_ROUND_BYTES)
    except FetchError as exc:
        raise CliError(f"cannot decide: {exc}", ExitCode.CANNOT_DECIDE) from exc


def _read_round(name: str) -> bytes:
    try:
        if name == "-":
            text = sys.stdin.buffer.read(MAX_ROUND_BYTES + 1)
        else:
            with Path(name).open("rb") as source:
                text = source.read(MAX_ROUND_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}", ExitCode.USAGE) from exc
    if len(text) > MAX_ROUND_BYTES:
        raise CliError(f"{name} is larger than {MAX_ROUND_BYTES} bytes", ExitCode.USAGE)
    return text


def _round_document(text: bytes) -> dict[str, Any]:
    """The round document itself, or the one inside the API's answer (`document`)."""
    try:
        parsed = parse_round_document(text)
    except FederationError as exc:
        raise CliError(str(exc)) from exc
    inner = parsed.get("document") if "format" not in parsed else parsed
    if not isinstance(inner, dict):
        raise CliError("neither a round document nor a round from the API (no 'document')")
    return inner


def _find_in_log(
    client: httpx.Client,
    registry: str,
    trust_list: TrustList,
    result: RoundResult,
    digest: str,
) -> LogEntry:
    head = result.log_head
    events = _signed_events(client, registry, trust_list, after=max(head.sequence - 1, 0))
    if head.sequence == 0:
        if head != GENESIS:
            raise CliError("the round's log head is sequence 0 but not the empty log's hash")
    else:
        at_head = events[0] if events else None
        if at_head is None or at_head.sequence != head.sequence or at_head.hash != head.hash:
            raise CliError(
                f"the global node's signed log has no event {head.sequence} with hash "
                f"{head.hash}: the round was not drawn at the head it names"
            )
        events = events[1:]
    drawn = events[0] if events else None
    if (
        drawn is None
        or drawn.type is not EventType.SPOTCHECK_SELECTED
        or drawn.subject.get("round") != result.round_id
    ):
        raise CliError(
            f"the global node's signed log does not record round {result.round_id} right after "
            f"event {head.sequence}"
        )
    if drawn.data.get("document") != digest:
        raise CliError(
            f"round {result.round_id} is not the round the global node published: its log "
            f"records document {drawn.data.get('document')}, this one is {digest}"
        )
    return LogEntry(sequence=drawn.sequence, trust_list_sequence=trust_list.sequence)


def _signed_events(
    client: httpx.Client, registry: str, trust_list: TrustList, *, after: int
) -> tuple[Event, ...]:
    from ._http import FetchError, fetch_token

    url = f"{registry}/federation/events?after={after}&limit=2"
    try:
        report = fetch_token(client, url, accept=REPORT_MEDIA_TYPE, max_bytes=MAX_REPORT_BYTES)
    except FetchError as exc:
        raise CliError(f"cannot decide: {exc}", ExitCode.CANNOT_DECIDE) from exc
    try:
        batch = ReportBatch.verify(report, trust_list=trust_list)
    except FederationError as exc:
        raise CliError(f"the global node's log at {url} does not verify: {exc}") from exc
    if batch.node_id != GLOBAL_NODE_ID:
        raise CliError(f"{url} is node {batch.node_id}'s log, not the global node's")
    return batch.events


def _round_json(result: RoundResult, digest: str, entry: LogEntry) -> dict[str, Any]:
    return {
        "round": result.round_id,
        "matches": True,
        "digest": digest,
        "rate": result.rate,
        "window": {"from": isoformat(result.window_from), "until": isoformat(result.window_until)},
        "log_head": {"sequence": result.log_head.sequence, "hash": result.log_head.hash},
        "candidates": len(result.candidates),
        "selected": [{"nodeId": node, "application": app} for node, app in result.selected],
        "log_event": entry.sequence,
        "trust_list_sequence": entry.trust_list_sequence,
    }


def _print_round(result: RoundResult, digest: str, entry: LogEntry) -> None:
    from ._ops import fields, table

    console = stdout_console()
    console.print(
        fields(
            f"Spot-check round {result.round_id}: the draw matches its inputs and the global "
            "node's signed log",
            [
                ("rate", result.rate),
                ("window", f"{isoformat(result.window_from)} to {isoformat(result.window_until)}"),
                ("log head", f"#{result.log_head.sequence} {result.log_head.hash}"),
                ("candidates", len(result.candidates)),
                ("selected", len(result.selected)),
                ("document", digest),
                (
                    "recorded",
                    f"event #{entry.sequence} of the global node's log "
                    f"(trust list #{entry.trust_list_sequence})",
                ),
            ],
        )
    )
    if result.selected:
        console.print(table("Selected", ("node", "application"), list(result.selected)))
