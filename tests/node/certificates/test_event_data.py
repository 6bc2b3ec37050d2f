"""What the certification workflows write to the log is exactly their models' JSON."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from sqlmodel import Session

from sdgcities.federation import EventInvalid, EventType
from sdgcities.federation.event_data import ApplicationChanged, read_data
from sdgcities.node.events.service import append_event, log_head

from ..certification import Desk


def thawed(value: Any) -> Any:
    if isinstance(value, MappingProxyType | dict):
        return {key: thawed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thawed(item) for item in value]
    return value


def test_each_workflows_event_is_its_models_round_trip(desk: Desk) -> None:
    certificate = desk.award()
    for kind in ("suspension", "reinstatement", "revocation"):
        decided = desk.carry(certificate["id"], kind)
        assert decided.status_code == 200, decided.text
    meeting_id = desk.meeting(title="Closing")
    closed = desk.client.post(
        f"/committee/meetings/{meeting_id}/close", headers=desk.secretariat.headers
    )
    assert closed.status_code == 200, closed.text
    events = [record.to_event() for record in desk.events()]
    assert {
        EventType.MEETING_HELD,
        EventType.DECISION_RECORDED,
        EventType.CREDENTIAL_ISSUED,
        EventType.CREDENTIAL_SUSPENDED,
        EventType.CREDENTIAL_REINSTATED,
        EventType.CREDENTIAL_REVOKED,
    } <= {event.type for event in events}
    for event in events:
        assert read_data(event).to_data() == thawed(event.data), event.type


def test_an_event_is_appended_with_its_types_model_only(session: Session) -> None:
    before = log_head(session=session)
    with pytest.raises(EventInvalid, match="ApplicationChanged is not the data of"):
        append_event(
            session=session,
            node_id="KE",
            type=EventType.CREDENTIAL_ISSUED,
            subject={"locode": "KE-NBO"},
            data=ApplicationChanged(stage="qualification"),
        )
    assert log_head(session=session) == before
