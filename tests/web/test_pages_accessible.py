"""axe-core on every page of the site (page_list.py), in English, Arabic and Chinese: no serious
or critical violation (colour contrast in English only: see CONTRAST_RULES); and, as on every
watched page, no console error and no request leaving the node.

Each person signs in once per module on their node, and keeps one open page there that every
visit of theirs navigates (browser.WatchedTab: opening a page cost Chromium more than loading
ours into it), so the two hundred-odd visits cost a page load and an axe run each; the global
node starts only for the console's pages. With AXE_SCREENSHOTS=FOLDER each page's screenshot is
saved there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from .browser import WatchedTab, assert_accessible, watched_page
from .global_world import GlobalWorld
from .page_list import PAGES, NodeName
from .world import Person, WebWorld

pytestmark = pytest.mark.slow

LANGUAGES = ("en", "ar", "zh")
# Colour contrast is a property of the stylesheet's colours, which every language shares: it is
# checked on every page in English. It is most of axe's time on a page (2.2 of 3.4 s measured on a
# loaded machine), so the Arabic and Chinese runs check everything else: the language and
# direction, names, labels, landmarks, structure.
CONTRAST_RULES = ("color-contrast",)
# A folder to save each page's screenshot in (NAME-LANG.png), to look at them: optional.
SCREENSHOTS = os.environ.get("AXE_SCREENSHOTS")


class Worlds:
    """The national world, and the global one once a console page asks for it."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def url(self, node: NodeName) -> str:
        return self._world(node).url

    def ids(self, node: NodeName) -> dict[str, str | int]:
        return self._world(node).ids

    def person(self, node: NodeName, who: str) -> Person:
        return self._world(node).people[who]

    def _world(self, node: NodeName) -> WebWorld | GlobalWorld:
        world: WebWorld | GlobalWorld = self._request.getfixturevalue(
            "web_world" if node == "national" else "global_world"
        )
        return world


@pytest.fixture(scope="module")
def worlds(request: pytest.FixtureRequest) -> Worlds:
    return Worlds(request)


@pytest.fixture(scope="module")
def signed_in(chromium: Browser, worlds: Worlds) -> dict[tuple[NodeName, str], Any]:
    """Each person's browser state (their session cookie) on their node, after signing in once
    (on first use)."""

    class States(dict[tuple[NodeName, str], Any]):
        def __missing__(self, key: tuple[NodeName, str]) -> Any:
            node, who = key
            person = worlds.person(node, who)
            with watched_page(chromium, worlds.url(node)) as page:
                page.goto("/en/sign-in")
                page.fill("#email", person.email)
                page.fill("#password", person.password)
                page.click("#sign-in")
                page.wait_for_url(lambda url: "/sign-in" not in url)
                self[key] = page.context.storage_state()
            return self[key]

    return States()


@pytest.fixture(scope="module")
def tabs(
    chromium: Browser, worlds: Worlds, signed_in: dict[tuple[NodeName, str], Any]
) -> Iterator[dict[tuple[NodeName, str | None], WatchedTab]]:
    """An open page per node and person (None: nobody signed in), opened at first use."""

    class Tabs(dict[tuple[NodeName, str | None], WatchedTab]):
        def __missing__(self, key: tuple[NodeName, str | None]) -> WatchedTab:
            node, who = key
            options = {"storage_state": signed_in[node, who]} if who is not None else {}
            self[key] = WatchedTab(chromium, worlds.url(node), **options)
            return self[key]

    opened = Tabs()
    yield opened
    for tab in opened.values():
        tab.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_is_accessible(
    worlds: Worlds,
    tabs: dict[tuple[NodeName, str | None], WatchedTab],
    name: str,
    lang: str,
) -> None:
    page_of = PAGES[name]
    path = page_of.path(lang, worlds.ids(page_of.node))
    # The watch compares paths without their query (`?token=...`).
    expected_failures = {urlsplit(path).path} if page_of.status == 404 else set()
    with tabs[page_of.node, page_of.who].visit(expected_failures=expected_failures) as page:
        response = page.goto(path)
        assert response is not None
        assert response.status == page_of.status, page.url
        assert "/sign-in" not in page.url or name == "sign-in"
        expected_language = "en" if page_of.own_language else lang
        expect(page.locator("html")).to_have_attribute("lang", expected_language)
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page, skip_rules=() if lang == "en" else CONTRAST_RULES)
        if SCREENSHOTS:
            page.screenshot(path=Path(SCREENSHOTS) / f"{name}-{lang}.png", full_page=True)
