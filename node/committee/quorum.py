"""The quorum rule: who sits on the committee, and whether enough of them are present.

A member *sits* on a day when the account is active and the day lies within the member's term
(a term without a start or an end is open on that side). A decision is taken only when

- more than `min_fraction` of the sitting members attend (0.5: a majority), and
- at least `min_non_government` of those attending represent no government.

A member who recused themselves from an item counts, for that item, as neither sitting nor
attending: the majority is taken of the others, and their vote is not asked for.

Members of national and of local government both count as government: the rule is there so
that a committee of officials alone cannot award a certificate (§26a asks for "a variety of
stakeholders"). A member without a stakeholder category counts as government, since nothing
shows that they are not. This module is pure: `voting.count_quorum` gathers the members and
attendance.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sdgcities.federation.event_data import QuorumCounts
from sdgcities.node.accounts.models import StakeholderCategory, User

GOVERNMENT_CATEGORIES = frozenset(
    {StakeholderCategory.GOVERNMENT, StakeholderCategory.LOCAL_GOVERNMENT}
)


def is_sitting(member: User, on: date) -> bool:
    if not member.active:
        return False
    if member.term_start is not None and on < member.term_start:
        return False
    return member.term_end is None or on <= member.term_end


def is_non_government(member: User) -> bool:
    category = member.stakeholder_category
    return category is not None and category not in GOVERNMENT_CATEGORIES


@dataclass(frozen=True, slots=True)
class QuorumRule:
    min_fraction: float
    min_non_government: int

    def required(self, sitting: int) -> int:
        """The fewest attending members that are *more than* `min_fraction` of `sitting`."""
        # Exact arithmetic on the simple fraction meant (0.29 is 29/100, 0.666... is 2/3): in
        # floats 0.29 * 100 is 28.999..., which would lower the bar by one member.
        fraction = Fraction(self.min_fraction).limit_denominator(1000)
        return int(fraction * sitting) + 1

    def count(
        self,
        *,
        sitting: Iterable[User],
        attending: Iterable[User],
        recused: Collection[int] = frozenset(),
    ) -> QuorumCount:
        """The counts for a decision now: `attending` members who are not sitting do not count,
        nor do the `recused` (ids) of the item decided, whether sitting or attending."""
        everyone_sitting = {member.id for member in sitting}
        sitting_ids = everyone_sitting - set(recused)
        present = [member for member in attending if member.id in sitting_ids]
        return QuorumCount(
            sitting=len(sitting_ids),
            attending=len(present),
            required=self.required(len(sitting_ids)),
            non_government_attending=sum(1 for member in present if is_non_government(member)),
            required_non_government=self.min_non_government,
            recused=len(everyone_sitting & set(recused)),
        )


@dataclass(frozen=True, slots=True)
class QuorumCount:
    sitting: int
    attending: int
    required: int
    non_government_attending: int
    required_non_government: int
    # Sitting members who stood aside from the item: already left out of `sitting`.
    recused: int = 0

    @property
    def majority_met(self) -> bool:
        return self.sitting > 0 and self.attending >= self.required

    @property
    def non_government_met(self) -> bool:
        return self.non_government_attending >= self.required_non_government

    @property
    def met(self) -> bool:
        return self.majority_met and self.non_government_met

    def shortfalls(self) -> list[str]:
        """Why the quorum is not met, with the counts; empty when it is."""
        problems = []
        if self.sitting == 0:
            problems.append("the committee has no sitting members")
        elif not self.majority_met:
            aside = f" ({self.recused} recused from the item)" if self.recused else ""
            problems.append(
                f"{self.attending} of {self.sitting} sitting members{aside} attend and at least "
                f"{self.required} are needed"
            )
        if not self.non_government_met:
            problems.append(
                f"{self.non_government_attending} non-government members attend and at least "
                f"{self.required_non_government} "
                f"{'is' if self.required_non_government == 1 else 'are'} needed"
            )
        return problems

    def to_record(self) -> dict[str, Any]:
        """What an agenda item keeps of the count it was decided with (snake_case, as the API)."""
        return {
            "sitting": self.sitting,
            "attending": self.attending,
            "required": self.required,
            "non_government_attending": self.non_government_attending,
            "required_non_government": self.required_non_government,
            "recused": self.recused,
            "met": self.met,
        }

    def to_event(self) -> QuorumCounts:
        """The count as a `decision.recorded` event carries it."""
        return QuorumCounts(
            sitting=self.sitting,
            attending=self.attending,
            required=self.required,
            non_government_attending=self.non_government_attending,
            required_non_government=self.required_non_government,
            recused=self.recused,
            met=self.met,
        )
