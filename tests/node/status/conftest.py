from __future__ import annotations

from typing import Any

import pytest

from sdgcities.credentials import JwsToken, StatusList
from sdgcities.node.state import NodeState

from ..conftest import Backend


@pytest.fixture
def state(backend: Backend) -> NodeState:
    return backend.app.state.node  # type: ignore[no-any-return]


def read_list(token: str, state: NodeState) -> StatusList:
    """The list a verifier reads from `token`, checked with the node's public key."""
    payload: dict[str, Any] = JwsToken.parse(token, typ="vc+jwt").verify(
        state.signing_key.public_key
    )
    return StatusList.from_payload(payload)
