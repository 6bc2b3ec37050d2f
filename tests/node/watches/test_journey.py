"""The whole path over a running node: create, confirm by the mailed link, a certificate
suspended, the signed webhook and the email arrive; retries keep the jti; cancel stops notices;
a restart of the duty sends nothing twice."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import update

from sdgcities.credentials import NOTICE_MEDIA_TYPE, verify_notice
from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.db import transaction
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches.models import Watch

from .conftest import Receiver, WatchedNode, link_in, wait_for

INVESTOR = "investor@fund.example"
ANALYST = "analyst@fund.example"


def test_a_confirmed_watch_receives_the_signed_webhook_and_the_email(
    watched_node: WatchedNode, receiver: Receiver
) -> None:
    node = watched_node
    certificate = node.issue("KE-NBO")
    with TestClient(node.app) as client:
        hook = client.post(
            "/watches",
            json={
                "email": INVESTOR,
                "language": "fr",
                "city": "KE-NBO",
                "channel": "webhook",
                "webhook_url": receiver.url,
            },
        )
        assert hook.status_code == 202, hook.text
        assert hook.json()["confirmed_at"] is None
        mail = client.post(
            "/watches", json={"email": ANALYST, "certificate": certificate.id, "language": "en"}
        )
        assert mail.status_code == 202, mail.text

        wait_for(lambda: len(node.mails_to(INVESTOR)) == 1 and len(node.mails_to(ANALYST)) == 1)
        confirmation = node.mails_to(INVESTOR)[0]
        assert "Confirmez" in confirmation["Subject"]
        # Nothing is sent before confirmation, whatever happens meanwhile.
        node.decide(certificate.id, ProposalKind.SUSPENSION)
        time.sleep(0.5)
        assert receiver.received == []
        assert node.deliveries() == []

        token = link_in(confirmation, "/fr/watch/confirm")
        confirmed = client.post("/watches/confirm", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["confirmed_at"] is not None
        again = client.post("/watches/confirm", json={"token": token})
        assert again.status_code == 404
        assert "already used" in again.json()["detail"]
        analyst_token = link_in(node.mails_to(ANALYST)[0], "/en/watch/confirm")
        assert client.post("/watches/confirm", json={"token": analyst_token}).status_code == 200

        # The receiver fails once: the retry carries the same notice.
        receiver.statuses.append(500)
        node.decide(certificate.id, ProposalKind.REINSTATEMENT)
        wait_for(lambda: len(receiver.received) == 2)
        first, second = receiver.received
        assert first.body == second.body
        assert first.content_type == NOTICE_MEDIA_TYPE
        notice = verify_notice(second.body, trust_list=node.trust_list())
        assert notice.node_id == "KE"
        assert notice.event.type == "credential.reinstated"
        assert notice.event.credential == certificate.id
        assert (notice.event.locode, notice.event.country) == ("KE-NBO", "KE")
        assert notice.event.status == "active"
        assert notice.certificate_url.endswith(f"/fr/certificates/{certificate.id}")
        hook_watch = node.watch(notice.watch_id)
        assert notice.cancel_url.endswith(f"/fr/watch/cancel?token={hook_watch.cancel_secret}")

        def delivered() -> bool:
            return any(
                d.id == notice.delivery_id and d.delivered_at is not None for d in node.deliveries()
            )

        wait_for(delivered)
        delivery = next(d for d in node.deliveries() if d.id == notice.delivery_id)
        assert (delivery.attempts, delivery.last_error) == (2, None)

        wait_for(lambda: len(node.mails_to(ANALYST)) == 2)
        email_notice = node.mails_to(ANALYST)[1]
        assert "reinstated" in email_notice["Subject"]
        body = email_notice.get_content()
        assert certificate.id in body
        assert "/en/watch/cancel?token=" in body

        # Cancelled: the next decision reaches neither.
        cancel = link_in(email_notice, "/en/watch/cancel")
        assert client.post("/watches/cancel", json={"token": cancel}).status_code == 200
        hooks_cancel = notice.cancel_url.rpartition("token=")[2]
        cancelled = client.post("/watches/cancel", json={"token": hooks_cancel})
        assert cancelled.json()["cancelled_at"] is not None
        node.decide(certificate.id, ProposalKind.REVOCATION)
        time.sleep(0.5)
    assert len(receiver.received) == 2
    assert len(node.mails_to(ANALYST)) == 2
    assert len(node.deliveries()) == 2


def test_a_restarted_duty_sends_nothing_twice(
    watched_node: WatchedNode, receiver: Receiver
) -> None:
    node = watched_node
    certificate = node.issue("KE-MBA")
    with TestClient(node.app) as client:
        created = client.post(
            "/watches",
            json={
                "email": INVESTOR,
                "country": "KE",
                "channel": "webhook",
                "webhook_url": receiver.url,
            },
        )
        assert created.status_code == 202, created.text
        wait_for(lambda: len(node.mails_to(INVESTOR)) == 1)
        token = link_in(node.mails_to(INVESTOR)[0], "/en/watch/confirm")
        assert client.post("/watches/confirm", json={"token": token}).status_code == 200
        node.decide(certificate.id, ProposalKind.SUSPENSION)
        wait_for(lambda: len(receiver.received) == 1)
    # The node stops and starts again: its duties read the same log from the stored cursor.
    with TestClient(node.app):
        time.sleep(0.5)
        node.issue("KE-NBO")
        wait_for(lambda: len(receiver.received) == 2)
        time.sleep(0.3)
    assert len(receiver.received) == 2
    notices = [verify_notice(r.body, trust_list=node.trust_list()) for r in receiver.received]
    assert [n.event.type for n in notices] == ["credential.suspended", "credential.issued"]
    assert len({n.delivery_id for n in notices}) == 2


def test_a_receiver_that_keeps_failing_marks_the_watch_failing(
    watched_node: WatchedNode, receiver: Receiver
) -> None:
    node = watched_node
    certificate = node.issue("KE-NBO")
    receiver.statuses.extend([503, 503, 503])
    with TestClient(node.app) as client:
        client.post(
            "/watches",
            json={
                "email": INVESTOR,
                "certificate": certificate.id,
                "channel": "webhook",
                "webhook_url": receiver.url,
            },
        )
        wait_for(lambda: len(node.mails_to(INVESTOR)) == 1)
        token = link_in(node.mails_to(INVESTOR)[0], "/en/watch/confirm")
        client.post("/watches/confirm", json={"token": token})
        node.decide(certificate.id, ProposalKind.REVOCATION)

        def given_up() -> bool:
            deliveries = node.deliveries()
            return bool(deliveries) and deliveries[0].given_up_at is not None

        wait_for(given_up)
    delivery = node.deliveries()[0]
    assert delivery.attempts == 3
    assert "HTTP 503" in (delivery.last_error or "")
    assert node.watch(delivery.watch_id).failing_since is not None
    assert len(receiver.received) == 3


def test_an_expired_confirmation_link_is_refused(watched_node: WatchedNode) -> None:
    node = watched_node
    with TestClient(node.app) as client:
        client.post("/watches", json={"email": INVESTOR, "city": "KE-NBO"})
        wait_for(lambda: len(node.mails_to(INVESTOR)) == 1)
        token = link_in(node.mails_to(INVESTOR)[0], "/en/watch/confirm")
        with transaction(node.engine) as session:
            session.exec(
                update(Watch).values(confirmation_expires_at=utcnow() - timedelta(seconds=1))
            )
        expired = client.post("/watches/confirm", json={"token": token})
    assert expired.status_code == 404
    assert "expired" in expired.json()["detail"]
