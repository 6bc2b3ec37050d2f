"""Registry fixtures: a `Registrar` for certificates at chosen dates, and the committee `desk`
(see `..certification`) for certificates taken through the whole workflow."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from ..certification import Desk, desk
from ..conftest import Backend, MakeFramework
from .factories import Registrar


@pytest.fixture
def registrar(session: Session, backend: Backend, make_framework: MakeFramework) -> Registrar:
    return Registrar(session=session, state=backend.app.state.node, framework_id=make_framework())


__all__ = ["Desk", "Registrar", "desk", "registrar"]
