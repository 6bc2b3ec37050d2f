"""Where `verify` gets the trust list and status lists: the registry online, or the bundle.

Online, the trust list comes from `GET {registry_url}/federation/trust-list` and is accepted
through `credentials.TrustAnchor` (pinned thumbprint, freshness, and the local bundle's anchor if
there is one, so the network cannot hand back an older list than the bundle has seen; online
verification never writes the bundle). The verifier fetches status lists itself, over capped
requests that follow no redirects.

Offline, only the bundle is read; no HTTP client is even created.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sdgcities.credentials import (
    RootNotPinned,
    StatusListHistory,
    TrustList,
    VerificationError,
    Verifier,
    isoformat,
)

from ._bundle import Anchor, Bundle, trust_anchor
from ._config import CHECK_THE_PIN, Settings
from ._ui import ago
from .errors import CliError, ExitCode

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Trust:
    """A verifier ready to use, and what to tell the user about the trust data behind it."""

    verifier: Verifier
    info: dict[str, Any]  # the JSON output's "trust" member
    summary: str  # one line for people

    @property
    def trust_list(self) -> TrustList:
        return self.verifier.trust_list


def offline_trust(
    settings: Settings, pins: Collection[str], *, now: datetime, history: StatusListHistory
) -> Trust:
    bundle = Bundle.open(settings.bundle_dir)
    where = f"offline bundle {bundle.path}, synced {ago(bundle.age(now))}"
    try:
        trust_list = bundle.accept(pins, now=now)
    except VerificationError as exc:
        raise _cannot_decide(exc, where, hint="run 'sdgcities trust sync'") from exc
    info = {
        "mode": "offline",
        "bundle": str(bundle.path),
        "bundle_created_at": isoformat(bundle.manifest.created_at),
        "bundle_age_seconds": int(bundle.age(now)),
        **_trust_list_info(trust_list),
    }
    summary = (
        f"Trust data: {where} ({isoformat(bundle.manifest.created_at)}); "
        f"trust list #{trust_list.sequence}, next update due {isoformat(trust_list.next_update)}"
    )
    return Trust(Verifier(trust_list, fetcher=bundle.fetcher(), history=history), info, summary)


def online_trust(
    settings: Settings,
    pins: Collection[str],
    *,
    client: httpx.Client,
    now: datetime,
    history: StatusListHistory,
) -> Trust:
    from ._http import HttpStatusListFetcher

    registry = settings.registry()
    trust_list = fetch_trust_list(settings, pins, client=client, now=now)
    info = {"mode": "online", "registry": registry, **_trust_list_info(trust_list)}
    summary = (
        f"Trust data: {registry}, trust list #{trust_list.sequence} issued "
        f"{isoformat(trust_list.issued_at)}, next update due {isoformat(trust_list.next_update)}"
    )
    verifier = Verifier(trust_list, fetcher=HttpStatusListFetcher(client), history=history)
    return Trust(verifier, info, summary)


def fetch_trust_list(
    settings: Settings, pins: Collection[str], *, client: httpx.Client, now: datetime
) -> TrustList:
    """The registry's trust list, accepted as `online_trust` accepts it; `CliError` (exit 3)."""
    from ._http import MAX_TRUST_LIST_BYTES, TRUST_LIST_MEDIA_TYPE, FetchError, fetch_token

    url = f"{settings.registry()}/federation/trust-list"
    anchor = Anchor.read(settings.bundle_dir) if settings.bundle_dir.is_dir() else None
    try:
        token = fetch_token(
            client, url, accept=TRUST_LIST_MEDIA_TYPE, max_bytes=MAX_TRUST_LIST_BYTES
        )
    except FetchError as exc:
        raise CliError(
            f"cannot decide: the trust list is unavailable: {exc}", ExitCode.CANNOT_DECIDE
        ) from exc
    try:
        return trust_anchor(pins, anchor, token).accept(token, now=now)
    except VerificationError as exc:
        raise _cannot_decide(exc, f"trust list from {url}", hint="try again later") from exc


def _trust_list_info(trust_list: TrustList) -> dict[str, Any]:
    return {
        "trust_list_sequence": trust_list.sequence,
        "trust_list_issued_at": isoformat(trust_list.issued_at),
        "trust_list_next_update": isoformat(trust_list.next_update),
    }


def _cannot_decide(exc: VerificationError, where: str, *, hint: str) -> CliError:
    if isinstance(exc, RootNotPinned):
        hint = CHECK_THE_PIN  # waiting or syncing again cannot help; the pin may be mistyped
    return CliError(
        f"cannot decide ({exc.reason.value}): {exc} ({where}; {hint})", ExitCode.CANNOT_DECIDE
    )
