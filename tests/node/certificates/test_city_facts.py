"""`credential.issued` carries the city's public fields the token does not (for the global
registry), and never grows past the federation's event cap because of them."""

from __future__ import annotations

from sdgcities.federation import Event, EventType
from sdgcities.federation.event_data import CredentialIssued, DecisionRef
from sdgcities.node.certificates.service import _with_city_facts
from sdgcities.node.cities.models import City
from sdgcities.node.timeutil import utcnow

from .conftest import Desk


def test_the_issue_event_carries_the_citys_public_fields(desk: Desk) -> None:
    city = desk.session.get(City, "KE-NBO")
    assert city is not None
    city.region, city.population = "Nairobi County", 4_397_073
    city.priorities, city.languages = ["Housing", "Clean water"], ["sw"]
    desk.session.add(city)
    desk.session.commit()
    desk.award("KE-NBO")
    (issued,) = desk.events("credential.issued")
    assert issued.data["city"] == {
        "region": "Nairobi County",
        "population": 4_397_073,
        "priorities": ["Housing", "Clean water"],
    }


def test_priorities_are_trimmed_to_keep_the_event_under_the_cap() -> None:
    city = City(locode="CN-SHA", country="CN", name="上海" * 100, priorities=["城市" * 50] * 30)
    data = _with_city_facts(
        CredentialIssued(jwt="x" * 9000, decision=DecisionRef(meeting="1", item=1)), city
    )
    assert data.city is not None
    kept = data.city.priorities
    assert 0 < len(kept) < 30
    Event.create(  # would raise EventInvalid past the cap
        None,
        node_id="CN",
        type=EventType.CREDENTIAL_ISSUED,
        occurred_at=utcnow(),
        subject={"locode": "CN-SHA", "credential": "urn:uuid:" + "0" * 36},
        data=data.to_data(),
    )
