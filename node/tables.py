"""Imports every table so that `SQLModel.metadata` is complete (for Alembic and tests).

Each feature keeps its tables in its own `models.py`; this is only the list of them.
"""

from sqlmodel import SQLModel

from sdgcities.node.accounts.models import (
    AccountRequest,
    ApiToken,
    OneTimeLink,
    SignInFailure,
    User,
)
from sdgcities.node.applications.models import Application, CriterionAnswer, Evidence
from sdgcities.node.assistance.models import AssistanceNote, AssistanceRequest
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.certificates.models import Certificate, CertificateProposal
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, Attendance, Meeting, Recusal, Vote
from sdgcities.node.communities.models import (
    Community,
    CommunityDelivery,
    CommunityEvent,
    CommunityMember,
    CommunityPost,
    CommunitySharing,
    FederationMember,
)
from sdgcities.node.events.models import EventLogHead, EventRecord
from sdgcities.node.federation_registry.models import (
    FederationAnomaly,
    FederationAssistanceRequest,
    FederationCertificate,
    FederationCity,
    FederationDecision,
    FederationRegistryHead,
)
from sdgcities.node.fees.models import (
    CountryIncomeGroup,
    FeeDecision,
    FeeRate,
    FeeRecord,
)
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.ingest.models import (
    IngestAlarm,
    IngestedEvent,
    IngestedLog,
    ReceivedReport,
)
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.members.models import (
    EndorsementRequestRecord,
    JoinRequestRecord,
    MemberKey,
    MemberNode,
    MemberNodeHistory,
    PublishedTrustList,
)
from sdgcities.node.monitoring.models import QualityReport
from sdgcities.node.notifications.models import NoticePreference, NoticeSent
from sdgcities.node.othercerts.models import EsgIndicator, OtherCertification
from sdgcities.node.registry.models import CURRENT_CERTIFICATES
from sdgcities.node.relay.models import RelayReceipt
from sdgcities.node.reports.models import StageReport
from sdgcities.node.review.models import (
    ClarificationRequest,
    CriterionAssessment,
    ReviewAssignment,
    ReviewConsolidation,
    ReviewerConflict,
)
from sdgcities.node.spotchecks.models import (
    ReceivedOutcome,
    SeenMessage,
    SpotCheck,
    SpotCheckRound,
)
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.trust.models import TrustListCopy
from sdgcities.node.watches.models import Watch, WatchCursor, WatchDelivery
from sdgcities.node.web.models import WebSession

metadata = SQLModel.metadata

__all__ = [
    "CURRENT_CERTIFICATES",
    "AccountRequest",
    "AgendaItem",
    "ApiToken",
    "Application",
    "AssistanceNote",
    "AssistanceRequest",
    "Attendance",
    "AuditEntry",
    "Certificate",
    "CertificateProposal",
    "City",
    "ClarificationRequest",
    "Community",
    "CommunityDelivery",
    "CommunityEvent",
    "CommunityMember",
    "CommunityPost",
    "CommunitySharing",
    "CountryIncomeGroup",
    "CriterionAnswer",
    "CriterionAssessment",
    "EndorsementRequestRecord",
    "EsgIndicator",
    "EventLogHead",
    "EventRecord",
    "Evidence",
    "FederationAnomaly",
    "FederationAssistanceRequest",
    "FederationCertificate",
    "FederationCity",
    "FederationDecision",
    "FederationMember",
    "FederationRegistryHead",
    "FeeDecision",
    "FeeRate",
    "FeeRecord",
    "FrameworkVersion",
    "IngestAlarm",
    "IngestedEvent",
    "IngestedLog",
    "JoinRequestRecord",
    "Meeting",
    "MemberKey",
    "MemberNode",
    "MemberNodeHistory",
    "NodeKey",
    "NoticePreference",
    "NoticeSent",
    "OneTimeLink",
    "OtherCertification",
    "OutboxMessage",
    "PublishedTrustList",
    "QualityReport",
    "ReceivedOutcome",
    "ReceivedReport",
    "Recusal",
    "RelayReceipt",
    "ReviewAssignment",
    "ReviewConsolidation",
    "ReviewerConflict",
    "SeenMessage",
    "SignInFailure",
    "SpotCheck",
    "SpotCheckRound",
    "StageReport",
    "StatusListRecord",
    "Tool",
    "TrustListCopy",
    "User",
    "Vote",
    "Watch",
    "WatchCursor",
    "WatchDelivery",
    "WebSession",
    "metadata",
]
