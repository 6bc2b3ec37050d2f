"""Keys, certificates, status lists, the trust list and the verifier of SDG Cities certification.

A library with no web framework or database in it: an investor's verifier needs nothing else.

    from sdgcities.credentials import TrustAnchor, Verifier

    trust_list = TrustAnchor([PINNED_ROOT_THUMBPRINT]).accept(trust_list_jws)
    result = Verifier(trust_list).verify(certificate_jwt)
    result.valid, result.outcome, result.reason
"""

from .canonical import canonical_json, content_digest
from .did import (
    did_document,
    did_web_from_base_url,
    is_did_web,
    jwks,
    key_id,
    normalise_base_url,
    split_key_id,
)
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
from .jws import KID_NAMES_ANOTHER_DID, JwsToken, sign_jws
from .keys import Algorithm, KeyPeriod, KeyStatus, PublicKey, SigningKey
from .status_credential import StatusList, sign_status_list
from .status_list import MIN_ENTRIES, IndexAllocator, StatusBitstring
from .trust_list import TRUST_LIST_TYP, NodeStatus, TrustAnchor, TrustedNode, TrustList
from .vc import (
    STAGE_LEVELS,
    STATUS_PURPOSES,
    VC_JWT_TYP,
    CertificateIssue,
    Decision,
    FrameworkRef,
    StatusEntry,
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
    "KID_NAMES_ANOTHER_DID",
    "MIN_ENTRIES",
    "STAGE_LEVELS",
    "STATUS_PURPOSES",
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
    "is_did_web",
    "jwks",
    "key_id",
    "normalise_base_url",
    "sign_jws",
    "sign_status_list",
    "split_key_id",
]
