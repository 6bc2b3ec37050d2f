from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sdgcities.node.deps import Admin, Anyone, ReadSessionDep, SessionDep
from sdgcities.node.schemas import Id, Offset

from . import service
from .models import ToolKind
from .schemas import (
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    CriterionCode,
    LanguageTag,
    Theme,
    ToolCreate,
    ToolPublic,
    ToolsPublic,
    ToolUpdate,
)

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.get("/tools")
def search_tools(
    session: ReadSessionDep,
    _actor: Anyone,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description='Words that must appear, "a phrase", -excluded, `or` between choices',
        ),
    ] = None,
    criterion: Annotated[
        list[CriterionCode] | None, Query(max_length=20, description="Any of these codes")
    ] = None,
    theme: Annotated[list[Theme] | None, Query(max_length=20, description="Any of these")] = None,
    language: Annotated[LanguageTag | None, Query()] = None,
    kind: ToolKind | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
) -> ToolsPublic:
    """The catalogue's tools, case studies, services and training (§25, §37), best match first."""
    tools, count = service.search_tools(
        session=session,
        q=q,
        criteria=criterion,
        themes=theme,
        language=language,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return ToolsPublic(data=[ToolPublic.model_validate(t) for t in tools], count=count)


@router.get("/tools/{tool_id}")
def get_tool(session: ReadSessionDep, _actor: Anyone, tool_id: Id) -> ToolPublic:
    return ToolPublic.model_validate(service.get_tool_or_raise(session=session, tool_id=tool_id))


@router.post("/tools", status_code=status.HTTP_201_CREATED)
def create_tool(session: SessionDep, actor: Admin, body: ToolCreate) -> ToolPublic:
    return ToolPublic.model_validate(service.create_tool(session=session, data=body, actor=actor))


@router.patch("/tools/{tool_id}")
def update_tool(session: SessionDep, actor: Admin, tool_id: Id, body: ToolUpdate) -> ToolPublic:
    """Change an entry; `"active": true` brings back one that was deleted."""
    tool = service.get_tool_or_raise(session=session, tool_id=tool_id, include_inactive=True)
    return ToolPublic.model_validate(
        service.update_tool(session=session, tool=tool, data=body, actor=actor)
    )


@router.delete("/tools/{tool_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tool(session: SessionDep, actor: Admin, tool_id: Id) -> Response:
    """Hide an entry from the catalogue (kept, so that past stage reports can still cite it)."""
    tool = service.get_tool_or_raise(session=session, tool_id=tool_id, include_inactive=True)
    service.deactivate_tool(session=session, tool=tool, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
