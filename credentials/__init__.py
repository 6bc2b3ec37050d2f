"""Keys, certificates, status lists, the trust list and the verifier of SDG Cities certification.

A library with no web framework or database in it: an investor's verifier needs nothing else.

    from sdgcities.credentials import TrustAnchor, Verifier

    trust_list = TrustAnchor([PINNED_ROOT_THUMBPRINT]).accept(trust_list_jws)
    result = Verifier(trust_list).verify(certificate_jwt)
    result.valid, result.outcome, result.reason
"""

from .canonical import canonical_json, content_digest
from .did import did_document, did_web_from_base_url, jwks, normalise_base_url
from .endorsement import ENDORSEMENT_TYP, Endorsement
from .errors import (
    CannotDecide,
    DecompressionLimitExceeded,
    Error,
    Expired,
    FrameworkNotEndorsed,
    IssuerSuspended,
    IssuerWithdrawn,
    KeyCompromised,
    KeyRetired,
    KeyStoreError,
    MalformedError,
    NotYetValid,
    Reason,
    Revoked,
    SignatureInvalid,
    StatusListFull,
    StatusListUnavailable,
    Suspended,
    TrustListRollback,
    TrustListStale,
    UntrustedIssuer,
    VerificationError,
)
from .jws import JwsToken, sign_jws
from .keys import Algorithm, KeyPeriod, KeyStatus, PublicKey, SigningKey
from .status_credential import StatusList, sign_status_list
from .status_entry import (
    REVOKED_BIT,
    STATUS_MESSAGES,
    STATUS_PURPOSE,
    STATUS_SIZE,
    SUSPENDED_BIT,
    StatusEntry,
    status_value,
)
from .status_list import MIN_ENTRIES, IndexAllocator, StatusBitstring
from .trust_list import TRUST_LIST_TYP, NodeStatus, TrustAnchor, TrustedNode, TrustList
from .vc import (
    STAGE_LEVELS,
    VC_JWT_TYP,
    CertificateIssue,
    Decision,
    FrameworkRef,
    city_subject_id,
)
from .verify import (
    Outcome,
    StatusListFetcher,
    UrllibFetcher,
    VerificationResult,
    Verifier,
)

__all__ = [
    "ENDORSEMENT_TYP",
    "MIN_ENTRIES",
    "REVOKED_BIT",
    "STAGE_LEVELS",
    "STATUS_MESSAGES",
    "STATUS_PURPOSE",
    "STATUS_SIZE",
    "SUSPENDED_BIT",
    "TRUST_LIST_TYP",
    "VC_JWT_TYP",
    "Algorithm",
    "CannotDecide",
    "CertificateIssue",
    "Decision",
    "DecompressionLimitExceeded",
    "Endorsement",
    "Error",
    "Expired",
    "FrameworkNotEndorsed",
    "FrameworkRef",
    "IndexAllocator",
    "IssuerSuspended",
    "IssuerWithdrawn",
    "JwsToken",
    "KeyCompromised",
    "KeyPeriod",
    "KeyRetired",
    "KeyStatus",
    "KeyStoreError",
    "MalformedError",
    "NodeStatus",
    "NotYetValid",
    "Outcome",
    "PublicKey",
    "Reason",
    "Revoked",
    "SignatureInvalid",
    "SigningKey",
    "StatusBitstring",
    "StatusEntry",
    "StatusList",
    "StatusListFetcher",
    "StatusListFull",
    "StatusListUnavailable",
    "Suspended",
    "TrustAnchor",
    "TrustList",
    "TrustListRollback",
    "TrustListStale",
    "TrustedNode",
    "UntrustedIssuer",
    "UrllibFetcher",
    "VerificationError",
    "VerificationResult",
    "Verifier",
    "canonical_json",
    "city_subject_id",
    "content_digest",
    "did_document",
    "did_web_from_base_url",
    "jwks",
    "normalise_base_url",
    "sign_jws",
    "sign_status_list",
    "status_value",
]
