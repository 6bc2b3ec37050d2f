"""The global node the browser tests visit for its console, and what is on it.

A real `node serve` process (see conftest.py). Before it starts, its database is given two
people with passwords (the global secretariat and a global committee member), through the
node's services. Once it runs, everything else arrives as it would from its members, over its
API: two national nodes ask to join and are approved and a third waits; they report their logs
(certificates at two stages, a suspension); Kenya asks for its framework's endorsement; the
secretariat draws a spot-check round among the reported awards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session

from sdgcities.credentials import FrameworkRef, SigningKey
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.app import create_app
from sdgcities.node.config import get_settings
from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.service import canonical_text

from ..integration.harness import Node
from ..node.federation_registry.factories import MemberLog
from ..node.ingest.conftest import Member
from .world import Person, enrol


@dataclass
class GlobalWorld:
    node: Node
    people: dict[str, Person]
    # The values of the console's page routes' parameters (see page_list.py).
    ids: dict[str, str | int]

    @property
    def url(self) -> str:
        return self.node.url


def prepare_global(node: Node) -> dict[str, Person]:
    """The stopped global node's people, with passwords."""
    node.add_env(
        rate_limit_sign_in_per_minute=0,
        sign_in_failures_per_client=1000,
        rate_limit_join_per_hour=0,
    )
    state = create_app(get_settings(data_dir=node.data_dir)).state.node
    try:
        with Session(state.engine) as session:
            return {
                "secretariat": enrol(session, Role.SECRETARIAT, "secretariat@global.example.org"),
                "committee": enrol(
                    session,
                    Role.COMMITTEE_MEMBER,
                    "chair@global.example.org",
                    stakeholder_category="civil_society",
                ),
            }
    finally:
        state.engine.dispose()


def after_global_start(node: Node, people: dict[str, Person]) -> dict[str, str | int]:
    """Members join and report, an endorsement is asked for, a round is drawn; the ids."""
    secretariat = people["secretariat"].account.headers
    with httpx.Client(base_url=node.url, timeout=30) as client:

        def ok(response: httpx.Response, status: int = 200) -> Any:
            assert response.status_code == status, response.text
            return response.json()

        def ask_to_join(member: Member) -> int:
            token = JoinRequest.sign(
                node_id=member.node_id,
                base_url=member.base_url,
                name=f"{member.node_id} node",
                key=member.key,
            )
            request_id: int = ok(client.post("/federation/join", json={"token": token}), 202)["id"]
            return request_id

        kenya, tanzania = Member("KE", SigningKey.generate()), Member("TZ", SigningKey.generate())
        for member in (kenya, tanzania):
            request_id = ask_to_join(member)
            ok(client.post(f"/federation/join-requests/{request_id}/approve", headers=secretariat))
        ask_to_join(Member("UG", SigningKey.generate()))  # waits for the secretariat

        kenya_log = MemberLog(kenya, client)  # type: ignore[arg-type]
        kenya_log.issue("KE-NBO")
        suspended = kenya_log.issue("KE-MBA", "Mombasa")
        kenya_log.issue("KE-KSM", "Kisumu", stage="evidence-based-processes")
        kenya_log.change(suspended, "suspension", locode="KE-MBA")
        # Requests for technical assistance, for the console's page by gap.
        kenya_log.ask(1, "KE-NBO", criterion="B.c")
        kenya_log.ask(2, "KE-KSM", criterion="B.KE1", national=True)
        kenya_log.close(1, "KE-NBO")
        kenya_log.send()
        tanzania_log = MemberLog(tanzania, client)  # type: ignore[arg-type]
        tanzania_log.issue("TZ-DAR", "Dar es Salaam", city=None)
        tanzania_log.send()

        baseline = load_baseline()
        endorsement = EndorsementRequest.sign(
            node_id=kenya.node_id,
            did=kenya.did,
            framework=FrameworkRef(baseline.id, baseline.version, baseline.digest),
            document=canonical_text(baseline),
            key=kenya.key,
        )
        ok(client.post("/federation/endorsements", json={"token": endorsement}), 202)

        # The awards were decided this second, and a round's window ends before its end.
        until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
        drawn = client.post(
            "/federation/spot-checks/rounds",
            headers=secretariat,
            json={"rate": 1, "window_until": until},
        )
        round_id = ok(drawn, 201)["id"]
        checks = ok(
            client.get(f"/federation/spot-checks/rounds/{round_id}/checks", headers=secretariat)
        )["data"]
        assert checks, "the round drew no award"
    return {"node_id": kenya.node_id, "round_id": round_id, "check_id": checks[0]["id"]}
