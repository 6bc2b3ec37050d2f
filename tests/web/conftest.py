"""Browser fixtures: one Chromium and one real national node per test session (per xdist worker),
and a fresh watched page per test (see browser.py for what a page may not do)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ..integration.harness import Node, make_node, stop_process
from .browser import launch_chromium, require_chromium, watched_page
from .global_world import GlobalWorld, after_global_start, prepare_global
from .world import WebWorld, after_start, prepare, smtp_server, staff_work


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    """A national node (`node init`, then `node serve` as uvicorn in its own process) on a free
    loopback port, with its own SQLite database, what world.py puts on it, and the SMTP server
    it sends its mail to; stopped when the session ends."""
    started: list[subprocess.Popen[bytes]] = []
    node = make_node(tmp_path_factory.mktemp("web"), "KE", started)
    with smtp_server() as (mailbox, smtp_port):
        try:
            prepared = prepare(node, smtp_port)
            node.start()
            world = WebWorld(node, mailbox, prepared.review, prepared.people, prepared.certificates)
            world.reviewed_application = after_start(node, prepared)
            world.ids = staff_work(node, prepared, world.reviewed_application)
            yield world
        finally:
            for process in started:
                stop_process(process)


@pytest.fixture(scope="session")
def global_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GlobalWorld]:
    """A global node (`node init`, `node serve`) with its own SQLite database and what
    global_world.py puts on it; stopped when the session ends."""
    started: list[subprocess.Popen[bytes]] = []
    node = make_node(tmp_path_factory.mktemp("web-global"), "global", started)
    try:
        people = prepare_global(node)
        node.start()
        yield GlobalWorld(node, people, after_global_start(node, people))
    finally:
        for process in started:
            stop_process(process)


@pytest.fixture(scope="session")
def national_node(web_world: WebWorld) -> Node:
    return web_world.node


@pytest.fixture
def national_page(chromium: Browser, national_node: Node) -> Iterator[Page]:
    """A page bound to the national node: `page.goto("/docs")` opens its `/docs`."""
    with watched_page(chromium, national_node.url) as page:
        yield page
