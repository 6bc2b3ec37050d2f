"""The commands' settings: command-line options, then the environment, then a TOML file.

Typer reads an option and its environment variable; what neither gives comes from the config file
(`--config`, `$SDGCITIES_CONFIG`, or `$XDG_CONFIG_HOME/sdgcities/config.toml`, by default
`~/.config/sdgcities/config.toml`):

    root_thumbprints = ["<RFC 7638 thumbprint of the global root key>"]
    registry_url = "https://sdgcities.example"    # the global node's base URL
    bundle_dir = "/media/usb/sdgcities-bundle"    # relative paths are read from the file's folder
    node_url = "https://ke.sdgcities.example"     # the node the operator commands talk to
    token = "sdgc_..."                            # only in a file no one else can read

The pinned root thumbprints come only from here: never from the network (DESIGN §5). The
operator's bearer token comes from `--token-file`, `$SDGCITIES_TOKEN` or the config file, never
from a command-line argument (which would land in the shell's history and in `ps`); a file that
holds a token must not be readable by others.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CliError, ExitCode

CONFIG_ENV = "SDGCITIES_CONFIG"
ROOT_THUMBPRINT_ENV = "SDGCITIES_ROOT_THUMBPRINT"
REGISTRY_URL_ENV = "SDGCITIES_REGISTRY_URL"
BUNDLE_DIR_ENV = "SDGCITIES_BUNDLE_DIR"
NODE_URL_ENV = "SDGCITIES_NODE_URL"
TOKEN_ENV = "SDGCITIES_TOKEN"  # noqa: S105 - the variable's name, not a secret
CONFIG_KEYS = frozenset({"root_thumbprints", "registry_url", "bundle_dir", "node_url", "token"})

# What to say when a trust list is signed by a root key that is not pinned.
CHECK_THE_PIN = (
    "check the pinned root thumbprint (--root-thumbprint, SDGCITIES_ROOT_THUMBPRINT or "
    "root_thumbprints in the config file) against the one the global secretariat published"
)

# An RFC 7638 SHA-256 thumbprint: 32 bytes, unpadded base64url.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
# A node's bearer token: `sdgc_` and 256 random bits, base64url.
_TOKEN = re.compile(r"sdgc_[A-Za-z0-9_-]{35,59}")


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sdgcities" / "config.toml"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share"))


def default_bundle_dir() -> Path:
    return _data_home() / "sdgcities" / "bundle"


def status_history_path() -> Path:
    """Where this user's verifier remembers the status lists it accepted: on this machine, never
    in a bundle (a bundle may come from someone else)."""
    return _data_home() / "sdgcities" / "status-lists-seen.json"


@dataclass(frozen=True, slots=True)
class Settings:
    root_thumbprints: frozenset[str]
    registry_url: str | None
    bundle_dir: Path
    config_path: Path | None  # the file that was read, if any

    def pins(self) -> frozenset[str]:
        """The pinned root thumbprints; a usage error when there are none."""
        if not self.root_thumbprints:
            where = self.config_path or default_config_path()
            raise CliError(
                "no pinned root key thumbprint: pass --root-thumbprint, set "
                f"{ROOT_THUMBPRINT_ENV}, or put root_thumbprints in {where}",
                ExitCode.USAGE,
            )
        return self.root_thumbprints

    def registry(self) -> str:
        """The global node's base URL (https, or http on loopback): from the options, the
        environment or the config file, else the registry the bundle was last synced from (so
        `verify` works right after `trust sync --registry-url X`); a usage error when none."""
        registry_url = self.registry_url or self._bundle_registry()
        if registry_url is None:
            raise CliError(
                f"no registry URL: pass --registry-url, set {REGISTRY_URL_ENV}, "
                "or put registry_url in the config file",
                ExitCode.USAGE,
            )
        from sdgcities.credentials import MalformedError, normalise_base_url

        try:
            return normalise_base_url(registry_url)
        except MalformedError as exc:
            raise CliError(f"registry URL: {exc}", ExitCode.USAGE) from exc

    def _bundle_registry(self) -> str | None:
        from ._bundle import MANIFEST_FILE, TRUST_LIST_PATH, BundleError, Manifest

        if not (self.bundle_dir / MANIFEST_FILE).exists():
            return None
        try:
            source = Manifest.read(self.bundle_dir).source
        except BundleError:
            return None  # a damaged bundle names no registry; `verify --offline` says more
        return source.removesuffix(TRUST_LIST_PATH) if source.endswith(TRUST_LIST_PATH) else None


@dataclass(frozen=True, slots=True)
class NodeConnection:
    """Where the operator commands send requests, and as whom."""

    node_url: str
    token: str = field(repr=False)


def resolve_connection(
    *, config: Path | None, node_url: str | None, token_file: Path | None
) -> NodeConnection:
    """`--node-url` / `$SDGCITIES_NODE_URL` (merged by Typer), then the config file; the token
    from `--token-file`, then `$SDGCITIES_TOKEN`, then the config file."""
    path = config if config is not None else default_config_path()
    values = _read_config(path, required=config is not None) or {}
    node_url = node_url or _config_str(values, "node_url", path)
    if not node_url:
        raise CliError(
            f"no node URL: pass --node-url, set {NODE_URL_ENV}, or put node_url in {path}",
            ExitCode.USAGE,
        )
    from sdgcities.credentials import MalformedError, normalise_base_url

    try:
        node_url = normalise_base_url(node_url)
    except MalformedError as exc:
        raise CliError(f"node URL: {exc}", ExitCode.USAGE) from exc
    if token_file is not None:
        token = _private_text(token_file, what="token file").strip()
        source = f"token file {token_file}"
    elif os.environ.get(TOKEN_ENV):
        token, source = os.environ[TOKEN_ENV].strip(), TOKEN_ENV
    elif _config_str(values, "token", path):
        _private_text(path, what="config file")  # refuses a token that others can read
        token, source = str(values["token"]).strip(), f"config file {path}"
    else:
        raise CliError(
            f"no token: set {TOKEN_ENV}, pass --token-file, or put token in {path} "
            "(never on the command line)",
            ExitCode.USAGE,
        )
    if not _TOKEN.fullmatch(token):
        raise CliError(f"the token in {source} is not a node token (sdgc_...)", ExitCode.USAGE)
    return NodeConnection(node_url=node_url, token=token)


def _private_text(path: Path, *, what: str) -> str:
    """A file's text, refused when its mode lets the group or others read or change it."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CliError(
                f"{what} {path} holds a token and others may read it: chmod 600 {path}",
                ExitCode.USAGE,
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CliError(f"{what} {path} does not exist", ExitCode.USAGE) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{what} {path} cannot be read: {exc}", ExitCode.USAGE) from exc


def resolve_settings(
    *,
    config: Path | None,
    root_thumbprints: Iterable[str] | None,
    registry_url: str | None,
    bundle_dir: Path | None,
) -> Settings:
    """Options and environment (already merged by Typer) first, then the config file."""
    path = config if config is not None else default_config_path()
    values = _read_config(path, required=config is not None)
    config_path = path if values is not None else None
    values = values or {}

    pins: list[str] = []
    for item in root_thumbprints or ():
        pins += item.split(",")
    if not [p for p in pins if p.strip()]:
        pins = _config_thumbprints(values.get("root_thumbprints"), path)
    if registry_url is None:
        registry_url = _config_str(values, "registry_url", path)
    if bundle_dir is None:
        configured = _config_str(values, "bundle_dir", path)
        if configured is not None:
            bundle_dir = path.parent / Path(configured).expanduser()
    return Settings(
        root_thumbprints=_checked_thumbprints(pins),
        registry_url=registry_url or None,
        bundle_dir=bundle_dir if bundle_dir is not None else default_bundle_dir(),
        config_path=config_path,
    )


def _read_config(path: Path, *, required: bool) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        if not required:
            return None
        raise CliError(f"config file {path} does not exist", ExitCode.USAGE) from exc
    except OSError as exc:
        message = f"config file {path} cannot be read: {exc.strerror}"
        raise CliError(message, ExitCode.USAGE) from exc
    import tomllib

    try:
        values = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CliError(f"config file {path} is not valid TOML: {exc}", ExitCode.USAGE) from exc
    unknown = sorted(set(values) - CONFIG_KEYS)
    if unknown:
        raise CliError(
            f"config file {path}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(CONFIG_KEYS))})",
            ExitCode.USAGE,
        )
    return values


def _config_str(values: dict[str, Any], key: str, path: Path) -> str | None:
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise CliError(f"config file {path}: {key} must be a string", ExitCode.USAGE)
    return value


def _config_thumbprints(value: Any, path: Path) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CliError(
        f"config file {path}: root_thumbprints must be a list of strings", ExitCode.USAGE
    )


def checked_thumbprint(value: str) -> str:
    """`value` if it has the shape of an RFC 7638 SHA-256 thumbprint; a usage error if not."""
    (pin,) = _checked_thumbprints([value]) or ("",)
    if not pin:
        raise CliError("the root thumbprint is empty", ExitCode.USAGE)
    return pin


def _checked_thumbprints(values: Iterable[str]) -> frozenset[str]:
    pins = frozenset(v.strip() for v in values if v.strip())
    for pin in sorted(pins):
        if not _THUMBPRINT.fullmatch(pin):
            raise CliError(
                f"root thumbprint {pin[:50]!r} is not an RFC 7638 SHA-256 thumbprint "
                "(43 base64url characters)",
                ExitCode.USAGE,
            )
    return pins
