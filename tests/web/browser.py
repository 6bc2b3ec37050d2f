"""Playwright driving Debian's Chromium (`/usr/bin/chromium`): no browser is downloaded.

Every page opened through `watched_page` is held to the web platform's two rules (issue 13):
no request may leave the node, and no console error. Requests to any other origin are aborted
and recorded (so a page that depends on a CDN breaks here as it would on an intranet), and
`PageWatch.assert_clean` fails on either. `assert_accessible` runs axe-core, whose script ships
inside the `axe-playwright-python` package and is injected into the page: nothing is fetched.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Route,
    expect,
)

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root, where Chromium's sandbox refuses to start. The rest keep Chromium
# from calling Google's services on its own, which the outside-request check would not see
# (they do not go through the page) but which must not happen on an offline machine either.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# What axe-core calls serious or critical fails a test; minor and moderate are reported only.
FAILING_IMPACTS = frozenset({"serious", "critical"})
# Enough for Swagger UI's 1.5 MB script on a loaded two-core machine; `expect`'s own default
# (5 s) made /docs fail now and then when other tests ran beside it.
LOAD_TIMEOUT_MS = 30_000
expect.set_options(timeout=LOAD_TIMEOUT_MS)


def require_chromium() -> Path:
    """Chromium's path; a missing Chromium skips the test locally and fails it under CI."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(
            f"CI must run the browser tests but {CHROMIUM} is missing (.ci/run installs it)"
        )
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (set CI=true to make this fail)")


def launch_chromium(playwright: Playwright) -> Browser:
    executable = require_chromium()
    return playwright.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))


# Chromium's own pages and viewers (the PDF viewer a reviewer's evidence preview opens) load their
# files from these schemes: inside the browser, never from the network.
BROWSER_SCHEMES = frozenset({"chrome", "chrome-extension"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class PageWatch:
    """What the pages of one browser context did that the node's pages must never do."""

    origin: str
    # Pages the test expects to fail to load (a 404 page): Chromium logs their status as a
    # console error of the document itself, which is no script's error.
    expected_failures: frozenset[str] = frozenset()
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def restart(self, expected_failures: Collection[str] = ()) -> None:
        """Forget what was seen so far: the next page visited in the context starts clean."""
        self.expected_failures = frozenset(expected_failures)
        self.console_errors.clear()
        self.outside_requests.clear()

    def problems(self) -> list[str]:
        return [
            *(f"request outside {self.origin}: {url}" for url in self.outside_requests),
            *(f"console error: {text}" for text in self.console_errors),
        ]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "\n".join(problems)

    def attach(self, context: BrowserContext) -> None:
        context.route("**/*", self._route)
        for page in context.pages:
            self._listen(page)
        context.on("page", self._listen)

    def _route(self, route: Route, request: Request) -> None:
        if origin_of(request.url) == self.origin or urlsplit(request.url).scheme in BROWSER_SCHEMES:
            route.continue_()
            return
        self.outside_requests.append(request.url)
        route.abort("blockedbyclient")

    def _listen(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            if message.text.startswith("Failed to load resource") and (
                urlsplit(where).path in self.expected_failures
            ):
                return
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)


@contextmanager
def watched_page(
    browser: Browser,
    base_url: str,
    *,
    expected_failures: Collection[str] = (),
    **context_options: Any,
) -> Iterator[Page]:
    """A page in a fresh context (no cookies) whose relative `goto`s go to `base_url`; on leaving,
    the test fails if any of the context's pages sent a request elsewhere or logged an error
    (other than the failed load of a path in `expected_failures`)."""
    tab = WatchedTab(browser, base_url, **context_options)
    try:
        with tab.visit(expected_failures=expected_failures) as page:
            yield page
    finally:
        tab.close()


class WatchedTab:
    """One page kept open for many visits, each held to `watched_page`'s rules.

    Opening a page costs Chromium more than loading ours into it: a new page per visit took
    0.9 s of wall time and about 1.5 s of Chromium's CPU per axe-checked page, against 0.45 s
    and 0.5 s for a navigation of an open page (ten pages, measured 2026-12-07). A visit starts
    with the watch restarted, so what one visit's page did is never held against the next."""

    def __init__(self, browser: Browser, base_url: str, **context_options: Any) -> None:
        self._watch = PageWatch(origin_of(base_url))
        self._context = browser.new_context(base_url=base_url, **context_options)
        try:
            self._context.set_default_timeout(LOAD_TIMEOUT_MS)
            self._watch.attach(self._context)
            self._page = self._context.new_page()
        except BaseException:
            self._context.close()
            raise

    @contextmanager
    def visit(self, *, expected_failures: Collection[str] = ()) -> Iterator[Page]:
        self._watch.restart(expected_failures)
        yield self._page
        self._watch.assert_clean()

    def close(self) -> None:
        self._context.close()


def axe_violations(
    page: Page,
    *,
    exclude: Sequence[str] = (),
    impacts: frozenset[str] = FAILING_IMPACTS,
    skip_rules: Collection[str] = (),
) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the page as it is now; `exclude` lists CSS
    selectors of parts that are not ours, `skip_rules` rules not to run (say why at the call)."""
    page.evaluate(AXE_SCRIPT)
    context: dict[str, Any] = {"include": [["html"]], "exclude": [[s] for s in exclude]}
    options: dict[str, Any] = {
        "resultTypes": ["violations"],
        "rules": {rule: {"enabled": False} for rule in skip_rules},
    }
    results: dict[str, Any] = page.evaluate(
        "([context, options]) => axe.run(context, options)", [context, options]
    )
    return [v for v in results["violations"] if v["impact"] in impacts]


def describe_violations(violations: Sequence[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {', '.join(map(str, node['target']))}" for node in violation["nodes"])
    return "\n".join(lines)


def assert_accessible(
    page: Page, *, exclude: Sequence[str] = (), skip_rules: Collection[str] = ()
) -> None:
    """No serious or critical axe-core violation on the page (WCAG 2.1 AA and best practices)."""
    violations = axe_violations(page, exclude=exclude, skip_rules=skip_rules)
    assert not violations, describe_violations(violations)
