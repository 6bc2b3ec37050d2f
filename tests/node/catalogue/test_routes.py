"""The catalogue API: public reading, administrators' changes (audited), and refused requests."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.audit.service import list_entries

from ..conftest import Account, MakeAccount, MakeCity
from .conftest import MakeTool, tool_fields

NOT_ADMINS = [r for r in Role if r not in (Role.ADMINISTRATOR, Role.PUBLIC)]


def _create(client: TestClient, admin: Account, **fields: Any) -> dict[str, Any]:
    response = client.post("/catalogue/tools", headers=admin.headers, json=tool_fields(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _audit(session: Session, action: str) -> list[tuple[str, dict[str, Any]]]:
    entries, _ = list_entries(session=session, offset=0, limit=100, action=action)
    return [(entry.target_id, entry.detail) for entry in entries]


# Reading: anyone, no token ------------------------------------------------------------------------


def test_anyone_reads_the_catalogue(client: TestClient, make_tool: MakeTool) -> None:
    tool = make_tool(
        title="Urban Monitoring Framework",
        criteria=["B.a"],
        themes=["data"],
        languages=["en", "fr"],
    )
    listed = client.get("/catalogue/tools", params={"q": "monitoring"})
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    one = client.get(f"/catalogue/tools/{tool.id}")
    assert one.status_code == 200
    body = one.json()
    assert listed.json()["data"] == [body]
    assert {k: body[k] for k in ("title", "criteria", "themes", "languages", "active")} == {
        "title": "Urban Monitoring Framework",
        "criteria": ["B.a"],
        "themes": ["data"],
        "languages": ["en", "fr"],
        "active": True,
    }


def test_query_parameters_filter(client: TestClient, make_tool: MakeTool) -> None:
    make_tool(title="One", criteria=["B.a"], themes=["data"], kind="case_study")
    make_tool(title="Two", criteria=["C.b"], themes=["urban crisis"], languages=["fr"])
    make_tool(title="Three", criteria=["D.KE-1"], themes=["housing"])

    def titles(**params: Any) -> list[str]:
        response = client.get("/catalogue/tools", params=params)
        assert response.status_code == 200, response.text
        return [tool["title"] for tool in response.json()["data"]]

    assert titles(criterion=["B.a", "C.b"]) == ["One", "Two"]
    assert titles(criterion="D.KE-1") == ["Three"]
    assert titles(theme=" Urban   Crisis ") == ["Two"]
    assert titles(language="fr") == ["Two"]
    assert titles(kind="case_study") == ["One"]
    assert titles(limit=1, offset=1) == ["Three"]  # One, Three, Two by title


def test_an_unknown_tool_is_404(client: TestClient) -> None:
    response = client.get("/catalogue/tools/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "no catalogue entry 999999", "code": "not_found"}


# Changing: administrators only, each change audited -----------------------------------------------


def test_an_administrator_adds_a_tool(client: TestClient, admin: Account, session: Session) -> None:
    created = _create(
        client,
        admin,
        title="  Her City toolbox ",
        criteria=["B.c", "B.c", "C.d"],
        themes=["Gender", "gender", "Spatial  Planning"],
        languages=["en", "sw"],
    )
    assert created["title"] == "Her City toolbox"
    assert created["criteria"] == ["B.c", "C.d"]  # repeated values kept once
    assert created["themes"] == ["gender", "spatial planning"]
    assert created["languages"] == ["en", "sw"]
    assert created["active"] is True
    assert client.get(f"/catalogue/tools/{created['id']}").json() == created
    assert _audit(session, "catalogue.tool.create") == [(str(created["id"]), {})]


def test_an_administrator_changes_a_tool(
    client: TestClient, admin: Account, session: Session
) -> None:
    created = _create(client, admin, title="Draft title")
    response = client.patch(
        f"/catalogue/tools/{created['id']}",
        headers=admin.headers,
        json={"title": "Final title", "criteria": ["A.a"]},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["title"] == "Final title"
    assert changed["criteria"] == ["A.a"]
    assert changed["summary"] == created["summary"]
    assert changed["updated_at"] >= created["updated_at"]
    assert _audit(session, "catalogue.tool.update") == [
        (str(created["id"]), {"fields": ["criteria", "title"]})
    ]


def test_delete_hides_a_tool_and_patch_brings_it_back(
    client: TestClient, admin: Account, session: Session
) -> None:
    created = _create(client, admin, title="Retiring tool")
    path = f"/catalogue/tools/{created['id']}"
    assert client.delete(path, headers=admin.headers).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get("/catalogue/tools").json() == {"data": [], "count": 0}
    # Deleting again is not an error, and is recorded once.
    assert client.delete(path, headers=admin.headers).status_code == 204
    assert _audit(session, "catalogue.tool.deactivate") == [(str(created["id"]), {})]

    restored = client.patch(path, headers=admin.headers, json={"active": True})
    assert restored.status_code == 200
    assert restored.json()["active"] is True
    assert client.get(path).status_code == 200
    assert client.get("/catalogue/tools", params={"q": "retiring"}).json()["count"] == 1


def test_changing_an_unknown_tool_is_404(client: TestClient, admin: Account) -> None:
    patch = client.patch("/catalogue/tools/999999", headers=admin.headers, json={"title": "X"})
    delete = client.delete("/catalogue/tools/999999", headers=admin.headers)
    assert patch.status_code == delete.status_code == 404
    assert patch.json()["detail"] == delete.json()["detail"] == "no catalogue entry 999999"


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_other_roles_may_not_change_the_catalogue(
    client: TestClient,
    make_account: MakeAccount,
    make_city: MakeCity,
    make_tool: MakeTool,
    role: Role,
) -> None:
    tool = make_tool()
    city = make_city() if role is Role.CITY_APPLICANT else None
    account = make_account(role, city_locode=city)
    expected = {"detail": f"a {role.value} may not do this", "code": "forbidden"}
    for method, path, body in [
        ("POST", "/catalogue/tools", tool_fields()),
        ("PATCH", f"/catalogue/tools/{tool.id}", {"title": "Taken over"}),
        ("DELETE", f"/catalogue/tools/{tool.id}", None),
    ]:
        response = client.request(method, path, headers=account.headers, json=body)
        assert response.status_code == 403, (method, response.text)
        assert response.json() == expected
    assert client.get(f"/catalogue/tools/{tool.id}").json()["title"] == tool.title


def test_the_public_must_sign_in_to_change_the_catalogue(
    client: TestClient, make_tool: MakeTool
) -> None:
    tool = make_tool()
    for method, path, body in [
        ("POST", "/catalogue/tools", tool_fields()),
        ("PATCH", f"/catalogue/tools/{tool.id}", {"title": "Taken over"}),
        ("DELETE", f"/catalogue/tools/{tool.id}", None),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 401
        assert response.json() == {
            "detail": "this endpoint needs a bearer token",
            "code": "unauthenticated",
        }


# Refused requests, with the reason the client is given ----------------------------------------

HTTPS = "such as 'https://unhabitat.org'"


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        (
            {"link": "http://unhabitat.org"},
            f"body.link: Value error, the link must be an https URL {HTTPS} "
            "(got 'http://unhabitat.org')",
        ),
        (
            {"link": "javascript:alert(1)"},
            f"body.link: Value error, the link must be an https URL {HTTPS} "
            "(got 'javascript:alert(1)')",
        ),
        (
            {"link": "https://intranet/tools"},
            f"body.link: Value error, the link must name a public web host {HTTPS} "
            "(got 'https://intranet/tools')",
        ),
        (
            {"link": "https:///path"},
            f"body.link: Value error, the link must name a public web host {HTTPS} "
            "(got 'https:///path')",
        ),
        (
            {"link": "https://user:secret@unhabitat.org"},
            "body.link: Value error, the link must not carry a user name or password",
        ),
        (
            {"link": "http://user:secret@unhabitat.org"},
            "body.link: Value error, the link must not carry a user name or password",
        ),
        (
            {"link": "https://unhabitat.org/a b"},
            f"body.link: Value error, the link must be an https URL {HTTPS}, without spaces or "
            "control characters",
        ),
        (
            {"link": "https://unhabitat.org:99999"},
            f"body.link: Value error, the link must be an https URL {HTTPS}",
        ),
        (
            {"criteria": ["B.a", "E.a"]},
            "body.criteria.1: Value error, 'E.a' is not a criterion code: a stage letter A-D, "
            "a dot and up to 16 letters, digits or hyphens, such as 'B.a' or 'B.KE1'",
        ),
        (
            {"criteria": ["Ba"]},
            "body.criteria.0: Value error, 'Ba' is not a criterion code: a stage letter A-D, "
            "a dot and up to 16 letters, digits or hyphens, such as 'B.a' or 'B.KE1'",
        ),
        (
            {"languages": ["english"]},
            "body.languages.0: Value error, 'english' is not a language tag such as 'en', "
            "'sw' or 'pt-BR'",
        ),
        (
            {"themes": [" "]},
            "body.themes.0: Value error, a theme is 1 to 60 characters, such as 'housing' or "
            "'urban crisis'",
        ),
        ({"title": "Bad\x00title"}, "body.title: Value error, control characters are not allowed"),
        ({"title": ""}, "body.title: String should have at least 1 character"),
        (
            {"kind": "book"},
            "body.kind: Input should be 'tool', 'case_study', 'service' or 'training'",
        ),
        ({"owner": "me"}, "body.owner: Extra inputs are not permitted"),
        ({"active": False}, "body.active: Extra inputs are not permitted"),
        (
            {"criteria": [f"A.{n}" for n in range(31)]},
            "body.criteria: List should have at most 30 items after validation, not 31",
        ),
    ],
)
def test_a_bad_new_tool_is_refused_with_the_reason(
    client: TestClient, admin: Account, fields: dict[str, Any], detail: str
) -> None:
    response = client.post("/catalogue/tools", headers=admin.headers, json=tool_fields(**fields))
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail
    assert response.json()["code"] == "invalid_request"
    assert client.get("/catalogue/tools").json()["count"] == 0


def test_a_summary_keeps_its_paragraphs(client: TestClient, admin: Account) -> None:
    created = _create(client, admin, summary="First paragraph.\n\n\tSecond paragraph.")
    assert created["summary"] == "First paragraph.\n\n\tSecond paragraph."


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "body: Value error, give at least one field to change"),
        ({"title": None}, "body: Value error, title cannot be null"),
        ({"summary": None, "themes": None}, "body: Value error, summary, themes cannot be null"),
        (
            {"link": "ftp://unhabitat.org"},
            f"body.link: Value error, the link must be an https URL {HTTPS} "
            "(got 'ftp://unhabitat.org')",
        ),
        ({"id": 5}, "body.id: Extra inputs are not permitted"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "body.created_at: Extra inputs are not permitted"),
    ],
)
def test_a_bad_change_is_refused_with_the_reason(
    client: TestClient, admin: Account, make_tool: MakeTool, body: dict[str, Any], detail: str
) -> None:
    tool = make_tool()
    response = client.patch(f"/catalogue/tools/{tool.id}", headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail
    assert client.get(f"/catalogue/tools/{tool.id}").json()["title"] == tool.title


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"q": "x" * 201}, "query.q: String should have at most 200 characters"),
        ({"limit": 101}, "query.limit: Input should be less than or equal to 100"),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"offset": -1}, "query.offset: Input should be greater than or equal to 0"),
        (
            {"criterion": "B.a'"},
            'query.criterion.0: Value error, "B.a\'" is not a criterion code: a stage letter '
            "A-D, a dot and up to 16 letters, digits or hyphens, such as 'B.a' or 'B.KE1'",
        ),
        (
            {"language": "EN"},
            "query.language: Value error, 'EN' is not a language tag such as 'en', 'sw' or 'pt-BR'",
        ),
        (
            {"kind": "any"},
            "query.kind: Input should be 'tool', 'case_study', 'service' or 'training'",
        ),
        (
            {"theme": ["data"] * 21},
            "query.theme: List should have at most 20 items after validation, not 21",
        ),
        ({"theme": "x\x00"}, "query.theme.0: Value error, control characters are not allowed"),
    ],
)
def test_a_bad_search_is_refused_with_the_reason(
    client: TestClient, params: dict[str, Any], detail: str
) -> None:
    response = client.get("/catalogue/tools", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail


def test_the_longest_allowed_search_is_answered(client: TestClient) -> None:
    response = client.get("/catalogue/tools", params={"q": "housing " * 25, "limit": 100})
    assert response.status_code == 200
