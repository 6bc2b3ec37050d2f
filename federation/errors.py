"""The error tree of `sdgcities.federation`.

Every error this library raises is one of these; `sdgcities.credentials` errors met while reading
a report are wrapped (``raise ... from exc``) and never escape a public function.

    FederationError
    ├── EventInvalid            an event is not well formed: members, types, values, size
    ├── ChainError              the events do not form one unbroken log
    │   ├── ChainBroken         an event's hash is not the hash of its body, its prevHash is not
    │   │                       the hash of the event before it, or it belongs to another node
    │   ├── SequenceGap         events are missing (carries the missing range)
    │   ├── ForkDetected        one sequence number, two different events (carries both hashes)
    │   └── Rollback            the log goes back to a sequence it had already passed
    ├── ReportInvalid           a signed report fails: encoding, signature, signer, shape
    │   └── ReportTooLarge      more events or bytes than one report may carry
    ├── OnboardingError         a join request or key rotation cannot be accepted
    │   ├── PossessionNotProven the token is not signed by the key it claims (or carries)
    │   └── RequestStale        its iat is too far from now (a replay, or a wrong clock)
    └── SpotCheckError          a spot-check round or message cannot be accepted
        ├── RoundInvalid        a published round does not recompute
        └── MessageRefused      a dossier request, outcome or community invitation is not the
                                global node's, for us, now
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .events import Event


class FederationError(Exception):
    """Root of every error raised by `sdgcities.federation`."""


class EventInvalid(FederationError):
    """An event is malformed; nothing about the chain has been checked yet."""


class ChainError(FederationError):
    """The events are well formed but do not continue one node's log without a break."""

    def __init__(self, message: str, *, sequence: int) -> None:
        super().__init__(message)
        self.sequence = sequence
        """The sequence number at which the problem shows."""


class ChainBroken(ChainError):
    """An event's hash or link is wrong: the log was altered, or built by a buggy writer."""


class SequenceGap(ChainError):
    """Events `first_missing` to `last_missing` (inclusive) are absent; ask for that range."""

    def __init__(self, *, first_missing: int, last_missing: int) -> None:
        span = (
            f"event {first_missing} is"
            if first_missing == last_missing
            else f"events {first_missing} to {last_missing} are"
        )
        super().__init__(f"{span} missing", sequence=first_missing)
        self.first_missing = first_missing
        self.last_missing = last_missing


class ForkDetected(ChainError):
    """Two different events carry one sequence number: the node's history has two branches.

    `known_hash` is the event already accepted (or seen first), `reported_hash` the other one;
    the events themselves are attached when the check had them.
    """

    def __init__(
        self,
        *,
        sequence: int,
        known_hash: str,
        reported_hash: str,
        known: Event | None = None,
        reported: Event | None = None,
    ) -> None:
        super().__init__(
            f"fork at event {sequence}: {known_hash} was known, {reported_hash} is reported",
            sequence=sequence,
        )
        self.known_hash = known_hash
        self.reported_hash = reported_hash
        self.known = known
        self.reported = reported


class Rollback(ChainError):
    """An event repeats a sequence at or before one already passed (`head`), with the same hash."""

    def __init__(self, *, sequence: int, head: int) -> None:
        super().__init__(
            f"event {sequence} comes after event {head}: the log went back", sequence=sequence
        )
        self.head = head


class ReportInvalid(FederationError):
    """A report cannot be accepted: malformed, badly signed, or signed by the wrong node."""


class ReportTooLarge(ReportInvalid):
    """A report carries more events or bytes than the caps allow."""


class OnboardingError(FederationError):
    """A join request or key rotation is malformed or inconsistent (DID, node id, keys)."""


class PossessionNotProven(OnboardingError):
    """The signature does not prove possession of the key(s) the request names."""


class RequestStale(OnboardingError):
    """The request was signed too long ago (or in the future): it may be a replay."""


class SpotCheckError(FederationError):
    """A spot-check round or message cannot be accepted (DESIGN §5, spot-checks)."""


class RoundInvalid(SpotCheckError):
    """A published round does not recompute: its inputs, scores or selection disagree."""


class MessageRefused(SpotCheckError):
    """A dossier request, spot-check outcome or community invitation is not the global node's,
    not for this node, or not for now (malformed, badly signed, another key, another audience,
    expired)."""
