"""The global node, with members that report (tests/node/ingest) and their logs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ..ingest.conftest import (  # noqa: F401 - fixtures
    MakeMember,
    backend,
    client,
    make_member,
    secretariat,
)
from .factories import MemberLog

MakeLog = Callable[..., MemberLog]


@pytest.fixture
def make_log(client: TestClient, make_member: MakeMember) -> MakeLog:  # noqa: F811
    def make(node_id: str = "KE") -> MemberLog:
        return MemberLog(make_member(node_id), client)

    return make
