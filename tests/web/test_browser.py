"""The harness itself: what a watched page refuses, axe-core's verdict, and Chromium's absence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from ..integration.harness import Node
from . import browser
from .browser import WatchedTab, assert_accessible, require_chromium, watched_page

pytestmark = pytest.mark.slow

# Never reached: the harness aborts the request before any name is looked up.
OUTSIDE = "http://cdn.example.invalid"


def _on_a_node_page(chromium: Browser, node: Node, action: Callable[[Page], object]) -> None:
    with watched_page(chromium, node.url) as page:
        page.goto("/healthz")
        action(page)
        page.wait_for_load_state("load")


def test_a_page_of_the_node_passes(chromium: Browser, national_node: Node) -> None:
    with watched_page(chromium, national_node.url) as page:
        assert page.goto("/healthz").ok


def test_a_request_outside_the_node_fails_the_test(chromium: Browser, national_node: Node) -> None:
    with pytest.raises(AssertionError, match=f"request outside .*{OUTSIDE}/bundle.js"):
        _on_a_node_page(
            chromium,
            national_node,
            lambda page: page.set_content(f'<script src="{OUTSIDE}/bundle.js"></script>'),
        )


def test_a_console_error_fails_the_test(chromium: Browser, national_node: Node) -> None:
    with pytest.raises(AssertionError, match="console error: something broke"):
        _on_a_node_page(
            chromium, national_node, lambda page: page.evaluate("console.error('something broke')")
        )


def test_an_uncaught_script_error_fails_the_test(chromium: Browser, national_node: Node) -> None:
    with pytest.raises(AssertionError, match=r"uncaught: .*thrown on purpose"):
        _on_a_node_page(
            chromium,
            national_node,
            lambda page: page.set_content("<script>throw new Error('thrown on purpose')</script>"),
        )


def test_a_failing_node_request_is_a_console_error(chromium: Browser, national_node: Node) -> None:
    missing = f"{national_node.url}/assets/api-docs/missing.png"
    with pytest.raises(AssertionError, match=r"console error: .*404"):
        _on_a_node_page(
            chromium, national_node, lambda page: page.set_content(f'<img alt="x" src="{missing}">')
        )


def test_a_tab_holds_each_visit_to_the_rules_and_starts_the_next_clean(
    chromium: Browser, national_node: Node
) -> None:
    tab = WatchedTab(chromium, national_node.url)

    def visit(action: Callable[[Page], object]) -> None:
        with tab.visit() as page:
            page.goto("/healthz")
            action(page)
            page.wait_for_load_state("load")

    try:
        with pytest.raises(AssertionError, match=f"request outside .*{OUTSIDE}/bundle.js"):
            visit(lambda page: page.set_content(f'<script src="{OUTSIDE}/bundle.js"></script>'))
        with pytest.raises(AssertionError, match=r"^console error: something broke"):
            visit(lambda page: page.evaluate("console.error('something broke')"))
        visit(lambda _page: None)  # nothing of the visits before is held against it
    finally:
        tab.close()


def test_assert_accessible_fails_on_serious_violations(
    chromium: Browser, national_node: Node
) -> None:
    with watched_page(chromium, national_node.url) as page:
        page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><button></button></main>'
        )
        with pytest.raises(AssertionError, match=r"button-name \(critical\)"):
            assert_accessible(page)
        assert_accessible(page, exclude=["button"])


def test_assert_accessible_passes_a_plain_page(chromium: Browser, national_node: Node) -> None:
    with watched_page(chromium, national_node.url) as page:
        page.set_content(
            '<html lang="en"><head><title>Plain</title></head>'
            "<body><main><h1>Plain</h1><p>Text.</p></main></body></html>"
        )
        assert_accessible(page)


def test_missing_chromium_skips_locally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium()


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        require_chromium()
