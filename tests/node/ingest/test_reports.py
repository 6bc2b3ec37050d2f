"""POST /federation/reports on the global node: what is stored, and every refusal."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.credentials import JwsToken, TrustList
from sdgcities.credentials.jws import sign_jws
from sdgcities.federation import MAX_REPORT_BYTES, REPORT_TYP
from sdgcities.federation.ingest import Receipt
from sdgcities.node.ingest.models import IngestAlarm, IngestedEvent, IngestedLog, ReceivedReport
from sdgcities.node.timeutil import utcnow

from ...federation.factories import make_chain
from ..conftest import ROOT_KEY, Account
from .conftest import MakeMember, post_report


def _events(session: Session, node_id: str = "KE") -> list[IngestedEvent]:
    return list(
        session.exec(
            select(IngestedEvent)
            .where(IngestedEvent.node_id == node_id)
            .order_by(col(IngestedEvent.sequence))
        ).all()
    )


def _alarms(session: Session) -> list[IngestAlarm]:
    return list(session.exec(select(IngestAlarm).order_by(col(IngestAlarm.id))).all())


def _trust_list(client: TestClient) -> TrustList:
    return TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )


def test_a_report_is_stored_with_a_signed_receipt(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    chain = make_chain(3)
    token = ke.report(chain)
    response = post_report(client, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["first"], body["last"], body["added"]) == (1, 3, 3)
    assert body["head"] == {"sequence": 3, "hash": chain[-1].hash}
    receipt = Receipt.verify(
        body["receipt"], trust_list=_trust_list(client), global_node_id="global"
    )
    assert receipt.acknowledges(token)
    assert receipt.head == chain[-1].head

    rows = _events(session)
    assert [(r.sequence, r.hash, r.prev_hash) for r in rows] == [
        (e.sequence, e.hash, e.prev_hash) for e in chain
    ]
    assert rows[0].type == "credential.issued"
    assert rows[0].subject == {"locode": "KE-NBO", "credential": "urn:uuid:0"}
    assert rows[0].data == {"n": 0}
    assert rows[0].occurred_at == chain[0].occurred_at
    log = session.get(IngestedLog, "KE")
    assert log is not None
    assert (log.head_sequence, log.head_hash) == (3, chain[-1].hash)
    assert log.last_report_at is not None


def test_a_replay_gets_the_same_receipt_and_adds_nothing(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    chain = make_chain(5)
    token = ke.report(chain[:3])
    first = post_report(client, token).json()
    again = post_report(client, token)
    assert again.status_code == 200
    assert again.json()["receipt"] == first["receipt"]
    assert len(_events(session)) == 3
    assert len(session.exec(select(ReceivedReport)).all()) == 1

    # A relay that lost its receipt signs the same events again, with more after them.
    overlapping = post_report(client, ke.report(chain[1:]))
    assert overlapping.status_code == 200
    assert (overlapping.json()["added"], overlapping.json()["head"]["sequence"]) == (2, 5)
    assert [r.sequence for r in _events(session)] == [1, 2, 3, 4, 5]

    nothing_new = post_report(client, ke.report(chain[:2]))
    assert nothing_new.status_code == 200
    assert nothing_new.json()["added"] == 0
    assert nothing_new.json()["head"]["sequence"] == 5
    assert len(_events(session)) == 5
    assert _alarms(session) == []


def test_a_forged_report_is_refused(client: TestClient, make_member: MakeMember) -> None:
    ke = make_member("KE")
    header, payload, signature = ke.report(make_chain(2)).split(".")
    forged = f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    response = post_report(client, forged)
    assert response.status_code == 422
    assert "signature does not verify" in response.json()["detail"]


def test_a_report_signed_by_an_unknown_key_is_refused(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    from sdgcities.credentials import SigningKey

    from .conftest import Member

    make_member("KE")
    stranger = Member("KE", SigningKey.generate())
    response = post_report(client, stranger.report(make_chain(2)))
    assert response.status_code == 422
    assert "not on the trust list" in response.json()["detail"]
    assert _events(session) == []
    # Anyone can send garbage: it is refused, not kept.
    assert _alarms(session) == []


def test_a_member_cannot_report_as_another_node(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    make_member("KE")
    tz = make_member("TZ")
    # TZ's real key, KE's DID in the kid and the payload: refused on the kid.
    claims_ke = tz.report(make_chain(2), node_id="KE", did="did:web:ke.example.org")
    response = post_report(client, claims_ke)
    assert response.status_code == 422
    assert "kid names another DID than the key's node" in response.json()["detail"]
    # TZ's key signs, so the sub must be TZ: KE's events are not TZ's either.
    tz_key_ke_events = tz.report(make_chain(2), node_id="KE", did=tz.did)
    response = post_report(client, tz_key_ke_events)
    assert response.status_code == 422
    assert "a node reports only as itself" in response.json()["detail"]
    # TZ's own events and payload, only the kid naming KE's DID: a member signing in another
    # node's name all the same.
    own = tz.report(make_chain(2, node_id="TZ"))
    payload = JwsToken.parse(own, typ=REPORT_TYP).verify(tz.key.public_key)
    kid_only = sign_jws(payload, key=tz.key, did="did:web:ke.example.org", typ=REPORT_TYP)
    response = post_report(client, kid_only)
    assert response.status_code == 422
    assert "kid names another DID than the key's node" in response.json()["detail"]
    assert _events(session, "KE") == []
    assert _events(session, "TZ") == []
    alarms = _alarms(session)
    assert [(a.kind, a.node_id) for a in alarms] == [("impersonation", "TZ")] * 3
    assert alarms[0].evidence == [claims_ke]
    assert alarms[2].evidence == [kid_only]


def test_a_fork_raises_an_alarm_keeping_both_reports(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    held = ke.report(make_chain(3))
    assert post_report(client, held).status_code == 200
    other_history = ke.report(make_chain(4, data={"other": True}))
    response = post_report(client, other_history)
    assert response.status_code == 409
    assert response.json()["code"] == "fork"
    assert "fork at event 1" in response.json()["detail"]
    (alarm,) = _alarms(session)
    assert (alarm.kind, alarm.node_id, alarm.sequence) == ("fork", "KE", 1)
    assert alarm.evidence == [other_history, held]
    assert len(_events(session)) == 3

    # A report continuing from a different event 3 than the one held is a fork at 3.
    branch = make_chain(3, data={"branch": True})
    continuation = make_chain(1, previous=branch[-1])
    response = post_report(client, ke.report(continuation))
    assert response.status_code == 409
    assert response.json()["code"] == "fork"
    assert _alarms(session)[-1].sequence == 3


def test_a_rollback_raises_an_alarm_but_an_old_heartbeat_does_not(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    now = utcnow() + timedelta(seconds=2)
    old_end = ke.report([], after=1, issued_at=now)
    assert post_report(client, ke.report(make_chain(1), issued_at=now)).status_code == 200
    assert post_report(client, ke.report(make_chain(3), issued_at=now + timedelta(seconds=5)))
    # Signed before the newest report: an old "my log ends at 1" sent again, not a claim now.
    assert post_report(client, old_end).status_code == 200
    assert _alarms(session) == []

    rolled_back = ke.report([], after=1, issued_at=now + timedelta(seconds=10))
    response = post_report(client, rolled_back)
    assert response.status_code == 409
    assert response.json()["code"] == "rollback"
    (alarm,) = _alarms(session)
    assert (alarm.kind, alarm.node_id, alarm.evidence) == ("rollback", "KE", [rolled_back])


def test_a_gap_answers_the_missing_range(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    chain = make_chain(8)
    assert post_report(client, ke.report(chain[:3])).status_code == 200
    response = post_report(client, ke.report(chain[5:]))
    assert response.status_code == 409
    assert response.json()["code"] == "gap"
    assert response.json()["missing"] == {"first": 4, "last": 5}
    log = session.get(IngestedLog, "KE")
    assert log is not None
    assert (log.missing_from, log.missing_to) == (4, 5)
    assert "KE" in client.app.state.ingest.wanted  # type: ignore[attr-defined]
    assert len(_events(session)) == 3

    assert post_report(client, ke.report(chain[3:])).status_code == 200
    session.refresh(log)
    assert (log.head_sequence, log.missing_from, log.missing_to) == (8, None, None)
    assert _alarms(session) == []


def test_a_broken_chain_signed_by_a_member_raises_an_alarm(
    client: TestClient, make_member: MakeMember, session: Session
) -> None:
    ke = make_member("KE")
    chain = make_chain(3)
    altered = chain[1].to_json() | {"data": {"n": 99}}
    token = sign_jws(
        {
            "iss": ke.did,
            "sub": "KE",
            "iat": int((utcnow() + timedelta(seconds=1)).timestamp()),
            "first": 1,
            "last": 3,
            "events": [chain[0].to_json(), altered, chain[2].to_json()],
        },
        key=ke.key,
        did=ke.did,
        typ=REPORT_TYP,
    )
    response = post_report(client, token)
    assert response.status_code == 422
    assert "altered" in response.json()["detail"]
    (alarm,) = _alarms(session)
    assert (alarm.kind, alarm.node_id, alarm.sequence) == ("chain", "KE", 2)


def test_oversized_and_mistyped_bodies_are_refused(client: TestClient) -> None:
    too_big = b"a" * (MAX_REPORT_BYTES + 1)
    response = post_report(client, too_big)
    assert response.status_code == 413

    def chunks() -> object:
        for _ in range(5):
            yield b"a" * (MAX_REPORT_BYTES // 4)

    streamed = client.post(
        "/federation/reports",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/federation-report+jwt"},
    )
    assert streamed.status_code == 413
    assert "at most" in streamed.json()["detail"]
    response = client.post("/federation/reports", json={"token": "x"})
    assert response.status_code == 415


def test_a_withdrawn_member_reports_nothing_signed_after_its_withdrawal(
    client: TestClient, make_member: MakeMember, secretariat: Account, session: Session
) -> None:
    ke = make_member("KE")
    chain = make_chain(3)
    before = ke.report(chain[:2])
    time.sleep(2)  # reports carry their signing time to the second
    withdrawn = client.post(
        "/federation/members/KE/withdraw", json={"reason": "left"}, headers=secretariat.headers
    )
    assert withdrawn.status_code == 200
    response = post_report(client, ke.report(chain, issued_at=utcnow() + timedelta(seconds=5)))
    assert response.status_code == 422
    assert "withdrawn" in response.json()["detail"]
    # Signed while it was a member: still its word.
    assert post_report(client, before).status_code == 200
    assert len(_events(session)) == 2


def test_store_views_are_for_the_secretariat(
    client: TestClient, make_member: MakeMember, secretariat: Account
) -> None:
    ke = make_member("KE")
    post_report(client, ke.report(make_chain(2)))
    assert client.get("/federation/logs").status_code == 401
    assert client.get("/federation/alarms").status_code == 401
    logs = client.get("/federation/logs", headers=secretariat.headers).json()
    assert [(log["node_id"], log["head_sequence"]) for log in logs["data"]] == [("KE", 2)]
    alarms = client.get("/federation/alarms?kind=fork", headers=secretariat.headers).json()
    assert alarms == {"data": [], "count": 0}
    response = client.post("/federation/members/KE/pull")
    assert response.status_code == 401
