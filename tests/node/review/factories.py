"""A node with two cities, their applicants, three reviewers and an administrator, and helpers
that drive an application through the review over HTTP, as its users would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..conftest import Account, MakeAccount, MakeCity, MakeFramework
from ..evidence.samples import PDF

QUALIFICATION = ("A.a", "A.b", "A.c")


@dataclass
class ReviewWorld:
    framework_id: int
    admin: Account
    nairobi: Account
    mombasa: Account
    reviewers: list[Account]
    secretariat: Account
    committee: Account
    evidence: dict[str, int] = field(default_factory=dict)

    @property
    def lead(self) -> Account:
        return self.reviewers[0]

    @property
    def second(self) -> Account:
        return self.reviewers[1]

    @property
    def outsider(self) -> Account:
        """A reviewer not assigned by `assign`."""
        return self.reviewers[2]


def make_world(
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
    *,
    nairobi_name: str = "Nairobi",
) -> ReviewWorld:
    make_city("KE-NBO", nairobi_name)
    make_city("KE-MBA", "Mombasa")
    return ReviewWorld(
        framework_id=make_framework(),
        admin=make_account(Role.ADMINISTRATOR),
        nairobi=make_account(Role.CITY_APPLICANT, city_locode="KE-NBO"),
        mombasa=make_account(Role.CITY_APPLICANT, city_locode="KE-MBA"),
        reviewers=[make_account(Role.REVIEWER, languages=["en"]) for _ in range(3)],
        secretariat=make_account(Role.SECRETARIAT),
        committee=make_account(Role.COMMITTEE_MEMBER),
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def upload(client: TestClient, account: Account, application_id: int, code: str, name: str) -> int:
    response = client.post(
        f"/applications/{application_id}/criteria/{code}/evidence",
        params={"filename": name},
        headers={**account.headers, "Content-Type": "application/octet-stream"},
        content=PDF,
    )
    return int(ok(response, 201)["id"])


def submitted_application(
    client: TestClient, world: ReviewWorld, city: Account | None = None
) -> int:
    """A submitted qualification application with one evidence file per criterion; the ids
    of the files are in `world.evidence` by criterion code."""
    city = city or world.nairobi
    body = {"stage": "qualification", "framework_version_id": world.framework_id}
    application_id = int(
        ok(client.post("/applications", headers=city.headers, json=body), 201)["id"]
    )
    for code in QUALIFICATION:
        ok(
            client.put(
                f"/applications/{application_id}/criteria/{code}",
                headers=city.headers,
                json={"narrative": f"How the city meets {code}."},
            )
        )
        world.evidence[code] = upload(client, city, application_id, code, f"{code}.pdf")
    ok(client.post(f"/applications/{application_id}/submit", headers=city.headers))
    return application_id


def assign(client: TestClient, world: ReviewWorld, application_id: int) -> Any:
    return ok(
        client.post(
            f"/applications/{application_id}/reviewers",
            headers=world.admin.headers,
            json={
                "reviewer_ids": [world.lead.user_id, world.second.user_id],
                "lead_id": world.lead.user_id,
            },
        ),
        201,
    )


def assess(
    client: TestClient,
    reviewer: Account,
    application_id: int,
    code: str,
    verdict: str = "met",
    *,
    reasons: str | None = None,
    evidence_ids: list[int] | None = None,
) -> httpx.Response:
    return client.put(
        f"/applications/{application_id}/review/assessments/{code}",
        headers=reviewer.headers,
        json={
            "verdict": verdict,
            "reasons": reasons or f"{verdict} on the evidence for {code}.",
            "evidence_ids": evidence_ids or [],
        },
    )


def review_fully(
    client: TestClient,
    world: ReviewWorld,
    application_id: int,
    verdicts: dict[str, str] | None = None,
    *,
    reviewers: list[Account] | None = None,
) -> None:
    """Every assigned reviewer assesses every criterion (`met` unless `verdicts` says) and
    submits."""
    verdicts = verdicts or {}
    for reviewer in reviewers or [world.lead, world.second]:
        for code in QUALIFICATION:
            ok(
                assess(
                    client,
                    reviewer,
                    application_id,
                    code,
                    verdicts.get(code, "met"),
                    evidence_ids=[world.evidence[code]],
                )
            )
        ok(client.post(f"/applications/{application_id}/review/submit", headers=reviewer.headers))


def consolidate(
    client: TestClient,
    world: ReviewWorld,
    application_id: int,
    recommendation: str,
    *,
    verdicts: list[dict[str, str]] | None = None,
    summary: str = "The evidence was weighed criterion by criterion.",
    reviewer: Account | None = None,
) -> httpx.Response:
    return client.post(
        f"/applications/{application_id}/review/consolidate",
        headers=(reviewer or world.lead).headers,
        json={"recommendation": recommendation, "summary": summary, "verdicts": verdicts or []},
    )
