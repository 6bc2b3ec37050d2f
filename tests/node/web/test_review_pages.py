"""The reviewer's pages: assignments, conflicts of interest, assessing each criterion beside the
city's answer and evidence, clarification, the lead's consolidation and the stage report.

The review is set up through the JSON API (as the city and the administrator would) and worked
through the pages, signed in as the reviewers; every refusal is the review service's."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sdgcities.node.evidence import EvidenceStore

from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..evidence.samples import JPEG
from ..review.factories import (
    QUALIFICATION,
    ReviewWorld,
    assess,
    assign,
    make_world,
    ok,
    review_fully,
    submitted_application,
    upload,
)
from .conftest import SignIn, form_token


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


@pytest.fixture
def under_review(client: TestClient, world: ReviewWorld) -> int:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    return application_id


def page(application_id: int, rest: str = "", language: str = "en") -> str:
    return f"/{language}/review/applications/{application_id}{rest}"


def post_form(
    client: TestClient, path: str, data: dict[str, Any], *, token_from: str | None = None
) -> httpx.Response:
    """Posts `data` with the anti-forgery token of the page at `token_from` (or `path`)."""
    token = form_token(client.get(token_from or path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def field_errors(html: str) -> dict[str, str]:
    """Each error shown next to a field, by the field's id."""
    return {
        match.group(1): re.sub(r"<[^>]+>", "", match.group(2)).replace("Error:", "").strip()
        for match in re.finditer(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', html)
    }


def summary_links(html: str) -> list[str]:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found is not None, "no error summary"
    return re.findall(r'<a href="#([^"]+)">', found.group(0))


def review_of(client: TestClient, world: ReviewWorld, application_id: int) -> Any:
    return ok(client.get(f"/applications/{application_id}/review", headers=world.admin.headers))


# Who sees the pages -----------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client: TestClient, under_review: int) -> None:
    for path in ("/en/review", page(under_review), page(under_review, "/consolidation")):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/en/sign-in?next={path}"


def test_other_roles_may_not_see_the_reviewers_pages(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    for account in (world.nairobi, world.admin, world.committee):
        sign_in(account)
        assert client.get("/en/review").status_code == 403
        assert client.get(page(under_review)).status_code == 403
        assert (
            client.get(page(under_review, f"/evidence/{world.evidence['A.a']}")).status_code == 403
        )


def test_a_reviewer_not_assigned_gets_404_everywhere(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.outsider)
    listing = client.get("/en/review")
    assert listing.status_code == 200
    assert 'id="no-assignments"' in listing.text
    evidence = world.evidence["A.a"]
    for path in (
        page(under_review),
        page(under_review, "/consolidation"),
        page(under_review, f"/evidence/{evidence}"),
        page(under_review, "/report.html"),
        page(999_999),
    ):
        assert client.get(path).status_code == 404, path
    token = form_token(listing.text)
    for path, data in (
        (page(under_review, "/criteria/A.a"), {"verdict": "met", "reasons": "Fine."}),
        (page(under_review, "/submit"), {}),
        (page(under_review, "/clarifications"), {"criteria": "A.a", "question": "Why?"}),
        (page(under_review, "/consolidation"), {}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
    assert review_of(client, world, under_review)["assessments"] == []


# Assignments and the assessment page ------------------------------------------------------------


def test_the_assignments_list_links_to_each_review(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.lead)
    response = client.get("/en/review")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert f'href="/en/review/applications/{under_review}">Nairobi</a>' in response.text
    assert "Lead reviewer" in response.text
    assert "Under review" in response.text
    assert "Not submitted" in response.text


def test_the_assessment_page_shows_each_criterion_beside_the_citys_answer_and_evidence(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    html = client.get(page(under_review)).text
    for code in QUALIFICATION:
        assert f'id="criterion-{code}"' in html
        assert f"How the city meets {code}." in html
        assert f'id="assess-{code}"' in html
        evidence = world.evidence[code]
        preview = page(under_review, f"/evidence/{evidence}")
        assert f'<iframe class="preview" src="{preview}"' in html
        assert f'href="{preview}?download=true"' in html
    # Every framed, linked or loaded address is the node's own.
    for address in re.findall(r'(?:src|href|action)="([^"]*)"', html):
        assert address.startswith(("/", "#")), address
    # The second reviewer is not the lead: no consolidation link.
    assert 'id="consolidation-link"' not in html


def test_evidence_is_served_from_the_node_for_preview_and_download(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    application_id = submitted_application_with_image(client, world)
    sign_in(world.lead)
    pdf = client.get(page(application_id, f"/evidence/{world.evidence['A.a']}"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('inline; filename="A.a.pdf"')
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'self'"
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    assert pdf.headers["cache-control"] == "private, no-store"
    image_id = world.evidence["photo"]
    image = client.get(page(application_id, f"/evidence/{image_id}"))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content == JPEG
    assert image.headers["content-disposition"].startswith("inline;")
    assert image.headers["content-security-policy"] == "default-src 'none'; sandbox"
    download = client.get(page(application_id, f"/evidence/{image_id}?download=true"))
    assert download.headers["content-disposition"].startswith('attachment; filename="photo.jpg"')
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
    html = client.get(page(application_id)).text
    assert f'<img class="preview" src="{page(application_id, f"/evidence/{image_id}")}"' in html
    # Evidence of another application is not reachable through this one.
    other = submitted_application(client, world, world.mombasa)
    foreign = world.evidence["A.a"]
    assert client.get(page(application_id, f"/evidence/{foreign}")).status_code == 404
    assert client.get(page(other, f"/evidence/{foreign}")).status_code == 404


def submitted_application_with_image(client: TestClient, world: ReviewWorld) -> int:
    body = {"stage": "qualification", "framework_version_id": world.framework_id}
    headers = world.nairobi.headers
    application_id = int(ok(client.post("/applications", headers=headers, json=body), 201)["id"])
    for code in QUALIFICATION:
        ok(
            client.put(
                f"/applications/{application_id}/criteria/{code}",
                headers=headers,
                json={"narrative": f"How the city meets {code}."},
            )
        )
        world.evidence[code] = upload(client, world.nairobi, application_id, code, f"{code}.pdf")
    photo = client.post(
        f"/applications/{application_id}/criteria/A.b/evidence",
        params={"filename": "photo.jpg"},
        headers={**headers, "Content-Type": "application/octet-stream"},
        content=JPEG,
    )
    world.evidence["photo"] = int(ok(photo, 201)["id"])
    ok(client.post(f"/applications/{application_id}/submit", headers=headers))
    assign(client, world, application_id)
    return application_id


def test_an_altered_evidence_file_is_not_shown(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    settings = client.app.state.node.settings  # type: ignore[attr-defined]
    store = EvidenceStore(settings.evidence_dir, max_bytes=settings.evidence_max_bytes)
    evidence = client.get(f"/applications/{under_review}", headers=world.lead.headers).json()[
        "evidence"
    ][0]
    path = store.path_for(evidence["digest"])
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"changed")
        sign_in(world.lead)
        response = client.get(page(under_review, f"/evidence/{evidence['id']}"))
        assert response.status_code == 409
        assert "cannot be opened" in response.text
    finally:
        path.write_bytes(original)


# Assessing --------------------------------------------------------------------------------------


def test_a_reviewer_assesses_a_criterion_through_the_form(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    evidence = world.evidence["A.b"]
    response = post_form(
        client,
        page(under_review, "/criteria/A.b"),
        {"verdict": "partly_met", "reasons": "The plan lacks a budget.", "evidence": str(evidence)},
        token_from=page(under_review),
    )
    assert response.status_code == 303
    assert response.headers["location"] == page(under_review, "?done=assessed#criterion-A.b")
    [assessment] = review_of(client, world, under_review)["assessments"]
    assert assessment["criterion_code"] == "A.b"
    assert assessment["verdict"] == "partly_met"
    assert assessment["evidence_ids"] == [evidence]
    html = client.get(response.headers["location"]).text
    assert 'id="done"' in html
    assert "The plan lacks a budget." in html
    assert 'value="partly_met" id="verdict-A.b-partly_met" checked' in html


def test_an_incomplete_assessment_is_refused_with_each_error_by_its_field(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    response = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "splendid", "reasons": "  ", "evidence": "not-a-number"},
        token_from=page(under_review),
    )
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert errors == {
        "verdict-A.a": "Choose a verdict for this criterion.",
        "reasons-A.a": "Give the reasons for your verdict.",
        "evidence-A.a": "Choose evidence from the list.",
    }
    assert summary_links(response.text) == ["verdict-A.a", "reasons-A.a", "evidence-A.a"]
    assert 'aria-describedby="reasons-A.a-hint reasons-A.a-error"' in response.text
    # Evidence of another criterion: the service refuses it, next to the field.
    wrong = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "met", "reasons": "Fine.", "evidence": str(world.evidence["A.b"])},
        token_from=page(under_review),
    )
    assert wrong.status_code == 400
    assert field_errors(wrong.text) == {
        "evidence-A.a": "Choose evidence attached to this criterion."
    }
    assert "Fine." in wrong.text  # what was typed is kept
    assert review_of(client, world, under_review)["assessments"] == []


def test_a_form_without_its_token_is_refused(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    response = client.post(
        page(under_review, "/criteria/A.a"), data={"verdict": "met", "reasons": "Fine."}
    )
    assert response.status_code == 403
    assert review_of(client, world, under_review)["assessments"] == []


def test_submitting_lists_every_criterion_not_assessed_at_once(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    ok(assess(client, world.second, under_review, "A.b"))
    sign_in(world.second)
    response = post_form(client, page(under_review, "/submit"), {}, token_from=page(under_review))
    assert response.status_code == 400
    message = "Assess this criterion before you submit your review."
    assert field_errors(response.text) == {"verdict-A.a": message, "verdict-A.c": message}
    assert summary_links(response.text) == ["verdict-A.a", "verdict-A.c"]
    for code in ("A.a", "A.c"):
        ok(assess(client, world.second, under_review, code))
    done = post_form(client, page(under_review, "/submit"), {}, token_from=page(under_review))
    assert done.status_code == 303
    html = client.get(done.headers["location"]).text
    assert 'id="submitted-notice"' in html
    assert 'id="assess-A.a"' not in html
    # Submitted: the page shows the verdicts, and a late change is refused by the service.
    late = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "not_met", "reasons": "Second thoughts."},
        token_from=page(under_review),
    )
    assert late.status_code == 409
    assert "You have submitted your review" in late.text


def test_after_submitting_a_reviewer_reads_the_others_assessments(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    ok(assess(client, world.lead, under_review, "A.a", "not_met", reasons="No plan at all."))
    sign_in(world.second)
    assert "No plan at all." not in client.get(page(under_review)).text
    review_fully(client, world, under_review, reviewers=[world.second])
    html = client.get(page(under_review)).text
    assert "No plan at all." in html
    assert "The other reviewers" in html


# Conflicts of interest --------------------------------------------------------------------------


def test_a_reviewer_declares_a_conflict_and_can_no_longer_assess(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    form_page = "/en/review/conflicts?city=KE-NBO"
    assert 'value="KE-NBO"' in client.get(form_page).text
    response = post_form(
        client,
        "/en/review/conflicts",
        {"city": "ke-nbo", "reason": "I advised the city's planning office in 2024."},
        token_from=form_page,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/en/review/conflicts?declared=KE-NBO"
    listing = client.get(response.headers["location"]).text
    assert 'id="conflict-declared"' in listing
    assert "I advised the city&#39;s planning office in 2024." in listing
    html = client.get(page(under_review)).text
    assert 'id="conflict-notice"' in html
    assert 'id="assess-A.a"' not in html
    assert 'id="clarification-form"' not in html
    refused = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "met", "reasons": "Fine."},
        token_from=page(under_review),
    )
    assert refused.status_code == 409
    assert 'id="refusal"' in refused.text
    assert "You declared a conflict of interest with this city" in refused.text
    assert review_of(client, world, under_review)["assessments"] == []
    again = post_form(
        client,
        "/en/review/conflicts",
        {"city": "KE-NBO", "reason": "Twice."},
        token_from="/en/review/conflicts",
    )
    assert again.status_code == 409
    assert field_errors(again.text) == {
        "conflict-city": "You have already declared a conflict of interest with this city."
    }


def test_a_conflict_form_with_errors_names_each_field(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.second)
    empty = post_form(client, "/en/review/conflicts", {"city": "", "reason": ""})
    assert empty.status_code == 400
    assert field_errors(empty.text) == {
        "conflict-city": "Enter the city's UN/LOCODE, such as KE-NBO.",
        "conflict-reason": "Say why you cannot review this city impartially.",
    }
    malformed = post_form(client, "/en/review/conflicts", {"city": "NAIROB", "reason": "Kin."})
    assert malformed.status_code == 400
    assert set(field_errors(malformed.text)) == {"conflict-city"}
    unknown = post_form(client, "/en/review/conflicts", {"city": "KE-XXX", "reason": "Kin."})
    assert unknown.status_code == 400
    assert field_errors(unknown.text) == {"conflict-city": "This node has no city with this code."}
    assert "Kin." in unknown.text


# Clarification ----------------------------------------------------------------------------------


def test_a_reviewer_asks_the_city_for_a_clarification(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    empty = post_form(
        client,
        page(under_review, "/clarifications"),
        {"question": ""},
        token_from=page(under_review),
    )
    assert empty.status_code == 400
    assert field_errors(empty.text) == {
        "clarification-criteria": "Choose at least one criterion to ask about.",
        "clarification-question": "Write the question the city should answer.",
    }
    asked = post_form(
        client,
        page(under_review, "/clarifications"),
        {"criteria": ["A.a", "A.c"], "question": "Where is the council's resolution?"},
        token_from=page(under_review),
    )
    assert asked.status_code == 303
    [request] = review_of(client, world, under_review)["clarifications"]
    assert request["criteria"] == ["A.a", "A.c"]
    html = client.get(asked.headers["location"]).text
    assert "Where is the council&#39;s resolution?" in html
    assert 'id="clarification-notice"' in html
    assert 'id="assess-A.a"' not in html
    # While the city answers, assessing waits: the service refuses it.
    refused = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "met", "reasons": "Fine."},
        token_from=page(under_review),
    )
    assert refused.status_code == 409
    assert "The city is answering a clarification request" in refused.text


# Consolidation and the stage report -------------------------------------------------------------


def test_only_the_lead_consolidates(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review)
    sign_in(world.second)
    assert client.get(page(under_review, "/consolidation")).status_code == 403
    response = post_form(
        client,
        page(under_review, "/consolidation"),
        {"recommendation": "recommended", "summary": "All met."},
        token_from=page(under_review),
    )
    assert response.status_code == 403
    assert review_of(client, world, under_review)["consolidation"] is None


def test_the_lead_waits_for_every_reviewer(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review, reviewers=[world.lead])
    sign_in(world.lead)
    html = client.get(page(under_review, "/consolidation")).text
    assert 'id="waiting-notice"' in html
    assert 'id="consolidation-form"' not in html
    response = post_form(
        client,
        page(under_review, "/consolidation"),
        {f"verdict-{code}": "reviewers" for code in QUALIFICATION}
        | {"recommendation": "recommended", "summary": "All met."},
    )
    assert response.status_code == 409
    assert "Every reviewer must submit their review" in response.text


def test_every_missing_verdict_is_listed_at_once_next_to_its_field(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review, {"A.b": "partly_met"})
    sign_in(world.lead)
    form_page = page(under_review, "/consolidation")
    html = client.get(form_page).text
    assert "The reviewers' most cautious verdict: Partly met" in html
    response = post_form(
        client,
        form_page,
        {"verdict-A.b": "met", "reasons-A.b": "", "summary": ""},
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {
        "verdict-A.a": "Choose the consolidated verdict of this criterion.",
        "reasons-A.b": "Give the reasons for the verdict you chose.",
        "verdict-A.c": "Choose the consolidated verdict of this criterion.",
        "recommendation": "Choose a recommendation.",
        "summary": "Give the grounds of the recommendation for the committee.",
    }
    assert summary_links(response.text) == [
        "verdict-A.a",
        "reasons-A.b",
        "verdict-A.c",
        "recommendation",
        "summary",
    ]
    assert '<option value="met" selected>' in response.text  # the lead's choice is kept
    assert review_of(client, world, under_review)["consolidation"] is None


def test_a_recommendation_with_gaps_names_each_gap_by_its_field(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review, {"A.b": "partly_met", "A.c": "not_met"})
    sign_in(world.lead)
    response = post_form(
        client,
        page(under_review, "/consolidation"),
        {f"verdict-{code}": "reviewers" for code in QUALIFICATION}
        | {"recommendation": "recommended", "summary": "Close enough."},
    )
    assert response.status_code == 400
    assert field_errors(response.text) == {
        "verdict-A.b": "A recommendation needs every criterion met; this one is Partly met.",
        "verdict-A.c": "A recommendation needs every criterion met; this one is Not met.",
    }


def test_the_lead_consolidates_and_reads_the_stage_report(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review, {"A.c": "partly_met"})
    sign_in(world.lead)
    response = post_form(
        client,
        page(under_review, "/consolidation"),
        {
            "verdict-A.a": "reviewers",
            "verdict-A.b": "reviewers",
            "verdict-A.c": "met",
            "reasons-A.c": "The budget was found in annex 3.",
            "recommendation": "recommended",
            "summary": "Every criterion is met.",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == page(under_review, "?done=consolidated")
    consolidation = review_of(client, world, under_review)["consolidation"]
    assert consolidation["recommendation"] == "recommended"
    assert [v["defaulted"] for v in consolidation["verdicts"]] == [True, True, False]
    html = client.get(response.headers["location"]).text
    assert 'id="closed-notice"' in html
    assert "The budget was found in annex 3." in html
    report = client.get(page(under_review, "/report.html"))
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert "Nairobi" in report.text
    pdf = client.get(page(under_review, "/report.pdf"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    for link in ('id="report-html"', 'id="report-pdf"'):
        assert link in html
    # A closed review: the forms are gone, and a change is refused.
    closed = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "not_met", "reasons": "Too late."},
        token_from=page(under_review),
    )
    assert closed.status_code == 409
    assert "This review is closed" in closed.text
    again = client.get(page(under_review, "/consolidation")).text
    assert 'id="consolidation-form"' not in again


def test_the_report_is_404_before_the_consolidation(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.lead)
    assert client.get(page(under_review, "/report.html")).status_code == 404
    assert client.get(page(under_review, "/report.pdf")).status_code == 404
    assert 'id="report-html"' not in client.get(page(under_review)).text


# Languages --------------------------------------------------------------------------------------


def test_the_assessment_page_in_arabic(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.lead)
    html = client.get(page(under_review, language="ar")).text
    assert '<html lang="ar" dir="rtl">' in html
    assert "مراجعة" in html  # "review"
    assert "Your assessment" not in html
    assert 'action="/ar/review/applications/' in html
    errors = post_form(
        client,
        page(under_review, "/criteria/A.a", language="ar"),
        {"verdict": "", "reasons": ""},
        token_from=page(under_review, language="ar"),
    )
    assert errors.status_code == 400
    assert "Choose a verdict" not in errors.text
    assert set(field_errors(errors.text)) == {"verdict-A.a", "reasons-A.a"}


def test_the_consolidation_page_in_chinese(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    review_fully(client, world, under_review)
    sign_in(world.lead)
    html = client.get(page(under_review, "/consolidation", language="zh")).text
    assert '<html lang="zh" dir="ltr">' in html
    assert "审评" in html or "评审" in html
    assert "Consolidate the review" not in html
    listing = client.get("/zh/review").text
    assert "Your review assignments" not in listing


def test_text_the_service_would_refuse_is_named_by_its_field(
    client: TestClient, world: ReviewWorld, under_review: int, sign_in: SignIn
) -> None:
    sign_in(world.second)
    control = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "met", "reasons": "Fine\x00."},
        token_from=page(under_review),
    )
    assert control.status_code == 400
    assert field_errors(control.text) == {
        "reasons-A.a": "Remove the control characters from this text."
    }
    long = post_form(
        client,
        page(under_review, "/criteria/A.a"),
        {"verdict": "met", "reasons": "x" * 10_001},
        token_from=page(under_review),
    )
    assert long.status_code == 400
    assert field_errors(long.text) == {"reasons-A.a": "Write at most 10000 characters."}
    unknown = post_form(
        client,
        page(under_review, "/clarifications"),
        {"criteria": "Z.z", "question": "Why?"},
        token_from=page(under_review),
    )
    assert unknown.status_code == 400
    assert field_errors(unknown.text) == {
        "clarification-criteria": "Choose criteria from the list."
    }
    no_such_criterion = post_form(
        client,
        page(under_review, "/criteria/Z.z"),
        {"verdict": "met", "reasons": "Fine."},
        token_from=page(under_review),
    )
    assert no_such_criterion.status_code == 404
    assert client.get("/en/review?page=0").status_code == 400
    assert review_of(client, world, under_review)["assessments"] == []
    assert review_of(client, world, under_review)["clarifications"] == []
