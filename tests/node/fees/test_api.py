"""Fees (report §29): the schedule by stage, population band and income group, waivers and
reductions, invoices and payments, the submission gate and the report, with every refusal."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.node.applications.models import Application
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.cities.models import City
from sdgcities.node.countries import is_country_code
from sdgcities.node.fees import service

from ..conftest import Account, Backend, MakeAccount, MakeCity, MakeFramework
from ..review.factories import QUALIFICATION, ReviewWorld, make_world, ok


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


def _rate(
    client: TestClient,
    who: Account,
    *,
    group: str = "lower-middle",
    min_population: int = 0,
    amount: int = 100_000,
    currency: str = "USD",
    stage: str = "qualification",
) -> Any:
    body = {
        "stage": stage,
        "income_group": group,
        "min_population": min_population,
        "amount_minor": amount,
        "currency": currency,
    }
    return client.put("/fees/schedule/rates", headers=who.headers, json=body)


def _kenyan_schedule(client: TestClient, world: ReviewWorld) -> None:
    """Kenya is lower-middle income (FY2025): three bands, <100k, 100k-1M, >1M."""
    for min_population, amount in ((0, 20_000), (100_000, 50_000), (1_000_000, 120_000)):
        ok(_rate(client, world.secretariat, min_population=min_population, amount=amount))
    ok(_rate(client, world.secretariat, group="high", amount=900_000))


def _draft(client: TestClient, world: ReviewWorld, city: Account | None = None) -> int:
    """A qualification application with every criterion answered, not yet submitted."""
    city = city or world.nairobi
    body = {"stage": "qualification", "framework_version_id": world.framework_id}
    application_id = int(
        ok(client.post("/applications", headers=city.headers, json=body), 201)["id"]
    )
    for code in QUALIFICATION:
        ok(
            client.put(
                f"/applications/{application_id}/criteria/{code}",
                headers=city.headers,
                json={"narrative": f"How the city meets {code}."},
            )
        )
    return application_id


def _population(session: Session, locode: str, population: int | None) -> None:
    city = session.get(City, locode)
    assert city is not None
    city.population = population
    session.add(city)
    session.commit()


def _fee(client: TestClient, who: Account, application_id: int) -> Any:
    return ok(client.get(f"/applications/{application_id}/fee", headers=who.headers))


@pytest.mark.parametrize(
    ("population", "expected"),
    [(None, 20_000), (0, 20_000), (99_999, 20_000), (100_000, 50_000), (4_397_073, 120_000)],
)
def test_the_fee_follows_the_citys_population_band(
    client: TestClient,
    session: Session,
    world: ReviewWorld,
    population: int | None,
    expected: int,
) -> None:
    _kenyan_schedule(client, world)
    _population(session, "KE-NBO", population)
    application_id = _draft(client, world)
    fee = _fee(client, world.nairobi, application_id)
    assert fee["income_group"] == "lower-middle"
    assert (fee["standard_minor"], fee["due_minor"], fee["currency"]) == (expected, expected, "USD")
    assert fee["state"] == "due"


def test_the_fee_follows_the_countrys_income_group_as_the_secretariat_sets_it(
    client: TestClient, session: Session, world: ReviewWorld
) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    assert service.packaged_income_groups()["KE"] == "lower-middle"
    response = client.put(
        "/fees/income-groups/KE",
        headers=world.secretariat.headers,
        json={"income_group": "high", "reason": "World Bank FY2026 reclassification"},
    )
    assert ok(response)["groups"] == {"KE": "high"}
    fee = _fee(client, world.secretariat, application_id)
    assert (fee["income_group"], fee["due_minor"]) == ("high", 900_000)
    listed = ok(client.get("/fees/income-groups"))
    assert listed["groups"]["KE"] == "high"
    assert listed["changed"] == {"KE": "World Bank FY2026 reclassification"}
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "fees.income_group")).one()
    assert entry.detail == {
        "from": "lower-middle",
        "to": "high",
        "reason": "World Bank FY2026 reclassification",
    }


def test_no_rate_means_nothing_is_due(client: TestClient, world: ReviewWorld) -> None:
    application_id = _draft(client, world)
    fee = _fee(client, world.nairobi, application_id)
    assert (fee["state"], fee["currency"], fee["due_minor"]) == ("none", None, 0)


def test_a_waiver_and_a_reduction_with_their_reasons(
    client: TestClient, session: Session, world: ReviewWorld
) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    path = f"/applications/{application_id}/fee/decision"
    reduced = ok(
        client.put(
            path,
            headers=world.secretariat.headers,
            json={"kind": "reduced", "amount_minor": 5_000, "reason": "Budget cycle"},
        )
    )
    assert (reduced["standard_minor"], reduced["due_minor"], reduced["state"]) == (
        20_000,
        5_000,
        "due",
    )
    waived = ok(
        client.put(
            path, headers=world.secretariat.headers, json={"kind": "waived", "reason": "Flood"}
        )
    )
    assert (waived["due_minor"], waived["state"]) == (0, "waived")
    assert waived["decision"]["reason"] == "Flood"
    actions = session.exec(
        select(AuditEntry.action).where(col(AuditEntry.action).startswith("fees."))
    ).all()
    assert {"fees.reduced", "fees.waived"} <= set(actions)


def test_invoices_and_payments_settle_the_fee(client: TestClient, world: ReviewWorld) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    path = f"/applications/{application_id}/fee/records"
    invoice = {
        "kind": "invoice",
        "amount_minor": 20_000,
        "dated_on": "2026-11-02",
        "reference": "INV-7",
    }
    assert (
        ok(client.post(path, headers=world.secretariat.headers, json=invoice), 201)["state"]
        == "due"
    )
    part = {
        "kind": "payment",
        "amount_minor": 15_000,
        "dated_on": "2026-11-20",
        "reference": "TX 1",
    }
    fee = ok(client.post(path, headers=world.admin.headers, json=part), 201)
    assert (fee["paid_minor"], fee["state"]) == (15_000, "due")
    rest = {**part, "amount_minor": 5_000, "reference": "TX 2"}
    fee = ok(client.post(path, headers=world.secretariat.headers, json=rest), 201)
    assert (fee["paid_minor"], fee["state"]) == (20_000, "paid")
    assert [entry["reference"] for entry in fee["records"]] == ["INV-7", "TX 1", "TX 2"]
    assert {entry["currency"] for entry in fee["records"]} == {"USD"}
    # The city sees its own fee.
    assert _fee(client, world.nairobi, application_id)["state"] == "paid"


def test_the_submission_gate(
    client: TestClient,
    backend: Backend,
    world: ReviewWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _kenyan_schedule(client, world)
    unpaid = _draft(client, world)
    waived = _draft(client, world, world.mombasa)
    ok(
        client.put(
            f"/applications/{waived}/fee/decision",
            headers=world.secretariat.headers,
            json={"kind": "waived", "reason": "Lower-income city"},
        )
    )
    monkeypatch.setattr(backend.settings, "fees_required_before_submission", True)
    refused = client.post(f"/applications/{unpaid}/submit", headers=world.nairobi.headers)
    assert refused.status_code == 409
    assert "must be paid or waived before it is submitted" in refused.json()["detail"]
    assert "200.00 USD" in refused.json()["detail"]
    ok(client.post(f"/applications/{waived}/submit", headers=world.mombasa.headers))
    payment = {
        "kind": "payment",
        "amount_minor": 20_000,
        "dated_on": "2026-11-20",
        "reference": "TX",
    }
    ok(
        client.post(
            f"/applications/{unpaid}/fee/records", headers=world.admin.headers, json=payment
        ),
        201,
    )
    ok(client.post(f"/applications/{unpaid}/submit", headers=world.nairobi.headers))


def test_without_the_setting_an_unpaid_application_is_submitted(
    client: TestClient, backend: Backend, world: ReviewWorld
) -> None:
    assert backend.settings.fees_required_before_submission is False
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    assert (
        ok(client.post(f"/applications/{application_id}/submit", headers=world.nairobi.headers))[
            "state"
        ]
        == "submitted"
    )


def test_the_report_by_income_group(
    client: TestClient,
    session: Session,
    world: ReviewWorld,
) -> None:
    _kenyan_schedule(client, world)
    _population(session, "KE-MBA", 1_300_000)
    paid = _draft(client, world)
    waived = _draft(client, world, world.mombasa)
    ok(
        client.put(
            f"/applications/{waived}/fee/decision",
            headers=world.secretariat.headers,
            json={"kind": "waived", "reason": "Lower-income city"},
        )
    )
    payment = {
        "kind": "payment",
        "amount_minor": 12_000,
        "dated_on": "2026-11-20",
        "reference": "TX",
    }
    ok(
        client.post(f"/applications/{paid}/fee/records", headers=world.admin.headers, json=payment),
        201,
    )
    # A city of a high-income country, as the global node holds cities of every country.
    session.add(City(locode="FR-PAR", country="FR", name="Paris"))
    session.flush()
    session.add(
        Application(
            city_locode="FR-PAR", stage="qualification", framework_version_id=world.framework_id
        )
    )
    session.commit()
    report = ok(client.get("/fees/report", headers=world.secretariat.headers))["data"]
    assert report == [
        {
            "income_group": "lower-middle",
            "currency": "USD",
            "applications": 2,
            "charged_minor": 20_000,
            "waived_minor": 120_000,
            "paid_minor": 12_000,
        },
        {
            "income_group": "high",
            "currency": "USD",
            "applications": 1,
            "charged_minor": 900_000,
            "waived_minor": 0,
            "paid_minor": 0,
        },
    ]


# Refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": -1}, "greater than or equal to 0"),
        ({"amount": 10**15}, "less than or equal to"),
        ({"currency": "XYZ"}, "not an ISO 4217 currency code"),
        ({"currency": "usd"}, "not an ISO 4217 currency code"),
        ({"stage": "bronze"}, "the stage is one of"),
    ],
)
def test_a_bad_rate_is_refused(
    client: TestClient, world: ReviewWorld, change: dict[str, Any], message: str
) -> None:
    response = _rate(client, world.secretariat, **change)
    assert response.status_code == 422
    assert message in response.text
    assert ok(client.get("/fees/schedule"))["count"] == 0


def test_a_bad_decision_or_record_is_refused(client: TestClient, world: ReviewWorld) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    decision = f"/applications/{application_id}/fee/decision"
    records = f"/applications/{application_id}/fee/records"
    staff = world.secretariat.headers
    for body, status in (
        ({"kind": "waived", "reason": ""}, 422),
        ({"kind": "waived", "reason": "   "}, 422),
        ({"kind": "reduced", "reason": "Budget"}, 422),
        ({"kind": "reduced", "amount_minor": 20_000, "reason": "Not less"}, 422),
        ({"kind": "reduced", "amount_minor": -5, "reason": "Budget"}, 422),
    ):
        assert client.put(decision, headers=staff, json=body).status_code == status, body
    payment = {"kind": "payment", "amount_minor": 100, "dated_on": "2026-11-20", "reference": "TX"}
    for body in (
        {**payment, "amount_minor": -100},
        {**payment, "amount_minor": 1.5},
        {**payment, "reference": ""},
        {**payment, "reference": " "},
        {**payment, "dated_on": "yesterday"},
    ):
        assert client.post(records, headers=staff, json=body).status_code == 422, body
    assert _fee(client, world.secretariat, application_id)["records"] == []
    bad_group = client.put(
        "/fees/income-groups/KE", headers=staff, json={"income_group": "high", "reason": ""}
    )
    assert bad_group.status_code == 422
    unknown = client.put(
        "/fees/income-groups/QQ", headers=staff, json={"income_group": "high", "reason": "x"}
    )
    assert unknown.status_code == 422
    assert "ISO 3166-1" in unknown.text


def test_no_fee_no_decision(client: TestClient, world: ReviewWorld) -> None:
    application_id = _draft(client, world)
    response = client.put(
        f"/applications/{application_id}/fee/decision",
        headers=world.secretariat.headers,
        json={"kind": "waived", "reason": "x"},
    )
    assert response.status_code == 409


def test_who_may_change_fees(client: TestClient, world: ReviewWorld) -> None:
    _kenyan_schedule(client, world)
    application_id = _draft(client, world)
    writes = [
        (
            "PUT",
            "/fees/schedule/rates",
            {"stage": "qualification", "income_group": "low", "amount_minor": 1, "currency": "USD"},
        ),
        ("PUT", "/fees/income-groups/KE", {"income_group": "high", "reason": "x"}),
        ("PUT", f"/applications/{application_id}/fee/decision", {"kind": "waived", "reason": "x"}),
        (
            "POST",
            f"/applications/{application_id}/fee/records",
            {"kind": "payment", "amount_minor": 1, "dated_on": "2026-11-20", "reference": "x"},
        ),
        ("GET", "/fees/report", None),
    ]
    for method, path, body in writes:
        assert client.request(method, path, json=body).status_code == 401, path
        for outsider in (world.nairobi, world.lead, world.committee):
            response = client.request(method, path, headers=outsider.headers, json=body)
            assert response.status_code == 403, (path, outsider.role)
    # Another city does not see this one's fee.
    assert (
        client.get(f"/applications/{application_id}/fee", headers=world.mombasa.headers).status_code
        == 404
    )
    assert client.get(f"/applications/{application_id}/fee").status_code == 401


def test_removing_a_rate(client: TestClient, world: ReviewWorld) -> None:
    rate = ok(_rate(client, world.admin))
    response = client.delete(f"/fees/schedule/rates/{rate['id']}", headers=world.admin.headers)
    assert response.status_code == 204
    assert ok(client.get("/fees/schedule"))["count"] == 0
    missing = client.delete(f"/fees/schedule/rates/{rate['id']}", headers=world.admin.headers)
    assert missing.status_code == 404


def test_the_packaged_income_groups_name_their_source_and_real_countries(session: Session) -> None:
    document = json.loads(
        (resources.files("sdgcities.node.fees") / "data" / "income_groups.json").read_text()
    )
    assert "World Bank" in document["source"]
    assert document["date"] == "2024-07-01"
    assert all(is_country_code(country) for country in document["groups"])
    groups = service.packaged_income_groups()
    assert (groups["BI"], groups["KE"], groups["BR"], groups["FR"]) == (
        "low",
        "lower-middle",
        "upper-middle",
        "high",
    )
    # A country the World Bank does not classify is counted as low income, never as high.
    assert "VE" not in groups
    assert service.income_group_of(session=session, country="VE") == "low"
