"""The quorum rule on its own: majority of sitting members, and non-government presence."""

from __future__ import annotations

from datetime import date

import pytest

from sdgcities.node.accounts.models import Role, StakeholderCategory, User
from sdgcities.node.committee.quorum import QuorumRule, is_non_government, is_sitting

TODAY = date(2026, 6, 1)
MAJORITY = QuorumRule(min_fraction=0.5, min_non_government=1)


def _member(n: int, category: StakeholderCategory | None, **fields: object) -> User:
    return User(
        id=n,
        name=f"member {n}",
        email=f"m{n}@example.org",
        role=Role.COMMITTEE_MEMBER,
        stakeholder_category=category,
        **fields,
    )


@pytest.mark.parametrize(
    ("fraction", "sitting", "required"),
    [(0.5, 1, 1), (0.5, 3, 2), (0.5, 4, 3), (0.5, 5, 3), (2 / 3, 9, 7), (0.29, 100, 30), (0, 5, 1)],
)
def test_more_than_the_fraction_is_required(fraction: float, sitting: int, required: int) -> None:
    assert QuorumRule(fraction, 1).required(sitting) == required


def test_sitting_means_active_and_within_the_term() -> None:
    within = _member(1, None, term_start=date(2026, 1, 1), term_end=date(2026, 6, 1))
    ended = _member(2, None, term_start=date(2025, 1, 1), term_end=date(2026, 5, 31))
    not_begun = _member(3, None, term_start=date(2026, 6, 2))
    open_ended = _member(4, None)
    deactivated = _member(5, None, active=False)
    assert is_sitting(within, TODAY)
    assert is_sitting(open_ended, TODAY)
    assert not is_sitting(ended, TODAY)
    assert not is_sitting(not_begun, TODAY)
    assert not is_sitting(deactivated, TODAY)


@pytest.mark.parametrize(
    ("category", "non_government"),
    [
        (StakeholderCategory.GOVERNMENT, False),
        (StakeholderCategory.LOCAL_GOVERNMENT, False),
        (None, False),
        (StakeholderCategory.CIVIL_SOCIETY, True),
        (StakeholderCategory.ACADEMIA, True),
        (StakeholderCategory.PRIVATE_SECTOR, True),
        (StakeholderCategory.UNITED_NATIONS, True),
    ],
)
def test_who_counts_as_non_government(
    category: StakeholderCategory | None, non_government: bool
) -> None:
    assert is_non_government(_member(1, category)) is non_government


def test_a_majority_with_a_non_government_member_is_a_quorum() -> None:
    members = [
        _member(1, StakeholderCategory.GOVERNMENT),
        _member(2, StakeholderCategory.ACADEMIA),
        _member(3, StakeholderCategory.CIVIL_SOCIETY),
    ]
    count = MAJORITY.count(sitting=members, attending=members[:2])
    assert count.met
    assert count.shortfalls() == []
    assert count.to_record() == {
        "sitting": 3,
        "attending": 2,
        "required": 2,
        "non_government_attending": 1,
        "required_non_government": 1,
        "recused": 0,
        "met": True,
    }
    assert count.to_event().to_data()["nonGovernmentAttending"] == 1


def test_shortfalls_name_the_counts() -> None:
    government = [_member(n, StakeholderCategory.GOVERNMENT) for n in (1, 2)]
    others = [_member(n, StakeholderCategory.CIVIL_SOCIETY) for n in (3, 4, 5)]
    no_majority = MAJORITY.count(sitting=government + others, attending=[others[0]])
    assert not no_majority.met
    assert no_majority.shortfalls() == ["1 of 5 sitting members attend and at least 3 are needed"]
    officials_only = MAJORITY.count(sitting=government + others[:1], attending=government)
    assert officials_only.majority_met
    assert officials_only.shortfalls() == [
        "0 non-government members attend and at least 1 is needed"
    ]
    empty = MAJORITY.count(sitting=[], attending=[])
    assert empty.shortfalls() == [
        "the committee has no sitting members",
        "0 non-government members attend and at least 1 is needed",
    ]


def test_attendees_who_no_longer_sit_do_not_count() -> None:
    sitting = [_member(n, StakeholderCategory.ACADEMIA) for n in (1, 2, 3)]
    former = _member(9, StakeholderCategory.CIVIL_SOCIETY)
    count = MAJORITY.count(sitting=sitting, attending=[sitting[0], former])
    assert (count.attending, count.non_government_attending) == (1, 1)
    assert not count.met


# Recusals -----------------------------------------------------------------------------------------


def test_a_recused_member_counts_as_neither_sitting_nor_attending() -> None:
    members = [_member(n, StakeholderCategory.CIVIL_SOCIETY) for n in (1, 2, 3, 4, 5)]
    # 3 of 5 attend: a quorum (3 needed). One of them recuses: 2 of 4 sitting, 3 needed.
    without = MAJORITY.count(sitting=members, attending=members[:3])
    assert (without.sitting, without.attending, without.required, without.met) == (5, 3, 3, True)
    recused = MAJORITY.count(sitting=members, attending=members[:3], recused={1})
    assert (recused.sitting, recused.attending, recused.required) == (4, 2, 3)
    assert recused.recused == 1
    assert not recused.met
    assert recused.shortfalls() == [
        "2 of 4 sitting members (1 recused from the item) attend and at least 3 are needed"
    ]
    assert recused.to_record()["recused"] == 1
    assert recused.to_event().to_data()["recused"] == 1


def test_a_recusal_of_an_absent_member_lowers_the_bar() -> None:
    members = [_member(n, StakeholderCategory.ACADEMIA) for n in (1, 2, 3, 4)]
    # 2 of 4 attend: not more than half. The absent member 4 recuses: 2 of 3 is a majority.
    assert not MAJORITY.count(sitting=members, attending=members[:2]).met
    count = MAJORITY.count(sitting=members, attending=members[:2], recused={4})
    assert (count.sitting, count.attending, count.required, count.met) == (3, 2, 2, True)


def test_a_recused_non_government_member_does_not_make_the_non_government_quorum() -> None:
    government = [_member(n, StakeholderCategory.GOVERNMENT) for n in (1, 2)]
    academic = _member(3, StakeholderCategory.ACADEMIA)
    everyone = [*government, academic]
    count = MAJORITY.count(sitting=everyone, attending=everyone, recused={3})
    assert count.majority_met
    assert (count.non_government_attending, count.non_government_met) == (0, False)


def test_recusals_of_people_who_do_not_sit_change_nothing() -> None:
    members = [_member(n, StakeholderCategory.ACADEMIA) for n in (1, 2, 3)]
    count = MAJORITY.count(sitting=members, attending=members, recused={99})
    assert (count.sitting, count.attending, count.recused) == (3, 3, 0)


def test_everyone_recused_leaves_no_sitting_member() -> None:
    members = [_member(n, StakeholderCategory.ACADEMIA) for n in (1, 2)]
    count = MAJORITY.count(sitting=members, attending=members, recused={1, 2})
    assert (count.sitting, count.recused, count.met) == (0, 2, False)
    assert count.shortfalls()[0] == "the committee has no sitting members"
