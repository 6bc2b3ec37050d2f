"""Request and response bodies of the committee API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from sdgcities.node.accounts.models import StakeholderCategory
from sdgcities.node.schemas import FutureMoment, Id, Page, RequestModel, ResponseModel

from .models import ItemKind, ItemOutcome, MeetingStatus, VoteChoice

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class MemberPublic(ResponseModel):
    id: int
    name: str
    stakeholder_category: StakeholderCategory | None
    term_start: date | None
    term_end: date | None
    standing: str = Field(
        description="sitting, past (term ended), future (term not begun) or inactive"
    )


class RotationPublic(ResponseModel):
    """Who rotates off and on the committee in the coming window (§26b: it rotates)."""

    until: date = Field(description="The end of the window looked at (today + within_days)")
    leaving: list[MemberPublic] = Field(description="Sitting today, their term ends before then")
    joining: list[MemberPublic] = Field(description="Their term begins in the window")
    sitting_then: int = Field(description="How many members will sit on `until`")
    non_government_sitting_then: int = Field(
        description="How many of them represent no government (the quorum needs some)"
    )


class MembersPublic(Page):
    sitting: int = Field(description="How many members sit today")
    rotation: RotationPublic
    data: list[MemberPublic]


class MeetingCreate(RequestModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    scheduled_for: FutureMoment = Field(
        description="When it sits, with a time zone; not in the past"
    )


class AttendanceCreate(RequestModel):
    member_id: Id


class VoteCreate(RequestModel):
    choice: VoteChoice


class DeferCreate(RequestModel):
    reason: Reason


class RecusalCreate(RequestModel):
    reason: Reason = Field(description="The conflict of interest, as the member declares it")


class RecusalPublic(ResponseModel):
    item_id: int
    member_id: int
    member_name: str
    reason: str
    recorded_at: datetime


class QuorumPublic(ResponseModel):
    sitting: int
    attending: int
    required: int = Field(description="The fewest attending members that make the quorum")
    non_government_attending: int
    required_non_government: int
    recused: int = Field(
        default=0,
        description="Sitting members who recused themselves from the item: counted neither in "
        "`sitting` nor in `attending`",
    )
    met: bool


class QuorumRulePublic(ResponseModel):
    min_fraction: float = Field(description="More than this fraction of sitting members attend")
    min_non_government: int


class VotePublic(ResponseModel):
    member_id: int
    member_name: str
    choice: VoteChoice
    cast_at: datetime


class ItemPublic(ResponseModel):
    id: int
    meeting_id: int
    kind: ItemKind
    application_id: int | None
    certificate_id: str | None
    proposal_id: int | None
    endorsement_request_id: int | None = Field(
        description="Global node: the member's request to endorse its framework version"
    )
    reason: str
    outcome: ItemOutcome
    decided_at: datetime | None
    deferral_reason: str | None
    quorum: QuorumPublic | None = Field(description="As counted when it was decided")
    tally: dict[str, int] | None


class ItemDetail(ItemPublic):
    votes: list[VotePublic]
    recusals: list[RecusalPublic] = Field(
        description="Members who stood aside from the item: they neither vote nor count in "
        "its quorum"
    )
    quorum_now: QuorumPublic | None = Field(
        default=None,
        description="While the item is pending: its quorum as it stands today, recusals left out",
    )


class MeetingPublic(ResponseModel):
    id: int
    title: str
    scheduled_for: datetime
    status: MeetingStatus
    quorum_rule: QuorumRulePublic
    opened_at: datetime | None
    closed_at: datetime | None


class MeetingsPublic(Page):
    data: list[MeetingPublic]


class MeetingPlanCreate(RequestModel):
    year: int = Field(ge=2000, le=2100, description="The year to plan; this year or a later one")


class MeetingPlanPublic(Page):
    year: int
    per_year: int = Field(description="The node's SDGCITIES_COMMITTEE_MEETINGS_PER_YEAR")
    data: list[MeetingPublic] = Field(description="The meetings scheduled")
    skipped: list[datetime] = Field(
        description="Dates of the plan already past when it was made (this year's plan only)"
    )


class MeetingDetail(MeetingPublic):
    attendance: list[MemberPublic]
    quorum_now: QuorumPublic = Field(description="The quorum as it stands today")
    agenda: list[ItemPublic]


class AgendaGenerated(ResponseModel):
    added: list[ItemPublic]
    agenda: list[ItemPublic]


class ApplicationDecision(ResponseModel):
    """What a city sees of the committee's decision on its application."""

    application_id: int
    city_locode: str
    stage: str
    outcome: ItemOutcome = Field(description="approved (certificate awarded) or rejected")
    decided_at: datetime
    committee: str
    meeting_id: int
    meeting_title: str
    votes: dict[str, int] = Field(description="How many members voted yes, no and abstain")
    certificate_id: str | None
    stage_report: str = Field(
        description="Where the stage report is: per criterion met or not, the gaps, and the "
        "tools and case studies that help close them (§25)"
    )


# The meeting report -----------------------------------------------------------------------------


class EndorsedFramework(ResponseModel):
    """The framework version an endorsement item is about."""

    node_id: str
    framework_id: str
    version: str
    digest: str


class ReportItem(ItemDetail):
    title: str = Field(description="What the item is about, in words (English)")
    framework: EndorsedFramework | None = Field(
        default=None, description="An endorsement item's framework version"
    )
    city_locode: str | None
    city_name: str | None
    stage: str | None
    stage_name: str | None = Field(description="The stage's name (English)")
    language: str | None = Field(
        description="The application's UN language (on the global node: the team that reviewed it)"
    )


class MeetingReport(ResponseModel):
    """The meeting report (§28), generated from the records each time it is asked for."""

    node: str
    committee: str
    generated_at: datetime
    meeting: MeetingPublic
    attendance: list[MemberPublic]
    items: list[ReportItem]
    outcomes: dict[str, int]
