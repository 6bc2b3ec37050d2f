"""The global console's technical assistance page (report §37): requests by gap across the
federation, baseline criteria across countries and national ones within theirs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..conftest import MakeAccount, MakeCity
from ..federation_registry.conftest import MakeLog
from .conftest import SignIn
from .test_global_pages import backend, client, make_log, make_member, secretariat, sign_in

__all__ = ["backend", "client", "make_log", "make_member", "secretariat", "sign_in"]
PAGE = "/{lang}/global/assistance"


def test_the_committee_reads_requests_by_gap_in_every_language(
    client: TestClient, make_log: MakeLog, make_account: MakeAccount, sign_in: SignIn
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    kenya.ask(1, "KE-NBO", criterion="B.c")
    kenya.ask(2, "KE-MBA", criterion="B.KE1", national=True)
    kenya.close(1, "KE-NBO")
    kenya.send()
    ghana.ask(1, "GH-ACC", criterion="B.c")
    ghana.send()
    sign_in(make_account(Role.COMMITTEE_MEMBER))

    page = client.get(PAGE.format(lang="en"))
    assert page.status_code == 200
    baseline = page.text.split('id="baseline-gaps"')[1].split("</table>")[0]
    assert "<code>B.c</code>" in baseline
    # 2 requests, 1 open, 1 resolved, 0 declined, 2 countries, 2 cities.
    cells = baseline.split("<code>B.c</code>")[1].split("</tr>")[0]
    assert [c.split("</td>")[0] for c in cells.split("<td>")[2:]] == ["2", "1", "1", "0", "2", "2"]
    national = page.text.split('id="national-gaps"')[1].split("</table>")[0]
    assert "<code>B.KE1</code>" in national
    assert "Kenya" in national
    assert 'href="/en/global/assistance"' in page.text  # in the console's menu
    for lang, heading in (
        ("fr", "Assistance technique dans toute la fédération"),
        ("ar", "المساعدة التقنية على نطاق الاتحاد"),
        ("zh", "全联盟的技术援助"),
        ("es", "Asistencia técnica en toda la federación"),
        ("ru", "Техническая помощь во всей федерации"),
    ):
        translated = client.get(PAGE.format(lang=lang))
        assert translated.status_code == 200
        assert heading in translated.text


def test_an_empty_federation_says_so(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    page = client.get(PAGE.format(lang="en"))
    assert page.status_code == 200
    assert "No node has reported a request for technical assistance yet." in page.text


def test_who_may_open_it(
    client: TestClient, make_account: MakeAccount, make_city: MakeCity, sign_in: SignIn
) -> None:
    anonymous = client.get(PAGE.format(lang="en"), follow_redirects=False)
    assert anonymous.status_code == 303
    sign_in(make_account(Role.CITY_APPLICANT, city_locode=make_city()))
    assert client.get(PAGE.format(lang="en"), follow_redirects=False).status_code == 403
