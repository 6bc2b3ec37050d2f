"""The demo's walk-through: a federation's work, step by step, through the nodes' HTTP API.

Each step acts as the people who would act (the global secretariat and committee, a national
administrator, city applicants, reviewers, a national secretariat and committee), each with a
token their node's administrator issued, and checks every answer it gets. A step returns the
lines that tell what happened; anything unexpected stops the walk-through with `StepFailed`,
naming the step and the node's reason.

The scenario (`samples`): Kenya and Ghana adapt the baseline framework and have it endorsed;
five cities are certified silver, Nairobi goes on to gold, Mombasa's and Kisumu's gold
applications share a gap around which a learning community forms, Mombasa's certificate is
suspended and Kumasi's revoked by committee decisions; the certificates are then verified as
`sdgcities verify` verifies them, each with the answer it should give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from .api import Headers, NodeApi, UnexpectedAnswer
from .federation import Federation, Node
from .samples import COUNTRIES, GOLD, SILVER, City, Country, evidence_csv, evidence_pdf, narrative
from .sign_ins import DEMO_PASSWORD, DemoSignIn, SignInFailed, choose_password

GOLD_CITY = "KE-NBO"
WAIVED_CITY = "GH-KMS"
RENEWING_CITY = "GH-ACC"
SUSPENDED_CITY = "KE-MBA"
# Mombasa's and Kisumu's gold applications both fall short on participatory planning.
COMMUNITY_CITIES = ("KE-MBA", "KE-KIS")
SHARED_GAP = "B.c"
REVOKED_CITY = "GH-KMS"
COMMITTEE = ("government", "civil_society", "academia")
GLOBAL_SECRETARIAT = "secretariat@global.example.org"
GLOBAL_COMMITTEE = "chair@global.example.org"
VOTES = ("yes", "no", "abstain")
REPORTS_PATH = "/federation/reports"
LOGS_PATH = "/federation/logs"
REPORT_WAIT_SECONDS = 30.0


class StepFailed(Exception):
    def __init__(self, title: str, reason: str) -> None:
        super().__init__(f"step '{title}' failed: {reason}")
        self.title = title
        self.reason = reason


class Unexpected(Exception):
    """A step found the federation in a state it did not expect."""


class Skipped(Exception):
    """A step that this federation cannot take (yet); the walk-through goes on."""


@dataclass(frozen=True, slots=True)
class StepResult:
    title: str
    lines: Sequence[str]
    seconds: float
    skipped: bool = False


class Narrator(Protocol):
    def step(self, result: StepResult) -> None: ...


@dataclass
class Person:
    user_id: int
    headers: Headers


@dataclass(frozen=True, slots=True)
class Expected:
    """A certificate the walk-through issued and the answer its verification must give."""

    node_id: str
    locode: str
    city: str
    stage: str
    level: str
    certificate_id: str
    status: str  # valid, suspended or revoked


@dataclass(frozen=True, slots=True)
class Verified:
    expected: Expected
    status: str
    reason: str | None
    url: str

    @property
    def as_expected(self) -> bool:
        return self.status == self.expected.status


@dataclass
class Office:
    """A national node's people, and what the walk-through did there."""

    country: Country
    node: Node
    api: NodeApi
    secretariat: Person | None = None
    administrator: Person | None = None
    reviewers: list[Person] = field(default_factory=list)
    members: list[Person] = field(default_factory=list)
    applicants: dict[str, Person] = field(default_factory=dict)
    framework_version_id: int = 0
    endorsement_request_id: int = 0
    criteria: dict[str, list[str]] = field(default_factory=dict)  # stage -> criterion codes
    applications: dict[str, int] = field(default_factory=dict)  # locode -> the open one
    evidence: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    certificates: list[Expected] = field(default_factory=list)

    @property
    def admin(self) -> Headers:
        return self.node.admin

    @property
    def staff(self) -> Person:
        if self.secretariat is None:
            raise Unexpected(f"{self.country.code}: no secretariat yet")
        return self.secretariat

    def city(self, locode: str) -> City:
        return next(city for city in self.country.cities if city.locode == locode)


class Walkthrough:
    """`run()` takes every step in order, telling `narrator` as each one ends."""

    def __init__(
        self,
        federation: Federation,
        client: httpx.Client,
        narrator: Narrator,
        *,
        verifier_folder: Path,
        mail_folder: Path | None = None,
        report_wait: float = REPORT_WAIT_SECONDS,
    ) -> None:
        self.narrator = narrator
        self.verifier_folder = verifier_folder
        self.mail_folder = mail_folder
        self.report_wait = report_wait
        self.global_node = federation.global_node
        self.global_api = NodeApi(client, self.global_node.url)
        self.offices = {
            country.code: Office(country, node, NodeApi(client, node.url))
            for country, node in zip(COUNTRIES, federation.national, strict=True)
        }
        self.global_secretariat: Person | None = None
        self.global_committee: Person | None = None
        self.verified: list[Verified] = []
        self.sign_ins: list[DemoSignIn] = []

    def steps(self) -> list[tuple[str, Callable[[], list[str]]]]:
        return [
            ("Global node: the secretariat and a committee member", self.global_people),
            ("National nodes join the federation; the global secretariat approves", self.join),
            ("National frameworks: derived, contextualised, published", self.adapt_frameworks),
            ("The global committee endorses them; nodes sync the trust list", self.endorse),
            ("National staff, committees, cities and applicants", self.national_people),
            ("Cities apply for silver: answers, evidence, submission", self.apply_for_silver),
            ("Fees by income group: a waiver, an invoice and its payment", self.fees),
            ("Technical review: two reviewers each, consolidation, stage reports", self.review),
            ("Committees meet: quorum, votes, decisions, silver certificates", self.award_silver),
            ("Nairobi applies for gold; suspension and revocation proposed", self.second_round),
            (
                "A learning community forms around Mombasa's and Kisumu's shared gap",
                self.learning_community,
            ),
            ("Committees decide: gold, a suspension, a revocation", self.second_meetings),
            ("Event reports reach the global node", self.reports),
            ("Certificates verified as `sdgcities verify` does", self.verify),
            ("Registries list the certified cities, the global one all of them", self.registries),
            ("Accra renews its silver certificate: confirmed answers, review, vote", self.renew),
            ("Demo sign-ins: passwords chosen through the site's reset mail", self.demo_sign_ins),
        ]

    def run(self) -> list[StepResult]:
        results = []
        for title, action in self.steps():
            started = time.monotonic()
            try:
                lines, skipped = action(), False
            except Skipped as skip:
                lines, skipped = [str(skip)], True
            except (UnexpectedAnswer, Unexpected, SignInFailed, httpx.HTTPError) as exc:
                raise StepFailed(title, str(exc)) from exc
            except Exception as exc:  # the verifier's CliError, a broken answer: name the step
                raise StepFailed(title, f"{type(exc).__name__}: {exc}") from exc
            result = StepResult(title, lines, time.monotonic() - started, skipped)
            self.narrator.step(result)
            results.append(result)
        return results

    def demo_sign_ins(self) -> list[str]:
        """Every kind of person of the cycle chooses a password on the site, so a newcomer can
        sign in as each: Kenya's staff, reviewers, committee member and city official, and the
        global node's secretariat and committee member."""
        if self.mail_folder is None:
            raise Skipped("no mail server: the nodes cannot send the set-password links")
        kenya = self.offices["KE"]
        code = kenya.country.code.lower()
        people = (
            (kenya.node, "secretariat", f"secretariat@{code}.example.org"),
            (kenya.node, "administrator", f"admin@{code}.example.org"),
            (kenya.node, "lead reviewer", f"reviewer1@{code}.example.org"),
            (kenya.node, "second reviewer", f"reviewer2@{code}.example.org"),
            (kenya.node, "committee member", f"{COMMITTEE[1]}@{code}.example.org"),
            (kenya.node, "city official", f"{GOLD_CITY.lower()}@{code}.example.org"),
            (self.global_node, "secretariat", GLOBAL_SECRETARIAT),
            (self.global_node, "committee member", GLOBAL_COMMITTEE),
        )
        mail_folder = self.mail_folder

        def choose(person: tuple[Node, str, str]) -> None:
            node, _role, email = person
            choose_password(node_url=node.url, email=email, mail_folder=mail_folder)

        # Side by side: each person waits for their own mail, and a node hashes one password
        # while another is mailed (one after the other, this was the walk-through's longest step).
        with ThreadPoolExecutor(max_workers=len(people)) as pool:
            list(pool.map(choose, people))
        self.sign_ins += [
            DemoSignIn(
                role=role,
                email=email,
                password=DEMO_PASSWORD,
                node_url=node.url,
                node_id=node.node_id,
            )
            for node, role, email in people
        ]
        return [f"{s.node_id} {s.role}: {s.email} at {s.page}" for s in self.sign_ins]

    # Federation ---------------------------------------------------------------------------------

    def global_people(self) -> list[str]:
        api, admin = self.global_api, self.global_node.admin
        self.global_secretariat = _enrol(
            api, admin, "secretariat", GLOBAL_SECRETARIAT, "Global secretariat"
        )
        self.global_committee = _enrol(
            api,
            admin,
            "committee_member",
            GLOBAL_COMMITTEE,
            "Global committee chair",
            **_term(),
            stakeholder_category="civil_society",
        )
        return [
            f"global node {self.global_node.url}, root key thumbprint "
            f"{self.global_node.root_thumbprint} (verifiers pin it)"
        ]

    def join(self) -> list[str]:
        secretariat = _person(self.global_secretariat)
        lines = []
        for office in self.offices.values():
            sent = office.api.post("/admin/federation/join", who=office.admin, json={}, expect=202)
            request_id = sent.get("request_id")
            if request_id is None:
                raise Unexpected(f"{office.country.code}: the join request was not recorded")
            self.global_api.post(
                f"/federation/join-requests/{request_id}/approve", who=secretariat.headers
            )
        for office in self.offices.values():
            synced = office.api.post("/admin/federation/sync", who=office.admin)
            lines.append(
                f"{office.country.code} {office.node.url}: approved, trust list "
                f"#{synced['sequence']} synced"
            )
        return lines

    def adapt_frameworks(self) -> list[str]:
        lines = []
        for office in self.offices.values():
            api, admin, country = office.api, office.admin, office.country
            baseline = api.get("/frameworks", framework_id="sdgcities-baseline", status="published")
            if not baseline["data"]:
                raise Unexpected(f"{country.code}: no published baseline framework")
            draft = api.call(
                "POST",
                f"/frameworks/{baseline['data'][0]['id']}/derive",
                who=admin,
                expect=201,
                json={
                    "framework_id": country.framework_id,
                    "version": "1",
                    "title": f"SDG Cities certification: {country.name}",
                },
            )
            office.framework_version_id = draft["id"]
            api.patch(
                f"/frameworks/{draft['id']}/criteria/{country.contextualised_code}",
                who=admin,
                json={"text": country.contextualised_text},
            )
            published = api.post(f"/frameworks/{draft['id']}/publish", who=admin)
            office.criteria = {
                stage["key"]: [criterion["code"] for criterion in stage["criteria"]]
                for stage in published["document"]["stages"]
            }
            asked = api.post(
                f"/admin/frameworks/{draft['id']}/request-endorsement", who=admin, expect=202
            )
            if asked.get("request_id") is None:
                raise Unexpected(f"{country.code}: the endorsement request was not recorded")
            office.endorsement_request_id = asked["request_id"]
            lines.append(
                f"{country.framework_id} v1: {country.contextualised_code} reworded for "
                f"{country.name}; digest {published['digest'][:19]}…; endorsement requested"
            )
        return lines

    def endorse(self) -> list[str]:
        decided = hold_meeting(
            self.global_api,
            _person(self.global_secretariat).headers,
            [_person(self.global_committee)],
            "Global committee: national frameworks",
            where="global",
        )
        asked = {office.endorsement_request_id for office in self.offices.values()}
        on_agenda = {item["endorsement_request_id"] for item, _quorum in decided}
        if not asked <= on_agenda:
            raise Unexpected(f"endorsement requests {sorted(asked - on_agenda)} not decided")
        lines = [f"global committee meeting: {len(decided)} endorsement(s) voted and approved"]
        for office in self.offices.values():
            synced = office.api.post("/admin/federation/sync", who=office.admin)
            version = office.api.get(f"/frameworks/{office.framework_version_id}", who=office.admin)
            if not version["usable_for_certification"]:
                raise Unexpected(
                    f"{office.country.code}: {version['framework_id']} is not usable for "
                    "certification after the sync"
                )
            lines.append(
                f"{office.country.code}: {version['framework_id']} v1 endorsed (the root key "
                "signed the committee's decision); "
                f"trust list #{synced['sequence']}"
            )
        return lines

    # Certification ------------------------------------------------------------------------------

    def national_people(self) -> list[str]:
        lines = []
        for office in self.offices.values():
            api, admin, code = office.api, office.admin, office.country.code.lower()
            office.secretariat = _enrol(
                api, admin, "secretariat", f"secretariat@{code}.example.org", "Secretariat"
            )
            # The node's own administrator token is no one's; a person signs in on the site.
            office.administrator = _enrol(
                api, admin, "administrator", f"admin@{code}.example.org", "Administrator"
            )
            office.reviewers = [
                _enrol(api, admin, "reviewer", f"reviewer{n}@{code}.example.org", f"Reviewer {n}")
                for n in (1, 2)
            ]
            office.members = [
                _enrol(
                    api,
                    admin,
                    "committee_member",
                    f"{category}@{code}.example.org",
                    f"Committee member ({category.replace('_', ' ')})",
                    stakeholder_category=category,
                    **_term(),
                )
                for category in COMMITTEE
            ]
            for city in office.country.cities:
                api.call(
                    "POST",
                    "/cities",
                    who=admin,
                    expect=201,
                    json={
                        "locode": city.locode,
                        "name": city.name,
                        "region": city.region,
                        "languages": list(city.languages),
                        "priorities": list(city.priorities),
                    },
                )
                office.applicants[city.locode] = _enrol(
                    api,
                    admin,
                    "city_applicant",
                    f"{city.locode.lower()}@{code}.example.org",
                    f"{city.name} city applicant",
                    city_locode=city.locode,
                )
            names = ", ".join(f"{c.name} ({c.locode})" for c in office.country.cities)
            lines.append(f"{office.country.code}: 2 reviewers, committee of 3; cities {names}")
        return lines

    def apply_for_silver(self) -> list[str]:
        lines = []
        for office in self.offices.values():
            for city in office.country.cities:
                application_id, files = self._apply(office, city, SILVER)
                lines.append(
                    f"{city.locode} {city.name}: application {application_id}, "
                    f"{len(office.criteria[SILVER])} criteria answered, {files} evidence files"
                )
        return lines

    def fees(self) -> list[str]:
        """Each secretariat sets its silver fees by income group and population band (§29); Ghana
        waives a city's fee, Kenya invoices Nairobi and records its payment; the fee report
        sums what was charged, waived and paid by income group."""
        lines = []
        for office in self.offices.values():
            staff = office.staff.headers
            for income_group, min_population, amount in SILVER_FEES:
                office.api.put(
                    "/fees/schedule/rates",
                    who=staff,
                    json={
                        "stage": SILVER,
                        "income_group": income_group,
                        "min_population": min_population,
                        "amount_minor": amount,
                        "currency": FEE_CURRENCY,
                    },
                )
        ghana, kenya = self.offices["GH"], self.offices["KE"]
        waived = ghana.api.put(
            f"/applications/{ghana.applications[WAIVED_CITY]}/fee/decision",
            who=ghana.staff.headers,
            json={
                "kind": "waived",
                "reason": (
                    "Sample reason for the demo: a lower-middle-income country's city whose "
                    "budget cannot carry the fee (§29: fees must not exclude lower-income cities)."
                ),
            },
        )
        if waived["state"] != "waived" or waived["due_minor"] != 0:
            raise Unexpected(f"{WAIVED_CITY}: the fee is {waived['state']} after the waiver")
        lines.append(
            f"{WAIVED_CITY}: {_money(waived['standard_minor'])} silver fee "
            f"({waived['income_group']} income) waived by the secretariat, with its reason"
        )
        nairobi = f"/applications/{kenya.applications[GOLD_CITY]}/fee"
        due = kenya.api.get(nairobi, who=kenya.staff.headers)
        for kind, reference in (("invoice", "KE-2026-0001"), ("payment", "MPESA-QX7Y2Z")):
            paid = kenya.api.call(
                "POST",
                f"{nairobi}/records",
                who=kenya.staff.headers,
                expect=201,
                json={
                    "kind": kind,
                    "amount_minor": due["due_minor"],
                    "dated_on": str(date.today()),
                    "reference": reference,
                },
            )
        if paid["state"] != "paid":
            raise Unexpected(f"{GOLD_CITY}: the fee is {paid['state']} after its payment")
        lines.append(f"{GOLD_CITY}: {_money(due['due_minor'])} silver fee invoiced and paid")
        for office in (kenya, ghana):
            for row in office.api.get("/fees/report", who=office.staff.headers)["data"]:
                lines.append(
                    f"{office.country.code} fee report, {row['income_group']} income: "
                    f"{row['applications']} applications, {_money(row['charged_minor'])} "
                    f"charged, {_money(row['waived_minor'])} waived, "
                    f"{_money(row['paid_minor'])} paid"
                )
        return lines

    def review(self) -> list[str]:
        lines = []
        for office in self.offices.values():
            for city in office.country.cities:
                report = self._review(office, city.locode, SILVER)
                lines.append(f"{city.locode}: recommended; stage report {report['digest'][:19]}…")
        return lines

    def award_silver(self) -> list[str]:
        lines = []
        for office in self.offices.values():
            decided = self._meeting(office, f"{office.country.name} committee, first meeting")
            for item, quorum in decided:
                lines.append(self._recorded(office, item, quorum))
        return lines

    def second_round(self) -> list[str]:
        kenya, ghana = self.offices["KE"], self.offices["GH"]
        nairobi = kenya.city(GOLD_CITY)
        _, files = self._apply(kenya, nairobi, GOLD)
        report = self._review(kenya, GOLD_CITY, GOLD)
        lines = [
            f"{GOLD_CITY} {nairobi.name}: gold application, "
            f"{len(kenya.criteria[GOLD])} criteria, {files} evidence files; recommended, "
            f"stage report {report['digest'][:19]}…"
        ]
        for office, locode, kind, reason in (
            (
                kenya,
                SUSPENDED_CITY,
                "suspension",
                "Sample reason for the demo: a spot-check found the work programme unfunded.",
            ),
            (
                ghana,
                REVOKED_CITY,
                "revocation",
                "Sample reason for the demo: the stocktaking submitted was not the city's own.",
            ),
        ):
            certificate = _certificate_of(office, locode, SILVER)
            office.api.call(
                "POST",
                f"/certificates/{quote(certificate.certificate_id, safe=':')}/proposals",
                who=office.staff.headers,
                expect=201,
                json={"kind": kind, "reason": reason},
            )
            lines.append(f"{locode}: {kind} of its silver certificate proposed by the secretariat")
        return lines

    def learning_community(self) -> list[str]:
        """Mombasa and Kisumu apply for gold, and both reviews find participatory planning
        (B.c) only partly met; the node proposes a learning community of the two around that
        gap (report §30c), the secretariat forms it, both cities are told and join, a peer
        exchange is scheduled (calendar invitations) and the discussion opens."""
        kenya = self.offices["KE"]
        if SHARED_GAP not in kenya.criteria[GOLD]:
            raise Unexpected(f"KE: the gold stage has no criterion {SHARED_GAP}")
        api, staff = kenya.api, kenya.staff.headers
        lines = []
        for locode in COMMUNITY_CITIES:
            city = kenya.city(locode)
            application_id, _ = self._apply(kenya, city, GOLD)
            report = self._review(kenya, locode, GOLD, partly_met=SHARED_GAP)
            lines.append(
                f"{locode} {city.name}: gold application {application_id} not recommended, "
                f"{SHARED_GAP} partly met; stage report {report['digest'][:19]}…"
            )
        wanted = sorted(COMMUNITY_CITIES)
        self._check_community_proposed(kenya, wanted)
        lines.append(f"proposed: {', '.join(wanted)} share {SHARED_GAP} in their latest reports")
        community = api.call(
            "POST",
            "/communities",
            who=staff,
            expect=201,
            json={
                "title": "Participatory planning together",
                "description": "Sample community for the demo: Mombasa and Kisumu bring "
                "residents into their 2030 strategic frameworks.",
                "gaps": [SHARED_GAP],
                "cities": wanted,
            },
        )
        starts = self._community_life(kenya, community, wanted)
        lines += [
            f'community {community["id"]} "{community["title"]}" formed; both cities told '
            "and joined (each consented to be shown to the other)",
            f"peer exchange on {starts.date().isoformat()} at 09:00 UTC: calendar invitations "
            "to both cities' people; Kisumu reads Mombasa's post",
        ]
        return lines

    def _check_community_proposed(self, kenya: Office, wanted: list[str]) -> None:
        """The node proposes a community of the `wanted` cities around the shared gap."""
        proposals = kenya.api.get("/communities/proposals", who=kenya.staff.headers)["data"]
        proposal = next(
            (
                found
                for found in proposals
                if [city["locode"] for city in found["cities"]] == wanted
                and SHARED_GAP in [gap["code"] for gap in found["gaps"]]
            ),
            None,
        )
        if proposal is None:
            raise Unexpected(f"KE: no community of {wanted} around {SHARED_GAP} proposed")

    def _community_life(
        self, kenya: Office, community: dict[str, Any], wanted: list[str]
    ) -> datetime:
        """Both cities join the community, a peer exchange is scheduled and Mombasa posts;
        Kisumu sees it all. When the exchange starts."""
        api, staff = kenya.api, kenya.staff.headers
        path = f"/communities/{community['id']}"
        for locode in COMMUNITY_CITIES:
            api.post(
                f"{path}/consent",
                who=kenya.applicants[locode].headers,
                json={"answer": "join"},
            )
        starts = (datetime.now(UTC) + timedelta(days=14)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        api.call(
            "POST",
            f"{path}/events",
            who=staff,
            expect=201,
            json={
                "kind": "peer_exchange",
                "title": "How we consulted residents",
                "starts_at": starts.isoformat(),
                "minutes": 90,
            },
        )
        mombasa, kisumu = (kenya.applicants[locode] for locode in COMMUNITY_CITIES)
        api.call(
            "POST",
            f"{path}/posts",
            who=mombasa.headers,
            expect=201,
            json={"text": "Sample post for the demo: our ward forums reached 3,000 residents."},
        )
        seen = api.get(path, who=kisumu.headers)
        members = sorted(member["locode"] for member in seen["members"])
        if members != wanted or len(seen["posts"]) != 1 or len(seen["events"]) != 1:
            raise Unexpected(f"KE: Kisumu sees members {members} and {len(seen['posts'])} posts")
        return starts

    def second_meetings(self) -> list[str]:
        lines = []
        # A split vote, so the tally shows: the academic abstains on the suspension.
        votes = {"suspension": ("yes", "yes", "abstain"), "revocation": ("yes", "yes", "no")}
        for office in self.offices.values():
            decided = self._meeting(
                office, f"{office.country.name} committee, second meeting", votes=votes
            )
            for item, quorum in decided:
                lines.append(self._recorded(office, item, quorum))
        return lines

    # Reports, verification, registries ----------------------------------------------------------

    def reports(self) -> list[str]:
        """Each national node's relay pushes its events to the global node; wait (bounded) until
        the global node holds every one of them."""
        paths = self.global_api.get("/openapi.json").get("paths", {})
        if REPORTS_PATH not in paths or LOGS_PATH not in paths:
            raise Skipped(f"skipped: this global node takes no event reports ({REPORTS_PATH})")
        heads = {
            node_id: office.api.get("/federation/events", after=0, limit=1)["head"]["sequence"]
            for node_id, office in self.offices.items()
        }
        deadline = time.monotonic() + self.report_wait
        while True:
            received = self._received()
            if all(received.get(node_id, 0) >= head for node_id, head in heads.items()):
                break
            if time.monotonic() > deadline:
                behind = ", ".join(
                    f"{node_id} {received.get(node_id, 0)} of {head}"
                    for node_id, head in heads.items()
                )
                raise Unexpected(
                    f"the global node did not receive every event within "
                    f"{self.report_wait:.0f} s: {behind}"
                )
            time.sleep(0.25)
        return [
            f"{node_id}: {received[node_id]} of its {head} events received by the global node"
            for node_id, head in heads.items()
        ]

    def _received(self) -> dict[str, int]:
        """Each node's log head as the global node holds it."""
        logs = self.global_api.get(LOGS_PATH, who=_person(self.global_secretariat).headers)
        return {log["node_id"]: int(log["head_sequence"]) for log in logs["data"]}

    def verify(self) -> list[str]:
        """Every certificate issued, fetched from its node's registry and verified with the same
        functions as `sdgcities verify URL`, pinning the thumbprint the global node printed."""
        from sdgcities.cli import _report
        from sdgcities.cli._config import Settings
        from sdgcities.cli._http import new_client
        from sdgcities.cli._trustdata import online_trust
        from sdgcities.cli._verify import fetch_certificate
        from sdgcities.credentials import StatusListHistory

        thumbprint = self.global_node.root_thumbprint
        if thumbprint is None:
            raise Unexpected("the global node printed no root key thumbprint")
        settings = Settings(
            root_thumbprints=frozenset({thumbprint}),
            registry_url=self.global_node.url,
            # Its own folder: a bundle the user keeps for another federation plays no part.
            bundle_dir=self.verifier_folder,
            config_path=None,
        )
        lines = []
        with new_client() as client:
            # A fresh history: the demo's federation is new each run, and the user's is not its.
            trust = online_trust(
                settings,
                settings.pins(),
                client=client,
                now=datetime.now(UTC),
                history=StatusListHistory(),
            )
            lines.append(trust.summary)
            for office in self.offices.values():
                for expected in office.certificates:
                    url = _credential_url(office.node, expected.certificate_id)
                    token = fetch_certificate(client, url)
                    shown = _report.answer(trust.verifier.verify(token))
                    status = "valid" if shown["valid"] else (shown["reason"] or shown["status"])
                    verified = Verified(expected, status, shown["reason"], url)
                    self.verified.append(verified)
                    lines.append(_verified_line(verified))
        wrong = [v for v in self.verified if not v.as_expected]
        if wrong:
            raise Unexpected(
                "; ".join(
                    f"{v.expected.locode} {v.expected.level}: {v.status}, expected "
                    f"{v.expected.status}"
                    for v in wrong
                )
            )
        return lines

    def registries(self) -> list[str]:
        """Each national registry lists its certified cities; the global node's lists them all
        (from the reports it received: one place for an investor to ask, §30d)."""
        lines = []
        federation: dict[str, str] = {}
        for office in self.offices.values():
            expected = _current_levels(office.certificates)
            federation |= expected
            lines.append(_listed(office.api, office.node.url, expected, office.country.code))
        lines.append(_listed(self.global_api, self.global_node.url, federation, "the federation's"))
        return lines

    def renew(self) -> list[str]:
        """Accra renews its silver certificate (§18, §42c): the renewal carries the last
        application's answers and evidence over, the city confirms each, the review and the
        committee's vote follow as for any application, and the renewed certificate starts
        where the current one ends; the registry links the two. (The demo's nodes open the
        renewal window wider than a ministry would, so that a certificate issued minutes ago
        can be renewed: `DEMO_NODE_SETTINGS`.)"""
        ghana = self.offices["GH"]
        api, applicant = ghana.api, ghana.applicants[RENEWING_CITY]
        current = _certificate_of(ghana, RENEWING_CITY, SILVER)
        started = api.call(
            "POST",
            f"/certificates/{quote(current.certificate_id, safe=':')}/renewal",
            who=applicant.headers,
            expect=201,
        )
        application_id = started["id"]
        base = f"/applications/{application_id}"
        to_confirm = started.get("to_confirm") or []
        if sorted(to_confirm) != sorted(ghana.criteria[SILVER]):
            raise Unexpected(f"renewal {application_id}: {to_confirm} to confirm")
        for code in to_confirm:
            api.post(f"{base}/criteria/{code}/confirm", who=applicant.headers)
        _expect_state(
            api.post(f"{base}/submit", who=applicant.headers), "submitted", application_id
        )
        ghana.applications[RENEWING_CITY] = application_id
        carried: dict[str, list[int]] = {}
        for evidence in started["evidence"]:
            carried.setdefault(evidence["criterion_code"], []).append(evidence["id"])
        ghana.evidence[application_id] = carried
        self._review(ghana, RENEWING_CITY, SILVER)
        decided = self._meeting(ghana, f"{ghana.country.name} committee, third meeting")
        lines = [
            f"{RENEWING_CITY}: renewal application {application_id}, "
            f"{len(to_confirm)} carried-over answers confirmed; reviewed and recommended"
        ]
        lines += [self._recorded(ghana, item, quorum) for item, quorum in decided]
        chain = {c["id"]: c for c in api.get(f"/registry/cities/{RENEWING_CITY}")["certificates"]}
        successor = next(
            (c for c in chain.values() if c.get("renews") == current.certificate_id), None
        )
        if successor is None or chain[current.certificate_id].get("renewedBy") != successor["id"]:
            raise Unexpected(
                f"{RENEWING_CITY}: the registry shows no renewal of {current.certificate_id}: "
                + "; ".join(f"{c['id']} renews {c.get('renews')}" for c in chain.values())
            )
        lines.append(
            f"registry: {successor['id']} renews {current.certificate_id}, valid from "
            f"{successor['validFrom'][:10]} (the day the current one ends) to "
            f"{successor['validUntil'][:10]}"
        )
        return lines

    # The steps' parts ---------------------------------------------------------------------------

    def _apply(self, office: Office, city: City, stage: str) -> tuple[int, int]:
        """A city applicant's application for `stage`, answered, with evidence, submitted."""
        api, applicant = office.api, office.applicants[city.locode]
        created = api.call(
            "POST",
            "/applications",
            who=applicant.headers,
            expect=201,
            json={"stage": stage, "framework_version_id": office.framework_version_id},
        )
        application_id: int = created["id"]
        base = f"/applications/{application_id}"
        evidence: dict[str, list[int]] = {}
        for code in office.criteria[stage]:
            api.put(
                f"{base}/criteria/{code}",
                who=applicant.headers,
                json={"narrative": narrative(city, code)},
            )
            files = [(f"{city.locode}-{code}.pdf", evidence_pdf(city, code))]
            if code == "B.a":
                files.append((f"{city.locode}-baseline-data.csv", evidence_csv(city)))
            evidence[code] = [
                api.call(
                    "POST",
                    f"{base}/criteria/{code}/evidence",
                    who=applicant.headers,
                    expect=201,
                    params={"filename": name},
                    content=body,
                )["id"]
                for name, body in files
            ]
        submitted = api.post(f"{base}/submit", who=applicant.headers)
        _expect_state(submitted, "submitted", application_id)
        office.applications[city.locode] = application_id
        office.evidence[application_id] = evidence
        return application_id, sum(len(ids) for ids in evidence.values())

    def _review(
        self, office: Office, locode: str, stage: str, *, partly_met: str | None = None
    ) -> dict[str, Any]:
        """Two reviewers assess every criterion as met (but `partly_met`, a gap that leaves the
        application not recommended), the lead consolidates: the stage report."""
        api = office.api
        application_id = office.applications[locode]
        base = f"/applications/{application_id}"
        lead = office.reviewers[0]
        api.call(
            "POST",
            f"{base}/reviewers",
            who=office.admin,
            expect=201,
            json={"reviewer_ids": [r.user_id for r in office.reviewers], "lead_id": lead.user_id},
        )
        evidence = office.evidence[application_id]
        for reviewer in office.reviewers:
            for code in office.criteria[stage]:
                verdict = "partly_met" if code == partly_met else "met"
                api.put(
                    f"{base}/review/assessments/{code}",
                    who=reviewer.headers,
                    json={
                        "verdict": verdict,
                        "reasons": f"Sample review for the demo: the evidence shows {code} "
                        f"{verdict.replace('_', ' ')}.",
                        "evidence_ids": evidence[code],
                    },
                )
            api.post(f"{base}/review/submit", who=reviewer.headers)
        recommendation = "not_recommended" if partly_met else "recommended"
        report: dict[str, Any] = api.post(
            f"{base}/review/consolidate",
            who=lead.headers,
            json={
                "recommendation": recommendation,
                "summary": f"Sample consolidation for the demo: {partly_met} is partly met."
                if partly_met
                else "Sample consolidation for the demo: every criterion is met.",
                "verdicts": [],
            },
        )
        _expect_state(api.get(base, who=office.admin), recommendation, application_id)
        return report

    def _meeting(
        self,
        office: Office,
        title: str,
        *,
        votes: Mapping[str, tuple[str, ...]] | None = None,
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """A meeting of the national committee (see `hold_meeting`)."""
        return hold_meeting(
            office.api,
            office.staff.headers,
            office.members,
            title,
            votes=votes,
            where=office.country.code,
        )

    def _recorded(self, office: Office, item: dict[str, Any], quorum: dict[str, Any]) -> str:
        """What a decided item did, as one line; an award's certificate is kept for later."""
        tally = item.get("tally") or {}
        counted = (
            f"{quorum['attending']}/{quorum['sitting']} attending (quorum {quorum['required']}, "
            f"{quorum['non_government_attending']} non-government); votes "
            + ", ".join(f"{tally[choice]} {choice}" for choice in VOTES if tally.get(choice))
        )
        api, admin = office.api, office.admin
        if item["kind"] == "award":
            certificate = api.get(
                f"/certificates/{quote(item['certificate_id'], safe=':')}", who=admin
            )
            city = office.city(certificate["city_locode"])
            office.certificates.append(
                Expected(
                    node_id=office.country.code,
                    locode=city.locode,
                    city=city.name,
                    stage=certificate["stage"],
                    level=certificate["level"],
                    certificate_id=certificate["id"],
                    status="valid",
                )
            )
            return (
                f"{city.locode} {city.name}: {certificate['level']} certificate issued; {counted}"
            )
        certificate_id = item["certificate_id"]
        status = {"suspension": "suspended", "revocation": "revoked"}[item["kind"]]
        detail = api.get(f"/certificates/{quote(certificate_id, safe=':')}", who=admin)
        if detail["status"] != status:
            raise Unexpected(f"certificate {certificate_id} is {detail['status']}, not {status}")
        office.certificates = [
            _with_status(c, status) if c.certificate_id == certificate_id else c
            for c in office.certificates
        ]
        return f"{detail['city_locode']}: {detail['level']} certificate {status}; {counted}"


# Helpers --------------------------------------------------------------------------------------


def hold_meeting(
    api: NodeApi,
    secretariat: Headers,
    members: list[Person],
    title: str,
    *,
    votes: Mapping[str, tuple[str, ...]] | None = None,
    where: str,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """A meeting of the whole committee: attendance, agenda, votes, every item decided,
    closed. Each decided item with the quorum counted at its decision."""
    scheduled_for = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    meeting = api.call(
        "POST",
        "/committee/meetings",
        who=secretariat,
        expect=201,
        json={"title": title, "scheduled_for": scheduled_for},
    )
    base = f"/committee/meetings/{meeting['id']}"
    for member in members:
        api.call(
            "POST",
            f"{base}/attendance",
            who=secretariat,
            expect=201,
            json={"member_id": member.user_id},
        )
    api.post(f"{base}/open", who=secretariat)
    agenda = api.post(f"{base}/agenda/generate", who=secretariat)["added"]
    if not agenda:
        raise Unexpected(f"{where}: the generated agenda is empty")
    decided = []
    for item in agenda:
        choices = (votes or {}).get(item["kind"], ("yes",) * len(members))
        for member, choice in zip(members, choices, strict=True):
            api.call(
                "POST",
                f"/committee/items/{item['id']}/votes",
                who=member.headers,
                expect=201,
                json={"choice": choice},
            )
        outcome = api.post(f"/committee/items/{item['id']}/decide", who=secretariat)
        if outcome["outcome"] != "approved":
            raise Unexpected(f"item {item['id']} ({item['kind']}): {outcome['outcome']}")
        decided.append((outcome, outcome["quorum"]))
    api.post(f"{base}/close", who=secretariat)
    return decided


def _enrol(api: NodeApi, admin: Headers, role: str, email: str, name: str, **fields: Any) -> Person:
    user = api.call(
        "POST",
        "/admin/users",
        who=admin,
        expect=201,
        json={"name": name, "email": email, "role": role, **fields},
    )
    token = api.call(
        "POST", f"/admin/users/{user['id']}/tokens", who=admin, expect=201, json={"label": "demo"}
    )
    return Person(user["id"], {"Authorization": f"Bearer {token['token']}"})


def _term() -> dict[str, str]:
    today = date.today()
    return {
        "term_start": str(today - timedelta(days=30)),
        "term_end": str(today + timedelta(days=3 * 365)),
    }


def _person(person: Person | None) -> Person:
    if person is None:
        raise Unexpected("a step ran before the one that enrols its people")
    return person


def _expect_state(application: dict[str, Any], state: str, application_id: int) -> None:
    if application.get("state") != state:
        raise Unexpected(
            f"application {application_id} is {application.get('state')}, expected {state}"
        )


def _certificate_of(office: Office, locode: str, stage: str) -> Expected:
    for certificate in office.certificates:
        if certificate.locode == locode and certificate.stage == stage:
            return certificate
    raise Unexpected(f"{locode} holds no {stage} certificate")


def _with_status(certificate: Expected, status: str) -> Expected:
    return Expected(
        node_id=certificate.node_id,
        locode=certificate.locode,
        city=certificate.city,
        stage=certificate.stage,
        level=certificate.level,
        certificate_id=certificate.certificate_id,
        status=status,
    )


def _credential_url(node: Node, certificate_id: str) -> str:
    return f"{node.url}/registry/credentials/{quote(certificate_id, safe=':')}"


def _verified_line(verified: Verified) -> str:
    expected = verified.expected
    mark = "as expected" if verified.as_expected else f"EXPECTED {expected.status}"
    return f"{expected.locode} {expected.city:<9} {expected.level:<6} {verified.status:<9} ({mark})"


LEVEL_ORDER = ("silver", "gold", "platinum", "diamond")
# The demo's silver fees (§29), in US cents: (income group, population from, amount).
SILVER_FEES = (
    ("low", 0, 50_000),
    ("lower-middle", 0, 150_000),
    ("lower-middle", 1_000_000, 300_000),
    ("upper-middle", 0, 500_000),
    ("high", 0, 1_000_000),
)
FEE_CURRENCY = "USD"


def _money(amount_minor: int) -> str:
    return f"{FEE_CURRENCY} {amount_minor / 100:,.2f}"


def _listed(api: NodeApi, url: str, expected: dict[str, str], whose: str) -> str:
    listed = api.get("/registry/cities")
    certified = {city["locode"]: city["level"] for city in listed["data"]}
    if certified != expected:
        raise Unexpected(f"{whose} registry lists {certified}, expected {expected}")
    shown = ", ".join(f"{city['name']} {city['level']}" for city in listed["data"])
    return f"{url}/registry/cities: {shown}"


def _current_levels(certificates: Sequence[Expected]) -> dict[str, str]:
    """Each city's highest level among its valid certificates: what the registry must list."""
    levels: dict[str, str] = {}
    for certificate in certificates:
        if certificate.status != "valid":
            continue
        held = levels.get(certificate.locode)
        if held is None or LEVEL_ORDER.index(certificate.level) > LEVEL_ORDER.index(held):
            levels[certificate.locode] = certificate.level
    return levels
