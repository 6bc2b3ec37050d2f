"""The `desk` fixture (see `..certification`), a renewal window wide enough to renew at once,
and Nairobi's certificate awarded for a full self-assessment with evidence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sdgcities.node.applications.models import Application, ApplicationState, CriterionAnswer
from sdgcities.node.state import NodeState

from ..certification import Desk, desk
from ..review.factories import QUALIFICATION, ok, upload

INDICATOR = {"indicator": "pop.share", "value": 12.5, "unit": "%", "year": 2025}


@pytest.fixture
def node_state(desk: Desk) -> NodeState:
    state: NodeState = desk.client.app.state.node  # type: ignore[attr-defined]
    return state


@pytest.fixture
def wide_window(node_state: NodeState) -> Iterator[None]:
    """A renewal window longer than a certificate's three years: renewable from its award."""
    saved = node_state.settings
    node_state.settings = saved.model_copy(update={"renewal_window_days": 1200})
    yield
    node_state.settings = saved


def award(desk: Desk, application_id: int) -> dict[str, Any]:
    """The committee's award of a recommended application; the certificate's detail."""
    meeting_id = desk.meeting(title=f"Award of application {application_id}")
    item = desk.item_for(meeting_id, application_id=application_id)
    decided = desk.decided(item["id"])
    assert decided.status_code == 200, decided.text
    detail = desk.client.get(
        f"/certificates/{decided.json()['certificate_id']}", headers=desk.admin.headers
    )
    certificate: dict[str, Any] = ok(detail)
    return certificate


def recommend(desk: Desk, application_id: int) -> None:
    """The review's outcome, stored directly: the review is not this test's subject."""
    application = desk.session.get(Application, application_id)
    assert application is not None
    application.state = ApplicationState.RECOMMENDED
    desk.session.add(application)
    desk.session.commit()


def certified(desk: Desk) -> dict[str, Any]:
    """Nairobi's qualification certificate, awarded for answers with indicator values and one
    evidence file per criterion (and an answer to a criterion the framework no longer has)."""
    city = desk.nairobi
    body = {"stage": "qualification", "framework_version_id": desk.framework_id}
    application_id = int(
        ok(desk.client.post("/applications", headers=city.headers, json=body), 201)["id"]
    )
    for code in QUALIFICATION:
        ok(
            desk.client.put(
                f"/applications/{application_id}/criteria/{code}",
                headers=city.headers,
                json={"narrative": f"How Nairobi meets {code}.", "indicator_values": [INDICATOR]},
            )
        )
        upload(desk.client, city, application_id, code, f"{code}.pdf")
    ok(desk.client.post(f"/applications/{application_id}/submit", headers=city.headers))
    # An answer to a criterion a later framework version dropped.
    desk.session.add(
        CriterionAnswer(application_id=application_id, criterion_code="A.z", narrative="Gone.")
    )
    desk.session.commit()
    recommend(desk, application_id)
    return award(desk, application_id)


__all__ = ["Desk", "award", "certified", "desk", "recommend"]
