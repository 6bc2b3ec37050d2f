"""The global node draws a round among the awards its members reported, publishes it, fetches
the selected dossiers with signed requests, and sends the signed outcome back.

The national node is played by an `httpx.MockTransport` that checks every request with the
library a national node uses; the real two-process run is tests/integration/test_spotcheck.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.credentials import TrustList, content_digest
from sdgcities.federation import Event, EventType
from sdgcities.federation.spotcheck import DossierRequest, SpotCheckOutcome, recompute
from sdgcities.node.accounts.models import Role
from sdgcities.node.events.models import EventRecord
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from ...conftest import ROOT_KEY, Account, Backend, MakeAccount
from .conftest import MakeMember, Member, post_report

PDF = b"%PDF-1.4\n% the council resolution\n"
PDF_DIGEST = "sha256:" + hashlib.sha256(PDF).hexdigest()
Handler = Callable[[httpx.Request, Any], httpx.Response]


def _award_events(member: Member, awards: list[tuple[int, int, str]]) -> list[Event]:
    """For each (application, agenda item, outcome): the decision and, if approved, the
    certificate, as the awarding node's log records them."""
    events: list[Event] = []
    moment = utcnow().replace(microsecond=0) - timedelta(hours=1)

    def add(type_: EventType, subject: dict[str, Any], data: dict[str, Any]) -> None:
        events.append(
            Event.create(
                events[-1] if events else None,
                node_id=member.node_id,
                type=type_,
                occurred_at=moment,
                subject=subject,
                data=data,
            )
        )

    for application_id, item, outcome in awards:
        add(
            EventType.DECISION_RECORDED,
            {"meeting": 1, "item": item, "locode": "KE-NBO", "application": application_id},
            {"kind": "award", "outcome": outcome, "votes": {"yes": 3}, "stage": "qualification"},
        )
        if outcome == "approved":
            add(
                EventType.CREDENTIAL_ISSUED,
                {"locode": "KE-NBO", "credential": f"urn:uuid:{application_id:08d}"},
                {"decision": {"meeting": 1, "item": item}, "stage": "qualification"},
            )
    return events


@pytest.fixture
def member(client: TestClient, make_member: MakeMember) -> Member:
    """KE, which reported two awards (11 and 12), a declined application (13) and a revoked
    certificate (14)."""
    ke = make_member("KE")
    events = _award_events(
        ke, [(11, 1, "approved"), (12, 2, "approved"), (13, 3, "rejected"), (14, 4, "approved")]
    )
    events.append(
        Event.create(
            events[-1],
            node_id="KE",
            type=EventType.CREDENTIAL_REVOKED,
            occurred_at=events[-1].occurred_at,
            subject={"locode": "KE-NBO", "credential": "urn:uuid:00000014"},
            data={"reason": "fraud"},
        )
    )
    answer = post_report(client, ke.report(events))
    assert answer.status_code in (200, 201, 202), answer.text
    return ke


@pytest.fixture
def reviewer(make_account: MakeAccount) -> Account:
    return make_account(Role.REVIEWER)


@pytest.fixture
def national(backend: Backend, client: TestClient) -> Iterator[Callable[[Handler], list[Any]]]:
    """Install a handler playing the national node; it sees each request already verified."""
    state: NodeState = backend.app.state.node
    saved = state.http

    def install(handler: Handler) -> list[Any]:
        seen: list[Any] = []
        trust_list = TrustList.from_jws(
            client.get("/federation/trust-list").text,
            pinned_thumbprints=[ROOT_KEY.public_key.kid],
        )

        def verified(request: httpx.Request) -> httpx.Response:
            token = json.loads(request.content)["token"]
            kind = (
                SpotCheckOutcome
                if request.url.path == "/federation/spot-check-outcomes"
                else DossierRequest
            )
            message = kind.from_jws(token, trust_list=trust_list, audience="did:web:ke.example.org")
            seen.append(message)
            return handler(request, message)

        state.http = httpx.Client(transport=httpx.MockTransport(verified), follow_redirects=False)
        return seen

    yield install
    state.http = saved


def _dossier(application_id: int, credential: str, **changes: Any) -> dict[str, Any]:
    return {
        "format": "sdgcities-dossier/1",
        "nodeId": "KE",
        "round": 1,
        "application": {"id": application_id, "locode": "KE-NBO", "stage": "qualification"},
        "certificate": {"id": credential, "status": "active"},
        "report": {"document": {"criteria": [{"code": "A.a"}, {"code": "A.b"}]}},
        "answers": [],
        "reviews": [],
        "evidence": [
            {
                "id": 1,
                "criterion": "A.b",
                "digest": PDF_DIGEST,
                "size": len(PDF),
                "mediaType": "application/pdf",
            }
        ],
        **changes,
    }


def _national_node(request: httpx.Request, message: Any) -> httpx.Response:
    path = request.url.path
    if path == "/federation/spot-check-outcomes":
        return httpx.Response(201, json={"outcome": message.outcome.value})
    if path == "/federation/dossiers/evidence":
        return httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    application = message.application_id
    return httpx.Response(200, json=_dossier(application, f"urn:uuid:{application:08d}"))


def _draw(client: TestClient, secretariat: Account, **body: Any) -> dict[str, Any]:
    answer = client.post("/federation/spot-checks/rounds", json=body, headers=secretariat.headers)
    assert answer.status_code == 201, answer.text
    drawn: dict[str, Any] = answer.json()
    return drawn


def _checks(client: TestClient, account: Account, round_id: int) -> list[dict[str, Any]]:
    answer = client.get(
        f"/federation/spot-checks/rounds/{round_id}/checks", headers=account.headers
    )
    assert answer.status_code == 200, answer.text
    checks: list[dict[str, Any]] = answer.json()["data"]
    return checks


# Rounds -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("member")
def test_a_round_selects_among_reported_awards_and_anyone_can_recompute_it(
    client: TestClient, session: Session, secretariat: Account
) -> None:
    drawn = _draw(client, secretariat, rate=1.0)
    document = drawn["document"]
    assert [(c["nodeId"], c["application"]) for c in document["candidates"]] == [
        ("KE", 11),
        ("KE", 12),
    ]
    assert document["candidates"][0]["credential"] == "urn:uuid:00000011"
    result = recompute(document)
    assert result.selected == (("KE", 11), ("KE", 12))
    assert drawn["digest"] == content_digest(document)

    published = client.get(f"/federation/spot-checks/rounds/{drawn['id']}")
    assert published.status_code == 200
    assert published.json()["document"] == document
    listed = client.get("/federation/spot-checks/rounds").json()
    assert listed["count"] == 1
    assert listed["data"][0]["digest"] == drawn["digest"]

    # The round's event follows the head it was drawn on.
    session.expire_all()
    event = session.exec(select(EventRecord).where(EventRecord.type == "spotcheck.selected")).one()
    assert event.sequence == document["logHead"]["sequence"] + 1
    assert event.prev_hash == document["logHead"]["hash"]
    assert event.subject == {"round": drawn["id"]}
    assert event.data["document"] == drawn["digest"]
    assert (event.data["candidates"], event.data["selected"]) == (2, 2)

    checks = _checks(client, secretariat, drawn["id"])
    assert [(c["node_id"], c["application_id"], c["state"]) for c in checks] == [
        ("KE", 11, "selected"),
        ("KE", 12, "selected"),
    ]
    second = _draw(client, secretariat, rate=1.0)
    assert second["id"] == drawn["id"] + 1
    assert second["document"]["logHead"]["sequence"] == event.sequence


@pytest.mark.usefixtures("member")
def test_round_defaults_window_and_refusals(client: TestClient, secretariat: Account) -> None:
    drawn = _draw(client, secretariat)
    assert drawn["rate"] == 0.1
    assert drawn["document"]["rate"] == 0.1
    empty = _draw(
        client,
        secretariat,
        rate=1.0,
        window_until=(utcnow() - timedelta(days=1)).isoformat(),
    )
    assert empty["candidates"] == 0
    assert empty["document"]["selected"] == []
    for body, message in [
        ({"rate": 0}, "rate"),
        ({"rate": 1.5}, "rate"),
        ({"window_from": utcnow().isoformat(), "window_until": utcnow().isoformat()}, "window"),
        ({"seed": 3}, "seed"),
        ({"window_until": "2026-01-01T00:00:00"}, "timezone"),
        # Issue 12: a window in 1970 was drawn.
        ({"window_from": "1970-01-01T00:00:00Z"}, "must be between 2000-01-01 and 20 years"),
        ({"window_until": "2999-01-01T00:00:00Z"}, "must be between 2000-01-01 and 20 years"),
    ]:
        answer = client.post(
            "/federation/spot-checks/rounds", json=body, headers=secretariat.headers
        )
        assert answer.status_code == 422, body
        assert message in answer.json()["detail"]
    assert client.get("/federation/spot-checks/rounds/999").status_code == 404


def test_who_may_draw_review_and_read(
    client: TestClient, make_account: MakeAccount, reviewer: Account, secretariat: Account
) -> None:
    committee = make_account(Role.COMMITTEE_MEMBER)
    for account in (reviewer, committee):
        answer = client.post("/federation/spot-checks/rounds", json={}, headers=account.headers)
        assert answer.status_code == 403
        assert answer.json()["detail"] == f"a {account.role.value} may not do this"
    assert client.post("/federation/spot-checks/rounds", json={}).status_code == 401
    drawn = _draw(client, secretariat)
    assert client.get(f"/federation/spot-checks/rounds/{drawn['id']}/checks").status_code == 401
    forbidden = client.get(
        f"/federation/spot-checks/rounds/{drawn['id']}/checks", headers=committee.headers
    )
    assert forbidden.status_code == 403
    admin = make_account(Role.ADMINISTRATOR)
    outcome = client.post(
        "/federation/spot-checks/checks/1/outcome",
        json={"outcome": "confirmed", "summary": "ok"},
        headers=admin.headers,
    )
    assert outcome.status_code == 403


# Dossiers and outcomes --------------------------------------------------------------------------


@pytest.mark.usefixtures("member")
def test_fetch_review_and_deliver(
    client: TestClient,
    session: Session,
    secretariat: Account,
    reviewer: Account,
    national: Callable[[Handler], list[Any]],
) -> None:
    seen = national(_national_node)
    drawn = _draw(client, secretariat, rate=1.0)
    check = _checks(client, reviewer, drawn["id"])[0]
    path = f"/federation/spot-checks/checks/{check['id']}"

    early = client.post(
        f"{path}/outcome", json={"outcome": "confirmed", "summary": "ok"}, headers=reviewer.headers
    )
    assert early.status_code == 409
    assert early.json()["detail"].endswith("has no dossier yet: fetch it before reviewing")

    fetched = client.post(f"{path}/dossier", headers=reviewer.headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["state"] == "dossier_fetched"
    assert fetched.json()["dossier"]["application"]["id"] == 11
    request = seen[-1]
    assert (request.round_id, request.application_id, request.evidence) == (drawn["id"], 11, None)
    assert request.expires_at - request.issued_at <= timedelta(minutes=2)

    evidence = client.get(f"{path}/evidence/{PDF_DIGEST}", headers=reviewer.headers)
    assert evidence.status_code == 200, evidence.text
    assert evidence.content == PDF
    assert evidence.headers["content-type"] == "application/pdf"
    assert evidence.headers["content-security-policy"] == "sandbox"
    assert seen[-1].evidence == PDF_DIGEST
    unlisted = client.get(f"{path}/evidence/sha256:{'0' * 64}", headers=reviewer.headers)
    assert unlisted.status_code == 404

    unknown = client.post(
        f"{path}/outcome",
        json={
            "outcome": "not_confirmed",
            "summary": "s",
            "reasons": [{"criterion": "Z.z", "text": "?"}],
        },
        headers=reviewer.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "the dossier's report has no criterion Z.z"

    recorded = client.post(
        f"{path}/outcome",
        json={
            "outcome": "not_confirmed",
            "summary": "The plan was never adopted.",
            "reasons": [{"criterion": "A.b", "text": "No council resolution."}],
        },
        headers=reviewer.headers,
    )
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert body["state"] == "not_confirmed"
    assert body["delivered_at"] is not None
    assert body["delivery_error"] is None
    sent = seen[-1]
    assert isinstance(sent, SpotCheckOutcome)
    assert (sent.outcome.value, sent.credential_id) == ("not_confirmed", "urn:uuid:00000011")
    assert [(r.criterion, r.text) for r in sent.reasons] == [("A.b", "No council resolution.")]

    session.expire_all()
    result = session.exec(select(EventRecord).where(EventRecord.type == "spotcheck.result")).one()
    assert result.subject == {
        "round": drawn["id"],
        "node": "KE",
        "application": 11,
        "locode": "KE-NBO",
        "credential": "urn:uuid:00000011",
    }
    assert result.data == {"outcome": "not_confirmed", "criteria": ["A.b"]}

    again = client.post(
        f"{path}/outcome", json={"outcome": "confirmed", "summary": "ok"}, headers=reviewer.headers
    )
    assert again.status_code == 409
    refetch = client.post(f"{path}/dossier", headers=reviewer.headers)
    assert refetch.status_code == 409
    delivered = client.post(f"{path}/deliver", headers=secretariat.headers)
    assert delivered.status_code == 409
    assert delivered.json()["detail"].endswith("was already delivered")


@pytest.mark.usefixtures("member")
def test_a_failed_delivery_is_kept_and_retried(
    client: TestClient,
    secretariat: Account,
    reviewer: Account,
    national: Callable[[Handler], list[Any]],
) -> None:
    national(_national_node)
    drawn = _draw(client, secretariat, rate=1.0)
    path = f"/federation/spot-checks/checks/{_checks(client, reviewer, drawn['id'])[1]['id']}"
    assert client.post(f"{path}/dossier", headers=reviewer.headers).status_code == 200

    def down(request: httpx.Request, message: Any) -> httpx.Response:
        if request.url.path == "/federation/spot-check-outcomes":
            return httpx.Response(503, json={"detail": "maintenance"})
        return _national_node(request, message)

    national(down)
    recorded = client.post(
        f"{path}/outcome",
        json={"outcome": "confirmed", "summary": "All as reported."},
        headers=reviewer.headers,
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["state"] == "confirmed"
    assert recorded.json()["delivered_at"] is None
    assert recorded.json()["delivery_error"] == ("node KE refused the outcome (503): maintenance")
    national(_national_node)
    retried = client.post(f"{path}/deliver", headers=secretariat.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["delivered_at"] is not None
    assert retried.json()["delivery_error"] is None


@pytest.mark.usefixtures("member")
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            httpx.Response(404, json={"detail": "no application 11"}),
            "node KE refused the dossier request (404): no application 11",
        ),
        (
            httpx.Response(302, headers={"Location": "https://evil.example.org"}),
            "node KE refused the dossier request (302)",
        ),
        (
            httpx.Response(200, json=_dossier(99, "urn:uuid:00000099")),
            "node KE answered the dossier of another application or certificate",
        ),
        (httpx.Response(200, content=b"<html>"), "node KE answered a dossier that is not JSON"),
        (
            httpx.Response(200, content=b"{" + b" " * (5 * 1024 * 1024) + b"}"),
            "is larger than 4194304 bytes",
        ),
    ],
)
def test_dossier_fetch_refusals(
    client: TestClient,
    secretariat: Account,
    reviewer: Account,
    national: Callable[[Handler], list[Any]],
    answer: httpx.Response,
    message: str,
) -> None:
    national(lambda _request, _message: answer)
    drawn = _draw(client, secretariat, rate=1.0)
    check = _checks(client, reviewer, drawn["id"])[0]
    fetched = client.post(
        f"/federation/spot-checks/checks/{check['id']}/dossier", headers=reviewer.headers
    )
    assert fetched.status_code == 409
    assert message in fetched.json()["detail"]
    assert _checks(client, reviewer, drawn["id"])[0]["state"] == "selected"


@pytest.mark.usefixtures("member")
def test_an_evidence_file_that_does_not_match_its_digest_is_refused(
    client: TestClient,
    secretariat: Account,
    reviewer: Account,
    national: Callable[[Handler], list[Any]],
) -> None:
    def tampering(request: httpx.Request, message: Any) -> httpx.Response:
        if request.url.path == "/federation/dossiers/evidence":
            return httpx.Response(200, content=PDF + b"altered")
        return _national_node(request, message)

    national(tampering)
    drawn = _draw(client, secretariat, rate=1.0)
    path = f"/federation/spot-checks/checks/{_checks(client, reviewer, drawn['id'])[0]['id']}"
    assert client.post(f"{path}/dossier", headers=reviewer.headers).status_code == 200
    answer = client.get(f"{path}/evidence/{PDF_DIGEST}", headers=reviewer.headers)
    assert answer.status_code == 409
    assert answer.json()["detail"] == f"node KE answered a file that is not {PDF_DIGEST}"
