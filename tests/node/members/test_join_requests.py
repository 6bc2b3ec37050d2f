"""Join requests: one pending per node id, and in production a base URL that is https on a
public host (the outbound client checks the address again at each connection:
tests/node/test_outbound.py)."""

from __future__ import annotations

import re

import httpcore
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sdgcities.credentials import SigningKey
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.config import Environment, Settings
from sdgcities.node.db import alembic_config, make_engine
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.members.service import submit_join_request

from ...conftest import TemporaryDatabases
from ..conftest import Backend, MakeAccount

PUBLIC = "93.184.216.34"
DNS = {
    "ke.sdgcities.example": [PUBLIC],
    "internal.example": [PUBLIC, "10.0.0.5"],
    "empty.example": [],
}


def _resolve(host: str, _port: int) -> list[str]:
    return DNS[host]


def _token(base_url: str, node_id: str = "KE") -> str:
    return JoinRequest.sign(
        node_id=node_id, base_url=base_url, name="node", key=SigningKey.generate()
    )


def _in(environment: Environment, backend: Backend) -> Settings:
    return backend.settings.model_copy(update={"environment": environment})


REFUSED_IN_PRODUCTION = {
    "http://127.0.0.1:8000": "must be https in production",
    "https://127.0.0.1": "127.0.0.1 is not a public address",
    "https://10.1.2.3": "10.1.2.3 is not a public address",
    "https://169.254.169.254": "169.254.169.254 is not a public address",
    "https://[::1]:8443": "::1 is not a public address",
    "https://[::ffff:10.0.0.1]": "::ffff:10.0.0.1 is not a public address",
    "https://[fd00:ec2::254]": "fd00:ec2::254 is not a public address",
    "https://localhost": "localhost is not a public host",
    "https://internal.example": "internal.example resolves to 10.0.0.5",
    "https://empty.example": "empty.example resolves to nothing",
}


@pytest.mark.parametrize("base_url", sorted(REFUSED_IN_PRODUCTION))
def test_production_refuses_a_base_url_that_is_not_https_on_a_public_host(
    backend: Backend, session: Session, base_url: str
) -> None:
    with pytest.raises(InvalidRequest, match=re.escape(REFUSED_IN_PRODUCTION[base_url])):
        submit_join_request(
            session=session,
            settings=_in(Environment.PRODUCTION, backend),
            token=_token(base_url),
            resolve=_resolve,
        )


def test_production_accepts_https_on_a_public_host(backend: Backend, session: Session) -> None:
    row = submit_join_request(
        session=session,
        settings=_in(Environment.PRODUCTION, backend),
        token=_token("https://ke.sdgcities.example"),
        resolve=_resolve,
    )
    assert row.payload["baseUrl"] == "https://ke.sdgcities.example"


def test_production_refuses_a_host_that_does_not_resolve(
    backend: Backend, session: Session
) -> None:
    def unresolvable(host: str, _port: int) -> list[str]:
        raise httpcore.ConnectError(f"{host} cannot be resolved: no such name")

    with pytest.raises(InvalidRequest, match=r"nowhere\.example cannot be resolved"):
        submit_join_request(
            session=session,
            settings=_in(Environment.PRODUCTION, backend),
            token=_token("https://nowhere.example"),
            resolve=unresolvable,
        )


@pytest.mark.parametrize("base_url", sorted(REFUSED_IN_PRODUCTION))
def test_development_accepts_any_host(backend: Backend, session: Session, base_url: str) -> None:
    row = submit_join_request(
        session=session,
        settings=_in(Environment.DEVELOPMENT, backend),
        token=_token(base_url),
        resolve=_resolve,
    )
    assert row.state.value == "pending"


def test_a_refused_request_lets_the_next_one_wait(
    client: TestClient, make_account: MakeAccount
) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    first = client.post("/federation/join", json={"token": _token("https://ke.example.org")})
    assert first.status_code == 202
    second = client.post("/federation/join", json={"token": _token("https://ke.example.org")})
    assert second.status_code == 409
    refused = client.post(
        f"/federation/join-requests/{first.json()['id']}/refuse",
        headers=secretariat.headers,
        json={"reason": "not the ministry"},
    )
    assert refused.status_code == 200, refused.text

    again = client.post("/federation/join", json={"token": _token("https://ke.example.org")})
    assert again.status_code == 202


def _insert(session: Session, node_id: str, state: str) -> None:
    session.execute(
        text(
            "INSERT INTO join_request (node_id, payload, token, state, received_at) "
            "VALUES (:node_id, '{}', 't', :state, '2026-01-01 00:00:00+00:00')"
        ),
        {"node_id": node_id, "state": state},
    )


def test_the_database_holds_one_pending_request_per_node_id(session: Session) -> None:
    """What makes two requests sent at the same moment end as one 202 and one 409."""
    _insert(session, "KE", "refused")
    _insert(session, "KE", "refused")
    _insert(session, "KE", "pending")
    _insert(session, "UG", "pending")
    with pytest.raises(IntegrityError), session.begin_nested():
        _insert(session, "KE", "pending")


def test_the_migration_refuses_pending_duplicates_an_earlier_version_let_in(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    engine = make_engine(databases.create(backend.name))
    try:
        command.upgrade(alembic_config(engine), "0005mem")
        with engine.begin() as connection, Session(bind=connection) as session:
            for node_id in ("KE", "KE", "KE", "UG"):
                _insert(session, node_id, "pending")
        command.upgrade(alembic_config(engine), "0010join")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT node_id, state, reason FROM join_request ORDER BY id")
            ).all()
    finally:
        engine.dispose()

    duplicate = "another join request for this node id was already pending"
    assert [tuple(row) for row in rows] == [
        ("KE", "pending", None),
        ("KE", "refused", duplicate),
        ("KE", "refused", duplicate),
        ("UG", "pending", None),
    ]
