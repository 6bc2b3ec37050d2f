"""Node fixtures: one migrated database and one app per backend; each test in a rolled-back
transaction (warehouse's savepoint pattern), so tests stay fast and independent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from sdgcities.credentials import SigningKey
from sdgcities.node.accounts.models import Role, StakeholderCategory
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.cities.schemas import CityCreate
from sdgcities.node.cities.service import create_city
from sdgcities.node.config import Settings
from sdgcities.node.db import (
    SessionOpener,
    check_durability,
    make_engine,
    migrate,
    session_scope,
)
from sdgcities.node.deps import get_read_session, get_read_session_opener, get_session
from sdgcities.node.identity.service import create_signing_key

from ..conftest import BACKENDS, TEST_PASSWORD_HASH_COST, TemporaryDatabases
from .framework_versions import make_framework_version

# The global root key of the test federation: fixed, so that tokens signed in one test run are
# reproducible; every test node pins its public half.
ROOT_KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
NO_RATE_LIMITS: dict[str, int] = {
    "rate_limit_verify_per_minute": 0,
    "rate_limit_join_per_hour": 0,
    "rate_limit_sign_in_per_minute": 0,
    "rate_limit_watch_per_hour": 0,
}
ROOT_DID = "did:web:global.example.org"


@dataclass
class Backend:
    name: str
    engine: Engine
    settings: Settings
    app: FastAPI


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    databases: TemporaryDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Backend]:
    name: str = request.param
    url = databases.create(name)
    data_dir: Path = tmp_path_factory.mktemp(f"node-{name}")
    settings = Settings(
        node_id="KE",
        data_dir=data_dir,
        database_url=url,
        root_keys=[ROOT_KEY.public_key.to_jwk()],
        # One app serves the whole session from one address: rate limits are tested on apps of
        # their own (test_rate_limit.py).
        **NO_RATE_LIMITS,
        password_hash_cost=TEST_PASSWORD_HASH_COST,
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(url)
    check_durability(engine)
    migrate(engine)
    with Session(engine) as session:
        create_signing_key(session=session, settings=settings)
        session.commit()
    yield Backend(name, engine, settings, create_app(settings, engine=engine))
    engine.dispose()


@pytest.fixture
def connection(backend: Backend) -> Iterator[Connection]:
    with backend.engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _savepoint_session(connection: Connection) -> Session:
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with _savepoint_session(connection) as session:
        yield session


@asynccontextmanager
async def _no_lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def client(
    backend: Backend, connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    def savepoint_session() -> Iterator[Session]:
        with _savepoint_session(connection) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def same_session(session: Annotated[Session, Depends(get_session)]) -> Session:
        return session

    def savepoint_session_opener() -> SessionOpener:
        return contextmanager(savepoint_session)

    backend.app.dependency_overrides[get_session] = savepoint_session
    # Reads and writes share the test's one savepoint session, so they see each other's rows.
    backend.app.dependency_overrides[get_read_session] = same_session
    backend.app.dependency_overrides[get_read_session_opener] = savepoint_session_opener
    # The app outlives the test's rolled-back rows: what it cached of them must go too.
    backend.app.state.node.verifiers.reset()
    # Without the app's lifespan: it would start and stop the once-per-node duties and the
    # change listener around every test, on the committed database, where a test's rolled-back
    # rows never are; that was a ninth of these tests' CPU, for nothing they assert (every one
    # passes without it). The duties are tested on their own and on served nodes.
    monkeypatch.setattr(backend.app.router, "lifespan_context", _no_lifespan)
    with TestClient(backend.app, raise_server_exceptions=True) as test_client:
        yield test_client
    backend.app.dependency_overrides.clear()


@dataclass
class Account:
    user_id: int
    role: Role
    token: str
    city_locode: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeAccount = Callable[..., Account]


@pytest.fixture
def make_account(session: Session) -> MakeAccount:
    counter = iter(range(1_000_000))

    def make(role: Role, *, city_locode: str | None = None, **fields: object) -> Account:
        n = next(counter)
        defaults: dict[str, object] = {
            "name": f"{role.value} {n}",
            "email": f"{role.value}.{n}@example.org",
            "role": role,
            "city_locode": city_locode,
        }
        if role is Role.COMMITTEE_MEMBER:
            defaults["stakeholder_category"] = StakeholderCategory.CIVIL_SOCIETY
        user = create_user(
            session=session, data=UserCreate.model_validate({**defaults, **fields}), actor=SYSTEM
        )
        _, secret = issue_token(
            session=session, user=user, label="test", lifetime=timedelta(days=1), actor=SYSTEM
        )
        session.commit()
        assert user.id is not None
        return Account(user.id, role, secret, city_locode)

    return make


MakeCity = Callable[..., str]


@pytest.fixture
def make_city(session: Session, backend: Backend) -> MakeCity:
    def make(locode: str = "KE-NBO", name: str = "Nairobi", **fields: object) -> str:
        create_city(
            session=session,
            data=CityCreate.model_validate({"locode": locode, "name": name, **fields}),
            node_id=backend.settings.node_id,
            actor=SYSTEM,
        )
        session.commit()
        return locode

    return make


@pytest.fixture
def admin(make_account: MakeAccount) -> Account:
    return make_account(Role.ADMINISTRATOR)


MakeFramework = Callable[..., int]


@pytest.fixture
def make_framework(session: Session, backend: Backend) -> MakeFramework:
    """`make_framework(framework_id=..., version=..., publish=..., endorse=...)`: the id of a
    national framework version of the test node, endorsed by `ROOT_KEY` unless told otherwise."""

    def make(**options: object) -> int:
        version = make_framework_version(
            session=session, settings=backend.settings, root_key=ROOT_KEY, **options
        )
        assert version.id is not None
        return version.id

    return make


__all__ = [
    "ROOT_DID",
    "ROOT_KEY",
    "Account",
    "Backend",
    "MakeAccount",
    "MakeCity",
    "MakeFramework",
    "session_scope",
]
