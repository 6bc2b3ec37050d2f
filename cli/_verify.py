"""`sdgcities verify`: read the input, get the trust data, verify, answer, return the exit code.

Usage errors (no pin, an unreadable file, a URL or city id with `--offline`) are found before any
trust data is read; trust data that cannot be used (no bundle, a stale or rolled-back trust list,
an unreachable registry) stops the command with "cannot decide" before any certificate is judged.
Every certificate then gets the verifier's own answer.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sdgcities.credentials import Outcome, Reason, TrustList, VerificationResult, city_subject_id

from . import _report, _seen
from ._config import Settings, resolve_settings
from ._inputs import Batch, Kind, Source, classify, read_batch, read_local, unwrap
from ._trustdata import Trust, offline_trust, online_trust
from ._ui import json_indent, printable, stdout_console, steps, wants_progress, write_json
from .errors import CliError, ExitCode

if TYPE_CHECKING:
    import httpx
    from rich.console import Console


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    certificate: str | None
    batch: str | None
    offline: bool
    json_output: bool
    timeout: float
    workers: int
    config: Path | None
    root_thumbprints: list[str] | None
    registry_url: str | None
    bundle_dir: Path | None


def run_verify(request: VerifyRequest) -> ExitCode:
    settings = resolve_settings(
        config=request.config,
        root_thumbprints=request.root_thumbprints,
        registry_url=request.registry_url,
        bundle_dir=request.bundle_dir,
    )
    pins = settings.pins()
    if (request.certificate is None) == (request.batch is None):
        raise CliError(
            "give one CERTIFICATE (token, file, URL or city id) or --batch FILE", ExitCode.USAGE
        )
    now = datetime.now(UTC)
    if request.batch is not None:
        batch = read_batch(request.batch)
        with _trust(settings, pins, request, now=now) as trust:
            return _verify_batch(trust, batch, request)
    source = classify(request.certificate or "")
    if not source.needs_network:
        token = read_local(source)
        with _trust(settings, pins, request, now=now) as trust:
            return _answer_one(trust, source, trust.verifier.verify(token), request.json_output)
    if request.offline:
        raise CliError(
            f"--offline verifies a token or a file; a {source.kind.value} needs the network",
            ExitCode.USAGE,
        )
    with _online(settings, pins, request, now=now) as (trust, client):
        if source.kind is Kind.CITY:
            return _verify_city(trust, client, settings, source.value, request.json_output)
        token = fetch_certificate(client, source.value)
        return _answer_one(trust, source, trust.verifier.verify(token), request.json_output)


@contextmanager
def _trust(
    settings: Settings, pins: frozenset[str], request: VerifyRequest, *, now: datetime
) -> Iterator[Trust]:
    if request.offline:
        with _seen.remembered() as history:
            yield offline_trust(settings, pins, now=now, history=history)
        return
    with _online(settings, pins, request, now=now) as (trust, _client):
        yield trust


@contextmanager
def _online(
    settings: Settings, pins: frozenset[str], request: VerifyRequest, *, now: datetime
) -> Iterator[tuple[Trust, httpx.Client]]:
    from ._http import new_client

    with new_client(timeout=request.timeout) as client, _seen.remembered() as history:
        yield online_trust(settings, pins, client=client, now=now, history=history), client


def _answer_one(
    trust: Trust, source: Source, result: VerificationResult, json_output: bool
) -> ExitCode:
    shown = _report.answer(result)
    if json_output:
        write_json({"input": source.label, **shown, "trust": trust.info})
    else:
        console = stdout_console()
        _print_trust(console, trust)
        console.print(_report.panel(shown))
    return _report.exit_code([shown])


def _verify_batch(trust: Trust, batch: Batch, request: VerifyRequest) -> ExitCode:
    from ._parallel import worker_count

    # What start-up made (modules, the trust data, the batch) lives to the end: frozen, the
    # garbage collector no longer walks it, in this process, in the workers (where walking it
    # would copy each page it touches, as the `gc` docs warn of forks) and at exit.
    gc.freeze()
    count = worker_count(request.workers, batch_size=batch.lines, offline=request.offline)
    if request.json_output:
        return _stream_batch_json(trust, batch, count)
    from ._parallel import answers as answers_in_order

    items = batch.items()
    tokens = [token for _line, token in items]
    answers: list[_report.Answer] = []
    # The workers are forked, with the batch, before the progress bar starts its thread.
    with (
        answers_in_order(trust.verifier, tokens, workers=count) as chunks,
        steps("Verifying", enabled=wants_progress(request.json_output)) as progress,
    ):
        progress.add(len(tokens))
        for chunk in chunks:
            answers += chunk
            progress.update(len(answers))
    console = stdout_console()
    _print_trust(console, trust)
    rows = [(str(line), shown) for (line, _token), shown in zip(items, answers, strict=True)]
    _report.print_lines(console, _report.summary_table(answers), _report.problems_table(rows))
    return _report.exit_code(answers)


def _stream_batch_json(trust: Trust, batch: Batch, workers: int) -> ExitCode:
    """The batch's one JSON document, `{"results": [...], "summary": ..., "trust": ...}`,
    written result by result as the workers answer: the same text `write_json` writes of the
    whole document (indented for a terminal, compact for a pipe)."""
    from ._parallel import render_json, stream_json

    indent = json_indent()
    out = sys.stdout
    out.write('{"results":[' if indent is None else '{\n  "results": [\n    ')
    outcomes = stream_json(trust.verifier, batch, workers=workers, write=out.write, indent=indent)
    answers = [{"status": status, "reason": reason} for status, reason in outcomes]
    summary = render_json(_report.summary_json(answers), indent=indent, level=1)
    info = render_json(trust.info, indent=indent, level=1)
    if indent is None:
        out.write(f'],"summary":{summary},"trust":{info}}}\n')
    else:
        out.write(f'\n  ],\n  "summary": {summary},\n  "trust": {info}\n}}\n')
    out.flush()
    return _report.exit_code(answers)


def _print_trust(console: Console, trust: Trust) -> None:
    console.print(printable(trust.summary, limit=1000), style="dim", soft_wrap=True)


def _verify_city(
    trust: Trust, client: httpx.Client, settings: Settings, locode: str, json_output: bool
) -> ExitCode:
    city, listed = _city_certificates(client, settings.registry(), locode, trust.trust_list)
    answers = [
        (certificate_id, _report.answer(_for_city(trust.verifier.verify(token), locode)))
        for certificate_id, token in listed
    ]
    shown = [a for _, a in answers]
    if json_output:
        write_json(
            {
                "city": city,
                "results": [{"input": where, **a} for where, a in answers],
                "summary": _report.summary_json(shown),
                "trust": trust.info,
            }
        )
    else:
        console = stdout_console()
        _print_trust(console, trust)
        heading = f"{city['name']} ({city['locode']}), {city['country']}"
        held = (
            f"{len(answers)} current certificate(s)"
            if city["current"]
            else f"no current certificate; {len(answers)} suspended or revoked"
        )
        console.print(f"{printable(heading)}: {held}", style="bold")
        for where, a in answers:
            console.print(_report.panel(a, title=where))
    return _report.exit_code(shown)


def _for_city(result: VerificationResult, locode: str) -> VerificationResult:
    """A valid certificate of another city is not an answer about this one."""
    if result.valid and result.credential is not None:
        subject = result.credential.get("credentialSubject")
        subject_id = subject.get("id") if isinstance(subject, dict) else None
        if subject_id != city_subject_id(locode):
            return VerificationResult(
                Outcome.INVALID,
                Reason.MALFORMED,
                f"the registry lists this certificate for {locode}, but it was awarded to "
                f"{subject_id}",
                result.credential,
                result.issuer,
            )
    return result


# The registry's statuses of a certificate taken away (for now or for good).
WITHDRAWN_STATUSES = ("suspended", "revoked")


def _city_certificates(
    client: httpx.Client, registry: str, locode: str, trust_list: TrustList
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The city as the registry describes it, and (id, token) of each current certificate, or,
    when none is current, of each suspended or revoked one."""
    from ._http import FetchError, fetch_json

    url = f"{registry}/registry/cities/{quote(locode, safe='')}"
    try:
        data = fetch_json(client, url)
    except FetchError as exc:
        if exc.status in (404, 410):
            raise CliError(f"the registry knows no city {locode}", ExitCode.NOT_VALID) from exc
        raise CliError(f"cannot decide: {exc}", ExitCode.CANNOT_DECIDE) from exc
    certificates = data.get("certificates") if isinstance(data, dict) else None
    if not isinstance(certificates, list):
        raise CliError(
            f"cannot decide: {url} did not answer a city with its certificates",
            ExitCode.CANNOT_DECIDE,
        )
    city = {
        "locode": data.get("locode", locode),
        "name": data.get("name"),
        "country": data.get("country"),
    }
    entries = [c for c in certificates if isinstance(c, dict)]
    chosen = [c for c in entries if c.get("current") is True]
    city["current"] = bool(chosen)
    if not chosen:
        # A suspended or revoked certificate is what an investor must see, with its status
        # (which the verifier takes from the status lists, whatever the registry says).
        chosen = [c for c in entries if c.get("status") in WITHDRAWN_STATUSES]
    if not chosen:
        raise CliError(
            f"{printable(city['name'] or locode)} ({locode}) holds no current certificate",
            ExitCode.NOT_VALID,
        )
    listed = []
    for entry in chosen:
        certificate_id = entry.get("id")
        if not isinstance(certificate_id, str):
            raise CliError(
                f"cannot decide: {url} lists a certificate without an id", ExitCode.CANNOT_DECIDE
            )
        token = entry.get("jwt")
        if not isinstance(token, str):
            token = fetch_certificate(
                client, _certificate_url(entry, registry, certificate_id, trust_list)
            )
        listed.append((certificate_id, token))
    return city, listed


def _certificate_url(
    entry: dict[str, Any], registry: str, certificate_id: str, trust_list: TrustList
) -> str:
    """Where to fetch a listed certificate: its `url` if a node of the trust list serves it."""
    listed = entry.get("url")
    if isinstance(listed, str):
        bases = [registry, *(node.base_url for node in trust_list.nodes)]
        if any(listed.startswith(base.rstrip("/") + "/") for base in bases):
            return listed
    return f"{registry}/registry/credentials/{quote(certificate_id, safe='')}"


def fetch_certificate(client: httpx.Client, url: str) -> str:
    """The `vc+jwt` served at `url` (a node's `/registry/credentials/{id}`), size-capped."""
    from ._http import MAX_CERTIFICATE_BYTES, VC_JWT_MEDIA_TYPE, FetchError, fetch_bytes

    try:
        body = fetch_bytes(client, url, accept=VC_JWT_MEDIA_TYPE, max_bytes=MAX_CERTIFICATE_BYTES)
    except FetchError as exc:
        if exc.status in (404, 410):
            raise CliError(f"no certificate at {url}", ExitCode.NOT_VALID) from exc
        raise CliError(f"cannot decide: certificate {exc}", ExitCode.CANNOT_DECIDE) from exc
    return unwrap(body.decode("utf-8", errors="replace"))
