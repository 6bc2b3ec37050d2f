"""The verifier: one entry point from a token and a trust source to an answer.

`Verifier.verify(token)` answers valid, not valid with a precise `Reason`, or "cannot decide"
(DESIGN §4). It trusts nothing in the token before the signature is checked with a key the trust
list binds to one algorithm and one issuer, and it never answers valid on a doubt. The only
network requests it makes go, through the injected fetcher, to status-list URLs under the base URL
of the trusted node that issued the credential.

Order of checks: shape and header; key by the `kid`'s thumbprint, held by the node its DID
names; signature; claims (the city's country, its LOCODE and the subject id agree); issuer and key
status at signing time, and for a node no longer active or a compromised key the proof that the
global node received the certificate before that cut-off; the city in the issuer's jurisdiction;
signed no later than now; endorsed framework; validity window; then the certificate's two-bit
entry in its status list (`status_entry`: revoked wins over suspended).
`verify_received` applies the same rules, up to the jurisdiction, for whoever receives
certificates as they are issued (the global registry).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeGuard

from .countries import is_country_code
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
    NotReceivedBeforeCutoff,
    NotYetValid,
    OutsideJurisdiction,
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
from .status_entry import (
    REVOKED_BIT,
    STATUS_PURPOSE,
    STATUS_SIZE,
    SUSPENDED_BIT,
    read_status_entry,
)
from .status_list import MIN_ENTRIES
from .status_memory import DEFAULT_CACHE_BYTES, StatusListCache, StatusListHistory
from .trust_list import NodeStatus, TrustedNode, TrustList
from .vc import (
    CERTIFICATE_CONTEXTS,
    CERTIFICATE_TYPE,
    STAGE_LEVELS,
    VC_JWT_TYP,
    city_subject_id,
    parse_datetime,
)

DEFAULT_LEEWAY = timedelta(seconds=60)
MAX_STATUS_LIST_BYTES = 1024 * 1024
# How long a fetched status list is reused before asking again (never past its own validUntil).
DEFAULT_STATUS_MAX_AGE = timedelta(minutes=5)
_LOCODE = re.compile(r"[A-Z]{2}-[A-Z2-9]{3}")


def is_locode(value: object) -> TypeGuard[str]:
    """Whether `value` is a UN/LOCODE as certificates and federation messages write it."""
    return isinstance(value, str) and _LOCODE.fullmatch(value) is not None


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


class UrllibFetcher:
    """A standard-library fetcher: no redirects, a timeout and a size cap."""

    def __init__(self, *, timeout: float = 5.0, max_bytes: int = MAX_STATUS_LIST_BYTES) -> None:
        # urllib.request is imported here, not with the module: it pulls in http.client and
        # email, and a verifier given its own fetcher (the CLI offline) never needs it.
        import urllib.request

        class NoRedirects(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
                return None

        self._opener = urllib.request.build_opener(NoRedirects())
        self._timeout, self._max_bytes = timeout, max_bytes

    def __call__(self, url: str) -> str:
        import urllib.request

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


@dataclass(frozen=True, slots=True)
class _CheckedList:
    """A status list whose signature was checked: reused until `fresh_until` without asking
    again, and after that without checking again when a refetch returns the same text (a node's
    own lists are refetched on every use)."""

    token: str
    status_list: StatusList
    key_period: KeyPeriod
    fresh_until: float
    valid_from_ts: float

    @property
    def cost(self) -> int:
        return len(self.token) + len(self.status_list.bits) // 8


class Verifier:
    """Verifies certificates against one trust list; caches the status lists it fetches.

    `history` is what keeps a status list from going back in time (DESIGN §4); pass the same one
    to the verifier that replaces this one (a new trust list), and keep it across runs where the
    verifier lives longer than a process. `status_cache_bytes` bounds the lists held in memory.
    """

    def __init__(
        self,
        trust_list: TrustList,
        *,
        fetcher: StatusListFetcher | None = None,
        leeway: timedelta = DEFAULT_LEEWAY,
        status_max_age: timedelta = DEFAULT_STATUS_MAX_AGE,
        history: StatusListHistory | None = None,
        status_cache_bytes: int = DEFAULT_CACHE_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.trust_list = trust_list
        self._fetch: StatusListFetcher = fetcher or UrllibFetcher()
        self._leeway = leeway
        self._status_max_age = status_max_age.total_seconds()
        self._clock = clock
        self.history = history if history is not None else StatusListHistory()
        self._status_cache: StatusListCache[_CheckedList] = StatusListCache(
            max_bytes=status_cache_bytes
        )

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
            found = self.trust_list.signer_of(parsed)
            if found is None:
                raise UntrustedIssuer("the signing key is not on the trust list")
            issuer, key_period = found
            payload = parsed.verify(key_period.public_key)
            claims = _CertificateClaims.read(payload)
            credential = payload
            _check_signed(
                claims, issuer=issuer, key_period=key_period, now=now, leeway=self._leeway
            )
            if not issuer.endorses_framework(*claims.framework):
                framework_id, version, _digest = claims.framework
                raise FrameworkNotEndorsed(
                    f"framework {framework_id} v{version} with this "
                    f"digest is not endorsed for node {issuer.id}"
                )
            # The leeway moves `now`, not the signed dates: year 1 or 9999 must not overflow.
            if now + self._leeway < claims.valid_from:
                raise NotYetValid(f"valid from {claims.valid_from.isoformat()}")
            if now - self._leeway > claims.valid_until:
                raise Expired(f"expired at {claims.valid_until.isoformat()}")
            self._check_status(claims.status_url, claims.status_index, issuer=issuer, now=now)
        except VerificationError as error:
            return VerificationResult.from_error(error, credential=credential, issuer=issuer)
        except Error as error:  # pragma: no cover - every library error is a VerificationError here
            return VerificationResult(Outcome.INVALID, Reason.MALFORMED, str(error))
        return VerificationResult(Outcome.VALID, None, "valid", credential, issuer)

    def _check_status(self, url: str, index: int, *, issuer: TrustedNode, now: datetime) -> None:
        status_list = self._status_list(url, purpose=STATUS_PURPOSE, issuer=issuer, now=now)
        try:
            entries = status_list.bits.entries(STATUS_SIZE)
        except MalformedError as exc:
            raise StatusListUnavailable(f"status list {url} cannot be read: {exc}") from exc
        if entries < MIN_ENTRIES:
            raise StatusListUnavailable(
                f"status list {url} holds {entries} entries, fewer than {MIN_ENTRIES}"
            )
        value = status_list.bits.get_entry(index, status_size=STATUS_SIZE)
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
        checked = self._status_cache.get(url)
        if checked is None or checked.fresh_until <= now_ts:
            checked = self._fetch_status_list(url, issuer=issuer, now=now, known=checked)
        status_list = checked.status_list
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
        # Last, so that only a list trusted now moves the history; on every use, so that a list
        # held here cannot answer once a newer one was accepted elsewhere (a shared history).
        self.history.accept(url, status_list.valid_from, timestamp=checked.valid_from_ts)
        return status_list

    def _fetch_status_list(
        self, url: str, *, issuer: TrustedNode, now: datetime, known: _CheckedList | None
    ) -> _CheckedList:
        try:
            token = self._fetch(url)
        except CannotDecide:
            raise
        except Exception as exc:  # a caller's fetcher may raise anything: verify never raises
            raise StatusListUnavailable(f"status list {url} is unreachable: {exc}") from exc
        fresh_until = now.timestamp() + self._status_max_age
        try:
            if known is not None and known.token == token:
                _check_key_at(known.key_period, now)
                status_list, key_period = known.status_list, known.key_period
            else:
                parsed = JwsToken.parse(token, typ=VC_JWT_TYP, max_bytes=MAX_STATUS_LIST_BYTES)
                found = self.trust_list.signer_of(parsed)
                if found is None or found[0] is not issuer:
                    raise StatusListUnavailable(f"status list {url} is not signed by the issuer")
                _check_key_at(found[1], now)
                status_list = StatusList.from_payload(parsed.verify(found[1].public_key))
                key_period = found[1]
        except CannotDecide:
            raise
        except VerificationError as exc:
            raise StatusListUnavailable(f"status list {url} cannot be trusted: {exc}") from exc
        if status_list.issuer != issuer.did or status_list.url != url:
            raise StatusListUnavailable(f"status list {url} names another issuer or address")
        checked = _CheckedList(
            token,
            status_list,
            key_period,
            min(fresh_until, status_list.valid_until.timestamp()),
            status_list.valid_from.timestamp(),
        )
        self._status_cache.put(url, checked, cost=checked.cost)
        return checked


@dataclass(frozen=True, slots=True)
class ReceivedCertificate:
    """A certificate `verify_received` took: its payload, its issuer and its signing time."""

    credential: dict[str, Any]
    issuer: TrustedNode
    issued_at: datetime


def verify_received(
    token: str,
    *,
    trust_list: TrustList,
    received_at: datetime,
    leeway: timedelta = DEFAULT_LEEWAY,
) -> ReceivedCertificate:
    """The verifier's rules for a certificate received at `received_at`, as the global registry
    receives each node's certificates in its reports; raises the `VerificationError` of the
    first that fails.

    What `Verifier.verify` checks up to the jurisdiction (shape, signature, the issuer and key at
    signing time, the city in the issuer's jurisdiction) with `received_at` as now, so an `iat`
    later than the receipt (plus `leeway`) is refused; and, as a receipt is proof of when a
    certificate existed, the issuer at `received_at` too: a node suspended or withdrawn by then
    gets nothing new listed, whatever `iat` it wrote. The endorsed framework, the validity window
    and the status lists change over time and are left to whoever verifies the certificate.
    """
    parsed = JwsToken.parse(token, typ=VC_JWT_TYP)
    found = trust_list.signer_of(parsed)
    if found is None:
        raise UntrustedIssuer("the signing key is not on the trust list")
    issuer, key_period = found
    payload = parsed.verify(key_period.public_key)
    claims = _CertificateClaims.read(payload)
    _check_signed(claims, issuer=issuer, key_period=key_period, now=received_at, leeway=leeway)
    _check_issuer_at(issuer, received_at, credential_id=claims.id)
    return ReceivedCertificate(credential=payload, issuer=issuer, issued_at=claims.issued_at)


def _check_signed(
    claims: _CertificateClaims,
    *,
    issuer: TrustedNode,
    key_period: KeyPeriod,
    now: datetime,
    leeway: timedelta,
) -> None:
    """The checks on who signed what, and when, that `verify` and `verify_received` share."""
    if claims.issuer != issuer.did:
        raise UntrustedIssuer("the signing key belongs to another issuer")
    _check_issuer_at(issuer, claims.issued_at, credential_id=claims.id)
    _check_key_at(key_period, claims.issued_at, credential_id=claims.id)
    if not issuer.certifies(claims.country, at=claims.issued_at):
        raise OutsideJurisdiction(
            f"node {issuer.id} does not certify cities of {claims.country} "
            f"(city {claims.locode}, signed {claims.issued_at.isoformat()})"
        )
    # `iat` is the signing time: one after now is a lie that would, for example, put the
    # certificate on top of every later one. The leeway moves `now`, as below.
    if now + leeway < claims.issued_at:
        raise NotYetValid(f"signed at {claims.issued_at.isoformat()}, later than now")


def _is_under(url: str, base_url: str) -> bool:
    return url.startswith(base_url.rstrip("/") + "/")


def _check_issuer_at(issuer: TrustedNode, signed_at: datetime, *, credential_id: str) -> None:
    # A suspended or withdrawn node's earlier certificates keep their meaning; what it signed
    # after the change does not (DESIGN §5, as the EU trusted lists treat a withdrawn service).
    # "Earlier" is what the global node received before the change, not what `iat` says.
    if issuer.status is NodeStatus.ACTIVE:
        return
    if signed_at >= issuer.status_since:
        if issuer.status is NodeStatus.SUSPENDED:
            raise IssuerSuspended(f"node {issuer.id} is suspended since {issuer.status_since}")
        raise IssuerWithdrawn(f"node {issuer.id} is withdrawn since {issuer.status_since}")
    if credential_id not in issuer.received_before_cutoff:
        raise NotReceivedBeforeCutoff(
            f"node {issuer.id} is {issuer.status.value} since {issuer.status_since}, and the "
            "global node did not receive this certificate in a report before then"
        )


def _check_key_at(
    period: KeyPeriod, signed_at: datetime, *, credential_id: str | None = None
) -> None:
    """Whether `period`'s key vouches for what it signed at `signed_at`.

    A compromised key vouches only for a certificate (`credential_id`) the global node received
    before the compromise; never for a status list, which carries no such proof.
    """
    if period.status is KeyStatus.COMPROMISED:
        if credential_id is None or period.status_since is None or signed_at >= period.status_since:
            raise KeyCompromised("the signing key is marked compromised")
        if credential_id not in period.received_before_cutoff:
            raise NotReceivedBeforeCutoff(
                f"the signing key is marked compromised since {period.status_since}, and the "
                "global node did not receive this certificate in a report before then"
            )
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


# Compared as it is parsed: a JSON array is a list, and a list never equals a tuple.
_CERTIFICATE_CONTEXT_LIST = list(CERTIFICATE_CONTEXTS)


class _CertificateClaims:
    """What the checks read from a signed payload. A plain slotted class: it is built on every
    verification, and a frozen dataclass pays for `object.__setattr__` on each of its fields."""

    __slots__ = (
        "country",
        "framework",
        "id",
        "issued_at",
        "issuer",
        "locode",
        "status_index",
        "status_url",
        "valid_from",
        "valid_until",
    )

    def __init__(
        self,
        id: str,
        issuer: str,
        issued_at: datetime,
        locode: str,
        country: str,
        valid_from: datetime,
        valid_until: datetime,
        framework: tuple[str, str, str],
        status: tuple[str, int],
    ) -> None:
        self.id, self.issuer, self.issued_at = id, issuer, issued_at
        self.locode, self.country = locode, country
        self.valid_from, self.valid_until = valid_from, valid_until
        self.framework = framework  # (id, version, digest), as `TrustedNode.endorses_framework`
        self.status_url, self.status_index = status

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
            framework = (
                _text(framework_member["id"]),
                _text(framework_member["version"]),
                _text(framework_member["digest"]),
            )
            stage, level = subject["stage"], subject["level"]
            city = subject["city"]
            locode, country = city["locode"], city["country"]
            status_member = payload["credentialStatus"]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedError(f"the credential lacks or mistypes a member: {exc}") from exc
        # Exactly the three contexts, in order: a credential naming another context could
        # redefine what its terms mean (a list compared with anything else is simply unequal).
        if context != _CERTIFICATE_CONTEXT_LIST:
            raise MalformedError(
                "@context must be exactly the VCDM 2.0, Open Badges 3.0.3 and SDG Cities "
                "contexts, in that order"
            )
        if not isinstance(types, list) or CERTIFICATE_TYPE not in types:
            raise MalformedError(f"type must include {CERTIFICATE_TYPE}")
        if "VerifiableCredential" not in types:
            raise MalformedError("type must include VerifiableCredential")
        issuer_id = issuer_member.get("id") if isinstance(issuer_member, dict) else issuer_member
        if not isinstance(iss, str) or iss != issuer_id:
            raise MalformedError("iss must equal issuer.id")
        if not isinstance(jti, str) or jti != payload.get("id"):
            raise MalformedError("jti must equal the credential id")
        if not isinstance(subject, dict) or sub != subject.get("id"):
            raise MalformedError("sub must equal credentialSubject.id")
        # `type() is int`: a bool is an int subclass, and neither it nor a float is a NumericDate.
        if type(iat) is not int:
            raise MalformedError("iat must be an integer NumericDate")
        if type(exp) is not int:
            raise MalformedError("exp must be an integer NumericDate")
        if exp != int(valid_until.timestamp()):
            raise MalformedError("exp must equal validUntil")
        if not isinstance(stage, str) or STAGE_LEVELS.get(stage) != level:
            raise MalformedError("stage and level do not agree")
        # The jurisdiction is judged on the country: the city's LOCODE and the subject id must
        # name the same one, so that no reader of the credential sees another city.
        if not is_locode(locode):
            raise MalformedError("credentialSubject.city.locode must be a UN/LOCODE CC-LLL")
        if sub != city_subject_id(locode):
            raise MalformedError("credentialSubject.id must be the city's LOCODE URN")
        if not isinstance(country, str) or country != locode[:2]:
            raise MalformedError("credentialSubject.city.country must be its LOCODE's country")
        if not is_country_code(country):
            raise MalformedError(f"{country} is not an ISO 3166-1 alpha-2 country code")
        try:
            issued_at = datetime.fromtimestamp(iat, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedError("iat is out of range") from exc
        return cls(
            jti,
            iss,
            issued_at,
            locode,
            country,
            valid_from,
            valid_until,
            framework,
            read_status_entry(status_member),
        )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
