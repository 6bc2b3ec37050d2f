"""The self-assessment's forms, read by hand into the API's own request models.

A criterion's form holds its narrative and rows of indicator values (`values-N-<field>`); a row
left wholly blank is ignored, so a page always offers one empty row to add a value without a
script. Each problem is keyed by the id of the field it belongs to, so the page shows it beside
that field and links to it from the error summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError
from starlette.datastructures import FormData

from sdgcities.node.applications.schemas import MAX_NARRATIVE, AnswerUpdate
from sdgcities.node.review.schemas import ClarificationResponse

from ..i18n import N_

VALUE_FIELDS: Final = ("indicator", "value", "unit", "year", "sex", "age", "disability", "district")
MAX_ROWS: Final = 200
SEXES: Final = ("female", "male", "other")


def slug(code: str) -> str:
    """A criterion code as part of an element id: `A.a` → `A-a` (no dot to escape in CSS)."""
    return code.replace(".", "-")


def value_field_id(code: str, row: int, name: str) -> str:
    return f"values-{slug(code)}-{row}-{name}"


@dataclass
class AnswerForm:
    """What the city typed into one criterion's form, and what is wrong with it."""

    code: str
    narrative: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    # Field id → message (untranslated; the template translates it).
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_answer(cls, code: str, narrative: str, values: list[dict[str, Any]]) -> AnswerForm:
        rows = []
        for value in values:
            group = value.get("disaggregation") or {}
            disability = group.get("disability")
            rows.append(
                {
                    "indicator": str(value.get("indicator", "")),
                    "value": _number_text(value.get("value")),
                    "unit": str(value.get("unit", "")),
                    "year": str(value.get("year", "")),
                    "sex": str(group.get("sex") or ""),
                    "age": str(group.get("age") or ""),
                    "disability": "" if disability is None else ("yes" if disability else "no"),
                    "district": str(group.get("district") or ""),
                }
            )
        return cls(code=code, narrative=narrative, rows=rows)

    @property
    def rows_with_blank(self) -> list[dict[str, str]]:
        """The rows, and one empty row to add a value in."""
        return [*self.rows, dict.fromkeys(VALUE_FIELDS, "")]


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_answer_form(form: FormData, code: str) -> tuple[AnswerForm, AnswerUpdate | None]:
    """The criterion's form as typed, and the `AnswerUpdate` it makes (None if it has errors)."""
    narrative_value = form.get("narrative")
    answer = AnswerForm(
        code=code, narrative=narrative_value if isinstance(narrative_value, str) else ""
    )
    if len(answer.narrative) > MAX_NARRATIVE:
        answer.errors[f"narrative-{slug(code)}"] = N_("The narrative is too long.")
    values: list[dict[str, Any]] = []
    kept: list[int] = []
    for row in range(MAX_ROWS):
        typed = {name: _text(form, f"values-{row}-{name}") for name in VALUE_FIELDS}
        if f"values-{row}-indicator" not in form:
            break
        if not any(typed.values()):
            continue
        index = len(answer.rows)
        answer.rows.append(typed)
        values.append(_row_value(answer, index, typed))
        kept.append(index)
    # The API's own model checks what the form could read, so each rule lives in one place;
    # its problems join those found above, and every one is shown at once.
    try:
        update = AnswerUpdate.model_validate(
            {"narrative": answer.narrative, "indicator_values": values}
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            location = error["loc"]
            if len(location) >= 3 and location[0] == "indicator_values":
                row = kept[int(location[1])]
                name = str(location[2])
                if name == "disaggregation":
                    name = "age"
                answer.errors.setdefault(value_field_id(code, row, name), _message_for(name))
            elif location[:1] == ("narrative",):
                answer.errors[f"narrative-{slug(code)}"] = N_("The narrative is too long.")
            else:
                answer.errors[value_field_id(code, kept[0] if kept else 0, "indicator")] = N_(
                    "The same indicator is given twice for the same year and group."
                )
        return answer, None
    return (answer, None) if answer.errors else (answer, update)


_MESSAGES: Final = {
    "indicator": N_("Enter the indicator's code, such as 11.1.1."),
    "value": N_("Enter the value as a number, such as 42.5."),
    "unit": N_("Enter the unit, such as percent or persons."),
    "year": N_("Enter a year from 1990 to 2100."),
    "sex": N_("Choose female, male or other, or leave it empty."),
    "age": N_("Enter an age band such as 15-24, or 65+ for 65 and over."),
    "disability": N_("Choose yes, no, or leave it empty."),
    "district": N_("Enter the district's name in at most 100 characters."),
}


def _message_for(name: str) -> str:
    return _MESSAGES.get(name, _MESSAGES["indicator"])


# Stand-ins for a value or year that could not be read (its error is already noted), so that
# the API's model still checks the rest of the row.
_UNREAD_VALUE: Final = 0.0
_UNREAD_YEAR: Final = 2000


def _row_value(answer: AnswerForm, row: int, typed: dict[str, str]) -> dict[str, Any]:
    errors = answer.errors
    code = answer.code
    value: float | None = None
    try:
        value = float(typed["value"].replace(",", ".").replace(" ", ""))
    except ValueError:
        errors[value_field_id(code, row, "value")] = _MESSAGES["value"]
    year = int(typed["year"]) if typed["year"].isdigit() else None
    if year is None:
        errors[value_field_id(code, row, "year")] = _MESSAGES["year"]
    for name in ("indicator", "unit"):
        if not typed[name]:
            errors[value_field_id(code, row, name)] = _MESSAGES[name]
    if typed["sex"] and typed["sex"] not in SEXES:
        errors[value_field_id(code, row, "sex")] = _MESSAGES["sex"]
    if typed["disability"] not in ("", "yes", "no"):
        errors[value_field_id(code, row, "disability")] = _MESSAGES["disability"]
    group: dict[str, Any] = {}
    if typed["sex"] in SEXES:
        group["sex"] = typed["sex"]
    if typed["age"]:
        group["age"] = typed["age"]
    if typed["disability"] in ("yes", "no"):
        group["disability"] = typed["disability"] == "yes"
    if typed["district"]:
        group["district"] = typed["district"]
    return {
        "indicator": typed["indicator"],
        "value": _UNREAD_VALUE if value is None else value,
        "unit": typed["unit"],
        "year": _UNREAD_YEAR if year is None else year,
        "disaggregation": group,
    }


def read_clarification_form(
    form: FormData, open_ids: list[int]
) -> tuple[dict[int, str], dict[str, str], ClarificationResponse | None]:
    """The answers typed for each open question, the problems by field id, and the response."""
    typed = {request_id: _text(form, f"answer-{request_id}") for request_id in open_ids}
    errors = {
        f"answer-{request_id}": N_("Answer this question.")
        for request_id, text in typed.items()
        if not text
    }
    if errors:
        return typed, errors, None
    try:
        response = ClarificationResponse.model_validate(
            {"answers": [{"request_id": i, "answer": text} for i, text in typed.items()]}
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            location = error["loc"]
            if len(location) >= 2 and location[0] == "answers":
                errors[f"answer-{open_ids[int(location[1])]}"] = N_(
                    "The answer is too long or holds characters that are not allowed."
                )
        return typed, errors or {"answer-form": N_("Answer every question.")}, None
    return typed, {}, response
