"""`/fees`: the fee schedule, the countries' income groups, each application's fee and the
report (report §29: "fee structures that do not exclude cities in lower-income countries").

The schedule and the income groups are public, so that a city knows what it would pay; the
secretariat and administrators change them, decide waivers and reductions and record invoices
and payments. A city applicant reads its own applications' fees.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.deps import Anyone, ReadSessionDep, SessionDep, access
from sdgcities.node.schemas import Id

from . import service
from .models import FeeRate
from .schemas import (
    FeeDecisionCreate,
    FeeDecisionPublic,
    FeePublic,
    FeeRateCreate,
    FeeRatePublic,
    FeeRecordCreate,
    FeeRecordPublic,
    FeeReport,
    FeeReportRow,
    FeeSchedulePublic,
    IncomeGroupsPublic,
    IncomeGroupUpdate,
)

router = APIRouter(tags=["fees"])
Staff = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
FeeReader = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR, Role.CITY_APPLICANT)]
Country = Annotated[str, Path(min_length=2, max_length=2)]


def _rate(rate: FeeRate) -> FeeRatePublic:
    return FeeRatePublic.model_validate(rate.model_dump())


def fee_public(fee: service.Fee) -> FeePublic:
    return FeePublic(
        application_id=fee.application_id,
        stage=fee.stage,
        income_group=fee.income_group,
        population=fee.population,
        band_min_population=fee.band_min_population,
        standard_minor=fee.standard_minor,
        due_minor=fee.due_minor,
        paid_minor=fee.paid_minor,
        currency=fee.currency,
        state=fee.state.value,
        decision=FeeDecisionPublic.model_validate(fee.decision.model_dump())
        if fee.decision
        else None,
        records=[FeeRecordPublic.model_validate(entry.model_dump()) for entry in fee.records],
    )


@router.get("/fees/schedule")
def read_schedule(session: ReadSessionDep, _caller: Anyone) -> FeeSchedulePublic:
    """The node's fee schedule: an amount per stage, income group and population band."""
    rates = [_rate(rate) for rate in service.schedule(session=session)]
    return FeeSchedulePublic(data=rates, count=len(rates))


@router.put("/fees/schedule/rates")
def set_rate(session: SessionDep, actor: Staff, body: FeeRateCreate) -> FeeRatePublic:
    """Sets one rate (stage, income group, band's lower bound); audited."""
    return _rate(
        service.set_rate(
            session=session,
            stage=body.stage,
            income_group=body.income_group,
            min_population=body.min_population,
            amount_minor=body.amount_minor,
            currency=body.currency,
            actor=actor,
        )
    )


@router.delete("/fees/schedule/rates/{rate_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_rate(session: SessionDep, actor: Staff, rate_id: Id) -> None:
    """Removes one rate of the schedule; audited."""
    service.remove_rate(session=session, rate_id=rate_id, actor=actor)


@router.get("/fees/income-groups")
def read_income_groups(session: ReadSessionDep, _caller: Anyone) -> IncomeGroupsPublic:
    """Each country's World Bank income group (FY2025, with the secretariat's changes)."""
    changed = {row.country: row.reason for row in service.changed_income_groups(session=session)}
    return IncomeGroupsPublic(groups=service.income_groups(session=session), changed=changed)


@router.put("/fees/income-groups/{country}")
def set_income_group(
    session: SessionDep, actor: Staff, country: Country, body: IncomeGroupUpdate
) -> IncomeGroupsPublic:
    """Sets a country's income group, with the reason; audited."""
    row = service.set_income_group(
        session=session,
        country=country.upper(),
        income_group=body.income_group,
        reason=body.reason,
        actor=actor,
    )
    return IncomeGroupsPublic(
        groups={row.country: row.income_group}, changed={row.country: row.reason}
    )


@router.get("/applications/{application_id}/fee")
def read_fee(session: ReadSessionDep, actor: FeeReader, application_id: Id) -> FeePublic:
    """The application's fee: the schedule's amount, what is due after a waiver or reduction,
    the invoices and payments recorded."""
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    return fee_public(service.fee_of(session=session, application=application))


@router.put("/applications/{application_id}/fee/decision")
def decide_fee(
    session: SessionDep, actor: Staff, application_id: Id, body: FeeDecisionCreate
) -> FeePublic:
    """Waives or reduces the application's fee, with the reason; audited."""
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    service.decide(
        session=session,
        application=application,
        kind=body.kind,
        amount_minor=body.amount_minor,
        reason=body.reason,
        actor=actor,
    )
    return fee_public(service.fee_of(session=session, application=application))


@router.post("/applications/{application_id}/fee/records", status_code=status.HTTP_201_CREATED)
def add_fee_record(
    session: SessionDep, actor: Staff, application_id: Id, body: FeeRecordCreate
) -> FeePublic:
    """Records an invoice or a payment (amount, date, reference); audited."""
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    service.add_record(
        session=session,
        application=application,
        kind=body.kind,
        amount_minor=body.amount_minor,
        dated_on=body.dated_on,
        reference=body.reference,
        actor=actor,
    )
    return fee_public(service.fee_of(session=session, application=application))


@router.get("/fees/report")
def read_report(session: ReadSessionDep, _caller: Staff) -> FeeReport:
    """Fees charged, waived and paid, by income group and currency."""
    rows = service.report(session=session)
    return FeeReport(data=[FeeReportRow.model_validate(row.__dict__) for row in rows])
