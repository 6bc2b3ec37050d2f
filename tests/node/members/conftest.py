"""A global node per backend: the trust registry's routes exist only there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from sdgcities.node.app import create_app
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.members.root_key import root_key_path

from ...conftest import BACKENDS, TemporaryDatabases
from ..conftest import NO_RATE_LIMITS, ROOT_KEY, Backend


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    databases: TemporaryDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Backend]:
    """Overrides the national node of `tests/node/conftest.py` with a global one."""
    backend_name: str = request.param
    url = databases.create(backend_name)
    data_dir: Path = tmp_path_factory.mktemp(f"global-{backend_name}")
    settings = Settings(
        node_id="global",
        node_name="SDG Cities global node",
        base_url="https://global.example.org",
        key_passphrase="test-passphrase",  # the development one is for loopback nodes only
        data_dir=data_dir,
        database_url=url,
        root_keys=[ROOT_KEY.public_key.to_jwk()],
        **NO_RATE_LIMITS,
        _env_file=None,  # type: ignore[call-arg]
    )
    ROOT_KEY.save(root_key_path(settings, ROOT_KEY.kid), settings.key_passphrase.get_secret_value())
    engine = make_engine(url)
    check_durability(engine)
    migrate(engine)
    with Session(engine) as session:
        create_signing_key(session=session, settings=settings)
        session.commit()
    yield Backend(backend_name, engine, settings, create_app(settings, engine=engine))
    engine.dispose()
