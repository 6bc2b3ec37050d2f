"""A national node has no global console: its paths are not there at all (404), as the trust
registry's API is not (tests/node/web/test_global_pages.py covers the global node)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from ..conftest import MakeAccount
from .conftest import SignIn


def test_the_console_is_not_on_a_national_node(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    for path in (
        "/en/global",
        "/en/global/members",
        "/en/global/members/KE",
        "/en/global/trust-list",
        "/en/global/endorsements",
        "/en/global/nodes/KE",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/en/global/join-requests/1/approve").status_code == 404
