"""Node settings, read from the environment (prefix `SDGCITIES_`) or a `.env` file.

Built by `get_settings()`, never at import time. The same service runs a national node
(`node_id` = ISO 3166-1 alpha-2 code) or the global node (`node_id` = "global").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import (
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import (
    IssuerKeys,
    PublicKey,
    did_web_from_base_url,
    normalise_base_url,
)
from sdgcities.credentials.did import is_loopback_host

from .countries import is_country_code

GLOBAL_NODE_ID = "global"
SQLITE_FILE = "node.db"  # in the data folder, unless SDGCITIES_DATABASE_URL names another
DEVELOPMENT_PASSPHRASE = "development-only-passphrase"  # noqa: S105 - refused outside development


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class PasswordHashCost(StrEnum):
    STANDARD = "standard"
    # Test suites only: a stolen database's hashes would fall to guessing at once.
    MINIMAL = "minimal"


class MailSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SDGCITIES_", env_file=".env", extra="ignore")

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description=(
            "`development` or `production`; production refuses the development key passphrase"
        ),
    )
    node_id: str = Field(
        default="KE",
        description="ISO 3166-1 alpha-2 code of a national node's country (KE), or `global`",
    )
    node_name: str = Field(
        default="Kenya SDG Cities national node", description="The node's name, shown to people"
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description=(
            "The node's public base URL (https, or http on loopback); its `did:web` follows from it"
        ),
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="The data folder: keys, evidence, `node.env` and the SQLite database",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; by default a SQLite file in the data folder"
    )
    key_passphrase: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PASSPHRASE),
        description=(
            "Encrypts the node's signing keys at rest; the development default is refused in "
            "production and for any node whose base URL is not on loopback"
        ),
    )
    root_keys: list[dict[str, str]] = Field(
        default_factory=list,
        description=(
            "The global root public key(s) this node pins, as a JSON list of JWKs: trust lists "
            "and framework endorsements are accepted only when signed by one of them"
        ),
    )

    certification_issuers: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Issuers of other certifications whose credentials this node checks without the "
            'network, as a JSON list of `{"did": ..., "keys": [public JWK, ...]}` (for a '
            "did:web issuer such as a certification body; did:key and did:jwk need no pin): a "
            "city's credential from one of them shows as verified (report §30e)"
        ),
    )

    evidence_max_bytes: int = Field(
        default=25 * 1024 * 1024, gt=0, description="The largest evidence file a city may upload"
    )
    city_quota_bytes: int = Field(
        default=1024 * 1024 * 1024, gt=0, description="The evidence one city may store in all"
    )
    renewal_window_days: int = Field(
        default=180,
        ge=1,
        description="How long before a certificate's end its city may start renewing it (§42c)",
    )
    reviewers_per_application: int = Field(
        default=2, ge=1, description="Reviewers assigned to each application"
    )
    fees_required_before_submission: bool = Field(
        default=False,
        description=(
            "Refuse (409) to submit an application whose fee is neither paid nor waived (§29)"
        ),
    )
    token_lifetime_days: int = Field(
        default=90, ge=1, description="How long a new bearer token is valid"
    )
    status_list_validity_hours: int = Field(
        default=48,
        ge=1,
        description="How long a signed status list is valid; verifiers refuse an older one",
    )
    status_refresh_seconds: int = Field(
        default=3600, ge=1, description="How often the node re-signs status lists that are due"
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description=("The largest request body (evidence uploads excepted), counted as it arrives"),
    )
    rate_limit_verify_per_minute: int = Field(
        default=600,
        ge=0,
        description=(
            "`POST /verify` requests one client address may send per minute, all at once or "
            "spread out (a token bucket); 0: no limit"
        ),
    )
    rate_limit_join_per_hour: int = Field(
        default=30,
        ge=0,
        description="`POST /federation/join` requests per client address and hour; 0: no limit",
    )
    rate_limit_tracked_clients: int = Field(
        default=50_000,
        ge=1,
        description="Client addresses a rate limit remembers per route (least recent dropped)",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description=(
            "Reverse proxies (CIDRs, a JSON list) whose X-Forwarded-For names the client for "
            "rate limits; from any other peer the header is ignored"
        ),
    )
    outbound_deadline_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "The wall-clock limit on every request this node sends to another node, from "
            "connecting to the last byte of the answer (a slow peer cannot hold a caller longer)"
        ),
    )
    global_url: str | None = Field(
        default=None,
        description="Base URL of the global node (where this node joins and syncs the trust list)",
    )
    trust_sync_seconds: int = Field(
        default=900, ge=1, description="How often a national node fetches the trust list"
    )
    relay_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the relay looks for new events to send to the global node",
    )
    relay_backoff_base_seconds: float = Field(
        default=1.0, gt=0, description="The relay's first wait after a failed delivery"
    )
    relay_backoff_max_seconds: float = Field(
        default=300.0,
        gt=0,
        description="The longest wait between the relay's retries (full jitter below it)",
    )
    relay_heartbeat_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "With nothing new to send, how often the relay sends a signed empty report (alive, "
            "and where its log ends)"
        ),
    )
    ingest_pull_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the global node pulls every member's log, besides gaps at once",
    )
    ingest_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Reports the global node ingests at once; more wait their turn. One report keeps "
            "a core busy, so a few more than the cores only add switching (measured: 16 at "
            "once cost a third more CPU per event than 2)"
        ),
    )
    ingest_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        description=(
            "Worker processes that ingest pushed reports on the global node, on PostgreSQL "
            "(0: in the server's process). Ingest is CPU-bound Python, so with N cores, N "
            "processes ingest up to N times as fast; each takes one report at a time"
        ),
    )
    monitoring_silence_seconds: float | None = Field(
        default=None,
        gt=0,
        description=(
            "A member not heard from for this long is silent (monitoring). By default three "
            "times `relay_heartbeat_seconds`: every node reports at least that often, events "
            "or a signed empty report, so three missed in a row is a node down or cut off"
        ),
    )
    monitoring_quality_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How often the global node scores each node's data quality (one report each)",
    )
    spotcheck_rate: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="The share of certified applications a spot-check round selects (§26a)",
    )
    spotcheck_window_days: int = Field(
        default=365,
        ge=1,
        description="A round's candidates are the awards decided in this many days before it",
    )
    quorum_min_fraction: float = Field(
        default=0.5,
        ge=0,
        lt=1,
        description=(
            "A committee decision needs more than this fraction of the sitting members attending "
            "(0.5: a majority)"
        ),
    )
    quorum_min_non_government: int = Field(
        default=1,
        ge=0,
        description="and at least this many attending members who do not represent a government",
    )
    committee_meetings_per_year: int = Field(
        default=4,
        ge=1,
        le=12,
        description="How many meetings `POST /committee/meetings/plan` schedules for a year "
        "(the global committee sits about four times a year, §26b)",
    )

    rate_limit_mail_forms_per_minute: int = Field(
        default=10,
        ge=0,
        description=(
            "Forgot-password and account-request posts per client address and minute (a token "
            "bucket): each can send a mail; 0: no limit"
        ),
    )
    rate_limit_sign_in_per_minute: int = Field(
        default=30,
        ge=0,
        description="Web sign-in posts per client address and minute (a token bucket); 0: no limit",
    )
    sign_in_window_minutes: int = Field(
        default=15,
        ge=1,
        description="Failed sign-ins are counted over this many minutes (and lock out as long)",
    )
    sign_in_failures_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins on one account in the window before it waits"
    )
    sign_in_failures_per_client: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one client address in the window before it waits",
    )
    password_hash_cost: PasswordHashCost = Field(
        default=PasswordHashCost.STANDARD,
        description=(
            "Argon2id's cost for passwords: `standard` (RFC 9106's second recommended profile) "
            "or `minimal`, for test suites only (refused in production and off loopback)"
        ),
    )
    invitation_lifetime_hours: int = Field(
        default=72, ge=1, description="How long an invitation link (set a password) stays valid"
    )
    password_reset_lifetime_minutes: int = Field(
        default=60, ge=1, description="How long a password-reset link stays valid"
    )
    password_reset_interval_seconds: int = Field(
        default=60,
        ge=0,
        description=(
            "The least time between two password-reset mails to one account: more asks in "
            "between are answered as usual but send nothing, so nobody can flood a person's "
            "mailbox or keep cancelling their link"
        ),
    )
    mail_host: str | None = Field(
        default=None,
        description="SMTP server for the outbox; without one, mail waits in the outbox",
    )
    mail_port: int = Field(default=25, ge=1, le=65535, description="The SMTP server's port")
    mail_username: str | None = Field(
        default=None, description="The SMTP login's user name; none: no login"
    )
    mail_password: SecretStr | None = Field(default=None, description="The SMTP login's password")
    mail_security: MailSecurity = Field(
        default=MailSecurity.NONE,
        description="`starttls` (usually port 587), `ssl` (implicit TLS, usually 465) or `none`",
    )
    mail_from: str = Field(default="sdgcities@localhost", description="The From address")
    mail_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the sender looks for mail that is due"
    )
    mail_backoff_base_seconds: float = Field(
        default=30.0, gt=0, description="The wait after a message's first failed delivery"
    )
    mail_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between a message's retries"
    )
    mail_timeout_seconds: float = Field(
        default=30.0, gt=0, description="The limit on one conversation with the SMTP server"
    )
    watch_confirmation_hours: int = Field(
        default=48, ge=1, description="How long the link confirming a new watch stays valid"
    )
    watch_max_unconfirmed: int = Field(
        default=5,
        ge=1,
        description="Unconfirmed watches one email address, or one client address, may hold at "
        "once (a new one is refused until a link is used or expires)",
    )
    rate_limit_watch_per_hour: int = Field(
        default=20,
        ge=0,
        description="New watches (`POST /watches` and the watch page) per client address and "
        "hour; 0: no limit",
    )
    watch_interval_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often the watch duties read new events and send the webhooks that are due",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="The limit on one webhook delivery (connect and answer)"
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        description="Webhook attempts for one notice before it is given up and its watch marked "
        "failing",
    )
    webhook_backoff_base_seconds: float = Field(
        default=30.0, gt=0, description="The wait after a webhook's first failed delivery"
    )
    webhook_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between a webhook's retries"
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Accept plain `http://` webhook URLs (loopback tests and the demo only: a "
        "notice is public, but its cancel link is not)",
    )
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="Accept webhook URLs that resolve to private, loopback, link-local or other "
        "non-global addresses. Off in production: otherwise anyone could make the node send "
        "requests into its own network (server-side request forgery)",
    )

    @field_validator("node_id")
    @classmethod
    def _node_id(cls, value: str) -> str:
        if value != GLOBAL_NODE_ID and not is_country_code(value):
            raise ValueError("node_id is an ISO 3166-1 alpha-2 code (KE) or 'global'")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _checked_url(value)

    @field_validator("global_url")
    @classmethod
    def _global_url(cls, value: str | None) -> str | None:
        return _checked_url(value) if value else None

    @field_validator("root_keys")
    @classmethod
    def _root_keys(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for jwk in value:
            try:
                PublicKey.from_jwk(jwk)
            except CredentialsError as exc:
                raise ValueError(f"a root key is not a usable public JWK: {exc}") from exc
        return value

    @field_validator("certification_issuers")
    @classmethod
    def _certification_issuers(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for issuer in value:
            did, keys = issuer.get("did"), issuer.get("keys")
            if not isinstance(did, str) or not did.startswith("did:") or len(did) > 2048:
                raise ValueError("each certification issuer names its DID (did:...)")
            if not isinstance(keys, list) or not keys:
                raise ValueError(f"certification issuer {did} lists its public keys (JWKs)")
        try:
            IssuerKeys.from_settings(value)
        except CredentialsError as exc:
            raise ValueError(
                f"a certification issuer's key is not a usable public JWK: {exc}"
            ) from exc
        return value

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Self:
        if self.key_passphrase.get_secret_value() != DEVELOPMENT_PASSPHRASE:
            return self
        if self.environment is Environment.PRODUCTION:
            raise ValueError(
                "SDGCITIES_KEY_PASSPHRASE must be set to a secret of your own in production"
            )
        # A node others can reach is not a development node, whatever `environment` says: a
        # forgotten SDGCITIES_ENVIRONMENT must not leave its keys under a published passphrase.
        if not is_loopback_host(urlsplit(self.base_url).hostname):
            raise ValueError(
                "SDGCITIES_KEY_PASSPHRASE must be set to a secret of your own for a node whose "
                f"base URL ({self.base_url}) is not on loopback"
            )
        return self

    @model_validator(mode="after")
    def _refuse_minimal_password_hashing_for_real_use(self) -> Self:
        """Minimal-cost hashes fall to guessing as soon as a database leaks: a node in
        production, or one others can reach, never makes them."""
        if self.password_hash_cost is not PasswordHashCost.MINIMAL:
            return self
        if self.environment is Environment.PRODUCTION or not is_loopback_host(
            urlsplit(self.base_url).hostname
        ):
            raise ValueError(
                "SDGCITIES_PASSWORD_HASH_COST=minimal is for test suites: refused in production "
                f"and for a node whose base URL ({self.base_url}) is not on loopback"
            )
        return self

    @property
    def pinned_root_keys(self) -> tuple[PublicKey, ...]:
        return tuple(PublicKey.from_jwk(jwk) for jwk in self.root_keys)

    @property
    def certification_issuer_keys(self) -> IssuerKeys:
        return IssuerKeys.from_settings(self.certification_issuers)

    @property
    def is_global(self) -> bool:
        return self.node_id == GLOBAL_NODE_ID

    @property
    def did(self) -> str:
        return did_web_from_base_url(self.base_url)

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / SQLITE_FILE).resolve()}"

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def silence_after(self) -> timedelta:
        seconds = self.monitoring_silence_seconds or 3 * self.relay_heartbeat_seconds
        return timedelta(seconds=seconds)

    @property
    def status_list_validity(self) -> timedelta:
        return timedelta(hours=self.status_list_validity_hours)


def _checked_url(value: str) -> str:
    # pydantic reports a ValueError as a problem with the setting; another error would escape.
    try:
        return normalise_base_url(value)
    except CredentialsError as exc:
        raise ValueError(str(exc)) from exc


NODE_ENV_FILE = "node.env"
# Held (flock) by the running `node serve`: see `serve_lock.py`; never backed up.
SERVE_LOCK_FILE = "serve.lock"


def get_settings(**overrides: object) -> Settings:
    """Settings from overrides, the environment, then `<data_dir>/node.env` (from `node init`)."""
    first = Settings(**overrides)  # type: ignore[arg-type]
    env_file = first.data_dir / NODE_ENV_FILE
    if not env_file.exists():
        return first
    return Settings(_env_file=(".env", env_file), **overrides)  # type: ignore[arg-type]


def settings_problems(exc: ValidationError, *, names: Mapping[str, str] | None = None) -> list[str]:
    """One line per problem, naming the setting (`SDGCITIES_BASE_URL`, or the option that set
    it from `names`), without pydantic's decoration (its "Value error, " and documentation URL)."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    problems = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else None
        if field is None:  # a rule about several settings names them itself
            problems.append(message)
            continue
        where = (names or {}).get(field) or f"{prefix}{field.upper()}"
        problems.append(f"{where}: {message}")
    return problems


def write_node_env(settings: Settings) -> None:
    """Record the node's identity in its data folder, so `serve` needs no repeated options."""
    lines = [
        f"SDGCITIES_NODE_ID={settings.node_id}",
        f"SDGCITIES_NODE_NAME={settings.node_name}",
        f"SDGCITIES_BASE_URL={settings.base_url}",
    ]
    if settings.database_url:
        lines.append(f"SDGCITIES_DATABASE_URL={settings.database_url}")
    if settings.global_url:
        lines.append(f"SDGCITIES_GLOBAL_URL={settings.global_url}")
    if settings.root_keys:
        lines.append(f"SDGCITIES_ROOT_KEYS={json.dumps(settings.root_keys)}")
    (settings.data_dir / NODE_ENV_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
