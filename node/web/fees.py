"""The fee pages (report §29: "Cities may also be required to contribute to costs, through fee
structures that do not exclude cities in lower-income countries").

The secretariat and administrators set the schedule (an amount by stage, income group and
population band), correct a country's income group with a reason, waive or reduce an
application's fee with a reason, record invoices and payments, and read the report by income
group. Each form calls the service the `/fees` API calls; a refusal of the service is the error
page in the reader's language. Amounts are typed in the currency's major units ("200.00") and
kept as integers in minor units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar

from babel.numbers import format_currency
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application
from sdgcities.node.countries import is_country_code
from sdgcities.node.deps import ReadSessionDep, SessionDep
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.fees import service as fees
from sdgcities.node.fees.models import (
    MAX_AMOUNT_MINOR,
    MAX_REASON_CHARS,
    MAX_REFERENCE_CHARS,
    FeeDecisionKind,
    FeeRecordKind,
    IncomeGroup,
)
from sdgcities.node.frameworks import STAGE_ORDER
from sdgcities.node.timeutil import utcnow

from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .secretariat import FieldError, RecordId, Staff
from .session import WebCaller, check_csrf
from .terms import STAGE_NAMES

router = APIRouter(include_in_schema=False)
Choice = TypeVar("Choice", bound=StrEnum)
AMOUNT_PATTERN: Final = re.compile(r"[0-9]{1,15}(\.[0-9]{1,4})?")
APPLICATIONS_SHOWN: Final = 100
MAX_POPULATION: Final = 10**9

INCOME_GROUP_NAMES: Final = {
    IncomeGroup.LOW: N_("Low income"),
    IncomeGroup.LOWER_MIDDLE: N_("Lower-middle income"),
    IncomeGroup.UPPER_MIDDLE: N_("Upper-middle income"),
    IncomeGroup.HIGH: N_("High income"),
}
FEE_STATE_NAMES: Final = {
    fees.FeeState.NONE: N_("No fee applies"),
    fees.FeeState.WAIVED: N_("Waived"),
    fees.FeeState.PAID: N_("Paid"),
    fees.FeeState.DUE: N_("To be paid"),
}
RECORD_KIND_NAMES: Final = {
    FeeRecordKind.INVOICE: N_("Invoice"),
    FeeRecordKind.PAYMENT: N_("Payment"),
}
DONE_NOTICES: Final = {
    "rate": N_("The fee is set."),
    "removed": N_("The fee is removed from the schedule."),
    "group": N_("The country's income group is changed."),
    "decision": N_("The decision on the fee is recorded."),
    "record": N_("The invoice or payment is recorded."),
}
CHOOSE_STAGE = N_("Choose a stage")
CHOOSE_GROUP = N_("Choose an income group")
POPULATION_INVALID = N_("Enter a whole number of inhabitants, 0 or more")
AMOUNT_INVALID = N_("Enter an amount of 0 or more, like 200.00")
CURRENCY_INVALID = N_("Enter an ISO 4217 currency code, like USD")
COUNTRY_INVALID = N_("Enter an ISO 3166-1 country code, like KE")
REASON_NEEDED = N_("Give the reason (at most 1000 characters)")
REFERENCE_NEEDED = N_("Give the reference (at most 100 characters)")
DATE_INVALID = N_("Enter a date like 2026-01-31")
CHOOSE_DECISION = N_("Choose a waiver or a reduction")
CHOOSE_RECORD = N_("Choose an invoice or a payment")


def _base(language: Language) -> str:
    return f"/{language.code}/secretariat/fees"


def money(language: Language) -> Callable[[int, str | None], str]:
    """`money(minor, currency)` for the templates: 20000 USD as "$200.00" in English."""

    def formatted(amount_minor: int, currency: str | None) -> str:
        if currency is None:
            return ""
        amount = fees.in_major_units(amount_minor, currency)
        return str(format_currency(amount, currency, locale=language.babel_locale))

    return formatted


def _page(
    request: Request,
    template: str,
    *,
    language: Language,
    caller: WebCaller,
    status_code: int = 200,
    errors: list[FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    done: str | None = None,
    **context: Any,
) -> Response:
    errors = errors or []
    return render(
        request,
        template,
        language=language,
        caller=caller,
        status_code=status_code if not errors else 400,
        base=_base(language),
        money=money(language),
        stage_names=STAGE_NAMES,
        group_names=INCOME_GROUP_NAMES,
        state_names=FEE_STATE_NAMES,
        record_kind_names=RECORD_KIND_NAMES,
        errors=errors,
        error_by_field={error.field: error for error in errors},
        values=values or {},
        done_notice=DONE_NOTICES.get(done or ""),
        **context,
    )


async def _form(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name, "")).strip()[:2000] for name in names}


def _amount(text: str, currency: str, field: str, errors: list[FieldError]) -> int | None:
    """The amount typed, in minor units. Only digits and a decimal point: "200,00" is 200.00 in
    French and 20000 in English, so a comma is refused rather than guessed."""
    minor = -1
    if AMOUNT_PATTERN.fullmatch(text):
        try:
            minor = fees.to_minor_units(Decimal(text), currency)
        except InvalidRequest:  # more decimal places than the currency has
            minor = -1
    if not 0 <= minor <= MAX_AMOUNT_MINOR:
        errors.append(FieldError(field, AMOUNT_INVALID))
        return None
    return minor


def _choice(
    text: str, choices: type[Choice], field: str, message: str, errors: list[FieldError]
) -> Choice | None:
    try:
        return choices(text)
    except ValueError:
        errors.append(FieldError(field, message))
        return None


def _reason(text: str, errors: list[FieldError]) -> str:
    if not text or len(text) > MAX_REASON_CHARS:
        errors.append(FieldError("reason", REASON_NEEDED))
    return text


def fee_context(
    *, session: Session, language: Language, application: Application
) -> dict[str, Any]:
    """What a city's application page shows of its fee (`fees/_city.html`)."""
    return {
        "fee": fees.fee_of(session=session, application=application),
        "money": money(language),
        "group_names": INCOME_GROUP_NAMES,
        "state_names": FEE_STATE_NAMES,
        "record_kind_names": RECORD_KIND_NAMES,
    }


# The schedule -------------------------------------------------------------------------------------

RATE_FIELDS: Final = ("stage", "income_group", "min_population", "amount", "currency")


def _schedule_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    errors: list[FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    done: str | None = None,
) -> Response:
    return _page(
        request,
        "fees/schedule.html",
        language=language,
        caller=caller,
        errors=errors,
        values=values,
        done=done,
        rates=fees.schedule(session=session),
        stages=STAGE_ORDER,
    )


@router.get("/{lang:lang}/secretariat/fees")
def schedule_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    """The fee schedule: an amount by stage, income group and population band."""
    return _schedule_page(request, language=language, caller=caller, session=session, done=done)


@router.post("/{lang:lang}/secretariat/fees/rates")
async def set_rate(
    request: Request, language: LanguageDep, caller: Staff, session: SessionDep
) -> Response:
    """Sets one fee of the schedule, as `PUT /fees/schedule/rates` does."""
    await check_csrf(request, caller)
    values = await _form(request, RATE_FIELDS)
    values["currency"] = values["currency"].upper()
    errors: list[FieldError] = []
    if values["stage"] not in STAGE_ORDER:
        errors.append(FieldError("stage", CHOOSE_STAGE))
    group = _choice(values["income_group"], IncomeGroup, "income_group", CHOOSE_GROUP, errors)
    population = values["min_population"] or "0"
    if not population.isdigit() or int(population) > MAX_POPULATION:
        errors.append(FieldError("min_population", POPULATION_INVALID))
    try:
        currency = fees.check_currency(values["currency"])
    except InvalidRequest:
        currency = None
    amount = _amount(values["amount"], currency, "amount", errors) if currency else None
    if currency is None:
        errors.append(FieldError("currency", CURRENCY_INVALID))
    if errors or group is None or amount is None or currency is None:
        return _schedule_page(
            request,
            language=language,
            caller=caller,
            session=session,
            errors=sorted(errors, key=lambda error: RATE_FIELDS.index(error.field)),
            values=values,
        )
    fees.set_rate(
        session=session,
        stage=values["stage"],
        income_group=group,
        min_population=int(population),
        amount_minor=amount,
        currency=currency,
        actor=caller.actor,
    )
    return RedirectResponse(f"{_base(language)}?done=rate", status_code=303)


@router.post("/{lang:lang}/secretariat/fees/rates/{rate_id}/remove")
async def remove_rate(
    request: Request, language: LanguageDep, caller: Staff, session: SessionDep, rate_id: RecordId
) -> Response:
    await check_csrf(request, caller)
    fees.remove_rate(session=session, rate_id=rate_id, actor=caller.actor)
    return RedirectResponse(f"{_base(language)}?done=removed", status_code=303)


# Income groups ------------------------------------------------------------------------------------

GROUP_FIELDS: Final = ("country", "income_group", "reason")


def _groups_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    errors: list[FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    done: str | None = None,
) -> Response:
    changed = {row.country: row for row in fees.changed_income_groups(session=session)}
    return _page(
        request,
        "fees/income_groups.html",
        language=language,
        caller=caller,
        errors=errors,
        values=values,
        done=done,
        groups=sorted(fees.income_groups(session=session).items()),
        changed=changed,
        packaged=fees.packaged_income_groups(),
    )


@router.get("/{lang:lang}/secretariat/fees/income-groups")
def income_groups_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    """Each country's World Bank income group, and the form to change one with a reason."""
    return _groups_page(request, language=language, caller=caller, session=session, done=done)


@router.post("/{lang:lang}/secretariat/fees/income-groups")
async def set_income_group(
    request: Request, language: LanguageDep, caller: Staff, session: SessionDep
) -> Response:
    """Changes a country's income group, as `PUT /fees/income-groups/{country}` does."""
    await check_csrf(request, caller)
    values = await _form(request, GROUP_FIELDS)
    values["country"] = values["country"].upper()
    errors: list[FieldError] = []
    if not is_country_code(values["country"]):
        errors.append(FieldError("country", COUNTRY_INVALID))
    group = _choice(values["income_group"], IncomeGroup, "income_group", CHOOSE_GROUP, errors)
    reason = _reason(values["reason"], errors)
    if errors or group is None:
        return _groups_page(
            request, language=language, caller=caller, session=session, errors=errors, values=values
        )
    fees.set_income_group(
        session=session,
        country=values["country"],
        income_group=group,
        reason=reason,
        actor=caller.actor,
    )
    return RedirectResponse(f"{_base(language)}/income-groups?done=group", status_code=303)


# An application's fee -----------------------------------------------------------------------------

DECISION_FIELDS: Final = ("kind", "amount", "reason")
RECORD_FIELDS: Final = ("record_kind", "record_amount", "dated_on", "reference")


def _application_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    application_id: int,
    errors: list[FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    done: str | None = None,
) -> Response:
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor
    )
    return _page(
        request,
        "fees/application.html",
        language=language,
        caller=caller,
        errors=errors,
        values=values,
        done=done,
        application=application,
        fee=fees.fee_of(session=session, application=application),
        today=utcnow().date().isoformat(),
    )


@router.get("/{lang:lang}/secretariat/fees/applications/{application_id}")
def application_fee_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    application_id: RecordId,
    done: str | None = None,
) -> Response:
    """An application's fee: waive or reduce it with a reason, record invoices and payments."""
    return _application_page(
        request,
        language=language,
        caller=caller,
        session=session,
        application_id=application_id,
        done=done,
    )


@router.post("/{lang:lang}/secretariat/fees/applications/{application_id}/decision")
async def decide_fee(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    application_id: RecordId,
) -> Response:
    """Waives or reduces the fee, as `PUT /applications/{id}/fee/decision` does."""
    await check_csrf(request, caller)
    values = await _form(request, DECISION_FIELDS)
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    fee = fees.fee_of(session=session, application=application)
    errors: list[FieldError] = []
    kind = _choice(values["kind"], FeeDecisionKind, "kind", CHOOSE_DECISION, errors)
    amount = None
    if kind is FeeDecisionKind.REDUCED and fee.currency is not None:
        amount = _amount(values["amount"], fee.currency, "amount", errors)
    reason = _reason(values["reason"], errors)
    if errors or kind is None:
        return _application_page(
            request,
            language=language,
            caller=caller,
            session=session,
            application_id=application_id,
            errors=errors,
            values=values,
        )
    fees.decide(
        session=session,
        application=application,
        kind=kind,
        amount_minor=amount,
        reason=reason,
        actor=caller.actor,
    )
    return RedirectResponse(
        f"{_base(language)}/applications/{application_id}?done=decision", status_code=303
    )


@router.post("/{lang:lang}/secretariat/fees/applications/{application_id}/records")
async def add_fee_record(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    application_id: RecordId,
) -> Response:
    """Records an invoice or a payment, as `POST /applications/{id}/fee/records` does."""
    await check_csrf(request, caller)
    values = await _form(request, RECORD_FIELDS)
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    fee = fees.fee_of(session=session, application=application)
    errors: list[FieldError] = []
    kind = _choice(values["record_kind"], FeeRecordKind, "record_kind", CHOOSE_RECORD, errors)
    amount = (
        _amount(values["record_amount"], fee.currency, "record_amount", errors)
        if fee.currency is not None
        else None
    )
    try:
        dated_on: date | None = date.fromisoformat(values["dated_on"])
    except ValueError:
        dated_on = None
        errors.append(FieldError("dated_on", DATE_INVALID))
    reference = values["reference"]
    if not reference or len(reference) > MAX_REFERENCE_CHARS:
        errors.append(FieldError("reference", REFERENCE_NEEDED))
    if errors or kind is None or dated_on is None:
        return _application_page(
            request,
            language=language,
            caller=caller,
            session=session,
            application_id=application_id,
            errors=errors,
            values=values,
        )
    fees.add_record(
        session=session,
        application=application,
        kind=kind,
        amount_minor=amount if amount is not None else 0,
        dated_on=dated_on,
        reference=reference,
        actor=caller.actor,
    )
    return RedirectResponse(
        f"{_base(language)}/applications/{application_id}?done=record", status_code=303
    )


# The report ---------------------------------------------------------------------------------------


@router.get("/{lang:lang}/secretariat/fees/report")
def report_page(
    request: Request, language: LanguageDep, caller: Staff, session: ReadSessionDep
) -> Response:
    """Fees charged, waived and paid by income group, and the latest applications' fees."""
    return _page(
        request,
        "fees/report.html",
        language=language,
        caller=caller,
        rows=fees.report(session=session),
        latest=fees.fees_by_application(session=session, limit=APPLICATIONS_SHOWN),
    )
