"""The fee pages: the secretariat's schedule, income groups, an application's fee and the
report; the city's application page shows its fee. Refusals: anonymous, wrong role, no CSRF
token, bad input kept in the form."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.fees.models import CountryIncomeGroup, FeeRate, FeeRecord

from ..conftest import Backend, MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world, ok
from ..web.conftest import SignIn, form_token
from ..web.conftest import sign_in as sign_in  # the fixture
from .test_api import _draft, _kenyan_schedule

BASE = "/en/secretariat/fees"


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


def _post(client: TestClient, page: str, action: str, **fields: str) -> Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


def test_the_secretariat_sets_a_fee(
    client: TestClient, session: Session, sign_in: SignIn, world: ReviewWorld
) -> None:
    sign_in(world.secretariat)
    assert "The schedule is empty" in client.get(BASE).text
    done = _post(
        client,
        BASE,
        f"{BASE}/rates",
        stage="qualification",
        income_group="lower-middle",
        min_population="100000",
        amount="1250.50",
        currency="usd",
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{BASE}?done=rate")
    rate = session.exec(select(FeeRate)).one()
    assert (rate.min_population, rate.amount_minor, rate.currency) == (100_000, 125_050, "USD")
    page = client.get(done.headers["location"]).text
    assert "$1,250.50" in page
    assert "The fee is set." in page
    removed = _post(client, BASE, f"{BASE}/rates/{rate.id}/remove")
    assert removed.status_code == 303
    assert session.exec(select(FeeRate)).all() == []


def test_a_bad_fee_is_shown_back_with_its_errors(
    client: TestClient, session: Session, sign_in: SignIn, world: ReviewWorld
) -> None:
    sign_in(world.admin)
    refused = _post(
        client,
        BASE,
        f"{BASE}/rates",
        stage="bronze",
        income_group="rich",
        min_population="-3",
        amount="-1",
        currency="XYZ",
    )
    assert refused.status_code == 400
    for message in (
        "Choose a stage",
        "Choose an income group",
        "Enter a whole number of inhabitants",
        "Enter an ISO 4217 currency code",
    ):
        assert message in refused.text
    negative = _post(
        client,
        BASE,
        f"{BASE}/rates",
        stage="impact",
        income_group="low",
        amount="-1",
        currency="EUR",
    )
    assert negative.status_code == 400
    assert "Enter an amount of 0 or more" in negative.text
    assert 'value="EUR"' in negative.text
    # "200,00" is 200.00 in French and 20000 in English: refused, not guessed.
    for ambiguous in ("200,00", "1,250.50", "12.345", "1e3", "NaN"):
        refused = _post(
            client,
            BASE,
            f"{BASE}/rates",
            stage="impact",
            income_group="low",
            amount=ambiguous,
            currency="USD",
        )
        assert "Enter an amount of 0 or more" in refused.text, ambiguous
    assert session.exec(select(FeeRate)).all() == []


def test_the_secretariat_changes_a_countrys_income_group(
    client: TestClient, session: Session, sign_in: SignIn, world: ReviewWorld
) -> None:
    sign_in(world.secretariat)
    page = f"{BASE}/income-groups"
    missing = _post(client, page, page, country="KE", income_group="low", reason="")
    assert missing.status_code == 400
    assert "Give the reason" in missing.text
    unknown = _post(client, page, page, country="QQ", income_group="low", reason="x")
    assert "Enter an ISO 3166-1 country code" in unknown.text
    done = _post(client, page, page, country="ke", income_group="low", reason="Drought year")
    assert done.status_code == 303
    row = session.get(CountryIncomeGroup, "KE")
    assert row is not None
    assert (row.income_group, row.reason) == ("low", "Drought year")
    assert "Drought year" in client.get(done.headers["location"]).text


def test_an_applications_fee_waived_and_paid_and_seen_by_the_city(
    client: TestClient, session: Session, sign_in: SignIn, world: ReviewWorld
) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    page = f"{BASE}/applications/{application_id}"
    sign_in(world.secretariat)
    assert "To be paid" in client.get(page).text
    no_reason = _post(client, page, f"{page}/decision", kind="reduced", amount="50.00", reason="")
    assert no_reason.status_code == 400
    assert "Give the reason" in no_reason.text
    reduced = _post(
        client, page, f"{page}/decision", kind="reduced", amount="50.00", reason="Small budget"
    )
    assert reduced.status_code == 303
    bad_record = _post(
        client,
        page,
        f"{page}/records",
        record_kind="payment",
        record_amount="-5",
        dated_on="soon",
        reference="",
    )
    assert bad_record.status_code == 400
    for message in ("Enter an amount of 0 or more", "Enter a date like", "Give the reference"):
        assert message in bad_record.text
    paid = _post(
        client,
        page,
        f"{page}/records",
        record_kind="payment",
        record_amount="50.00",
        dated_on="2026-11-20",
        reference="MPESA 42",
    )
    assert paid.status_code == 303
    assert session.exec(select(FeeRecord)).one().amount_minor == 5_000
    html = client.get(paid.headers["location"]).text
    assert "Paid" in html
    assert "MPESA 42" in html
    report = client.get(f"{BASE}/report").text
    assert "Lower-middle income (USD)" in report
    assert "$150.00" in report  # waived: 200.00 less 50.00
    actions = set(session.exec(select(AuditEntry.action)).all())
    assert {"fees.reduced", "fees.payment"} <= actions
    client.cookies.clear()
    sign_in(world.nairobi)
    city_page = client.get(f"/en/city/applications/{application_id}").text
    assert 'id="fee-state">Paid' in city_page
    assert "$50.00" in city_page


def test_the_city_page_refuses_an_unpaid_submission_when_fees_are_required(
    client: TestClient,
    backend: Backend,
    sign_in: SignIn,
    world: ReviewWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    monkeypatch.setattr(backend.settings, "fees_required_before_submission", True)
    sign_in(world.nairobi)
    page = f"/en/city/applications/{application_id}"
    refused = _post(client, page, f"{page}/submit")
    assert refused.status_code == 409
    assert "must be paid or waived" in refused.text
    assert (
        ok(client.get(f"/applications/{application_id}", headers=world.nairobi.headers))["state"]
        == "draft"
    )


def test_who_may_open_the_fee_pages(
    client: TestClient, sign_in: SignIn, world: ReviewWorld
) -> None:
    application_id = _draft(client, world)
    pages = (
        BASE,
        f"{BASE}/income-groups",
        f"{BASE}/report",
        f"{BASE}/applications/{application_id}",
    )
    for path in pages:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/en/sign-in?next={path}"
    sign_in(world.nairobi)
    for path in pages:
        assert client.get(path).status_code == 403, path
    client.cookies.clear()
    sign_in(world.secretariat)
    for path in pages:
        assert client.get(path).status_code == 200, path
    without_token = client.post(
        f"{BASE}/income-groups",
        data={"country": "KE", "income_group": "low", "reason": "x"},
        follow_redirects=False,
    )
    assert without_token.status_code == 403
