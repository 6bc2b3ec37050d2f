"""Creating a node: data folder, schema, signing key, first administrator and token."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from sdgcities.cli.errors import CliError, ExitCode
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.service import seed_catalogue
from sdgcities.node.config import (
    NODE_ENV_FILE,
    SQLITE_FILE,
    Settings,
    get_settings,
    settings_problems,
    write_node_env,
)
from sdgcities.node.db import (
    check_durability,
    describe_connection_failure,
    make_engine,
    migrate,
)
from sdgcities.node.identity.service import active_key_row, create_signing_key
from sdgcities.node.members.root_key import create_root_key

# The settings `node init` takes as options: a problem with one names the option.
INIT_OPTIONS = {
    "node_id": "--node-id",
    "node_name": "--name",
    "base_url": "--base-url",
    "database_url": "--database-url",
    "global_url": "--global-url",
    "name": "--admin-name",
    "email": "--admin-email",
}


class DatabaseUnreachable(Exception):
    """The database cannot be reached (missing, refused, wrong role): nothing was created."""


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
    global_url: str | None = None,
    root_keys: list[dict[str, str]] | None = None,
) -> dict[str, str]:
    connection: dict[str, object] = {"global_url": global_url} if global_url else {}
    if root_keys is not None:  # otherwise the environment's SDGCITIES_ROOT_KEYS, if any
        connection["root_keys"] = root_keys
    try:
        settings = get_settings(
            data_dir=data_dir,
            node_id=node_id,
            node_name=name,
            base_url=base_url,
            database_url=database_url,
            **connection,
        )
        admin = UserCreate(name=admin_name, email=admin_email, role=Role.ADMINISTRATOR)
    except ValidationError as exc:
        raise ValueError("\n".join(settings_problems(exc, names=INIT_OPTIONS))) from exc
    embedded = settings.database_url is None
    if embedded:
        _make_private_data_dir(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        try:
            check_durability(engine)  # PostgreSQL's first connection: before anything is written
        except OperationalError as exc:
            reason = describe_connection_failure(exc, url=settings.sqlalchemy_url)
            raise DatabaseUnreachable(reason or str(exc)) from exc
        if not embedded:
            _make_private_data_dir(settings)
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
        "base_url": settings.base_url,
    }
    if settings.global_url:
        result["global_url"] = settings.global_url
    if settings.is_global:
        # The global node holds the federation's root key, apart from its node key, and pins
        # it like any verifier (node.env), so it verifies the trust lists it publishes.
        root = create_root_key(settings=settings)
        with (settings.data_dir / NODE_ENV_FILE).open("a", encoding="utf-8") as env:
            env.write(f"SDGCITIES_ROOT_KEYS={json.dumps([root.public_key.to_jwk()])}\n")
        result["root_thumbprint"] = root.kid
    return result


def _make_private_data_dir(settings: Settings) -> None:
    """The data folder (0700) and the SQLite file (0600) are the node's alone, whatever the
    umask: they hold every city's evidence and the accounts. SQLite gives its -wal and -shm files
    the database file's mode, so the file is created before SQLite opens it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.data_dir.chmod(0o700)
    if settings.database_url is None:
        database = settings.data_dir / SQLITE_FILE
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        database.chmod(0o600)


def fetch_root_key(*, global_url: str, thumbprint: str, timeout: float = 10.0) -> dict[str, str]:
    """The global root key whose RFC 7638 thumbprint is `thumbprint`, from the global node's DID
    document. The thumbprint comes from the secretariat by a trusted channel; the network only
    supplies the key it names, so a wrong or spoofed global node cannot slip in another root."""
    from sdgcities.credentials import Error as CredentialsError
    from sdgcities.credentials import MalformedError, PublicKey, normalise_base_url

    from ._http import FetchError, fetch_json, new_client

    try:
        base = normalise_base_url(global_url)
    except MalformedError as exc:
        raise CliError(f"--global-url: {exc}", ExitCode.USAGE) from exc
    url = f"{base}/.well-known/did.json"
    try:
        with new_client(timeout=timeout) as client:
            document = fetch_json(client, url)
    except FetchError as exc:
        raise CliError(
            f"cannot fetch the global node's keys ({exc}); check --global-url, or try again "
            "once the global node answers",
            ExitCode.CANNOT_DECIDE,
        ) from exc
    methods = document.get("verificationMethod") if isinstance(document, dict) else None
    for method in methods if isinstance(methods, list) else []:
        jwk = method.get("publicKeyJwk") if isinstance(method, dict) else None
        if not isinstance(jwk, dict):
            continue
        try:
            key = PublicKey.from_jwk(jwk)
        except CredentialsError:
            continue
        if key.kid == thumbprint:
            return key.to_jwk()
    raise CliError(
        f"the global node at {base} publishes no root key with thumbprint {thumbprint}: "
        "check the thumbprint (the global secretariat gives it) and --global-url",
        ExitCode.NOT_VALID,
    )
