"""Every page the site registers, as the axe-core test visits it, and the page routes it does
not visit, each with its reason.

`test_page_list.py` (fast) fails when a GET page route of `install_site` is in neither, or when
either names a route the site no longer has; `test_pages_accessible.py` (slow) opens each page
below in English, Arabic and Chinese. Adding a page is one line in `PAGES`: its route as
registered, who is signed in (a person of the node's world, or None), and which node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote

NodeName = Literal["national", "global"]
LANG: Final = "{lang:lang}"


@dataclass(frozen=True, slots=True)
class Page:
    """A page route, visited by `who` (None: nobody signed in) on `node`.

    The route's parameters other than the language are filled from the world's `ids`
    (`WebWorld.ids`, `GlobalWorld.ids`); `query` is appended as it is.
    """

    route: str
    who: str | None = None
    node: NodeName = "national"
    query: str = ""
    status: int = 200
    # A document in its own language (the stage report, as the API renders it), whatever the
    # language of the page that links to it.
    own_language: bool = False

    def path(self, lang: str, ids: dict[str, str | int]) -> str:
        filled = {name: quote(str(value), safe=":") for name, value in ids.items()}
        return (self.route + self.query).replace(LANG, lang).format(**filled)


APPLICATION: Final = f"/{LANG}/review/applications/{{application_id}}"
CITY_APPLICATION: Final = f"/{LANG}/city/applications/{{application_id}}"

PAGES: Final[dict[str, Page]] = {
    # Public
    "home": Page(f"/{LANG}/"),
    "registry": Page(f"/{LANG}/registry", query="?q=Nairobi"),
    "city": Page(f"/{LANG}/cities/{{locode}}"),
    "certificate": Page(f"/{LANG}/certificates/{{credential_id}}"),
    "verify-form": Page(f"/{LANG}/verify"),
    "verify-answer": Page(f"/{LANG}/verify", query="?certificate={credential_id}"),
    "criteria": Page(f"/{LANG}/criteria"),
    "criteria-version": Page(f"/{LANG}/criteria/{{version_id}}"),
    "sign-in": Page(f"/{LANG}/sign-in"),
    "request-account": Page(f"/{LANG}/request-account"),
    "forgot-password": Page(f"/{LANG}/forgot-password"),
    "watch": Page(f"/{LANG}/watch", query="?city={locode}"),
    "watch-confirm": Page(f"/{LANG}/watch/confirm", query="?token=a-mailed-token"),
    "watch-cancel-unusable": Page(f"/{LANG}/watch/cancel", query="?token=unknown", status=404),
    "set-password-unusable": Page(f"/{LANG}/set-password/{{token}}", status=404),
    "not-found": Page(f"/{LANG}/no-such-page", status=404),
    # Every person's own
    "account": Page(f"/{LANG}/account", "mombasa"),
    "notices": Page(f"/{LANG}/account/notices", "mombasa"),
    "second-factor": Page(f"/{LANG}/account/second-factor", "secretariat"),
    # A city's people
    "city-dashboard": Page(f"/{LANG}/city", "mombasa"),
    "self-assessment": Page(CITY_APPLICATION, "mombasa"),
    "stage-report": Page(f"{CITY_APPLICATION}/report", "mombasa"),
    "city-assistance": Page(f"/{LANG}/city/assistance", "mombasa"),
    "city-profile": Page(f"/{LANG}/city/profile", "nairobi"),
    "city-communities": Page(f"/{LANG}/city/communities", "mombasa"),
    "city-community": Page(f"/{LANG}/city/communities/{{community_id}}", "mombasa"),
    # Reviewers
    "review-assignments": Page(f"/{LANG}/review", "lead"),
    "review-conflicts": Page(f"/{LANG}/review/conflicts", "lead"),
    "review-application": Page(APPLICATION, "lead"),
    "review-consolidation": Page(f"{APPLICATION}/consolidation", "lead"),
    "review-report": Page(f"{APPLICATION}/report.html", "lead", own_language=True),
    # The committee
    "committee-meetings": Page(f"/{LANG}/committee", "committee"),
    "committee-meeting": Page(f"/{LANG}/committee/meetings/{{meeting_id}}", "committee"),
    "committee-report": Page(f"/{LANG}/committee/meetings/{{meeting_id}}/report", "committee"),
    "committee-item": Page(f"/{LANG}/committee/items/{{item_id}}", "committee"),
    # The secretariat and administrators
    "account-requests": Page(f"/{LANG}/account-requests", "secretariat"),
    "secretariat": Page(f"/{LANG}/secretariat", "secretariat"),
    "audit": Page(f"/{LANG}/secretariat/audit", "administrator"),
    "people": Page(f"/{LANG}/secretariat/people", "administrator"),
    "invite": Page(f"/{LANG}/secretariat/people/invite", "secretariat"),
    "assign-reviewers": Page(
        f"/{LANG}/secretariat/applications/{{application_id}}/reviewers", "administrator"
    ),
    "schedule-meetings": Page(f"/{LANG}/secretariat/meetings", "secretariat"),
    "certificates": Page(f"/{LANG}/secretariat/certificates", "secretariat"),
    "propose": Page(f"/{LANG}/secretariat/certificates/{{certificate_id}}/propose", "secretariat"),
    "cities": Page(f"/{LANG}/secretariat/cities", "secretariat"),
    "catalogue": Page(f"/{LANG}/secretariat/catalogue", "secretariat"),
    "assistance": Page(f"/{LANG}/secretariat/assistance", "secretariat", query="?state=open"),
    "communities": Page(f"/{LANG}/secretariat/communities", "secretariat"),
    "community": Page(f"/{LANG}/secretariat/communities/{{community_id}}", "secretariat"),
    "fee-schedule": Page(f"/{LANG}/secretariat/fees", "secretariat"),
    "income-groups": Page(f"/{LANG}/secretariat/fees/income-groups", "secretariat"),
    "application-fee": Page(
        f"/{LANG}/secretariat/fees/applications/{{application_id}}", "secretariat"
    ),
    "fees-report": Page(f"/{LANG}/secretariat/fees/report", "administrator"),
    "frameworks": Page(f"/{LANG}/frameworks", "secretariat"),
    "framework": Page(f"/{LANG}/frameworks/{{version_id}}", "secretariat"),
    # The global node's console
    "global-dashboard": Page(f"/{LANG}/global", "secretariat", "global"),
    "global-node": Page(f"/{LANG}/global/nodes/{{node_id}}", "secretariat", "global"),
    "global-members": Page(f"/{LANG}/global/members", "secretariat", "global"),
    "global-member": Page(f"/{LANG}/global/members/{{node_id}}", "secretariat", "global"),
    "trust-list": Page(f"/{LANG}/global/trust-list", "secretariat", "global"),
    "endorsements": Page(f"/{LANG}/global/endorsements", "committee", "global"),
    "global-assistance": Page(f"/{LANG}/global/assistance", "committee", "global"),
    "spot-checks": Page(f"/{LANG}/global/spot-checks", "secretariat", "global"),
    "spot-check-round": Page(
        f"/{LANG}/global/spot-checks/rounds/{{round_id}}", "secretariat", "global"
    ),
    "spot-check": Page(f"/{LANG}/global/spot-checks/checks/{{check_id}}", "secretariat", "global"),
}

# Page routes the axe test does not open, and why.
NOT_VISITED: Final[dict[str, str]] = {
    "/": "a redirect to the visitor's language",
    f"/{LANG}": "a redirect to the same path with a slash",
    f"/{LANG}/sign-in/code": "reached only in the middle of a sign-in with a second factor; "
    "without one it redirects to the sign-in page",
    f"/{LANG}/registry/feed.atom": "an Atom feed, not an HTML page",
    f"/{LANG}/certificates/{{credential_id}}/certificate.jwt": "a file download (the token)",
    f"/{LANG}/certificates/{{credential_id}}/qr.svg": "an image (the QR code)",
    f"{CITY_APPLICATION}/evidence/{{evidence_id}}": "a file download (evidence)",
    f"{CITY_APPLICATION}/report.pdf": "a file download (PDF)",
    f"{APPLICATION}/evidence/{{evidence_id}}": "a file download (evidence)",
    f"{APPLICATION}/report.pdf": "a file download (PDF)",
    f"{CITY_APPLICATION}/assistance/{{code}}": "the world's application is recommended with no "
    "gap to ask about; tests/node/web/test_assistance_pages.py renders the form",
    f"/{LANG}/secretariat/assistance/{{request_id}}": "the world has no request (no gap); "
    "tests/node/web/test_assistance_pages.py renders it",
}
