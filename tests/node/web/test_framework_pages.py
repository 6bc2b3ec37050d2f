"""The secretariat's framework pages: derive a national framework from the baseline, contextualise
and translate its criteria, publish it and ask the global node to endorse it; every refusal a
page in the reader's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import unescape

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.frameworks.models import FrameworkStatus, FrameworkVersion
from sdgcities.node.frameworks.service import find_version
from sdgcities.node.state import NodeState

from ..conftest import Account, Backend, MakeAccount, MakeFramework
from ..membership.test_routes import Handler
from ..membership.test_routes import global_node as global_node  # the fixture
from .conftest import SignIn, form_token


def _baseline_id(session: Session) -> int:
    baseline = find_version(session=session, framework_id="sdgcities-baseline", version="1")
    assert baseline is not None
    assert baseline.id is not None
    return baseline.id


def _post(client: TestClient, page: str, action: str, **fields: str) -> httpx.Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


def _derive(client: TestClient, session: Session, **fields: str) -> httpx.Response:
    values = {
        "base_id": str(_baseline_id(session)),
        "framework_id": "sdgcities-ke",
        "version": "1",
        "title": "SDG Cities certification: Kenya",
        **fields,
    }
    return _post(client, "/en/frameworks", "/en/frameworks/derive", **values)


def _derived_draft(client: TestClient, session: Session) -> int:
    response = _derive(client, session)
    assert response.status_code == 303, response.text
    version_id = int(response.headers["location"].split("/")[3].split("?")[0])
    return version_id


@pytest.fixture
def administrator(make_account: MakeAccount, sign_in: SignIn) -> Account:
    account = make_account(Role.ADMINISTRATOR)
    sign_in(account)
    return account


# Access -----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, session: Session) -> None:
    for path in ("/en/frameworks", f"/en/frameworks/{_baseline_id(session)}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/en/sign-in?next={path}"


def test_reviewers_and_cities_get_a_403_page(
    client: TestClient, session: Session, make_account: MakeAccount, sign_in: SignIn
) -> None:
    for outsider in (make_account(Role.REVIEWER), make_account(Role.COMMITTEE_MEMBER)):
        sign_in(outsider)
        for path in ("/fr/frameworks", f"/fr/frameworks/{_baseline_id(session)}"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert '<html lang="fr"' in response.text


def test_the_secretariat_reads_but_only_administrators_change(
    client: TestClient, session: Session, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    draft = _derived_draft(client, session)
    sign_in(make_account(Role.SECRETARIAT))
    listing = client.get("/en/frameworks")
    assert listing.status_code == 200
    assert "SDG Cities certification: Kenya" in listing.text
    assert 'id="derive-form"' not in listing.text
    page = client.get(f"/en/frameworks/{draft}")
    assert page.status_code == 200
    assert 'id="publish-form"' not in page.text
    assert 'id="text-A.a-form"' not in page.text
    token = form_token(page.text)
    refused = client.post(
        f"/en/frameworks/{draft}/publish", data={"csrf_token": token, "confirm": "yes"}
    )
    assert refused.status_code == 403
    assert session.get(FrameworkVersion, draft).status is FrameworkStatus.DRAFT  # type: ignore[union-attr]


@pytest.mark.usefixtures("administrator")
def test_a_form_without_its_token_is_refused(client: TestClient, session: Session) -> None:
    draft = _derived_draft(client, session)
    response = client.post(f"/en/frameworks/{draft}/publish", data={"confirm": "yes"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(FrameworkVersion, draft).status is FrameworkStatus.DRAFT  # type: ignore[union-attr]


@pytest.mark.usefixtures("administrator")
def test_an_unknown_version_is_404(client: TestClient) -> None:
    assert client.get("/en/frameworks/999999").status_code == 404


# The path ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("administrator")
def test_derive_contextualise_translate_publish_and_ask_for_endorsement(
    client: TestClient,
    session: Session,
    global_node: Callable[[Handler], list[httpx.Request]],
) -> None:
    listing = client.get("/en/frameworks")
    assert listing.status_code == 200
    assert 'id="endorsed"' in listing.text
    assert 'id="drafts"' in listing.text

    derived = _derive(client, session)
    assert derived.status_code == 303
    page_path = derived.headers["location"].split("?")[0]
    version_id = int(page_path.rsplit("/", 1)[1])
    page = client.get(derived.headers["location"])
    assert "The national framework is derived as a draft" in page.text
    assert 'id="publish-form"' in page.text
    assert 'id="endorsement-form"' not in page.text
    assert "SDG Cities certification: Kenya" in client.get("/en/frameworks").text

    reworded = _post(
        client,
        page_path,
        f"{page_path}/criteria/A.a/text",
        text="The county has taken stock of Kenyan policies and data.",
        evidence_expected="County integrated development plan\nKNBS data inventory\n",
    )
    assert reworded.status_code == 303
    assert reworded.headers["location"] == f"{page_path}?done=contextualised#criterion-A.a"
    page = client.get(page_path)
    assert "The county has taken stock of Kenyan policies and data." in page.text

    translated = _post(
        client,
        page_path,
        f"{page_path}/criteria/A.a/translation",
        language="fr",
        text="Le comté a fait le point sur les politiques et les données kényanes.",
        evidence_expected="Plan de développement intégré du comté\nInventaire des données du KNBS",
    )
    assert translated.status_code == 303
    assert "Translated into: Français" in client.get(page_path).text
    french = client.get(f"/fr/frameworks/{version_id}")
    assert "Le comté a fait le point sur les politiques et les données kényanes." in unescape(
        french.text
    )

    published = _post(client, page_path, f"{page_path}/publish", confirm="yes")
    assert published.status_code == 303
    session.expire_all()
    version = session.get(FrameworkVersion, version_id)
    assert version is not None
    assert version.is_published
    assert version.digest
    page = client.get(page_path)
    assert 'id="publish-form"' not in page.text
    assert 'id="text-A.a-form"' not in page.text
    assert "Not requested yet." in page.text
    assert 'id="endorsement-form"' in page.text
    listing = client.get("/en/frameworks").text
    assert listing.index("SDG Cities certification: Kenya") > listing.index('id="published"')

    seen = global_node(lambda _r: httpx.Response(202, json={"id": 7, "state": "pending"}))
    asked = _post(client, page_path, f"{page_path}/endorsement-request")
    assert asked.status_code == 303
    assert json.loads(seen[0].content)["token"]
    page = client.get(asked.headers["location"])
    assert "The endorsement request is sent to the global node." in page.text
    assert "waiting for the global node" in page.text
    assert "Request number 7." in page.text


# Errors -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("administrator")
def test_derive_form_errors_are_next_to_their_fields(client: TestClient, session: Session) -> None:
    response = _derive(client, session, base_id="nope", framework_id="Kenya!", version="", title="")
    assert response.status_code == 400
    assert '<div class="error-summary" role="alert"' in response.text
    for field in ("derive-base_id", "derive-framework_id", "derive-version", "derive-title"):
        assert f'href="#{field}"' in response.text, field
        assert f'id="{field}-error"' in response.text, field
    assert 'value="Kenya!"' in response.text
    assert find_version(session=session, framework_id="kenya", version="") is None


@pytest.mark.usefixtures("administrator")
def test_deriving_twice_is_refused_with_a_409_page(client: TestClient, session: Session) -> None:
    _derived_draft(client, session)
    response = _derive(client, session)
    assert response.status_code == 409
    assert 'id="refusal"' in response.text
    assert "it conflicts with the version" in response.text
    assert "sdgcities-ke version 1 already exists" in response.text
    french = _post(
        client,
        "/fr/frameworks",
        "/fr/frameworks/derive",
        base_id=str(_baseline_id(session)),
        framework_id="sdgcities-ke",
        version="1",
        title="Kenya",
    )
    assert french.status_code == 409
    assert '<html lang="fr"' in french.text
    assert 'id="refusal"' in french.text


@pytest.mark.usefixtures("administrator")
def test_deriving_from_a_national_version_is_an_error(
    client: TestClient, session: Session, make_framework: MakeFramework
) -> None:
    national = make_framework()
    response = _derive(client, session, base_id=str(national), framework_id="other")
    assert response.status_code == 400
    assert 'id="derive-base_id-error"' in response.text


@pytest.mark.usefixtures("administrator")
def test_the_global_node_derives_nothing(
    client: TestClient, session: Session, backend: Backend
) -> None:
    state: NodeState = backend.app.state.node
    saved = state.settings
    state.settings = saved.model_copy(update={"node_id": "global"})
    try:
        listing = client.get("/en/frameworks").text
        assert 'id="derive-form"' not in listing
        response = client.post(
            "/en/frameworks/derive",
            data={
                "csrf_token": form_token(listing),
                "base_id": str(_baseline_id(session)),
                "framework_id": "sdgcities-xx",
                "version": "1",
                "title": "Global",
            },
        )
    finally:
        state.settings = saved
    assert response.status_code == 422
    assert "the change is not valid" in response.text
    assert "national frameworks are derived on national nodes" in response.text


@pytest.mark.usefixtures("administrator")
def test_contextualise_errors(client: TestClient, session: Session) -> None:
    draft = _derived_draft(client, session)
    page = f"/en/frameworks/{draft}"
    empty = _post(client, page, f"{page}/criteria/A.a/text", text="", evidence_expected="")
    assert empty.status_code == 400
    for field in ("text-A.a-text", "text-A.a-evidence_expected"):
        assert f'href="#{field}"' in empty.text
        assert f'id="{field}-error"' in empty.text
    assert 'aria-describedby="text-A.a-text-error"' in empty.text
    too_long = _post(
        client, page, f"{page}/criteria/A.a/text", text="x" * 5001, evidence_expected="a"
    )
    assert too_long.status_code == 400
    assert 'id="text-A.a-text-error"' in too_long.text
    unknown = _post(client, page, f"{page}/criteria/Z.z/text", text="t", evidence_expected="a")
    assert unknown.status_code == 404


@pytest.mark.usefixtures("administrator")
def test_translation_errors(client: TestClient, session: Session) -> None:
    draft = _derived_draft(client, session)
    page = f"/en/frameworks/{draft}"
    action = f"{page}/criteria/A.a/translation"
    no_language = _post(client, page, action, language="xx", text="t", evidence_expected="a")
    assert no_language.status_code == 400
    assert 'id="translation-A.a-language-error"' in no_language.text
    # The criterion lists four evidence items: a translation of one is refused by the service.
    short = _post(client, page, action, language="es", text="Texto", evidence_expected="uno")
    assert short.status_code == 422
    assert 'id="refusal"' in short.text
    assert "the change is not valid" in short.text
    assert "translate each item, in order" in short.text
    assert "Texto" in short.text  # what was entered is kept
    own = _post(client, page, action, language="en", text="t", evidence_expected="a\nb\nc\nd")
    assert own.status_code == 422
    assert "contextualise the criterion to change its text" in own.text


@pytest.mark.usefixtures("administrator")
def test_publish_needs_confirmation_and_happens_once(client: TestClient, session: Session) -> None:
    draft = _derived_draft(client, session)
    page = f"/en/frameworks/{draft}"
    unconfirmed = _post(client, page, f"{page}/publish")
    assert unconfirmed.status_code == 400
    assert 'id="publish-confirm-error"' in unconfirmed.text
    assert _post(client, page, f"{page}/publish", confirm="yes").status_code == 303
    token = form_token(client.get(page).text)
    again = client.post(f"{page}/publish", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 409
    assert "is already published" in again.text
    change = client.post(
        f"{page}/criteria/A.a/text",
        data={"csrf_token": token, "text": "New", "evidence_expected": "a"},
    )
    assert change.status_code == 409
    assert "can no longer change" in change.text


@pytest.mark.usefixtures("administrator")
def test_endorsement_request_refusals(
    client: TestClient,
    session: Session,
    make_framework: MakeFramework,
    global_node: Callable[[Handler], list[httpx.Request]],
) -> None:
    draft = _derived_draft(client, session)
    page = f"/en/frameworks/{draft}"
    premature = _post(client, page, f"{page}/endorsement-request")
    assert premature.status_code == 409
    assert "is a draft: publish it first" in premature.text

    endorsed = make_framework(version="2")
    page = f"/en/frameworks/{endorsed}"
    shown = client.get(page).text
    assert 'id="endorsement-form"' not in shown
    assert "Endorsed on" in shown
    token = form_token(shown)
    already = client.post(f"{page}/endorsement-request", data={"csrf_token": token})
    assert already.status_code == 409
    assert "is already endorsed" in already.text

    published = make_framework(version="3", endorse=False)
    page = f"/en/frameworks/{published}"
    global_node(lambda _r: httpx.Response(400, json={"detail": "bad signature"}))
    refused = _post(client, page, f"{page}/endorsement-request")
    assert refused.status_code == 409
    assert "the global node refused the endorsement request (400)" in refused.text
    assert "Not requested yet." in refused.text


# Languages --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("administrator")
def test_arabic_and_chinese_pages(client: TestClient, session: Session) -> None:
    draft = _derived_draft(client, session)
    for code, direction, words, refusal in (
        ("ar", "rtl", "الأطر", "رفضت خدمة الأطر هذا الإجراء: التغيير غير صالح"),
        ("zh", "ltr", "框架", "框架服务拒绝了此操作\uff1a该更改无效"),
    ):
        listing = client.get(f"/{code}/frameworks")
        assert listing.status_code == 200
        assert f'<html lang="{code}" dir="{direction}"' in listing.text
        assert words in listing.text
        page = client.get(f"/{code}/frameworks/{draft}")
        assert page.status_code == 200
        assert f'<html lang="{code}" dir="{direction}"' in page.text
        assert 'dir="ltr">sdgcities-ke</span>' in page.text
        refused = _post(
            client,
            f"/{code}/frameworks/{draft}",
            f"/{code}/frameworks/{draft}/criteria/A.a/translation",
            language="fr",
            text="t",
            evidence_expected="a",
        )
        assert refused.status_code == 422
        assert refusal in refused.text
        assert 'id="refusal"' in refused.text
