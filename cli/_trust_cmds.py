"""`sdgcities trust sync` and `trust show`: run them and show what they found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdgcities.credentials import TrustList, VerificationError

from . import _seen
from ._bundle import Bundle, BundleError
from ._config import resolve_settings
from ._sync import NodeReport, SyncReport, checked_status_list, node_for, sync_bundle
from ._ui import (
    ago,
    duration,
    fit_columns,
    optional_isoformat,
    printable,
    stdout_console,
    steps,
    wants_progress,
    write_json,
)
from .errors import CliError, ExitCode


@dataclass(frozen=True, slots=True)
class TrustRequest:
    json_output: bool
    config: Path | None
    root_thumbprints: list[str] | None
    registry_url: str | None
    bundle_dir: Path | None
    timeout: float = 10.0


def run_sync(request: TrustRequest) -> ExitCode:
    from ._http import new_client

    settings = resolve_settings(
        config=request.config,
        root_thumbprints=request.root_thumbprints,
        registry_url=request.registry_url,
        bundle_dir=request.bundle_dir,
    )
    pins, registry = settings.pins(), settings.registry()
    now = datetime.now(UTC)
    with (
        new_client(timeout=request.timeout) as client,
        _seen.remembered() as history,
        steps("Syncing", enabled=wants_progress(request.json_output)) as progress,
    ):
        report = sync_bundle(
            client=client,
            registry_url=registry,
            pins=pins,
            bundle_dir=settings.bundle_dir,
            now=now,
            steps=progress,
            history=history,
        )
    if request.json_output:
        write_json(_sync_json(report))
    else:
        _print_sync(report)
    return ExitCode.OK if report.complete else ExitCode.CANNOT_DECIDE


def _sync_json(report: SyncReport) -> dict[str, Any]:
    return {
        "bundle": str(report.bundle_dir),
        "source": report.source,
        "trust_list": _trust_list_json(report.trust_list),
        "previous_sequence": report.previous.highest_sequence_seen if report.previous else None,
        "nodes": [_node_json(node) for node in report.nodes],
        "status_lists": len(report.manifest.lists),
        "complete": report.complete,
    }


def _node_json(report: NodeReport) -> dict[str, Any]:
    node = report.node
    return {
        "id": node.id,
        "name": node.name,
        "status": node.status.value,
        "base_url": node.base_url,
        "lists": [
            {
                "url": item.url,
                "purpose": item.purpose,
                "valid_until": optional_isoformat(item.valid_until),
                "kept": item.kept,
                "problem": item.problem,
            }
            for item in report.lists
        ],
        "problems": report.problems,
    }


def _trust_list_json(trust_list: TrustList) -> dict[str, Any]:
    return {
        "sequence": trust_list.sequence,
        "issued_at": optional_isoformat(trust_list.issued_at),
        "next_update": optional_isoformat(trust_list.next_update),
        "nodes": len(trust_list.nodes),
    }


def _print_sync(report: SyncReport) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    trust_list = report.trust_list
    before = (
        f" (the bundle held #{report.previous.highest_sequence_seen})" if report.previous else ""
    )
    console.print(
        f"Trust list #{trust_list.sequence}{before} from {printable(report.source)}, "
        f"next update due {optional_isoformat(trust_list.next_update)}",
        soft_wrap=True,
    )
    table = Table(title="Nodes")
    for column in ("Node", "Status", "Status lists", "Valid until", "Problems"):
        table.add_column(column, overflow="fold")
    for node_report in report.nodes:
        node = node_report.node
        fresh = [i for i in node_report.lists if i.problem is None and not i.kept]
        kept = [i for i in node_report.lists if i.kept]
        until = min((i.valid_until for i in fresh if i.valid_until), default=None)
        problems = node_report.problems + [i.problem for i in node_report.lists if i.problem]
        counted = f"{len(fresh)}" + (f" (+{len(kept)} kept from the last sync)" if kept else "")
        table.add_row(
            Text(printable(f"{node.id}: {node.name}")),
            node.status.value,
            counted,
            optional_isoformat(until) or "—",
            Text(printable("; ".join(problems)) or "—", style="red" if problems else ""),
        )
    console.print(fit_columns(table))
    state = "complete" if report.complete else "INCOMPLETE: some status lists are missing or old"
    console.print(
        f"Bundle written to {printable(str(report.bundle_dir))}: "
        f"{len(report.manifest.lists)} status list(s), {state}",
        style="bold" if report.complete else "bold yellow",
        soft_wrap=True,
    )


@dataclass(slots=True)
class _ListState:
    url: str
    node: str | None
    purpose: str | None
    valid_until: datetime | None
    problem: str | None


def run_show(request: TrustRequest) -> ExitCode:
    settings = resolve_settings(
        config=request.config,
        root_thumbprints=request.root_thumbprints,
        registry_url=request.registry_url,
        bundle_dir=request.bundle_dir,
    )
    pins = settings.pins()
    now = datetime.now(UTC)
    bundle = Bundle.open(settings.bundle_dir)
    problem: str | None = None
    try:
        trust_list = bundle.accept(pins, now=now)
    except VerificationError as exc:
        problem = f"{exc.reason.value}: {exc}"
        try:  # shown for what it is, though it cannot be used to decide
            trust_list = TrustList.from_jws(
                bundle.trust_list_token, pinned_thumbprints=pins, check_freshness=False
            )
        except VerificationError:
            raise CliError(
                f"cannot decide ({exc.reason.value}): the bundle's trust list: {exc}",
                ExitCode.CANNOT_DECIDE,
            ) from exc
    lists = _list_states(bundle, trust_list, now)
    usable = problem is None and all(state.problem is None for state in lists)
    shown = _Shown(bundle, trust_list, lists, problem, usable, _usable_until(trust_list, lists))
    if request.json_output:
        write_json(_show_json(shown, now))
    else:
        _print_show(shown, now)
    return ExitCode.OK if usable else ExitCode.CANNOT_DECIDE


@dataclass(frozen=True, slots=True)
class _Shown:
    bundle: Bundle
    trust_list: TrustList
    lists: Sequence[_ListState]
    problem: str | None
    usable: bool
    usable_until: datetime | None


def _usable_until(trust_list: TrustList, lists: Sequence[_ListState]) -> datetime | None:
    """When the first of the signed dates lapses: the trust list's grace or a status list."""
    from sdgcities.credentials.trust_list import DEFAULT_GRACE

    ends = [trust_list.next_update + DEFAULT_GRACE]
    ends += [state.valid_until for state in lists if state.valid_until is not None]
    return min(ends) if ends else None


def _list_states(bundle: Bundle, trust_list: TrustList, now: datetime) -> list[_ListState]:
    states = []
    for url in sorted(bundle.manifest.lists):
        node = node_for(url, trust_list)
        state = _ListState(url, node.id if node else None, None, None, None)
        try:
            if node is None:
                raise ValueError("no node of the trust list publishes it")
            status_list = checked_status_list(
                bundle.fetcher()(url), url=url, node=node, trust_list=trust_list
            )
        except (ValueError, VerificationError, BundleError) as exc:
            state.problem = str(exc)
        else:
            state.purpose, state.valid_until = status_list.purpose, status_list.valid_until
            if status_list.valid_until < now:
                lapsed = (now - status_list.valid_until).total_seconds()
                state.problem = f"expired {duration(lapsed)} ago"
        states.append(state)
    return states


def _show_json(shown: _Shown, now: datetime) -> dict[str, Any]:
    bundle, trust_list = shown.bundle, shown.trust_list
    return {
        "bundle": str(bundle.path),
        "created_at": optional_isoformat(bundle.manifest.created_at),
        "age_seconds": int(bundle.age(now)),
        "source": bundle.manifest.source,
        "anchor": bundle.anchor.to_json(),
        "trust_list": _trust_list_json(trust_list),
        "problem": shown.problem,
        "usable": shown.usable,
        "usable_until": optional_isoformat(shown.usable_until) if shown.usable else None,
        "nodes": [
            {
                "id": node.id,
                "name": node.name,
                "status": node.status.value,
                "status_since": optional_isoformat(node.status_since),
                "base_url": node.base_url,
                "keys": len(node.keys),
            }
            for node in trust_list.nodes
        ],
        "status_lists": [
            {
                "url": state.url,
                "node": state.node,
                "purpose": state.purpose,
                "valid_until": optional_isoformat(state.valid_until),
                "problem": state.problem,
            }
            for state in shown.lists
        ],
    }


def _print_show(shown: _Shown, now: datetime) -> None:
    from rich.table import Table
    from rich.text import Text

    bundle, trust_list = shown.bundle, shown.trust_list
    console = stdout_console()
    console.print(
        f"Bundle {printable(str(bundle.path))}: synced {ago(bundle.age(now))} "
        f"({optional_isoformat(bundle.manifest.created_at)}) "
        f"from {printable(bundle.manifest.source)}",
        soft_wrap=True,
    )
    console.print(
        f"Trust list #{trust_list.sequence}, issued {optional_isoformat(trust_list.issued_at)}, "
        f"next update due {optional_isoformat(trust_list.next_update)}; "
        f"highest sequence seen #{bundle.anchor.highest_sequence_seen}",
        soft_wrap=True,
    )
    table = Table(title="Nodes")
    for column in ("Node", "Name", "Status", "Base URL", "Keys"):
        table.add_column(column, overflow="fold")
    for node in trust_list.nodes:
        table.add_row(
            Text(printable(node.id)),
            Text(printable(node.name)),
            f"{node.status.value} since {optional_isoformat(node.status_since)}",
            Text(printable(node.base_url)),
            str(len(node.keys)),
        )
    console.print(fit_columns(table))
    lists_table = Table(title="Status lists")
    for column in ("Node", "Purpose", "Valid until", "URL / problem"):
        lists_table.add_column(column, overflow="fold")
    for state in shown.lists:
        lists_table.add_row(
            state.node or "—",
            state.purpose or "—",
            optional_isoformat(state.valid_until) or "—",
            Text(printable(state.problem or state.url), style="red" if state.problem else ""),
        )
    console.print(fit_columns(lists_table))
    if shown.usable:
        until = optional_isoformat(shown.usable_until)
        console.print(f"Usable offline until {until}.", style="bold green")
    else:
        why = shown.problem or "some status lists are unusable"
        console.print(
            Text(printable(f"Not usable to decide: {why}"), style="bold yellow"), soft_wrap=True
        )
