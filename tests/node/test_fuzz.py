"""Schemathesis against the OpenAPI of both kinds of node, anonymous and as an administrator.

Every operation gets a bounded number of generated requests (fixed seed: the same requests on
every run), sent to the app in process, once anonymously and once as the administrator. No
answer may be a server error, and every answer must be what the document says: a documented
status, its content type, its schema. The whole run takes about 47 s of one core (78 s when each
caller had requests generated of its own); `FUZZ_EXAMPLES` sets how many requests an operation
gets and `FUZZ_DATABASE` the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import product
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlmodel import Session

from sdgcities.federation import REPORT_MEDIA_TYPE
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.cities.schemas import CityCreate
from sdgcities.node.cities.service import create_city
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.members.root_key import root_key_path

from ..conftest import TemporaryDatabases
from .conftest import ROOT_KEY

pytestmark = pytest.mark.slow

# Per operation and generation mode (values that fit the schema, and values that do not).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
# SQLite in the suite; `FUZZ_DATABASE=postgresql` for a run on the production database.
DATABASE = os.environ.get("FUZZ_DATABASE", "sqlite")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzedNode:
    app: FastAPI
    engine: Engine
    admin_token: str


def _node(node_id: str, databases: TemporaryDatabases, data_dir: Path) -> FuzzedNode:
    url = databases.create(DATABASE)
    settings = Settings(
        node_id=node_id,
        base_url=f"https://{node_id.lower()}.example.org",
        data_dir=data_dir,
        database_url=url,
        root_keys=[ROOT_KEY.public_key.to_jwk()],
        key_passphrase="fuzz-passphrase",
        _env_file=None,  # type: ignore[call-arg]
    )
    if settings.is_global:
        ROOT_KEY.save(
            root_key_path(settings, ROOT_KEY.kid), settings.key_passphrase.get_secret_value()
        )
    engine = make_engine(url)
    check_durability(engine)
    migrate(engine)
    with Session(engine) as session:
        create_signing_key(session=session, settings=settings)
        # A few rows, so that small ids find something and not every request is a 404.
        create_city(
            session=session,
            data=CityCreate(locode="KE-NBO", name="Nairobi"),
            node_id="KE",
            actor=SYSTEM,
        )
        admin = create_user(
            session=session,
            data=UserCreate(name="Fuzz admin", email="admin@example.org", role=Role.ADMINISTRATOR),
            actor=SYSTEM,
        )
        _, token = issue_token(
            session=session, user=admin, label="fuzz", lifetime=timedelta(days=1), actor=SYSTEM
        )
        session.commit()
    return FuzzedNode(create_app(settings, engine=engine), engine, token)


@pytest.fixture(scope="module", params=["KE", "global"])
def node(
    request: pytest.FixtureRequest,
    databases: TemporaryDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FuzzedNode]:
    node_id: str = request.param
    fuzzed = _node(node_id, databases, tmp_path_factory.mktemp(f"fuzz-{node_id}"))
    yield fuzzed
    fuzzed.engine.dispose()


@schemathesis.serializer(REPORT_MEDIA_TYPE)
def _compact_jws(_context: schemathesis.SerializationContext, value: object) -> bytes:
    """A report is a compact JWS sent as text: whatever was generated, as text."""
    return value.encode() if isinstance(value, str) else str(value).encode()


def test_every_answer_is_documented_and_none_is_a_server_error(node: FuzzedNode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", node.app)
    # Each generated request is sent by both, one after the other: generating it is most of
    # the fuzzer's time (hypothesis and schemathesis drawing values), calling the app the least.
    callers = {
        "anonymous": {},
        "administrator": {"Authorization": f"Bearer {node.admin_token}"},
    }
    failures: list[str] = []
    for result, mode in product(schema.get_all_operations(), GenerationMode):
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: schemathesis.Case) -> None:
            for caller, headers in callers.items():
                try:
                    case.call_and_validate(headers=headers, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:
                    exc.add_note(f"sent by the {caller}")
                    raise

        try:
            fuzz()
        except Unsatisfiable:
            pass  # no request breaks the schema of an operation that takes nothing
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            # The notes: who sent the request, and schemathesis's and hypothesis's way to
            # send it again.
            notes = "\n".join(getattr(exc, "__notes__", []))
            failures.append(f"== {operation.label} ({mode.value}): {str(exc)[:1500]}\n{notes}")
    assert not failures, "\n".join(failures)
