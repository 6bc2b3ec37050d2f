"""The typed event data: each model writes exactly the JSON the hash covers and reads it back."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from sdgcities.federation import GENESIS, ChainHead, Event, EventType, verify_chain
from sdgcities.federation.event_data import (
    EVENT_DATA,
    ApplicationChanged,
    AssistanceClosed,
    AssistanceRequested,
    CityFacts,
    CommunityConsent,
    CredentialIssued,
    CredentialStatusChanged,
    DecisionRecorded,
    DecisionRef,
    EventData,
    EventDataInvalid,
    FrameworkKey,
    LogHead,
    MeetingHeld,
    QuorumCounts,
    ReportGenerated,
    ReviewCompleted,
    SharingConsent,
    SpotcheckResult,
    SpotcheckSelected,
    Votes,
    read_data,
)

from .factories import make_chain

# A log written before the models, by the bench's copy of each workflow's shapes.
STORED_LOG = Path(__file__).parent / "data" / "log-before-typed-data.json"
FRAMEWORK = FrameworkKey(id="sdgcities-baseline", version="1.0.0", digest="sha256:" + "0" * 64)
QUORUM = QuorumCounts(
    sitting=7,
    attending=5,
    required=4,
    non_government_attending=2,
    required_non_government=1,
    recused=0,
    met=True,
)
EXAMPLES: list[EventData] = [
    ApplicationChanged(stage="qualification"),
    ReviewCompleted(
        stage="qualification",
        level="bronze",
        framework=FRAMEWORK,
        recommendation="recommended",
        verdicts={"met": 3, "partly_met": 1, "not_met": 0},
        reviewers=2,
    ),
    ReportGenerated(
        stage="qualification",
        version=1,
        digest="sha256:" + "1" * 64,
        recommendation="recommended",
        gaps=("A.b",),
    ),
    MeetingHeld(
        title="March",
        opened_at="2026-03-01T09:00:00Z",
        closed_at="2026-03-01T11:00:00Z",
        attending=5,
        items=2,
        outcomes={"approved": 2, "rejected": 0},
    ),
    DecisionRecorded(
        kind="award", outcome="approved", quorum=QUORUM, votes=Votes(4, 0, 1), stage="impact"
    ),
    DecisionRecorded(kind="endorsement", outcome="rejected", framework="x", version="2"),
    CredentialIssued(
        jwt="a.b.c",
        id="urn:uuid:1",
        stage="qualification",
        level="bronze",
        framework=FRAMEWORK,
        valid_from="2026-03-01T00:00:00Z",
        valid_until="2029-03-01T00:00:00Z",
        decision=DecisionRef(meeting="meeting 1: March", item=3),
        renews="urn:uuid:0",
        city=CityFacts(region="", population=None, priorities=("Housing",)),
    ),
    CredentialStatusChanged(
        id="urn:uuid:1", status="revoked", reason="spot-check", decision=DecisionRef("m", 4)
    ),
    SpotcheckSelected(
        document="sha256:" + "2" * 64,
        log_head=LogHead(sequence=9, hash="sha256:" + "3" * 64),
        rate=0.05,
        candidates=40,
        selected=2,
    ),
    SpotcheckResult(outcome="confirmed", criteria=()),
    SpotcheckResult(
        outcome="not_confirmed", criteria=("B.c",), by="global", suspension_proposed=True
    ),
    AssistanceRequested(
        criterion="B.c",
        national=False,
        stage="evidence-based-processes",
        kind="advice",
        framework=FrameworkKey(id="sdgcities-baseline", version="1"),
    ),
    AssistanceClosed(closure="resolved"),
    SharingConsent(share=False),
    CommunityConsent(community=12, answer="joined"),
]


def thawed(value: Any) -> Any:
    if isinstance(value, MappingProxyType | dict):
        return {key: thawed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thawed(item) for item in value]
    return value


def test_a_log_stored_before_the_models_verifies_and_reads_back_unchanged() -> None:
    events = [Event.from_json(member) for member in json.loads(STORED_LOG.read_text())]
    assert verify_chain(events, after=GENESIS) == events[-1].head
    assert len({event.type for event in events}) == 7
    for event in events:
        data = read_data(event)
        assert data.to_data() == thawed(event.data), event.type
        # Rebuilt from its model, the event hashes as it was stored.
        rebuilt = Event.following(
            ChainHead(event.sequence - 1, event.prev_hash),
            node_id=event.node_id,
            type=event.type,
            occurred_at=event.occurred_at,
            subject=event.subject,
            data=data.to_data(),
        )
        assert rebuilt.hash == event.hash


@pytest.mark.parametrize("model", EXAMPLES, ids=lambda model: type(model).__name__)
def test_every_model_reads_back_what_it_writes(model: EventData) -> None:
    written = model.to_data()
    assert json.loads(json.dumps(written)) == written  # plain JSON, camelCase
    assert all("_" not in key for key in written if key not in ("partly_met", "not_met"))
    assert type(model).from_data(written) == model
    (event,) = make_chain(1, type=next(iter(model.TYPES)), data=written)
    assert read_data(event) == model


def test_every_type_a_node_writes_has_one_model() -> None:
    unwritten = {
        EventType.FRAMEWORK_ADAPTED,
        EventType.FRAMEWORK_ENDORSED,
        EventType.KEY_ROTATED,
        EventType.NODE_JOINED,
    }
    assert set(EVENT_DATA) == set(EventType) - unwritten
    assert {type(model) for model in EXAMPLES} == set(EVENT_DATA.values())
    (joined,) = make_chain(1, type=EventType.NODE_JOINED, data={})
    with pytest.raises(EventDataInvalid, match=r"no node writes node\.joined events yet"):
        read_data(joined)


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (
            {"criterion": "B.c", "national": False, "stage": "x", "kind": "advice"},
            ["it lacks framework"],
        ),
        (
            {
                "criterion": "B.c",
                "national": "no",
                "stage": 3,
                "kind": "advice",
                "framework": {"id": "a", "version": "1"},
                "message": "call Jane",
            },
            ["not message", "data.national is not true or false", "data.stage is not a string"],
        ),
        (
            {
                "criterion": "B.c",
                "national": True,
                "stage": "x",
                "kind": "advice",
                "framework": {"id": "a"},
            },
            ["data.framework is not {id, version, digest}"],
        ),
        ([], ["data is not a JSON object"]),
    ],
)
def test_strict_models_name_every_problem(data: Any, problems: list[str]) -> None:
    with pytest.raises(EventDataInvalid) as raised:
        AssistanceRequested.from_data(data)
    for problem in problems:
        assert problem in str(raised.value)
    assert len(raised.value.problems) >= 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"outcome": "x", "criteria": "B.c"}, "data.criteria is not a list of strings"),
        ({"outcome": "x", "criteria": [1]}, "data.criteria is not a list of strings"),
        ({"outcome": "x", "criteria": [], "suspensionProposed": 1}, "is not true or false"),
        ({"outcome": "x"}, "it lacks criteria"),
    ],
)
def test_optional_members_of_strict_models(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(EventDataInvalid, match=problem):
        SpotcheckResult.from_data(data)


def test_counts_are_whole_json_safe_numbers() -> None:
    for count in (True, -1, 2**53, 1.0, "3"):
        with pytest.raises(EventDataInvalid, match=r"data\.reviewers is not a whole number"):
            ReviewCompleted.from_data({**EXAMPLES[1].to_data(), "reviewers": count})
    with pytest.raises(EventDataInvalid, match=r"data\.verdicts is not an object of whole numbers"):
        ReviewCompleted.from_data({**EXAMPLES[1].to_data(), "verdicts": {"met": "3"}})
    with pytest.raises(EventDataInvalid, match=r"data\.rate is not a number"):
        SpotcheckSelected.from_data({**EXAMPLES[8].to_data(), "rate": True})


def test_lenient_models_read_what_is_unreadable_as_missing() -> None:
    read = DecisionRecorded.from_data(
        {"kind": 3, "outcome": "approved", "quorum": {"met": True}, "votes": [], "extra": 1}
    )
    assert read == DecisionRecorded(outcome="approved")
    assert CredentialIssued.from_data({"jwt": 5, "decision": {"item": "x"}}) == CredentialIssued(
        decision=DecisionRef()
    )
    with pytest.raises(EventDataInvalid, match="data is not a JSON object"):
        CredentialIssued.from_data("a.b.c")


def test_a_renewal_link_that_is_not_a_string_names_no_certificate() -> None:
    # Not "renews nothing": the projection refuses the link (and lists the certificate).
    assert CredentialIssued.from_data({"renews": 5}).renews == ""
    assert CredentialIssued.from_data({"renews": None}).renews is None


def test_quorum_counts_need_the_three_the_rule_reads() -> None:
    with pytest.raises(EventDataInvalid, match="the quorum counts are missing"):
        QuorumCounts.from_data({"sitting": 3, "attending": 3})
    assert QuorumCounts.from_data(
        {"sitting": 3, "attending": 3, "nonGovernmentAttending": 1}
    ) == QuorumCounts(sitting=3, attending=3, non_government_attending=1)


def test_city_facts_keep_what_the_registry_can_show() -> None:
    facts = CityFacts.from_data(
        {"region": "x" * 201, "population": -1, "priorities": ["Housing", "", 3, "y" * 101]}
    )
    assert facts == CityFacts(region="", population=None, priorities=("Housing",))
    assert CityFacts.from_data("nothing") == CityFacts()
    assert CityFacts.from_data({"priorities": "Housing"}).priorities == ()
    many = CityFacts.from_data({"priorities": [f"p{n}" for n in range(40)]})
    assert len(many.priorities) == 30
    assert CityFacts().to_data() == {"region": "", "population": None, "priorities": []}
