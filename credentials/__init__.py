"""Keys, certificates, status lists, the trust list and the verifier of SDG Cities certification.

A library with no web framework or database in it: an investor's verifier needs nothing else.

    from sdgcities.credentials import TrustAnchor, Verifier

    trust_list = TrustAnchor([PINNED_ROOT_THUMBPRINT]).accept(trust_list_jws)
    result = Verifier(trust_list).verify(certificate_jwt)
    result.valid, result.outcome, result.reason
"""

from ._strict import parse_json_object
from .canonical import canonical_json, content_digest
from .context import SDGCITIES_CONTEXT, sdgcities_context_document
from .countries import ISO_3166_ALPHA2, is_country_code
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
    NotReceivedBeforeCutoff,
    NotYetValid,
    OutsideJurisdiction,
    Reason,
    Revoked,
    RootNotPinned,
    SignatureInvalid,
    StatusListFull,
    StatusListRollback,
    StatusListUnavailable,
    Suspended,
    TrustListRollback,
    TrustListStale,
    TrustListTooLarge,
    UntrustedIssuer,
    VerificationError,
)
from .jurisdiction import GLOBAL_NODE_ID, Exclusion, Jurisdiction
from .jws import KID_NAMES_ANOTHER_DID, JwsToken, sign_jws
from .keys import Algorithm, KeyPeriod, KeyStatus, PublicKey, SigningKey
from .notice import (
    MAX_NOTICE_BYTES,
    NOTICE_MEDIA_TYPE,
    NOTICE_TYP,
    Notice,
    NoticeEvent,
    sign_notice,
    verify_notice,
)
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
from .status_memory import StatusListCache, StatusListHistory
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
    ReceivedCertificate,
    StatusListFetcher,
    UrllibFetcher,
    VerificationResult,
    Verifier,
    verify_received,
)

__all__ = [
    "ENDORSEMENT_TYP",
    "GLOBAL_NODE_ID",
    "ISO_3166_ALPHA2",
    "KID_NAMES_ANOTHER_DID",
    "MAX_NOTICE_BYTES",
    "MIN_ENTRIES",
    "NOTICE_MEDIA_TYPE",
    "NOTICE_TYP",
    "REVOKED_BIT",
    "SDGCITIES_CONTEXT",
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
    "Exclusion",
    "Expired",
    "FrameworkNotEndorsed",
    "FrameworkRef",
    "IndexAllocator",
    "IssuerSuspended",
    "IssuerWithdrawn",
    "Jurisdiction",
    "JwsToken",
    "KeyCompromised",
    "KeyPeriod",
    "KeyRetired",
    "KeyStatus",
    "KeyStoreError",
    "MalformedError",
    "NodeStatus",
    "NotReceivedBeforeCutoff",
    "NotYetValid",
    "Notice",
    "NoticeEvent",
    "Outcome",
    "OutsideJurisdiction",
    "PublicKey",
    "Reason",
    "ReceivedCertificate",
    "Revoked",
    "RootNotPinned",
    "SignatureInvalid",
    "SigningKey",
    "StatusBitstring",
    "StatusEntry",
    "StatusList",
    "StatusListCache",
    "StatusListFetcher",
    "StatusListFull",
    "StatusListHistory",
    "StatusListRollback",
    "StatusListUnavailable",
    "Suspended",
    "TrustAnchor",
    "TrustList",
    "TrustListRollback",
    "TrustListStale",
    "TrustListTooLarge",
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
    "is_country_code",
    "is_did_web",
    "jwks",
    "key_id",
    "normalise_base_url",
    "parse_json_object",
    "sdgcities_context_document",
    "sign_jws",
    "sign_notice",
    "sign_status_list",
    "split_key_id",
    "status_value",
    "verify_notice",
    "verify_received",
]
