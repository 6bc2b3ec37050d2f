"""The public web pages at scale: the registry, a city and a certificate page, and what each
page transfers, beside the JSON registry measured in the same run.

Seeds 10,000 cities and 100,000 certificates exactly as `bench/registry.py` does (its `seed`:
a national node's tables, or the global node's projection of the federation), then times a mix
of pages through the node's full ASGI stack, in process (httpx's ASGI transport: middleware,
routing, page guard, read session, template rendering; no socket), in the six languages at
random:

- `registry`: `/{lang}/registry` with the JSON bench's filters (a page of the whole list, a
  country, a level, a name, country + priority + level);
- `city`: `/{lang}/cities/{locode}` for random cities;
- `certificate`: `/{lang}/certificates/{id}` for random certificates (QR code included).

The JSON registry's own mix (`bench/registry.py`'s `measure`) runs on the same app right after,
as the baseline. Every certificate carries one real token signed by the node (the page reads the
issuer, framework and decision from it), in place of the registry bench's undecodable dummy.

Bytes: for one page of each kind, the HTML plus every stylesheet, script, image and icon it
links from the node (uncompressed, as a first visit with an empty cache would load them). The
target is 100 KB per page.

    .venv/bin/python bench/web.py [--cities N] [--certificates N] [--requests N]
                                  [--registries national,global]

SQLite is a temporary file; PostgreSQL a temporary database on $SDGCITIES_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres), skipped with a note when unreachable.
The last line is `web p95 ms: X`, the p95 over the page mix in the slowest run. The target is
X <= 30.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import registry as registry_bench
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI
from registry import COUNTRIES, PRIORITIES, YEAR, Seeded, percentiles, seed
from registry import measure as measure_json
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from sdgcities.credentials import CertificateIssue, Decision, FrameworkRef
from sdgcities.credentials.status_entry import StatusEntry
from sdgcities.node.app import create_app
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.frameworks import LEVEL_BY_STAGE
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.registry.cache import FEDERATION, NATIONAL
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.i18n import LANGUAGES
from sdgcities.node.web.public import qr_svg

LANGUAGE_CODES = [language.code for language in LANGUAGES]
SAMPLED_CERTIFICATES = 500
PAGE_BUDGET = 100 * 1024
# What a browser loads with the page: stylesheets, the icon, scripts and images (the QR code).
_ASSET = re.compile(
    r'<link rel="(?:stylesheet|icon)" href="(/[^"]+)"|<(?:img|script)\b[^>]*\bsrc="(/[^"]+)"'
)


def representative_token(app: FastAPI) -> str:
    """A real certificate token signed by the node: the registry bench's rows all carry this
    text (its dummy would not decode), so the certificate page reads a real payload."""
    state = app.state.node
    now = utcnow().replace(microsecond=0)
    issue = CertificateIssue(
        credential_id=f"urn:uuid:{uuid.UUID(int=5, version=4)}",
        issuer_did=state.settings.did,
        issuer_name=state.settings.node_name,
        locode="KE-NBO",
        city_name="Nairobi",
        country="KE",
        stage="evidence-based-processes",
        framework=FrameworkRef("sdg-cities-baseline", "1.0", "sha256:" + "0" * 64),
        decision=Decision(
            committee="National certification committee", meeting="meeting 12", decided_at=now
        ),
        criteria=tuple(f"G{number}" for number in range(1, 40)),
        valid_from=now,
        valid_until=now + 3 * YEAR,
        status=StatusEntry(f"{state.settings.base_url}/status/lists/1", 7),
    )
    return issue.sign(state.signing_key, issued_at=now)


def sample_certificates(engine: Engine, *, federation: bool, rng: random.Random) -> list[str]:
    certificate = (FEDERATION if federation else NATIONAL).certificate
    with engine.connect() as connection:
        every_id = list(
            connection.execute(select(col(certificate.id)).order_by(col(certificate.id))).scalars()
        )
    return rng.sample(every_id, min(SAMPLED_CERTIFICATES, len(every_id)))


def page_mix(seeded: Seeded, certificates: list[str], rng: random.Random) -> Any:
    """(kind, path): a third each of registry, city and certificate pages."""
    levels = list(LEVEL_BY_STAGE.values())
    while True:
        language = rng.choice(LANGUAGE_CODES)
        draw = rng.random()
        if draw < 1 / 3:
            filters = rng.choice(
                [
                    f"page={rng.randrange(1, 300)}",
                    f"country={rng.choice(COUNTRIES)}",
                    f"level={rng.choice(levels)}",
                    f"q={rng.choice(seeded.names)[: rng.randint(3, 5)].lower()}",
                    f"country={rng.choice(COUNTRIES)}&priority={quote(rng.choice(PRIORITIES))}"
                    f"&level={rng.choice(levels)}",
                ]
            )
            yield "registry", f"/{language}/registry?{filters}"
        elif draw < 2 / 3:
            yield "city", f"/{language}/cities/{rng.choice(seeded.locodes)}"
        else:
            yield "certificate", f"/{language}/certificates/{rng.choice(certificates)}"


async def measure_pages(
    app: FastAPI, seeded: Seeded, certificates: list[str], *, requests: int
) -> dict[str, list[float]]:
    """Milliseconds per page by kind (and "all"), after a warm-up of a tenth as many."""
    rng = random.Random(42)
    samples: dict[str, list[float]] = {"all": []}
    mix = page_mix(seeded, certificates, rng)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for number in range(requests + requests // 10):
            kind, path = next(mix)
            started = time.perf_counter()
            response = await client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            # A registry page past the end of a narrow search is a 404 page, as designed.
            assert response.status_code in (200, 404) if kind == "registry" else 200, (
                path,
                response.status_code,
            )
            if number < requests // 10:
                continue
            samples.setdefault(kind, []).append(elapsed)
            samples["all"].append(elapsed)
    return samples


async def measure_qr_codes(app: FastAPI, certificates: list[str], *, requests: int) -> list[float]:
    """Milliseconds per QR code image (the certificate page's one image, which a browser then
    keeps for a year), for certificates the page mix did not ask for."""
    rng = random.Random(7)
    samples = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(requests):
            path = f"/{rng.choice(LANGUAGE_CODES)}/certificates/{rng.choice(certificates)}/qr.svg"
            started = time.perf_counter()
            response = await client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, path
    return samples


async def page_weights(
    app: FastAPI, seeded: Seeded, certificates: list[str]
) -> dict[str, tuple[int, int]]:
    """(HTML bytes, linked asset bytes) of one page of each kind, in English."""
    paths = {
        "registry": "/en/registry",
        "city": f"/en/cities/{seeded.locodes[0]}",
        "certificate": f"/en/certificates/{certificates[0]}",
    }
    weights = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for kind, path in paths.items():
            page = await client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            assets = 0
            linked = {link or source for link, source in _ASSET.findall(page.text)}
            for asset in sorted(linked):
                loaded = await client.get(asset.replace("&amp;", "&"))
                assert loaded.status_code == 200, asset
                assets += len(loaded.content)
            weights[kind] = (len(page.content), assets)
    return weights


def run(
    backend: str, registry: str, *, cities: int, certificates: int, requests: int
) -> tuple[float, float]:
    """Seed, measure and print one backend and registry; (pages p95, JSON registry p95)."""
    federation = registry == "global"
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database(backend, Path(scratch)) as url,
    ):
        settings = Settings(
            node_id="global" if federation else "KE",
            data_dir=Path(scratch) / "node",
            database_url=url,
            _env_file=None,  # type: ignore[call-arg]
        )
        engine = make_engine(url)
        try:
            check_durability(engine)
            migrate(engine)
            with Session(engine) as session:
                create_signing_key(session=session, settings=settings)
                session.commit()
            app = create_app(settings, engine=engine)
            registry_bench.DUMMY_TOKEN = representative_token(app)
            seeded = seed(
                engine, app, cities=cities, certificates=certificates, federation=federation
            )
            sampled = sample_certificates(engine, federation=federation, rng=random.Random(5))
            pages = asyncio.run(measure_pages(app, seeded, sampled, requests=requests))
            json_registry = asyncio.run(measure_json(app, seeded, requests=requests))
            qr_svg.cache_clear()  # a new node has made none yet
            qr_codes = asyncio.run(measure_qr_codes(app, sampled, requests=max(20, requests // 20)))
            weights = asyncio.run(page_weights(app, seeded, sampled))
        finally:
            engine.dispose()

    print(
        f"{backend}, {registry} registry: {cities:,} cities ({seeded.certified:,} certified "
        f"now), {certificates:,} certificates (seeded in {seeded.seconds:.1f} s); "
        f"{requests:,} pages, then {requests:,} JSON requests"
    )
    for kind in sorted(pages, key=lambda k: (k == "all", k)):
        p50, p95 = percentiles(pages[kind])
        print(f"  page {kind:<25} n={len(pages[kind]):>5}   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    json_p50, json_p95 = percentiles(json_registry["all"])
    print(
        f"  JSON registry mix (baseline)   n={len(json_registry['all']):>5}   "
        f"p50 {json_p50:7.2f} ms   p95 {json_p95:7.2f} ms"
    )
    qr_p50, qr_p95 = percentiles(qr_codes)
    print(
        f"  (QR code image, once per browser: n={len(qr_codes)}, p50 {qr_p50:.2f} ms, "
        f"p95 {qr_p95:.2f} ms; not in the page mix)"
    )
    for kind, (html, assets) in weights.items():
        total = html + assets
        verdict = "ok" if total <= PAGE_BUDGET else "OVER BUDGET"
        print(
            f"  bytes {kind:<12} HTML {html:>7,} + assets {assets:>7,} = "
            f"{total / 1024:6.1f} KB ({verdict}, budget {PAGE_BUDGET // 1024} KB)"
        )
    return percentiles(pages["all"])[1], json_p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=10_000)
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1_500)
    parser.add_argument("--registries", default="national,global")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    worst, worst_json = 0.0, 0.0
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
            continue
        for registry in args.registries.split(","):
            pages_p95, json_p95 = run(
                backend,
                registry,
                cities=args.cities,
                certificates=args.certificates,
                requests=args.requests,
            )
            worst, worst_json = max(worst, pages_p95), max(worst_json, json_p95)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"JSON registry p95 ms (same run, baseline): {worst_json:.1f}")
    print(f"web p95 ms: {worst:.1f}")


if __name__ == "__main__":
    main()
