from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.catalogue.service import create_tool

MakeTool = Callable[..., Tool]


def tool_fields(**fields: Any) -> dict[str, Any]:
    """A valid request body for a new entry, with `fields` replacing the defaults."""
    return {
        "kind": "tool",
        "title": "Generic planning note",
        "summary": "Guidance for local governments.",
        "link": "https://unhabitat.org",
        "criteria": [],
        "themes": [],
        "languages": ["en"],
        "provider": "UN-Habitat",
    } | fields


@pytest.fixture
def make_tool(session: Session) -> MakeTool:
    """`make_tool(title=..., summary=..., ...)`: a stored, active catalogue entry."""

    def make(**fields: Any) -> Tool:
        tool = create_tool(
            session=session, data=ToolCreate.model_validate(tool_fields(**fields)), actor=SYSTEM
        )
        session.commit()
        return tool

    return make
