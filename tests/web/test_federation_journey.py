"""One certification, end to end, in Chromium over a running federation.

Two real `node serve` processes on loopback ports: the global node and Kenya's national node,
which joined the federation, had its framework endorsed by the global committee, and reports its
events to the global node (the relay, polled every 0.2 s here). Kenya's mail goes to an SMTP
server in this process. What is not the journey is set up over the API, as an administrator
would: the federation, the framework, the city of Mombasa, and the people (invited through
`POST /invitations`; each chooses a password through the link in the invitation mail).

The journey then goes through the web pages, each person in their own browser context, in this
order (one function per step, each taking the shared `Journey`):

1. `city_applies_in_french`: Mombasa's official follows the French invitation, chooses a
   password, signs in on `/fr/...`, answers every criterion with evidence (a PDF, a data
   table, a note) and submits.
2. `review_with_a_clarification`: the node's administrator assigns two reviewers; the lead asks a
   clarification, the city answers it on its application page; both reviewers assess every
   criterion and submit, and the lead consolidates: recommended.
3. `committee_awards_the_certificate`: the secretariat schedules a meeting, puts the application
   on its agenda and opens it, and records the four members as attending; one member recuses
   from the item, the three others vote yes; the secretariat records the decision on the item's
   page, which issues the certificate, and closes the meeting.
4. `certificate_is_registered_and_verifies`: the certificate's page shows it valid; Mombasa is
   on Kenya's registry page and, once Kenya's report reaches the global node, on the global
   registry page; the token downloaded from the certificate page verifies as valid on the global
   node's verify page.
5. `investor_watches_the_city`: an investor, from Mombasa's public page, asks to watch the city
   twice, once by email and once by webhook (a receiver on a loopback port), and confirms each
   watch through the link mailed to them.
6. `committee_suspends_the_certificate`: the secretariat proposes a suspension on its
   certificates pages, a second meeting decides it, and the certificate's page shows it
   suspended on Kenya's node and, after the next report, on the global node.
7. `investor_is_told`: the webhook arrives, a notice signed by Kenya's node that
   `credentials.verify_notice` accepts against the trust list from the global node (pinned by
   its root thumbprint), and the email notice arrives too.

A step that follows is one more function taking the `Journey` and one more line in the test.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from fpdf import FPDF
from playwright.sync_api import Browser, Locator, Page, expect

from sdgcities.cli.demo.sign_ins import post_form
from sdgcities.credentials import TrustList, verify_notice

from ..integration.harness import Node, endorsed_framework, federation, stop_process
from ..node.watches.conftest import Receiver, receiver  # noqa: F401 (the fixture)
from .browser import assert_accessible, watched_page
from .world import Mailbox, smtp_server

pytestmark = pytest.mark.slow

CITY = ("KE-MBA", "Mombasa")
CRITERIA = ("A.a", "A.b", "A.c")
PASSWORD = "coastal resilience port plan"
# The relay reports quickly, so the global node hears of a decision within a second or two.
FAST_RELAY = {
    "relay_interval_seconds": 0.2,
    "relay_backoff_base_seconds": 0.2,
    "relay_backoff_max_seconds": 1.0,
}
REPORT_WAIT_SECONDS = 60.0
INVESTOR = "esg-desk@fund.example.org"
# The investor's webhook listens on loopback, over plain http: allowed on this test's node only.
WATCHES = {
    "webhook_allow_http": True,
    "webhook_allow_private_addresses": True,
    "watch_interval_seconds": 0.2,
}
_WATCH_CONFIRMATION = re.compile(r"https?://\S+/en/watch/confirm\?token=[A-Za-z0-9_-]+")
_SET_PASSWORD = re.compile(r"https?://\S+/(?:en|fr)/set-password/[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Person:
    user_id: int
    email: str
    language: str


@dataclass
class Journey:
    """The federation, its people, and what each step leaves for the next."""

    browser: Browser
    global_node: Node
    kenya: Node
    mailbox: Mailbox
    folder: Path
    receiver: Receiver
    people: dict[str, Person] = field(default_factory=dict)
    application_id: int = 0
    certificate_id: str = ""
    token: str = ""
    # Each person signs in once; their later pages reuse the session's cookies.
    sessions: dict[str, Any] = field(default_factory=dict)
    followed_links: list[str] = field(default_factory=list)

    @contextmanager
    def page(self, who: str | None = None, node: Node | None = None) -> Iterator[Page]:
        """A watched page on `node` (Kenya's by default), signed in as `who` if given."""
        signed_in = {"storage_state": self.sessions[who]} if who in self.sessions else {}
        with watched_page(self.browser, (node or self.kenya).url, **signed_in) as page:
            if who is not None and not signed_in:
                person = self.people[who]
                sign_in(page, person.email, PASSWORD, person.language)
                self.sessions[who] = page.context.storage_state()
            yield page

    def api(self, method: str, path: str, *, node: Node | None = None, **kwargs: Any) -> Any:
        """A call as `node`'s administrator (Kenya's by default); its JSON answer."""
        node = node or self.kenya
        answer = httpx.request(
            method, f"{node.url}{path}", headers=node.admin, timeout=30, **kwargs
        )
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


# Set-up (the API, not the journey) ----------------------------------------------------------------


def _term() -> dict[str, str]:
    today = date.today()
    return {
        "term_start": str(today - timedelta(days=30)),
        "term_end": str(today + timedelta(days=3 * 365)),
    }


PEOPLE: dict[str, dict[str, Any]] = {
    "official": {
        "email": "planning@mombasa.example.org",
        "role": "city_applicant",
        "city_locode": CITY[0],
        "language": "fr",
    },
    "administrator": {"email": "administrator@ke.example.org", "role": "administrator"},
    "secretariat": {"email": "secretariat@ke.example.org", "role": "secretariat"},
    "lead": {"email": "lead@reviewers.example.org", "role": "reviewer", "languages": ["en", "fr"]},
    "second": {
        "email": "second@reviewers.example.org",
        "role": "reviewer",
        "languages": ["en", "fr"],
    },
    **{
        category: {
            "email": f"{category.replace('_', '-')}@committee.example.org",
            "role": "committee_member",
            "stakeholder_category": category,
            **_term(),
        }
        for category in ("government", "civil_society", "academia", "private_sector")
    },
}
# The names they are invited with, as the pages show them.
PEOPLE_NAMES = {who: who.replace("_", " ").title() for who in PEOPLE}


def invite_everyone(journey: Journey) -> None:
    """Mombasa registered and everyone invited; all but the official (whose first sign-in is the
    journey's) choose their password through their invitation's link."""
    journey.api(
        "POST",
        "/cities",
        json={
            "locode": CITY[0],
            "name": CITY[1],
            "region": "Mombasa County",
            "languages": ["en", "fr"],
            "priorities": ["port economy", "coastal resilience"],
        },
    )
    for who, fields in PEOPLE.items():
        language = fields.get("language", "en")
        body = {"name": PEOPLE_NAMES[who], "language": language, **fields}
        user = journey.api("POST", "/invitations", json=body)
        journey.people[who] = Person(user["id"], fields["email"], language)
    with httpx.Client(base_url=journey.kenya.url, timeout=30) as client:
        for who, person in journey.people.items():
            if who != "official":
                post_form(
                    client,
                    invitation_link(journey, person),
                    {"new_password": PASSWORD, "confirm_password": PASSWORD},
                    expect=303,
                )


def invitation_link(journey: Journey, person: Person) -> str:
    mail = journey.mailbox.wait_for(person.email)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    found = _SET_PASSWORD.search(body.get_content())
    assert found is not None, body.get_content()
    link = found.group(0)
    assert link.startswith(f"{journey.kenya.url}/{person.language}/"), link
    return link.removeprefix(journey.kenya.url)


@pytest.fixture
def journey(
    chromium: Browser,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811 (the fixture)
) -> Iterator[Journey]:
    started: list[subprocess.Popen[bytes]] = []
    with smtp_server() as (mailbox, smtp_port):
        try:
            global_node, (kenya,) = federation(
                tmp_path,
                started,
                ("KE",),
                mail_host="127.0.0.1",
                mail_port=smtp_port,
                mail_from="sdgcities@ke.example.org",
                mail_interval_seconds=0.2,
                **FAST_RELAY,
                **WATCHES,
            )
            with httpx.Client(timeout=30) as http:
                endorsed_framework(http, global_node, kenya)
            journey = Journey(chromium, global_node, kenya, mailbox, tmp_path, receiver)
            invite_everyone(journey)
            yield journey
        finally:
            for process in started:
                stop_process(process)


# The browser ---------------------------------------------------------------------------------


def sign_in(page: Page, email: str, password: str, language: str) -> None:
    page.goto(f"/{language}/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def by_id(page: Page, element_id: str) -> Locator:
    """An element by its id, which may hold a dot (criterion codes: `verdict-A.a`)."""
    return page.locator(f'[id="{element_id}"]')


def evidence_file(folder: Path, code: str) -> Path:
    """What a city attaches to criterion `code`: a real PDF for the stocktaking (A.a), a data
    table and a plain-text note for the others (the reviewers' page previews PDFs only)."""
    name = f"mombasa-{code.replace('.', '-')}"
    if code == "A.a":
        path = folder / f"{name}.pdf"
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, "Mombasa: stocktaking of county policies and plans, 2026.")
        pdf.output(str(path))
        return path
    if code == "A.b":
        path = folder / f"{name}.csv"
        path.write_text("domain,indicator,year,note\nsocial,sample,2025,test data\n")
        return path
    path = folder / f"{name}.txt"
    path.write_text(f"Mombasa: how the county's action plan answers criterion {code}.\n")
    return path


def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = REPORT_WAIT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.25)


# The journey ---------------------------------------------------------------------------------


def city_applies_in_french(journey: Journey) -> None:
    official = journey.people["official"]
    with journey.page() as page:
        page.goto(invitation_link(journey, official))
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.fill("#new_password", PASSWORD)
        page.fill("#confirm_password", PASSWORD)
        page.click("#set-password")
        page.wait_for_url(lambda url: "/set-password/" not in url)
        sign_in(page, official.email, PASSWORD, "fr")

        page.goto("/fr/city")
        expect(page.locator("h1")).to_contain_text(CITY[1])
        page.check("#stage")
        page.locator("#start-application button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/fr/city/applications/\d+$"))
        journey.application_id = int(page.url.rpartition("/")[2])
        application_page = page.url
        assert_accessible(page)
        for code in CRITERIA:
            slug = code.replace(".", "-")
            answer = f"Comment Mombasa remplit le critère {code}, avec les pièces jointes."
            page.fill(f"#narrative-{slug}", answer)
            page.locator(f"#answer-{slug} button[type=submit]").click()
            expect(page.locator(f"#narrative-{slug}")).to_have_value(answer)
            evidence = evidence_file(journey.folder, code)
            page.set_input_files(f"#evidence-{slug}", evidence)
            page.locator(f"#upload-{slug} button[type=submit]").click()
            expect(page.locator(f"#criterion-{slug}")).to_contain_text(evidence.name)
        page.goto(application_page)
        page.locator("#submit-form button[type=submit]").click()
        expect(page.locator("#submit-form")).to_have_count(0)
        page.goto("/fr/city")
        expect(page.locator("section.application-card dl.summary dd strong")).to_have_text(
            "Soumise"
        )


def review_with_a_clarification(journey: Journey) -> None:
    application = journey.application_id
    lead, second = journey.people["lead"], journey.people["second"]
    with journey.page("administrator") as page:
        page.goto(f"/en/secretariat/applications/{application}/reviewers")
        page.check(f"#reviewer-{lead.user_id}")
        page.check(f"#reviewer-{second.user_id}")
        page.check(f"#lead-{lead.user_id}")
        page.locator("#assign-form button[type=submit]").click()
        expect(page.locator("#assigned-reviewers li")).to_have_count(2)

    question = "Which county plan does the evidence for A.b come from, and when was it adopted?"
    with journey.page("lead") as page:
        page.goto(f"/en/review/applications/{application}")
        page.check('[id="clarification-criteria-A.b"]')
        page.fill("#clarification-question", question)
        page.click("#clarification-submit")
        expect(page.locator("main")).to_contain_text(question)

    with journey.page("official") as page:
        page.goto(f"/fr/city/applications/{application}")
        expect(page.locator("#clarification-form")).to_contain_text(question)
        page.locator("#clarification-form textarea").fill(
            "Le plan intégré de développement du comté, adopté en 2023."
        )
        page.locator("#clarification-form button[type=submit]").click()
        expect(page.locator("#clarification-form")).to_have_count(0)

    for who in ("lead", "second"):
        with journey.page(who) as page:
            page.goto(f"/en/review/applications/{application}")
            for code in CRITERIA:
                form = by_id(page, f"assess-{code}")
                form.locator("input[name=verdict][value=met]").check()
                form.locator("textarea[name=reasons]").fill(
                    f"The evidence shows {code} met; the answer to the clarification confirms it."
                )
                for box in form.locator("input[name=evidence]").all():
                    box.check()
                by_id(page, f"assess-{code}-save").click()
                page.wait_for_url(re.compile(rf"done=assessed#criterion-{re.escape(code)}$"))
            page.click("#submit-review-button")
            expect(page.locator("#submit-review")).to_have_count(0)

    with journey.page("lead") as page:
        page.goto(f"/en/review/applications/{application}/consolidation")
        for code in CRITERIA:
            by_id(page, f"verdict-{code}").select_option(index=1)  # the reviewers' verdict
        page.check("input[name=recommendation][value=recommended]")
        page.fill("#summary", "Both reviewers found every criterion met, with evidence.")
        page.click("#consolidation-submit")
        page.wait_for_url(lambda url: "done=consolidated" in url)
    assert journey.api("GET", f"/applications/{application}")["state"] == "recommended"


def hold_meeting(journey: Journey, title: str, *, recusing: str | None) -> dict[str, Any]:
    """The secretariat schedules, fills and opens a meeting and records who attends, on its
    pages; the members vote on theirs (`recusing` stands aside first). The one item, decided."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    members = ("government", "civil_society", "academia", "private_sector")
    with journey.page("secretariat") as page:
        page.goto("/en/secretariat/meetings")
        page.fill("#title", title)
        page.fill("#day", tomorrow.isoformat())
        page.fill("#time", "09:00")
        page.locator("#schedule-form button[type=submit]").click()
        row = page.locator("#coming-meetings tr", has_text=title)
        expect(row).to_have_count(1)
        form_id = row.locator("form[id^=agenda-]").get_attribute("id")
        assert form_id is not None
        meeting_id = int(form_id.removeprefix("agenda-"))
        page.locator(f"#agenda-{meeting_id} button").click()
        expect(page.locator("#coming-meetings tr", has_text=title)).to_contain_text("Items: 1")
        page.locator(f"#open-{meeting_id} button").click()
        expect(page.locator(f"#close-{meeting_id}")).to_have_count(1)

        page.goto(f"/en/committee/meetings/{meeting_id}")
        for member in members:
            page.select_option("#member-id", str(journey.people[member].user_id))
            page.click("#attendance-submit")
            expect(page.locator("#attendance ~ .table-wrap")).to_contain_text(PEOPLE_NAMES[member])
        expect(page.locator("main")).to_contain_text("The quorum is met.")
        link = page.locator("#agenda ~ div a[href*='/committee/items/']")
        expect(link).to_have_count(1)
        href = link.get_attribute("href")
        assert href is not None
        item_id = int(href.rpartition("/")[2])

    for member in members:
        with journey.page(member) as page:
            page.goto(f"/en/committee/items/{item_id}")
            if member == recusing:
                page.fill("#recusal-reason", "I advised Mombasa's county on its application.")
                page.click("#recusal-submit")
                expect(page.locator("#recusals ~ *").first).to_contain_text(PEOPLE_NAMES[member])
            else:
                page.check("#vote-yes")
                page.click("#vote-submit")
                expect(page.locator("#vote-form")).to_have_count(0)

    with journey.page("secretariat") as page:
        page.goto(f"/en/committee/items/{item_id}")
        assert_accessible(page)
        page.click("#decide-submit")
        expect(page.locator("main")).to_contain_text("The decision is recorded and carried out.")
        expect(page.locator("main")).to_contain_text("Approved")
        page.goto("/en/secretariat/meetings")
        page.locator(f"#close-{meeting_id} button").click()
        expect(page.locator(f"#close-{meeting_id}")).to_have_count(0)
    decided: dict[str, Any] = journey.api("GET", f"/committee/items/{item_id}")
    return decided


def committee_awards_the_certificate(journey: Journey) -> None:
    decided = hold_meeting(journey, "Certification committee, first sitting", recusing="academia")
    assert decided["quorum"]["attending"] == 3, decided["quorum"]  # the recused member is out
    with journey.page() as page:
        page.goto(f"/fr/cities/{CITY[0]}")
        link = page.locator("a[href*='/fr/certificates/']")
        expect(link).to_have_count(1)
        href = link.get_attribute("href")
    assert href is not None
    journey.certificate_id = unquote(href.rpartition("/")[2])
    assert journey.certificate_id == decided["certificate_id"]


def certificate_page(journey: Journey) -> str:
    return f"/fr/certificates/{quote(journey.certificate_id, safe=':')}"


def certificate_is_registered_and_verifies(journey: Journey) -> None:
    with journey.page() as page:
        page.goto(certificate_page(journey))
        expect(page.locator(".certificate-status .status")).to_have_class(
            re.compile("status-valid")
        )
        with page.expect_download() as download:
            page.click("#certificate-download")
        journey.token = Path(download.value.path()).read_text(encoding="utf-8").strip()
        page.goto("/fr/registry")
        expect(page.locator("#registry-results")).to_contain_text(CITY[1])

    def reported() -> bool:
        listed = httpx.get(f"{journey.global_node.url}/registry/cities", timeout=10).json()
        return any(city["locode"] == CITY[0] for city in listed["data"])

    wait_until(reported, "Kenya's report of the certificate reaching the global node")
    with journey.page(node=journey.global_node) as page:
        page.goto("/fr/registry")
        expect(page.locator("#registry-results")).to_contain_text(CITY[1])
        assert_accessible(page)
        page.goto("/fr/verify")
        page.fill("#certificate-token", journey.token)
        page.click("#verify-submit")
        expect(page.locator("#verdict")).to_have_class(re.compile("verdict-valid"))


def committee_suspends_the_certificate(journey: Journey) -> None:
    with journey.page("secretariat") as page:
        page.goto(f"/en/secretariat/certificates/{quote(journey.certificate_id, safe=':')}/propose")
        page.check("#kind-suspension")
        page.fill("#reason", "The county's plan cited as evidence was withdrawn by its assembly.")
        page.locator("#propose-form button[type=submit]").click()
        page.wait_for_url(lambda url: "/propose" not in url)
    hold_meeting(journey, "Certification committee, extraordinary sitting", recusing=None)

    with journey.page() as page:
        page.goto(certificate_page(journey))
        expect(page.locator(".certificate-status .status")).to_have_class(
            re.compile("status-suspended")
        )

    def reported() -> bool:
        shown = httpx.get(f"{journey.global_node.url}{certificate_page(journey)}", timeout=10)
        return "status-suspended" in shown.text

    wait_until(reported, "Kenya's report of the suspension reaching the global node")
    with journey.page(node=journey.global_node) as page:
        page.goto(certificate_page(journey))
        expect(page.locator(".certificate-status .status")).to_have_class(
            re.compile("status-suspended")
        )
        page.goto("/fr/registry")
        expect(page.locator("#registry-results")).not_to_contain_text(CITY[1])


def investor_watches_the_city(journey: Journey) -> None:
    for channel in ("email", "webhook"):
        with journey.page() as page:
            page.goto(f"/en/cities/{CITY[0]}")
            page.click("#watch-link")
            page.fill("#email", INVESTOR)
            page.check("#channel" if channel == "email" else "#channel-webhook")
            if channel == "webhook":
                page.fill("#webhook_url", journey.receiver.url)
            page.click("#watch-submit")
            page.wait_for_url(lambda url: "/watch?" not in url)
        link = _new_confirmation_link(journey)
        with journey.page() as page:
            page.goto(link)
            page.click("#watch-confirm")
            expect(page.locator("#watch-confirmed")).to_be_visible()


def _new_confirmation_link(journey: Journey) -> str:
    """The link of the investor's newest confirmation mail not followed yet."""
    followed = journey.followed_links

    def unfollowed() -> list[str]:
        links = []
        for mail in list(journey.mailbox.messages):
            if INVESTOR in str(mail["To"]):
                body = mail.get_body(preferencelist=("plain",))
                found = _WATCH_CONFIRMATION.search(body.get_content() if body else "")
                if found and found.group(0) not in followed:
                    links.append(found.group(0))
        return links

    wait_until(lambda: bool(unfollowed()), "the watch's confirmation mail", timeout=30)
    link = unfollowed()[0]
    followed.append(link)
    return link.removeprefix(journey.kenya.url)


def investor_is_told(journey: Journey) -> None:
    wait_until(lambda: bool(journey.receiver.received), "the signed webhook", timeout=30)
    [delivery] = journey.receiver.received
    assert delivery.content_type == "application/sdgcities-notice+jwt"
    root = journey.global_node.init["root_thumbprint"]
    published = httpx.get(f"{journey.global_node.url}/federation/trust-list", timeout=10).text
    notice = verify_notice(
        delivery.body, trust_list=TrustList.from_jws(published, pinned_thumbprints=[root])
    )
    assert notice.node_id == "KE"
    assert (notice.event.type, notice.event.credential) == (
        "credential.suspended",
        journey.certificate_id,
    )
    assert (notice.event.locode, notice.event.status) == (CITY[0], "suspended")

    def emailed() -> bool:
        return any(
            INVESTOR in str(mail["To"]) and "/watch/confirm" not in str(mail.get_body())
            for mail in list(journey.mailbox.messages)
        )

    wait_until(emailed, "the email notice", timeout=30)


def test_a_city_is_certified_then_suspended_across_the_federation(journey: Journey) -> None:
    city_applies_in_french(journey)
    review_with_a_clarification(journey)
    committee_awards_the_certificate(journey)
    certificate_is_registered_and_verifies(journey)
    investor_watches_the_city(journey)
    committee_suspends_the_certificate(journey)
    investor_is_told(journey)
