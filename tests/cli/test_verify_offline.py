"""`sdgcities verify --offline`: the bundle alone decides, and says how old it is."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sdgcities.credentials import SigningKey

from .conftest import Cli
from .federation import TestFederation, now


@pytest.fixture
def bundle(tmp_path: Path, fed: TestFederation, cli: Cli) -> Path:
    path = fed.write_bundle(tmp_path / "bundle")
    cli.env["SDGCITIES_BUNDLE_DIR"] = str(path)
    return path


def test_fresh_bundle_valid_certificate(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 0, answer.stderr
    assert "VALID" in answer.stdout
    assert "Nairobi (KE-NBO), KE" in answer.stdout
    assert "gold" in answer.stdout
    assert "KE: Kenya SDG Cities" in answer.stdout
    assert f"offline bundle {bundle}, synced " in answer.stdout
    assert "trust list #5" in answer.stdout


def test_fresh_bundle_json(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    token, _ = fed.certificate(locode="KE-MBA", city="Mombasa", stage="qualification")
    answer = cli.run("verify", "--offline", "--json", token)
    assert answer.code == 0
    assert answer.stderr == ""
    document = answer.json()
    assert document["valid"] is True
    assert (document["status"], document["reason"]) == ("valid", None)
    assert document["certificate"]["city"] == {
        "locode": "KE-MBA",
        "name": "Mombasa",
        "country": "KE",
    }
    assert (document["certificate"]["stage"], document["certificate"]["level"]) == (
        "qualification",
        "silver",
    )
    assert document["issuer"] == {"id": "KE", "name": "Kenya SDG Cities", "did": fed.did}
    trust = document["trust"]
    assert (trust["mode"], trust["bundle"], trust["trust_list_sequence"]) == (
        "offline",
        str(bundle),
        5,
    )
    assert 0 <= trust["bundle_age_seconds"] < 120


def test_bundle_age_is_reported(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    path = fed.write_bundle(tmp_path / "old", created_at=now() - timedelta(hours=5))
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert answer.code == 0
    assert 5 * 3600 <= answer.json()["trust"]["bundle_age_seconds"] < 5 * 3600 + 120
    human = cli.run("verify", "--offline", "--bundle", str(path), token)
    assert "synced 5 h ago" in human.stdout


@pytest.mark.parametrize(
    ("change", "reason"),
    [("revoke", "revoked"), ("suspend", "suspended"), ("both", "revoked")],
)
def test_status_bits(
    cli: Cli, fed: TestFederation, tmp_path: Path, change: str, reason: str
) -> None:
    token, index = fed.certificate()
    if change in ("revoke", "both"):
        fed.revoke(index)
    if change in ("suspend", "both"):
        fed.suspend(index)
    path = fed.write_bundle(tmp_path / "bundle")
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert answer.code == 1
    assert (answer.json()["status"], answer.json()["reason"]) == ("invalid", reason)
    # A person sees the reason in the panel.
    human = cli.run("verify", "--offline", "--bundle", str(path), token)
    assert human.code == 1
    assert "NOT VALID" in human.stdout
    assert reason in human.stdout


@pytest.mark.usefixtures("bundle")
def test_expired_certificate(cli: Cli, fed: TestFederation) -> None:
    token, _ = fed.certificate(valid_until=now() - timedelta(days=2))
    answer = cli.run("verify", "--offline", "--json", token)
    assert answer.code == 1
    assert answer.json()["reason"] == "expired"
    # The signature checked out, so the certificate's details are shown with the reason.
    assert answer.json()["certificate"]["city"]["locode"] == "KE-NBO"


@pytest.mark.usefixtures("bundle")
def test_bad_signature(cli: Cli, fed: TestFederation) -> None:
    token, _ = fed.certificate()
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{'A' * 10}{signature[10:]}"
    answer = cli.run("verify", "--offline", "--json", forged)
    assert answer.code == 1
    document = answer.json()
    assert document["reason"] == "bad_signature"
    # Nothing from a token whose signature failed is shown as if it were true.
    assert (document["certificate"], document["issuer"]) == (None, None)


@pytest.mark.usefixtures("bundle")
def test_unknown_issuer(cli: Cli, fed: TestFederation) -> None:
    token, _ = fed.certificate(key=SigningKey.generate())
    answer = cli.run("verify", "--offline", "--json", token)
    assert (answer.code, answer.json()["reason"]) == (1, "unknown_issuer")


@pytest.mark.usefixtures("bundle")
def test_malformed_input_is_not_valid(cli: Cli) -> None:
    answer = cli.run("verify", "--offline", "--json", "-", stdin="this is no certificate\n")
    assert (answer.code, answer.json()["reason"]) == (1, "malformed")


@pytest.mark.parametrize("form", ["file", "json-file", "stdin"])
@pytest.mark.usefixtures("bundle")
def test_token_from_file_stdin_and_registry_json(
    cli: Cli, fed: TestFederation, tmp_path: Path, form: str
) -> None:
    token, _ = fed.certificate()
    (tmp_path / "cert.jwt").write_text(token + "\n")
    (tmp_path / "cert.json").write_text(json.dumps({"jwt": token, "credential": {}}))
    argument, stdin = {
        "file": ("cert.jwt", None),
        "json-file": (str(tmp_path / "cert.json"), None),
        "stdin": ("-", token),
    }[form]
    answer = cli.run("verify", "--offline", "--json", argument, stdin=stdin)
    assert answer.code == 0, answer.stderr
    assert answer.json()["input"] == argument


def test_stale_bundle_cannot_decide(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    issued = now() - timedelta(days=5)
    stale = fed.trust_list(issued_at=issued, next_update=issued + timedelta(days=1))
    path = fed.write_bundle(
        tmp_path / "stale", trust_list=stale, created_at=now() - timedelta(days=5)
    )
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert answer.code == 3
    assert answer.stdout == ""
    assert answer.stderr.startswith("error: cannot decide (trust_list_stale): ")
    assert "synced 5 days ago" in answer.stderr
    assert "sdgcities trust sync" in answer.stderr
    assert len(answer.stderr.splitlines()) == 1


def test_rolled_back_bundle_cannot_decide(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    path = fed.write_bundle(tmp_path / "bundle", trust_list=fed.trust_list(sequence=5))
    # Someone copies an older (validly signed, still fresh) trust list into the bundle.
    (path / "trust-list.jwt").write_text(fed.trust_list(sequence=4))
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), token)
    assert answer.code == 3
    assert "trust_list_rollback" in answer.stderr
    assert "older than #5" in answer.stderr


def test_other_list_with_the_anchored_sequence_cannot_decide(
    cli: Cli, fed: TestFederation, tmp_path: Path
) -> None:
    path = fed.write_bundle(tmp_path / "bundle", trust_list=fed.trust_list(sequence=5))
    (path / "trust-list.jwt").write_text(
        fed.trust_list(sequence=5, issued_at=now() - timedelta(hours=2))
    )
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), token)
    assert answer.code == 3
    assert "trust_list_rollback" in answer.stderr


def test_newer_trust_list_than_anchor_is_accepted(
    cli: Cli, fed: TestFederation, tmp_path: Path
) -> None:
    path = fed.write_bundle(tmp_path / "bundle", trust_list=fed.trust_list(sequence=5))
    (path / "trust-list.jwt").write_text(fed.trust_list(sequence=6))
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert answer.code == 0, answer.stderr
    assert answer.json()["trust"]["trust_list_sequence"] == 6


def test_missing_status_list_cannot_decide(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    only_the_other_list = {fed.list_url("2"): fed.status_list("2")}
    path = fed.write_bundle(tmp_path / "bundle", lists=only_the_other_list)
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert answer.code == 3
    document = answer.json()
    assert (document["status"], document["reason"]) == ("indeterminate", "status_unavailable")
    assert "not in the offline bundle" in document["message"]


def test_deleted_status_file_cannot_decide(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    for file in (bundle / "status").iterdir():
        file.unlink()
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--json", token)
    assert (answer.code, answer.json()["reason"]) == (3, "status_unavailable")


def test_lapsed_status_list_cannot_decide(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    lapsed = {
        fed.list_url(n): fed.status_list(n, valid_until=now() - timedelta(hours=2))
        for n in ("1", "2")
    }
    path = fed.write_bundle(tmp_path / "bundle", lists=lapsed)
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(path), "--json", token)
    assert (answer.code, answer.json()["reason"]) == (3, "status_unavailable")
    assert "stale" in answer.json()["message"]


def test_no_bundle_cannot_decide(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--bundle", str(tmp_path / "nowhere"), token)
    assert answer.code == 3
    assert "no trust bundle" in answer.stderr
    assert "sdgcities trust sync" in answer.stderr


@pytest.mark.parametrize("damaged", ["anchor.json", "manifest.json"])
def test_damaged_bundle_cannot_decide(
    cli: Cli, fed: TestFederation, bundle: Path, damaged: str
) -> None:
    (bundle / damaged).write_text("{not json")
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 3
    assert damaged in answer.stderr


def test_missing_anchor_cannot_decide(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    (bundle / "anchor.json").unlink()
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 3
    assert "rollback cannot be checked" in answer.stderr


def test_bundle_not_signed_by_the_pin(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    (bundle / "trust-list.jwt").write_text(fed.trust_list(sequence=9, root=SigningKey.generate()))
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 3
    assert "not signed by a pinned global root key" in answer.stderr
    assert "check the pinned root thumbprint" in answer.stderr
    assert "try again later" not in answer.stderr
    assert "run 'sdgcities trust sync'" not in answer.stderr


@pytest.mark.usefixtures("bundle")
def test_pin_comes_from_configuration_only(cli: Cli, fed: TestFederation) -> None:
    # The bundle's trust list names its own root key; without the right pin it is refused.
    cli.env["SDGCITIES_ROOT_THUMBPRINT"] = SigningKey.generate().kid
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 3
    assert "not signed by a pinned global root key" in answer.stderr
    assert "check the pinned root thumbprint" in answer.stderr
    assert "try again later" not in answer.stderr
    assert "run 'sdgcities trust sync'" not in answer.stderr


@pytest.mark.usefixtures("bundle")
def test_several_pins_comma_separated(cli: Cli, fed: TestFederation) -> None:
    cli.env["SDGCITIES_ROOT_THUMBPRINT"] = f"{SigningKey.generate().kid},{fed.pin}"
    token, _ = fed.certificate()
    assert cli.run("verify", "--offline", token).code == 0


class ConnectionCounter:
    """A listening socket that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.count += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def counter() -> Iterator[ConnectionCounter]:
    listening = ConnectionCounter()
    yield listening
    listening.close()


@pytest.mark.parametrize("registry", ["counter", "unroutable"])
@pytest.mark.usefixtures("bundle")
def test_offline_makes_no_network_request(
    cli: Cli, fed: TestFederation, counter: ConnectionCounter, registry: str
) -> None:
    token, _ = fed.certificate()
    cli.env["SDGCITIES_REGISTRY_URL"] = (
        counter.url if registry == "counter" else "http://10.255.255.1:9"
    )
    cli.env["HTTPS_PROXY"] = cli.env["HTTP_PROXY"] = counter.url
    answer = cli.run("verify", "--offline", "--json", token, timeout=20)
    assert answer.code == 0, answer.stderr
    assert counter.count == 0


@pytest.mark.usefixtures("bundle")
def test_the_counter_sees_online_requests(
    cli: Cli, fed: TestFederation, counter: ConnectionCounter
) -> None:
    """The control for the test above: online, the same command reaches for the registry."""
    cli.env["SDGCITIES_REGISTRY_URL"] = counter.url
    token, _ = fed.certificate()
    answer = cli.run("verify", token, timeout=20)
    assert answer.code == 3
    assert "trust list is unavailable" in answer.stderr
    assert counter.count >= 1


@pytest.mark.parametrize("source", ["https://sdgcities.example/registry/credentials/1", "KE-NBO"])
@pytest.mark.usefixtures("bundle")
def test_offline_refuses_network_sources(cli: Cli, source: str) -> None:
    answer = cli.run("verify", "--offline", source)
    assert answer.code == 2
    assert "needs the network" in answer.stderr


@pytest.mark.usefixtures("bundle")
def test_hostile_text_is_not_sent_to_the_terminal(cli: Cli, fed: TestFederation) -> None:
    token, _ = fed.certificate(city="Nai\x1b[2J\x1b]0;pwned\x07robi [bold]x[/bold]")
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 0
    assert "\x1b" not in answer.stdout
    assert "\x07" not in answer.stdout
    assert "[bold]x[/bold]" in answer.stdout  # shown as text, not read as markup


def test_an_older_bundle_handed_over_cannot_hide_a_revocation(
    cli: Cli, fed: TestFederation, tmp_path: Path
) -> None:
    token, index = fed.certificate()
    before = fed.write_bundle(
        tmp_path / "before", lists=fed.status_lists(signed_ago=timedelta(hours=3))
    )
    fed.revoke(index)
    after = fed.write_bundle(tmp_path / "after")
    assert cli.run("verify", "--offline", "--bundle", str(after), token).code == 1

    # Someone hands over a bundle made before the revocation, its lists still within validity.
    answer = cli.run("verify", "--offline", "--bundle", str(before), "--json", token)

    assert answer.code == 3, answer.stdout
    assert (answer.json()["status"], answer.json()["reason"]) == (
        "indeterminate",
        "status_list_rollback",
    )
    # What was accepted is remembered on this machine, for this user only, not in a bundle.
    seen = Path(cli.env["XDG_DATA_HOME"]) / "sdgcities" / "status-lists-seen.json"
    assert seen.stat().st_mode & 0o777 == 0o600
    assert fed.list_url("1") in json.loads(seen.read_text())["lists"]


def test_a_damaged_memory_of_seen_lists_is_cannot_decide(
    cli: Cli, fed: TestFederation, bundle: Path
) -> None:
    seen = Path(cli.env["XDG_DATA_HOME"]) / "sdgcities" / "status-lists-seen.json"
    seen.parent.mkdir(parents=True, exist_ok=True)
    seen.write_text("{not json")
    token, _ = fed.certificate()

    answer = cli.run("verify", "--offline", token)

    assert answer.code == 3
    assert "status lists seen" in answer.stderr
    assert bundle.is_dir()
