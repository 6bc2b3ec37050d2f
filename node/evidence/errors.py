"""The error tree of `sdgcities.node.evidence`.

Every refusal of an upload or download is one of these. The messages are written for API
clients (the web layer may return them as they are), so they name limits and allowed types but
never a path on the server.

    EvidenceError
    ├── EvidenceTooLarge          the file is larger than the per-file cap
    ├── EvidenceTypeNotAllowed    the file's bytes are not one of the allowed types
    ├── EvidenceEmpty             the file has no bytes
    ├── QuotaExceeded             the file would take the city past its storage quota
    ├── EvidenceMissing           no stored file has that digest
    │   └── InvalidDigest         the digest is malformed, so it names no stored file
    └── EvidenceCorrupted         the stored file no longer matches its digest
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "EvidenceCorrupted",
    "EvidenceEmpty",
    "EvidenceError",
    "EvidenceMissing",
    "EvidenceTooLarge",
    "EvidenceTypeNotAllowed",
    "InvalidDigest",
    "QuotaExceeded",
]

_MIB = 1024 * 1024


def _format_size(size: int) -> str:
    if size % _MIB == 0:
        return f"{size // _MIB} MiB"
    # Caps that are not whole MiB (tests, small deployments) still read sensibly.
    return f"{size / _MIB:.2f} MiB ({size} bytes)"


class EvidenceError(Exception):
    """Root of every error raised by the evidence store."""


class EvidenceTooLarge(EvidenceError):
    """The upload is, or declares itself, larger than the per-file cap."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"evidence files may be at most {_format_size(max_bytes)}")


class EvidenceTypeNotAllowed(EvidenceError):
    """The file's content is not an allowed type (its name and declared type are not consulted)."""

    def __init__(self, *, allowed: Sequence[str], reason: str | None = None) -> None:
        self.allowed = tuple(allowed)
        self.reason = reason
        names = ", ".join(self.allowed[:-1]) + f" or {self.allowed[-1]}"
        prefix = f"file type not allowed ({reason})" if reason else "file type not allowed"
        super().__init__(f"{prefix}: evidence must be {names}, judged by the file's content")


class EvidenceEmpty(EvidenceError):
    """The upload has no bytes."""

    def __init__(self) -> None:
        super().__init__("the evidence file is empty")


class QuotaExceeded(EvidenceError):
    """Storing the file would take the city past its storage quota."""

    def __init__(self, *, quota_remaining: int) -> None:
        self.quota_remaining = quota_remaining
        super().__init__(
            "the city's evidence storage quota would be exceeded: "
            f"{_format_size(quota_remaining)} remaining"
        )


class EvidenceMissing(EvidenceError):
    """No stored evidence file has this digest."""

    def __init__(self, digest: str, *, message: str | None = None) -> None:
        self.digest = digest
        super().__init__(message or f"no evidence file is stored under {digest}")


class InvalidDigest(EvidenceMissing):
    """The digest is not ``sha256:`` followed by 64 lowercase hex digits.

    A subclass of `EvidenceMissing` because a malformed digest names no stored file; it is
    kept apart so that the web layer may answer 400 rather than 404 if it wishes.
    """

    def __init__(self, digest: str) -> None:
        super().__init__(
            digest, message="an evidence digest is 'sha256:' followed by 64 lowercase hex digits"
        )


class EvidenceCorrupted(EvidenceError):
    """The stored file's bytes no longer hash to its digest, so it is not served."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(
            f"the evidence file {digest} failed its integrity check and cannot be served"
        )
