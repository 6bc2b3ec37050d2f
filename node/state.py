"""What a running node holds between requests: settings, engine, signing key, stores."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine

from sdgcities.credentials import SigningKey

from .config import Settings
from .registry.cache import RegistryCache
from .relay.wake import RelayWake
from .verification.service import VerifierCache


@dataclass
class NodeState:
    settings: Settings
    engine: Engine
    signing_key: SigningKey
    http: httpx.Client
    verifiers: VerifierCache
    # The global root key: on the global node only (its private half never leaves it).
    root_key: SigningKey | None = None
    # The certified cities as the public registry lists them (node.registry.cache).
    registry: RegistryCache = field(default_factory=RegistryCache)
    # Wakes the relay when this node becomes able to report (node.relay.tasks).
    relay_wake: RelayWake = field(default_factory=RelayWake)
