from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Final

from sqlalchemy import ColumnElement, TableValuedAlias, exists, false, or_
from sqlmodel import Session, col, func, select

from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.audit.service import record
from sdgcities.node.errors import NotFound
from sdgcities.node.timeutil import utcnow

from .models import Tool, ToolKind
from .schemas import ToolCreate, ToolUpdate
from .search import TextQuery, keywords, ranked_matches

SEED_FILE: Final = "seed-tools.json"
_PACKAGE: Final = __name__.rpartition(".")[0]


def get_tool_or_raise(*, session: Session, tool_id: int, include_inactive: bool = False) -> Tool:
    tool = session.get(Tool, tool_id)
    if tool is None or not (tool.active or include_inactive):
        raise NotFound(f"no catalogue entry {tool_id}")
    return tool


def create_tool(*, session: Session, data: ToolCreate, actor: Actor) -> Tool:
    tool = Tool.model_validate(data.model_dump())
    session.add(tool)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="catalogue.tool.create",
        target_type="catalogue_tool",
        target_id=tool.id,
    )
    return tool


def update_tool(*, session: Session, tool: Tool, data: ToolUpdate, actor: Actor) -> Tool:
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(tool, name, value)
    tool.updated_at = utcnow()
    session.add(tool)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="catalogue.tool.update",
        target_type="catalogue_tool",
        target_id=tool.id,
        detail={"fields": sorted(changes)},
    )
    return tool


def deactivate_tool(*, session: Session, tool: Tool, actor: Actor) -> Tool:
    """Take a tool out of search. Asking twice is not an error, and is recorded once."""
    if not tool.active:
        return tool
    tool.active = False
    tool.updated_at = utcnow()
    session.add(tool)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="catalogue.tool.deactivate",
        target_type="catalogue_tool",
        target_id=tool.id,
    )
    return tool


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _items(session: Session, json_list: Any) -> TableValuedAlias:
    """The strings of a JSON list column, as a table (`value`) to correlate with each tool."""
    if _dialect(session) == "postgresql":
        return func.json_array_elements_text(json_list).table_valued("value")
    return func.json_each(json_list).table_valued("value")


def _holds_any(session: Session, json_list: Any, values: Sequence[str]) -> ColumnElement[bool]:
    items = _items(session, json_list)
    return exists(select(1).select_from(items).where(items.c.value.in_(values)))


def _speaks(session: Session, language: str) -> ColumnElement[bool]:
    # By language, not region: a filter on `es` finds `es-MX`, and one on `es-MX` finds `es`.
    primary = language.split("-")[0]
    items = _items(session, Tool.languages)
    condition = or_(
        items.c.value == primary, items.c.value.startswith(f"{primary}-", autoescape=True)
    )
    return exists(select(1).select_from(items).where(condition))


def search_tools(
    *,
    session: Session,
    q: str | None = None,
    criteria: Sequence[str] | None = None,
    themes: Sequence[str] | None = None,
    language: str | None = None,
    kind: ToolKind | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Tool], int]:
    """Active tools, best match first when `q` is given, else by title; and how many in all.

    Filters combine (all must hold); within `criteria` or `themes` any one value will do.
    `q` is web-search syntax (see `search`); a `q` with no word in it finds nothing.
    """
    text = TextQuery.parse(q) if q is not None and q.strip() else None
    return _search(
        session=session,
        text=text,
        criteria=criteria,
        themes=themes,
        language=language,
        kind=kind,
        limit=limit,
        offset=offset,
    )


def _search(
    *,
    session: Session,
    text: TextQuery | None,
    criteria: Sequence[str] | None = None,
    themes: Sequence[str] | None = None,
    language: str | None = None,
    kind: ToolKind | None = None,
    exclude_ids: Sequence[int] = (),
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Tool], int]:
    conditions: list[ColumnElement[bool]] = [col(Tool.active).is_(True)]
    if criteria:
        conditions.append(_holds_any(session, Tool.criteria, criteria))
    if themes:
        # Spelt as stored (`schemas.normalise_theme`), so that "Urban  Crisis" finds "urban crisis".
        spelt = [" ".join(theme.split()).lower() for theme in themes]
        conditions.append(_holds_any(session, Tool.themes, spelt))
    if language:
        conditions.append(_speaks(session, language))
    if kind is not None:
        conditions.append(col(Tool.kind) == kind)
    if exclude_ids:
        conditions.append(col(Tool.id).not_in(exclude_ids))

    query = select(Tool)
    count = select(func.count()).select_from(Tool)
    order: list[Any] = []
    if text is not None:
        if not text:
            conditions.append(false())
        else:
            matches = ranked_matches(text, dialect=_dialect(session))
            query = query.join(matches, matches.c.id == Tool.id)
            count = count.join(matches, matches.c.id == Tool.id)
            order.append(matches.c.rank.desc())
    order += [func.lower(Tool.title), col(Tool.id)]
    tools = session.exec(query.where(*conditions).order_by(*order).offset(offset).limit(limit))
    return list(tools.all()), session.exec(count.where(*conditions)).one()


def match_tools_for_gaps(
    *,
    session: Session,
    criteria_codes: Sequence[str],
    texts: Mapping[str, str] | None = None,
    language: str | None = None,
    per_gap: int = 3,
) -> dict[str, list[Tool]]:
    """For each unmet criterion, up to `per_gap` active tools that address it (§25, §37).

    Tools an administrator tagged with the code come first (those whose words also match the
    criterion's text in `texts` before the others); the rest of the places go to the best
    full-text matches on the text's distinctive words. `texts` is passed in, rather than read from
    the criteria framework, so that the caller chooses the framework version and its language.
    """
    texts = texts or {}
    found: dict[str, list[Tool]] = {}
    for code in dict.fromkeys(criteria_codes):
        words = keywords(texts.get(code, ""))
        text = TextQuery.any_of(words) if words else None
        tagged, _ = _search(
            session=session, text=None, criteria=[code], language=language, limit=None
        )
        if text is not None and len(tagged) > 1:
            by_text, _ = _search(
                session=session, text=text, criteria=[code], language=language, limit=None
            )
            order = {tool.id: position for position, tool in enumerate(by_text)}
            tagged.sort(key=lambda tool: order.get(tool.id, len(order)))
        chosen = tagged[:per_gap]
        if text is not None and len(chosen) < per_gap:
            more, _ = _search(
                session=session,
                text=text,
                language=language,
                exclude_ids=[tool.id for tool in chosen if tool.id is not None],
                limit=per_gap - len(chosen),
            )
            chosen += more
        found[code] = chosen
    return found


def load_seed() -> list[ToolCreate]:
    """The curated starting catalogue shipped with the node (`data/seed-tools.json`)."""
    document = json.loads((resources.files(_PACKAGE) / "data" / SEED_FILE).read_bytes())
    return [ToolCreate.model_validate(entry) for entry in document["tools"]]


def seed_catalogue(*, session: Session, actor: Actor = SYSTEM) -> int:
    """Fill an empty catalogue with the curated entries; returns how many were added.

    A catalogue with any entry, even a deactivated one, is left alone: an administrator's
    deletions and edits are never undone by running `node init` again.
    """
    if session.exec(select(func.count()).select_from(Tool)).one():
        return 0
    entries = load_seed()
    for entry in entries:
        session.add(Tool.model_validate(entry.model_dump()))
    session.flush()
    record(
        session=session,
        actor=actor,
        action="catalogue.seed",
        target_type="catalogue",
        target_id="seed-tools.json",
        detail={"added": len(entries)},
    )
    return len(entries)
