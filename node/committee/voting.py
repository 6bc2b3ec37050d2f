"""Votes and recusals on agenda items, and the quorum they are counted against (§28).

Voting: a member votes as themselves, once per item, while the meeting is open, when sitting
(an ended term answers 403: the person may no longer vote, whatever the meeting) and recorded as
attending (409 otherwise: the secretariat records attendance first, so that the quorum counts the
people who vote), and not recused from the item.

Recusal: a member with a conflict of interest stands aside from one item, with the reason, before
voting on it (a vote cast is not withdrawn) and while the item is pending and its meeting not
closed. For that item the member then counts as neither a sitting nor an attending member
(`quorum`), and may not vote on it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import User
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.db import add_once
from sdgcities.node.errors import Conflict, Forbidden

from .meetings import (
    attendees,
    check_not_closed,
    check_open,
    check_pending,
    get_item_or_raise,
    get_meeting_or_raise,
    is_attending,
    rule_of,
)
from .models import AgendaItem, Meeting, Recusal, Vote, VoteChoice
from .quorum import QuorumCount, is_sitting
from .roster import not_sitting_reason, sitting_members, today


def count_quorum(
    *, session: Session, meeting: Meeting, on: date, item: AgendaItem | None = None
) -> QuorumCount:
    """The meeting's quorum on `on`; for `item`, without the members recused from it."""
    return rule_of(meeting).count(
        sitting=sitting_members(session=session, on=on),
        attending=attendees(session=session, meeting=meeting),
        recused=set() if item is None else recused_ids(session=session, item=item),
    )


def votes_of(*, session: Session, item: AgendaItem) -> list[tuple[Vote, User]]:
    rows = session.exec(
        select(Vote, User)
        .join(User, col(User.id) == col(Vote.member_id))
        .where(Vote.item_id == item.id)
        .order_by(col(Vote.cast_at), col(Vote.id))
    ).all()
    return [(vote, member) for vote, member in rows]


def tally(votes: list[Vote]) -> dict[str, int]:
    counted = Counter(vote.choice for vote in votes)
    return {choice.value: counted.get(choice, 0) for choice in VoteChoice}


def _member_on_item(
    *, session: Session, item_id: int, actor: Actor
) -> tuple[AgendaItem, Meeting, User]:
    """The item, its meeting and the calling member, for a vote or a recusal.

    Shared locks: a decision (which locks the item for update) waits for votes and recusals
    being recorded, and one recorded after a decision sees the item decided.
    """
    item = get_item_or_raise(session=session, item_id=item_id, share=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    assert actor.user_id is not None
    member = session.get(User, actor.user_id)
    assert member is not None  # the caller's account, just read by the access check
    return item, meeting, member


def cast_vote(*, session: Session, item_id: int, choice: VoteChoice, actor: Actor) -> Vote:
    item, meeting, member = _member_on_item(session=session, item_id=item_id, actor=actor)
    check_open(meeting, "members vote")
    check_pending(item)
    assert actor.user_id is not None
    assert item.id is not None
    on = today()
    if not is_sitting(member, on):
        raise Forbidden(not_sitting_reason(member, on))
    if not is_attending(session=session, meeting=meeting, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} is not recorded as attending meeting {meeting.id}: the secretariat "
            "records attendance before members vote"
        )
    if is_recused(session=session, item=item, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} has recused themselves from agenda item {item.id} and may not vote "
            "on it"
        )
    already = Conflict(
        f"{member.name} has already voted on agenda item {item.id}: each member votes once per item"
    )
    if has_voted(session=session, item=item, member_id=actor.user_id):
        raise already
    vote = Vote(item_id=item.id, member_id=actor.user_id, choice=choice)
    add_once(session, vote, refusal=already)
    record(
        session=session,
        actor=actor,
        action="committee.vote",
        target_type="agenda_item",
        target_id=item.id,
        detail={"choice": choice.value},
    )
    return vote


def recusals_of(*, session: Session, item: AgendaItem) -> list[tuple[Recusal, User]]:
    rows = session.exec(
        select(Recusal, User)
        .join(User, col(User.id) == col(Recusal.member_id))
        .where(Recusal.item_id == item.id)
        .order_by(col(Recusal.recorded_at), col(Recusal.id))
    ).all()
    return [(recusal, member) for recusal, member in rows]


def recused_ids(*, session: Session, item: AgendaItem) -> set[int]:
    return set(session.exec(select(Recusal.member_id).where(Recusal.item_id == item.id)).all())


def is_recused(*, session: Session, item: AgendaItem, member_id: int) -> bool:
    return member_id in recused_ids(session=session, item=item)


def has_voted(*, session: Session, item: AgendaItem, member_id: int) -> bool:
    return (
        session.exec(
            select(Vote.id).where(Vote.item_id == item.id, Vote.member_id == member_id)
        ).first()
        is not None
    )


def recuse(*, session: Session, item_id: int, reason: str, actor: Actor) -> Recusal:
    """The calling member stands aside from the item for a conflict of interest."""
    item, meeting, member = _member_on_item(session=session, item_id=item_id, actor=actor)
    check_not_closed(meeting, "recusing from its items")
    check_pending(item)
    assert actor.user_id is not None
    assert item.id is not None
    already = Conflict(f"{member.name} has already recused themselves from agenda item {item.id}")
    if is_recused(session=session, item=item, member_id=actor.user_id):
        raise already
    if has_voted(session=session, item=item, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} has already voted on agenda item {item.id}: a vote cast is not "
            "withdrawn, so recusal comes before voting"
        )
    recusal = Recusal(item_id=item.id, member_id=actor.user_id, reason=reason)
    add_once(session, recusal, refusal=already)
    record(
        session=session,
        actor=actor,
        action="committee.recuse",
        target_type="agenda_item",
        target_id=item.id,
        detail={"reason": reason},
    )
    return recusal
