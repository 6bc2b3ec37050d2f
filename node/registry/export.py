"""The registry as a file, for investors' portfolio screening (report §30d): CSV and JSON.

Both hold the certified cities the listing's filters select (the same `CityFilter`, from the
same snapshot), each with its SDG Cities level and stage, its other certifications (verified
apart from declared) and the ESG indicators it declared. They are streamed, a batch of cities
at a time, from one read transaction, and bounded: at most `MAX_EXPORT_CITIES` cities (more is
a 422 asking for a narrower filter), and each city holds at most
`MAX_CERTIFICATIONS_PER_CITY` certifications and `MAX_INDICATORS_PER_CITY` indicator values.

The CSV is long: one row per fact (`record` = `sdg-cities`, `certification` or `esg`), the
city's columns repeated on each, so that a spreadsheet filters and pivots it as it is. Every
text cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab
or a carriage return) is prefixed with an apostrophe, as OWASP advises against CSV injection;
numbers are written by us and never are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from sdgcities.node.db import SessionOpener
from sdgcities.node.othercerts.service import profiles_of

from .cache import Entry
from .profiles import public_profile

MAX_EXPORT_CITIES: Final = 10_000
BATCH: Final = 200
CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8; header=present"
JSON_MEDIA_TYPE: Final = "application/json"

CSV_COLUMNS: Final = (
    "locode",
    "name",
    "country",
    "region",
    "population",
    "record",
    "sdgLevel",
    "sdgStage",
    "scheme",
    "issuer",
    "level",
    "awardedOn",
    "validUntil",
    "verification",
    "credentialIssuer",
    "indicatorCode",
    "indicatorName",
    "value",
    "unit",
    "year",
    "source",
)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text`, with an apostrophe before it if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _batches(entries: Sequence[Entry]) -> Iterator[Sequence[Entry]]:
    for start in range(0, len(entries), BATCH):
        yield entries[start : start + BATCH]


def _profiles(
    open_session: SessionOpener, entries: Sequence[Entry], now: datetime, base_url: str
) -> Iterator[tuple[Entry, dict[str, Any]]]:
    """Each city with its profile as the registry's JSON shows it (camelCase)."""
    if not entries:
        return
    with open_session() as session:
        for batch in _batches(entries):
            profiles = profiles_of(session=session, locodes=[e.locode for e in batch], now=now)
            for entry in batch:
                certifications, indicators = public_profile(
                    profiles[entry.locode], base_url=base_url
                )
                yield (
                    entry,
                    {
                        "otherCertifications": certifications.model_dump(
                            mode="json", by_alias=True
                        ),
                        "esgIndicators": indicators.model_dump(mode="json", by_alias=True),
                    },
                )


def stream_json(
    *,
    open_session: SessionOpener,
    entries: Sequence[Entry],
    now: datetime,
    base_url: str,
    node: str,
    filters: dict[str, str],
) -> Iterator[bytes]:
    head = {"node": node, "generatedAt": now.isoformat(), "filters": filters, "count": len(entries)}
    yield json.dumps(head)[:-1].encode() + b', "data": ['
    for index, (entry, profile) in enumerate(_profiles(open_session, entries, now, base_url)):
        city = {
            "locode": entry.locode,
            "name": entry.name,
            "country": entry.country,
            "region": entry.region,
            "population": entry.population,
            "priorities": list(entry.priorities),
            "level": entry.level,
            "stage": entry.stage,
            **profile,
        }
        yield (b"," if index else b"") + json.dumps(city, ensure_ascii=False).encode()
    yield b"]}"


def stream_csv(
    *, open_session: SessionOpener, entries: Sequence[Entry], now: datetime, base_url: str
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")

    def flush() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    writer.writeheader()
    # A byte-order mark first, so that spreadsheets read UTF-8 city names right.
    yield "\ufeff".encode() + flush()
    for entry, profile in _profiles(open_session, entries, now, base_url):
        city = {
            "locode": entry.locode,
            "name": entry.name,
            "country": entry.country,
            "region": entry.region,
            "population": "" if entry.population is None else entry.population,
        }
        rows: list[dict[str, Any]] = [
            {**city, "record": "sdg-cities", "sdgLevel": entry.level, "sdgStage": entry.stage}
        ]
        certifications = profile["otherCertifications"]
        for verification in ("verified", "declared"):
            rows += [
                {
                    **city,
                    "record": "certification",
                    "scheme": c["scheme"],
                    "issuer": c["issuer"],
                    "level": c["level"],
                    "awardedOn": c["awardedOn"],
                    "validUntil": c["validUntil"] or "",
                    "verification": verification,
                    "credentialIssuer": c["credentialIssuer"] or "",
                }
                for c in certifications[verification]
            ]
        rows += [
            {
                **city,
                "record": "esg",
                "verification": "declared",
                "indicatorCode": i["code"],
                "indicatorName": i["name"],
                "value": repr(float(i["value"])),
                "unit": i["unit"],
                "year": i["year"],
                "source": i["source"],
            }
            for i in profile["esgIndicators"]["declared"]
        ]
        for row in rows:
            writer.writerow(
                {
                    name: spreadsheet_safe(value)
                    if isinstance(value, str) and name != "value"
                    else value
                    for name, value in row.items()
                }
            )
        yield flush()
