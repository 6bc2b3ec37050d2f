"""A committee, its secretariat and two cities for tests, and the steps from a recommended
application to a decision, taken through the API as the people involved would take them.

The fixture `desk` is re-exported by the committee and certificates test packages' conftests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from sdgcities.credentials import (
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    TrustedNode,
    TrustList,
    VerificationResult,
    Verifier,
)
from sdgcities.node.accounts.models import Role, StakeholderCategory
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.events.models import EventRecord
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.timeutil import utcnow

from .conftest import ROOT_DID, ROOT_KEY, Account, Backend, MakeAccount, MakeCity, MakeFramework


@dataclass
class Desk:
    """What a certification test needs, with the committee's steps as methods."""

    client: TestClient
    session: Session
    backend: Backend
    make_account: MakeAccount
    framework_id: int
    admin: Account
    secretariat: Account
    reviewer: Account
    nairobi: Account
    mombasa: Account
    # Sitting today: a government member, a civil-society member, an academic.
    government: Account
    civil_society: Account
    academic: Account
    # A member whose term ended yesterday: listed, but no longer sitting.
    retired: Account
    _trust_list: TrustList | None = field(default=None, repr=False)

    @property
    def members(self) -> list[Account]:
        return [self.government, self.civil_society, self.academic]

    # Applications -------------------------------------------------------------------------------

    def recommended(self, locode: str = "KE-NBO", stage: str = "qualification") -> int:
        """An application the technical team has recommended (stored directly: the review
        workflow is not this test's subject)."""
        application = Application(
            city_locode=locode,
            stage=stage,
            framework_version_id=self.framework_id,
            state=ApplicationState.RECOMMENDED,
            submitted_at=utcnow(),
        )
        self.session.add(application)
        self.session.commit()
        assert application.id is not None
        return application.id

    def application_state(self, application_id: int) -> str:
        self.session.expire_all()
        application = self.session.get(Application, application_id)
        assert application is not None
        return application.state.value

    # Meetings -----------------------------------------------------------------------------------

    def meeting(
        self,
        *,
        attend: Iterable[Account] | None = None,
        open_it: bool = True,
        title: str = "First quarter meeting",
    ) -> int:
        """A meeting, opened, with the sitting members (or `attend`) recorded as present."""
        created = self.client.post(
            "/committee/meetings",
            headers=self.secretariat.headers,
            json={"title": title, "scheduled_for": (utcnow() + timedelta(hours=1)).isoformat()},
        )
        assert created.status_code == 201, created.text
        meeting_id: int = created.json()["id"]
        for member in self.members if attend is None else attend:
            self.attend(meeting_id, member).raise_for_status()
        if open_it:
            opened = self.client.post(
                f"/committee/meetings/{meeting_id}/open", headers=self.secretariat.headers
            )
            assert opened.status_code == 200, opened.text
        return meeting_id

    def attend(self, meeting_id: int, member: Account) -> Response:
        return self.client.post(
            f"/committee/meetings/{meeting_id}/attendance",
            headers=self.secretariat.headers,
            json={"member_id": member.user_id},
        )

    def generate(self, meeting_id: int) -> dict[str, Any]:
        """Generate the agenda: `{"added": [...], "agenda": [...]}`."""
        generated = self.client.post(
            f"/committee/meetings/{meeting_id}/agenda/generate", headers=self.secretariat.headers
        )
        assert generated.status_code == 200, generated.text
        body: dict[str, Any] = generated.json()
        return body

    def agenda(self, meeting_id: int) -> list[dict[str, Any]]:
        """Generate the agenda; the items it added."""
        added: list[dict[str, Any]] = self.generate(meeting_id)["added"]
        return added

    def vote(self, item_id: int, member: Account, choice: str = "yes") -> Response:
        return self.client.post(
            f"/committee/items/{item_id}/votes", headers=member.headers, json={"choice": choice}
        )

    def decide(self, item_id: int, by: Account | None = None) -> Response:
        return self.client.post(
            f"/committee/items/{item_id}/decide", headers=(by or self.secretariat).headers
        )

    def item_for(self, meeting_id: int, **match: object) -> dict[str, Any]:
        """The item of the meeting's agenda (generated first) that matches `match`."""
        for item in self.generate(meeting_id)["agenda"]:
            if all(item[key] == value for key, value in match.items()):
                return item
        raise AssertionError(f"no agenda item with {match}")

    def decided(self, item_id: int, choices: Iterable[str] = ("yes", "yes", "yes")) -> Response:
        """Every sitting member votes (in order, one choice each), then the decision."""
        for member, choice in zip(self.members, choices, strict=True):
            voted = self.vote(item_id, member, choice)
            assert voted.status_code == 201, voted.text
        return self.decide(item_id)

    # Certificates -------------------------------------------------------------------------------

    def award(self, locode: str = "KE-NBO", stage: str = "qualification") -> dict[str, Any]:
        """A certificate for `locode`, awarded by a unanimous committee; its detail."""
        application_id = self.recommended(locode, stage)
        meeting_id = self.meeting(title=f"Award to {locode}")
        item = self.item_for(meeting_id, application_id=application_id)
        decided = self.decided(item["id"])
        assert decided.status_code == 200, decided.text
        certificate_id = decided.json()["certificate_id"]
        detail = self.client.get(f"/certificates/{certificate_id}", headers=self.admin.headers)
        assert detail.status_code == 200, detail.text
        certificate: dict[str, Any] = detail.json()
        return certificate

    def propose(self, certificate_id: str, kind: str, reason: str = "spot-check") -> Response:
        return self.client.post(
            f"/certificates/{certificate_id}/proposals",
            headers=self.secretariat.headers,
            json={"kind": kind, "reason": reason},
        )

    def carry(self, certificate_id: str, kind: str, reason: str = "spot-check") -> Response:
        """Propose `kind`, put it on a meeting's agenda, vote yes all round; the decision."""
        proposed = self.propose(certificate_id, kind, reason)
        assert proposed.status_code == 201, proposed.text
        meeting_id = self.meeting(title=f"{kind} of {certificate_id}")
        item = self.item_for(meeting_id, proposal_id=proposed.json()["id"])
        return self.decided(item["id"])

    # Verification -------------------------------------------------------------------------------

    def trust_list(self) -> TrustList:
        """This node on a trust list signed by the test root key, with its framework endorsed."""
        if self._trust_list is None:
            now = datetime.now(UTC)
            framework = self.session.get(FrameworkVersion, self.framework_id)
            assert framework is not None
            assert framework.digest is not None
            ref = FrameworkRef(framework.framework_id, framework.version, framework.digest)
            settings = self.backend.settings
            node = TrustedNode(
                id=settings.node_id,
                did=settings.did,
                name=settings.node_name,
                base_url=settings.base_url,
                status=NodeStatus.ACTIVE,
                status_since=now - timedelta(days=30),
                keys=(
                    KeyPeriod(
                        self.backend.app.state.node.signing_key.public_key,
                        KeyStatus.ACTIVE,
                        now - timedelta(days=30),
                    ),
                ),
                frameworks=(
                    Endorsement.sign(
                        framework=ref,
                        node_id=settings.node_id,
                        root_key=ROOT_KEY,
                        issuer_did=ROOT_DID,
                        endorsed_at=now - timedelta(days=1),
                    ),
                ),
            )
            signed = TrustList(
                issuer=ROOT_DID,
                sequence=1,
                issued_at=now,
                next_update=now + timedelta(days=1),
                nodes=(node,),
            ).sign(ROOT_KEY)
            self._trust_list = TrustList.from_jws(
                signed, pinned_thumbprints=[ROOT_KEY.public_key.kid]
            )
        return self._trust_list

    def verify(self, token: str) -> VerificationResult:
        """What an investor's verifier says now; status lists are fetched from this node's
        `/status/...` each time (no caching between calls)."""
        base_url = self.backend.settings.base_url

        def fetch(url: str) -> str:
            served = self.client.get(url.removeprefix(base_url))
            assert served.status_code == 200, served.text
            return served.text

        verifier = Verifier(self.trust_list(), fetcher=fetch, status_max_age=timedelta(0))
        return verifier.verify(token)

    # Records ------------------------------------------------------------------------------------

    def events(self, *types: str) -> list[EventRecord]:
        query = select(EventRecord).order_by(col(EventRecord.sequence))
        if types:
            query = query.where(col(EventRecord.type).in_(types))
        self.session.expire_all()
        return list(self.session.exec(query).all())


@pytest.fixture
def desk(
    client: TestClient,
    session: Session,
    backend: Backend,
    admin: Account,
    make_account: MakeAccount,
    make_city: MakeCity,
    make_framework: MakeFramework,
) -> Desk:
    make_city("KE-NBO", "Nairobi")
    make_city("KE-MBA", "Mombasa")
    today = date.today()

    def member(category: StakeholderCategory, **terms: object) -> Account:
        return make_account(
            Role.COMMITTEE_MEMBER,
            stakeholder_category=category,
            term_start=terms.get("term_start", today - timedelta(days=365)),
            term_end=terms.get("term_end", today + timedelta(days=365)),
        )

    return Desk(
        client=client,
        session=session,
        backend=backend,
        make_account=make_account,
        framework_id=make_framework(),
        admin=admin,
        secretariat=make_account(Role.SECRETARIAT),
        reviewer=make_account(Role.REVIEWER),
        nairobi=make_account(Role.CITY_APPLICANT, city_locode="KE-NBO"),
        mombasa=make_account(Role.CITY_APPLICANT, city_locode="KE-MBA"),
        government=member(StakeholderCategory.GOVERNMENT),
        civil_society=member(StakeholderCategory.CIVIL_SOCIETY),
        academic=member(StakeholderCategory.ACADEMIA),
        retired=member(
            StakeholderCategory.CIVIL_SOCIETY,
            term_start=today - timedelta(days=3 * 365),
            term_end=today - timedelta(days=1),
        ),
    )
