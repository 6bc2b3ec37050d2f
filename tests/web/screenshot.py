"""Screenshots for the README (`docs/images/`), taken in Debian's Chromium by the test harness.

Each page is opened as a browser test opens it (`browser.watched_page`): a page that sends a
request outside its node or logs a console error raises instead of being saved, so a README
picture never shows a broken page.

    make screenshots
        starts the demo federation (`sdgcities demo`'s nodes and walk-through, in a temporary
        folder, on ports 8760-8762), saves every page of `demo_shots`, then stops it
    python -m tests.web.screenshot http://127.0.0.1:8701/docs=docs/images/api-docs.png ...
        pages of nodes already running (`make run`), each `URL=FILE`

To add a page, add a `Shot` to `demo_shots`; it may use what the walk-through made (its certified
cities and their certificates, `walkthrough.verified`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Browser, sync_playwright

from sdgcities.cli.demo.federation import Federation, check_ports_free, plan
from sdgcities.cli.demo.samples import COUNTRIES
from sdgcities.cli.demo.walkthrough import GOLD_CITY, StepResult, Walkthrough

from .browser import CHROMIUM, launch_chromium, origin_of, watched_page

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
DEMO_PORT_BASE = 8760
# A laptop's window: wide enough for a page's desktop layout, and a picture that stays small.
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True, slots=True)
class Shot:
    """One picture: the page at `url`, saved as `path` once `ready` (a CSS selector) shows."""

    url: str
    path: Path
    ready: str = "body"
    full_page: bool = False


def demo_shots(federation: Federation, walkthrough: Walkthrough) -> list[Shot]:
    """The README's pictures, from the demo federation after its walk-through."""
    kenya = federation.node("KE")
    # Nairobi's gold certificate: the walk-through's showcase, valid when verified.
    gold = next(
        v.expected
        for v in walkthrough.verified
        if v.expected.locode == GOLD_CITY and v.expected.level == "gold"
    )
    certificate = f"{kenya.url}/en/certificates/{quote(gold.certificate_id, safe=':')}"
    return [
        Shot(f"{kenya.url}/docs", IMAGES / "api-docs.png", ready=".opblock"),
        Shot(certificate, IMAGES / "certificate-page.png", ready="img.qr-code", full_page=True),
    ]


def take(browser: Browser, shot: Shot) -> Path:
    """Save one picture; raises if the page breaks the harness's rules."""
    with watched_page(browser, origin_of(shot.url), viewport=VIEWPORT) as page:
        page.goto(shot.url, wait_until="networkidle")
        page.locator(shot.ready).first.wait_for(state="visible")
        picture = page.screenshot(full_page=shot.full_page)
    # Written only once the page has passed the harness's checks, on leaving `watched_page`.
    shot.path.parent.mkdir(parents=True, exist_ok=True)
    shot.path.write_bytes(picture)
    return shot.path


def take_all(shots: Sequence[Shot]) -> list[Path]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            return [take(browser, shot) for shot in shots]
        finally:
            browser.close()


class _Quiet:
    """The walk-through's narrator: the screenshots need its data, not its story."""

    def step(self, result: StepResult) -> None:
        del result


def demo_screenshots(port_base: int = DEMO_PORT_BASE) -> list[Path]:
    plans = plan(port_base, [(c.code, c.node_name) for c in COUNTRIES])
    check_ports_free([p.port for p in plans])
    root = Path(tempfile.mkdtemp(prefix="sdgcities-screenshots-"))
    try:
        with (
            Federation.running(root, plans) as federation,
            httpx.Client(timeout=30.0, follow_redirects=False) as client,
        ):
            walkthrough = Walkthrough(
                federation, client, _Quiet(), verifier_folder=root / "verifier-bundle"
            )
            walkthrough.run()
            return take_all(demo_shots(federation, walkthrough))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _parse_pair(pair: str) -> Shot:
    url, separator, file = pair.rpartition("=")
    if not separator or not url or not file:
        raise argparse.ArgumentTypeError(f"expected URL=FILE, not {pair!r}")
    return Shot(url, Path(file))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.web.screenshot", description=__doc__)
    parser.add_argument("--demo", action="store_true", help="start the demo federation first")
    parser.add_argument("--port-base", type=int, default=DEMO_PORT_BASE)
    parser.add_argument("pages", nargs="*", type=_parse_pair, metavar="URL=FILE")
    args = parser.parse_args(argv)
    if args.demo == bool(args.pages):
        parser.error("give either --demo or URL=FILE pairs")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing: apt-get install chromium")
    saved = demo_screenshots(args.port_base) if args.demo else take_all(args.pages)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
