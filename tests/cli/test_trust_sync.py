"""`sdgcities trust sync` and `trust show` against a local static federation."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from sdgcities.credentials import KeyPeriod, KeyStatus, NodeStatus, SigningKey, TrustedNode
from sdgcities.credentials.status_entry import STATUS_SIZE

from .conftest import Cli, publish
from .federation import TestFederation, now
from .static_federation import StaticFederation
from .test_verify_online import closed_port_url


@pytest.fixture
def bundle(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "usb" / "bundle"
    cli.env["SDGCITIES_BUNDLE_DIR"] = str(path)
    return path


def files(path: Path) -> dict[str, bytes]:
    return {
        str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()
    }


def test_sync_writes_the_bundle(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 0, answer.stderr
    document = answer.json()
    assert document["complete"] is True
    assert document["trust_list"]["sequence"] == 5
    assert document["previous_sequence"] is None
    [node] = document["nodes"]
    assert [(i["purpose"], i["kept"], i["problem"]) for i in node["lists"]] == [
        ("message", False, None),
        ("message", False, None),
    ]
    token = (bundle / "trust-list.jwt").read_text()
    assert token == static_federation.routes["/federation/trust-list"].body.decode()
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["trust_list_sequence"] == 5
    assert manifest["source"] == f"{static_federation.url}/federation/trust-list"
    for list_id in ("1", "2"):
        url = online.list_url(list_id)
        name = f"status/{hashlib.sha256(url.encode()).hexdigest()}.jwt"
        assert manifest["lists"][url] == name
        assert (bundle / name).read_text() == static_federation.routes[
            f"/ke/status/{list_id}"
        ].body.decode()
    anchor = json.loads((bundle / "anchor.json").read_text())
    assert anchor == {
        "highest_sequence_seen": 5,
        "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
    }
    # Only the registry and the node's own base URL were asked, with the right media types.
    assert static_federation.paths() == [
        "/federation/trust-list",
        "/ke/status",
        "/ke/status/1",
        "/ke/status/2",
    ]


@pytest.mark.slow  # several command runs: about 2 s or more
@pytest.mark.usefixtures("bundle")
def test_synced_bundle_verifies_offline(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    good, _ = online.certificate()
    revoked, index = online.certificate()
    online.revoke(index)
    publish(static_federation, online)
    human = cli.run("trust", "sync")
    assert human.code == 0, human.stderr
    assert "Trust list #5" in human.stdout
    assert "complete" in human.stdout
    static_federation.routes.clear()  # the network is gone: only the bundle can answer
    assert cli.run("verify", "--offline", good).code == 0
    assert cli.run("verify", "--offline", revoked).code == 1


@pytest.mark.slow  # several command runs: about 2 s or more
def test_sync_refuses_an_older_trust_list_and_keeps_the_bundle(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    publish(static_federation, online, sequence=7)
    assert cli.run("trust", "sync").code == 0
    before = files(bundle)
    publish(static_federation, online, sequence=6)
    answer = cli.run("trust", "sync")
    assert answer.code == 3
    assert "trust_list_rollback" in answer.stderr
    assert "the bundle is unchanged" in answer.stderr
    assert files(bundle) == before


@pytest.mark.slow  # several command runs: about 2 s or more
def test_anchor_survives_resyncs(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    publish(static_federation, online, sequence=7)
    assert cli.run("trust", "sync").code == 0
    publish(static_federation, online, sequence=8)
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 0
    assert answer.json()["previous_sequence"] == 7
    assert json.loads((bundle / "anchor.json").read_text())["highest_sequence_seen"] == 8
    # #7 is refused now, though it was accepted before.
    publish(static_federation, online, sequence=7)
    assert cli.run("trust", "sync").code == 3


def test_sync_refuses_a_trust_list_not_signed_by_the_pin(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    static_federation.serve(
        "/federation/trust-list", online.trust_list(sequence=9, root=SigningKey.generate())
    )
    answer = cli.run("trust", "sync")
    assert answer.code == 3
    assert "not signed by a pinned global root key" in answer.stderr
    assert "check the pinned root thumbprint" in answer.stderr
    assert "try again later" not in answer.stderr
    assert "run 'sdgcities trust sync'" not in answer.stderr
    assert not bundle.exists()


@pytest.mark.usefixtures("bundle")
def test_sync_refuses_a_stale_trust_list(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    issued = now() - timedelta(days=3)
    static_federation.serve(
        "/federation/trust-list",
        online.trust_list(issued_at=issued, next_update=issued + timedelta(days=1)),
    )
    answer = cli.run("trust", "sync")
    assert answer.code == 3
    assert "trust_list_stale" in answer.stderr


def test_sync_does_not_follow_a_redirect(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    static_federation.serve("/elsewhere/trust-list", online.trust_list(sequence=5))
    static_federation.redirect(
        "/federation/trust-list", f"{static_federation.url}/elsewhere/trust-list"
    )
    answer = cli.run("trust", "sync")
    assert answer.code == 3
    assert "redirects are not followed" in answer.stderr
    assert "/elsewhere/trust-list" not in static_federation.paths()
    assert not bundle.exists()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_sync_refuses_an_oversized_status_list(
    cli: Cli,
    online: TestFederation,
    static_federation: StaticFederation,
    bundle: Path,
    declared: bool,
) -> None:
    static_federation.serve("/ke/status/2", b"e" * (1024 * 1024 + 1), length=declared)
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    [node] = answer.json()["nodes"]
    problems = {i["url"]: i["problem"] for i in node["lists"]}
    assert problems[online.list_url("1")] is None
    assert "larger than 1048576 bytes" in problems[online.list_url("2")]
    lists = json.loads((bundle / "manifest.json").read_text())["lists"]
    assert list(lists) == [online.list_url("1")]


@pytest.mark.slow  # several command runs: about 2 s or more
def test_sync_keeps_old_lists_of_an_unreachable_node(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, bundle: Path
) -> None:
    assert cli.run("trust", "sync").code == 0
    held = json.loads((bundle / "manifest.json").read_text())["lists"]
    index = static_federation.routes.pop("/ke/status")
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    [node] = answer.json()["nodes"]
    assert "status index" in node["problems"][0]
    assert all(i["kept"] for i in node["lists"])
    assert json.loads((bundle / "manifest.json").read_text())["lists"] == held
    # The index is back but one list is not: that list alone is kept from the last sync.
    static_federation.routes["/ke/status"] = index
    del static_federation.routes["/ke/status/2"]
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    [node] = answer.json()["nodes"]
    assert [(i["url"], i["kept"], bool(i["problem"])) for i in node["lists"]] == [
        (online.list_url("1"), False, False),
        (online.list_url("2"), True, True),
    ]
    assert json.loads((bundle / "manifest.json").read_text())["lists"] == held
    human = cli.run("trust", "sync")
    assert human.code == 3
    assert "2 status list(s), INCOMPLETE" in human.stdout
    assert "kept" in human.stdout


@pytest.mark.slow  # several command runs: about 2 s or more
@pytest.mark.usefixtures("bundle")
def test_sync_with_a_node_that_cannot_be_reached(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    other = SigningKey.generate()
    since = now() - timedelta(days=10)
    gone = TrustedNode(
        id="UG",
        did="did:web:127.0.0.1%3A9:ug",
        name="Uganda",
        base_url=f"{closed_port_url()}/ug",
        status=NodeStatus.ACTIVE,
        status_since=since,
        keys=(KeyPeriod(other.public_key, KeyStatus.ACTIVE, since),),
    )
    static_federation.serve("/federation/trust-list", online.trust_list(extra_nodes=(gone,)))
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    nodes = {n["id"]: n for n in answer.json()["nodes"]}
    assert nodes["KE"]["problems"] == []
    assert "unreachable" in nodes["UG"]["problems"][0]
    # KE's certificates still verify offline from this bundle.
    token, _ = online.certificate()
    assert cli.run("verify", "--offline", token).code == 0


@pytest.mark.usefixtures("bundle")
def test_sync_fetches_only_under_the_nodes_base_url(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    index = {"lists": [{"id": "x", "purpose": "message", "url": f"{static_federation.url}/x"}]}
    static_federation.serve("/ke/status", json.dumps(index))
    static_federation.serve("/x", online.status_list())
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    assert "is not under the node's base URL" in answer.json()["nodes"][0]["problems"][0]
    assert "/x" not in static_federation.paths()


@pytest.mark.usefixtures("bundle")
def test_sync_refuses_a_status_list_signed_by_another_key(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    genuine = online.key
    online.key = SigningKey.generate()
    static_federation.serve("/ke/status/1", online.status_list())
    online.key = genuine
    answer = cli.run("trust", "sync", "--json")
    assert answer.code == 3
    problems = [i["problem"] for i in answer.json()["nodes"][0]["lists"]]
    assert "is not signed by a key of node KE" in problems[0]


def test_sync_needs_a_registry_url(cli: Cli) -> None:
    answer = cli.run("trust", "sync")
    assert answer.code == 2
    assert "no registry URL" in answer.stderr


@pytest.mark.usefixtures("bundle")
def test_verify_after_sync_uses_the_registry_the_bundle_came_from(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    # The README's investor steps, as printed: sync with --registry-url, then verify a file.
    del cli.env["SDGCITIES_REGISTRY_URL"]
    synced = cli.run("trust", "sync", "--registry-url", static_federation.url)
    assert synced.code == 0, synced.stderr
    token, _ = online.certificate()
    (cli.cwd / "certificate.jwt").write_text(token)

    answer = cli.run("verify", "--json", "certificate.jwt")

    assert answer.code == 0, answer.stderr
    assert answer.json()["trust"]["registry"] == static_federation.url
    assert cli.run("verify", "--offline", "certificate.jwt").code == 0


@pytest.mark.usefixtures("online")
def test_sync_cannot_write_the_bundle(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    answer = cli.run("trust", "sync", "--bundle", str(blocker / "bundle"))
    assert answer.code == 1
    assert "cannot write the bundle" in answer.stderr


@pytest.mark.slow  # several command runs: about 2 s or more
@pytest.mark.usefixtures("online", "static_federation", "bundle")
def test_show_a_fresh_bundle(cli: Cli) -> None:
    assert cli.run("trust", "sync").code == 0
    answer = cli.run("trust", "show", "--json")
    assert answer.code == 0, answer.stderr
    document = answer.json()
    assert document["usable"] is True
    # The first signed date to lapse: a status list (48 h) or the trust list's next update + 24 h.
    until = document["usable_until"]
    assert until <= min(s["valid_until"] for s in document["status_lists"])
    assert until >= (now() + timedelta(hours=46)).isoformat().replace("+00:00", "Z")
    assert document["trust_list"]["sequence"] == 5
    assert [n["id"] for n in document["nodes"]] == ["KE"]
    assert [s["purpose"] for s in document["status_lists"]] == ["message", "message"]
    human = cli.run("trust", "show")
    assert f"Usable offline until {until}." in human.stdout


def test_show_a_stale_bundle(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    issued = now() - timedelta(days=4)
    path = fed.write_bundle(
        tmp_path / "bundle",
        trust_list=fed.trust_list(issued_at=issued, next_update=issued + timedelta(days=1)),
    )
    answer = cli.run("trust", "show", "--bundle", str(path), "--json")
    assert answer.code == 3
    document = answer.json()
    assert document["usable"] is False
    assert document["problem"].startswith("trust_list_stale")
    human = cli.run("trust", "show", "--bundle", str(path))
    assert "Not usable to decide" in human.stdout


def test_show_a_bundle_missing_a_status_list(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    path = fed.write_bundle(tmp_path / "bundle")
    next((path / "status").iterdir()).unlink()
    answer = cli.run("trust", "show", "--bundle", str(path), "--json")
    assert answer.code == 3
    problems = [s["problem"] for s in answer.json()["status_lists"] if s["problem"]]
    assert len(problems) == 1
    assert "missing from the bundle" in problems[0]


def test_show_a_bundle_not_signed_by_the_pin(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    path = fed.write_bundle(tmp_path / "bundle")
    (path / "trust-list.jwt").write_text(fed.trust_list(sequence=9, root=SigningKey.generate()))
    answer = cli.run("trust", "show", "--bundle", str(path))
    assert answer.code == 3
    assert answer.stderr.startswith("error: cannot decide (unknown_issuer)")


@pytest.mark.usefixtures("online")
def test_sync_progress_on_a_terminal(cli: Cli, bundle: Path) -> None:
    code, _stdout, stderr = cli.run_with_terminal("trust", "sync")
    assert code == 0
    assert "Syncing" in stderr
    assert (bundle / "anchor.json").exists()


def test_show_without_a_bundle(cli: Cli, tmp_path: Path) -> None:
    answer = cli.run("trust", "show", "--bundle", str(tmp_path / "none"))
    assert answer.code == 3
    assert "no trust bundle" in answer.stderr


def test_sync_does_not_store_a_list_older_than_one_seen(
    cli: Cli, online: TestFederation, static_federation: StaticFederation
) -> None:
    token, index = online.certificate()
    online.revoke(index)
    publish(static_federation, online)
    assert cli.run("trust", "sync").code == 0
    online.bits.clear(index * STATUS_SIZE)  # as before the revocation
    publish(static_federation, online, sequence=6, lists_signed_ago=timedelta(hours=3))

    answer = cli.run("trust", "sync", "--json")

    assert answer.code == 3
    [node] = answer.json()["nodes"]
    held = next(item for item in node["lists"] if item["url"] == online.list_url("1"))
    assert held["kept"] is True
    assert "before the one already accepted" in held["problem"]
    # The bundle keeps the list that shows the revocation.
    assert cli.run("verify", "--offline", "--json", token).json()["reason"] == "revoked"


@pytest.mark.usefixtures("bundle")
def test_tables_stay_readable_at_80_columns(
    cli: Cli, online: TestFederation, static_federation: StaticFederation, tmp_path: Path
) -> None:
    cli.env["COLUMNS"] = "80"
    token, index = online.certificate()
    online.suspend(index)
    publish(static_federation, online)
    batch = tmp_path / "tokens.txt"
    batch.write_text(f"{token}\n{token}\n")
    sync = cli.run("trust", "sync")
    show = cli.run("trust", "show")
    checked = cli.run("verify", "--batch", str(batch), "--offline")
    assert (sync.code, show.code, checked.code) == (0, 0, 1), sync.stderr + show.stderr
    tables = {}
    for name, answer in (("sync", sync), ("show", show), ("verify", checked)):
        # The one-line summaries above a table wrap as text; the tables keep to 80 columns.
        lines = [line for line in answer.stdout.splitlines() if line[:1] in "┏┃┡│└"]
        assert lines
        assert max(len(line) for line in lines) <= 80, answer.stdout
        tables[name] = "\n".join(lines)
    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.search(timestamp, tables["sync"]), tables["sync"]  # whole, not cut at the Z
    assert re.search(f"active since {timestamp}|{timestamp}", tables["show"])
    assert online.base_url in tables["show"], tables["show"]  # URLs that fit stay whole
    assert online.list_url("1") in tables["show"]
    assert "the certificate is suspended" in tables["verify"]
