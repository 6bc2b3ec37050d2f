"""The secretariat's and administrators' pages: the hub, the audit log and its search, the
people (invite, deactivate, reactivate) and assigning reviewers; refusals in the reader's
language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web import secretariat

from ..certification import Desk
from ..certification import desk as desk  # the fixture
from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world, submitted_application
from .conftest import SignIn, form_token


def _post(client: TestClient, page: str, action: str, **fields: str | list[str]) -> Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


def _world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


# Access -----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    for path in (
        "/en/secretariat",
        "/en/secretariat/audit",
        "/en/secretariat/people",
        "/en/secretariat/people/invite",
        "/en/secretariat/applications/1/reviewers",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/en/sign-in?next={path}"


def test_cities_and_reviewers_get_a_403_page(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    for outsider in (
        make_account(Role.CITY_APPLICANT, city_locode="KE-NBO"),
        make_account(Role.REVIEWER),
    ):
        sign_in(outsider)
        for path in ("/fr/secretariat", "/fr/secretariat/people/invite", "/fr/secretariat/audit"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert '<html lang="fr"' in response.text


def test_the_secretariat_invites_but_the_administrators_pages_are_closed_to_it(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    hub = client.get("/en/secretariat")
    assert hub.status_code == 200
    assert "/en/secretariat/people/invite" in hub.text
    assert "/en/secretariat/audit" not in hub.text
    for path in ("/en/secretariat/audit", "/en/secretariat/people"):
        assert client.get(path).status_code == 403, path
    invite = client.get("/en/secretariat/people/invite")
    assert 'value="administrator"' not in invite.text


# The audit log ----------------------------------------------------------------------------------


def test_the_audit_log_is_searched_by_person_action_and_days(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    admin = make_account(Role.ADMINISTRATOR, email="chief@example.org", name="Amina Chief")
    sign_in(admin)
    reviewer = make_account(Role.REVIEWER)
    deactivated = _post(
        client,
        "/en/secretariat/people",
        f"/en/secretariat/people/{reviewer.user_id}/active",
        active="false",
    )
    assert deactivated.status_code == 303
    everything = client.get("/en/secretariat/audit")
    assert everything.status_code == 200
    assert "user.update" in everything.text
    assert "user.create" in everything.text
    mine = client.get("/en/secretariat/audit", params={"actor": "chief@example.org"})
    assert "user.update" in mine.text
    assert "Amina Chief" in mine.text
    assert "Entries found: 1<" in mine.text
    by_number = client.get("/en/secretariat/audit", params={"actor": str(admin.user_id)})
    assert "Entries found: 1<" in by_number.text
    created = client.get("/en/secretariat/audit", params={"action": "user.create"})
    assert "<code>user.update</code>" not in created.text
    assert "<code>user.create</code>" in created.text
    today = utcnow().date()
    in_range = client.get(
        "/en/secretariat/audit",
        params={"action": "user.update", "from": today.isoformat(), "to": today.isoformat()},
    )
    assert "Entries found: 1<" in in_range.text
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = client.get("/en/secretariat/audit", params={"action": "user.update", "from": tomorrow})
    assert "Entries found: 0<" in later.text


def test_the_audit_search_shows_its_errors_next_to_the_fields(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    wrong = client.get(
        "/en/secretariat/audit",
        params={"actor": "nobody@example.org", "from": "31/01/2026", "to": ""},
    )
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    assert 'href="#actor"' in wrong.text
    assert 'id="actor-error"' in wrong.text
    assert 'id="from-error"' in wrong.text
    reversed_days = client.get(
        "/en/secretariat/audit", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert reversed_days.status_code == 400
    assert "The end date is before the start date" in reversed_days.text
    too_long = client.get("/en/secretariat/audit", params={"action": "x" * 201})
    assert too_long.status_code == 400
    assert 'id="action-error"' in too_long.text


def test_the_audit_log_is_paged(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    for _ in range(51):
        make_account(Role.REVIEWER)
    sign_in(make_account(Role.ADMINISTRATOR))
    first = client.get("/en/secretariat/audit", params={"action": "user.create"})
    assert "Entries found: 52<" in first.text
    assert "page=2" in first.text
    assert "Page 1 of 2" in first.text
    second = client.get("/en/secretariat/audit", params={"action": "user.create", "page": "2"})
    assert "Page 2 of 2" in second.text
    assert "action=user.create&amp;page=1" in second.text
    plus = client.get("/en/secretariat/audit", params={"action": "a&b c"})
    assert "action=a%26b+c" in plus.text
    assert second.text.count("<code>user.create</code>") == 2


# People -----------------------------------------------------------------------------------------


def test_an_administrator_deactivates_and_reactivates_an_account(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount, session: Session
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    reviewer = make_account(Role.REVIEWER, name="Juan Pérez")
    page = client.get("/en/secretariat/people")
    assert "Juan Pérez" in page.text
    assert "Deactivate Juan Pérez" in page.text
    action = f"/en/secretariat/people/{reviewer.user_id}/active"
    off = _post(client, "/en/secretariat/people", action, active="false")
    assert off.headers["location"] == "/en/secretariat/people?done=deactivated"
    after = client.get(off.headers["location"])
    assert "The account is deactivated." in after.text
    assert "Reactivate Juan Pérez" in after.text
    on = _post(client, "/en/secretariat/people", action, active="true")
    assert on.headers["location"] == "/en/secretariat/people?done=reactivated"
    user = session.get(User, reviewer.user_id)
    assert user is not None
    session.refresh(user)
    assert user.active


def test_the_last_administrator_cannot_be_deactivated(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    admin = make_account(Role.ADMINISTRATOR)
    sign_in(admin)
    refused = _post(
        client,
        "/fr/secretariat/people",
        f"/fr/secretariat/people/{admin.user_id}/active",
        active="false",
    )
    assert refused.status_code == 409
    assert '<html lang="fr"' in refused.text
    missing = _post(
        client, "/en/secretariat/people", "/en/secretariat/people/999999/active", active="false"
    )
    assert missing.status_code == 404


def test_a_form_without_its_token_is_refused(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    admin = make_account(Role.ADMINISTRATOR)
    sign_in(admin)
    refused = client.post(
        f"/en/secretariat/people/{admin.user_id}/active",
        data={"active": "false"},
        follow_redirects=False,
    )
    assert refused.status_code == 403


def _outbox(session: Session, to: str) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == to)
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def test_the_secretariat_invites_a_person_in_their_language(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount, session: Session
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = "/en/secretariat/people/invite"
    sent = _post(
        client,
        page,
        page,
        name="Wanjiru Kamau",
        email="wanjiru@example.org",
        role="reviewer",
        city_locode="",
        language="fr",
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{page}?done=invited"
    assert "The invitation is sent" in client.get(sent.headers["location"]).text
    [mail] = _outbox(session, "wanjiru@example.org")
    assert mail.subject.startswith("Votre compte")
    again = _post(
        client,
        page,
        page,
        name="Wanjiru Kamau",
        email="wanjiru@example.org",
        role="reviewer",
        language="en",
    )
    assert again.status_code == 409


def test_an_invitation_with_mistakes_shows_each_next_to_its_field(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = "/en/secretariat/people/invite"
    wrong = _post(client, page, page, name="", email="not-an-email", role="king", language="xx")
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    for field in ("name", "email", "role", "language"):
        assert f'id="{field}-error"' in wrong.text, field
        assert f'href="#{field}"' in wrong.text, field
    no_city = _post(
        client, page, page, name="A", email="a@example.org", role="city_applicant", language="en"
    )
    assert no_city.status_code == 400
    assert 'id="city_locode-error"' in no_city.text
    bad_city = _post(
        client,
        page,
        page,
        name="A",
        email="a@example.org",
        role="city_applicant",
        city_locode="Nairobi",
        language="en",
    )
    assert bad_city.status_code == 400
    assert 'id="city_locode-error"' in bad_city.text
    city_for_a_reviewer = _post(
        client,
        page,
        page,
        name="A",
        email="a@example.org",
        role="reviewer",
        city_locode="KE-NBO",
        language="en",
    )
    assert city_for_a_reviewer.status_code == 400
    assert "Only a city applicant" in city_for_a_reviewer.text
    no_category = _post(
        client,
        page,
        page,
        name="A",
        email="a@example.org",
        role="committee_member",
        language="en",
    )
    assert no_category.status_code == 400
    assert 'id="stakeholder_category-error"' in no_category.text
    member = _post(
        client,
        page,
        page,
        name="A",
        email="a@example.org",
        role="committee_member",
        stakeholder_category="civil_society",
        language="en",
    )
    assert member.status_code == 303


def test_the_secretariat_cannot_invite_an_administrator(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = "/en/secretariat/people/invite"
    refused = _post(
        client, page, page, name="A", email="boss@example.org", role="administrator", language="en"
    )
    assert refused.status_code == 403


# Assigning reviewers ----------------------------------------------------------------------------


def test_an_administrator_assigns_the_reviewers_of_a_submitted_application(
    client: TestClient,
    sign_in: SignIn,
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
) -> None:
    world = _world(make_city, make_account, make_framework)
    application_id = submitted_application(client, world)
    sign_in(world.admin)
    hub = client.get("/en/secretariat")
    page = f"/en/secretariat/applications/{application_id}/reviewers"
    assert page in hub.text
    form = client.get(page)
    assert form.status_code == 200
    lead, second = world.reviewers[0].user_id, world.reviewers[1].user_id
    assert f'id="reviewer-{lead}"' in form.text
    assigned = _post(client, page, page, reviewer=[str(lead), str(second)], lead=str(lead))
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"{page}?done=assigned"
    after = client.get(assigned.headers["location"])
    assert "The reviewers are assigned" in after.text
    assert 'id="assigned-reviewers"' in after.text
    assert 'id="assign-form"' not in after.text
    token = form_token(after.text)
    again = client.post(
        page,
        data={"csrf_token": token, "reviewer": [str(lead), str(second)], "lead": str(lead)},
        follow_redirects=False,
    )
    assert again.status_code == 409


def test_assigning_reviewers_shows_its_errors(
    client: TestClient,
    sign_in: SignIn,
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
) -> None:
    world = _world(make_city, make_account, make_framework)
    application_id = submitted_application(client, world)
    sign_in(world.admin)
    page = f"/en/secretariat/applications/{application_id}/reviewers"
    lead, second = world.reviewers[0].user_id, world.reviewers[1].user_id
    none = _post(client, page, page)
    assert none.status_code == 400
    assert 'id="reviewers-error"' in none.text
    assert 'href="#reviewers"' in none.text
    no_lead = _post(client, page, page, reviewer=[str(lead), str(second)])
    assert no_lead.status_code == 400
    assert 'id="lead-error"' in no_lead.text
    assert f'id="reviewer-{lead}" checked' in no_lead.text
    too_few = _post(client, page, page, reviewer=[str(lead)], lead=str(lead))
    assert too_few.status_code == 422
    assert 'lang="en"' in too_few.text
    assert client.get("/en/secretariat/applications/999999/reviewers").status_code == 404


# Languages --------------------------------------------------------------------------------------


def test_the_pages_read_in_arabic_and_chinese(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    for code, heading in (("ar", "سجل المراجعة"), ("zh", "审计日志")):
        page = client.get(f"/{code}/secretariat/audit")
        assert page.status_code == 200
        assert f'<html lang="{code}"' in page.text
        assert heading in page.text
        assert client.get(f"/{code}/secretariat").status_code == 200
        assert client.get(f"/{code}/secretariat/people").status_code == 200
        assert client.get(f"/{code}/secretariat/people/invite").status_code == 200
    assert 'dir="rtl"' in client.get("/ar/secretariat/people").text


# Meetings ---------------------------------------------------------------------------------------


def test_the_secretariat_schedules_opens_and_closes_a_meeting(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = "/en/secretariat/meetings"
    day = (utcnow().date() + timedelta(days=30)).isoformat()
    scheduled = _post(client, page, page, title="Spring session", day=day, time="14:30")
    assert scheduled.status_code == 303
    assert scheduled.headers["location"] == f"{page}?done=scheduled"
    listed = client.get(scheduled.headers["location"])
    assert "The meeting is scheduled." in listed.text
    assert "Spring session" in listed.text
    assert "14:30 UTC" in listed.text
    meeting_id = int(listed.text.split('id="open-')[1].split('"')[0])
    agenda = _post(client, page, f"{page}/{meeting_id}/agenda")
    assert agenda.headers["location"] == f"{page}?done=agenda"
    opened = _post(client, page, f"{page}/{meeting_id}/open")
    assert opened.headers["location"] == f"{page}?done=open"
    assert f'id="close-{meeting_id}"' in client.get(page).text
    again = _post(client, page, f"{page}/{meeting_id}/open")
    assert again.status_code == 409
    assert '<html lang="en"' in again.text
    closed = _post(client, page, f"{page}/{meeting_id}/close")
    assert closed.headers["location"] == f"{page}?done=close"
    assert "Spring session" not in client.get(page).text
    assert _post(client, page, f"{page}/999999/open").status_code == 404
    assert _post(client, page, f"{page}/{meeting_id}/dance").status_code == 400


def test_scheduling_a_meeting_shows_its_errors(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = "/en/secretariat/meetings"
    wrong = _post(client, page, page, title="", day="tomorrow", time="noon")
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    for field in ("title", "day", "time"):
        assert f'id="{field}-error"' in wrong.text, field
    past = (utcnow().date() - timedelta(days=2)).isoformat()
    in_the_past = _post(client, page, page, title="Late", day=past, time="09:00")
    assert in_the_past.status_code == 400
    assert 'id="day-error"' in in_the_past.text
    assert 'id="title-error"' not in in_the_past.text


def test_reviewers_cannot_schedule_meetings(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.COMMITTEE_MEMBER, stakeholder_category="civil_society"))
    assert client.get("/en/secretariat/meetings").status_code == 403


# Certificates -----------------------------------------------------------------------------------


def test_the_secretariat_proposes_a_suspension(desk: Desk, sign_in: SignIn) -> None:
    certificate_id = desk.award()["id"]
    sign_in(desk.secretariat)
    listing = desk.client.get("/en/secretariat/certificates")
    assert listing.status_code == 200
    page = f"/en/secretariat/certificates/{certificate_id}/propose"
    assert page in listing.text
    form = desk.client.get(page)
    assert 'id="propose-form"' in form.text
    proposed = _post(desk.client, page, page, kind="suspension", reason="Spot-check found gaps")
    assert proposed.status_code == 303
    assert proposed.headers["location"] == "/en/secretariat/certificates?done=proposed"
    assert "The proposal is recorded" in desk.client.get(proposed.headers["location"]).text
    twice = _post(desk.client, page, page, kind="suspension", reason="Again")
    assert twice.status_code == 409
    assert '<html lang="en"' in twice.text
    not_suspended = _post(desk.client, page, page, kind="reinstatement", reason="Why not")
    assert not_suspended.status_code == 409


def test_a_proposal_with_mistakes_shows_each_next_to_its_field(desk: Desk, sign_in: SignIn) -> None:
    certificate_id = desk.award()["id"]
    sign_in(desk.admin)
    page = f"/en/secretariat/certificates/{certificate_id}/propose"
    wrong = _post(desk.client, page, page, kind="abolition", reason="")
    assert wrong.status_code == 400
    assert 'id="kind-error"' in wrong.text
    assert 'id="reason-error"' in wrong.text
    assert 'href="#kind"' in wrong.text
    assert 'href="#reason"' in wrong.text
    too_long = _post(desk.client, page, page, kind="revocation", reason="x" * 2001)
    assert too_long.status_code == 400
    assert 'id="reason-error"' in too_long.text
    assert desk.client.get("/en/secretariat/certificates/nothing-here/propose").status_code == 404


def test_certificates_expiring_soon_are_listed(
    desk: Desk, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.award()
    sign_in(desk.secretariat)
    assert 'id="expiring-certificates"' not in desk.client.get("/en/secretariat/certificates").text
    # A certificate is never altered: the window widens instead of the validity shrinking.
    monkeypatch.setattr(secretariat, "EXPIRING_WITHIN", timedelta(days=365 * 20))
    page = desk.client.get("/zh/secretariat/certificates")
    assert 'id="expiring-certificates"' in page.text
    assert '<html lang="zh"' in page.text


# Cities -----------------------------------------------------------------------------------------


def test_an_administrator_registers_a_city(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = "/en/secretariat/cities"
    added = _post(
        client,
        page,
        page,
        locode="ke-ksm",
        name="Kisumu",
        region="Nyanza",
        population="610,082",
        languages="en, sw",
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{page}?done=added"
    listed = client.get(added.headers["location"])
    assert "The city is registered." in listed.text
    assert "Kisumu" in listed.text
    assert "610,082" in listed.text
    assert "Kisumu" in client.get(page, params={"q": "kis"}).text
    assert "Kisumu" not in client.get(page, params={"q": "mombasa"}).text
    twice = _post(client, page, page, locode="KE-KSM", name="Kisumu")
    assert twice.status_code == 409
    abroad = _post(client, page, page, locode="FR-PAR", name="Paris")
    assert abroad.status_code == 422
    assert '<html lang="en"' in abroad.text


def test_registering_a_city_shows_its_errors(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = "/en/secretariat/cities"
    wrong = _post(
        client, page, page, locode="Kisumu", name="", population="many", languages="english!"
    )
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    for field in ("locode", "name", "population", "languages"):
        assert f'id="{field}-error"' in wrong.text, field


def test_the_secretariat_reads_the_cities_but_does_not_register_them(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    sign_in(make_account(Role.SECRETARIAT))
    page = client.get("/ar/secretariat/cities")
    assert page.status_code == 200
    assert "Nairobi" in page.text
    assert 'id="city-form"' not in page.text
    refused = client.post(
        "/ar/secretariat/cities",
        data={"csrf_token": form_token(page.text), "locode": "KE-KSM", "name": "Kisumu"},
    )
    assert refused.status_code == 403


# The catalogue ----------------------------------------------------------------------------------


def test_an_administrator_adds_an_entry_to_the_catalogue(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = "/en/secretariat/catalogue"
    added = _post(
        client,
        page,
        page,
        kind="training",
        title="Participatory budgeting course",
        summary="A six-week course for city officials.",
        link="https://example.org/course",
        criteria="",
        themes="participation, budgets",
        languages="en, sw",
        provider="Example Academy",
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{page}?done=added"
    listed = client.get(added.headers["location"])
    assert "The entry is added to the catalogue." in listed.text
    assert "Participatory budgeting course" in listed.text
    found = client.get(page, params={"q": "budgeting"})
    assert "Participatory budgeting course" in found.text


def test_adding_an_entry_shows_its_errors(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = "/en/secretariat/catalogue"
    wrong = _post(
        client,
        page,
        page,
        kind="poem",
        title="",
        summary="",
        link="ftp://example.org",
        criteria="not a code",
        languages="english!",
    )
    assert wrong.status_code == 400
    assert 'class="error-summary"' in wrong.text
    for field in ("kind", "title", "summary", "link", "criteria", "languages"):
        assert f'id="{field}-error"' in wrong.text, field


def test_the_secretariat_reads_the_catalogue_but_does_not_add_to_it(
    client: TestClient, sign_in: SignIn, make_account: MakeAccount
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = client.get("/zh/secretariat/catalogue")
    assert page.status_code == 200
    assert 'id="tool-form"' not in page.text
    refused = client.post(
        "/zh/secretariat/catalogue",
        data={"csrf_token": form_token(page.text), "kind": "tool", "title": "X"},
    )
    assert refused.status_code == 403
