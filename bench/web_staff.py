"""The heaviest staff pages, in process: first the reviewer's assessment page with 20 criteria.

Seeds a fresh, migrated database with a national framework whose second stage has 20 criteria
(the baseline's five and fifteen national ones), a city's application to it under review with
an answer (a long narrative and indicator values) and two evidence files per criterion, two
reviewers, the lead's assessment of every criterion and a clarification answered. Then times,
through the node's full ASGI stack (httpx's ASGI transport, in one event loop: middleware,
routing, the session cookie, the page's access rule, the services, Jinja2 rendering):

- the page: `GET /en/review/applications/{id}` signed in as the lead reviewer;
- its baseline, in the same run and interleaved: `GET /healthz`, and the JSON API's read of
  the same review (`GET /applications/{id}/review` with the lead's bearer token).

    .venv/bin/python bench/web_staff.py [--requests N] [--backend sqlite|postgresql|both]

Prints p50 and p95 of each per backend; the last line is `web staff p95 ms: X`, X the worst
backend's p95 of the assessment page (the target is X <= 100). PostgreSQL is reached at
$SDGCITIES_BENCH_POSTGRES_URL, and skipped, said so, when unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI, Response
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.applications.models import (
    Application,
    ApplicationState,
    CriterionAnswer,
    Evidence,
)
from sdgcities.node.cities.schemas import CityCreate
from sdgcities.node.cities.service import create_city
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.evidence import MediaType
from sdgcities.node.frameworks.schemas import CriterionCreate, FrameworkDerive
from sdgcities.node.frameworks.service import (
    add_criterion,
    derive_version,
    document_of,
    ensure_baseline,
    publish_version,
)
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.review.models import (
    ClarificationRequest,
    CriterionAssessment,
    ReviewAssignment,
    Verdict,
)
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.session import SESSION_COOKIE, start_session

STAGE = "evidence-based-processes"
CRITERIA = 20
NARRATIVE = (
    "The city council adopted its sustainable development strategy after two rounds of public "
    "consultation in every ward; the minutes, the attendance lists and the budget lines that "
    "fund each measure are attached. "
) * 6


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


def _user(session: Session, name: str, role: Role) -> User:
    email = f"{name.lower().replace(' ', '.')}@example.org"
    return create_user(
        session=session,
        data=UserCreate(name=name, email=email, role=role, languages=["en"]),
        actor=SYSTEM,
    )


def seed(session: Session, settings: Settings) -> tuple[int, str, str]:
    """The application's id, the lead's session cookie and the lead's API token."""
    baseline = ensure_baseline(session=session)
    version = derive_version(
        session=session,
        base=baseline,
        data=FrameworkDerive(framework_id="sdgcities-ke", version="1", title="Kenya framework"),
        settings=settings,
        actor=SYSTEM,
    )
    existing = len(document_of(version).criteria_codes(STAGE))
    for number in range(1, CRITERIA - existing + 1):
        version = add_criterion(
            session=session,
            version=version,
            data=CriterionCreate(
                stage=STAGE,
                code=f"B.KE{number}",
                text=f"The city publishes and follows national measure {number}.",
                evidence_expected=["The council's resolution", "The published measure"],
            ),
            actor=SYSTEM,
        )
    publish_version(session=session, version=version, actor=SYSTEM)
    codes = document_of(version).criteria_codes(STAGE)
    assert len(codes) == CRITERIA, codes
    create_city(
        session=session,
        data=CityCreate(locode="KE-NBO", name="Nairobi"),
        node_id=settings.node_id,
        actor=SYSTEM,
    )
    lead, second = (
        _user(session, "Lead Reviewer", Role.REVIEWER),
        _user(session, "Second Reviewer", Role.REVIEWER),
    )
    assert version.id is not None
    assert lead.id is not None
    assert second.id is not None
    application = Application(
        city_locode="KE-NBO",
        stage=STAGE,
        framework_version_id=version.id,
        state=ApplicationState.UNDER_REVIEW,
        submitted_at=utcnow(),
    )
    session.add(application)
    session.flush()
    assert application.id is not None
    lead_assignment = ReviewAssignment(
        application_id=application.id, reviewer_id=lead.id, lead=True
    )
    session.add(lead_assignment)
    session.add(ReviewAssignment(application_id=application.id, reviewer_id=second.id))
    session.flush()
    assert lead_assignment.id is not None
    for index, code in enumerate(codes):
        session.add(
            CriterionAnswer(
                application_id=application.id,
                criterion_code=code,
                narrative=NARRATIVE,
                indicator_values=[
                    {"indicator": "11.3.2", "value": 40.5 + index, "unit": "%", "year": 2024},
                    {"indicator": "11.6.1", "value": 52.0, "unit": "%", "year": 2023},
                ],
            )
        )
        files = [
            Evidence(
                application_id=application.id,
                city_locode="KE-NBO",
                criterion_code=code,
                digest=f"sha256:{index:02d}{kind:062d}",
                size=250_000,
                media_type=media_type,
                filename=f"{code} {name}",
            )
            for kind, (media_type, name) in enumerate(
                ((MediaType.PDF, "minutes.pdf"), (MediaType.JPEG, "site visit.jpg"))
            )
        ]
        session.add_all(files)
        session.flush()
        session.add(
            CriterionAssessment(
                assignment_id=lead_assignment.id,
                criterion_code=code,
                verdict=Verdict.MET if index % 4 else Verdict.PARTLY_MET,
                reasons="The minutes and the budget lines show the measure in force. " * 3,
                evidence_ids=[file.id for file in files if file.id is not None],
            )
        )
    session.add(
        ClarificationRequest(
            application_id=application.id,
            criteria=list(codes[:3]),
            question="Where are the attendance lists of the second consultation?",
            asked_by=lead.id,
            answer="They are attached to the first criterion now.",
            answered_at=utcnow(),
        )
    )
    response = Response()
    start_session(session=session, user=lead, response=response, settings=settings)
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    _, token = issue_token(
        session=session, user=lead, label="bench", lifetime=timedelta(days=1), actor=SYSTEM
    )
    session.commit()
    return application.id, cookie, token


async def measure(
    app: FastAPI, *, application_id: int, cookie: str, token: str, requests: int
) -> dict[str, list[float]]:
    """Milliseconds per request of each, interleaved, after a warm-up of a tenth as many."""
    timings: dict[str, list[float]] = {"page": [], "healthz": [], "api": []}
    page = f"/en/review/applications/{application_id}"
    api = f"/applications/{application_id}/review"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={SESSION_COOKIE: cookie}
    ) as client:
        for round_number in range(requests + requests // 10):
            t0 = time.perf_counter()
            shown = await client.get(page)
            t1 = time.perf_counter()
            health = await client.get("/healthz")
            t2 = time.perf_counter()
            read = await client.get(api, headers={"Authorization": f"Bearer {token}"})
            t3 = time.perf_counter()
            assert shown.status_code == 200, shown.text[:500]
            assert shown.text.count('class="criterion"') == CRITERIA
            assert health.status_code == 200, health.text
            assert read.status_code == 200, read.text
            if round_number < requests // 10:
                continue  # warm-up: connections, template compilation, first-call imports
            timings["page"].append((t1 - t0) * 1000)
            timings["healthz"].append((t2 - t1) * 1000)
            timings["api"].append((t3 - t2) * 1000)
    return timings


def run(backend: str, *, requests: int) -> float:
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database(backend, Path(scratch)) as url,
    ):
        settings = Settings(
            node_id="KE",
            data_dir=Path(scratch) / "node",
            database_url=url,
            rate_limit_verify_per_minute=0,
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
            with Session(engine, expire_on_commit=False) as session:
                application_id, cookie, token = seed(session, settings)
            timings = asyncio.run(
                measure(
                    app,
                    application_id=application_id,
                    cookie=cookie,
                    token=token,
                    requests=requests,
                )
            )
        finally:
            engine.dispose()
    print(f"{backend}: reviewer assessment page, {CRITERIA} criteria, {requests:,} requests")
    for label, key in (
        ("GET /en/review/applications/{id}", "page"),
        ("GET /healthz (baseline)", "healthz"),
        ("GET /applications/{id}/review (API)", "api"),
    ):
        p50, p95 = percentiles(timings[key])
        print(f"  {label:<38} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    return percentiles(timings["page"])[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    worst = 0.0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
            continue
        worst = max(worst, run(backend, requests=args.requests))
    print(f"web staff p95 ms: {worst:.1f}")


if __name__ == "__main__":
    main()
