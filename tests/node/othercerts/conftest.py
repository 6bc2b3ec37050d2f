from __future__ import annotations

import pytest
from sqlmodel import Session

from ..conftest import Backend, MakeAccount, MakeCity, MakeFramework
from ..registry.factories import Registrar
from ..review.factories import ReviewWorld, make_world


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


@pytest.fixture
def registrar(session: Session, backend: Backend, world: ReviewWorld) -> Registrar:
    """Certificates for the world's cities, under the world's framework."""
    return Registrar(session=session, state=backend.app.state.node, framework_id=world.framework_id)
