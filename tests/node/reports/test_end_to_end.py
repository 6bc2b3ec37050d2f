"""From submission through the review to the committee's decision, and what the city sees."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..certification import Desk, desk
from ..review.factories import (
    ReviewWorld,
    assign,
    consolidate,
    ok,
    review_fully,
    submitted_application,
)

__all__ = ["desk"]


def _world(desk: Desk) -> ReviewWorld:
    return ReviewWorld(
        framework_id=desk.framework_id,
        admin=desk.admin,
        nairobi=desk.nairobi,
        mombasa=desk.mombasa,
        reviewers=[desk.reviewer, *(desk.make_account(Role.REVIEWER) for _ in range(2))],
        secretariat=desk.secretariat,
        committee=desk.government,
    )


@pytest.mark.parametrize(
    ("votes", "state", "certified", "explanation"),
    [
        (("yes", "yes", "no"), "awarded", True, "Certified: the committee awarded stage "),
        (
            ("no", "no", "yes"),
            "declined",
            False,
            "Not certified: the committee declined the certificate on ",
        ),
    ],
)
def test_the_city_sees_the_committees_decision_on_a_reviewed_application(
    client: TestClient,
    desk: Desk,
    votes: tuple[str, str, str],
    state: str,
    certified: bool,
    explanation: str,
) -> None:
    world = _world(desk)
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id)
    ok(consolidate(client, world, application_id, "recommended"))

    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    # The committee reads the stage report behind the item.
    report = ok(client.get(f"/applications/{application_id}/report", headers=desk.academic.headers))
    assert report["document"]["recommendation"] == "recommended"
    decided = ok(desk.decided(item["id"], votes))

    outcome = ok(
        client.get(f"/applications/{application_id}/outcome", headers=desk.nairobi.headers)
    )
    assert outcome["state"] == state
    assert outcome["certified"] is certified
    assert outcome["explanation"].startswith(explanation)
    assert outcome["decision"]["outcome"] == state
    assert outcome["decision"]["meeting_id"] == meeting_id
    assert outcome["decision"]["certificate_id"] == decided["certificate_id"]
    assert outcome["gaps"] == []
    assert outcome["report"] == f"/applications/{application_id}/report"
    if certified:
        assert decided["certificate_id"] is not None
    else:
        assert decided["certificate_id"] is None
