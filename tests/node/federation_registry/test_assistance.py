"""Technical assistance across the federation (report §37, issue 16): nodes report their
cities' requests by gap, the global node keeps those it may trust and counts them by gap.

The attacker holds a real member key: every refusal below is an event the member signed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.federation import EventType
from sdgcities.node.accounts.models import Role
from sdgcities.node.federation_registry.models import (
    FederationAnomaly,
    FederationAssistanceRequest,
)

from ..conftest import Account, Backend, MakeAccount, MakeCity
from .conftest import MakeLog
from .test_jurisdiction import own_log, relay

PATH = "/federation/assistance"


def gaps(client: TestClient, reader: Account, **query: str) -> dict[str, Any]:
    response = client.get(PATH, headers=reader.headers, params=query)
    assert response.status_code == 200, response.text
    return dict(response.json())


def refusals(session: Session) -> list[tuple[str, str]]:
    return [
        (anomaly.node_id, anomaly.detail)
        for anomaly in session.exec(
            select(FederationAnomaly).where(FederationAnomaly.kind == "invalid_assistance")
        ).all()
    ]


def projected(session: Session) -> set[tuple[str, int]]:
    rows = session.exec(select(FederationAssistanceRequest)).all()
    return {(row.node_id, row.request) for row in rows}


def test_requests_are_counted_by_gap_across_countries_and_national_gaps_within_theirs(
    client: TestClient, make_log: MakeLog, session: Session, secretariat: Account
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    kenya.ask(1, "KE-NBO", criterion="B.c")
    kenya.ask(2, "KE-MBA", criterion="B.c", kind="tool")
    kenya.ask(3, "KE-NBO", criterion="B.KE1", national=True, framework={"id": "ke", "version": "2"})
    kenya.close(1, "KE-NBO", "resolved")
    kenya.send()
    ghana.ask(1, "GH-ACC", criterion="B.c")
    ghana.ask(2, "GH-ACC", criterion="A.a", stage="qualification")
    ghana.send()
    ghana.close(2, "GH-ACC", "declined")  # a later report closes a request already held
    ghana.send()

    answer = gaps(client, secretariat)
    assert answer["requests"] == 5
    rows = {(row["criterion"], row["country"]): row for row in answer["data"]}
    assert next(iter(rows)) == ("B.c", None)  # the most asked-about first
    assert rows[("B.c", None)] == {
        "criterion": "B.c",
        "stage": "evidence-based-processes",
        "national": False,
        "country": None,
        "requests": 3,
        "open": 2,
        "resolved": 1,
        "declined": 0,
        "countries": 2,
        "cities": 3,
    }
    assert rows[("A.a", None)]["declined"] == 1
    assert rows[("B.KE1", "KE")]["national"] is True
    assert (rows[("B.KE1", "KE")]["countries"], rows[("B.KE1", "KE")]["cities"]) == (1, 1)
    assert [
        row["criterion"] for row in gaps(client, secretariat, stage="qualification")["data"]
    ] == ["A.a"]
    assert refusals(session) == []
    # Nothing of a person or of what the city wrote is held.
    row = session.exec(select(FederationAssistanceRequest)).first()
    assert row is not None
    assert set(row.model_dump()) == {
        "node_id",
        "request",
        "locode",
        "country",
        "criterion",
        "national",
        "stage",
        "kind",
        "framework_id",
        "framework_version",
        "requested_at",
        "closure",
        "closed_at",
        "sequence",
    }


def test_a_member_reports_only_its_own_countrys_cities(
    client: TestClient, make_log: MakeLog, session: Session, secretariat: Account
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    ghana.ask(1, "GH-ACC")
    ghana.send()
    # Kenya's real key signs a request for a Ghanaian city, and a closure of Ghana's request.
    kenya.ask(1, "GH-ACC")
    kenya.close(1, "GH-ACC")
    kenya.send()

    assert projected(session) == {("GH", 1)}
    found = refusals(session)
    assert [node for node, _ in found] == ["KE", "KE"]
    assert "GH-ACC is not in node KE's jurisdiction" in found[0][1]
    assert "request 1 was not reported" in found[1][1]
    assert gaps(client, secretariat)["data"][0]["open"] == 1  # Ghana's request stays open


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"message": "Please call Jane on +254 700 000000"}, "not message"),
        ({"criterion": "B.KE1"}, "no global framework has it"),
        ({"criterion": "b c"}, "not a criterion code"),
        ({"stage": "qualification"}, "not the stage of criterion B.c"),
        ({"stage": {"nested": "object"}}, "data.stage is not a string"),
        ({"national": "no"}, "not true or false"),
        ({"kind": "money"}, "not advice, consultation or tool"),
        ({"kind": ["advice"]}, "data.kind is not a string"),
        ({"framework": {"id": "x" * 65, "version": "1"}}, "data.framework"),
        ({"framework": "sdgcities-baseline"}, "data.framework"),
        ({"locode": "nairobi"}, "not a UN/LOCODE"),
        ({"request": -1}, "subject.request is not a whole number"),
        ({"request": "12"}, "subject.request is not a whole number"),
        ({"request": 2**40}, "subject.request is not a whole number"),
    ],
)
def test_every_field_is_checked(
    make_log: MakeLog, session: Session, change: dict[str, Any], reason: str
) -> None:
    kenya = make_log("KE")
    data = dict(change)
    subject = {key: data.pop(key) for key in ("locode", "request") if key in data}
    kenya.ask(subject.get("request", 1), subject.get("locode", "KE-NBO"), **data)
    kenya.send()

    assert projected(session) == set()
    ((node, detail),) = refusals(session)
    assert node == "KE"
    assert reason in detail


def test_a_request_is_reported_once_and_closed_once(
    make_log: MakeLog, session: Session, client: TestClient, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kenya.ask(1)
    kenya.ask(1, criterion="A.a", stage="qualification")
    kenya.close(1)
    kenya.close(1, closure="declined")
    kenya.close(2)
    kenya.close(1, locode="KE-MBA")
    kenya.send()
    kenya.close(1, closure="resolved")
    kenya.ask(1)
    kenya.send()

    details = [detail for _, detail in refusals(session)]
    assert len(details) == 6
    assert "request 1 was reported already" in details[0]
    assert "request 1 was closed already (resolved)" in details[1]
    assert "request 2 was not reported" in details[2]
    assert "request 1 was asked for KE-NBO" in details[3]
    assert "request 1 was closed already (resolved)" in details[4]
    assert "request 1 was reported already" in details[5]
    (row,) = gaps(client, secretariat)["data"]
    assert (row["criterion"], row["requests"], row["resolved"]) == ("B.c", 1, 1)


def test_the_subject_names_the_city_and_the_request_only(
    make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    kenya.append(
        EventType.ASSISTANCE_REQUESTED,
        {"locode": "KE-NBO", "request": 1, "asker": "jane.doe"},
        {
            "criterion": "B.c",
            "national": False,
            "stage": "evidence-based-processes",
            "kind": "advice",
            "framework": {"id": "sdgcities-baseline", "version": "1"},
        },
    )
    kenya.send()
    ((_, detail),) = refusals(session)
    assert "subject must hold exactly locode and request" in detail
    assert projected(session) == set()


def test_a_bad_closure_is_refused(make_log: MakeLog, session: Session) -> None:
    kenya = make_log("KE")
    kenya.ask(1)
    kenya.close(1, closure="forgotten")
    kenya.send()
    ((_, detail),) = refusals(session)
    assert "not resolved or declined" in detail
    row = session.exec(select(FederationAssistanceRequest)).one()
    assert row.closure is None


def test_who_may_read_the_federation_view(
    client: TestClient, make_account: MakeAccount, make_city: MakeCity, secretariat: Account
) -> None:
    make_city("KE-NBO", "Nairobi")
    assert client.get(PATH).status_code == 401
    for role in (Role.COMMITTEE_MEMBER, Role.ADMINISTRATOR):
        assert client.get(PATH, headers=make_account(role).headers).status_code == 200
    for role in (Role.REVIEWER, Role.CITY_APPLICANT):
        account = make_account(role, city_locode="KE-NBO" if role is Role.CITY_APPLICANT else None)
        assert client.get(PATH, headers=account.headers).status_code == 403
    bad = client.get(PATH, headers=secretariat.headers, params={"stage": "gold"})
    assert bad.status_code == 422
    assert gaps(client, secretariat) == {"data": [], "requests": 0}


def test_the_global_nodes_own_cities_count_and_a_member_countrys_do_not(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend, secretariat: Account
) -> None:
    """The global mechanism's requests arrive through its local ingest like a member's; once a
    country's node has joined, the global node no longer reports for that country's cities."""
    make_log("KE")
    own = own_log(client, backend)
    own.ask(1, "UG-KLA")
    own.ask(2, "KE-NBO")
    relay(own, session=session, backend=backend)

    assert projected(session) == {("global", 1)}
    ((node, detail),) = refusals(session)
    assert (node, "KE-NBO is not in node global's jurisdiction" in detail) == ("global", True)
    (gap,) = gaps(client, secretariat)["data"]
    assert (gap["criterion"], gap["cities"]) == ("B.c", 1)
