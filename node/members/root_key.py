"""The global root key: created by `node init --node-id global`, separate from the node key.

Stored encrypted in the data folder as `keys/root-<kid>.pem` (the node's key passphrase); the
public JWK is also written to `root-key.json`, and the node pins it like any verifier does.
"""

from __future__ import annotations

import json
from pathlib import Path

from sdgcities.credentials import SigningKey
from sdgcities.node.config import Settings
from sdgcities.node.errors import Conflict

ROOT_KEY_JSON = "root-key.json"


def root_key_path(settings: Settings, kid: str) -> Path:
    return settings.key_dir / f"root-{kid}.pem"


def create_root_key(*, settings: Settings) -> SigningKey:
    key = SigningKey.generate()
    key.save(root_key_path(settings, key.kid), settings.key_passphrase.get_secret_value())
    (settings.data_dir / ROOT_KEY_JSON).write_text(
        json.dumps(key.public_key.to_jwk(), indent=2) + "\n", encoding="utf-8"
    )
    return key


def load_root_key(*, settings: Settings) -> SigningKey | None:
    """On the global node, the pinned root key whose private half is in the data folder."""
    if not settings.is_global:
        return None
    for public in settings.pinned_root_keys:
        path = root_key_path(settings, public.kid)
        if path.exists():
            key = SigningKey.load(path, settings.key_passphrase.get_secret_value())
            if key.kid != public.kid:
                raise Conflict(f"root key file for {public.kid} holds another key")
            return key
    return None
