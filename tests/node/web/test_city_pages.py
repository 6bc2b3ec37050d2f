"""The city's pages: dashboard, self-assessment with evidence, the reviewers' questions and the
stage report, driven as a city official's browser would (forms, redirects, the form token)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pypdf import PdfReader
from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.catalogue.service import create_tool
from sdgcities.node.evidence import EvidenceStore
from sdgcities.node.reports import render
from sdgcities.node.reports.render import pdf_languages

from ..conftest import Account, Backend, MakeAccount, MakeCity, MakeFramework
from ..evidence.samples import ELF, HTML, PDF
from ..review.factories import (
    QUALIFICATION,
    ReviewWorld,
    assign,
    consolidate,
    make_world,
    ok,
    review_fully,
)
from .conftest import SignIn, form_token

GAP_TOOL = {
    "kind": "tool",
    "title": "Certification work programme template",
    "summary": "Plan the levels of certification a city intends to achieve.",
    "link": "https://example.org/work-programme",
    "criteria": ["A.b"],
    "languages": ["en"],
    "provider": "UN-Habitat",
}


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


def _post(client: TestClient, page: str, action: str, data: dict[str, str], **kwargs) -> Response:  # type: ignore[no-untyped-def]
    """Posts a form of `page` as a browser would: with the page's form token."""
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False, **kwargs)


def _start(client: TestClient, world: ReviewWorld, lang: str = "en") -> int:
    response = _post(
        client,
        f"/{lang}/city",
        f"/{lang}/city/applications",
        {
            "stage": "qualification",
            "framework_version_id": str(world.framework_id),
            "language": lang,
        },
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(rf"/{lang}/city/applications/(\d+)", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def _save(client: TestClient, application_id: int, code: str, data: dict[str, str]) -> Response:
    page = f"/en/city/applications/{application_id}"
    return _post(client, page, f"{page}/criteria/{code}", data)


def _upload(
    client: TestClient, application_id: int, code: str, name: str, content: bytes
) -> Response:
    page = f"/en/city/applications/{application_id}"
    return _post(
        client, page, f"{page}/criteria/{code}/evidence", {}, files={"file": (name, content)}
    )


def _application(client: TestClient, account: Account, application_id: int) -> dict:  # type: ignore[type-arg]
    return ok(client.get(f"/applications/{application_id}", headers=account.headers))  # type: ignore[no-any-return]


# The dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_starts_an_application_and_shows_where_it_stands(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    html = client.get("/en/city").text
    assert "<h1>Nairobi</h1>" in html
    assert "Your city has no application yet." in html
    assert 'id="start-application"' in html
    assert "Your city holds no certificate yet." in html

    application_id = _start(client, world, "fr")
    assert _application(client, world.nairobi, application_id)["language"] == "fr"
    html = client.get("/en/city").text
    assert f'href="/en/city/applications/{application_id}"' in html
    assert "Stage Qualification" in html
    assert "Answer every criterion, add your evidence, then submit" in html
    assert "Criteria still without an answer: 3." in html
    # The timeline: started today, the rest still to come.
    assert 'class="timeline-step done current" aria-current="step"' in html
    assert html.count("timeline-step upcoming") == 4
    # One open application at a time: no form to start another.
    assert 'id="start-application"' not in html


def test_starting_without_a_stage_shows_the_error_beside_it(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    response = _post(client, "/en/city", "/en/city/applications", {"framework_version_id": "x"})
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    assert '<a href="#stage">Choose the stage to apply for.</a>' in response.text
    assert '<a href="#framework_version_id">Choose the criteria framework.</a>' in response.text
    assert '<a href="#language">Choose the language of the review.</a>' in response.text
    assert 'id="stage-error"' in response.text


def test_a_second_open_application_is_refused_by_the_service(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    first = _start(client, world)
    token = form_token(client.get("/en/city").text)
    response = client.post(
        "/en/city/applications",
        data={
            "csrf_token": token,
            "stage": "qualification",
            "framework_version_id": str(world.framework_id),
            "language": "en",
        },
    )
    assert response.status_code == 409
    assert "The application could not be started." in response.text
    assert f"already has an open application ({first}" in response.text


# The self-assessment ----------------------------------------------------------------------------


def test_the_full_path_from_draft_to_report(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, session: Session
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    page = f"/en/city/applications/{application_id}"
    html = client.get(page).text
    for code in QUALIFICATION:
        assert f'id="narrative-{code.replace(".", "-")}"' in html
    assert 'id="submit-form"' in html
    assert "city-upload.js" in html

    # A draft of one criterion, with an indicator value broken down by population group.
    saved = _save(
        client,
        application_id,
        "A.a",
        {
            "narrative": "The council adopted the SDG localisation plan.",
            "values-0-indicator": "11.1.1",
            "values-0-value": "34,5",
            "values-0-unit": "%",
            "values-0-year": "2024",
            "values-0-sex": "female",
            "values-0-age": "15-24",
            "values-0-disability": "yes",
            "values-0-district": "Kibera",
            "values-1-indicator": "",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{page}?saved=A.a#criterion-A-a"
    html = client.get(saved.headers["location"]).text
    assert "Saved: criterion A.a." in html
    assert "The council adopted the SDG localisation plan." in html
    assert 'value="34.5"' in html
    answer = _application(client, world.nairobi, application_id)["answers"][0]
    assert answer["indicator_values"] == [
        {
            "indicator": "11.1.1",
            "value": 34.5,
            "unit": "%",
            "year": 2024,
            "disaggregation": {
                "sex": "female",
                "age": "15-24",
                "disability": True,
                "district": "Kibera",
            },
        }
    ]

    # Submitting too early lists every missing answer at once, each linked to its field.
    response = _post(client, page, f"{page}/submit", {})
    assert response.status_code == 400
    assert "Answers that need your attention: 2." in response.text
    for code in ("A.b", "A.c"):
        assert (
            f'<a href="#narrative-{code.replace(".", "-")}">{code}: Criterion {code} has no answer'
            in response.text
        )
    assert 'href="#narrative-A-a"' not in response.text
    assert _application(client, world.nairobi, application_id)["state"] == "draft"

    # Evidence: a PDF is stored; an executable is refused by its content, whatever its name.
    uploaded = _upload(client, application_id, "A.a", "plan.pdf", PDF)
    assert uploaded.status_code == 303
    assert "plan.pdf" in client.get(uploaded.headers["location"]).text
    refused = _upload(client, application_id, "A.a", "budget.pdf", ELF)
    assert refused.status_code == 415
    assert "This kind of file is not accepted" in refused.text
    assert '<a href="#evidence-A-a">' in refused.text
    assert "budget.pdf" not in refused.text
    evidence = _application(client, world.nairobi, application_id)["evidence"]
    assert [(e["filename"], e["media_type"]) for e in evidence] == [("plan.pdf", "application/pdf")]

    for code in ("A.b", "A.c"):
        assert (
            _save(client, application_id, code, {"narrative": f"How we meet {code}."}).status_code
            == 303
        )
        assert _upload(client, application_id, code, f"{code}.pdf", PDF).status_code == 303
    submitted = _post(client, page, f"{page}/submit", {})
    assert submitted.status_code == 303
    assert _application(client, world.nairobi, application_id)["state"] == "submitted"
    html = client.get(page).text
    assert 'id="submit-form"' not in html
    assert 'id="answer-A-a"' not in html  # no longer editable
    assert "reviewers are being assigned" in html

    # The reviewers ask; the city answers on the page.
    assign(client, world, application_id)
    asked = ok(
        client.post(
            f"/applications/{application_id}/clarifications",
            headers=world.lead.headers,
            json={"criteria": ["A.b"], "question": "Which levels, and by when?"},
        ),
        201,
    )
    html = client.get(page).text
    assert "Which levels, and by when?" in html
    assert f'id="answer-{asked["id"]}"' in html
    assert 'id="answer-A-b"' in html  # the criterion asked about may change
    assert 'id="answer-A-a"' not in html
    empty = _post(client, page, f"{page}/clarifications", {f"answer-{asked['id']}": "  "})
    assert empty.status_code == 400
    assert f'<a href="#answer-{asked["id"]}">Answer this question.</a>' in empty.text
    answered = _post(
        client, page, f"{page}/clarifications", {f"answer-{asked['id']}": "Gold by 2027."}
    )
    assert answered.status_code == 303
    assert _application(client, world.nairobi, application_id)["state"] == "under_review"
    assert (
        "Your answers were sent to the reviewers." in client.get(answered.headers["location"]).text
    )

    # The review ends not recommended; the report shows the gap and the tool that helps.
    create_tool(session=session, data=ToolCreate.model_validate(GAP_TOOL), actor=SYSTEM)
    session.commit()
    for code in QUALIFICATION:
        world.evidence[code] = next(
            e["id"]
            for e in _application(client, world.nairobi, application_id)["evidence"]
            if e["criterion_code"] == code
        )
    review_fully(client, world, application_id, {"A.b": "partly_met"})
    ok(consolidate(client, world, application_id, "not_recommended"))
    html = client.get("/en/city").text
    assert "Read the stage report" in html
    report = client.get(f"{page}/report")
    assert report.status_code == 200
    assert "Not recommended for certification" in report.text
    assert "Gaps to address: A.b." in report.text
    assert "Certification work programme template" in report.text
    assert "Gold by 2027." in report.text
    pdf = client.get(f"{page}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_indicator_values_are_checked_field_by_field_and_kept(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    response = _save(
        client,
        application_id,
        "A.b",
        {
            "narrative": "Our plan.",
            "values-0-indicator": "11.6.1",
            "values-0-value": "many",
            "values-0-unit": "",
            "values-0-year": "19",
            "values-0-age": "old",
        },
    )
    assert response.status_code == 400
    html = response.text
    assert '<a href="#values-A-b-0-value">A.b: Enter the value as a number' in html
    assert '<a href="#values-A-b-0-year">A.b: Enter a year from 1990 to 2100.</a>' in html
    assert '<a href="#values-A-b-0-unit">' in html
    # What was typed stays in the form.
    assert 'value="many"' in html
    assert "Our plan." in html
    assert _application(client, world.nairobi, application_id)["answers"] == []

    # A value the API's own model refuses (an age band backwards) is shown beside its field.
    response = _save(
        client,
        application_id,
        "A.b",
        {
            "narrative": "Our plan.",
            "values-0-indicator": "11.6.1",
            "values-0-value": "3",
            "values-0-unit": "%",
            "values-0-year": "2020",
            "values-0-age": "64-15",
        },
    )
    assert response.status_code == 400
    assert 'id="values-A-b-0-age-error"' in response.text


def test_an_upload_without_a_file_or_an_empty_file_is_explained(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    page = f"/en/city/applications/{application_id}"
    nothing = _post(client, page, f"{page}/criteria/A.a/evidence", {})
    assert nothing.status_code == 400
    assert "Choose a file to upload." in nothing.text
    empty = _upload(client, application_id, "A.a", "empty.pdf", b"")
    assert empty.status_code == 422
    assert "The file is empty." in empty.text
    html_file = _upload(client, application_id, "A.a", "page.txt", HTML)
    assert html_file.status_code == 415


def test_an_upload_after_submission_is_refused(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    for code in QUALIFICATION:
        _save(client, application_id, code, {"narrative": "Done."})
    page = f"/en/city/applications/{application_id}"
    assert _post(client, page, f"{page}/submit", {}).status_code == 303
    # The page no longer offers the form, but a stale one is still refused by the service.
    token = form_token(client.get(page).text)
    refused = client.post(
        f"{page}/criteria/A.a/evidence",
        data={"csrf_token": token},
        files={"file": ("late.pdf", PDF)},
    )
    assert refused.status_code == 409
    stale = client.post(f"{page}/criteria/A.a", data={"csrf_token": token, "narrative": "Late."})
    assert stale.status_code == 409
    assert "can no longer be changed" in stale.text


def test_a_form_without_its_token_is_refused(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    response = client.post(
        f"/en/city/applications/{application_id}/criteria/A.a", data={"narrative": "Forged."}
    )
    assert response.status_code == 403
    assert _application(client, world.nairobi, application_id)["answers"] == []


def test_an_unknown_criterion_is_not_found(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    assert _save(client, application_id, "A.z", {"narrative": "?"}).status_code == 404


def test_the_report_before_the_review_ends_is_not_found(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    response = client.get(f"/en/city/applications/{application_id}/report")
    assert response.status_code == 404
    assert "has no stage report yet" in response.text


def test_answering_when_nothing_was_asked_is_refused(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    page = f"/en/city/applications/{application_id}"
    response = _post(client, page, f"{page}/clarifications", {"answer-1": "Hello"})
    assert response.status_code == 409
    assert "There is no open question to answer." in response.text


# Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/en/city", "/en/city/applications/1", "/en/city/applications/1/report"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/en/sign-in?next={path}")


def test_other_roles_may_not_see_the_city_pages(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.lead)
    assert client.get("/en/city").status_code == 403
    sign_in(world.secretariat)
    assert client.get("/en/city").status_code == 403


def test_another_citys_application_is_not_found(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    token = form_token(client.get("/en/city").text)
    sign_in(world.mombasa)
    page = f"/en/city/applications/{application_id}"
    assert client.get(page).status_code == 404
    assert client.get(f"{page}/report").status_code == 404
    assert client.get(f"{page}/report.pdf").status_code == 404
    assert client.get(f"{page}/evidence/1").status_code == 404
    token = form_token(client.get("/en/city").text)
    for action, data in [
        (f"{page}/criteria/A.a", {"narrative": "Not ours."}),
        (f"{page}/submit", {}),
        (f"{page}/clarifications", {}),
    ]:
        assert client.post(action, data={"csrf_token": token, **data}).status_code == 404
    refused = client.post(
        f"{page}/criteria/A.a/evidence",
        data={"csrf_token": token},
        files={"file": ("x.pdf", PDF)},
    )
    assert refused.status_code == 404
    # Mombasa's dashboard shows none of Nairobi's.
    assert f"/applications/{application_id}" not in client.get("/en/city").text


# Languages --------------------------------------------------------------------------------------


def _reported(client: TestClient, world: ReviewWorld) -> int:
    application_id = _start(client, world)
    for code in QUALIFICATION:
        _save(client, application_id, code, {"narrative": f"How we meet {code}."})
        _upload(client, application_id, code, f"{code}.pdf", PDF)
    page = f"/en/city/applications/{application_id}"
    assert _post(client, page, f"{page}/submit", {}).status_code == 303
    assign(client, world, application_id)
    for code in QUALIFICATION:
        world.evidence[code] = next(
            e["id"]
            for e in _application(client, world.nairobi, application_id)["evidence"]
            if e["criterion_code"] == code
        )
    review_fully(client, world, application_id, {"A.c": "not_met"})
    ok(consolidate(client, world, application_id, "not_recommended"))
    return application_id


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ar", ['dir="rtl"', "التقييم الذاتي", "غير موصى به"]),
        ("zh", ["自我评估", "不建议认证"]),
        ("fr", ["Auto-évaluation", "Non recommandée pour la certification"]),
    ],
)
def test_the_pages_in_arabic_chinese_and_french(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, lang: str, words: list[str]
) -> None:
    sign_in(world.nairobi)
    application_id = _reported(client, world)
    page = f"/{lang}/city/applications/{application_id}"
    html = client.get(page).text + client.get(f"{page}/report").text
    # The baseline's criteria in the page's language: the packaged unofficial translation.
    assert '<p class="criterion-text" lang="en" dir="auto">' not in html
    for word in words:
        assert word in html
    assert "Self-assessment" not in html
    assert "Not recommended for certification" not in html
    dashboard = client.get(f"/{lang}/city")
    assert dashboard.status_code == 200
    assert "Read the stage report" not in dashboard.text
    pdf = client.get(f"{page}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def _pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    # pypdf reads the two-byte codes of a CJK font collection with a NUL before each character.
    return text.replace("\x00", "")


@pytest.mark.skipif(
    "zh" not in pdf_languages(), reason="the Noto Sans CJK fonts are not installed here"
)
def test_the_report_pdf_in_arabic_chinese_and_russian(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    application_id = _reported(client, world)
    page = f"/{{lang}}/city/applications/{application_id}/report"
    for lang, words in [("zh", "阶段报告"), ("ru", "Отчёт по этапу"), ("ar", "Nairobi")]:
        pdf = client.get(page.format(lang=lang) + ".pdf")
        assert pdf.status_code == 200
        text = _pdf_text(pdf.content)
        assert words in text
        assert "This PDF is in English" not in text
        html = client.get(page.format(lang=lang)).text
        assert "(in English" not in html
    # Arabic letters are drawn shaped (as joined forms), right to left.
    arabic = _pdf_text(client.get(page.format(lang="ar") + ".pdf").content)
    assert any("\u0600" <= char <= "\u06ff" or "\ufe70" <= char <= "\ufeff" for char in arabic)
    assert "Stage report" not in arabic


def test_without_cjk_fonts_the_chinese_pdf_is_in_english_and_says_so(
    client: TestClient,
    world: ReviewWorld,
    sign_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A machine without Debian's fonts-noto-cjk (the operating system, not the node, lacks them).
    missing = tmp_path / "none.ttc"
    monkeypatch.setattr(render, "CJK_FONT_FILES", (missing, missing))
    sign_in(world.nairobi)
    application_id = _reported(client, world)
    page = f"/zh/city/applications/{application_id}/report"
    assert "暂时无法以此语言生成 PDF" in client.get(page).text
    text = _pdf_text(client.get(f"{page}.pdf").content)
    assert "This PDF is in English" in text
    assert "Stage report: Nairobi" in text


def test_an_upload_larger_than_a_form_but_within_the_evidence_cap_is_stored(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, backend: Backend
) -> None:
    assert (
        backend.settings.max_request_bytes < 2 * 1024 * 1024 <= backend.settings.evidence_max_bytes
    )
    sign_in(world.nairobi)
    application_id = _start(client, world)
    rows = b"district,households\n" + b"Kibera,1234\n" * (2 * 1024 * 1024 // 12)
    response = _upload(client, application_id, "A.a", "households.csv", rows)
    assert response.status_code == 303
    evidence = _application(client, world.nairobi, application_id)["evidence"]
    assert [(e["filename"], e["size"]) for e in evidence] == [("households.csv", len(rows))]


def test_an_upload_over_the_evidence_cap_is_refused(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, backend: Backend
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    too_large = b"a,b\n" * (backend.settings.evidence_max_bytes // 4 + 1)
    response = _upload(client, application_id, "A.a", "big.csv", too_large)
    assert response.status_code == 413
    assert _application(client, world.nairobi, application_id)["evidence"] == []


def test_an_evidence_file_changed_on_disk_is_not_served(
    client: TestClient, world: ReviewWorld, sign_in: SignIn, backend: Backend
) -> None:
    sign_in(world.nairobi)
    application_id = _start(client, world)
    content = b"Notes only this test stores, then finds changed on disk.\n"
    assert _upload(client, application_id, "A.a", "notes.txt", content).status_code == 303
    evidence = _application(client, world.nairobi, application_id)["evidence"][0]
    store = EvidenceStore(backend.settings.evidence_dir)
    store.path_for(evidence["digest"]).write_bytes(b"tampered")
    response = client.get(f"/en/city/applications/{application_id}/evidence/{evidence['id']}")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "This cannot be done now" in response.text
