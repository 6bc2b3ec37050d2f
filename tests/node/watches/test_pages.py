"""The watch pages: the links on the public pages, the form (CSRF, errors beside their fields),
the confirmation and cancel pages, in the watch's language, without script."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches.models import Watch, WatchChannel, WatchTarget

from ..conftest import Backend, MakeCity, MakeFramework
from ..registry.factories import Registrar
from ..web.conftest import form_token

INVESTOR = "investor@fund.example"


def _post(client: TestClient, path: str, data: dict[str, str], *, page: str) -> str | int:
    token = form_token(client.get(page).text)
    answer = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
    return answer.status_code if answer.status_code != 200 else answer.text


def _secret(session: Session, path: str) -> str:
    mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == INVESTOR)).all()[-1]
    found = re.search(rf"{re.escape(path)}\?token=([A-Za-z0-9_\-]+)", mail.body)
    assert found is not None, mail.body
    return found.group(1)


def test_the_public_pages_link_to_the_watch_form(
    client: TestClient,
    session: Session,
    backend: Backend,
    make_city: MakeCity,
    make_framework: MakeFramework,
) -> None:
    make_city("KE-NBO", "Nairobi")
    certificate = Registrar(session, backend.app.state.node, make_framework()).issue("KE-NBO")
    backend.app.state.node.registry.clear()
    assert 'href="/fr/watch?city=KE-NBO"' in client.get("/fr/cities/KE-NBO").text
    page = client.get(f"/en/certificates/{certificate.id}").text
    assert f'href="/en/watch?certificate={certificate.id.replace(":", "%3A")}"' in page
    assert 'href="/es/watch?country=KE"' in client.get("/es/registry?country=KE").text
    assert "/watch?" not in client.get("/es/registry").text


def test_a_watch_is_asked_confirmed_and_cancelled_through_the_pages(
    client: TestClient, session: Session, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    form = client.get("/ru/watch?city=KE-NBO")
    assert form.status_code == 200
    assert 'lang="ru"' in form.text
    assert '<label for="email">' in form.text
    sent = _post(
        client,
        "/ru/watch",
        {"city": "KE-NBO", "email": INVESTOR, "channel": "email"},
        page="/ru/watch?city=KE-NBO",
    )
    assert isinstance(sent, str)
    assert 'id="watch-sent"' in sent
    [watch] = session.exec(select(Watch)).all()
    assert (watch.language, watch.target, watch.confirmed_at) == ("ru", "KE-NBO", None)

    secret = _secret(session, "/ru/watch/confirm")
    # Opening the link changes nothing: its page has a button.
    opened = client.get(f"/ru/watch/confirm?token={secret}")
    assert opened.status_code == 200
    assert 'id="watch-confirm"' in opened.text
    session.refresh(watch)
    assert watch.confirmed_at is None
    confirm_page = f"/ru/watch/confirm?token={secret}"
    done = _post(client, "/ru/watch/confirm", {"token": secret}, page=confirm_page)
    assert isinstance(done, str)
    assert 'id="watch-confirmed"' in done
    assert _post(client, "/ru/watch/confirm", {"token": secret}, page=confirm_page) == 404

    cancel = _secret(session, "/ru/watch/cancel")
    cancel_page = client.get(f"/ru/watch/cancel?token={cancel}")
    assert 'id="watch-cancel"' in cancel_page.text
    cancelled = _post(
        client, "/ru/watch/cancel", {"token": cancel}, page=f"/ru/watch/cancel?token={cancel}"
    )
    assert isinstance(cancelled, str)
    assert 'id="watch-cancelled"' in cancelled
    session.refresh(watch)
    assert watch.cancelled_at is not None


def test_the_form_says_what_is_wrong_beside_each_field(
    client: TestClient, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    page = "/en/watch?city=KE-NBO"
    answer = client.post(
        "/en/watch",
        data={
            "city": "KE-NBO",
            "email": "nope",
            "channel": "webhook",
            "webhook_url": "http://10.0.0.1/h",
            "csrf_token": form_token(client.get(page).text),
        },
    )
    assert answer.status_code == 400
    assert 'id="email-error"' in answer.text
    assert 'id="webhook_url-error"' in answer.text
    assert "public https:// address" in answer.text
    no_channel = client.post(
        "/en/watch",
        data={
            "city": "KE-NBO",
            "email": INVESTOR,
            "channel": "fax",
            "csrf_token": form_token(client.get(page).text),
        },
    )
    assert no_channel.status_code == 400
    assert 'id="channel-error"' in no_channel.text


def test_refusals_of_the_pages(client: TestClient, make_city: MakeCity) -> None:
    make_city("KE-NBO", "Nairobi")
    assert client.get("/en/watch").status_code == 400
    unknown = client.get("/fr/watch?city=KE-XXX")
    assert unknown.status_code == 404
    assert "Ce nœud ne publie rien" in unknown.text
    assert client.get("/en/watch?country=UG").status_code == 404
    # No form token: refused.
    client.get("/en/watch?city=KE-NBO")
    forged = client.post("/en/watch", data={"city": "KE-NBO", "email": INVESTOR})
    assert forged.status_code == 403
    assert client.get("/en/watch/cancel?token=unknown").status_code == 404
    unknown_confirm = _post(
        client, "/en/watch/confirm", {"token": "unknown"}, page="/en/watch/confirm?token=x"
    )
    assert unknown_confirm == 404


def test_the_cancel_page_tells_the_owner_that_the_webhook_fails(
    client: TestClient, session: Session, make_city: MakeCity
) -> None:
    make_city("KE-NBO", "Nairobi")
    now = utcnow()
    watch = Watch(
        email=INVESTOR,
        language="zh",
        target_kind=WatchTarget.CITY,
        target="KE-NBO",
        channel=WatchChannel.WEBHOOK,
        webhook_url="https://example.org/hook",
        client="198.51.100.7",
        confirmation_expires_at=now,
        confirmed_at=now,
        from_sequence=0,
        cancel_secret="a-cancel-secret",
        failing_since=now,
    )
    session.add(watch)
    session.commit()
    page = client.get("/zh/watch/cancel?token=a-cancel-secret")
    assert page.status_code == 200
    assert 'id="watch-failing"' in page.text
    assert "2xx" in page.text
