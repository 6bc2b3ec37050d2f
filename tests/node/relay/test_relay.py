"""The relay between a national node and the global node, both real apps in this process:
a node reports as soon as it has joined, heartbeats, gaps filled by a pull, and the `gap` alarm."""

from __future__ import annotations

import threading
import time

from sqlmodel import Session, select

from sdgcities.federation import REPORT_MEDIA_TYPE, sign_report
from sdgcities.node.config import Settings
from sdgcities.node.events.service import list_events
from sdgcities.node.relay.models import RelayReceipt
from sdgcities.node.relay.service import Round
from sdgcities.node.relay.tasks import _run, next_delay
from sdgcities.node.timeutil import utcnow

from .conftest import Federation


def _ke_log(federation: Federation) -> list[tuple[int, str]]:
    with Session(federation.ke.engine) as session:
        return [(e.sequence, e.hash) for e in list_events(session=session, after=0, limit=1000)]


def _held(federation: Federation) -> list[tuple[int, str]]:
    return [(e.sequence, e.hash) for e in federation.held()]


def _reports_sent(federation: Federation) -> list[tuple[int, int]]:
    """(first, last) of each report the relay posted, read from the request bodies."""
    import base64
    import json

    sent = []
    for request in federation.requests:
        if request.method == "POST" and request.url.path == "/federation/reports":
            payload = request.content.decode().split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            sent.append((claims["first"], claims["last"]))
    return sent


def _wait_for(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


# A node that joins -------------------------------------------------------------------------------


def test_a_node_reports_as_soon_as_it_has_joined(federation: Federation) -> None:
    """Before it is on the trust list the relay waits without backing off (and sends nothing);
    the trust list that lists it wakes the relay, which delivers at once."""
    federation.ke.state.settings = federation.ke.state.settings.model_copy(
        update={"relay_backoff_max_seconds": 300.0, "relay_backoff_base_seconds": 60.0}
    )
    federation.append(3)
    stop = threading.Event()
    thread = threading.Thread(
        target=_run, args=(federation.relay(), federation.ke.state, stop), daemon=True
    )
    thread.start()
    try:
        time.sleep(0.5)
        assert federation.requests == []  # nothing is sent before the node is a member
        started = time.monotonic()
        federation.join()
        # Woken by the sync (which slept to the next second), not by the 60 s back-off: half
        # of it is the bound, since a loaded machine once took 6.8 s here.
        assert _wait_for(lambda: _held(federation) == _ke_log(federation), timeout=30.0)
        assert time.monotonic() - started < 30
    finally:
        stop.set()
        federation.ke.state.relay_wake.wake()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_waiting_to_be_a_member_is_not_a_failure() -> None:
    settings = Settings(_env_file=None, relay_backoff_max_seconds=120.0)  # type: ignore[call-arg]
    waiting = Round(0, "this node is not on the trust list yet", not_member=True)
    assert next_delay(waiting, 5, settings) == (120.0, 5)
    key_not_valid_yet = Round(0, "waiting", retry_after=0.4, not_member=True)
    assert next_delay(key_not_valid_yet, 0, settings) == (0.4, 0)
    delay, failures = next_delay(Round(0, "the global node answered 500"), 3, settings)
    assert (failures, 0 <= delay <= 8.0) == (4, True)
    assert next_delay(Round(2), 4, settings) == (settings.relay_interval_seconds, 0)


def test_a_relay_not_on_the_trust_list_sends_nothing(federation: Federation) -> None:
    federation.append(2)
    result = federation.relay().run_once()
    assert (result.not_member, result.failure) == (True, "this node is not on the trust list yet")
    assert federation.requests == []
    # The sync that brings a list naming the node wakes the relay.
    assert not federation.ke.state.relay_wake.wait(0)
    federation.join()
    assert federation.ke.state.relay_wake.wait(0)


def test_a_withdrawn_node_stops_reporting_without_failing(federation: Federation) -> None:
    federation.join()
    withdrawn = federation.global_node.client.post(
        "/federation/members/KE/withdraw",
        json={"reason": "left"},
        headers=federation.global_node.admin,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    from sdgcities.node.membership.tasks import sync_once

    sync_once(federation.ke.state)
    federation.append(1)
    federation.requests.clear()
    result = federation.relay().run_once()
    assert (result.not_member, result.failure) == (
        True,
        "this node is withdrawn from the federation",
    )
    assert federation.requests == []


# Heartbeats ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_with_nothing_new_the_relay_heartbeats(federation: Federation) -> None:
    federation.join()
    federation.append(2)
    clock = Clock()
    relay = federation.relay(clock=clock)
    assert relay.run_once() == Round(2)
    assert _reports_sent(federation) == [(1, 2)]
    # Events just went: nothing new, and a heartbeat is not due yet.
    assert relay.run_once() == Round(0)
    assert _reports_sent(federation) == [(1, 2)]

    log = federation.log()
    assert log is not None
    assert log.last_report_at is not None
    before = log.last_report_at
    clock.now += federation.ke.state.settings.relay_heartbeat_seconds
    time.sleep(1)  # reports carry their signing time to the second
    assert relay.run_once() == Round(0)
    # "Nothing after 2", signed: the global node knows the node is alive and where its log ends.
    assert _reports_sent(federation) == [(1, 2), (3, 2)]
    log = federation.log()
    assert log is not None
    assert log.last_report_at is not None
    assert log.last_report_at > before
    assert log.head_sequence == 2
    assert federation.alarms() == []
    # A heartbeat's receipt is checked, not kept: the cursor is the events' receipts.
    with Session(federation.ke.engine) as session:
        assert [(r.first, r.last) for r in session.exec(select(RelayReceipt)).all()] == [(1, 2)]

    assert relay.run_once() == Round(0)
    assert len(_reports_sent(federation)) == 2


def test_a_restarted_relay_heartbeats_at_once(federation: Federation) -> None:
    federation.join()
    assert federation.relay().run_once() == Round(0)
    assert _reports_sent(federation) == [(1, 0)]
    log = federation.log()
    assert log is not None
    assert log.last_report_at is not None


def test_a_heartbeat_from_a_node_restored_from_an_old_backup_is_a_rollback(
    federation: Federation,
) -> None:
    federation.join()
    federation.append(3)
    assert federation.relay().run_once() == Round(3)
    restore = federation.backup_ke()
    federation.append(2)
    assert federation.relay().run_once() == Round(2)

    restored = restore()  # the node's database as it was at event 3, receipts included
    time.sleep(1)
    result = federation.relay_of(restored).run_once()
    assert result.failure is not None
    assert "409" in result.failure
    (alarm,) = federation.alarms()
    assert (alarm.kind, alarm.node_id, alarm.sequence) == ("rollback", "KE", 3)
    assert len(alarm.evidence) == 1
    log = federation.log()
    assert log is not None
    assert log.head_sequence == 5


# Gaps ------------------------------------------------------------------------------------------


def _skip_ahead(federation: Federation, after: int) -> tuple[int, dict[str, object]]:
    """A report of KE's events after `after`, signed with its key, as a relay whose cursor ran
    ahead of the global node (restored from a backup) sends it."""
    with Session(federation.ke.engine) as session:
        events = list_events(session=session, after=after, limit=1000)
    state = federation.ke.state
    token = sign_report(
        events,
        key=state.signing_key,
        node_id="KE",
        issuer_did=state.settings.did,
        issued_at=utcnow(),
    )
    answer = federation.global_node.client.post(
        "/federation/reports", content=token, headers={"Content-Type": REPORT_MEDIA_TYPE}
    )
    return answer.status_code, answer.json()


def test_a_pull_fills_the_gap_a_pushed_report_left(federation: Federation) -> None:
    federation.join()
    federation.append(3)
    assert federation.relay().run_once() == Round(3)
    federation.append(5)

    status, body = _skip_ahead(federation, after=5)
    assert (status, body["code"], body["missing"]) == (409, "gap", {"first": 4, "last": 5})
    log = federation.log()
    assert log is not None
    assert (log.missing_from, log.missing_to) == (4, 5)
    assert "KE" in federation.global_node.app.state.ingest.wanted

    federation.requests.clear()
    pulled = federation.global_node.client.post(
        "/federation/members/KE/pull", headers=federation.global_node.admin
    )
    assert pulled.status_code == 200, pulled.text
    assert (pulled.json()["added"], pulled.json()["head"]["sequence"]) == (5, 8)
    # One page from KE's real feed, from the first missing event on: nothing held fetched again.
    assert [
        (r.method, r.url.host, r.url.path, r.url.params["after"]) for r in federation.requests
    ] == [("GET", "ke.example.org", "/federation/events", "3")]
    assert _held(federation) == _ke_log(federation)
    log = federation.log()
    assert log is not None
    assert (log.head_sequence, log.missing_from, log.missing_to) == (8, None, None)
    assert "KE" not in federation.global_node.app.state.ingest.wanted
    assert federation.alarms() == []


def test_a_gap_that_cannot_be_pulled_raises_one_gap_alarm(federation: Federation) -> None:
    federation.join()
    federation.append(2)
    assert federation.relay().run_once() == Round(2)
    federation.append(4)
    status, body = _skip_ahead(federation, after=4)
    assert (status, body["missing"]) == (409, {"first": 3, "last": 4})

    federation.down.add("ke.example.org")
    for _ in range(2):  # asked again (by the hourly round or the secretariat): one alarm
        pulled = federation.global_node.client.post(
            "/federation/members/KE/pull", headers=federation.global_node.admin
        )
        assert pulled.status_code == 409
        assert "unreachable" in pulled.json()["detail"]
    (alarm,) = federation.alarms()
    assert (alarm.kind, alarm.node_id, alarm.sequence) == ("gap", "KE", 3)
    assert "events 3 to 4 could not be pulled" in alarm.detail
    assert alarm.evidence == []

    # Back online: the pull fills the gap; the alarm stays (the log keeps what happened).
    federation.down.clear()
    pulled = federation.global_node.client.post(
        "/federation/members/KE/pull", headers=federation.global_node.admin
    )
    assert pulled.status_code == 200
    assert _held(federation) == _ke_log(federation)
    assert len(federation.alarms()) == 1


def test_the_relay_resends_from_where_the_global_node_stands(federation: Federation) -> None:
    """The global node lost what KE delivered (restored from a backup): a report past its head
    gets 409 with the missing range, and the relay sends from there."""
    federation.join()
    federation.append(2)
    relay = federation.relay()
    assert relay.run_once() == Round(2)
    # As if the global node had been restored: the receipts say 2, the store holds nothing.
    with Session(federation.ke.engine) as session:
        session.add(
            RelayReceipt(
                first=3,
                last=4,
                added=2,
                head_sequence=4,
                head_hash="sha256:" + "0" * 64,
                report_sha256="sha256:" + "0" * 64,
                receipt="x",
            )
        )
        session.commit()
    federation.append(4)
    assert relay.run_once().failure is None
    assert _held(federation) == _ke_log(federation)
    assert _reports_sent(federation)[-2:] == [(5, 6), (3, 6)]
    assert federation.alarms() == []
