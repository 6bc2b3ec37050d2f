"""`sdgcities verify` online: trust list from the registry, status lists from the issuing node."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest

from sdgcities.credentials import SigningKey
from sdgcities.credentials.status_entry import STATUS_SIZE

from .conftest import Cli, publish
from .federation import TestFederation, now
from .static_federation import StaticFederation


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_valid_online(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, _ = online.certificate()
    answer = cli.run("verify", "--json", token)
    assert answer.code == 0, answer.stderr
    document = answer.json()
    assert document["valid"] is True
    assert document["trust"] == {
        "mode": "online",
        "registry": static_federation.url,
        "trust_list_sequence": 5,
        "trust_list_issued_at": document["trust"]["trust_list_issued_at"],
        "trust_list_next_update": document["trust"]["trust_list_next_update"],
    }
    assert not (cli.cwd / "home" / "data" / "sdgcities" / "bundle").exists()  # and no bundle
    requests = {r.path: r.accept for r in static_federation.requests}
    assert requests["/federation/trust-list"] == "application/trust-list+jwt"
    assert requests["/ke/status/1"] == "application/vc+jwt"
    assert "/ke/status/2" not in requests  # the certificate's own list, and no other


def test_revoked_online(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, index = online.certificate()
    online.revoke(index)
    publish(static_federation, online)
    answer = cli.run("verify", token)
    assert answer.code == 1
    assert "NOT VALID" in answer.stdout
    assert "revoked" in answer.stdout


def test_an_older_list_served_after_a_revocation_is_cannot_decide(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, index = online.certificate()
    online.revoke(index)
    publish(static_federation, online)
    assert cli.run("verify", token).code == 1
    online.bits.clear(index * STATUS_SIZE)  # as before the revocation
    # A cache or mirror serves the list as it was before the revocation, still within validity.
    publish(static_federation, online, lists_signed_ago=timedelta(hours=3))

    answer = cli.run("verify", "--json", token)

    assert answer.code == 3, answer.stdout
    assert answer.json()["reason"] == "status_list_rollback"


def test_certificate_url(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, _ = online.certificate(credential_id="urn:uuid:11111111-1111-4111-8111-111111111111")
    path = "/registry/credentials/urn:uuid:11111111-1111-4111-8111-111111111111"
    static_federation.serve(path, token, content_type="application/vc+jwt")
    url = f"{static_federation.url}{path}"
    answer = cli.run("verify", "--json", url)
    assert answer.code == 0, answer.stderr
    assert answer.json()["input"] == url
    fetched = [r for r in static_federation.requests if r.path == path]
    assert [r.accept for r in fetched] == ["application/vc+jwt"]


def test_certificate_url_answering_registry_json(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, _ = online.certificate()
    static_federation.serve("/registry/credentials/x", json.dumps({"jwt": token, "credential": {}}))
    answer = cli.run("verify", f"{static_federation.url}/registry/credentials/x")
    assert answer.code == 0, answer.stderr


@pytest.mark.usefixtures("online")
def test_certificate_url_not_found(cli: Cli, static_federation: StaticFederation) -> None:
    answer = cli.run("verify", f"{static_federation.url}/registry/credentials/nothing")
    assert answer.code == 1
    assert answer.stderr.startswith("error: no certificate at ")


@pytest.mark.usefixtures("online")
def test_oversized_certificate_url(cli: Cli, static_federation: StaticFederation) -> None:
    static_federation.serve("/big", b"a" * (64 * 1024 + 1), length=False)
    answer = cli.run("verify", f"{static_federation.url}/big")
    assert answer.code == 3
    assert "larger than 65536 bytes" in answer.stderr


def test_registry_unreachable(cli: Cli, fed: TestFederation) -> None:
    cli.env["SDGCITIES_REGISTRY_URL"] = closed_port_url()
    token, _ = fed.certificate()
    answer = cli.run("verify", token)
    assert answer.code == 3
    assert "trust list is unavailable" in answer.stderr
    assert len(answer.stderr.splitlines()) == 1
    assert "Traceback" not in answer.stderr


def test_registry_trust_list_not_signed_by_pin(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    forged = online.trust_list(sequence=99, root=SigningKey.generate())
    static_federation.serve("/federation/trust-list", forged)
    token, _ = online.certificate()
    answer = cli.run("verify", token)
    assert answer.code == 3
    assert "not signed by a pinned global root key" in answer.stderr
    assert "check the pinned root thumbprint" in answer.stderr
    assert "try again later" not in answer.stderr
    assert "run 'sdgcities trust sync'" not in answer.stderr


def test_registry_trust_list_stale(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    issued = now() - timedelta(days=4)
    stale = online.trust_list(issued_at=issued, next_update=issued + timedelta(days=1))
    static_federation.serve("/federation/trust-list", stale)
    token, _ = online.certificate()
    answer = cli.run("verify", token)
    assert answer.code == 3
    assert "trust_list_stale" in answer.stderr


@pytest.mark.slow  # several command runs: about 2 s or more
def test_registry_older_than_local_anchor(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    assert cli.run("trust", "sync").code == 0  # the bundle's anchor is now #5
    static_federation.serve("/federation/trust-list", online.trust_list(sequence=3))
    token, _ = online.certificate()
    answer = cli.run("verify", token)
    assert answer.code == 3
    assert "trust_list_rollback" in answer.stderr


def test_status_list_unreachable(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    del static_federation.routes["/ke/status/1"]
    token, _ = online.certificate()
    answer = cli.run("verify", "--json", token)
    assert answer.code == 3
    document = answer.json()
    assert (document["status"], document["reason"]) == ("indeterminate", "status_unavailable")
    assert "HTTP 404" in document["message"]


def test_status_list_redirect_not_followed(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    static_federation.serve("/elsewhere", online.status_list())
    static_federation.redirect("/ke/status/1", f"{static_federation.url}/elsewhere")
    token, _ = online.certificate()
    answer = cli.run("verify", "--json", token)
    assert answer.code == 3
    assert "redirects are not followed" in answer.json()["message"]
    assert "/elsewhere" not in static_federation.paths()


def test_status_list_too_large(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    static_federation.serve("/ke/status/1", b"a" * (1024 * 1024 + 1), length=False)
    token, _ = online.certificate()
    answer = cli.run("verify", "--json", token)
    assert answer.code == 3
    assert "larger than 1048576 bytes" in answer.json()["message"]


def _city(
    static_federation: StaticFederation, locode: str, certificates: list[dict[str, object]]
) -> None:
    static_federation.serve(
        f"/registry/cities/{locode}",
        json.dumps(
            {"locode": locode, "name": "Nairobi", "country": "KE", "certificates": certificates}
        ),
    )


@pytest.mark.slow  # several command runs: about 2 s or more
def test_city_id_verifies_current_certificates(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    silver, _ = online.certificate(stage="qualification", credential_id="urn:uuid:a")
    gold, _ = online.certificate(credential_id="urn:uuid:b")
    old, old_index = online.certificate(stage="qualification", credential_id="urn:uuid:c")
    online.revoke(old_index)  # a past certificate: not current, not checked
    publish(static_federation, online)
    static_federation.serve("/registry/credentials/urn:uuid:b", gold)
    _city(
        static_federation,
        "KE-NBO",
        [
            {"id": "urn:uuid:a", "jwt": silver, "stage": "qualification", "current": True},
            {"id": "urn:uuid:b", "stage": "evidence-based-processes", "current": True},
            {"id": "urn:uuid:c", "jwt": old, "stage": "qualification", "current": False},
        ],
    )
    answer = cli.run("verify", "--json", "ke-nbo")
    assert answer.code == 0, answer.stderr
    document = answer.json()
    assert document["city"] == {
        "locode": "KE-NBO",
        "name": "Nairobi",
        "country": "KE",
        "current": True,
    }
    assert [r["input"] for r in document["results"]] == ["urn:uuid:a", "urn:uuid:b"]
    assert [r["certificate"]["level"] for r in document["results"]] == ["silver", "gold"]
    assert document["summary"]["valid"] == 2
    fetched = [
        r for r in static_federation.requests if r.path == "/registry/credentials/urn:uuid:b"
    ]
    assert [r.accept for r in fetched] == ["application/vc+jwt"]
    human = cli.run("verify", "KE-NBO")
    assert human.code == 0
    assert "2 current certificate(s)" in human.stdout
    assert human.stdout.count("VALID") == 2


def test_city_with_a_revoked_current_certificate(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    good, _ = online.certificate(credential_id="urn:uuid:a")
    revoked, index = online.certificate(credential_id="urn:uuid:b", stage="qualification")
    online.revoke(index)
    publish(static_federation, online)
    _city(
        static_federation,
        "KE-NBO",
        [
            {"id": "urn:uuid:a", "jwt": good, "current": True},
            {"id": "urn:uuid:b", "jwt": revoked, "current": True},
        ],
    )
    answer = cli.run("verify", "--json", "KE-NBO")
    assert answer.code == 1
    assert [r["status"] for r in answer.json()["results"]] == ["valid", "invalid"]
    assert answer.json()["summary"]["by_reason"] == {"revoked": 1}


def test_city_listing_another_citys_certificate(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    mombasa, _ = online.certificate(locode="KE-MBA", city="Mombasa")
    _city(static_federation, "KE-NBO", [{"id": "urn:uuid:m", "jwt": mombasa, "current": True}])
    answer = cli.run("verify", "--json", "KE-NBO")
    assert answer.code == 1
    result = answer.json()["results"][0]
    assert result["reason"] == "malformed"
    assert "urn:sdgcities:city:KE-MBA" in result["message"]


@pytest.mark.usefixtures("online")
def test_unknown_city(cli: Cli) -> None:
    answer = cli.run("verify", "KE-XXX")
    assert answer.code == 1
    assert "the registry knows no city KE-XXX" in answer.stderr


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_a_city_whose_certificate_was_taken_away_shows_it_with_its_status(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, status: str
) -> None:
    taken, index = online.certificate(
        locode="KE-MBA", city="Mombasa", stage="qualification", credential_id="urn:uuid:m"
    )
    expired, _ = online.certificate(locode="KE-MBA", city="Mombasa", credential_id="urn:uuid:x")
    getattr(online, "suspend" if status == "suspended" else "revoke")(index)
    publish(static_federation, online)
    static_federation.serve(
        "/registry/cities/KE-MBA",
        json.dumps(
            {
                "locode": "KE-MBA",
                "name": "Mombasa",
                "country": "KE",
                "certificates": [
                    {"id": "urn:uuid:m", "jwt": taken, "status": status, "current": False},
                    {"id": "urn:uuid:x", "jwt": expired, "status": "expired", "current": False},
                ],
            }
        ),
    )

    answer = cli.run("verify", "--json", "KE-MBA")

    assert answer.code == 1, answer.stderr
    document = answer.json()
    assert document["city"]["current"] is False
    [result] = document["results"]  # the expired one is no news
    assert result["input"] == "urn:uuid:m"
    assert (result["status"], result["reason"]) == ("invalid", status)
    assert result["certificate"]["level"] == "silver"
    human = cli.run("verify", "KE-MBA")
    assert human.code == 1
    assert "no current certificate; 1 suspended or revoked" in human.stdout
    assert status in human.stdout
    assert "holds no current certificate" not in human.stderr


@pytest.mark.usefixtures("online")
def test_city_without_current_certificate(cli: Cli, static_federation: StaticFederation) -> None:
    _city(static_federation, "KE-NBO", [{"id": "urn:uuid:a", "current": False}])
    answer = cli.run("verify", "KE-NBO")
    assert answer.code == 1
    assert "holds no current certificate" in answer.stderr


@pytest.mark.usefixtures("online")
def test_city_answer_of_unexpected_shape(cli: Cli, static_federation: StaticFederation) -> None:
    static_federation.serve("/registry/cities/KE-NBO", json.dumps(["not", "a", "city"]))
    answer = cli.run("verify", "KE-NBO")
    assert answer.code == 3
    assert "did not answer a city" in answer.stderr
