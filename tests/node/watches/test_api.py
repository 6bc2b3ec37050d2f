"""`/watches` refuses what it must, with a useful message; the fan-out creates each notice once
and nothing for a watch that is not confirmed."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from sdgcities.credentials import Algorithm, Decision, SigningKey
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.certificates.models import Certificate, ProposalKind
from sdgcities.node.certificates.service import change_status
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches.models import WatchChannel, WatchCursor, WatchDelivery, WatchTarget
from sdgcities.node.watches.service import WatchRequest, create_watch, fan_out_once

from ..conftest import Backend, MakeCity, MakeFramework
from ..registry.factories import Registrar

INVESTOR = "investor@fund.example"


def _certificate(
    session: Session, backend: Backend, make_framework: MakeFramework, make_city: MakeCity
) -> Certificate:
    make_city("KE-NBO", "Nairobi")
    registrar = Registrar(session, backend.app.state.node, make_framework())
    return registrar.issue("KE-NBO")


def _watch(client: TestClient, **fields: object) -> tuple[int, dict[str, str]]:
    answer = client.post("/watches", json={"email": INVESTOR, **fields})
    return answer.status_code, answer.json()


def _mails(session: Session, to: str = INVESTOR) -> list[OutboxMessage]:
    """In the order they were written (PostgreSQL returns rows in no set order without one)."""
    query = select(OutboxMessage).where(OutboxMessage.recipient == to)
    return list(session.exec(query.order_by(col(OutboxMessage.id))).all())


def _secret(mail: OutboxMessage, path: str) -> str:
    found = re.search(rf"{re.escape(path)}\?token=([A-Za-z0-9_\-]+)", mail.body)
    assert found is not None, mail.body
    return found.group(1)


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"city": "KE-XXX"}, 404, "no city 'KE-XXX'"),
        ({"country": "ZZ"}, 422, "not an ISO 3166-1"),
        ({"country": "UG"}, 422, "certifies cities of KE only"),
        ({"certificate": "urn:uuid:nope"}, 404, "no certificate"),
        ({}, 422, "exactly one of city, country or certificate"),
        ({"city": "KE-NBO", "country": "KE"}, 422, "exactly one"),
        ({"city": "KE-NBO", "channel": "webhook"}, 422, "needs its webhook URL"),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "http://example.org/h"},
            422,
            "https://",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://u:p@example.org/h"},
            422,
            "user name or password",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://127.0.0.1/h"},
            422,
            "not a public address",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://10.1.2.3:8443/h"},
            422,
            "not a public address",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://[::1]/h"},
            422,
            "not a public address",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://169.254.169.254/"},
            422,
            "not a public address",
        ),
        (
            {"city": "KE-NBO", "channel": "webhook", "webhook_url": "https://localhost/h"},
            422,
            "not a public address",
        ),
        (
            {
                "city": "KE-NBO",
                "channel": "webhook",
                "webhook_url": "https://example.org/" + "a" * 2000,
            },
            422,
            "2000",
        ),
        ({"city": "KE-NBO", "language": "de"}, 422, "language must be one of"),
        ({"city": "KE-NBO", "email": "not an address"}, 422, "email"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    client: TestClient,
    make_city: MakeCity,
    fields: dict[str, object],
    status: int,
    words: str,
) -> None:
    make_city("KE-NBO", "Nairobi")
    answer = client.post("/watches", json={"email": INVESTOR, **fields})
    assert answer.status_code == status, answer.text
    assert words in answer.text


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient) -> None:
    answer = client.post(
        "/watches",
        content=b'{"email": "' + b"a" * 9000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert "at most 8192 bytes" in answer.text


def test_one_address_holds_few_unconfirmed_watches(
    client: TestClient, make_city: MakeCity, backend: Backend
) -> None:
    make_city("KE-NBO", "Nairobi")
    for _ in range(backend.settings.watch_max_unconfirmed):
        assert _watch(client, city="KE-NBO")[0] == 202
    status, body = _watch(client, city="KE-NBO")
    assert status == 409
    assert "wait for confirmation" in body["detail"]
    # Another address from the same client is refused too: the client's count is full.
    assert (
        client.post("/watches", json={"email": "x@y.example", "city": "KE-NBO"}).status_code == 409
    )


def test_the_confirmation_link_is_mailed_and_works_once(
    client: TestClient, session: Session, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    status, body = _watch(client, city="ke-nbo", language="es")
    assert status == 202
    assert (body["target_kind"], body["target"], body["confirmed_at"]) == ("city", "KE-NBO", None)
    [mail] = _mails(session)
    assert "Confirme" in mail.subject
    secret = _secret(mail, "/es/watch/confirm")
    assert client.post("/watches/confirm", json={"token": secret}).status_code == 200
    again = client.post("/watches/confirm", json={"token": secret})
    assert again.status_code == 404
    assert "unknown, expired or already used" in again.json()["detail"]
    assert client.post("/watches/confirm", json={"token": "x" * 65}).status_code == 422
    assert client.post("/watches/cancel", json={"token": "unknown"}).status_code == 404


def test_deliveries_come_once_and_only_to_confirmed_watches(
    client: TestClient,
    session: Session,
    backend: Backend,
    make_framework: MakeFramework,
    make_city: MakeCity,
) -> None:
    state: NodeState = backend.app.state.node
    # The cursor at the log's head: the fan-out reads what follows.
    certificate = _certificate(session, backend, make_framework, make_city)
    fan_out_once(state, session=session, now=utcnow())
    session.commit()
    assert _watch(client, certificate=certificate.id)[0] == 202
    [confirmation] = _mails(session)
    assert _watch(client, email="later@fund.example", city="KE-NBO")[0] == 202

    registrar = Registrar(session, state, certificate.framework_version_id)
    registrar.issue("KE-NBO", then=ProposalKind.SUSPENSION)
    read, created = fan_out_once(state, session=session, now=utcnow())
    assert read >= 2
    assert created == 0  # nobody has confirmed
    assert session.exec(select(WatchDelivery)).all() == []

    client.post("/watches/confirm", json={"token": _secret(confirmation, "/en/watch/confirm")})
    registrar.issue("KE-NBO")  # a new certificate of the city: not the watched one
    certificate_row = session.get(Certificate, certificate.id)
    assert certificate_row is not None
    change_status(
        session=session,
        state=state,
        certificate=certificate_row,
        kind=ProposalKind.REVOCATION,
        reason="spot-check",
        decision=Decision("Kenya national committee", "meeting 2", utcnow()),
        agenda_item_id=certificate_row.agenda_item_id,
        actor=SYSTEM,
    )
    session.commit()
    assert fan_out_once(state, session=session, now=utcnow())[1] == 1
    [delivery] = session.exec(select(WatchDelivery)).all()
    notices = _mails(session)
    assert len(notices) == 2
    assert "revoked" in notices[1].subject

    # Read again from before (a second process, a restored cursor): nothing new is created.
    session.exec(update(WatchCursor).values(sequence=delivery.event_sequence - 1))
    assert fan_out_once(state, session=session, now=utcnow())[1] == 0
    assert len(session.exec(select(WatchDelivery)).all()) == 1
    assert len(_mails(session)) == 2
    # And the table itself refuses a second delivery of the pair.
    session.add(
        WatchDelivery(
            id="another",
            watch_id=delivery.watch_id,
            event_sequence=delivery.event_sequence,
            channel=delivery.channel,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_new_watches_are_rate_limited_per_client(backend: Backend) -> None:
    app = create_app(
        backend.settings.model_copy(update={"rate_limit_watch_per_hour": 2}),
        engine=backend.engine,
    )
    with TestClient(app) as limited:
        answers = [
            limited.post("/watches", json={"email": INVESTOR, "city": "XX-XXX"}) for _ in range(3)
        ]
    assert [a.status_code for a in answers[:2]] == [404, 404]
    assert answers[2].status_code == 429
    assert "too many new watches" in answers[2].json()["detail"]


def test_cancelled_watches_get_no_more_deliveries(
    client: TestClient,
    session: Session,
    backend: Backend,
    make_framework: MakeFramework,
    make_city: MakeCity,
) -> None:
    state: NodeState = backend.app.state.node
    certificate = _certificate(session, backend, make_framework, make_city)
    fan_out_once(state, session=session, now=utcnow())
    _watch(client, country="KE")
    [confirmation] = _mails(session)
    confirmed = client.post(
        "/watches/confirm", json={"token": _secret(confirmation, "/en/watch/confirm")}
    )
    assert confirmed.status_code == 200
    cancel_link = _secret(confirmation, "/en/watch/cancel")
    cancelled = client.post("/watches/cancel", json={"token": cancel_link})
    assert cancelled.json()["cancelled_at"] is not None
    # Cancelling again answers the same (the link shows the watch is cancelled).
    assert client.post("/watches/cancel", json={"token": cancel_link}).status_code == 200
    Registrar(session, state, certificate.framework_version_id).issue("KE-NBO")
    assert fan_out_once(state, session=session, now=utcnow())[1] == 0
    assert session.exec(select(WatchDelivery).where(col(WatchDelivery.id) != "")).all() == []


def test_a_node_with_an_es256_key_gives_webhook_notices_up_without_stopping_the_fan_out(
    client: TestClient,
    session: Session,
    backend: Backend,
    make_framework: MakeFramework,
    make_city: MakeCity,
) -> None:
    state = dataclasses.replace(
        backend.app.state.node, signing_key=SigningKey.generate(Algorithm.ES256)
    )
    certificate = _certificate(session, backend, make_framework, make_city)
    fan_out_once(state, session=session, now=utcnow())
    settings = backend.settings.model_copy(update={"webhook_allow_private_addresses": True})
    watch = create_watch(
        session=session,
        settings=settings,
        request=WatchRequest(
            email=INVESTOR,
            language="en",
            target_kind=WatchTarget.CITY,
            target="KE-NBO",
            channel=WatchChannel.WEBHOOK,
            webhook_url="https://127.0.0.1/hook",
        ),
        client="198.51.100.7",
        now=utcnow(),
    )
    client.post(
        "/watches/confirm", json={"token": _secret(_mails(session)[0], "/en/watch/confirm")}
    )
    Registrar(session, state, certificate.framework_version_id).issue("KE-NBO")
    assert fan_out_once(state, session=session, now=utcnow())[1] == 1
    [delivery] = session.exec(select(WatchDelivery)).all()
    assert delivery.given_up_at is not None
    assert "not EdDSA" in (delivery.last_error or "")
    session.refresh(watch)
    assert watch.failing_since is not None
