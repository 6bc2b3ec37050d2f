"""Creating a node: data folder, schema, signing key, first administrator and token."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.service import seed_catalogue
from sdgcities.node.config import NODE_ENV_FILE, get_settings, write_node_env
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.identity.service import active_key_row, create_signing_key
from sdgcities.node.members.root_key import create_root_key


class NodeAlreadyInitialised(Exception):
    """The data folder already holds a node: initialising again would replace its identity."""


def initialise_node(
    *,
    data_dir: Path,
    node_id: str,
    name: str,
    base_url: str,
    database_url: str | None,
    admin_email: str,
    admin_name: str,
) -> dict[str, str]:
    try:
        settings = get_settings(
            data_dir=data_dir,
            node_id=node_id,
            node_name=name,
            base_url=base_url,
            database_url=database_url,
        )
        admin = UserCreate(name=admin_name, email=admin_email, role=Role.ADMINISTRATOR)
    except ValidationError as exc:
        raise ValueError(_first_problem(exc)) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        check_durability(engine)
        migrate(engine)
        with Session(engine) as session:
            if active_key_row(session=session) is not None:
                raise NodeAlreadyInitialised(f"{data_dir} already holds an initialised node")
            key = create_signing_key(session=session, settings=settings)
            # A new node starts with the curated tools and case studies (§25, §37).
            seed_catalogue(session=session)
            user = create_user(session=session, data=admin, actor=SYSTEM)
            _, token = issue_token(
                session=session,
                user=user,
                label="first administrator (node init)",
                lifetime=timedelta(days=settings.token_lifetime_days),
                actor=SYSTEM,
            )
            session.commit()
    finally:
        engine.dispose()
    write_node_env(settings)
    result = {
        "node_id": settings.node_id,
        "data_dir": str(settings.data_dir),
        "did": settings.did,
        "kid": key.kid,
        "admin_token": token,
    }
    if settings.is_global:
        # The global node holds the federation's root key, apart from its node key, and pins
        # it like any verifier (node.env), so it verifies the trust lists it publishes.
        root = create_root_key(settings=settings)
        with (settings.data_dir / NODE_ENV_FILE).open("a", encoding="utf-8") as env:
            env.write(f"SDGCITIES_ROOT_KEYS={json.dumps([root.public_key.to_jwk()])}\n")
        result["root_thumbprint"] = root.kid
    return result


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
