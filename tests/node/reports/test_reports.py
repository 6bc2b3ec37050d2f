"""Stage reports: the document, who may read it, HTML and PDF, versions, and the city's
outcome (§25)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from sdgcities.federation import EventType
from sdgcities.node.accounts.models import User
from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.catalogue.service import create_tool
from sdgcities.node.events.service import list_events

from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import (
    ReviewWorld,
    assign,
    consolidate,
    make_world,
    ok,
    review_fully,
    submitted_application,
)

WORK_PROGRAMME_TOOL = {
    "kind": "tool",
    "title": "Certification work programme template",
    "summary": "Plan the levels of certification a city intends to achieve.",
    "link": "https://example.org/work-programme",
    "criteria": ["A.b"],
    "languages": ["en"],
    "provider": "UN-Habitat",
}
CASE_STUDY = {
    "kind": "case_study",
    "title": "Public SDG commitment: a city council's pledge",
    "summary": "How one council made and published its commitment to leave no one behind.",
    "link": "https://example.org/pledge",
    "criteria": ["A.c"],
    "languages": ["es"],
}


def _tools(session: Session) -> None:
    for entry in (WORK_PROGRAMME_TOOL, CASE_STUDY):
        create_tool(session=session, data=ToolCreate.model_validate(entry), actor=SYSTEM)
    session.commit()


def _not_recommended(client: TestClient, world: ReviewWorld) -> tuple[int, dict[str, Any]]:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id, {"A.b": "partly_met"}, reviewers=[world.lead])
    review_fully(
        client,
        world,
        application_id,
        {"A.b": "not_met", "A.c": "partly_met"},
        reviewers=[world.second],
    )
    report = ok(
        consolidate(
            client,
            world,
            application_id,
            "not_recommended",
            verdicts=[{"code": "A.a", "verdict": "met", "reasons": "A thorough stocktake."}],
            summary="No work programme yet, and the commitment is not public.",
        )
    )
    return application_id, report


def test_the_report_as_data(client: TestClient, world: ReviewWorld, session: Session) -> None:
    _tools(session)
    application_id, created = _not_recommended(client, world)
    report = ok(client.get(f"/applications/{application_id}/report", headers=world.nairobi.headers))
    assert report == created
    assert (report["version"], report["versions"]) == (1, 1)
    assert report["digest"].startswith("sha256:")
    document = report["document"]
    assert document["format"] == "sdgcities-stage-report/1"
    assert document["city"] == {"locode": "KE-NBO", "name": "Nairobi", "country": "KE"}
    assert document["stage"] == {
        "key": "qualification",
        "letter": "A",
        "name": "Qualification (candidate city)",
        "level": "silver",
    }
    assert document["framework"]["id"] == "sdgcities-ke"
    assert document["framework"]["version"] == "1"
    assert document["framework"]["digest"].startswith("sha256:")
    assert document["recommendation"] == "not_recommended"
    assert document["summary"] == "No work programme yet, and the commitment is not public."
    assert document["reviewers"] == 2
    assert document["gaps"] == ["A.b", "A.c"]
    by_code = {c["code"]: c for c in document["criteria"]}
    assert [(c["code"], c["verdict"], c["gap"]) for c in document["criteria"]] == [
        ("A.a", "met", False),
        ("A.b", "not_met", True),
        ("A.c", "partly_met", True),
    ]
    assert by_code["A.a"]["text"].startswith("The city has taken stock")
    assert [(r["source"], r["reviewer"], r["verdict"]) for r in by_code["A.b"]["reasons"]] == [
        ("consolidation", "lead reviewer", "not_met"),
        ("reviewer", "lead reviewer", "partly_met"),
        ("reviewer", "reviewer 1", "not_met"),
    ]
    assert by_code["A.a"]["reasons"][0]["text"] == "A thorough stocktake."
    assert by_code["A.b"]["reasons"][1]["evidence"] == [
        {"id": world.evidence["A.b"], "filename": "A.b.pdf"}
    ]
    # Each gap comes with the catalogue's tools for it, whatever their language; no tools for
    # a criterion that is met.
    assert [t["title"] for t in by_code["A.b"]["tools"]] == [WORK_PROGRAMME_TOOL["title"]]
    assert by_code["A.b"]["tools"][0]["link"] == WORK_PROGRAMME_TOOL["link"]
    assert by_code["A.b"]["tools"][0]["provider"] == "UN-Habitat"
    assert [(t["title"], t["kind"]) for t in by_code["A.c"]["tools"]] == [
        (CASE_STUDY["title"], "case_study")
    ]
    assert by_code["A.a"]["tools"] == []
    # Reviewers appear by role only.
    names = [session.get(User, a.user_id).name for a in (world.lead, world.second)]  # type: ignore[union-attr]
    text = str(report)
    for name in names:
        assert name not in text
    assert "reviewer_id" not in text


def test_who_reads_a_report(client: TestClient, world: ReviewWorld) -> None:
    application_id, _ = _not_recommended(client, world)
    path = f"/applications/{application_id}/report"
    for account in (
        world.admin,
        world.secretariat,
        world.committee,
        world.lead,
        world.second,
        world.nairobi,
    ):
        for suffix in ("", ".html", ".pdf"):
            assert client.get(path + suffix, headers=account.headers).status_code == 200
    for account in (world.mombasa, world.outsider):
        for suffix in ("", ".html", ".pdf"):
            response = client.get(path + suffix, headers=account.headers)
            assert response.status_code == 404
            assert response.json()["detail"] == f"no application {application_id}"
    assert client.get(path).status_code == 401


def test_no_report_before_the_consolidation(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    response = client.get(f"/applications/{application_id}/report", headers=world.nairobi.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == (
        f"application {application_id} has no stage report yet: it is submitted, and the report "
        "comes with the review's consolidation"
    )
    regenerate = client.post(
        f"/applications/{application_id}/report/regenerate", headers=world.admin.headers
    )
    assert regenerate.status_code == 409
    assert regenerate.json()["detail"] == (
        f"application {application_id} is submitted: a stage report is generated from the "
        "review's consolidation, and there is none yet"
    )


def test_regenerating_adds_a_version_and_keeps_the_first(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    application_id, first = _not_recommended(client, world)
    assert first["document"]["criteria"][1]["tools"] == []
    _tools(session)  # the catalogue gains a tool for A.b after the first report
    second = ok(
        client.post(
            f"/applications/{application_id}/report/regenerate", headers=world.admin.headers
        ),
        201,
    )
    assert (second["version"], second["versions"]) == (2, 2)
    assert second["digest"] != first["digest"]
    assert [t["title"] for t in second["document"]["criteria"][1]["tools"]] == [
        WORK_PROGRAMME_TOOL["title"]
    ]
    latest = ok(client.get(f"/applications/{application_id}/report", headers=world.nairobi.headers))
    assert latest["version"] == 2
    kept = ok(
        client.get(
            f"/applications/{application_id}/report",
            headers=world.nairobi.headers,
            params={"version": 1},
        )
    )
    assert kept["document"] == first["document"]
    missing = client.get(
        f"/applications/{application_id}/report",
        headers=world.nairobi.headers,
        params={"version": 3},
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        f"application {application_id} has no stage report version 3"
    )
    generated = [
        e
        for e in list_events(session=session, after=0, limit=10_000)
        if e.type is EventType.REPORT_GENERATED
    ]
    assert [(e.data["version"], e.data["digest"]) for e in generated] == [
        (1, first["digest"]),
        (2, second["digest"]),
    ]
    for account in (world.lead, world.secretariat, world.nairobi):
        response = client.post(
            f"/applications/{application_id}/report/regenerate", headers=account.headers
        )
        assert response.status_code == 403


# HTML and PDF -----------------------------------------------------------------------------------


@pytest.fixture
def hostile_world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(
        make_city, make_account, make_framework, nairobi_name="<script>alert(1)</script> Nairobi"
    )


def test_the_html_page_escapes_what_users_wrote(
    client: TestClient, hostile_world: ReviewWorld
) -> None:
    world = hostile_world
    application_id, _ = _not_recommended(client, world)
    response = client.get(
        f"/applications/{application_id}/report.html", headers=world.nairobi.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    page = response.text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Nairobi" in page
    assert "Not recommended for certification" in page
    assert "No work programme yet, and the commitment is not public." in page
    assert "sdgcities-ke version 1" in page


def test_the_html_page_shows_the_gaps_and_their_tools(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    _tools(session)
    application_id, report = _not_recommended(client, world)
    page = client.get(
        f"/applications/{application_id}/report.html", headers=world.committee.headers
    ).text
    assert report["document"]["framework"]["digest"] in page
    assert "Gaps and the tools that help" in page
    assert f'<a href="{WORK_PROGRAMME_TOOL["link"]}">{WORK_PROGRAMME_TOOL["title"]}</a>' in page
    assert 'id="criterion-A.b"' in page


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_is_an_attachment_with_the_report_in_it(
    client: TestClient,
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
    session: Session,
) -> None:
    # Beyond Latin-1, as city names and translations are: the PDF embeds a Unicode font.
    world = make_world(make_city, make_account, make_framework, nairobi_name="Nairobi Ŋairobi Київ")
    _tools(session)
    application_id, report = _not_recommended(client, world)
    response = client.get(
        f"/applications/{application_id}/report.pdf", headers=world.nairobi.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="stage-report-KE-NBO-qualification-v1.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    assert "Stage report: Nairobi Ŋairobi Київ" in text
    assert "Not recommended for certification" in text
    assert report["document"]["framework"]["digest"] in text.replace("\n", "")
    assert WORK_PROGRAMME_TOOL["title"] in text
    assert "No work programme yet, and the commitment is not public." in text
    # The same stored report renders to the same bytes.
    again = client.get(f"/applications/{application_id}/report.pdf", headers=world.admin.headers)
    assert again.content == response.content


# The city's outcome -----------------------------------------------------------------------------


def test_a_city_not_recommended_sees_why_and_the_tools_that_help(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    _tools(session)
    application_id, _ = _not_recommended(client, world)
    outcome = ok(
        client.get(f"/applications/{application_id}/outcome", headers=world.nairobi.headers)
    )
    assert outcome["state"] == "not_recommended"
    assert outcome["certified"] is False
    assert outcome["decision"] is None
    assert outcome["recommendation"] == "not_recommended"
    assert outcome["level"] == "silver"
    assert outcome["summary"] == "No work programme yet, and the commitment is not public."
    assert outcome["explanation"] == (
        "Not certified: the technical review did not recommend stage qualification, and 2 of its "
        "criteria are not fully met. Each gap below lists tools and case studies that help close "
        "it; the city may apply again once it has."
    )
    assert [(g["code"], g["verdict"]) for g in outcome["gaps"]] == [
        ("A.b", "not_met"),
        ("A.c", "partly_met"),
    ]
    assert [t["title"] for t in outcome["gaps"][0]["tools"]] == [WORK_PROGRAMME_TOOL["title"]]
    assert outcome["gaps"][0]["reasons"][1] == "partly_met on the evidence for A.b."
    assert outcome["report"] == f"/applications/{application_id}/report"

    other = client.get(f"/applications/{application_id}/outcome", headers=world.mombasa.headers)
    assert other.status_code == 404
    assert other.json()["detail"] == f"no application {application_id}"
    for account in (world.lead, world.committee):
        assert (
            client.get(
                f"/applications/{application_id}/outcome", headers=account.headers
            ).status_code
            == 403
        )


def test_the_outcome_before_and_after_a_recommendation(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    path = f"/applications/{application_id}/outcome"
    waiting = ok(client.get(path, headers=world.nairobi.headers))
    assert waiting["explanation"] == "No outcome yet: it waits for reviewers to be assigned."
    assert (waiting["gaps"], waiting["report"], waiting["recommendation"]) == ([], None, None)
    assign(client, world, application_id)
    assert ok(client.get(path, headers=world.nairobi.headers))["explanation"] == (
        "No outcome yet: the technical team is reviewing it."
    )
    review_fully(client, world, application_id)
    ok(consolidate(client, world, application_id, "recommended"))
    recommended = ok(client.get(path, headers=world.admin.headers))
    assert recommended["state"] == "recommended"
    assert recommended["recommendation"] == "recommended"
    assert recommended["gaps"] == []
    assert recommended["explanation"] == (
        "Recommended by the technical review: it waits for the committee's decision."
    )
