"""The offline trust bundle: a folder that can travel on a USB stick (§25 of the source report).

    trust-list.jwt          the signed trust list, exactly as fetched
    status/<sha256>.jwt     every status list, named by the SHA-256 (hex) of its URL
    manifest.json           {"format", "created_at", "trust_list_sequence", "source",
                             "lists": {url: "status/<sha256>.jwt"}}
    anchor.json             {"highest_sequence_seen", "token_sha256"}

Nothing in the bundle is trusted for being there: the trust list is checked against the pinned
root thumbprint(s) every time it is read, and each status list against its issuer's key by the
verifier. `manifest.json` is bookkeeping (where each list is, when the bundle was made).

`anchor.json` is the `credentials.TrustAnchor` state that outlives a run: the highest trust-list
sequence this bundle has held and the digest of that list. A later sync that is handed an older
list (or another list with the same number) refuses it and keeps the bundle; an offline verify
whose `trust-list.jwt` is older than the anchor answers "cannot decide". The anchor is never
lowered. It cannot stop a whole old bundle copied back over a new one: the signed dates do that
(a trust list is refused past its next update plus a grace, a status list past its validity).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdgcities.credentials import StatusListUnavailable, TrustAnchor, TrustList, isoformat

from .errors import CliError, ExitCode

TRUST_LIST_FILE = "trust-list.jwt"
STATUS_DIR = "status"
MANIFEST_FILE = "manifest.json"
# Where a registry serves the trust list; a manifest's `source` is the registry URL and this.
TRUST_LIST_PATH = "/federation/trust-list"
ANCHOR_FILE = "anchor.json"
FORMAT = 1
MAX_FILE_BYTES = 4 * 1024 * 1024
# Stands in for the anchored token when the bundle's list is not it: it equals no compact JWS, so
# `TrustAnchor.accept` refuses a different list that carries the anchored sequence number.
_OTHER_TOKEN = "(the anchored trust list, known here only by its SHA-256)"  # noqa: S105 - not a secret


class BundleError(CliError):
    """The bundle is missing, incomplete or unreadable: the trust data to decide with is absent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CANNOT_DECIDE)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def status_file(url: str) -> str:
    return f"{STATUS_DIR}/{sha256_hex(url)}.jwt"


@dataclass(frozen=True, slots=True)
class Anchor:
    highest_sequence_seen: int
    token_sha256: str

    @classmethod
    def for_token(cls, trust_list: TrustList, token: str) -> Anchor:
        return cls(trust_list.sequence, sha256_hex(token))

    @classmethod
    def read(cls, bundle_dir: Path) -> Anchor | None:
        """The bundle's anchor; None when the bundle has none yet (a first sync)."""
        path = bundle_dir / ANCHOR_FILE
        if not path.exists():
            return None
        data = _read_json(path)
        sequence, digest = data.get("highest_sequence_seen"), data.get("token_sha256")
        if (
            not isinstance(sequence, int)
            or isinstance(sequence, bool)
            or sequence < 0
            or not isinstance(digest, str)
            or len(digest) != 64
        ):
            raise BundleError(
                f"{path} is damaged, so rollback cannot be checked; "
                "remove the bundle folder and sync again"
            )
        return cls(sequence, digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "highest_sequence_seen": self.highest_sequence_seen,
            "token_sha256": self.token_sha256,
        }


def trust_anchor(pins: Collection[str], anchor: Anchor | None, token: str) -> TrustAnchor:
    """A `TrustAnchor` that remembers `anchor`, ready to `accept(token)`."""
    if anchor is None:
        return TrustAnchor(pins)
    seen = token if sha256_hex(token) == anchor.token_sha256 else _OTHER_TOKEN
    return TrustAnchor(pins, highest_seen=anchor.highest_sequence_seen, seen_token=seen)


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: datetime
    trust_list_sequence: int
    source: str
    lists: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": isoformat(self.created_at),
            "trust_list_sequence": self.trust_list_sequence,
            "source": self.source,
            "lists": dict(sorted(self.lists.items())),
        }

    @classmethod
    def read(cls, bundle_dir: Path) -> Manifest:
        path = bundle_dir / MANIFEST_FILE
        data = _read_json(path)
        lists = data.get("lists")
        try:
            created_at = datetime.fromisoformat(data["created_at"])
            sequence, source = data["trust_list_sequence"], data["source"]
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{path} is damaged: {exc}") from exc
        if (
            data.get("format") != FORMAT
            or created_at.tzinfo is None
            or not isinstance(sequence, int)
            or not isinstance(source, str)
            or not isinstance(lists, dict)
            or not all(isinstance(u, str) and v == status_file(u) for u, v in lists.items())
        ):
            raise BundleError(f"{path} is damaged or of another format")
        return cls(created_at.astimezone(UTC), sequence, source, lists)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A bundle read from disk; `accept` checks its trust list against the pins and the anchor."""

    path: Path
    manifest: Manifest
    anchor: Anchor
    trust_list_token: str

    @classmethod
    def open(cls, path: Path) -> Bundle:
        if not (path / TRUST_LIST_FILE).exists() and not (path / MANIFEST_FILE).exists():
            raise BundleError(
                f"no trust bundle in {path}: run 'sdgcities trust sync' (or pass --bundle)"
            )
        manifest = Manifest.read(path)
        anchor = Anchor.read(path)
        if anchor is None:
            raise BundleError(f"{path / ANCHOR_FILE} is missing; rollback cannot be checked")
        token = _read_text(path / TRUST_LIST_FILE)
        return cls(path, manifest, anchor, token)

    def accept(self, pins: Collection[str], *, now: datetime) -> TrustList:
        """The bundle's trust list, verified; raises the library's `VerificationError`s."""
        return trust_anchor(pins, self.anchor, self.trust_list_token).accept(
            self.trust_list_token, now=now
        )

    def fetcher(self) -> BundleFetcher:
        return BundleFetcher(self)

    def age(self, now: datetime) -> float:
        return (now - self.manifest.created_at).total_seconds()


class BundleFetcher:
    """The verifier's status-list fetcher for offline use: the bundle's files, nothing else."""

    def __init__(self, bundle: Bundle) -> None:
        self._bundle = bundle

    def __call__(self, url: str) -> str:
        name = self._bundle.manifest.lists.get(url)
        if name is None:
            raise StatusListUnavailable(
                f"status list {url} is not in the offline bundle; sync it with the issuer online"
            )
        try:
            return _read_text(self._bundle.path / name)
        except BundleError as exc:
            raise StatusListUnavailable(str(exc)) from exc


def read_previous_lists(bundle_dir: Path) -> dict[str, str]:
    """The status lists a bundle holds now (url -> token), to keep when a node is unreachable."""
    try:
        manifest = Manifest.read(bundle_dir)
    except BundleError:
        return {}
    kept: dict[str, str] = {}
    for url, name in manifest.lists.items():
        try:
            kept[url] = _read_text(bundle_dir / name)
        except BundleError:
            continue
    return kept


def write_bundle(
    bundle_dir: Path,
    *,
    trust_list: TrustList,
    token: str,
    source: str,
    lists: Mapping[str, str],
    created_at: datetime,
) -> Manifest:
    """Write (or update) the bundle; the anchor is written last and only ever rises."""
    try:
        (bundle_dir / STATUS_DIR).mkdir(parents=True, exist_ok=True)
        for url, list_token in lists.items():
            _write_atomic(bundle_dir / status_file(url), list_token)
        _write_atomic(bundle_dir / TRUST_LIST_FILE, token)
        manifest = Manifest(
            created_at, trust_list.sequence, source, {url: status_file(url) for url in lists}
        )
        _write_atomic(bundle_dir / MANIFEST_FILE, _dumps(manifest.to_json()))
        previous = Anchor.read(bundle_dir)
        if previous is None or trust_list.sequence >= previous.highest_sequence_seen:
            anchor = Anchor.for_token(trust_list, token)
            _write_atomic(bundle_dir / ANCHOR_FILE, _dumps(anchor.to_json()))
        keep = {Path(name).name for name in manifest.lists.values()}
        for stale in (bundle_dir / STATUS_DIR).glob("*.jwt"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        raise CliError(
            f"cannot write the bundle in {bundle_dir}: {exc.strerror or exc}", ExitCode.NOT_VALID
        ) from exc
    return manifest


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is missing from the bundle") from exc
    except OSError as exc:
        raise BundleError(f"{path} cannot be read: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise BundleError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise BundleError(f"{path} is not a compact JWS") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is missing from the bundle") from exc
    except OSError as exc:
        raise BundleError(f"{path} cannot be read: {exc.strerror}") from exc
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{path} is damaged: not JSON") from exc
    if not isinstance(value, dict):
        raise BundleError(f"{path} is damaged: not a JSON object")
    return value
