"""§26b, §28: the global committee sits about four times a year and rotates; the secretariat
plans the year's meetings at once and sees who rotates off and on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, StakeholderCategory
from sdgcities.node.actor import SYSTEM
from sdgcities.node.committee.planning import plan_dates, plan_year
from sdgcities.node.errors import InvalidRequest

from ..conftest import Account, Backend, MakeAccount, MakeCity


def _plan(client: TestClient, caller: Account, year: int) -> tuple[int, dict]:
    planned = client.post("/committee/meetings/plan", headers=caller.headers, json={"year": year})
    return planned.status_code, planned.json()


def test_a_year_is_planned_as_four_quarterly_meetings(
    client: TestClient, secretariat: Account
) -> None:
    year = date.today().year + 1
    status, plan = _plan(client, secretariat, year)
    assert status == 201, plan
    assert (plan["year"], plan["per_year"], plan["count"], plan["skipped"]) == (year, 4, 4, [])
    assert [(m["title"], m["scheduled_for"], m["status"]) for m in plan["data"]] == [
        (f"Committee meeting, {year} Q{n}", f"{year}-{month:02d}-15T12:00:00Z", "scheduled")
        for n, month in enumerate((2, 5, 8, 11), start=1)
    ]
    listed = client.get("/committee/meetings", headers=secretariat.headers).json()
    assert {m["id"] for m in plan["data"]} <= {m["id"] for m in listed["data"]}


def test_a_year_is_planned_once(client: TestClient, secretariat: Account) -> None:
    year = date.today().year + 2
    status, first = _plan(client, secretariat, year)
    assert status == 201
    status, again = _plan(client, secretariat, year)
    assert status == 409
    ids = ", ".join(str(m["id"]) for m in first["data"])
    assert again["detail"] == (
        f"{year} is already planned (meetings {ids}): schedule an extra meeting with "
        "POST /committee/meetings"
    )
    # An extra meeting of that year is still scheduled on its own.
    extra = client.post(
        "/committee/meetings",
        headers=secretariat.headers,
        json={"title": "Extraordinary meeting", "scheduled_for": f"{year}-03-01T09:00:00Z"},
    )
    assert extra.status_code == 201, extra.text


def test_past_years_and_years_out_of_range_are_refused(
    client: TestClient, secretariat: Account
) -> None:
    last_year = date.today().year - 1
    status, refused = _plan(client, secretariat, last_year)
    assert status == 422
    assert refused["detail"] == f"{last_year} has passed: plan {last_year + 1} or a later year"
    for year in (1999, 2101):
        status, refused = _plan(client, secretariat, year)
        assert status == 422
        assert refused["errors"][0]["loc"] == ["body", "year"]


def test_this_years_plan_skips_the_dates_already_past(session: Session, backend: Backend) -> None:
    now = datetime(2031, 6, 1, tzinfo=UTC)
    plan = plan_year(session=session, year=2031, settings=backend.settings, actor=SYSTEM, now=now)
    assert plan.skipped == [
        datetime(2031, 2, 15, 12, tzinfo=UTC),
        datetime(2031, 5, 15, 12, tzinfo=UTC),
    ]
    assert [(m.plan_slot, m.scheduled_for.month) for m in plan.meetings] == [(3, 8), (4, 11)]
    late = datetime(2032, 12, 1, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="every meeting of a plan for 2032 would be past"):
        plan_year(session=session, year=2032, settings=backend.settings, actor=SYSTEM, now=late)


def test_the_number_of_meetings_a_year_is_configurable(
    client: TestClient, secretariat: Account, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "committee_meetings_per_year", 6)
    year = date.today().year + 3
    status, plan = _plan(client, secretariat, year)
    assert status == 201, plan
    assert plan["per_year"] == 6
    assert [m["scheduled_for"][5:7] for m in plan["data"]] == ["01", "03", "05", "07", "09", "11"]
    assert plan["data"][0]["title"] == f"Committee meeting 1 of 6, {year}"


@pytest.mark.parametrize(
    ("per_year", "months"),
    [(1, [6]), (2, [3, 9]), (3, [2, 6, 10]), (4, [2, 5, 8, 11]), (12, list(range(1, 13)))],
)
def test_the_plans_meetings_sit_in_the_middle_of_each_part_of_the_year(
    per_year: int, months: list[int]
) -> None:
    assert [moment.month for moment in plan_dates(year=2030, per_year=per_year)] == months


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.REVIEWER, Role.CITY_APPLICANT])
def test_only_the_secretariat_and_administrators_plan(
    client: TestClient, make_account: MakeAccount, make_city: MakeCity, role: Role
) -> None:
    city = make_city("BO-LPB", "La Paz") if role is Role.CITY_APPLICANT else None
    caller = make_account(role, city_locode=city)
    status, refused = _plan(client, caller, date.today().year + 4)
    assert status == 403
    assert refused["code"] == "forbidden"


def test_the_members_list_shows_who_rotates_off_and_on_in_the_coming_quarter(
    client: TestClient, secretariat: Account, make_account: MakeAccount
) -> None:
    today = date.today()

    def member(category: StakeholderCategory, start: int, end: int) -> Account:
        return make_account(
            Role.COMMITTEE_MEMBER,
            stakeholder_category=category,
            term_start=today + timedelta(days=start),
            term_end=today + timedelta(days=end),
        )

    staying = member(StakeholderCategory.GOVERNMENT, -400, 400)
    leaving = member(StakeholderCategory.CIVIL_SOCIETY, -700, 30)
    joining = member(StakeholderCategory.ACADEMIA, 60, 800)
    later = member(StakeholderCategory.CIVIL_SOCIETY, 200, 900)
    member(StakeholderCategory.ACADEMIA, -900, -10)  # already past

    listed = client.get("/committee/members", headers=secretariat.headers)
    assert listed.status_code == 200, listed.text
    rotation = listed.json()["rotation"]
    assert rotation["until"] == (today + timedelta(days=91)).isoformat()
    assert [m["id"] for m in rotation["leaving"]] == [leaving.user_id]
    assert [m["id"] for m in rotation["joining"]] == [joining.user_id]
    assert (rotation["sitting_then"], rotation["non_government_sitting_then"]) == (2, 1)
    assert listed.json()["sitting"] == 2

    year = client.get("/committee/members?within_days=366", headers=secretariat.headers).json()
    assert {m["id"] for m in year["rotation"]["joining"]} == {joining.user_id, later.user_id}
    assert [m["id"] for m in year["rotation"]["leaving"]] == [leaving.user_id]
    assert staying.user_id not in {m["id"] for m in year["rotation"]["leaving"]}
    for within in (0, 367):
        refused = client.get(
            f"/committee/members?within_days={within}", headers=secretariat.headers
        )
        assert refused.status_code == 422
