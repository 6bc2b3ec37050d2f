"""Browser fixtures: one Chromium and one real national node per test session (per xdist worker),
and a fresh watched page per test (see browser.py for what a page may not do)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ..integration.harness import Node, make_node, stop_process
from .browser import launch_chromium, require_chromium, watched_page


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
def national_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A national node (`node init`, then `node serve` as uvicorn in its own process) on a free
    loopback port, with its own SQLite database; stopped when the session ends."""
    started: list[subprocess.Popen[bytes]] = []
    node = make_node(tmp_path_factory.mktemp("web"), "KE", started)
    try:
        node.start()
        yield node
    finally:
        for process in started:
            stop_process(process)


@pytest.fixture
def national_page(chromium: Browser, national_node: Node) -> Iterator[Page]:
    """A page bound to the national node: `page.goto("/docs")` opens its `/docs`."""
    with watched_page(chromium, national_node.url) as page:
        yield page
