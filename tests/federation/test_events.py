from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sdgcities.credentials import canonical_json, content_digest
from sdgcities.federation import (
    GENESIS,
    GENESIS_HASH,
    MAX_EVENT_BYTES,
    ChainBroken,
    ChainError,
    ChainHead,
    Event,
    EventInvalid,
    EventType,
    ForkDetected,
    Rollback,
    SequenceGap,
    event_hash,
    verify_chain,
)
from sdgcities.federation.events import _HASH_MEMBER_BYTES

from .factories import T0, make_chain

MAX_SAFE = 2**53 - 1

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
# Any JSON in subject and data, for the round trip of single events.
rich_specs = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EventType),
        "occurred_at": moments,
        "subject": st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
            st.text(min_size=1, max_size=40) | st.integers(-MAX_SAFE, MAX_SAFE),
            max_size=4,
        ),
        "data": st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    }
)
# Lighter content for the chain properties, where the links matter more than the payload
# (Hypothesis spends most of its time generating nested JSON).
specs = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EventType),
        "occurred_at": moments,
        "subject": st.dictionaries(
            st.sampled_from(["locode", "application", "credential"]),
            st.text(min_size=1, max_size=8) | st.integers(0, 10_000),
            max_size=2,
        ),
        "data": st.dictionaries(
            st.sampled_from(["a", "b"]),
            st.integers(0, 10**6) | st.text(max_size=5) | st.none(),
            max_size=2,
        ),
    }
)
node_ids = st.sampled_from(["KE", "UG", "global"])


def build(specs: list[dict[str, Any]], node_id: str = "KE") -> list[Event]:
    events: list[Event] = []
    previous = None
    for spec in specs:
        previous = Event.create(previous, node_id=node_id, **spec)
        events.append(previous)
    return events


chains = st.builds(build, st.lists(specs, min_size=1, max_size=8), node_ids)
long_chains = st.builds(build, st.lists(specs, min_size=3, max_size=8), node_ids)
rich_chains = st.builds(build, st.lists(rich_specs, min_size=1, max_size=2), node_ids)


# Building and hashing a chain takes a few milliseconds, but on a loaded machine (the suite runs
# in parallel beside PostgreSQL) an example can pass the 200 ms deadline; what these tests check
# does not depend on speed.
chain_settings = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- round trips -------------------------------------------------------------------------------


@chain_settings
@given(chains)
def test_any_chain_verifies_from_genesis(events: list[Event]) -> None:
    head = verify_chain(events, after=GENESIS)
    assert head == ChainHead(len(events), events[-1].hash)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))


@chain_settings
@given(rich_chains)
def test_json_round_trip_keeps_event_and_hash(events: list[Event]) -> None:
    for event in events:
        text = json.dumps(event.to_json())
        again = Event.from_json(json.loads(text))
        assert again == event
        assert again.computed_hash() == event.hash
    # Reading a whole log back from JSON keeps it verifiable.
    assert verify_chain([Event.from_json(e.to_json()) for e in events], after=GENESIS)


@chain_settings
@given(chains, st.data())
def test_any_slice_verifies_against_its_predecessor(
    events: list[Event], data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(events) - 1))
    after = GENESIS if start == 0 else events[start - 1].head
    assert verify_chain(events[start:], after=after) == events[-1].head
    # Without an anchor a slice is checked among its own events.
    assert verify_chain(events[start:]) == events[-1].head


@chain_settings
@given(rich_chains)
def test_the_hash_and_size_computed_once_are_those_of_the_whole_json(events: list[Event]) -> None:
    for event in events:
        body = event.to_json()
        del body["hash"]
        assert event.computed_hash() == event_hash(body)
        whole, without = canonical_json(event.to_json()), canonical_json(body)
        assert len(whole) == len(without) + _HASH_MEMBER_BYTES


def test_hash_is_the_digest_of_the_body_without_hash() -> None:
    (event,) = make_chain(1)
    body = event.to_json()
    del body["hash"]
    assert event.hash == content_digest(body) == event_hash(body)
    with pytest.raises(EventInvalid, match="without its hash"):
        event_hash(event.to_json())


def test_json_form_is_the_documented_one() -> None:
    event = Event.create(
        None,
        node_id="KE",
        type=EventType.DECISION_RECORDED,
        occurred_at=datetime(2026, 3, 1, 9, 30, 15, 987_654, tzinfo=UTC),
        subject={"locode": "KE-NBO", "application": 12},
        data={"outcome": "awarded"},
    )
    assert event.to_json() == {
        "sequence": 1,
        "nodeId": "KE",
        "type": "decision.recorded",
        "occurredAt": "2026-03-01T09:30:15Z",
        "subject": {"locode": "KE-NBO", "application": 12},
        "data": {"outcome": "awarded"},
        "prevHash": GENESIS_HASH,
        "hash": event.hash,
    }


def test_events_cannot_be_changed_after_hashing() -> None:
    event = Event.create(
        None,
        node_id="KE",
        type=EventType.NODE_JOINED,
        occurred_at=T0,
        subject={"node": "KE"},
        data={"items": [{"a": 1}]},
    )
    with pytest.raises(TypeError):
        event.data["items"] = []  # type: ignore[index]
    with pytest.raises(TypeError):
        event.data["items"][0]["a"] = 2
    with pytest.raises(TypeError):
        event.subject["node"] = "UG"  # type: ignore[index]
    assert verify_chain([event], after=GENESIS)


def test_create_refuses_to_continue_another_nodes_log() -> None:
    (first,) = make_chain(1, node_id="KE")
    with pytest.raises(EventInvalid, match="must be from it too"):
        Event.create(
            first, node_id="UG", type=EventType.NODE_JOINED, occurred_at=T0, subject={}, data={}
        )


# --- tampering ---------------------------------------------------------------------------------

OTHER_HASH = "sha256:" + "ab" * 32


def flipped(event: Event, field: str) -> Event:
    """`event` with one member changed and its old hash kept."""
    changes: dict[str, Any] = {
        "sequence": event.sequence + 1,
        "node_id": "UG" if event.node_id != "UG" else "KE",
        "type": (
            EventType.CREDENTIAL_REVOKED
            if event.type is not EventType.CREDENTIAL_REVOKED
            else EventType.CREDENTIAL_ISSUED
        ),
        "occurred_at": event.occurred_at + timedelta(seconds=1),
        "subject": {**event.subject, "zz_extra": "x"},
        "data": {**event.data, "\x00extra": 1},
        "prev_hash": OTHER_HASH if event.prev_hash != OTHER_HASH else GENESIS_HASH,
        "hash": OTHER_HASH if event.hash != OTHER_HASH else GENESIS_HASH,
    }
    return dataclasses.replace(event, **{field: changes[field]})


FIELDS = ["sequence", "node_id", "type", "occurred_at", "subject", "data", "prev_hash", "hash"]


@chain_settings
@given(chains, st.data(), st.sampled_from(FIELDS))
def test_flipping_any_field_of_any_event_breaks_the_chain(
    events: list[Event], data: st.DataObject, field: str
) -> None:
    position = data.draw(st.integers(0, len(events) - 1))
    try:
        tampered = flipped(events[position], field)
    except EventInvalid:
        return  # the change is not even a well-formed event
    assert tampered != events[position]
    changed = [*events[:position], tampered, *events[position + 1 :]]
    with pytest.raises(ChainBroken) as caught:
        verify_chain(changed, after=GENESIS)
    assert caught.value.sequence in (events[position].sequence, tampered.sequence)


@chain_settings
@given(long_chains, st.data(), st.sampled_from(["type", "occurred_at", "subject", "data"]))
def test_rehashing_a_changed_event_breaks_the_next_link(
    events: list[Event], data: st.DataObject, field: str
) -> None:
    position = data.draw(st.integers(0, len(events) - 2))
    tampered = flipped(events[position], field)
    rehashed = dataclasses.replace(tampered, hash=tampered.computed_hash())
    changed = [*events[:position], rehashed, *events[position + 1 :]]
    with pytest.raises(ChainBroken, match=f"event {position + 2} does not link") as caught:
        verify_chain(changed, after=GENESIS)
    assert caught.value.sequence == position + 2


# --- order, gaps, forks, rollback --------------------------------------------------------------


@chain_settings
@given(long_chains, st.data())
def test_any_reordering_is_detected(events: list[Event], data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(events))))
    assume(list(order) != sorted(order))
    with pytest.raises((SequenceGap, Rollback)):
        verify_chain([events[i] for i in order], after=GENESIS)


@chain_settings
@given(long_chains, st.data())
def test_gaps_are_reported_with_the_missing_range(events: list[Event], data: st.DataObject) -> None:
    # Drop the events at indices first..last, keeping event 1 and at least one after the gap.
    first = data.draw(st.integers(1, len(events) - 2))
    last = data.draw(st.integers(first, len(events) - 2))
    with pytest.raises(SequenceGap) as caught:
        verify_chain(events[:first] + events[last + 1 :], after=GENESIS)
    assert (caught.value.first_missing, caught.value.last_missing) == (first + 1, last + 1)


def test_a_dropped_tail_is_only_visible_against_a_known_head() -> None:
    events = make_chain(5)
    # A log cut short is still a valid log; a receiver that knows a later head sees the gap.
    assert verify_chain(events[:3], after=GENESIS) == events[2].head
    with pytest.raises(Rollback):
        verify_chain(events[:3], after=events[4].head)


def test_gap_before_the_first_event() -> None:
    events = make_chain(6)
    with pytest.raises(SequenceGap, match="events 1 to 3 are missing"):
        verify_chain(events[3:], after=GENESIS)
    with pytest.raises(SequenceGap, match="event 5 is missing") as caught:
        verify_chain(events[5:], after=events[3].head)
    assert caught.value.sequence == 5


@chain_settings
@given(long_chains, st.data())
def test_a_second_branch_is_a_fork(events: list[Event], data: st.DataObject) -> None:
    position = data.draw(st.integers(1, len(events) - 1))
    # The node rewrites event `position + 1` (index `position`) and everything after it.
    branch = make_chain(
        len(events) - position, node_id=events[0].node_id, previous=events[position - 1]
    )
    assume(branch[0].hash != events[position].hash)
    # Both branches are valid logs on their own...
    assert verify_chain(events[:position] + branch, after=GENESIS)
    # ...but seen together, one sequence has two events.
    with pytest.raises(ForkDetected) as caught:
        verify_chain([*events, *branch], after=GENESIS)
    assert caught.value.sequence == branch[0].sequence
    assert {caught.value.known_hash, caught.value.reported_hash} == {
        events[position].hash,
        branch[0].hash,
    }
    assert caught.value.known == events[position]
    assert caught.value.reported == branch[0]


def test_a_report_that_continues_another_history_is_a_fork() -> None:
    accepted = make_chain(5)
    rewritten = make_chain(5, data={"rewritten": True})
    more = make_chain(2, previous=rewritten[-1])
    with pytest.raises(ForkDetected, match="fork at event 5") as caught:
        verify_chain(more, after=accepted[-1].head)
    assert caught.value.known_hash == accepted[-1].hash
    assert caught.value.reported_hash == rewritten[-1].hash
    # Re-sending the accepted head itself, changed, is the same fork seen directly.
    with pytest.raises(ForkDetected) as direct:
        verify_chain([rewritten[-1]], after=accepted[-1].head)
    assert direct.value.reported_hash == rewritten[-1].hash


def test_repeated_events_are_a_rollback() -> None:
    events = make_chain(5)
    with pytest.raises(Rollback, match="event 3 comes after event 5") as caught:
        verify_chain([*events, events[2]], after=GENESIS)
    assert (caught.value.sequence, caught.value.head) == (3, 5)
    with pytest.raises(Rollback):
        verify_chain(events[2:], after=events[4].head)
    with pytest.raises(Rollback):
        verify_chain(events[4:], after=events[4].head)


def test_events_of_two_nodes_do_not_chain() -> None:
    kenya, uganda = make_chain(2, node_id="KE"), make_chain(3, node_id="UG")
    with pytest.raises(ChainBroken, match="from node UG, the log is KE's"):
        verify_chain([*kenya, uganda[2]], after=GENESIS)


def test_empty_input_returns_the_anchor() -> None:
    assert verify_chain([], after=GENESIS) == GENESIS
    assert verify_chain([]) is None
    assert verify_chain(iter(make_chain(3))) == ChainHead(3, make_chain(3)[-1].hash)


def test_chain_errors_share_a_root() -> None:
    for error in (ChainBroken, SequenceGap, ForkDetected, Rollback):
        assert issubclass(error, ChainError)


# --- strict reading ----------------------------------------------------------------------------


def valid_json() -> dict[str, Any]:
    return make_chain(2)[1].to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, "not allowed: extra"),
        ({"sequence": True}, "sequence must be an integer"),
        ({"sequence": 2.0}, "sequence must be an integer"),
        ({"sequence": "2"}, "sequence must be an integer"),
        ({"sequence": 0}, "sequence must be an integer"),
        ({"sequence": 2**53}, "sequence must be an integer"),
        ({"nodeId": "ke"}, "nodeId must be"),
        ({"nodeId": 1}, "nodeId must be"),
        ({"type": "credential.exploded"}, "unknown event type"),
        ({"type": ["credential.issued"]}, "unknown event type"),
        ({"occurredAt": "2026-03-01T09:00:00+00:00"}, "occurredAt must be written"),
        ({"occurredAt": "2026-03-01T09:00:00.5Z"}, "occurredAt must be written"),
        ({"occurredAt": "2026-03-01 09:00:00Z"}, "occurredAt must be written"),
        ({"occurredAt": "2026-02-30T09:00:00Z"}, "not a date-time"),
        ({"occurredAt": 1767225600}, "occurredAt must be written"),
        ({"subject": []}, "must be JSON objects"),
        ({"subject": {"Locode": "KE-NBO"}}, "subject keys"),
        ({"subject": {"locode": True}}, "string or a JSON-safe integer"),
        ({"subject": {"locode": ""}}, "1 to 200 characters"),
        ({"subject": {"locode": "x" * 201}}, "1 to 200 characters"),
        ({"subject": {f"k{n}": n for n in range(17)}}, "at most 16 ids"),
        ({"data": [1]}, "must be JSON objects"),
        ({"data": {"big": 2**60}}, "cannot be canonicalised"),
        ({"data": {"blob": "x" * MAX_EVENT_BYTES}}, "over 16384"),
        ({"prevHash": "SHA256:" + "0" * 64}, "prevHash must be"),
        ({"hash": "sha256:" + "A" * 64}, "hash must be"),
        ({"hash": None}, "hash must be"),
        ({"prevHash": GENESIS_HASH}, "only event 1, follows the genesis hash"),
    ],
)
def test_from_json_refuses(change: dict[str, Any], message: str) -> None:
    with pytest.raises(EventInvalid, match=message):
        Event.from_json({**valid_json(), **change})


@pytest.mark.parametrize("member", ["sequence", "nodeId", "type", "occurredAt", "hash"])
def test_from_json_refuses_missing_members(member: str) -> None:
    value = valid_json()
    del value[member]
    with pytest.raises(EventInvalid, match=f"lacks {member}"):
        Event.from_json(value)


def test_from_json_refuses_a_non_object() -> None:
    with pytest.raises(EventInvalid, match="must be a JSON object"):
        Event.from_json([valid_json()])


def test_first_event_must_follow_genesis() -> None:
    value = make_chain(1)[0].to_json()
    with pytest.raises(EventInvalid, match="follows the genesis hash"):
        Event.from_json({**value, "prevHash": OTHER_HASH})


def test_constructor_refuses_sub_second_or_local_times() -> None:
    (event,) = make_chain(1)
    with pytest.raises(EventInvalid, match="to the second"):
        dataclasses.replace(event, occurred_at=T0.replace(microsecond=5))
    with pytest.raises(EventInvalid, match="in UTC"):
        dataclasses.replace(event, occurred_at=T0.replace(tzinfo=None))
    with pytest.raises(EventInvalid, match="aware datetime"):
        Event.create(
            None,
            node_id="KE",
            type=EventType.NODE_JOINED,
            occurred_at=datetime(2026, 1, 1),
            subject={},
            data={},
        )
