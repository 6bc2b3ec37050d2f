"""Evidence over HTTP: streamed uploads with their limits, verified downloads, who may do what."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role
from sdgcities.node.evidence import EvidenceStore

from ..conftest import Account, Backend, MakeAccount, MakeCity, MakeFramework
from .samples import HTML, PDF, TEXT, docx, png

OCTET = {"Content-Type": "application/octet-stream"}


@dataclass
class Draft:
    id: int
    applicant: Account
    other_city: Account

    def url(self, code: str = "A.a") -> str:
        return f"/applications/{self.id}/criteria/{code}/evidence"


@pytest.fixture
def draft(
    client: TestClient,
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
) -> Draft:
    make_city("KE-NBO", "Nairobi")
    make_city("KE-MBA", "Mombasa")
    applicant = make_account(Role.CITY_APPLICANT, city_locode="KE-NBO")
    response = client.post(
        "/applications",
        headers=applicant.headers,
        json={"stage": "qualification", "framework_version_id": make_framework()},
    )
    assert response.status_code == 201
    return Draft(
        response.json()["id"],
        applicant,
        make_account(Role.CITY_APPLICANT, city_locode="KE-MBA"),
    )


def _upload(
    client: TestClient,
    draft: Draft,
    content: bytes,
    *,
    filename: str | None = "report.pdf",
    code: str = "A.a",
    account: Account | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    params = {"filename": filename} if filename is not None else {}
    return client.post(
        draft.url(code),
        params=params,
        content=content,
        headers={**(account or draft.applicant).headers, **OCTET, **(headers or {})},
    )


def _unique_pdf(tag: str) -> bytes:
    # Files are shared by digest across tests; a test that damages one uses its own bytes.
    return PDF + f"% {tag} {os.urandom(8).hex()}\n".encode()


# Uploading -------------------------------------------------------------------------------------


def test_upload_stores_by_digest_and_keeps_a_sanitised_name(
    client: TestClient, draft: Draft, backend: Backend
) -> None:
    response = _upload(client, draft, PDF, filename="../../etc/Budget\u202e 2024.pdf")
    assert response.status_code == 201, response.text
    evidence = response.json()
    assert evidence["digest"] == "sha256:" + hashlib.sha256(PDF).hexdigest()
    assert evidence["size"] == len(PDF)
    assert evidence["media_type"] == "application/pdf"
    assert evidence["filename"] == "Budget 2024.pdf"
    assert evidence["criterion_code"] == "A.a"
    assert evidence["uploaded_by"] == draft.applicant.user_id
    stored = EvidenceStore(backend.settings.evidence_dir).path_for(evidence["digest"])
    assert stored.read_bytes() == PDF
    detail = client.get(f"/applications/{draft.id}", headers=draft.applicant.headers).json()
    assert [e["id"] for e in detail["evidence"]] == [evidence["id"]]


def test_filename_from_content_disposition(client: TestClient, draft: Draft) -> None:
    response = _upload(
        client,
        draft,
        TEXT,
        filename=None,
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''Informe%20de%20gesti%C3%B3n.txt"
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "Informe de gestión.txt"
    assert response.json()["media_type"] == "text/plain"
    unnamed = _upload(client, draft, TEXT, filename=None)
    assert unnamed.json()["filename"] == "evidence"


def test_type_is_judged_by_content_not_by_name(client: TestClient, draft: Draft) -> None:
    image = _upload(client, draft, png(), filename="minutes.pdf")
    assert image.status_code == 201
    assert image.json()["media_type"] == "image/png"
    document = _upload(client, draft, docx(), filename="notes.txt")
    assert document.json()["media_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    page = _upload(client, draft, HTML, filename="report.pdf")
    assert page.status_code == 415
    assert page.json()["detail"] == (
        "file type not allowed (HTML or other markup): evidence must be PDF, PNG, JPEG, CSV, "
        "XLSX, DOCX, ODT or plain text, judged by the file's content"
    )


def test_uploads_are_raw_octet_streams(client: TestClient, draft: Draft) -> None:
    response = client.post(
        draft.url(),
        headers=draft.applicant.headers,
        files={"file": ("report.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "send the file as the request body with Content-Type: application/octet-stream (its type "
        "is judged from its content)"
    )


def test_an_empty_file_is_refused(client: TestClient, draft: Draft) -> None:
    response = _upload(client, draft, b"")
    assert response.status_code == 422
    assert response.json()["detail"] == "the evidence file is empty"


def test_a_declared_oversize_body_is_refused_at_once(
    client: TestClient, draft: Draft, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "evidence_max_bytes", 1024)
    response = _upload(client, draft, PDF + b"x" * 2000)
    assert response.status_code == 413
    assert response.json()["detail"] == "evidence files may be at most 0.00 MiB (1024 bytes)"
    assert _upload(client, draft, PDF).status_code == 201


def _stream(app: object, draft: Draft, chunks: int, *, declare: int | None) -> tuple[int, int]:
    """Send `chunks` KiB through the ASGI app as they are asked for; return the status and how
    many chunks the node read."""
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for index in range(chunks):
            sent += 1
            yield PDF if index == 0 else b"x" * 1024

    async def run() -> int:
        headers = {**draft.applicant.headers, **OCTET}
        if declare is not None:
            headers["Content-Length"] = str(declare)
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(draft.url(), content=body(), headers=headers)
        return response.status_code

    return asyncio.run(run()), sent


def test_an_oversize_stream_is_refused_without_reading_it_all(
    client: TestClient, draft: Draft, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client is not None  # the fixture routes the app's sessions into this test
    monkeypatch.setattr(backend.settings, "evidence_max_bytes", 4 * 1024)
    status, read = _stream(backend.app, draft, 1000, declare=None)
    assert status == 413
    assert read <= 6  # the cap is 4 KiB: the node stopped reading just past it
    status, read = _stream(backend.app, draft, 1000, declare=1000 * 1024)
    assert status == 413
    assert read == 0
    status, read = _stream(backend.app, draft, 3, declare=None)
    assert status == 201
    assert read == 3


def test_the_city_quota(
    client: TestClient, draft: Draft, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "city_quota_bytes", len(PDF) + 10)
    assert _upload(client, draft, PDF).status_code == 201
    over = _upload(client, draft, TEXT)
    assert over.status_code == 409
    assert over.json()["detail"] == (
        "the city's evidence storage quota would be exceeded: 0.00 MiB (10 bytes) remaining"
    )
    assert _upload(client, draft, b"0123456789").status_code == 201
    full = _upload(client, draft, b"a")
    assert full.status_code == 409
    assert full.json()["detail"] == (
        "the city's evidence storage quota would be exceeded: 0 MiB remaining"
    )
    # Another city has a quota of its own.
    other = client.post(
        "/applications",
        headers=draft.other_city.headers,
        json={
            "stage": "qualification",
            "framework_version_id": client.get(
                f"/applications/{draft.id}", headers=draft.applicant.headers
            ).json()["framework_version_id"],
        },
    )
    uploaded = client.post(
        f"/applications/{other.json()['id']}/criteria/A.a/evidence",
        content=PDF,
        headers={**draft.other_city.headers, **OCTET},
    )
    assert uploaded.status_code == 201


def test_evidence_only_for_the_stages_criteria_of_a_draft(
    client: TestClient, draft: Draft, admin: Account
) -> None:
    unknown = _upload(client, draft, PDF, code="B.a")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "stage qualification has no criterion 'B.a'; its criteria are A.a, A.b, A.c"
    )
    client.post(f"/applications/{draft.id}/withdraw", headers=draft.applicant.headers)
    closed = _upload(client, draft, PDF)
    assert closed.status_code == 409
    assert closed.json()["detail"] == (
        f"application {draft.id} is withdrawn: its self-assessment can no longer be changed"
    )
    assert _upload(client, draft, PDF, account=admin).status_code == 409


def test_who_may_upload(client: TestClient, draft: Draft, make_account: MakeAccount) -> None:
    other = _upload(client, draft, PDF, account=draft.other_city)
    assert other.status_code == 404
    assert other.json()["detail"] == f"no application {draft.id}"
    reviewer = _upload(client, draft, PDF, account=make_account(Role.REVIEWER))
    assert reviewer.status_code == 403
    assert reviewer.json()["detail"] == "a reviewer may not do this"
    anonymous = client.post(draft.url(), content=PDF, headers=OCTET)
    assert anonymous.status_code == 401


# Downloading -----------------------------------------------------------------------------------


def test_download_is_an_attachment_that_is_not_sniffed(
    client: TestClient, draft: Draft, make_account: MakeAccount
) -> None:
    evidence = _upload(client, draft, PDF, filename="Plan d'action.pdf").json()
    url = f"/applications/{draft.id}/evidence/{evidence['id']}"
    for account in (
        draft.applicant,
        make_account(Role.ADMINISTRATOR),
        make_account(Role.SECRETARIAT),
    ):
        response = client.get(url, headers=account.headers)
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"Plan daction.pdf\"; filename*=UTF-8''Plan%20daction.pdf"
        )
        assert response.headers["cache-control"] == "private, no-store"
    hidden = client.get(url, headers=draft.other_city.headers)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"no application {draft.id}"
    unknown = client.get(
        f"/applications/{draft.id}/evidence/999999", headers=draft.applicant.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == f"application {draft.id} has no evidence 999999"


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_damaged_file_is_reported_not_served(
    client: TestClient, draft: Draft, backend: Backend, admin: Account, damage: str
) -> None:
    content = _unique_pdf(damage)
    evidence = _upload(client, draft, content).json()
    path = EvidenceStore(backend.settings.evidence_dir).path_for(evidence["digest"])
    if damage == "changed":
        path.chmod(0o600)
        path.write_bytes(content.replace(b"Catalog", b"Catalos"))
        expected = (
            f"the evidence file {evidence['digest']} failed its integrity check and cannot be "
            "served"
        )
    else:
        path.unlink()
        expected = f"no evidence file is stored under {evidence['digest']}"
    response = client.get(
        f"/applications/{draft.id}/evidence/{evidence['id']}", headers=draft.applicant.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == expected
    log = client.get(
        "/admin/audit", headers=admin.headers, params={"action": "evidence.integrity_failure"}
    ).json()
    assert log["count"] == 1
    assert log["data"][0]["detail"]["evidence"] == evidence["id"]
    # Uploading the intact file again repairs the stored copy.
    assert _upload(client, draft, content).status_code == 201
    repaired = client.get(
        f"/applications/{draft.id}/evidence/{evidence['id']}", headers=draft.applicant.headers
    )
    assert repaired.status_code == 200
    assert repaired.content == content


# Removing --------------------------------------------------------------------------------------


def test_evidence_can_be_removed_from_a_draft_only(client: TestClient, draft: Draft) -> None:
    first = _upload(client, draft, PDF).json()
    second = _upload(client, draft, TEXT, code="A.b").json()
    url = f"/applications/{draft.id}/evidence/{first['id']}"
    other = client.delete(url, headers=draft.other_city.headers)
    assert other.status_code == 404
    removed = client.delete(url, headers=draft.applicant.headers)
    assert removed.status_code == 204
    again = client.delete(url, headers=draft.applicant.headers)
    assert again.status_code == 404
    assert again.json()["detail"] == f"application {draft.id} has no evidence {first['id']}"
    detail = client.get(f"/applications/{draft.id}", headers=draft.applicant.headers).json()
    assert [e["id"] for e in detail["evidence"]] == [second["id"]]

    client.post(f"/applications/{draft.id}/withdraw", headers=draft.applicant.headers)
    closed = client.delete(
        f"/applications/{draft.id}/evidence/{second['id']}", headers=draft.applicant.headers
    )
    assert closed.status_code == 409
    assert closed.json()["detail"] == (
        f"application {draft.id} is withdrawn: its self-assessment can no longer be changed"
    )
