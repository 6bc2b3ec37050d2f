"""Learning communities across countries on the global node (§30c): proposals from what member
nodes report, for the cities that consent, each event trusted only from the node whose
jurisdiction holds the city."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sdgcities.federation import EventType
from sdgcities.node.accounts.models import Role

from ..conftest import Account
from ..federation_registry.conftest import make_log  # noqa: F401 - fixtures
from ..federation_registry.factories import MemberLog
from ..ingest.conftest import (  # noqa: F401 - fixtures
    backend,
    client,
    make_member,
    secretariat,
)

PROPOSALS = "/communities/federation/proposals"


def _report(log: MemberLog, locode: str, gaps: list[Any]) -> None:
    log.append(
        EventType.REPORT_GENERATED,
        {"locode": locode, "application": len(log.events) + 1},
        {
            "stage": "evidence-based-processes",
            "version": 1,
            "digest": "sha256:" + "0" * 64,
            "recommendation": "not_recommended",
            "gaps": gaps,
        },
    )


def _share(log: MemberLog, locode: str, share: bool) -> None:
    log.append(EventType.COMMUNITY_SHARING, {"locode": locode}, {"share": share})


def _proposed(http: TestClient, staff: Account) -> list[tuple[list[str], list[str]]]:
    response = http.get(PROPOSALS, headers=staff.headers)
    assert response.status_code == 200, response.text
    return [
        ([gap["code"] for gap in p["gaps"]], [city["locode"] for city in p["cities"]])
        for p in response.json()["data"]
    ]


def test_consenting_cities_of_two_countries_are_proposed(
    client: TestClient,  # noqa: F811 - the fixture
    make_log: Any,  # noqa: F811 - the fixture
    secretariat: Account,  # noqa: F811 - the fixture
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    _report(kenya, "KE-MBA", ["B.a", "B.c"])
    _share(kenya, "KE-MBA", True)
    _report(kenya, "KE-KIS", ["B.c"])  # no consent: left out
    _report(ghana, "GH-ACC", ["B.c"])
    _share(ghana, "GH-ACC", True)
    # Ghana's node reporting (and consenting for) a Kenyan city is not trusted.
    _report(ghana, "KE-NBO", ["B.c"])
    _share(ghana, "KE-NBO", True)
    # Malformed gaps are not read.
    _report(ghana, "GH-KMS", ["B.c", {"code": "x"}])
    _share(ghana, "GH-KMS", True)
    kenya.send()
    ghana.send()
    assert _proposed(client, secretariat) == [(["B.c"], ["GH-ACC", "KE-MBA"])]

    # Withdrawn consent, or a later report without the gap, ends the proposal.
    _share(kenya, "KE-MBA", False)
    kenya.send()
    assert _proposed(client, secretariat) == []
    _share(kenya, "KE-MBA", True)
    kenya.send()
    assert _proposed(client, secretariat) == [(["B.c"], ["GH-ACC", "KE-MBA"])]
    _report(ghana, "GH-ACC", [])
    ghana.send()
    assert _proposed(client, secretariat) == []


def test_only_the_secretariat_reads_them(
    client: TestClient,  # noqa: F811 - the fixture
    secretariat: Account,  # noqa: F811 - the fixture
    make_account: Any,
) -> None:
    assert client.get(PROPOSALS).status_code == 401
    reviewer = make_account(Role.REVIEWER)
    assert client.get(PROPOSALS, headers=reviewer.headers).status_code == 403
    assert _proposed(client, secretariat) == []  # nothing reported yet


def test_an_event_whose_data_does_not_fit_its_model_is_passed_over(
    client: TestClient,  # noqa: F811 - the fixture
    make_log: Any,  # noqa: F811 - the fixture
    secretariat: Account,  # noqa: F811 - the fixture
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    _report(kenya, "KE-MBA", ["B.c"])
    _share(kenya, "KE-MBA", True)
    _report(ghana, "GH-ACC", ["B.c"])
    _share(ghana, "GH-ACC", True)
    kenya.send()
    ghana.send()
    proposed = [(["B.c"], ["GH-ACC", "KE-MBA"])]
    assert _proposed(client, secretariat) == proposed

    # A later report with gaps but not the rest of `ReportGenerated` is not read: the last
    # readable report stands.
    kenya.append(EventType.REPORT_GENERATED, {"locode": "KE-MBA", "application": 9}, {"gaps": []})
    kenya.send()
    assert _proposed(client, secretariat) == proposed
    # Nor is a consent that is not true or false.
    ghana.append(EventType.COMMUNITY_SHARING, {"locode": "GH-ACC"}, {"share": "no"})
    ghana.send()
    assert _proposed(client, secretariat) == proposed
