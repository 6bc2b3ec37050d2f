"""Requests and credentials for the other-certifications tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from sdgcities.credentials import SigningKey, did_key_of
from sdgcities.node.timeutil import utcnow

from ...credentials.external_issuer import credential, sign_external
from ..conftest import Account
from ..review.factories import ok

NAIROBI = "/cities/KE-NBO"
ISO_37120 = {
    "scheme": "ISO 37120",
    "issuer": "World Council on City Data",
    "level": "Platinum",
    "awarded_on": "2025-03-01",
    "valid_until": "2028-03-01",
}


def body(**changes: Any) -> dict[str, Any]:
    return {**ISO_37120, **changes}


def issued_now(key: SigningKey, *, subject: str = "urn:sdgcities:city:KE-NBO", **dates: Any) -> str:
    """A did:key issuer's credential about the city, valid from a month ago for a year."""
    now = utcnow()
    return sign_external(
        credential(
            issuer=did_key_of(key.public_key),
            subject=subject,
            valid_from=dates.get("valid_from", now - timedelta(days=30)),
            valid_until=dates.get("valid_until", now + timedelta(days=335)),
        ),
        key,
    )


def add(client: TestClient, account: Account, **changes: Any) -> dict[str, Any]:
    response = client.post(
        f"{NAIROBI}/certifications", headers=account.headers, json=body(**changes)
    )
    result: dict[str, Any] = ok(response, 201)
    return result


INDICATOR = {
    "code": "GHG-per-capita",
    "name": "Greenhouse gas emissions per capita",
    "value": 2.4,
    "unit": "tCO2e",
    "year": 2024,
    "source": "City climate inventory 2024",
}
