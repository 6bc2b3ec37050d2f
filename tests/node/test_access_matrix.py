"""Every role against every endpoint: allowed, forbidden, or not found.

The routes are read from the app itself, so an endpoint added later is checked without editing
this file; a route that declares no access rule fails `test_every_route_declares_who_may_call`.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role
from sdgcities.node.app import allowed_roles, api_routes

from .conftest import Backend, MakeAccount, MakeCity

ROLES = [role for role in Role if role is not Role.PUBLIC]
PATH_VALUES = {"locode": "KE-MBA", "list_id": "revocation-1"}


def _routes(backend: Backend) -> list[APIRoute]:
    routes = api_routes(backend.app)
    # Guards against a walk that finds nothing and lets every test below pass vacuously.
    assert len(routes) > 40
    return routes


def _path(route: APIRoute) -> str:
    values = {}
    for param in route.dependant.path_params:
        annotation = param.field_info.annotation
        values[param.name] = PATH_VALUES.get(param.name, 999_999 if annotation is int else "x")
    return route.path.format(**values)


def test_every_route_declares_who_may_call(backend: Backend) -> None:
    undeclared = []
    for route in _routes(backend):
        try:
            allowed_roles(route)
        except LookupError:
            undeclared.append(route.path)
    assert undeclared == []


def test_openapi_states_who_may_call(backend: Backend) -> None:
    for route in _routes(backend):
        assert "**Who may call:**" in (route.description or ""), route.path


def test_role_matrix(
    client: TestClient, backend: Backend, make_account: MakeAccount, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    accounts = {
        role: make_account(role, city_locode="KE-NBO" if role is Role.CITY_APPLICANT else None)
        for role in ROLES
    }
    for route in _routes(backend):
        allowed = allowed_roles(route)
        path = _path(route)
        for method in sorted(route.methods - {"HEAD"}):
            for role in [*ROLES, Role.PUBLIC]:
                headers = {} if role is Role.PUBLIC else accounts[role].headers
                response = client.request(method, path, headers=headers)
                where = f"{method} {path} as {role.value}"
                if Role.PUBLIC in allowed or role in allowed:
                    assert response.status_code not in (401, 403), where
                elif role is Role.PUBLIC:
                    assert response.status_code == 401, where
                else:
                    assert response.status_code == 403, where
                    assert response.json()["code"] == "forbidden", where


@pytest.mark.parametrize("path", ["/cities/{locode}"])
def test_city_applicant_gets_404_for_another_city(
    client: TestClient, make_account: MakeAccount, make_city: MakeCity, path: str
) -> None:
    make_city("KE-NBO", "Nairobi")
    make_city("KE-MBA", "Mombasa")
    applicant = make_account(Role.CITY_APPLICANT, city_locode="KE-NBO")
    own = client.get(path.format(locode="KE-NBO"), headers=applicant.headers)
    other = client.get(path.format(locode="KE-MBA"), headers=applicant.headers)
    missing = client.get(path.format(locode="KE-XXX"), headers=applicant.headers)
    assert own.status_code == 200
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"] == "no city KE-MBA"
