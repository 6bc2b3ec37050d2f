"""The national node the browser tests visit, and what is on it before it starts.

The node is a real `node serve` process (see conftest.py). Before it starts, its own database is
given what the pages need, through the node's services: a national framework endorsed by a test
root key (which the node pins), certified cities (certificates issued by the certificate service,
signed with the node's key), a city that has no account yet (the account-request journey's), and
people with passwords. Its mail goes to an SMTP server in the test process, so a test reads the
invitation the node really sent. After it starts, an application is taken through the review over
the API, as its users would, so the reviewers' pages and the stage report have something to show.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from sdgcities.credentials import (
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.passwords import hash_password
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.cities.schemas import CityCreate
from sdgcities.node.cities.service import create_city
from sdgcities.node.communities.models import (
    Community,
    CommunityEvent,
    CommunityMember,
    CommunityPost,
    Consent,
    EventKind,
)
from sdgcities.node.config import Settings, get_settings
from sdgcities.node.frameworks import STAGE_ORDER

from ..conftest import TEST_PASSWORD_HASH_COST
from ..integration.harness import Node
from ..node.conftest import Account
from ..node.framework_versions import make_framework_version
from ..node.othercerts.factories import INDICATOR, body, issued_now
from ..node.registry.factories import Registrar
from ..node.review.factories import ReviewWorld, assign, consolidate, review_fully
from ..node.review.factories import submitted_application as submit_over_api

PASSWORD = "correct horse battery staple"
# The certified cities, as an investor finds them; the journey's city has no certificate yet.
CERTIFIED = {"KE-NBO": "Nairobi", "KE-KSM": "Kisumu"}
REVIEWED_CITY = ("KE-MBA", "Mombasa")
JOURNEY_CITY = ("KE-NAK", "Nakuru")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mailbox:
    """Every mail the SMTP server received, readable from the test's thread."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Received"

    def wait_for(self, to: str, timeout: float = 30.0) -> EmailMessage:
        """The first mail to `to`, waiting for it as long as `timeout`."""

        def found() -> EmailMessage | None:
            return next((m for m in self.messages if to in str(m["To"])), None)

        with self._arrived:
            self._arrived.wait_for(lambda: found() is not None, timeout=timeout)
            message = found()
        assert message is not None, f"no mail to {to} in {timeout} s"
        return message


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Person:
    email: str
    password: str
    account: Account


@dataclass
class WebWorld:
    node: Node
    mailbox: Mailbox
    review: ReviewWorld
    people: dict[str, Person]
    certificates: dict[str, str]  # locode -> credential id
    reviewed_application: int = 0
    # The values of the page routes' parameters (see page_list.py), as the world made them.
    ids: dict[str, str | int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.node.url


ROOT_DID = "did:web:global.example.org"


def enrol(session: Session, role: Role, email: str, **fields: Any) -> Person:
    """A person with the tests' password and an API token (for the steps taken over the API)."""
    user = create_user(
        session=session,
        data=UserCreate.model_validate(
            {"name": email.partition("@")[0].title(), "email": email, "role": role} | fields
        ),
        actor=SYSTEM,
    )
    user.password_hash = hash_password(PASSWORD, TEST_PASSWORD_HASH_COST)
    _, secret = issue_token(
        session=session, user=user, label="web tests", lifetime=timedelta(days=1), actor=SYSTEM
    )
    session.commit()
    assert user.id is not None
    return Person(email, PASSWORD, Account(user.id, role, secret, fields.get("city_locode")))


@dataclass(frozen=True, slots=True)
class Prepared:
    review: ReviewWorld
    people: dict[str, Person]
    certificates: dict[str, str]
    trust_list: str
    community_id: int


def prepare(node: Node, smtp_port: int) -> Prepared:
    """Give the stopped node's database its framework, cities, certificates and people, and
    sign the trust list (of the test root key) it will be given once it runs."""
    root_key = SigningKey(Ed25519PrivateKey.generate())
    node.add_env(
        root_keys=json.dumps([root_key.public_key.to_jwk()]),
        mail_host="127.0.0.1",
        mail_port=smtp_port,
        mail_from="sdgcities@ke.example.org",
        mail_interval_seconds=0.5,
        # Every test signs in afresh, and many sign-ins come from the one loopback address.
        rate_limit_sign_in_per_minute=0,
        sign_in_failures_per_client=1000,
    )
    settings = get_settings(data_dir=node.data_dir)
    state = create_app(settings).state.node
    try:
        with Session(state.engine) as session:
            framework = make_framework_version(
                session=session, settings=settings, root_key=root_key
            )
            framework_id = framework.id
            assert framework_id is not None
            assert framework.digest is not None
            trust_list = sign_trust_list(
                settings=settings,
                node_key=state.signing_key,
                root_key=root_key,
                framework=FrameworkRef(framework.framework_id, framework.version, framework.digest),
            )
            for locode, name in (*CERTIFIED.items(), REVIEWED_CITY, JOURNEY_CITY):
                create_city(
                    session=session,
                    data=CityCreate(locode=locode, name=name),
                    node_id=settings.node_id,
                    actor=SYSTEM,
                )
            session.commit()
            registrar = Registrar(session=session, state=state, framework_id=framework_id)
            certificates = {locode: registrar.issue(locode).id for locode in CERTIFIED}

            people = {
                "administrator": enrol(session, Role.ADMINISTRATOR, "admin@ke.example.org"),
                "secretariat": enrol(session, Role.SECRETARIAT, "secretariat@ke.example.org"),
                "nairobi": enrol(
                    session,
                    Role.CITY_APPLICANT,
                    "official@nairobi.example.org",
                    city_locode="KE-NBO",
                ),
                "mombasa": enrol(
                    session,
                    Role.CITY_APPLICANT,
                    "official@mombasa.example.org",
                    city_locode="KE-MBA",
                ),
                "lead": enrol(
                    session, Role.REVIEWER, "lead@reviewers.example.org", languages=["en"]
                ),
                "second": enrol(
                    session, Role.REVIEWER, "second@reviewers.example.org", languages=["en"]
                ),
                "outsider": enrol(
                    session, Role.REVIEWER, "third@reviewers.example.org", languages=["en"]
                ),
                "committee": enrol(
                    session,
                    Role.COMMITTEE_MEMBER,
                    "member@committee.example.org",
                    stakeholder_category="civil_society",
                ),
            }
            community_id = learning_community(session, people)
    finally:
        state.engine.dispose()
    review = ReviewWorld(
        framework_id=framework_id,
        admin=people["administrator"].account,
        nairobi=people["nairobi"].account,
        mombasa=people["mombasa"].account,
        reviewers=[people[name].account for name in ("lead", "second", "outsider")],
        secretariat=people["secretariat"].account,
        committee=people["committee"].account,
    )
    return Prepared(review, people, certificates, trust_list, community_id)


def learning_community(session: Session, people: dict[str, Person]) -> int:
    """A learning community that Mombasa joined and Nairobi has not answered, with an event and
    a post, so that its pages show every part. Written to the database as it is: the world's one
    stage report has no gap for the node to propose a community from."""
    secretariat, mombasa = people["secretariat"].account, people["mombasa"].account
    community = Community(
        title="Work programmes",
        description="Cities drawing up their certification work programmes.",
        gaps=["A.b"],
        gap_texts={
            "A.b": "The city has identified the levels of certification it intends to "
            "achieve and has a work programme."
        },
        formed_by=secretariat.user_id,
    )
    session.add(community)
    session.flush()
    assert community.id is not None
    session.add(
        CommunityMember(community_id=community.id, city_locode="KE-MBA", consent=Consent.JOINED)
    )
    session.add(
        CommunityMember(community_id=community.id, city_locode="KE-NBO", consent=Consent.INVITED)
    )
    session.add(
        CommunityEvent(
            community_id=community.id,
            kind=EventKind.PEER_EXCHANGE,
            title="How we drafted ours",
            starts_at=datetime.now(UTC) + timedelta(days=14),
            minutes=90,
            created_by=secretariat.user_id,
        )
    )
    session.add(
        CommunityPost(
            community_id=community.id,
            author_user_id=mombasa.user_id,
            city_locode="KE-MBA",
            text="Ours is drafted; happy to share it.",
        )
    )
    session.commit()
    return community.id


def sign_trust_list(
    *, settings: Settings, node_key: SigningKey, root_key: SigningKey, framework: FrameworkRef
) -> str:
    """What the global node would send: this node trusted, with its key and framework."""
    now = datetime.now(UTC)
    trusted = TrustedNode(
        id=settings.node_id,
        did=settings.did,
        name="Kenya",
        base_url=settings.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=30),
        keys=(KeyPeriod(node_key.public_key, KeyStatus.ACTIVE, now - timedelta(days=30)),),
        frameworks=(
            Endorsement.sign(
                framework=framework,
                node_id=settings.node_id,
                root_key=root_key,
                issuer_did=ROOT_DID,
                endorsed_at=now,
            ),
        ),
    )
    return TrustList(
        issuer=ROOT_DID,
        sequence=1,
        issued_at=now,
        next_update=now + timedelta(days=7),
        nodes=(trusted,),
    ).sign(root_key)


def after_start(node: Node, prepared: Prepared) -> int:
    """Hand the running node its trust list; then Mombasa's qualification application is
    submitted, reviewed and consolidated over the API (what the reviewers' pages and the stage
    report show). The application's id."""
    review = prepared.review
    with httpx.Client(base_url=node.url, timeout=30) as client:
        stored = client.put(
            "/admin/trust-list", headers=node.admin, json={"token": prepared.trust_list}
        )
        assert stored.status_code == 200, stored.text
        application_id = submit_over_api(client, review, review.mombasa)  # type: ignore[arg-type]
        assign(client, review, application_id)  # type: ignore[arg-type]
        review_fully(client, review, application_id)  # type: ignore[arg-type]
        consolidated = consolidate(client, review, application_id, "recommended")  # type: ignore[arg-type]
        assert consolidated.status_code == 200, consolidated.text
        # Nairobi's profile for investors: a verified and a declared certification, an ESG
        # indicator (the public city page's and the city's profile page's tables).
        nairobi = review.nairobi.headers
        for extra in ({"credential": issued_now(SigningKey.generate())}, {"scheme": "ISO 37123"}):
            added = client.post(
                "/cities/KE-NBO/certifications", headers=nairobi, json=body(**extra)
            )
            assert added.status_code == 201, added.text
        indicator = client.post("/cities/KE-NBO/esg-indicators", headers=nairobi, json=INDICATOR)
        assert indicator.status_code == 201, indicator.text
    return application_id


def staff_work(node: Node, prepared: Prepared, application_id: int) -> dict[str, str | int]:
    """What the committee's and the secretariat's pages show, done over the API: a meeting with
    Mombasa's recommended application on its agenda, opened, the member present and voting; a
    catalogue entry; a fee schedule and an invoice. The page routes' parameters (`WebWorld.ids`)."""
    review = prepared.review
    secretariat, member = review.secretariat.headers, review.committee.headers
    with httpx.Client(base_url=node.url, timeout=30) as client:

        def ok(response: httpx.Response, status: int = 200) -> Any:
            assert response.status_code == status, response.text
            return response.json()

        meeting_id = ok(
            client.post(
                "/committee/meetings",
                headers=secretariat,
                json={
                    "title": "Second quarter meeting",
                    "scheduled_for": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                },
            ),
            201,
        )["id"]
        ok(
            client.post(
                f"/committee/meetings/{meeting_id}/attendance",
                headers=secretariat,
                json={"member_id": review.committee.user_id},
            ),
            201,
        )
        ok(client.post(f"/committee/meetings/{meeting_id}/open", headers=secretariat))
        agenda = ok(
            client.post(f"/committee/meetings/{meeting_id}/agenda/generate", headers=secretariat)
        )["agenda"]
        item_id = agenda[0]["id"]
        ok(
            client.post(
                f"/committee/items/{item_id}/votes", headers=member, json={"choice": "yes"}
            ),
            201,
        )
        ok(
            client.post(
                "/catalogue/tools",
                headers=review.admin.headers,
                json={
                    "kind": "tool",
                    "title": "Urban data toolkit",
                    "summary": "Indicators and templates for a city's self-assessment.",
                    "link": "https://toolkit.example.org/",
                    "languages": ["en", "fr"],
                    "provider": "UN-Habitat",
                },
            ),
            201,
        )
        # A fee for every stage, and an invoice: the fee pages show their tables and forms.
        for stage in STAGE_ORDER:
            rate = {
                "stage": stage,
                "income_group": "lower-middle",
                "amount_minor": 20_000,
                "currency": "USD",
            }
            ok(client.put("/fees/schedule/rates", headers=review.admin.headers, json=rate))
        invoice = {
            "kind": "invoice",
            "amount_minor": 20_000,
            "dated_on": "2026-11-02",
            "reference": "INV-1",
        }
        ok(
            client.post(
                f"/applications/{application_id}/fee/records",
                headers=review.admin.headers,
                json=invoice,
            ),
            201,
        )
    credential_id = prepared.certificates["KE-NBO"]
    return {
        "locode": "KE-NBO",
        "credential_id": credential_id,
        "certificate_id": credential_id,
        "version_id": review.framework_id,
        "application_id": application_id,
        "meeting_id": meeting_id,
        "item_id": item_id,
        "token": "no-such-link",
        "community_id": prepared.community_id,
    }
