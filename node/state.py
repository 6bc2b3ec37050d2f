"""What a running node holds between requests: settings, engine, signing key, stores."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from sdgcities.credentials import SigningKey

from .config import Settings
from .verification.service import VerifierCache


@dataclass
class NodeState:
    settings: Settings
    engine: Engine
    signing_key: SigningKey
    http: httpx.Client
    verifiers: VerifierCache
