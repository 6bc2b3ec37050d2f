"""The committee's year (§26b, §28): the secretariat plans a year's meetings at once, and sees
which members rotate off and on before the coming meetings.

A plan schedules `Settings.committee_meetings_per_year` meetings (four by default: the global
committee sits about four times a year), one in the middle month of each equal part of the year,
on the 15th at 12:00 UTC (four a year: mid-February, May, August and November). A year is
planned once (409 for a second plan; an extra meeting is scheduled on its own). In the current
year, the plan's dates already past are skipped and named in the answer; an earlier year is 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import User
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import Settings
from sdgcities.node.db import add_once
from sdgcities.node.errors import Conflict, InvalidRequest
from sdgcities.node.notifications import service as notices
from sdgcities.node.timeutil import utcnow

from .models import Meeting
from .quorum import is_non_government, is_sitting
from .roster import list_members

QUARTERLY = 4


def plan_dates(*, year: int, per_year: int) -> list[datetime]:
    """When the meetings of a year's plan sit, in order."""
    dates = []
    for slot in range(per_year):
        first, last = slot * 12 // per_year, (slot + 1) * 12 // per_year - 1
        dates.append(datetime(year, (first + last) // 2 + 1, 15, 12, tzinfo=UTC))
    return dates


def plan_title(*, year: int, slot: int, per_year: int) -> str:
    if per_year == QUARTERLY:
        return f"Committee meeting, {year} Q{slot}"
    return f"Committee meeting {slot} of {per_year}, {year}"


@dataclass(frozen=True, slots=True)
class YearPlan:
    year: int
    per_year: int
    meetings: list[Meeting]
    skipped: list[datetime]


def planned_meetings(*, session: Session, year: int) -> list[Meeting]:
    return list(
        session.exec(
            select(Meeting).where(Meeting.plan_year == year).order_by(col(Meeting.plan_slot))
        ).all()
    )


def plan_year(
    *, session: Session, year: int, settings: Settings, actor: Actor, now: datetime | None = None
) -> YearPlan:
    """Schedule the year's meetings; each keeps the node's quorum rule as it stands now."""
    now = now or utcnow()
    if year < now.year:
        raise InvalidRequest(f"{year} has passed: plan {now.year} or a later year")
    existing = planned_meetings(session=session, year=year)
    if existing:
        raise Conflict(
            f"{year} is already planned (meetings {', '.join(str(m.id) for m in existing)}): "
            "schedule an extra meeting with POST /committee/meetings"
        )
    per_year = settings.committee_meetings_per_year
    dates = plan_dates(year=year, per_year=per_year)
    skipped = [moment for moment in dates if moment <= now]
    if len(skipped) == len(dates):
        raise InvalidRequest(f"every meeting of a plan for {year} would be past: plan {year + 1}")
    meetings = [
        Meeting(
            title=plan_title(year=year, slot=slot, per_year=per_year),
            scheduled_for=moment,
            quorum_min_fraction=settings.quorum_min_fraction,
            quorum_min_non_government=settings.quorum_min_non_government,
            created_by=actor.user_id,
            plan_year=year,
            plan_slot=slot,
        )
        for slot, moment in enumerate(dates, start=1)
        if moment > now
    ]
    add_once(session, *meetings, refusal=Conflict(f"{year} is already planned"))
    record(
        session=session,
        actor=actor,
        action="meeting.plan",
        target_type="committee",
        target_id=year,
        detail={"year": year, "meetings": [meeting.id for meeting in meetings]},
    )
    for meeting in meetings:
        notices.notify_meeting_scheduled(session=session, settings=settings, meeting=meeting)
    return YearPlan(year=year, per_year=per_year, meetings=meetings, skipped=skipped)


@dataclass(frozen=True, slots=True)
class Rotation:
    """Who stops and who starts sitting between `on` and `until`, and what is left then."""

    on: date
    until: date
    leaving: list[User]
    joining: list[User]
    sitting_then: int
    non_government_sitting_then: int


def rotation(*, session: Session, on: date, until: date) -> Rotation:
    members = list_members(session=session)
    then = [member for member in members if is_sitting(member, until)]
    return Rotation(
        on=on,
        until=until,
        leaving=[
            member
            for member in members
            if is_sitting(member, on) and member.term_end is not None and member.term_end < until
        ],
        joining=[
            member
            for member in members
            if member.active and member.term_start is not None and on < member.term_start <= until
        ],
        sitting_then=len(then),
        non_government_sitting_then=sum(1 for member in then if is_non_government(member)),
    )
