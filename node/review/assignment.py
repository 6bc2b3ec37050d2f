"""Assignment (§25, §26): who reviews an application.

An administrator assigns at least `Settings.reviewers_per_application` distinct reviewers at
once, exactly one of them the lead. A reviewer is refused when their account is not a
reviewer's, is deactivated, is bound to the applicant city, or when they declared a conflict of
interest with that city (`conflicts`), and on the global node when they are not in the technical
team of the application's UN language (`team_of`, §26b). A reviewer sees only the applications
assigned to them (node/applications asks `access.is_assigned`). During the review an
administrator may replace a reviewer (the same rules hold for the replacement); a reviewer who
declares a conflict with the city after being assigned can do nothing more on it until replaced
(`own_assignment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.teams import UN_LANGUAGES, primary_subtag, teams_of
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.config import GLOBAL_NODE_ID, Settings
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.notifications import service as notices

from .access import assessments_of, assignments_of
from .conflicts import declared_conflict
from .models import ReviewAssignment, ReviewerConflict

OPEN_REVIEW_STATES = (ApplicationState.UNDER_REVIEW, ApplicationState.CLARIFICATION_REQUESTED)


def team_of(*, application: Application, node_id: str) -> str | None:
    """The technical team an application is routed to: on the global node, its UN language's
    (§26b); on a national node none, since a language is advice there."""
    if node_id != GLOBAL_NODE_ID:
        return None
    if application.language is None:
        raise Conflict(
            f"application {application.id} has no language, so no technical team: route it "
            f"first (PUT /applications/{application.id}/language, one of "
            f"{', '.join(UN_LANGUAGES)})"
        )
    return application.language


def _check_reviewer(
    *, session: Session, application: Application, user_id: int, team: str | None = None
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise InvalidRequest(f"user {user_id} does not exist")
    if user.role is not Role.REVIEWER:
        raise InvalidRequest(f"user {user_id} is a {user.role.value}, not a reviewer")
    if not user.active:
        raise Conflict(f"reviewer {user_id}'s account is deactivated")
    locode = application.city_locode
    if user.city_locode == locode:
        raise Conflict(
            f"reviewer {user_id}'s account is bound to city {locode}, the applicant: a city is "
            "not reviewed by its own people"
        )
    conflict = declared_conflict(session=session, reviewer_id=user_id, locode=locode)
    if conflict is not None:
        raise Conflict(
            f"reviewer {user_id} declared a conflict of interest with city {locode} on "
            f"{conflict.declared_at.date().isoformat()}"
        )
    if team is not None and team not in teams_of(user.languages):
        raise Conflict(
            f"application {application.id} is routed to the {team} technical team, and reviewer "
            f"{user_id} is not in it (teams: {', '.join(teams_of(user.languages)) or 'none'}); "
            "a reviewer's teams are the UN languages among their account's languages"
        )
    return user


def assign_reviewers(
    *,
    session: Session,
    application: Application,
    reviewer_ids: Sequence[int],
    lead_id: int,
    required: int,
    actor: Actor,
    settings: Settings,
) -> list[ReviewAssignment]:
    """Assign the reviewers of a submitted application (`application` locked by the caller);
    on the global node, every one of them from its language's team. Each is told."""
    if application.state is not ApplicationState.SUBMITTED:
        raise Conflict(
            f"application {application.id} is {application.state.value}; reviewers are assigned "
            "once, to a submitted application"
        )
    team = team_of(application=application, node_id=settings.node_id)
    distinct = list(dict.fromkeys(reviewer_ids))
    if len(distinct) < required:
        raise InvalidRequest(
            f"at least {required} distinct reviewers are needed; {len(distinct)} given"
        )
    if lead_id not in distinct:
        raise InvalidRequest(f"the lead, user {lead_id}, is not among the reviewers")
    for user_id in distinct:
        _check_reviewer(session=session, application=application, user_id=user_id, team=team)
    assignments = [
        ReviewAssignment(
            application_id=saved_id(application.id),
            reviewer_id=user_id,
            lead=user_id == lead_id,
            assigned_by=actor.user_id,
        )
        for user_id in distinct
    ]
    session.add_all(assignments)
    application.state = ApplicationState.UNDER_REVIEW
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.assign",
        target_type="application",
        target_id=application.id,
        detail={"reviewers": distinct, "lead": lead_id} | ({"team": team} if team else {}),
    )
    notices.notify_review_assigned(
        session=session, settings=settings, application=application, reviewer_ids=distinct
    )
    return assignments


@dataclass(frozen=True, slots=True)
class Candidate:
    reviewer: User
    shares_language: bool
    open_reviews: int

    @property
    def teams(self) -> list[str]:
        return teams_of(self.reviewer.languages)


def candidates_for(
    *, session: Session, application: Application, team: str | None = None
) -> list[Candidate]:
    """The reviewers who may be assigned to `application`: active, not bound to the city, with
    no conflict declared with it, not assigned already, and in `team` when the application is
    routed to one (the global node, §26b). Those who share a language with the city come
    first, then the least busy."""
    locode = application.city_locode
    conflicted = select(ReviewerConflict.reviewer_id).where(ReviewerConflict.city_locode == locode)
    assigned = select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application.id
    )
    reviewers = session.exec(
        select(User).where(
            User.role == Role.REVIEWER,
            col(User.active).is_(True),
            or_(col(User.city_locode).is_(None), col(User.city_locode) != locode),
            col(User.id).not_in(conflicted),
            col(User.id).not_in(assigned),
        )
    ).all()
    busy = dict(
        session.exec(
            select(ReviewAssignment.reviewer_id, func.count())
            .join(Application, col(Application.id) == ReviewAssignment.application_id)
            .where(
                col(ReviewAssignment.submitted_at).is_(None),
                col(Application.state).in_(OPEN_REVIEW_STATES),
            )
            .group_by(col(ReviewAssignment.reviewer_id))
        ).all()
    )
    city = get_city_or_raise(session=session, locode=locode, actor=SYSTEM)
    city_languages = {primary_subtag(language) for language in city.languages}
    found = [
        Candidate(
            reviewer=reviewer,
            shares_language=bool(
                city_languages & {primary_subtag(lang) for lang in reviewer.languages}
            ),
            open_reviews=busy.get(saved_id(reviewer.id), 0),
        )
        for reviewer in reviewers
        if team is None or team in teams_of(reviewer.languages)
    ]
    found.sort(key=lambda c: (not c.shares_language, c.open_reviews, saved_id(c.reviewer.id)))
    return found


def list_assignments(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    reviewer_id: int | None = None,
    pending: bool | None = None,
) -> tuple[list[ReviewAssignment], int]:
    """A reviewer's own assignments (their queue); administrators and the secretariat see all."""
    conditions = []
    if actor.role is Role.REVIEWER:
        conditions.append(col(ReviewAssignment.reviewer_id) == actor.user_id)
    if reviewer_id is not None:
        conditions.append(col(ReviewAssignment.reviewer_id) == reviewer_id)
    if pending is not None:
        submitted = col(ReviewAssignment.submitted_at)
        conditions.append(submitted.is_(None) if pending else submitted.is_not(None))
    return page_of(
        session,
        ReviewAssignment,
        conditions=conditions,
        order_by=[col(ReviewAssignment.id).desc()],
        offset=offset,
        limit=limit,
    )


def own_assignment(*, session: Session, application: Application, actor: Actor) -> ReviewAssignment:
    """The caller's assignment to `application` (locked: their review is about to change)."""
    assignment = session.exec(
        select(ReviewAssignment)
        .where(
            ReviewAssignment.application_id == application.id,
            ReviewAssignment.reviewer_id == actor.user_id,
        )
        .with_for_update()
    ).first()
    if assignment is None:
        # Only a reviewer's visibility check lets a caller this far, and it needs the row.
        raise NotFound(f"no application {application.id}")
    # A conflict declared after the assignment stops the review until the reviewer is replaced.
    conflict = declared_conflict(
        session=session, reviewer_id=assignment.reviewer_id, locode=application.city_locode
    )
    if conflict is not None:
        raise Conflict(
            f"you declared a conflict of interest with city {application.city_locode}: an "
            f"administrator replaces you on application {application.id}"
        )
    return assignment


def replace_reviewer(
    *,
    session: Session,
    application: Application,
    reviewer_id: int,
    replacement_id: int,
    actor: Actor,
    settings: Settings,
) -> ReviewAssignment:
    """Put another reviewer in one's place during the review (a conflict declared late, a
    reviewer who cannot go on). The replaced reviewer's assessments go with them: the review
    counts only the assigned reviewers' work. The lead's role passes to the replacement."""
    if application.state not in (
        ApplicationState.UNDER_REVIEW,
        ApplicationState.CLARIFICATION_REQUESTED,
    ):
        raise Conflict(
            f"application {application.id} is {application.state.value}; reviewers are "
            "replaced only during the review"
        )
    assignments = {
        a.reviewer_id: a for a in assignments_of(session=session, application_id=application.id)
    }
    replaced = assignments.get(reviewer_id)
    if replaced is None:
        raise NotFound(f"reviewer {reviewer_id} is not assigned to application {application.id}")
    if replacement_id in assignments:
        raise Conflict(
            f"reviewer {replacement_id} is already assigned to application {application.id}"
        )
    _check_reviewer(
        session=session,
        application=application,
        user_id=replacement_id,
        team=team_of(application=application, node_id=settings.node_id),
    )
    dropped = assessments_of(session=session, assignments=[replaced])
    for assessment in dropped:
        session.delete(assessment)
    session.delete(replaced)
    session.flush()
    replacement = ReviewAssignment(
        application_id=saved_id(application.id),
        reviewer_id=replacement_id,
        lead=replaced.lead,
        assigned_by=actor.user_id,
    )
    session.add(replacement)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.replace",
        target_type="application",
        target_id=application.id,
        detail={
            "replaced": reviewer_id,
            "replacement": replacement_id,
            "lead": replaced.lead,
            "had_submitted": replaced.submitted_at is not None,
            "assessments_dropped": len(dropped),
        },
    )
    notices.notify_review_assigned(
        session=session, settings=settings, application=application, reviewer_ids=[replacement_id]
    )
    return replacement
