"""Base classes for request and response bodies, and the bounded types every caller's value goes
through.

Request bodies refuse unknown fields: a client cannot set `status`, `owner` or `score` by adding a
member the schema does not name (no mass assignment).

Every integer and date a caller gives (path, query or body) has one of the bounded types below, so
that nothing out of range reaches the database (SQLite raises `OverflowError` past 2^63) or a
record (a meeting in the year 145): out of range is a 422 naming the field, like any other bad
value. `tests/node/test_api_bounds.py` walks the OpenAPI of both kinds of node and fails on an
unbounded integer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from .timeutil import utcnow

# The largest id a row can have: ids are PostgreSQL `integer` columns (SQLAlchemy even casts the
# parameter, so a larger value fails in the database, not just matches nothing). Far above any
# row count, below SQLite's 2^63 and JavaScript's 2^53.
MAX_ID = 2**31 - 1
# Paging deeper than this is a scan nobody needs; filter instead.
MAX_OFFSET = 1_000_000
MAX_LIMIT = 500

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Items to skip")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="The most items to return")]

# Nothing this federation records happened before it could have (the SDGs date from 2015; 2000
# leaves room for old baselines), and nothing is planned further ahead than a committee term.
EARLIEST_DAY = date(2000, 1, 1)
YEARS_AHEAD = 20
# A meeting is scheduled from now on; a day's grace covers a caller in another time zone
# scheduling one that sits today.
MEETING_GRACE = timedelta(days=1)


def _latest_day() -> date:
    today = utcnow().date()
    return today.replace(year=today.year + YEARS_AHEAD, day=min(today.day, 28))


def _sane_day(day: date) -> date:
    if not EARLIEST_DAY <= day <= _latest_day():
        raise ValueError(
            f"must be between {EARLIEST_DAY.isoformat()} and {YEARS_AHEAD} years from now"
        )
    return day


def _sane_moment(moment: datetime) -> datetime:
    _sane_day(moment.astimezone(UTC).date())
    return moment


def _not_past(moment: datetime) -> datetime:
    if moment < utcnow() - MEETING_GRACE:
        raise ValueError("must not be in the past")
    return moment


_DATE_RANGE = f"from {EARLIEST_DAY.isoformat()} to {YEARS_AHEAD} years from now"
# A calendar day a caller gives (a committee term's start or end).
Day = Annotated[date, AfterValidator(_sane_day), Field(description=f"A date {_DATE_RANGE}")]
# A moment a caller gives, with its time zone.
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_sane_moment),
    Field(description=f"A time with its zone, {_DATE_RANGE}"),
]
# A moment that is planned: not in the past.
FutureMoment = Annotated[Moment, AfterValidator(_not_past)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(ResponseModel):
    count: int


class ErrorBody(BaseModel):
    """Every error the node answers (4xx and 5xx): the reason for a person, a code for a program.

    Some errors add members a client acts on (a 422 for a malformed request lists `errors`; a
    city referred elsewhere names the node), hence extra members are allowed.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    detail: str = Field(description="What went wrong, for a person")
    code: str = Field(description="What went wrong, for a program: `not_found`, `conflict`...")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="422 for a malformed request only: each problem's `type`, `loc` and `msg`",
    )
