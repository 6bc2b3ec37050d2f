"""Fees that do not exclude cities in lower-income countries (report §29).

    "Cities may also be required to contribute to costs, through fee structures that do not
    exclude cities in lower-income countries." (§29)

An application's fee is read from the node's schedule (on the global node, the global
schedule): the rate of its stage, of its city's income group (the country's World Bank group:
the packaged FY2025 list, `data/income_groups.json`, unless the secretariat has set another
with a reason) and of the highest population band whose lower bound the city reaches. A city
whose population is not known is in the lowest band, and a country the World Bank does not
classify is in the low-income group: neither lack of data makes a city pay more. The
secretariat waives or reduces a fee with a reason and records invoices and payments; every
change is in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

from babel.numbers import get_currency_precision, list_currencies
from sqlmodel import Session, col, select

from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.cities.models import City
from sdgcities.node.countries import is_country_code
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.frameworks import STAGE_ORDER
from sdgcities.node.timeutil import utcnow

from .models import (
    MAX_AMOUNT_MINOR,
    MAX_REASON_CHARS,
    MAX_REFERENCE_CHARS,
    CountryIncomeGroup,
    FeeDecision,
    FeeDecisionKind,
    FeeRate,
    FeeRecord,
    FeeRecordKind,
    IncomeGroup,
)

UNCLASSIFIED_GROUP: Final = IncomeGroup.LOW
# Applications the secretariat never asks to pay: closed before anyone looked at them.
NOT_CHARGED: Final = frozenset({ApplicationState.WITHDRAWN})


class FeeState(StrEnum):
    NONE = "none"  # no rate of the schedule applies: nothing is due
    WAIVED = "waived"
    PAID = "paid"
    DUE = "due"


@dataclass(frozen=True)
class Fee:
    """What an application owes and has paid, in the currency's minor units."""

    application_id: int
    stage: str
    income_group: IncomeGroup
    population: int | None
    band_min_population: int | None
    standard_minor: int  # the schedule's amount
    due_minor: int  # after a waiver or reduction
    paid_minor: int
    currency: str | None
    decision: FeeDecision | None
    records: list[FeeRecord] = field(default_factory=list)

    @property
    def state(self) -> FeeState:
        if self.currency is None:
            return FeeState.NONE
        if self.decision is not None and self.decision.kind is FeeDecisionKind.WAIVED:
            return FeeState.WAIVED
        return FeeState.PAID if self.paid_minor >= self.due_minor else FeeState.DUE

    @property
    def settled(self) -> bool:
        return self.state != FeeState.DUE


# Money --------------------------------------------------------------------------------------------


def check_currency(code: str) -> str:
    if len(code) != 3 or code not in list_currencies():
        raise InvalidRequest(f"{code[:8]!r} is not an ISO 4217 currency code")
    return code


def check_amount(amount_minor: int) -> int:
    if not 0 <= amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidRequest(f"an amount is between 0 and {MAX_AMOUNT_MINOR} minor units")
    return amount_minor


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidRequest("give the reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidRequest(f"a reason has at most {MAX_REASON_CHARS} characters")
    return reason


def in_major_units(amount_minor: int, currency: str) -> Decimal:
    """1050 USD cents as Decimal("10.50"): exact, for display and for reading forms back."""
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidRequest(f"{currency} has {get_currency_precision(currency)} decimal places")
    return int(scaled)


# Income groups ------------------------------------------------------------------------------------


@cache
def packaged_income_groups() -> dict[str, IncomeGroup]:
    text = (resources.files(__package__ or __name__) / "data" / "income_groups.json").read_text()
    return {country: IncomeGroup(group) for country, group in json.loads(text)["groups"].items()}


def income_groups(*, session: Session) -> dict[str, IncomeGroup]:
    """Every classified country's group: the packaged list with the secretariat's changes."""
    groups = dict(packaged_income_groups())
    for row in session.exec(select(CountryIncomeGroup)):
        groups[row.country] = row.income_group
    return groups


def changed_income_groups(*, session: Session) -> list[CountryIncomeGroup]:
    """The secretariat's changes to the packaged list, with their reasons."""
    return list(session.exec(select(CountryIncomeGroup).order_by(col(CountryIncomeGroup.country))))


def income_group_of(*, session: Session, country: str) -> IncomeGroup:
    row = session.get(CountryIncomeGroup, country)
    if row is not None:
        return row.income_group
    return packaged_income_groups().get(country, UNCLASSIFIED_GROUP)


def set_income_group(
    *, session: Session, country: str, income_group: IncomeGroup, reason: str, actor: Actor
) -> CountryIncomeGroup:
    if not is_country_code(country):
        raise InvalidRequest(f"{country[:8]!r} is not an ISO 3166-1 alpha-2 country code")
    reason = check_reason(reason)
    previous = income_group_of(session=session, country=country)
    row = session.get(CountryIncomeGroup, country) or CountryIncomeGroup(
        country=country, income_group=income_group, reason=reason
    )
    row.income_group, row.reason = income_group, reason
    row.updated_by, row.updated_at = actor.user_id, utcnow()
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="fees.income_group",
        target_type="country",
        target_id=country,
        detail={"from": previous.value, "to": income_group.value, "reason": reason},
    )
    return row


# The schedule -------------------------------------------------------------------------------------


def schedule(*, session: Session) -> list[FeeRate]:
    rates = session.exec(select(FeeRate)).all()
    return sorted(
        rates,
        key=lambda rate: (
            STAGE_ORDER.index(rate.stage),
            list(IncomeGroup).index(rate.income_group),
            rate.min_population,
        ),
    )


def set_rate(
    *,
    session: Session,
    stage: str,
    income_group: IncomeGroup,
    min_population: int,
    amount_minor: int,
    currency: str,
    actor: Actor,
) -> FeeRate:
    """Sets the fee of one stage, income group and population band (adding the band)."""
    if stage not in STAGE_ORDER:
        raise InvalidRequest(f"the stage is one of {', '.join(STAGE_ORDER)}")
    if min_population < 0:
        raise InvalidRequest("a population band's lower bound is 0 or more")
    check_amount(amount_minor)
    check_currency(currency)
    rate = session.exec(
        select(FeeRate).where(
            FeeRate.stage == stage,
            FeeRate.income_group == income_group,
            FeeRate.min_population == min_population,
        )
    ).first() or FeeRate(
        stage=stage,
        income_group=income_group,
        min_population=min_population,
        amount_minor=amount_minor,
        currency=currency,
    )
    rate.amount_minor, rate.currency = amount_minor, currency
    rate.updated_by, rate.updated_at = actor.user_id, utcnow()
    session.add(rate)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="fees.rate_set",
        target_type="fee_rate",
        target_id=rate.id,
        detail={
            "stage": stage,
            "income_group": income_group.value,
            "min_population": min_population,
            "amount_minor": amount_minor,
            "currency": currency,
        },
    )
    return rate


def remove_rate(*, session: Session, rate_id: int, actor: Actor) -> None:
    rate = session.get(FeeRate, rate_id)
    if rate is None:
        raise NotFound(f"no fee rate {rate_id}")
    detail = {
        "stage": rate.stage,
        "income_group": rate.income_group.value,
        "min_population": rate.min_population,
        "amount_minor": rate.amount_minor,
        "currency": rate.currency,
    }
    session.delete(rate)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="fees.rate_removed",
        target_type="fee_rate",
        target_id=rate_id,
        detail=detail,
    )


def _rate_for(rates: list[FeeRate], population: int | None) -> FeeRate | None:
    """The rate of the highest band the population reaches; the lowest band when unknown."""
    if not rates:
        return None
    ordered = sorted(rates, key=lambda rate: rate.min_population)
    if population is None:
        return ordered[0]
    reached = [rate for rate in ordered if rate.min_population <= population]
    return reached[-1] if reached else ordered[0]


# An application's fee ----------------------------------------------------------------------------


def fee_of(*, session: Session, application: Application) -> Fee:
    assert application.id is not None
    city = session.get(City, application.city_locode)
    assert city is not None
    group = income_group_of(session=session, country=city.country)
    rate = _rate_for(
        list(
            session.exec(
                select(FeeRate).where(
                    FeeRate.stage == application.stage, FeeRate.income_group == group
                )
            )
        ),
        city.population,
    )
    decision = session.get(FeeDecision, application.id)
    records = list(
        session.exec(
            select(FeeRecord)
            .where(FeeRecord.application_id == application.id)
            .order_by(col(FeeRecord.dated_on), col(FeeRecord.id))
        )
    )
    standard = rate.amount_minor if rate is not None else 0
    due = standard if decision is None else min(decision.amount_minor, standard)
    return Fee(
        application_id=application.id,
        stage=application.stage,
        income_group=group,
        population=city.population,
        band_min_population=rate.min_population if rate is not None else None,
        standard_minor=standard,
        due_minor=due,
        paid_minor=sum(r.amount_minor for r in records if r.kind is FeeRecordKind.PAYMENT),
        currency=rate.currency if rate is not None else None,
        decision=decision,
        records=records,
    )


def decide(
    *,
    session: Session,
    application: Application,
    kind: FeeDecisionKind,
    amount_minor: int | None,
    reason: str,
    actor: Actor,
) -> FeeDecision:
    """Waives the fee, or reduces it to `amount_minor` (less than the schedule's amount)."""
    reason = check_reason(reason)
    fee = fee_of(session=session, application=application)
    if fee.currency is None:
        raise Conflict("no fee of the schedule applies to this application")
    if kind is FeeDecisionKind.WAIVED:
        amount_minor = 0
    elif amount_minor is None:
        raise InvalidRequest("a reduction gives the amount due")
    elif check_amount(amount_minor) >= fee.standard_minor:
        raise InvalidRequest("a reduction's amount is less than the schedule's amount")
    decision = session.get(FeeDecision, fee.application_id) or FeeDecision(
        application_id=fee.application_id, kind=kind, amount_minor=amount_minor, reason=reason
    )
    decision.kind, decision.amount_minor, decision.reason = kind, amount_minor, reason
    decision.decided_by, decision.decided_at = actor.user_id, utcnow()
    session.add(decision)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"fees.{kind.value}",
        target_type="application",
        target_id=fee.application_id,
        detail={
            "standard_minor": fee.standard_minor,
            "due_minor": amount_minor,
            "currency": fee.currency,
            "reason": reason,
        },
    )
    return decision


def add_record(
    *,
    session: Session,
    application: Application,
    kind: FeeRecordKind,
    amount_minor: int,
    dated_on: date,
    reference: str,
    actor: Actor,
) -> FeeRecord:
    """Records an invoice sent or a payment received, in the fee's currency."""
    check_amount(amount_minor)
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE_CHARS:
        raise InvalidRequest(f"give the reference (at most {MAX_REFERENCE_CHARS} characters)")
    fee = fee_of(session=session, application=application)
    if fee.currency is None:
        raise Conflict("no fee of the schedule applies to this application")
    entry = FeeRecord(
        application_id=fee.application_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=fee.currency,
        dated_on=dated_on,
        reference=reference,
        recorded_by=actor.user_id,
    )
    session.add(entry)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"fees.{kind.value}",
        target_type="application",
        target_id=fee.application_id,
        detail={
            "amount_minor": amount_minor,
            "currency": fee.currency,
            "dated_on": dated_on.isoformat(),
            "reference": reference,
        },
    )
    return entry


def require_settled(*, session: Session, application: Application) -> None:
    """The submission gate (`fees_required_before_submission`): paid or waived, or nothing due."""
    fee = fee_of(session=session, application=application)
    if not fee.settled:
        assert fee.currency is not None
        raise Conflict(
            f"the fee of this application ({in_major_units(fee.due_minor, fee.currency)} "
            f"{fee.currency}, {in_major_units(fee.paid_minor, fee.currency)} paid) must be paid "
            "or waived before it is submitted; ask the secretariat"
        )


# The report ---------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    income_group: IncomeGroup
    currency: str
    applications: int = 0
    charged_minor: int = 0  # due after waivers and reductions
    waived_minor: int = 0  # the schedule's amount less what is due
    paid_minor: int = 0


def report(*, session: Session) -> list[ReportRow]:
    """Fees charged, waived and paid, by income group and currency, over every application a
    fee of the schedule applies to (withdrawn applications apart)."""
    rows: dict[tuple[IncomeGroup, str], ReportRow] = {}
    for application in session.exec(select(Application).order_by(col(Application.id))):
        if application.state in NOT_CHARGED:
            continue
        fee = fee_of(session=session, application=application)
        if fee.currency is None:
            continue
        key = (fee.income_group, fee.currency)
        row = rows.setdefault(key, ReportRow(income_group=fee.income_group, currency=fee.currency))
        row.applications += 1
        row.charged_minor += fee.due_minor
        row.waived_minor += fee.standard_minor - fee.due_minor
        row.paid_minor += fee.paid_minor
    order = list(IncomeGroup)
    return sorted(rows.values(), key=lambda row: (order.index(row.income_group), row.currency))


def fees_by_application(*, session: Session, limit: int) -> list[tuple[Application, Fee]]:
    """The latest applications with their fees, for the secretariat's list."""
    found = session.exec(select(Application).order_by(col(Application.id).desc()).limit(limit))
    return [(app, fee_of(session=session, application=app)) for app in found]
