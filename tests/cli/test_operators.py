"""The operator commands against one real national node (uvicorn process): accounts, tokens,
frameworks, meetings; every exit code, `--json`, and one-line errors with the API's reason."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Cli, Result, clean_environment
from .nodes import Node, free_port, init_node
from .test_usage import assert_one_line_error

pytestmark = pytest.mark.slow  # a node process, and some forty runs of the console script


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = init_node(tmp_path_factory.mktemp("ke"), "KE").serve()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def ops(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The national administrator, with the node URL and token from the environment."""
    home = tmp_path_factory.mktemp("home")
    env = clean_environment(home)
    env.update(SDGCITIES_NODE_URL=node.url, SDGCITIES_TOKEN=node.admin_token)
    return Cli(cwd=home, env=env)


def ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def add_user(ops: Cli, email: str, role: str, *extra: str) -> int:
    answer = ok(
        ops.run("users", "add", "--name", email, "--email", email, "--role", role, *extra, "--json")
    )
    user_id: int = answer.json()["id"]
    return user_id


def private_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# Accounts and tokens ---------------------------------------------------------------------------


def test_users_add_list_deactivate(ops: Cli) -> None:
    user_id = add_user(ops, "grace@example.org", "secretariat")
    listed = ok(ops.run("users", "list", "--json")).json()
    assert {"id": user_id, "role": "secretariat"}.items() <= next(
        u for u in listed["data"] if u["email"] == "grace@example.org"
    ).items()
    assert listed["count"] == len(listed["data"]) >= 2
    only = ok(ops.run("users", "list", "--role", "secretariat", "--json")).json()
    assert {u["role"] for u in only["data"]} == {"secretariat"}

    table = ok(ops.run("users", "list"))
    assert "grace@example.org" in table.stdout
    assert "secretariat" in table.stdout

    gone = ok(ops.run("users", "deactivate", str(user_id), "--json")).json()
    assert gone["active"] is False
    back = ok(ops.run("users", "activate", str(user_id)))
    assert f"Account {user_id} active" in back.stdout


def test_me_shows_who_the_token_belongs_to(ops: Cli) -> None:
    me = ok(ops.run("me", "--json")).json()
    assert (me["email"], me["role"], me["active"]) == ("admin@example.org", "administrator", True)
    shown = ok(ops.run("me"))
    assert f"The token belongs to account {me['id']}" in shown.stdout
    assert "admin@example.org" in shown.stdout
    assert "administrator" in shown.stdout


def test_tables_stay_readable_at_80_columns(ops: Cli) -> None:
    email = "wanjiru.kamau@example.org"
    ok(
        ops.run(
            *("users", "add", "--name", "Wanjiru Kamau Njoroge", "--email", email),
            *("--role", "committee_member", "--stakeholder", "civil_society"),
        )
    )
    narrow = Cli(cwd=ops.cwd, env={**ops.env, "COLUMNS": "80"})
    table = ok(narrow.run("users", "list", "--role", "committee_member"))
    assert max(len(line) for line in table.stdout.splitlines()) <= 80, table.stdout
    # The name wraps at its spaces; the address and the role stay whole, not cut in the middle.
    assert email in table.stdout, table.stdout
    assert "committee_member" in table.stdout


def test_tokens_create_list_revoke(ops: Cli, tmp_path: Path) -> None:
    user_id = add_user(ops, "ada@example.org", "secretariat")
    token_file = tmp_path / "ada.token"
    created = ok(
        ops.run(
            "tokens",
            "create",
            str(user_id),
            "--label",
            "laptop",
            "--out",
            str(token_file),
            "--json",
        )
    ).json()
    assert "token" not in created  # written to the file, not to stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().startswith("sdgc_")

    # The new token works, and the node answers with the role's limits.
    me = ops.run("users", "list", "--token-file", str(token_file))
    assert me.code == 1
    assert_one_line_error(me.stderr, "error: a secretariat may not do this")
    meetings = ok(ops.run("meetings", "list", "--token-file", str(token_file), "--json")).json()
    # The module's node is shared: other tests may have planned meetings on it already.
    assert meetings["data"] == ok(ops.run("meetings", "list", "--json")).json()["data"]

    listed = ok(ops.run("tokens", "list", str(user_id), "--json")).json()
    assert [t["label"] for t in listed["data"]] == ["laptop"]
    assert token_file.read_text().startswith(listed["data"][0]["prefix"])
    revoked = ok(ops.run("tokens", "revoke", str(created["id"]), "--json")).json()
    assert revoked["revoked_at"] is not None

    refused = ops.run("meetings", "list", "--token-file", str(token_file))
    assert refused.code == 1
    assert refused.stdout == ""
    assert_one_line_error(
        refused.stderr, "error: the node refused the token: this token has been revoked"
    )


def test_token_shown_once_on_stdout(ops: Cli) -> None:
    user_id = add_user(ops, "alan@example.org", "reviewer")
    shown = ok(ops.run("tokens", "create", str(user_id)))
    assert "sdgc_" in shown.stdout
    assert "shown once" in shown.stderr
    answer = ok(ops.run("tokens", "create", str(user_id), "--json")).json()
    assert answer["token"].startswith("sdgc_")


# Errors and exit codes -------------------------------------------------------------------------


def test_unknown_token_is_refused_with_the_reason(ops: Cli) -> None:
    env = {**ops.env, "SDGCITIES_TOKEN": "sdgc_" + "A" * 43}
    answer = Cli(ops.cwd, env).run("users", "list", "--json")
    assert answer.code == 1
    assert answer.stdout == ""
    assert_one_line_error(answer.stderr, "error: the node refused the token: unknown token")


def test_malformed_token_is_a_usage_error(ops: Cli) -> None:
    env = {**ops.env, "SDGCITIES_TOKEN": "hunter2"}
    answer = Cli(ops.cwd, env).run("users", "list")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "the token in SDGCITIES_TOKEN is not a node token")


def test_missing_node_url_and_token(ops: Cli) -> None:
    no_url = {k: v for k, v in ops.env.items() if k != "SDGCITIES_NODE_URL"}
    answer = Cli(ops.cwd, no_url).run("users", "list")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "no node URL: pass --node-url, set SDGCITIES_NODE_URL")
    no_token = {k: v for k, v in ops.env.items() if k != "SDGCITIES_TOKEN"}
    answer = Cli(ops.cwd, no_token).run("users", "list")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "no token: set SDGCITIES_TOKEN, pass --token-file")
    answer = ops.run("users", "list", "--node-url", "http://nodes.example.org")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "plain http is accepted only for loopback")


def test_unreachable_node_is_exit_3(ops: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    answer = ops.run("meetings", "list", "--node-url", url, "--json")
    assert answer.code == 3
    assert answer.stdout == ""
    assert_one_line_error(answer.stderr, f"error: the node at {url} is unreachable")


def test_api_detail_is_the_error_line(ops: Cli) -> None:
    missing = ops.run("frameworks", "show", "999999")
    assert missing.code == 1
    assert_one_line_error(missing.stderr, "error: no framework version 999999")
    invalid = ops.run(
        "users", "add", "--name", "X", "--email", "not-an-email", "--role", "reviewer"
    )
    assert invalid.code == 1
    assert_one_line_error(invalid.stderr, "body.email: value is not a valid email address")
    duplicate = ops.run(
        "users", "add", "--name", "X", "--email", "admin@example.org", "--role", "reviewer"
    )
    assert duplicate.code == 1
    assert_one_line_error(duplicate.stderr, "admin@example.org")


def test_usage_errors_are_caught_before_any_request(ops: Cli) -> None:
    for args, message in [
        (
            ["users", "add", "--name", "X", "--email", "x@example.org", "--role", "king"],
            "--role must be one of",
        ),
        (
            [
                "users",
                "add",
                "--name",
                "X",
                "--email",
                "x@example.org",
                "--role",
                "committee_member",
                "--term-start",
                "soon",
            ],
            "--term-start must be a date",
        ),
        (
            ["meetings", "schedule", "--title", "T", "--at", "2030-01-01T10:00"],
            "--at needs a time zone",
        ),
        (["meetings", "vote", "1", "maybe"], "the vote is yes, no or abstain"),
        (["federation", "withdraw", "KE", "--reason", "r"], "Pass --yes to confirm"),
        (["meetings", "decide", "one"], "Invalid value for 'item_id'"),
    ]:
        answer = ops.run(*args)
        assert answer.code == 2, (args, answer.stderr)
        assert_one_line_error(answer.stderr, message)


def test_config_file_token_must_be_private(ops: Cli, node: Node, tmp_path: Path) -> None:
    env = {k: v for k, v in ops.env.items() if k not in ("SDGCITIES_NODE_URL", "SDGCITIES_TOKEN")}
    config = tmp_path / "config.toml"
    config.write_text(f'node_url = "{node.url}"\ntoken = "{node.admin_token}"\n')
    config.chmod(0o644)
    cli = Cli(ops.cwd, env)
    answer = cli.run("users", "list", "--config", str(config))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "others may read it: chmod 600")
    config.chmod(0o600)
    ok(cli.run("users", "list", "--config", str(config), "--json"))

    token_file = tmp_path / "token"
    token_file.write_text(node.admin_token)
    token_file.chmod(0o640)
    answer = cli.run("users", "list", "--config", str(config), "--token-file", str(token_file))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, f"token file {token_file} holds a token")


# Frameworks --------------------------------------------------------------------------------------


def test_frameworks_derive_edit_publish(ops: Cli) -> None:
    versions = ok(ops.run("frameworks", "list", "--json")).json()["data"]
    baseline = next(v for v in versions if v["status"] == "published")
    document = ok(ops.run("frameworks", "show", str(baseline["id"]), "--document")).json()
    code = document["stages"][0]["criteria"][0]["code"]

    derived = ok(
        ops.run(
            "frameworks",
            "derive",
            str(baseline["id"]),
            "--framework-id",
            "sdgcities-ke",
            "--version",
            "1",
            "--title",
            "SDG Cities: Kenya",
            "--json",
        )
    ).json()
    assert derived["status"] == "draft"
    edited = ok(
        ops.run(
            "frameworks",
            "edit",
            str(derived["id"]),
            code,
            "--text",
            "Nairobi's own wording",
            "--evidence",
            "County plan",
            "--json",
        )
    ).json()
    first = edited["document"]["stages"][0]["criteria"][0]
    assert first["text"] == "Nairobi's own wording"

    shown = ok(ops.run("frameworks", "show", str(derived["id"])))
    assert "sdgcities-ke version 1" in shown.stdout
    assert "Stages" in shown.stdout

    published = ok(ops.run("frameworks", "publish", str(derived["id"]), "--json")).json()
    assert published["status"] == "published"
    assert published["digest"].startswith("sha256:")
    again = ops.run("frameworks", "publish", str(derived["id"]))
    assert again.code == 1
    assert_one_line_error(again.stderr, "error: ")

    # No global node configured: the national node's own reason comes back.
    asked = ops.run("frameworks", "request-endorsement", str(derived["id"]))
    assert asked.code == 1
    assert_one_line_error(asked.stderr, "no global node is configured (SDGCITIES_GLOBAL_URL)")


# Meetings ----------------------------------------------------------------------------------------


def test_meeting_schedule_attend_open_close_report(ops: Cli, tmp_path: Path) -> None:
    members = [
        add_user(ops, f"member{n}@example.org", "committee_member", "--stakeholder", category)
        for n, category in enumerate(("civil_society", "government", "academia"))
    ]
    listed = ok(ops.run("meetings", "members", "--json")).json()
    assert listed["sitting"] >= 3

    meeting = ok(
        ops.run(
            "meetings",
            "schedule",
            "--title",
            "March",
            "--at",
            "2030-03-01T10:00:00+03:00",
            "--json",
        )
    ).json()
    meeting_id = str(meeting["id"])
    assert meeting["status"] == "scheduled"
    attended = ok(
        ops.run("meetings", "attend", meeting_id, *map(str, members[:2]), "--json")
    ).json()
    assert [m["id"] for m in attended["recorded"]] == members[:2]
    twice = ops.run("meetings", "attend", meeting_id, str(members[2]), str(members[0]))
    assert twice.code == 1
    assert_one_line_error(twice.stderr, f"member {members[0]}:", f"recorded before: {members[2]}")

    agenda = ok(ops.run("meetings", "agenda", meeting_id, "--json")).json()
    assert agenda == {"added": [], "agenda": []}
    opened = ok(ops.run("meetings", "open", meeting_id))
    assert f"Meeting {meeting_id} open" in opened.stdout
    assert "quorum now" in opened.stdout
    shown = ok(ops.run("meetings", "show", meeting_id, "--json")).json()
    assert shown["quorum_now"]["attending"] == 3

    undecidable = ops.run("meetings", "decide", "999999")
    assert undecidable.code == 1
    assert_one_line_error(undecidable.stderr, "999999")

    closed = ok(ops.run("meetings", "close", meeting_id, "--json")).json()
    assert closed["status"] == "closed"
    assert [
        m["status"]
        for m in ok(ops.run("meetings", "list", "--status", "closed", "--json")).json()["data"]
    ] == ["closed"]

    page = tmp_path / "report.html"
    report = ok(ops.run("meetings", "report", meeting_id, "--html", str(page)))
    assert "March" in report.stdout
    assert "<html" in page.read_text().lower()
    as_json = ok(ops.run("meetings", "report", meeting_id, "--json")).json()
    assert as_json["meeting"]["id"] == meeting["id"]
    assert len(as_json["attendance"]) == 3


def test_json_is_one_document_on_stdout(ops: Cli) -> None:
    answer = ok(ops.run("frameworks", "list", "--json"))
    assert json.loads(answer.stdout)["count"] >= 1
    assert answer.stdout.count("\n") == 1  # compact in a pipe
    assert answer.stderr == ""


def test_help_lists_the_operator_exit_codes(ops: Cli) -> None:
    for group in ("users", "tokens", "frameworks", "meetings", "federation"):
        answer = ok(ops.run(group, "--help"))
        text = " ".join(answer.stdout.split())
        assert "3 the node could not be reached" in text, group
