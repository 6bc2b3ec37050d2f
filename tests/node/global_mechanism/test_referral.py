"""§26b, §27: the global node certifies cities of countries without a national node, and refers
the others to theirs (with the node's id, name and base URL), at registration and at
application time."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..conftest import Account, MakeAccount, MakeCity
from .conftest import JoinNode


def _register(client: TestClient, admin: Account, locode: str, name: str) -> Any:
    return client.post(
        "/cities", headers=admin.headers, json={"locode": locode, "name": name, "languages": ["en"]}
    )


def test_a_city_of_a_country_without_a_national_node_registers_on_the_global_node(
    client: TestClient, admin: Account, join_node: JoinNode
) -> None:
    join_node("KE")
    for locode, name in (("BO-LPB", "La Paz"), ("FJ-SUV", "Suva"), ("MN-ULN", "Ulaanbaatar")):
        registered = _register(client, admin, locode, name)
        assert registered.status_code == 201, registered.text
        assert registered.json()["country"] == locode[:2]


def test_a_city_of_a_country_with_an_active_national_node_is_referred_there(
    client: TestClient, admin: Account, join_node: JoinNode
) -> None:
    join_node("KE", name="Kenya SDG Cities national node")
    refused = _register(client, admin, "KE-NBO", "Nairobi")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "conflict"
    assert body["referral"] == {
        "node_id": "KE",
        "name": "Kenya SDG Cities national node",
        "base_url": "https://ke.example.org",
        "status": "active",
    }
    assert body["detail"] == (
        "KE has a national node, Kenya SDG Cities national node (KE): the global node certifies "
        "only cities of countries without one, so city KE-NBO is certified there; apply at "
        "https://ke.example.org"
    )
    assert client.get("/cities/KE-NBO", headers=admin.headers).status_code == 404


def test_a_suspended_national_node_keeps_its_cities(
    client: TestClient, admin: Account, join_node: JoinNode
) -> None:
    join_node("GH", status="suspended")
    refused = _register(client, admin, "GH-ACC", "Accra")
    assert refused.status_code == 409
    assert refused.json()["referral"]["status"] == "suspended"
    assert refused.json()["detail"].endswith(
        "that node is suspended at present, and a suspension is temporary: apply at "
        "https://gh.example.org once it is reinstated"
    )


def test_the_global_node_takes_the_cities_of_a_withdrawn_national_node(
    client: TestClient, admin: Account, join_node: JoinNode
) -> None:
    join_node("UG", status="withdrawn")
    registered = _register(client, admin, "UG-KLA", "Kampala")
    assert registered.status_code == 201, registered.text


def test_an_application_is_referred_when_a_national_node_joined_after_the_city_registered(
    client: TestClient,
    admin: Account,
    make_city: MakeCity,
    make_account: MakeAccount,
    join_node: JoinNode,
    baseline_id: int,
) -> None:
    make_city("TZ-DAR", "Dar es Salaam", languages=["sw", "en"])
    city = make_account(Role.CITY_APPLICANT, city_locode="TZ-DAR")
    join_node("TZ")
    applied = client.post(
        "/applications",
        headers=city.headers,
        json={"stage": "qualification", "framework_version_id": baseline_id},
    )
    assert applied.status_code == 409
    assert applied.json()["referral"]["base_url"] == "https://tz.example.org"
    assert (
        "city TZ-DAR is certified there; apply at https://tz.example.org"
        in (applied.json()["detail"])
    )
    # Administrators applying on the city's behalf are referred alike.
    on_behalf = client.post(
        "/applications",
        headers=admin.headers,
        json={
            "city_locode": "TZ-DAR",
            "stage": "qualification",
            "framework_version_id": baseline_id,
        },
    )
    assert on_behalf.status_code == 409
    assert on_behalf.json()["referral"]["node_id"] == "TZ"


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.REVIEWER, Role.COMMITTEE_MEMBER])
def test_only_administrators_register_cities(
    client: TestClient, make_account: MakeAccount, role: Role
) -> None:
    caller = make_account(role)
    refused = _register(client, caller, "BO-SRZ", "Santa Cruz de la Sierra")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    anonymous = client.post("/cities", json={"locode": "BO-SRZ", "name": "Santa Cruz"})
    assert anonymous.status_code == 401
