"""The global mechanism end to end (§26b): a city of a country with no national node registers
with the global node, applies under the global baseline, is reviewed by the technical team of
its UN language, and the global committee (its year planned by the secretariat) awards the
certificate, which the global node issues and an investor verifies against the trust list.

Everything goes through the HTTP API, as the people involved take it; the steps shared with the
national workflow are those of `tests/node/test_end_to_end.py`.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import TrustList
from sdgcities.federation import GENESIS, verify_chain

from ..conftest import ROOT_KEY, Account, Backend
from ..federation_registry.factories import relay_own_log
from ..framework_versions import sign_endorsement
from ..test_end_to_end import (
    People,
    apply_for_stage,
    assert_verifies_as,
    enrol,
    federation_log,
    investor_verdict,
    ok,
    review_and_recommend,
)
from .conftest import JoinNode

LOCODE = "BO-LPB"


def endorse_the_baseline(client: TestClient, admin: Account, backend: Backend) -> int:
    """The global node certifies under the baseline, endorsed for itself by the root key."""
    (baseline,) = ok(client.get("/frameworks", params={"framework_id": "sdgcities-baseline"}))[
        "data"
    ]
    token = sign_endorsement(
        framework_id=baseline["framework_id"],
        version=baseline["version"],
        digest=baseline["digest"],
        node_id=backend.settings.node_id,
        key=ROOT_KEY,
    )
    endorsed = ok(
        client.put(
            f"/frameworks/{baseline['id']}/endorsement",
            headers=admin.headers,
            json={"jws": token},
        )
    )
    assert endorsed["usable_for_certification"] is True
    baseline_id: int = baseline["id"]
    return baseline_id


def staff_the_global_node(client: TestClient, admin: Account) -> tuple[People, Account]:
    """Two reviewers of the Spanish team, a committee of three (one rotating off this quarter)
    and the secretariat; and a reviewer of the French team, for the refusal."""
    today = date.today()

    def member(category: str, term_end: date) -> Account:
        return enrol(
            client,
            admin,
            "committee_member",
            email=f"{category}@global.example.org",
            stakeholder_category=category,
            term_start=(today - timedelta(days=400)).isoformat(),
            term_end=term_end.isoformat(),
        )

    people = People(
        admin=admin,
        lead=enrol(client, admin, "reviewer", email="lead@global.example.org", languages=["es"]),
        reviewer=enrol(
            client, admin, "reviewer", email="second@global.example.org", languages=["pt", "es"]
        ),
        secretariat=enrol(client, admin, "secretariat", email="secretariat@global.example.org"),
        members=[
            member("government", today + timedelta(days=700)),
            member("civil_society", today + timedelta(days=30)),
            member("academia", today + timedelta(days=700)),
        ],
        city=enrol(client, admin, "city_applicant", email="lapaz@example.org", city_locode=LOCODE),
    )
    french = enrol(client, admin, "reviewer", email="french@global.example.org", languages=["fr"])
    return people, french


def test_the_global_node_certifies_a_city_of_a_country_without_a_national_node(
    client: TestClient, backend: Backend, admin: Account, join_node: JoinNode, session: Session
) -> None:
    baseline_id = endorse_the_baseline(client, admin, backend)
    join_node("KE")  # Kenya has a national node; Bolivia has none.

    referred = client.post(
        "/cities", headers=admin.headers, json={"locode": "KE-NBO", "name": "Nairobi"}
    )
    assert referred.status_code == 409
    assert referred.json()["referral"]["base_url"] == "https://ke.example.org"
    city = ok(
        client.post(
            "/cities",
            headers=admin.headers,
            json={"locode": LOCODE, "name": "La Paz", "languages": ["es", "qu", "ay"]},
        ),
        201,
    )
    assert city["country"] == "BO"
    people, french = staff_the_global_node(client, admin)
    secretariat = people.secretariat.headers

    # The city applies; the application is routed to the Spanish team.
    application_id, evidence = apply_for_stage(client, people.city, baseline_id, "qualification")
    assert (
        ok(client.get(f"/applications/{application_id}", headers=secretariat))["language"] == "es"
    )
    spanish_queue = ok(client.get("/applications", params={"team": "es"}, headers=secretariat))
    assert [a["id"] for a in spanish_queue["data"]] == [application_id]
    candidates = ok(
        client.get(f"/applications/{application_id}/reviewers/candidates", headers=secretariat)
    )
    assert candidates["team"] == "es"
    assert {c["id"] for c in candidates["data"]} == {people.lead.user_id, people.reviewer.user_id}
    wrong_team = client.post(
        f"/applications/{application_id}/reviewers",
        headers=admin.headers,
        json={
            "reviewer_ids": [people.lead.user_id, french.user_id],
            "lead_id": people.lead.user_id,
        },
    )
    assert wrong_team.status_code == 409
    assert "routed to the es technical team" in wrong_team.json()["detail"]

    # The Spanish team reviews and recommends; the stage report follows.
    review_and_recommend(client, people, application_id, evidence)
    report = ok(client.get(f"/applications/{application_id}/report", headers=secretariat))
    assert report["document"]["recommendation"] == "recommended"
    assert report["document"]["city"]["locode"] == LOCODE

    # The secretariat plans next year's four meetings and sees who rotates off before them.
    plan = ok(
        client.post(
            "/committee/meetings/plan", headers=secretariat, json={"year": date.today().year + 1}
        ),
        201,
    )
    assert [m["title"][-2:] for m in plan["data"]] == ["Q1", "Q2", "Q3", "Q4"]
    rotation = ok(client.get("/committee/members", headers=secretariat))["rotation"]
    assert [m["id"] for m in rotation["leaving"]] == [people.members[1].user_id]

    # The global committee sits (its first planned meeting, brought forward) and awards.
    meeting_id = plan["data"][0]["id"]
    for member in people.members:
        ok(
            client.post(
                f"/committee/meetings/{meeting_id}/attendance",
                headers=secretariat,
                json={"member_id": member.user_id},
            ),
            201,
        )
    ok(client.post(f"/committee/meetings/{meeting_id}/open", headers=secretariat))
    agenda = ok(
        client.post(f"/committee/meetings/{meeting_id}/agenda/generate", headers=secretariat)
    )["agenda"]
    (item,) = (i for i in agenda if i["application_id"] == application_id)
    for member in people.members:
        ok(
            client.post(
                f"/committee/items/{item['id']}/votes",
                headers=member.headers,
                json={"choice": "yes"},
            ),
            201,
        )
    decided = ok(client.post(f"/committee/items/{item['id']}/decide", headers=secretariat))
    assert decided["outcome"] == "approved"
    ok(client.post(f"/committee/meetings/{meeting_id}/close", headers=secretariat))

    # The secretariat's meeting report.
    meeting_report = ok(client.get(f"/committee/meetings/{meeting_id}/report", headers=secretariat))
    assert meeting_report["node"] == "SDG Cities global node"
    assert meeting_report["committee"] == "SDG Cities global node committee"
    assert meeting_report["outcomes"]["approved"] == 1
    (reported,) = meeting_report["items"]
    assert (reported["city_locode"], reported["language"]) == (LOCODE, "es")
    page = client.get(f"/committee/meetings/{meeting_id}/report.html", headers=secretariat)
    assert page.status_code == 200, page.text
    assert f"La Paz ({LOCODE}), Qualification (candidate city)" in page.text
    assert ", reviewed in Spanish." in page.text

    # The certificate: issued by the global node, under the baseline, valid for an investor.
    certificate = ok(
        client.get(f"/certificates/{decided['certificate_id']}", headers=admin.headers)
    )
    assert (certificate["city_locode"], certificate["level"]) == (LOCODE, "silver")
    listed = client.get("/federation/trust-list")
    assert listed.status_code == 200, listed.text
    trust_list = TrustList.from_jws(listed.text, pinned_thumbprints=[ROOT_KEY.kid])
    assert_verifies_as(client, backend, trust_list, certificate["token"], "valid")
    credential = investor_verdict(client, backend, trust_list, certificate["token"]).credential
    assert credential is not None
    assert credential["issuer"]["id"] == backend.settings.did
    subject = credential["credentialSubject"]
    assert subject["city"] == {"locode": LOCODE, "name": "La Paz", "country": "BO"}
    assert subject["framework"]["id"] == "sdgcities-baseline"
    assert subject["decision"]["committee"] == "SDG Cities global node committee"

    # The application is awarded, the registry lists the city, and the log carries the issue.
    awarded = ok(client.get(f"/applications/{application_id}", headers=people.city.headers))
    assert awarded["state"] == "awarded"
    # The global registry lists what reached the federation store: its relay's next round.
    relay_own_log(session=session, state=backend.app.state.node)
    registry = ok(client.get("/registry/cities", params={"country": "BO"}))
    assert [c["locode"] for c in registry["data"]] == [LOCODE]
    events = federation_log(client)
    assert verify_chain(events, after=GENESIS) is not None
    assert ("credential.issued", LOCODE) in {(e.type, e.subject.get("locode")) for e in events}


def test_the_global_node_does_not_award_a_city_whose_country_joined_meanwhile(
    client: TestClient, backend: Backend, admin: Account, join_node: JoinNode
) -> None:
    baseline_id = endorse_the_baseline(client, admin, backend)
    ok(
        client.post(
            "/cities",
            headers=admin.headers,
            json={"locode": LOCODE, "name": "La Paz", "languages": ["es"]},
        ),
        201,
    )
    people, _ = staff_the_global_node(client, admin)
    secretariat = people.secretariat.headers
    application_id, evidence = apply_for_stage(client, people.city, baseline_id, "qualification")
    review_and_recommend(client, people, application_id, evidence)
    # Bolivia's national node joins while the application waits for the committee.
    join_node("BO")

    meeting = ok(
        client.post(
            "/committee/meetings",
            headers=secretariat,
            json={"title": "Extra meeting", "scheduled_for": "2030-01-15T12:00:00+00:00"},
        ),
        201,
    )
    for member in people.members:
        ok(
            client.post(
                f"/committee/meetings/{meeting['id']}/attendance",
                headers=secretariat,
                json={"member_id": member.user_id},
            ),
            201,
        )
    ok(client.post(f"/committee/meetings/{meeting['id']}/open", headers=secretariat))
    agenda = ok(
        client.post(f"/committee/meetings/{meeting['id']}/agenda/generate", headers=secretariat)
    )["agenda"]
    (item,) = (i for i in agenda if i["application_id"] == application_id)
    for member in people.members:
        ok(
            client.post(
                f"/committee/items/{item['id']}/votes",
                headers=member.headers,
                json={"choice": "yes"},
            ),
            201,
        )
    refused = client.post(f"/committee/items/{item['id']}/decide", headers=secretariat)
    # What the global node would sign is outside its jurisdiction on the trust list now.
    assert refused.status_code == 409, refused.text
    assert refused.json()["referral"]["node_id"] == "BO"
    assert "apply at https://bo.example.org" in refused.json()["detail"]
    awaiting = ok(client.get(f"/applications/{application_id}", headers=secretariat))
    assert awaiting["state"] != "awarded"
