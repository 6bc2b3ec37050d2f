"""The error tree of `sdgcities.credentials`.

Every error this library raises is one of these; other libraries' exceptions are wrapped at the
boundary (``raise ... from exc``) and never escape a public function.

    Error
    ├── KeyStoreError                   a key file cannot be read (wrong passphrase, damaged file)
    ├── StatusListFull                  no unused index is left in a status list
    ├── TrustListTooLarge               a trust list to sign is past the size verifiers accept
    └── VerificationError               carries a `Reason`, the answer a verifier gives
        ├── MalformedError              not what it claims to be: encoding, JSON, shape, types
        │   └── DecompressionLimitExceeded   a status list inflates beyond its cap (a gzip bomb)
        ├── SignatureInvalid            bad signature, or an algorithm that is not the key's
        ├── UntrustedIssuer             the key or issuer is not on the trust list
        │   └── RootNotPinned           a trust list signed by a root key no one pinned
        ├── OutsideJurisdiction         the city is not in its issuer's jurisdiction
        ├── IssuerSuspended, IssuerWithdrawn
        ├── KeyRetired, KeyCompromised
        ├── NotReceivedBeforeCutoff     from a node no longer active or a compromised key, and
        │                               not received by the global node before that cut-off
        ├── NotYetValid, Expired
        ├── Suspended, Revoked
        ├── FrameworkNotEndorsed
        └── CannotDecide                the answer depends on data we do not have (never "valid")
            ├── StatusListUnavailable   unreachable, stale, or not trustworthy
            ├── StatusListRollback      signed before a list already accepted for its URL
            ├── TrustListStale          past its next-update time plus the grace
            └── TrustListRollback       older than a list already seen
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Reason(StrEnum):
    """Why a credential is not valid; the strings are part of the public API (DESIGN §4)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_ISSUER = "unknown_issuer"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"
    ISSUER_SUSPENDED = "issuer_suspended"
    ISSUER_WITHDRAWN = "issuer_withdrawn"
    KEY_RETIRED = "key_retired"
    KEY_COMPROMISED = "key_compromised"
    NOT_RECEIVED_BEFORE_CUTOFF = "not_received_before_cutoff"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    FRAMEWORK_NOT_ENDORSED = "framework_not_endorsed"
    STATUS_UNAVAILABLE = "status_unavailable"
    TRUST_LIST_STALE = "trust_list_stale"
    TRUST_LIST_ROLLBACK = "trust_list_rollback"
    STATUS_LIST_ROLLBACK = "status_list_rollback"

    @property
    def is_indeterminate(self) -> bool:
        """True when the honest answer is "cannot decide" rather than "not valid"."""
        return self in _INDETERMINATE


_INDETERMINATE = frozenset(
    {
        Reason.STATUS_UNAVAILABLE,
        Reason.TRUST_LIST_STALE,
        Reason.TRUST_LIST_ROLLBACK,
        Reason.STATUS_LIST_ROLLBACK,
    }
)


class Error(Exception):
    """Root of every error raised by `sdgcities.credentials`."""


class KeyStoreError(Error):
    """A private key could not be loaded: wrong passphrase or a damaged file."""


class StatusListFull(Error):
    """Every index of a status list has been allocated."""


class TrustListTooLarge(Error):
    """A trust list would be larger than `MAX_TRUST_LIST_BYTES` once signed."""


class VerificationError(Error):
    """A check failed; `reason` is the machine-readable answer."""

    reason: ClassVar[Reason]


class MalformedError(VerificationError):
    reason = Reason.MALFORMED


class DecompressionLimitExceeded(MalformedError):
    pass


class SignatureInvalid(VerificationError):
    reason = Reason.BAD_SIGNATURE


class UntrustedIssuer(VerificationError):
    reason = Reason.UNKNOWN_ISSUER


class RootNotPinned(UntrustedIssuer):
    """A trust list signed by a root key whose thumbprint is not pinned: a forged list, or a
    mistyped pin (the one case the user, not the network, can fix)."""


class OutsideJurisdiction(VerificationError):
    """The certificate's city is in a country its issuer does not certify (DESIGN §3)."""

    reason = Reason.OUTSIDE_JURISDICTION


class IssuerSuspended(VerificationError):
    reason = Reason.ISSUER_SUSPENDED


class IssuerWithdrawn(VerificationError):
    reason = Reason.ISSUER_WITHDRAWN


class KeyRetired(VerificationError):
    reason = Reason.KEY_RETIRED


class KeyCompromised(VerificationError):
    reason = Reason.KEY_COMPROMISED


class NotReceivedBeforeCutoff(VerificationError):
    """Signed (by its `iat`) before its issuer's or key's cut-off, with no proof of that.

    `iat` is whatever the signer writes: once a node is suspended or withdrawn, or a key marked
    compromised, only the global node's receipt of the certificate before that moment (the ids
    the trust list carries for the cut-off) shows it was not back-dated.
    """

    reason = Reason.NOT_RECEIVED_BEFORE_CUTOFF


class NotYetValid(VerificationError):
    reason = Reason.NOT_YET_VALID


class Expired(VerificationError):
    reason = Reason.EXPIRED


class Suspended(VerificationError):
    reason = Reason.SUSPENDED


class Revoked(VerificationError):
    reason = Reason.REVOKED


class FrameworkNotEndorsed(VerificationError):
    reason = Reason.FRAMEWORK_NOT_ENDORSED


class CannotDecide(VerificationError):
    reason = Reason.STATUS_UNAVAILABLE


class StatusListUnavailable(CannotDecide):
    reason = Reason.STATUS_UNAVAILABLE


class TrustListStale(CannotDecide):
    reason = Reason.TRUST_LIST_STALE


class TrustListRollback(CannotDecide):
    reason = Reason.TRUST_LIST_ROLLBACK


class StatusListRollback(CannotDecide):
    reason = Reason.STATUS_LIST_ROLLBACK
