"""The global node's console: monitoring, join requests and members, the trust list, and
endorsement requests, on SQLite and PostgreSQL (the global node of tests/node/members)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from fastapi import Response
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import FrameworkRef, SigningKey
from sdgcities.federation import EventType
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.service import canonical_text
from sdgcities.node.web.session import SESSION_COOKIE, cookie_name, start_session

from ..conftest import Account, Backend, MakeAccount, MakeCity
from ..federation_registry.conftest import MakeLog
from ..ingest.conftest import MakeMember
from ..monitoring import conftest as global_node
from .conftest import SignIn, form_token

# The global node's fixtures (tests/node/monitoring), by assignment so they are collected here.
backend = global_node.backend
client = global_node.client
make_log = global_node.make_log
make_member = global_node.make_member
secretariat = global_node.secretariat


@pytest.fixture
def sign_in(client: TestClient, session: Session, backend: Backend) -> SignIn:
    """As `tests/node/web/conftest.py`'s, for a node whose address is https: the cookies are
    `__Host-` and secure, so the client speaks https too."""

    def sign(account: Account) -> None:
        user = session.get(User, account.user_id)
        assert user is not None
        response = Response()
        start_session(session=session, user=user, response=response, settings=backend.settings)
        session.commit()
        value = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        client.base_url = httpx.URL("https://testserver")
        client.cookies.set(cookie_name(backend.settings, SESSION_COOKIE), value)

    return sign


CONSOLE_PAGES = ("/en/global", "/en/global/members", "/en/global/trust-list")


def _ask_to_join(client: TestClient, node_id: str = "TZ") -> int:
    token = JoinRequest.sign(
        node_id=node_id,
        base_url=f"https://{node_id.lower()}.example.org",
        name=f"{node_id} node",
        key=SigningKey.generate(),
    )
    answer = client.post("/federation/join", json={"token": token})
    assert answer.status_code == 202, answer.text
    request_id: int = answer.json()["id"]
    return request_id


def _post(client: TestClient, page: str, path: str, **fields: str) -> tuple[int, str, str]:
    token = form_token(client.get(page).text)
    answer = client.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


# Access ----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    for page in (*CONSOLE_PAGES, "/en/global/endorsements"):
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/en/sign-in?next=")


def test_a_city_applicant_is_refused(
    client: TestClient,
    make_account: MakeAccount,
    make_city: MakeCity,
    sign_in: SignIn,
) -> None:
    sign_in(make_account(Role.CITY_APPLICANT, city_locode=make_city()))
    for page in (*CONSOLE_PAGES, "/en/global/endorsements"):
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 403, (page, answer.headers, answer.text[:300])


def test_a_committee_member_reads_monitoring_and_endorsements_not_members(
    client: TestClient,
    make_log: MakeLog,
    make_account: MakeAccount,
    sign_in: SignIn,
) -> None:
    make_log("KE")
    sign_in(make_account(Role.COMMITTEE_MEMBER))
    assert client.get("/en/global/endorsements").status_code == 200
    dashboard = client.get("/en/global")
    assert dashboard.status_code == 200
    assert 'href="/en/global/nodes/KE"' in dashboard.text
    assert 'href="/en/global/members"' not in dashboard.text  # links only to what opens
    assert client.get("/en/global/nodes/KE").status_code == 200
    for page in ("/en/global/members", "/en/global/trust-list", "/en/global/spot-checks"):
        assert client.get(page).status_code == 403, page


# Monitoring ------------------------------------------------------------------------------------


def test_the_dashboard_shows_each_node_with_charts_and_tables(
    client: TestClient,
    make_log: MakeLog,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    kenya = make_log("KE")
    kenya.issue("KE-NBO")
    kenya.issue("KE-MBA", "Mombasa")
    kenya.issue("KE-KIS", "Kisumu", stage="evidence-based-processes")
    kenya.send()
    sign_in(secretariat)
    page = client.get("/en/global")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>Federation monitoring</h1>" in html
    assert "KE node (KE)" in html
    # Every chart names itself for a screen reader, and a table beside it gives its numbers.
    for chart in ("chart-stage-level", "chart-months", "chart-lag", "chart-quality"):
        assert f'id="{chart}" role="img" aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
    assert 'id="stage-level-table"' in html
    assert 'id="months-table"' in html
    stage_row = html.split('id="stage-level-table"')[1].split("</table>")[0]
    assert "Qualification (candidate city)</th><td>2</td><td>0</td>" in stage_row
    assert "Inclusive, evidence-based processes</th><td>0</td><td>1</td>" in stage_row
    months = html.split('id="months-table"')[1].split("</table>")[0]
    assert "<td>2</td><td>1</td>" in months  # this month: two qualifications, one processes
    assert "No node shows an anomaly or an alarm." in html


def test_an_anomaly_is_listed_and_the_node_page_explains_it(
    client: TestClient,
    make_log: MakeLog,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    kenya = make_log("KE")
    kenya.issue(item=41)
    kenya.send()
    sign_in(secretariat)
    html = client.get("/en/global").text
    alarms = html.split('id="alarms-table"')[1].split("</table>")[0]
    assert "certificate_without_decision" in alarms
    node = client.get("/en/global/nodes/KE")
    assert node.status_code == 200
    assert "no decision on agenda item 41 was reported before it" in node.text
    assert client.get("/en/global/nodes/ZZ").status_code == 404


def test_the_dashboard_in_arabic_and_chinese(
    client: TestClient,
    make_log: MakeLog,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    kenya = make_log("KE")
    kenya.issue("KE-NBO")
    kenya.send()
    sign_in(secretariat)
    arabic = client.get("/ar/global")
    assert arabic.status_code == 200
    assert 'dir="rtl"' in arabic.text
    assert "رصد الاتحاد" in arabic.text
    chinese = client.get("/zh/global")
    assert chinese.status_code == 200
    assert "联盟监测" in chinese.text
    assert "加入申请和成员" in client.get("/zh/global/members").text
    assert "طلبات الانضمام والأعضاء" in client.get("/ar/global/members").text


# Join requests and members ---------------------------------------------------------------------


def test_approving_a_join_request_makes_a_member(
    client: TestClient,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    request_id = _ask_to_join(client)
    sign_in(secretariat)
    page = client.get("/en/global/members").text
    assert f'id="approve-{request_id}"' in page
    status, location, _ = _post(
        client, "/en/global/members", f"/en/global/join-requests/{request_id}/approve"
    )
    assert (status, location) == (303, "/en/global/members?done=approved")
    after = client.get(location).text
    assert "The join request is approved: the node is a member." in after
    assert "TZ node (TZ)" in after
    # A second approval is the service's refusal, shown with a heading.
    status, _, html = _post(
        client, "/en/global/members", f"/en/global/join-requests/{request_id}/approve"
    )
    assert status == 409
    assert "This cannot be done now" in html


def test_refusing_a_join_request_needs_a_reason(
    client: TestClient,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    request_id = _ask_to_join(client)
    sign_in(secretariat)
    path = f"/en/global/join-requests/{request_id}/refuse"
    status, _, html = _post(client, "/en/global/members", path, reason="  ")
    assert status == 400
    assert 'class="error-summary"' in html
    assert f'href="#refuse-{request_id}-reason"' in html
    assert f'id="refuse-{request_id}-reason-error"' in html
    status, location, _ = _post(client, "/en/global/members", path, reason="Unknown operator")
    assert (status, location) == (303, "/en/global/members?done=refused")
    assert "Unknown operator" in client.get(location).text


def test_a_member_is_suspended_reinstated_and_withdrawn(
    client: TestClient,
    make_member: MakeMember,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    make_member("KE")
    sign_in(secretariat)
    page = "/en/global/members/KE"
    assert client.get(page).status_code == 200
    status, _, html = _post(client, page, "/en/global/members/KE/suspend")
    assert status == 400
    assert 'id="suspend-reason-error"' in html
    status, location, _ = _post(client, page, "/en/global/members/KE/suspend", reason="Audit")
    assert (status, location) == (303, "/en/global/members/KE?done=suspend")
    suspended = client.get(location).text
    assert "The member is suspended." in suspended
    assert 'id="suspend"' not in suspended
    assert 'id="reinstate"' in suspended
    status, location, _ = _post(client, page, "/en/global/members/KE/reinstate", reason="Fixed")
    assert status == 303
    status, location, _ = _post(client, page, "/en/global/members/KE/withdraw", reason="Left")
    assert status == 303
    history = client.get("/en/global/trust-list").text
    for reason in ("Audit", "Fixed", "Left"):
        assert reason in history
    assert client.get("/en/global/members/ZZ").status_code == 404


def test_a_key_is_retired_then_compromised_once(
    client: TestClient,
    make_member: MakeMember,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    make_member("KE")
    sign_in(secretariat)
    page = "/en/global/members/KE"
    keys = client.get("/federation/members/KE", headers=secretariat.headers).json()["keys"]
    kid = keys[0]["kid"]
    retire = f"/en/global/members/KE/keys/{kid}/retire"
    status, _, html = _post(client, page, retire)
    assert status == 400
    assert f'id="retire-{kid}-reason-error"' in html
    status, location, _ = _post(client, page, retire, reason="Rotation")
    assert (status, location) == (303, f"{page}?done=retire")
    assert "The key is retired." in client.get(location).text
    compromise = f"/en/global/members/KE/keys/{kid}/compromise"
    status, location, _ = _post(client, page, compromise, reason="Leaked")
    assert (status, location) == (303, f"{page}?done=compromise")
    status, _, html = _post(client, page, compromise, reason="Leaked again")
    assert status == 409
    assert "This cannot be done now" in html
    assert f"key {kid} is already compromised" in html
    status, _, html = _post(client, page, "/en/global/members/KE/keys/nokey/retire", reason="x")
    assert status == 404
    assert "Not found" in html


def test_member_actions_need_the_form_token(
    client: TestClient,
    make_member: MakeMember,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    make_member("KE")
    sign_in(secretariat)
    answer = client.post(
        "/en/global/members/KE/suspend", data={"reason": "x"}, follow_redirects=False
    )
    assert answer.status_code == 403


# Endorsement requests --------------------------------------------------------------------------

DOCUMENT = load_baseline()
REF = FrameworkRef(DOCUMENT.id, DOCUMENT.version, DOCUMENT.digest)


def _ask_endorsement(client: TestClient, make_member: MakeMember) -> int:
    member = make_member("KE")
    token = EndorsementRequest.sign(
        node_id="KE",
        did=member.did,
        framework=REF,
        document=canonical_text(DOCUMENT),
        key=member.key,
    )
    answer = client.post("/federation/endorsements", json={"token": token})
    assert answer.status_code == 202, answer.text
    request_id: int = answer.json()["id"]
    return request_id


def test_the_committee_decides_an_endorsement_as_an_item_of_its_meeting(
    client: TestClient,
    make_member: MakeMember,
    make_account: MakeAccount,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    request_id = _ask_endorsement(client, make_member)
    today = date.today()
    member = make_account(
        Role.COMMITTEE_MEMBER,
        term_start=today - timedelta(days=1),
        term_end=today + timedelta(days=365),
    )
    sign_in(member)
    page = "/en/global/endorsements"
    waiting = client.get(page).text
    assert "Not yet on a meeting" in waiting
    assert "<form" not in waiting.split("<main", 1)[1].split("</main>")[0]  # nobody acts alone
    for verb in ("endorse", "refuse"):
        answer = client.post(f"/en/global/endorsements/{request_id}/{verb}")
        assert answer.status_code in (404, 405), verb

    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    meeting = client.post(
        "/committee/meetings",
        headers=secretariat.headers,
        json={"title": "Frameworks", "scheduled_for": at},
    ).json()
    base = f"/committee/meetings/{meeting['id']}"
    attended = client.post(
        f"{base}/attendance", headers=secretariat.headers, json={"member_id": member.user_id}
    )
    assert attended.status_code == 201, attended.text
    assert client.post(f"{base}/open", headers=secretariat.headers).status_code == 200
    [item] = client.post(f"{base}/agenda/generate", headers=secretariat.headers).json()["added"]
    assert f'href="/en/committee/items/{item["id"]}"' in client.get(page).text
    dossier = client.get(f"/fr/committee/items/{item['id']}").text
    assert "Approbation d\u2019un référentiel national" in dossier
    assert "La version du référentiel à approuver" in dossier

    voted = client.post(
        f"/committee/items/{item['id']}/votes", headers=member.headers, json={"choice": "yes"}
    )
    assert voted.status_code == 201, voted.text
    decided = client.post(f"/committee/items/{item['id']}/decide", headers=secretariat.headers)
    assert decided.json()["outcome"] == "approved", decided.text
    done = client.get(page).text
    assert "No endorsement request is waiting." in done
    assert f"meeting {meeting['id']}, agenda item {item['id']}" in done


# Spot-checks -----------------------------------------------------------------------------------


def test_drawing_a_spot_check_round(
    client: TestClient,
    secretariat: Account,
    sign_in: SignIn,
) -> None:
    sign_in(secretariat)
    page = "/en/global/spot-checks"
    assert "No round has been drawn yet." in client.get(page).text
    status, _, html = _post(client, page, "/en/global/spot-checks/rounds", rate="many")
    assert status == 400
    assert 'id="draw-rate-error"' in html
    assert 'href="#draw-rate"' in html
    status, _, html = _post(client, page, "/en/global/spot-checks/rounds", rate="150")
    assert status == 400
    assert 'id="draw-rate-error"' in html
    status, _, html = _post(client, page, "/en/global/spot-checks/rounds", window_from="31/3")
    assert status == 400
    assert 'id="draw-from-error"' in html
    status, _, html = _post(
        client,
        page,
        "/en/global/spot-checks/rounds",
        window_from="2026-03-01",
        window_until="2026-02-01",
    )
    assert status == 422
    assert "The request is not valid" in html
    status, location, _ = _post(client, page, "/en/global/spot-checks/rounds", rate="10")
    assert status == 303
    assert location.startswith("/en/global/spot-checks/rounds/")
    drawn = client.get(location)
    assert drawn.status_code == 200
    assert "No award was selected in this round." in drawn.text
    assert "Round" in client.get(page).text
    assert client.get("/en/global/spot-checks/rounds/999").status_code == 404
    assert client.get("/en/global/spot-checks/checks/999").status_code == 404
    status, _, _ = _post(
        client, page, "/en/global/spot-checks/checks/999/outcome", outcome="confirmed", summary="x"
    )
    assert status == 404


def test_spot_checks_access(
    client: TestClient,
    make_account: MakeAccount,
    make_city: MakeCity,
    sign_in: SignIn,
) -> None:
    answer = client.get("/en/global/spot-checks", follow_redirects=False)
    assert answer.status_code == 303
    sign_in(make_account(Role.REVIEWER))
    page = client.get("/en/global/spot-checks")
    assert page.status_code == 200
    assert 'id="draw-form"' not in page.text
    status, _, _ = _post(client, "/en/global/spot-checks", "/en/global/spot-checks/rounds")
    assert status == 403
    sign_in(make_account(Role.CITY_APPLICANT, city_locode=make_city()))
    assert client.get("/en/global/spot-checks").status_code == 403


def test_the_other_console_pages_in_arabic_and_chinese(
    client: TestClient, make_member: MakeMember, secretariat: Account, sign_in: SignIn
) -> None:
    make_member("KE")
    sign_in(secretariat)
    for path, heading in (
        ("/ar/global/spot-checks", "جولات التحقق بالعينة"),
        ("/zh/global/spot-checks", "抽查轮次"),
        ("/ar/global/trust-list", "قائمة الثقة وسجلها"),
        ("/zh/global/trust-list", "信任列表及其历史"),
        ("/zh/global/members/KE", "更改成员状态"),
        ("/ar/global/nodes/KE", "تقارير جودة البيانات"),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert heading in page.text, path


# Watches -----------------------------------------------------------------------------------------


def test_a_members_city_certificate_and_country_are_watched_on_the_members_node(
    client: TestClient, make_log: MakeLog
) -> None:
    kenya = make_log("KE")
    credential_id = kenya.issue("KE-NBO")
    assert kenya.send().status_code < 300
    member_page = "https://ke.example.org/fr/watch"
    city = client.get("/fr/cities/KE-NBO").text
    assert f'href="{member_page}?city=KE-NBO"' in city
    certificate = client.get(f"/fr/certificates/{credential_id}").text
    assert f'href="{member_page}?certificate={quote(credential_id, safe="")}"' in certificate
    registry = client.get("/fr/registry?country=KE").text
    assert f'href="{member_page}?country=KE"' in registry
    # A country no member certifies: the global node sends its notices itself.
    assert 'href="/fr/watch?country=BO"' in client.get("/fr/registry?country=BO").text


def test_the_communities_page_proposes_across_countries(
    client: TestClient, make_log: MakeLog, secretariat: Account, sign_in: SignIn
) -> None:
    """Consenting cities of two countries that share a reported gap (§30c)."""
    for node_id, locode in (("KE", "KE-MBA"), ("GH", "GH-ACC")):
        log = make_log(node_id)
        log.append(
            EventType.REPORT_GENERATED,
            {"locode": locode, "application": 1},
            {
                "stage": "evidence-based-processes",
                "version": 1,
                "digest": "sha256:" + "0" * 64,
                "recommendation": "not_recommended",
                "gaps": ["B.c"],
            },
        )
        log.append(EventType.COMMUNITY_SHARING, {"locode": locode}, {"share": True})
        log.send()
    sign_in(secretariat)
    page = client.get("/en/secretariat/communities")
    assert page.status_code == 200
    assert "Proposed across countries" in page.text
    assert "GH-ACC (GH-ACC), KE-MBA (KE-MBA)" in page.text
