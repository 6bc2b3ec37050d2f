from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from sdgcities.credentials import (
    Algorithm,
    JwsToken,
    KeyPeriod,
    KeyStatus,
    PublicKey,
    SigningKey,
)
from sdgcities.credentials import Error as CredentialsError
from sdgcities.node.config import Settings
from sdgcities.node.errors import Conflict

from .models import NodeKey


def key_path(settings: Settings, kid: str) -> Path:
    return settings.key_dir / f"{kid}.pem"


def names_key(token: str, *, typ: str, kid: str) -> bool:
    """Whether the compact JWS `token`'s header names the key whose thumbprint is `kid` (its DID
    URL's fragment, DESIGN §3). The signature is not checked."""
    try:
        return JwsToken.parse(token, typ=typ).thumbprint == kid
    except CredentialsError:
        return False


def create_signing_key(
    *, session: Session, settings: Settings, algorithm: Algorithm = Algorithm.EDDSA
) -> SigningKey:
    """A new active key, saved encrypted; the file is written before the row is committed."""
    key = SigningKey.generate(algorithm)
    key.save(key_path(settings, key.kid), settings.key_passphrase.get_secret_value())
    session.add(
        NodeKey(kid=key.kid, algorithm=key.algorithm.value, public_jwk=key.public_key.to_jwk())
    )
    session.flush()
    return key


def active_key_row(*, session: Session) -> NodeKey | None:
    return session.exec(
        select(NodeKey)
        .where(NodeKey.status == KeyStatus.ACTIVE)
        .order_by(col(NodeKey.valid_from).desc())
    ).first()


def load_active_key(*, session: Session, settings: Settings) -> SigningKey:
    row = active_key_row(session=session)
    if row is None:
        raise Conflict("this node has no active signing key: run `sdgcities node init`")
    key = SigningKey.load(key_path(settings, row.kid), settings.key_passphrase.get_secret_value())
    if key.kid != row.kid:
        raise Conflict(f"key file for {row.kid} holds another key")
    return key


def published_keys(*, session: Session) -> list[KeyPeriod]:
    """Every key that may still verify something: active and retired, never compromised."""
    rows = session.exec(
        select(NodeKey)
        .where(NodeKey.status != KeyStatus.COMPROMISED)
        .order_by(col(NodeKey.valid_from))
    ).all()
    return [
        KeyPeriod(
            public_key=PublicKey.from_jwk(row.public_jwk),
            status=row.status,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status_since=row.status_since,
        )
        for row in rows
    ]
