"""The verify page: a pasted token, an uploaded file or a certificate link, answered as
`POST /verify` answers, explained in the page's language."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sdgcities.credentials import Reason, SigningKey
from sdgcities.credentials.jws import MAX_TOKEN_BYTES
from sdgcities.node.app import create_app
from sdgcities.node.web.i18n import LANGUAGES, SOURCE_LANGUAGE, read_catalogue
from sdgcities.node.web.verify import EXPLANATIONS

from ..certification import Desk
from ..certification import desk as desk  # the fixture
from ..conftest import Account, Backend
from ..test_trust_and_verify import _certificate, _trust_list
from .conftest import form_token

PAGE = "/en/verify"


def _trust(desk: Desk) -> None:
    accepted = desk.client.put(
        "/admin/trust-list", headers=desk.admin.headers, json={"token": desk.trust_list().token}
    )
    assert accepted.status_code == 200, accepted.text


def _trust_test_list(client: TestClient, backend: Backend, admin: Account) -> None:
    token = _trust_list(backend, sequence=7)
    accepted = client.put("/admin/trust-list", headers=admin.headers, json={"token": token})
    assert accepted.status_code == 200, accepted.text


def _post(client: TestClient, path: str = PAGE, **fields: object) -> Response:
    token = form_token(client.get(path).text)
    files = fields.pop("files", None)
    return client.post(path, data={"csrf_token": token, **fields}, files=files)  # type: ignore[arg-type]


# Every reason is explained ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_has_an_explanation(reason: Reason) -> None:
    explanation = EXPLANATIONS[reason]
    assert explanation.check
    assert explanation.meaning


@pytest.mark.parametrize(
    "language",
    [language for language in LANGUAGES if language is not SOURCE_LANGUAGE],
    ids=lambda language: language.code,
)
def test_every_explanation_is_translated(language) -> None:  # type: ignore[no-untyped-def]
    catalogue = read_catalogue(language.code)
    for reason, explanation in EXPLANATIONS.items():
        for message in (explanation.check, explanation.meaning):
            translated = catalogue.get(message)
            assert translated is not None, (reason, language.code)
            assert translated.string, (reason, language.code)


# Answers ---------------------------------------------------------------------------------------


def test_the_empty_form(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.text
    assert '<form method="post" action="/en/verify" enctype="multipart/form-data"' in html
    assert 'id="certificate-token"' in html
    assert 'id="certificate-file"' in html
    assert 'id="certificate-link"' in html
    assert 'name="csrf_token"' in html


def test_a_pasted_valid_certificate_shows_its_facts(desk: Desk) -> None:
    certificate = desk.award()
    _trust(desk)
    api = desk.client.post("/verify", json={"jwt": certificate["token"]}).json()
    assert api["valid"] is True

    response = _post(desk.client, token=certificate["token"])
    assert response.status_code == 200
    html = response.text
    assert "Valid: this certificate is genuine and in force" in html
    assert "Nairobi" in html
    assert "KE-NBO" in html
    assert "Qualification (candidate city)" in html
    assert "Silver" in html
    assert desk.backend.settings.node_name in html
    assert certificate["id"] in html
    valid_until = datetime.fromisoformat(certificate["valid_until"])
    assert valid_until.strftime("%B") in html


def test_an_uploaded_file_and_the_registry_record_are_read(desk: Desk) -> None:
    certificate = desk.award()
    _trust(desk)
    token = certificate["token"]
    as_token = _post(desk.client, files={"file": ("nairobi.jwt", token.encode(), "text/plain")})
    assert "Valid: this certificate is genuine" in as_token.text
    record = json.dumps({"jwt": token, "credential": {}}).encode()
    as_json = _post(desk.client, files={"file": ("nairobi.json", record, "application/json")})
    assert "Valid: this certificate is genuine" in as_json.text


def test_a_certificate_link_or_id_is_verified(desk: Desk) -> None:
    certificate = desk.award()
    _trust(desk)
    base = desk.backend.settings.base_url
    for link in (
        certificate["id"],
        f"{base}/registry/credentials/{certificate['id']}",
        f"{base}/registry/credentials/{quote(certificate['id'], safe='')}",
        # The certificate's own page (its id is the last segment), with a query.
        f"{base}/fr/certificates/{quote(certificate['id'], safe='')}?print=1",
    ):
        response = desk.client.get(PAGE, params={"certificate": link})
        assert response.status_code == 200, link
        assert "Valid: this certificate is genuine" in response.text
        assert "Nairobi" in response.text
    by_token = desk.client.get(PAGE, params={"token": certificate["token"]})
    assert "Valid: this certificate is genuine" in by_token.text


def test_a_revoked_certificate_is_explained(desk: Desk) -> None:
    certificate = desk.award()
    _trust(desk)
    assert desk.carry(certificate["id"], "revocation", "falsified evidence").status_code == 200
    assert desk.client.post("/verify", json={"jwt": certificate["token"]}).json()["reason"] == (
        "revoked"
    )
    html = _post(desk.client, token=certificate["token"]).text
    assert "Not valid: do not rely on this certificate" in html
    assert "has been revoked by its issuer" in html
    assert "What the certificate states (not confirmed)" in html
    assert "Technical reason: revoked" in html


def test_expired_and_unknown_issuer_are_explained(
    client: TestClient, backend: Backend, admin: Account
) -> None:
    _trust_test_list(client, backend, admin)
    expired = _certificate(backend, valid_until=datetime.now(UTC) - timedelta(days=1))
    assert "The certificate has expired." in _post(client, token=expired).text
    stranger = _certificate(
        backend, valid_until=datetime.now(UTC) + timedelta(days=9), key=SigningKey.generate()
    )
    html = _post(client, token=stranger).text
    assert "not on the federation's list of trusted nodes" in html


def test_a_malformed_token_is_the_verifiers_answer(
    client: TestClient, backend: Backend, admin: Account
) -> None:
    _trust_test_list(client, backend, admin)
    html = _post(client, token="eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln").text
    assert "not a readable SDG Cities certificate" in html
    assert "Technical reason: malformed" in html


def test_without_a_trust_list_the_page_cannot_decide(client: TestClient, backend: Backend) -> None:
    backend.app.state.node.verifiers.reset()
    html = _post(client, token="eyJh.eyJi.c2ln").text
    assert "Cannot decide now" in html
    assert "list of trusted nodes is out of date, or it has none yet" in html


# Errors next to the fields ----------------------------------------------------------------------


def _field_error(response: Response, field: str) -> str:
    assert response.status_code == 400
    html = response.text
    assert 'class="error-summary" role="alert"' in html
    assert f'href="#{field}"' in html
    assert f'id="{field}-error"' in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    return html


def test_empty_input_is_an_error(client: TestClient) -> None:
    html = _field_error(_post(client, token="   "), "certificate-token")
    assert "Paste a certificate, or choose a file that holds one." in html


def test_not_a_token_is_an_error(client: TestClient) -> None:
    html = _field_error(_post(client, token="hello, investor"), "certificate-token")
    assert "This is not a certificate token." in html
    assert "hello, investor" in html  # kept in the field to correct


def test_a_pasted_text_too_long_is_an_error(client: TestClient) -> None:
    html = _field_error(_post(client, token="a" * (MAX_TOKEN_BYTES + 1)), "certificate-token")
    assert "longer than any certificate" in html


def test_both_a_token_and_a_file_is_an_error(client: TestClient) -> None:
    response = _post(client, token="a.b.c", files={"file": ("x.jwt", b"a.b.c", "text/plain")})
    assert "not both" in _field_error(response, "certificate-token")


def test_an_oversize_upload_is_an_error(client: TestClient) -> None:
    big = b"a" * (MAX_TOKEN_BYTES + 1)
    response = _post(client, files={"file": ("big.jwt", big, "text/plain")})
    assert "The file is larger than 64 KiB" in _field_error(response, "certificate-file")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe\x00binary", "it is not text"),
        (b'{"no": "token"}', "it holds no certificate token"),
        (b"{not json", "it holds no certificate token"),
        (b"just words", "This is not a certificate token."),
    ],
)
def test_a_file_that_is_not_a_certificate_is_an_error(
    client: TestClient, content: bytes, message: str
) -> None:
    response = _post(client, files={"file": ("x.jwt", content, "text/plain")})
    assert message in _field_error(response, "certificate-file")


def test_a_body_past_the_nodes_cap_is_refused_before_it_is_read(client: TestClient) -> None:
    token = form_token(client.get(PAGE).text)
    huge = b"a" * (2 * 1024 * 1024)
    response = client.post(
        PAGE, data={"csrf_token": token}, files={"file": ("huge.jwt", huge, "text/plain")}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("", "Enter a certificate link or id."),
        ("https://elsewhere.example.org/registry/credentials/urn:uuid:1", "not to this node"),
        ("x" * 2001, "This is not a certificate link or id."),
    ],
)
def test_a_bad_certificate_link_is_an_error(client: TestClient, link: str, message: str) -> None:
    response = client.get(PAGE, params={"certificate": link})
    assert message in _field_error(response, "certificate-link")


def test_an_own_link_without_an_id_is_an_error(client: TestClient, backend: Backend) -> None:
    response = client.get(PAGE, params={"certificate": f"{backend.settings.base_url}/"})
    assert "This is not a certificate link or id." in _field_error(response, "certificate-link")


def test_an_unknown_certificate_id_is_an_error(client: TestClient) -> None:
    response = client.get(PAGE, params={"certificate": "urn:uuid:no-such-certificate"})
    assert response.status_code == 404
    assert 'id="certificate-link-error"' in response.text
    assert "This node holds no certificate with this id." in response.text


def test_a_token_link_that_is_not_a_token_is_an_error(client: TestClient) -> None:
    response = client.get(PAGE, params={"token": "nonsense"})
    assert "This is not a certificate token." in _field_error(response, "certificate-token")


def test_a_post_without_the_form_token_is_refused(client: TestClient) -> None:
    client.get(PAGE)
    response = client.post(PAGE, data={"csrf_token": "forged", "token": "a.b.c"})
    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_a_cross_site_post_is_refused(client: TestClient) -> None:
    token = form_token(client.get(PAGE).text)
    response = client.post(
        PAGE,
        data={"csrf_token": token, "token": "a.b.c"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_the_page_post_is_rate_limited_like_post_verify(backend: Backend) -> None:
    settings = backend.settings.model_copy(update={"rate_limit_verify_per_minute": 2})
    app = create_app(settings, engine=backend.engine)
    with TestClient(app) as limited:
        token = form_token(limited.get(PAGE).text)
        answers = [
            limited.post(PAGE, data={"csrf_token": token, "token": "x"}).status_code
            for _ in range(3)
        ]
    assert answers == [400, 400, 429]


def test_a_certificate_link_is_rate_limited_too(backend: Backend) -> None:
    settings = backend.settings.model_copy(update={"rate_limit_verify_per_minute": 2})
    app = create_app(settings, engine=backend.engine)
    with TestClient(app) as limited:
        answers = [limited.get(PAGE, params={"token": "a.b.c"}).status_code for _ in range(3)]
    assert answers[-1] == 429


# Languages --------------------------------------------------------------------------------------


def test_the_answer_in_arabic_and_chinese(desk: Desk) -> None:
    certificate = desk.award()
    _trust(desk)
    arabic = _post(desk.client, "/ar/verify", token=certificate["token"]).text
    assert 'dir="rtl"' in arabic
    assert "Valid: this certificate" not in arabic
    assert "صالحة" in arabic
    assert "Nairobi" in arabic
    chinese = _post(desk.client, "/zh/verify", token=certificate["token"]).text
    assert 'lang="zh"' in chinese
    assert "有效" in chinese
    assert "Valid: this certificate" not in chinese


def test_errors_in_arabic_and_chinese(client: TestClient) -> None:
    arabic = _post(client, "/ar/verify", token="")
    assert arabic.status_code == 400
    assert "Paste a certificate" not in arabic.text
    chinese = client.get("/zh/verify", params={"certificate": "urn:uuid:unknown"})
    assert chinese.status_code == 404
    assert "This node holds no certificate" not in chinese.text
