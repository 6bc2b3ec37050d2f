"""The verifier: one entry point from a token and a trust source to an answer.

`Verifier.verify(token)` answers valid, not valid with a precise `Reason`, or "cannot decide"
(DESIGN §4). It trusts nothing in the token before the signature is checked with a key the trust
list binds to one algorithm and one issuer, and it never answers valid on a doubt. The only
network requests it makes go, through the injected fetcher, to status-list URLs under the base URL
of the trusted node that issued the credential.

Order of checks: shape and header; key by `kid`; signature; claims; issuer and key status at
signing time; endorsed framework; validity window; then the certificate's two-bit entry in its
status list (`status_entry`: revoked wins over suspended).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from .errors import (
    CannotDecide,
    Error,
    Expired,
    FrameworkNotEndorsed,
    IssuerSuspended,
    IssuerWithdrawn,
    KeyCompromised,
    KeyRetired,
    MalformedError,
    NotYetValid,
    Reason,
    Revoked,
    StatusListUnavailable,
    Suspended,
    UntrustedIssuer,
    VerificationError,
)
from .jws import JwsToken
from .keys import KeyPeriod, KeyStatus
from .status_credential import StatusList
from .status_entry import REVOKED_BIT, STATUS_PURPOSE, STATUS_SIZE, SUSPENDED_BIT, StatusEntry
from .status_list import MIN_ENTRIES
from .trust_list import NodeStatus, TrustedNode, TrustList
from .vc import (
    CERTIFICATE_TYPE,
    STAGE_LEVELS,
    VC_CONTEXT,
    VC_JWT_TYP,
    FrameworkRef,
    parse_datetime,
)

DEFAULT_LEEWAY = timedelta(seconds=60)
MAX_STATUS_LIST_BYTES = 1024 * 1024
# How long a fetched status list is reused before asking again (never past its own validUntil).
DEFAULT_STATUS_MAX_AGE = timedelta(minutes=5)


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    outcome: Outcome
    reason: Reason | None = None
    message: str = ""
    credential: dict[str, Any] | None = None
    issuer: TrustedNode | None = None

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.VALID

    @classmethod
    def from_error(
        cls,
        error: VerificationError,
        *,
        credential: dict[str, Any] | None = None,
        issuer: TrustedNode | None = None,
    ) -> VerificationResult:
        outcome = Outcome.INDETERMINATE if error.reason.is_indeterminate else Outcome.INVALID
        return cls(outcome, error.reason, str(error), credential, issuer)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "status": self.outcome.value,
            "reason": self.reason.value if self.reason else None,
            "message": self.message,
            "issuer": self.issuer.id if self.issuer else None,
            "credential": self.credential,
        }


class StatusListFetcher(Protocol):
    """Returns the compact `vc+jwt` published at `url`, or raises `StatusListUnavailable`."""

    def __call__(self, url: str) -> str: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class UrllibFetcher:
    """A standard-library fetcher: no redirects, a timeout and a size cap."""

    def __init__(self, *, timeout: float = 5.0, max_bytes: int = MAX_STATUS_LIST_BYTES) -> None:
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._timeout, self._max_bytes = timeout, max_bytes

    def __call__(self, url: str) -> str:
        body: bytes
        request = urllib.request.Request(url, headers={"Accept": "application/vc+jwt"})  # noqa: S310 (URL checked by the verifier)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body = response.read(self._max_bytes + 1)
        except (OSError, ValueError) as exc:
            raise StatusListUnavailable(f"status list {url} is unreachable: {exc}") from exc
        if len(body) > self._max_bytes:
            raise StatusListUnavailable(f"status list {url} is larger than {self._max_bytes} bytes")
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise StatusListUnavailable(f"status list {url} is not a compact JWS") from exc


class Verifier:
    """Verifies certificates against one trust list; caches the status lists it fetches."""

    def __init__(
        self,
        trust_list: TrustList,
        *,
        fetcher: StatusListFetcher | None = None,
        leeway: timedelta = DEFAULT_LEEWAY,
        status_max_age: timedelta = DEFAULT_STATUS_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.trust_list = trust_list
        self._fetch: StatusListFetcher = fetcher or UrllibFetcher()
        self._leeway = leeway
        self._status_max_age = status_max_age.total_seconds()
        self._clock = clock
        self._status_cache: dict[str, tuple[float, StatusList]] = {}
        # The last token verified at each URL: a refetch that returns the same text (a node's own
        # lists are refetched on every use) is not verified and inflated again.
        self._verified_status: dict[str, tuple[str, StatusList, KeyPeriod]] = {}

    @classmethod
    def for_trust_list(cls, trust_list: TrustList, **options: Any) -> Verifier:
        return cls(trust_list, **options)

    def verify(self, token: str, *, now: datetime | None = None) -> VerificationResult:
        """Verify `token`; never raises, answers with a `VerificationResult`."""
        now = now or self._clock()
        credential: dict[str, Any] | None = None
        issuer: TrustedNode | None = None
        try:
            self.trust_list.check_fresh(now=now)
            parsed = JwsToken.parse(token, typ=VC_JWT_TYP)
            found = self.trust_list.key(parsed.kid)
            if found is None:
                raise UntrustedIssuer("the signing key is not on the trust list")
            issuer, key_period = found
            payload = parsed.verify(key_period.public_key)
            claims = _CertificateClaims.read(payload)
            credential = payload
            if claims.issuer != issuer.did:
                raise UntrustedIssuer("the signing key belongs to another issuer")
            _check_issuer_at(issuer, claims.issued_at)
            _check_key_at(key_period, claims.issued_at)
            if not issuer.endorses(claims.framework):
                raise FrameworkNotEndorsed(
                    f"framework {claims.framework.id} v{claims.framework.version} with this "
                    f"digest is not endorsed for node {issuer.id}"
                )
            # The leeway moves `now`, not the signed dates: year 1 or 9999 must not overflow.
            if now + self._leeway < claims.valid_from:
                raise NotYetValid(f"valid from {claims.valid_from.isoformat()}")
            if now - self._leeway > claims.valid_until:
                raise Expired(f"expired at {claims.valid_until.isoformat()}")
            self._check_status(claims.status, issuer=issuer, now=now)
        except VerificationError as error:
            return VerificationResult.from_error(error, credential=credential, issuer=issuer)
        except Error as error:  # pragma: no cover - every library error is a VerificationError here
            return VerificationResult(Outcome.INVALID, Reason.MALFORMED, str(error))
        return VerificationResult(Outcome.VALID, None, "valid", credential, issuer)

    def _check_status(self, entry: StatusEntry, *, issuer: TrustedNode, now: datetime) -> None:
        url = entry.list_url
        status_list = self._status_list(url, purpose=STATUS_PURPOSE, issuer=issuer, now=now)
        try:
            entries = status_list.bits.entries(STATUS_SIZE)
        except MalformedError as exc:
            raise StatusListUnavailable(f"status list {url} cannot be read: {exc}") from exc
        if entries < MIN_ENTRIES:
            raise StatusListUnavailable(
                f"status list {url} holds {entries} entries, fewer than {MIN_ENTRIES}"
            )
        value = status_list.bits.get_entry(entry.index, status_size=STATUS_SIZE)
        # Revocation is final: a revoked certificate is revoked whatever its suspension bit says.
        if value & REVOKED_BIT:
            raise Revoked("the certificate has been revoked")
        if value & SUSPENDED_BIT:
            raise Suspended("the certificate is suspended")

    def _status_list(
        self, url: str, *, purpose: str, issuer: TrustedNode, now: datetime
    ) -> StatusList:
        if not _is_under(url, issuer.base_url):
            raise StatusListUnavailable(
                f"status list {url} is not under the issuer's base URL {issuer.base_url}"
            )
        now_ts = now.timestamp()
        # Plain dict reads and writes are atomic; a race costs at most one extra fetch.
        cached = self._status_cache.get(url)
        if cached is not None and cached[0] > now_ts:
            status_list = cached[1]
        else:
            status_list = self._fetch_status_list(url, issuer=issuer, now=now)
            expires = min(now_ts + self._status_max_age, status_list.valid_until.timestamp())
            self._status_cache[url] = (expires, status_list)
        # Checked on every use, not only when fetched: a list cached while verifying another
        # issuer's certificate (nested base URLs) must not answer for this one.
        if status_list.issuer != issuer.did:
            raise StatusListUnavailable(f"status list {url} belongs to another issuer")
        if status_list.purpose != purpose:
            raise StatusListUnavailable(
                f"status list {url} is for {status_list.purpose}, the entry says {purpose}"
            )
        if now - self._leeway > status_list.valid_until:
            raise StatusListUnavailable(f"status list {url} is stale: a fresh one is needed")
        if now + self._leeway < status_list.valid_from:
            raise StatusListUnavailable(f"status list {url} is not yet valid")
        return status_list

    def _fetch_status_list(self, url: str, *, issuer: TrustedNode, now: datetime) -> StatusList:
        try:
            token = self._fetch(url)
        except CannotDecide:
            raise
        except Exception as exc:  # a caller's fetcher may raise anything: verify never raises
            raise StatusListUnavailable(f"status list {url} is unreachable: {exc}") from exc
        known = self._verified_status.get(url)
        try:
            if known is not None and known[0] == token:
                _check_key_at(known[2], now)
                return known[1]
            parsed = JwsToken.parse(token, typ=VC_JWT_TYP, max_bytes=MAX_STATUS_LIST_BYTES)
            found = self.trust_list.key(parsed.kid)
            if found is None or found[0] is not issuer:
                raise StatusListUnavailable(f"status list {url} is not signed by the issuer")
            _check_key_at(found[1], now)
            status_list = StatusList.from_payload(parsed.verify(found[1].public_key))
        except CannotDecide:
            raise
        except VerificationError as exc:
            raise StatusListUnavailable(f"status list {url} cannot be trusted: {exc}") from exc
        if status_list.issuer != issuer.did or status_list.url != url:
            raise StatusListUnavailable(f"status list {url} names another issuer or address")
        self._verified_status[url] = (token, status_list, found[1])
        return status_list


def _is_under(url: str, base_url: str) -> bool:
    return url.startswith(base_url.rstrip("/") + "/")


def _check_issuer_at(issuer: TrustedNode, signed_at: datetime) -> None:
    # A suspended or withdrawn node's earlier certificates keep their meaning; what it signed
    # after the change does not (DESIGN §5, as the EU trusted lists treat a withdrawn service).
    if issuer.status is NodeStatus.ACTIVE or signed_at < issuer.status_since:
        return
    if issuer.status is NodeStatus.SUSPENDED:
        raise IssuerSuspended(f"node {issuer.id} is suspended since {issuer.status_since}")
    raise IssuerWithdrawn(f"node {issuer.id} is withdrawn since {issuer.status_since}")


def _check_key_at(period: KeyPeriod, signed_at: datetime) -> None:
    if period.status is KeyStatus.COMPROMISED:
        raise KeyCompromised("the signing key is marked compromised")
    if signed_at < period.valid_from:
        raise KeyRetired("signed before the key's validity began")
    if period.valid_until is not None and signed_at > period.valid_until:
        raise KeyRetired("signed after the key's validity ended")
    if (
        period.status is KeyStatus.RETIRED
        and period.status_since is not None
        and signed_at >= period.status_since
    ):
        raise KeyRetired("signed after the key was retired")


@dataclass(frozen=True, slots=True)
class _CertificateClaims:
    issuer: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    framework: FrameworkRef
    status: StatusEntry

    @classmethod
    def read(cls, payload: dict[str, Any]) -> _CertificateClaims:
        """Type and consistency checks on a signed payload; any doubt is `MalformedError`."""
        if "vc" in payload or "vp" in payload:
            raise MalformedError("a vc+jwt payload is the credential itself: no vc or vp claim")
        if "nbf" in payload:
            raise MalformedError("nbf is not used: validFrom says when the credential starts")
        try:
            context, types = payload["@context"], payload["type"]
            issuer_member, subject = payload["issuer"], payload["credentialSubject"]
            iss, jti, sub = payload["iss"], payload["jti"], payload["sub"]
            iat, exp = payload["iat"], payload["exp"]
            valid_from = parse_datetime(_text(payload["validFrom"]))
            valid_until = parse_datetime(_text(payload["validUntil"]))
            framework_member = subject["framework"]
            framework = FrameworkRef(
                id=_text(framework_member["id"]),
                version=_text(framework_member["version"]),
                digest=_text(framework_member["digest"]),
            )
            stage, level = subject["stage"], subject["level"]
            status_member = payload["credentialStatus"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedError(f"the credential lacks or mistypes a member: {exc}") from exc
        if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
            raise MalformedError("@context must start with the VCDM 2.0 context")
        if not isinstance(types, list) or CERTIFICATE_TYPE not in types:
            raise MalformedError(f"type must include {CERTIFICATE_TYPE}")
        if "VerifiableCredential" not in types:
            raise MalformedError("type must include VerifiableCredential")
        issuer_id = issuer_member.get("id") if isinstance(issuer_member, dict) else issuer_member
        if not isinstance(iss, str) or iss != issuer_id:
            raise MalformedError("iss must equal issuer.id")
        if jti != payload.get("id"):
            raise MalformedError("jti must equal the credential id")
        if not isinstance(subject, dict) or sub != subject.get("id"):
            raise MalformedError("sub must equal credentialSubject.id")
        for name, value in (("iat", iat), ("exp", exp)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise MalformedError(f"{name} must be an integer NumericDate")
        if exp != int(valid_until.timestamp()):
            raise MalformedError("exp must equal validUntil")
        if not isinstance(stage, str) or STAGE_LEVELS.get(stage) != level:
            raise MalformedError("stage and level do not agree")
        try:
            issued_at = datetime.fromtimestamp(iat, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedError("iat is out of range") from exc
        return cls(
            issuer=iss,
            issued_at=issued_at,
            valid_from=valid_from,
            valid_until=valid_until,
            framework=framework,
            status=StatusEntry.from_json(status_member),
        )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
