"""One city from registration to a diamond certificate, then suspended, reinstated and revoked.

Every step goes through the HTTP API as the people involved take it (administrator, two
reviewers, the secretariat, a committee with a non-government member, the city's applicant),
each with a token the node issued. After each step the certificate is checked twice: by an
investor's `Verifier` over a trust list signed by the root key, reading the node's public
`GET /status/...` exactly as the public does, and by the node's own `POST /verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from sdgcities.credentials import (
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    PublicKey,
    TrustedNode,
    TrustList,
    VerificationResult,
    Verifier,
)
from sdgcities.federation import GENESIS, Event, verify_chain

from .conftest import ROOT_DID, ROOT_KEY, Account, Backend
from .evidence.samples import PDF

LOCODE = "KE-KSM"
STAGES = {
    "qualification": "silver",
    "evidence-based-processes": "gold",
    "enabling-environment": "platinum",
    "impact": "diamond",
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class People:
    admin: Account
    lead: Account
    reviewer: Account
    secretariat: Account
    members: list[Account]
    city: Account


# Setting up the node ----------------------------------------------------------------------------


def enrol(client: TestClient, admin: Account, role: str, **fields: Any) -> Account:
    """An account created by the administrator, with a token the node issued for it."""
    body = {"name": f"{role} {fields.get('email', '')}", "role": role, **fields}
    user = ok(client.post("/admin/users", headers=admin.headers, json=body), 201)
    token = ok(
        client.post(f"/admin/users/{user['id']}/tokens", headers=admin.headers, json={}), 201
    )
    return Account(user["id"], user["role"], token["token"], user["city_locode"])


def staff_the_node(client: TestClient, admin: Account) -> People:
    today = date.today()
    term = {
        "term_start": (today - timedelta(days=30)).isoformat(),
        "term_end": (today + timedelta(days=700)).isoformat(),
    }
    return People(
        admin=admin,
        lead=enrol(client, admin, "reviewer", email="lead@example.org", languages=["en"]),
        reviewer=enrol(client, admin, "reviewer", email="second@example.org", languages=["sw"]),
        secretariat=enrol(client, admin, "secretariat", email="secretariat@example.org"),
        members=[
            enrol(
                client,
                admin,
                "committee_member",
                email=f"{category}@example.org",
                stakeholder_category=category,
                **term,
            )
            for category in ("government", "civil_society", "academia")
        ],
        city=enrol(client, admin, "city_applicant", email="kisumu@example.org", city_locode=LOCODE),
    )


def register_city(client: TestClient, admin: Account) -> None:
    city = ok(
        client.post(
            "/cities",
            headers=admin.headers,
            json={"locode": LOCODE, "name": "Kisumu", "region": "Kisumu County"},
        ),
        201,
    )
    assert city["country"] == "KE"


def endorsed_framework(
    client: TestClient, admin: Account, backend: Backend
) -> tuple[int, Endorsement]:
    """The national framework: derived from the baseline, published, endorsed by the root key.
    Returns its version id and the endorsement (which names the version and digest)."""
    baselines = ok(client.get("/frameworks", params={"framework_id": "sdgcities-baseline"}))
    baseline_id = baselines["data"][0]["id"]
    derived = {"framework_id": "sdgcities-ke", "version": "7", "title": "Kenya framework"}
    draft = ok(
        client.post(f"/frameworks/{baseline_id}/derive", headers=admin.headers, json=derived), 201
    )
    published = ok(client.post(f"/frameworks/{draft['id']}/publish", headers=admin.headers))
    endorsement = Endorsement.sign(
        framework=FrameworkRef("sdgcities-ke", "7", published["digest"]),
        node_id=backend.settings.node_id,
        root_key=ROOT_KEY,
        issuer_did=ROOT_DID,
        endorsed_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    endorsed = ok(
        client.put(
            f"/frameworks/{draft['id']}/endorsement",
            headers=admin.headers,
            json={"jws": endorsement.token},
        )
    )
    assert endorsed["usable_for_certification"] is True
    return draft["id"], endorsement


def publish_trust_list(
    client: TestClient, admin: Account, backend: Backend, endorsement: Endorsement
) -> TrustList:
    """A trust list signed by the root key naming this node, with the key it publishes and its
    endorsed framework; handed to the node too, so its `POST /verify` trusts it."""
    document = ok(client.get("/.well-known/did.json"))
    did = document["id"]
    (method,) = document["verificationMethod"]
    jwk = method["publicKeyJwk"]
    (published,) = ok(client.get("/.well-known/jwks.json"))["keys"]
    # The JWKS names the key by the DID URL its JOSE headers carry, as the DID document does.
    assert published == {**jwk, "kid": method["id"]}
    assert method["id"] == f"{did}#{jwk['kid']}"
    now = datetime.now(UTC)
    node = TrustedNode(
        id=backend.settings.node_id,
        did=did,
        name="Kenya",
        base_url=backend.settings.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=30),
        keys=(KeyPeriod(PublicKey.from_jwk(jwk), KeyStatus.ACTIVE, now - timedelta(days=30)),),
        frameworks=(endorsement,),
    )
    token = TrustList(
        issuer=ROOT_DID,
        sequence=1,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=(node,),
    ).sign(ROOT_KEY)
    accepted = ok(client.put("/admin/trust-list", headers=admin.headers, json={"token": token}))
    assert accepted == {"sequence": 1, "stored": True}
    return TrustList.from_jws(token, pinned_thumbprints=[ROOT_KEY.public_key.kid])


# The workflow -----------------------------------------------------------------------------------


def apply_for_stage(
    client: TestClient, city: Account, framework_id: int, stage: str
) -> tuple[int, dict[str, int]]:
    """The city applies, answers every criterion, uploads one evidence file and submits.
    Returns the application id and the evidence file's id by criterion code."""
    body = {"stage": stage, "framework_version_id": framework_id}
    application = ok(client.post("/applications", headers=city.headers, json=body), 201)
    application_id, criteria = application["id"], application["criteria"]
    assert application["missing"] == criteria
    for code in criteria:
        ok(
            client.put(
                f"/applications/{application_id}/criteria/{code}",
                headers=city.headers,
                json={"narrative": f"How Kisumu meets {code}: see the {stage} dossier."},
            )
        )
    first = criteria[0]
    evidence = ok(
        client.post(
            f"/applications/{application_id}/criteria/{first}/evidence",
            params={"filename": f"{stage}-dossier.pdf"},
            headers={**city.headers, "Content-Type": "application/octet-stream"},
            content=PDF,
        ),
        201,
    )
    submitted = ok(client.post(f"/applications/{application_id}/submit", headers=city.headers))
    assert submitted["state"] == "submitted"
    assert submitted["missing"] == []
    return application_id, {first: evidence["id"]}


def review_and_recommend(
    client: TestClient, people: People, application_id: int, evidence: dict[str, int]
) -> None:
    """Two reviewers assigned (one the lead) assess every criterion met, citing the evidence;
    the lead consolidates the review as recommended."""
    ok(
        client.post(
            f"/applications/{application_id}/reviewers",
            headers=people.admin.headers,
            json={
                "reviewer_ids": [people.lead.user_id, people.reviewer.user_id],
                "lead_id": people.lead.user_id,
            },
        ),
        201,
    )
    criteria = ok(client.get(f"/applications/{application_id}", headers=people.lead.headers))[
        "criteria"
    ]
    ((cited_code, evidence_id),) = evidence.items()
    for reviewer in (people.lead, people.reviewer):
        for code in criteria:
            cited = [evidence_id] if code == cited_code else []
            ok(
                client.put(
                    f"/applications/{application_id}/review/assessments/{code}",
                    headers=reviewer.headers,
                    json={
                        "verdict": "met",
                        "reasons": f"Met: the narrative and evidence file {evidence_id} "
                        f"show {code} in place.",
                        "evidence_ids": cited,
                    },
                )
            )
        ok(client.post(f"/applications/{application_id}/review/submit", headers=reviewer.headers))
    ok(
        client.post(
            f"/applications/{application_id}/review/consolidate",
            headers=people.lead.headers,
            json={
                "recommendation": "recommended",
                "summary": "Every criterion is met on the evidence.",
                "verdicts": [],
            },
        )
    )
    application = ok(client.get(f"/applications/{application_id}", headers=people.admin.headers))
    assert application["state"] == "recommended"


def check_stage_report(
    client: TestClient, people: People, application_id: int, stage: str, evidence: dict[str, int]
) -> None:
    """The stage report exists as JSON, HTML and PDF, and says what the review found."""
    headers = people.members[1].headers  # committee members read the reports they decide on
    report = ok(client.get(f"/applications/{application_id}/report", headers=headers))
    document = report["document"]
    assert document["recommendation"] == "recommended"
    assert document["stage"]["key"] == stage
    assert document["stage"]["level"] == STAGES[stage]
    assert document["city"]["locode"] == LOCODE
    assert document["gaps"] == []
    assert document["reviewers"] == 2
    assert {c["verdict"] for c in document["criteria"]} == {"met"}
    ((cited_code, evidence_id),) = evidence.items()
    (cited,) = (c for c in document["criteria"] if c["code"] == cited_code)
    assert {e["id"] for reason in cited["reasons"] for e in reason["evidence"]} == {evidence_id}
    html = client.get(f"/applications/{application_id}/report.html", headers=headers)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert "Kisumu" in html.text
    pdf = client.get(f"/applications/{application_id}/report.pdf", headers=headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF-")


def committee_decides(client: TestClient, people: People, title: str, **match: Any) -> Any:
    """The secretariat schedules a meeting, records attendance, opens it and generates the
    agenda; every member votes yes on the matching item; the secretariat records the decision.
    Returns the decided item."""
    secretariat = people.secretariat.headers
    scheduled_for = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    meeting = ok(
        client.post(
            "/committee/meetings",
            headers=secretariat,
            json={"title": title, "scheduled_for": scheduled_for},
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
    (item,) = (i for i in agenda if all(i[key] == value for key, value in match.items()))
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
    return decided


def award(client: TestClient, people: People, application_id: int, stage: str) -> dict[str, Any]:
    """The committee awards the recommended application; the certificate issued."""
    decided = committee_decides(
        client, people, f"Award of {stage} to Kisumu", application_id=application_id
    )
    certificate: dict[str, Any] = ok(
        client.get(f"/certificates/{decided['certificate_id']}", headers=people.admin.headers)
    )
    assert certificate["city_locode"] == LOCODE
    assert (certificate["stage"], certificate["level"]) == (stage, STAGES[stage])
    assert certificate["status"] == "active"
    application = ok(client.get(f"/applications/{application_id}", headers=people.city.headers))
    assert application["state"] == "awarded"
    return certificate


def propose(client: TestClient, people: People, certificate_id: str, kind: str) -> httpx.Response:
    return client.post(
        f"/certificates/{certificate_id}/proposals",
        headers=people.secretariat.headers,
        json={"kind": kind, "reason": f"{kind} after the spot-check of Kisumu's impact data"},
    )


def carry(client: TestClient, people: People, certificate_id: str, kind: str) -> None:
    """The secretariat proposes `kind`; the committee approves it."""
    proposal = ok(propose(client, people, certificate_id, kind), 201)
    committee_decides(client, people, f"{kind} of {certificate_id}", proposal_id=proposal["id"])
    certificate = ok(client.get(f"/certificates/{certificate_id}", headers=people.admin.headers))
    after = {"suspension": "suspended", "reinstatement": "active", "revocation": "revoked"}
    assert certificate["status"] == after[kind]


# Verification -----------------------------------------------------------------------------------


def investor_verdict(
    client: TestClient, backend: Backend, trust_list: TrustList, token: str
) -> VerificationResult:
    """What an investor's verifier says now: status lists read from the node's public
    `GET /status/...`, nothing cached from an earlier step."""
    base_url = backend.settings.base_url

    def fetch(url: str) -> str:
        served = client.get(url.removeprefix(base_url))
        assert served.status_code == 200, served.text
        return served.text

    verifier = Verifier(trust_list, fetcher=fetch, status_max_age=timedelta(0))
    return verifier.verify(token)


def assert_verifies_as(
    client: TestClient, backend: Backend, trust_list: TrustList, token: str, expected: str
) -> None:
    """`expected`: "valid", or the reason the certificate is not ("suspended", "revoked")."""
    result = investor_verdict(client, backend, trust_list, token)
    assert (result.reason.value if result.reason else "valid") == expected, result.message
    assert result.valid is (expected == "valid")
    answer = ok(client.post("/verify", json={"jwt": token}))
    assert (answer["reason"] or answer["status"]) == expected, answer
    assert answer["valid"] is (expected == "valid")
    assert answer["issuer"] == backend.settings.node_id


def federation_log(client: TestClient) -> list[Event]:
    """The node's whole public event log, page by page."""
    events: list[Event] = []
    url: str | None = "/federation/events?after=0"
    for _ in range(100):
        if url is None:
            break
        page = ok(client.get(url))
        events.extend(Event.from_json(event) for event in page["events"])
        url = page["next"]
    assert url is None, "the log did not end within 100 pages"
    return events


def workflow_trail(events: list[Event]) -> list[tuple[str, ...]]:
    """The decision and credential events about the test city, in log order."""
    trail: list[tuple[str, ...]] = []
    for event in events:
        if event.subject.get("locode") != LOCODE:
            continue
        if event.type == "decision.recorded":
            trail.append((event.type, event.data["kind"], event.data["outcome"]))
        elif event.type.startswith("credential."):
            trail.append((event.type, str(event.subject["credential"])))
    return trail


# The test ---------------------------------------------------------------------------------------


def test_a_city_goes_from_registration_to_diamond_and_its_certificate_through_every_status(
    client: TestClient, backend: Backend, admin: Account
) -> None:
    register_city(client, admin)
    people = staff_the_node(client, admin)
    framework_id, endorsement = endorsed_framework(client, admin, backend)
    trust_list = publish_trust_list(client, admin, backend, endorsement)

    certificates: dict[str, dict[str, Any]] = {}
    stages = list(STAGES)
    for n, stage in enumerate(stages):
        if n + 1 < len(stages):
            # Stage N+1 is refused until stage N is certified, with the reason.
            early = client.post(
                "/applications",
                headers=people.city.headers,
                json={"stage": stages[n + 1], "framework_version_id": framework_id},
            )
            assert early.status_code == 409, early.text
            assert early.json()["detail"].startswith(
                f"stage {stages[n + 1]} needs a valid certificate for stage {stage}"
            )
        application_id, evidence = apply_for_stage(client, people.city, framework_id, stage)
        review_and_recommend(client, people, application_id, evidence)
        check_stage_report(client, people, application_id, stage, evidence)
        certificate = award(client, people, application_id, stage)
        assert_verifies_as(client, backend, trust_list, certificate["token"], "valid")
        certificates[stage] = certificate

    diamond = certificates["impact"]
    credential = investor_verdict(client, backend, trust_list, diamond["token"]).credential
    assert credential is not None
    assert credential["credentialSubject"]["id"] == f"urn:sdgcities:city:{LOCODE}"
    assert credential["credentialSubject"]["framework"]["digest"] == endorsement.framework.digest

    for kind, expected in (
        ("suspension", "suspended"),
        ("reinstatement", "valid"),
        ("revocation", "revoked"),
    ):
        carry(client, people, diamond["id"], kind)
        assert_verifies_as(client, backend, trust_list, diamond["token"], expected)
    # The platinum certificate below it is untouched by the diamond's revocation.
    assert_verifies_as(
        client, backend, trust_list, certificates["enabling-environment"]["token"], "valid"
    )

    refused = propose(client, people, diamond["id"], "reinstatement")
    assert refused.status_code == 409, refused.text
    assert "revoked" in refused.json()["detail"]

    events = federation_log(client)
    assert verify_chain(events, after=GENESIS) is not None
    issued = [("credential.issued", certificates[stage]["id"]) for stage in stages]
    assert workflow_trail(events) == [
        *(
            step
            for credential_issued in issued
            for step in (("decision.recorded", "award", "approved"), credential_issued)
        ),
        ("decision.recorded", "suspension", "approved"),
        ("credential.suspended", diamond["id"]),
        ("decision.recorded", "reinstatement", "approved"),
        ("credential.reinstated", diamond["id"]),
        ("decision.recorded", "revocation", "approved"),
        ("credential.revoked", diamond["id"]),
    ]
