"""`/docs` loads every file from the node (tests/web/test_docs_browser.py opens it in Chromium);
here the HTML, the files it names and what stays out of the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sdgcities.node.docs import ASSETS_PATH, SWAGGER_PATH, install_docs

# Every address an HTML page makes the browser load: scripts, styles, icons.
LOADED = re.compile(r'(?:src|href)="([^"]*)"')


def _loaded_urls(html: str) -> list[str]:
    return LOADED.findall(html)


def test_docs_page_loads_only_files_of_the_node(client: TestClient) -> None:
    page = client.get(SWAGGER_PATH)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "fonts.googleapis.com" not in page.text
    assert '<html lang="en">' in page.text
    urls = _loaded_urls(page.text)
    assert {url.removeprefix(f"{ASSETS_PATH}/") for url in urls} == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon.png",
    }
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text


def test_swagger_ui_calls_no_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get(SWAGGER_PATH).text


def test_docs_answers_head(client: TestClient) -> None:
    assert client.head(SWAGGER_PATH).status_code == 200


def test_there_is_no_redoc(client: TestClient) -> None:
    """ReDoc would load its logo from a CDN (see node/docs.py)."""
    assert client.get("/redoc").status_code == 404


def test_docs_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc", "/assets"))]


def test_a_missing_docs_file_is_a_404_in_the_node_error_shape(client: TestClient) -> None:
    missing = client.get(f"{ASSETS_PATH}/no-such-file.js")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_docs_takes_no_post(client: TestClient) -> None:
    assert client.post(SWAGGER_PATH).status_code == 405


def test_install_docs_refuses_an_app_with_fastapi_cdn_pages() -> None:
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI())
    with pytest.raises(ValueError, match="docs_url=None"):
        install_docs(FastAPI(docs_url=None))


def test_install_docs_needs_the_openapi_document() -> None:
    with pytest.raises(ValueError, match="OpenAPI"):
        install_docs(FastAPI(docs_url=None, redoc_url=None, openapi_url=None))


def test_install_docs_on_a_bare_app() -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    install_docs(app)
    with TestClient(app) as client:
        assert client.get(SWAGGER_PATH).status_code == 200
        assert (
            client.get(f"{ASSETS_PATH}/swagger-ui.css")
            .headers["content-type"]
            .startswith("text/css")
        )
