"""The committee's words for its codes (item kinds, outcomes, votes, stakeholder categories ...).

Shared by the committee member's pages (translated by the catalogues) and the meeting report of
the API (`committee.report`, in English), so that neither shows an enum's name to a reader.
"""

from __future__ import annotations

from typing import Final

from sdgcities.node.accounts.models import StakeholderCategory
from sdgcities.node.applications.models import ApplicationState
from sdgcities.node.certificates.models import CertificateStatus
from sdgcities.node.committee.models import ItemKind, ItemOutcome, MeetingStatus, VoteChoice
from sdgcities.node.review.models import Recommendation, Verdict

from .i18n import N_

ITEM_KIND_NAMES: Final[dict[ItemKind, str]] = {
    ItemKind.AWARD: N_("Award of a certificate"),
    ItemKind.SUSPENSION: N_("Suspension of a certificate"),
    ItemKind.REINSTATEMENT: N_("Reinstatement of a certificate"),
    ItemKind.REVOCATION: N_("Revocation of a certificate"),
    ItemKind.ENDORSEMENT: N_("Endorsement of a national framework"),
}
OUTCOME_NAMES: Final[dict[ItemOutcome, str]] = {
    ItemOutcome.PENDING: N_("Pending"),
    ItemOutcome.APPROVED: N_("Approved"),
    ItemOutcome.REJECTED: N_("Rejected"),
    ItemOutcome.DEFERRED: N_("Deferred"),
}
VOTE_NAMES: Final[dict[VoteChoice, str]] = {
    VoteChoice.YES: N_("Yes"),
    VoteChoice.NO: N_("No"),
    VoteChoice.ABSTAIN: N_("Abstain"),
}
MEETING_STATUS_NAMES: Final[dict[MeetingStatus, str]] = {
    MeetingStatus.SCHEDULED: N_("Scheduled"),
    MeetingStatus.OPEN: N_("In session"),
    MeetingStatus.CLOSED: N_("Closed"),
}
CATEGORY_NAMES: Final[dict[StakeholderCategory, str]] = {
    StakeholderCategory.GOVERNMENT: N_("National government"),
    StakeholderCategory.LOCAL_GOVERNMENT: N_("Local government"),
    StakeholderCategory.CIVIL_SOCIETY: N_("Civil society"),
    StakeholderCategory.ACADEMIA: N_("Academia"),
    StakeholderCategory.PRIVATE_SECTOR: N_("Private sector"),
    StakeholderCategory.UNITED_NATIONS: N_("United Nations"),
}
NO_CATEGORY: Final = N_("Not given")
APPLICATION_STATE_NAMES: Final[dict[ApplicationState, str]] = {
    ApplicationState.DRAFT: N_("Draft"),
    ApplicationState.SUBMITTED: N_("Submitted"),
    ApplicationState.WITHDRAWN: N_("Withdrawn"),
    ApplicationState.UNDER_REVIEW: N_("Under review"),
    ApplicationState.CLARIFICATION_REQUESTED: N_("Clarification requested"),
    ApplicationState.RECOMMENDED: N_("Recommended by the reviewers"),
    ApplicationState.NOT_RECOMMENDED: N_("Not recommended by the reviewers"),
    ApplicationState.AWARDED: N_("Certificate awarded"),
    ApplicationState.DECLINED: N_("Declined by the committee"),
}
RECOMMENDATION_NAMES: Final[dict[Recommendation, str]] = {
    Recommendation.RECOMMENDED: N_("Recommended"),
    Recommendation.NOT_RECOMMENDED: N_("Not recommended"),
}
VERDICT_NAMES: Final[dict[Verdict, str]] = {
    Verdict.MET: N_("Met"),
    Verdict.PARTLY_MET: N_("Partly met"),
    Verdict.NOT_MET: N_("Not met"),
}
CERTIFICATE_STATUS_NAMES: Final[dict[CertificateStatus, str]] = {
    CertificateStatus.ACTIVE: N_("In force"),
    CertificateStatus.SUSPENDED: N_("Suspended"),
    CertificateStatus.REVOKED: N_("Revoked"),
}
