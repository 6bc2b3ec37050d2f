"""The federation commands against a real global node and a real national node (two processes):
join, approve, sync, endorse, rotate and retire a key, publish, suspend, reinstate, withdraw."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from .conftest import Cli, Result, clean_environment
from .nodes import Node, init_node
from .test_usage import assert_one_line_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    world = init_node(tmp_path_factory.mktemp("global"), "global")
    kenya = init_node(tmp_path_factory.mktemp("ke"), "KE")
    root_jwk = json.loads((world.data_dir / "root-key.json").read_text())
    kenya.add_env(ROOT_KEYS=json.dumps([root_jwk]), GLOBAL_URL=world.url, TRUST_SYNC_SECONDS="3600")
    world.serve()
    try:
        kenya.serve()
        yield world, kenya
    finally:
        kenya.stop()
        world.stop()


def operator(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("home")
    env = clean_environment(home)
    env.update(SDGCITIES_NODE_URL=node.url, SDGCITIES_TOKEN=node.admin_token)
    return Cli(cwd=home, env=env)


@pytest.fixture(scope="module")
def secretariat(nodes: tuple[Node, Node], tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return operator(nodes[0], tmp_path_factory)


@pytest.fixture(scope="module")
def ministry(nodes: tuple[Node, Node], tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return operator(nodes[1], tmp_path_factory)


def ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    return result


def test_join_approve_endorse_rotate_publish_suspend(secretariat: Cli, ministry: Cli) -> None:
    sent = ok(ministry.run("federation", "join", "--json")).json()
    request_id = str(sent["request_id"])
    pending = ok(secretariat.run("federation", "requests", "--state", "pending", "--json")).json()
    assert [r["node_id"] for r in pending["data"]] == ["KE"]
    approved = ok(secretariat.run("federation", "approve", request_id))
    assert "Node KE approved" in approved.stdout
    again = secretariat.run("federation", "approve", request_id)
    assert again.code == 1
    assert_one_line_error(again.stderr, "error: ")

    synced = ok(ministry.run("federation", "sync", "--json")).json()
    assert synced["stored"] is True
    members = ok(secretariat.run("federation", "members", "--json")).json()
    assert [m["node_id"] for m in members["data"]] == ["KE"]
    [first_key] = [k["kid"] for k in members["data"][0]["keys"]]

    # A national framework: derive, publish, ask; the global committee endorses it by a vote at
    # a meeting (nobody endorses alone); the sync attaches it.
    versions = ok(ministry.run("frameworks", "list", "--json")).json()["data"]
    baseline = next(v for v in versions if v["status"] == "published")
    derived = ok(
        ministry.run(
            *("frameworks", "derive", str(baseline["id"]), "--framework-id", "sdgcities-ke"),
            *("--version", "1", "--title", "SDG Cities: Kenya", "--json"),
        )
    ).json()
    ok(ministry.run("frameworks", "publish", str(derived["id"])))
    asked = ok(ministry.run("frameworks", "request-endorsement", str(derived["id"]), "--json"))
    endorsement_id = str(asked.json()["request_id"])
    waiting = ok(secretariat.run("federation", "endorsements", "--state", "pending"))
    assert "sdgcities-ke" in waiting.stdout
    alone = secretariat.run("federation", "endorse", endorsement_id)
    assert alone.code == 2  # no such command any more
    member = ok(
        secretariat.run(
            *("users", "add", "--name", "Global member", "--email", "member@global.example"),
            *("--role", "committee_member", "--stakeholder", "civil_society", "--json"),
        )
    ).json()["id"]
    token = ok(secretariat.run("tokens", "create", str(member), "--json")).json()["token"]
    at = ("--at", "2030-03-01T10:00:00+03:00")
    meeting = ok(secretariat.run("meetings", "schedule", "--title", "Frameworks", *at, "--json"))
    meeting_id = str(meeting.json()["id"])
    ok(secretariat.run("meetings", "attend", meeting_id, str(member)))
    ok(secretariat.run("meetings", "open", meeting_id))
    agenda = ok(secretariat.run("meetings", "agenda", meeting_id, "--json")).json()
    [item] = [i for i in agenda["added"] if i["endorsement_request_id"] == int(endorsement_id)]
    assert item["kind"] == "endorsement"
    voter = Cli(cwd=secretariat.cwd, env={**secretariat.env, "SDGCITIES_TOKEN": token})
    ok(voter.run("meetings", "vote", str(item["id"]), "yes"))
    decided = ok(secretariat.run("meetings", "decide", str(item["id"]), "--json")).json()
    assert decided["outcome"] == "approved"
    ok(secretariat.run("meetings", "close", meeting_id))
    endorsed = ok(secretariat.run("federation", "endorsements", "--state", "endorsed", "--json"))
    [row] = endorsed.json()["data"]
    assert row["id"] == int(endorsement_id)
    assert f"agenda item {item['id']}" in row["decided_by"]
    ok(ministry.run("federation", "sync"))
    shown = ok(ministry.run("frameworks", "show", str(derived["id"]), "--json")).json()
    assert shown["usable_for_certification"] is True

    # Key rotation: the national node announces a new key; the secretariat retires the old one.
    rotated = ok(ministry.run("federation", "rotate-key", "--json")).json()
    assert rotated["previous_kid"] == first_key
    member = ok(secretariat.run("federation", "members", "KE", "--json")).json()
    assert {k["kid"]: k["status"] for k in member["keys"]} == {
        first_key: "active",
        rotated["kid"]: "active",
    }
    retired = ok(
        secretariat.run(
            # `--` first: a thumbprint may begin with "-" (base64url), which reads as an option.
            *("federation", "retire-key", "--reason", "rotated", "--json", "--", "KE", first_key)
        )
    ).json()
    assert retired["status"] == "retired"
    assert retired["valid_until"] is not None

    before = ok(secretariat.run("federation", "publish", "--json")).json()
    after = ok(secretariat.run("federation", "publish")).stdout
    assert f"Trust list #{before['sequence'] + 1} published" in after
    assert ok(ministry.run("federation", "sync", "--json")).json()["sequence"] == (
        before["sequence"] + 1
    )

    suspended = ok(
        secretariat.run("federation", "suspend", "KE", "--reason", "audit", "--json")
    ).json()
    assert suspended["status"] == "suspended"
    reinstated = ok(secretariat.run("federation", "reinstate", "KE", "--reason", "audit done"))
    assert "Node KE is active now" in reinstated.stdout
    history = ok(secretariat.run("federation", "members", "KE"))
    assert "audit done" in history.stdout

    compromised = ok(
        secretariat.run(
            *("federation", "compromise-key", "--reason", "leaked", "--yes", "--json"),
            *("--", "KE", first_key),
        )
    ).json()
    assert compromised["status"] == "compromised"
    withdrawn = ok(
        secretariat.run("federation", "withdraw", "KE", "--reason", "left", "--yes", "--json")
    ).json()
    assert withdrawn["status"] == "withdrawn"
    final = secretariat.run("federation", "reinstate", "KE", "--reason", "back")
    assert final.code == 1
    assert_one_line_error(final.stderr, "withdrawn")


def test_national_commands_on_the_global_node_are_404(secretariat: Cli, ministry: Cli) -> None:
    wrong = secretariat.run("federation", "rotate-key")
    assert wrong.code == 1
    assert_one_line_error(wrong.stderr, "error: Not Found")
    not_here = ministry.run("federation", "members", "--json")
    assert not_here.code == 1
    assert not_here.stdout == ""


def test_spot_check_round(secretariat: Cli, ministry: Cli) -> None:
    drawn = ok(secretariat.run("spot-checks", "round", "--rate", "0.5", "--json")).json()
    assert drawn["rate"] == 0.5
    assert drawn["digest"].startswith("sha256:")
    listed = ok(secretariat.run("spot-checks", "rounds"))
    assert f"{drawn['id']}" in listed.stdout
    shown = ok(secretariat.run("spot-checks", "round"))
    assert "Spot-check round" in shown.stdout
    too_much = secretariat.run("spot-checks", "round", "--rate", "2")
    assert too_much.code == 2
    not_here = ministry.run("spot-checks", "round")
    assert not_here.code == 1
    assert_one_line_error(not_here.stderr, "error: Not Found")


def test_anyone_can_verify_a_published_round(
    nodes: tuple[Node, Node], secretariat: Cli, tmp_path_factory: pytest.TempPathFactory
) -> None:
    world = nodes[0]
    drawn = ok(secretariat.run("spot-checks", "round", "--rate", "0.25", "--json")).json()
    url = f"{world.url}/federation/spot-checks/rounds/{drawn['id']}"
    home = tmp_path_factory.mktemp("investor")
    anyone = Cli(cwd=home, env=clean_environment(home))  # no token, no node URL
    pin = ("--root-thumbprint", world.init["root_thumbprint"])

    checked = ok(anyone.run("spot-checks", "verify", url, *pin, "--json")).json()
    assert checked["matches"] is True
    assert checked["round"] == drawn["id"]
    assert checked["digest"] == drawn["digest"]
    assert checked["log_event"] == checked["log_head"]["sequence"] + 1
    assert "matches its inputs" in ok(anyone.run("spot-checks", "verify", url, *pin)).stdout

    published = json.loads(httpx.get(url).text)["document"]
    # Edited after the draw yet consistent in itself: only the global node's log gives it away.
    other_rate = home / "other-rate.json"
    other_rate.write_text(json.dumps({**published, "rate": 0.75}))
    registry = ("--registry-url", world.url)
    edited = anyone.run("spot-checks", "verify", str(other_rate), *pin, *registry)
    assert edited.code == 1
    assert_one_line_error(edited.stderr, "is not the round the global node published")

    extra = {
        "nodeId": "KE",
        "application": 999,
        "locode": "KE-MBA",
        "credential": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "event": {"sequence": 1, "hash": "sha256:" + "0" * 64},
    }
    slipped_in = home / "slipped-in.json"
    slipped_in.write_text(json.dumps({**published, "candidates": [extra]}))
    inconsistent = anyone.run("spot-checks", "verify", str(slipped_in), *pin, *registry)
    assert inconsistent.code == 1
    assert_one_line_error(inconsistent.stderr, "does not match its inputs")

    unpinned = anyone.run("spot-checks", "verify", url)
    assert unpinned.code == 2
    assert_one_line_error(unpinned.stderr, "no pinned root key")
    missing = anyone.run("spot-checks", "verify", f"{url}999", *pin)
    assert missing.code == 3
    assert_one_line_error(missing.stderr, "HTTP 404")
    not_json = home / "not-json.txt"
    not_json.write_text("round 3, trust me")
    unreadable = anyone.run("spot-checks", "verify", str(not_json), *pin, *registry)
    assert unreadable.code == 1
    assert_one_line_error(unreadable.stderr, "not a JSON object")


def test_refusals_carry_the_reason(secretariat: Cli) -> None:
    refused = secretariat.run("federation", "refuse", "999999", "--reason", "unknown")
    assert refused.code == 1
    assert_one_line_error(refused.stderr, "999999")
    missing_reason = secretariat.run("federation", "suspend", "KE")
    assert missing_reason.code == 2
    assert_one_line_error(missing_reason.stderr, "--reason")
    answer = secretariat.run("federation", "endorsements", "--json")
    assert json.loads(answer.stdout)["count"] >= 0
