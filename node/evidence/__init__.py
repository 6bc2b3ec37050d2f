"""Evidence files that cities upload for their self-assessment.

Uploads are streamed into content-addressed storage (SHA-256) under a per-file cap and a
per-city quota, their type is judged from their bytes, and downloads are re-checked against
their digest before they are served. Framework-free: the web layer feeds `EvidenceStore.store`
an async iterator of chunks, maps the errors in `errors` to responses, and serves the path that
`EvidenceStore.open_verified` returns as an attachment (`content_disposition`) with
``X-Content-Type-Options: nosniff`` and the stored `MediaType`.
"""

from .errors import (
    EvidenceCorrupted,
    EvidenceEmpty,
    EvidenceError,
    EvidenceMissing,
    EvidenceTooLarge,
    EvidenceTypeNotAllowed,
    InvalidDigest,
    QuotaExceeded,
)
from .sniff import MediaType, detect_media_type
from .storage import (
    DEFAULT_MAX_BYTES,
    EvidenceStore,
    StoredEvidence,
    content_disposition,
    sanitise_filename,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EvidenceCorrupted",
    "EvidenceEmpty",
    "EvidenceError",
    "EvidenceMissing",
    "EvidenceStore",
    "EvidenceTooLarge",
    "EvidenceTypeNotAllowed",
    "InvalidDigest",
    "MediaType",
    "QuotaExceeded",
    "StoredEvidence",
    "content_disposition",
    "detect_media_type",
    "sanitise_filename",
]
