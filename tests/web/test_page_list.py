"""The axe-core test's list of pages is complete: every GET page route a national or the global
node registers is either visited (`PAGES`) or set aside with its reason (`NOT_VISITED`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from sdgcities.node.app import create_app, page_routes
from sdgcities.node.config import Settings
from sdgcities.node.db import make_engine, migrate
from sdgcities.node.identity.service import create_signing_key

from .page_list import NOT_VISITED, PAGES, NodeName

NODE_IDS: dict[NodeName, str] = {"national": "KE", "global": "global"}


def registered_pages(data_dir: Path, node_id: str) -> set[str]:
    """The GET page routes of a fresh node `node_id`'s app."""
    settings = Settings(
        node_id=node_id,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'node.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with Session(engine) as session:
            create_signing_key(session=session, settings=settings)
            session.commit()
        app = create_app(settings, engine=engine)
        return {route.path for route in page_routes(app) if "GET" in route.methods}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[NodeName, set[str]]:
    return {
        node: registered_pages(tmp_path_factory.mktemp(node_id), node_id)
        for node, node_id in NODE_IDS.items()
    }


def test_every_page_route_is_visited_or_set_aside(registered: dict[NodeName, set[str]]) -> None:
    visited = {page.route for page in PAGES.values()}
    unchecked = (registered["national"] | registered["global"]) - visited - NOT_VISITED.keys()
    assert not unchecked, f"add these page routes to tests/web/page_list.py: {sorted(unchecked)}"
    assert not visited & NOT_VISITED.keys()


def test_every_listed_route_is_registered_on_its_node(
    registered: dict[NodeName, set[str]],
) -> None:
    for name, page in PAGES.items():
        if name != "not-found":  # the one page whose route is, on purpose, no route
            assert page.route in registered[page.node], (name, page.route, page.node)
    stale = NOT_VISITED.keys() - registered["national"] - registered["global"]
    assert not stale, f"no longer registered: {sorted(stale)}"


def test_the_global_console_is_only_on_the_global_node(
    registered: dict[NodeName, set[str]],
) -> None:
    console = {page.route for page in PAGES.values() if page.node == "global"}
    assert console <= registered["global"] - registered["national"]
