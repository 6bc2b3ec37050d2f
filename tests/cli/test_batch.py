"""`sdgcities verify --batch FILE`: many certificates, one summary, the worst exit code."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from .conftest import Cli
from .federation import TestFederation, now


@pytest.fixture
def bundle(tmp_path: Path, cli: Cli) -> Path:
    cli.env["SDGCITIES_BUNDLE_DIR"] = str(tmp_path / "bundle")
    return tmp_path / "bundle"


def write_batch(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_batch_json_summary(cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path) -> None:
    good = [fed.certificate()[0] for _ in range(3)]
    revoked, index = fed.certificate()
    suspended, other = fed.certificate()
    fed.revoke(index)
    fed.suspend(other)
    fed.write_bundle(bundle)
    batch = write_batch(
        tmp_path / "batch.txt",
        [
            "# certificates from the data room",
            good[0],
            "",
            good[1],
            revoked,
            "  ",
            suspended,
            "garbage",
            good[2],
        ],
    )
    answer = cli.run("verify", "--offline", "--json", "--batch", str(batch))
    assert answer.code == 1
    assert answer.stderr == ""
    document = answer.json()
    assert [(r["line"], r["status"], r["reason"]) for r in document["results"]] == [
        (2, "valid", None),
        (4, "valid", None),
        (5, "invalid", "revoked"),
        (7, "invalid", "suspended"),
        (8, "invalid", "malformed"),
        (9, "valid", None),
    ]
    assert document["summary"] == {
        "total": 6,
        "valid": 3,
        "invalid": 3,
        "indeterminate": 0,
        "by_reason": {"malformed": 1, "revoked": 1, "suspended": 1},
        "exit_code": 1,
    }
    assert document["trust"]["mode"] == "offline"


def test_batch_all_valid(cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path) -> None:
    tokens = [fed.certificate()[0] for _ in range(5)]
    fed.write_bundle(bundle)
    answer = cli.run("verify", "--offline", "--batch", str(write_batch(tmp_path / "b", tokens)))
    assert answer.code == 0
    assert "Summary" in answer.stdout
    assert "Not valid or undecided" not in answer.stdout


def test_batch_worst_outcome(cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path) -> None:
    """Undecided beats valid (3); not valid beats undecided (1)."""
    # Another node on the trust list, whose status lists are not in the bundle.
    uganda = TestFederation(base_url="https://ug.sdgcities.example", node_id="UG", root=fed.root)
    fed.write_bundle(bundle, trust_list=fed.trust_list(extra_nodes=(uganda.node(),)))
    good, _ = fed.certificate()
    undecided, _ = uganda.certificate(locode="UG-KLA", city="Kampala")
    answer = cli.run(
        "verify",
        "--offline",
        "--json",
        "--batch",
        str(write_batch(tmp_path / "a", [good, undecided])),
    )
    assert answer.code == 3, answer.stderr
    assert answer.json()["summary"]["by_reason"] == {"status_unavailable": 1}
    answer = cli.run(
        "verify",
        "--offline",
        "--json",
        "--batch",
        str(write_batch(tmp_path / "b", [good, undecided, "not.a.token"])),
    )
    assert answer.code == 1


def test_batch_human_output(cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path) -> None:
    good, _ = fed.certificate()
    revoked, index = fed.certificate()
    fed.revoke(index)
    fed.write_bundle(bundle)
    answer = cli.run(
        "verify", "--offline", "--batch", str(write_batch(tmp_path / "b", [good, revoked]))
    )
    assert answer.code == 1
    assert "offline bundle" in answer.stdout
    assert "Summary" in answer.stdout
    assert "Not valid or undecided" in answer.stdout
    assert "revoked" in answer.stdout
    assert answer.stderr == ""  # no progress bar when stderr is not a terminal


def test_batch_from_stdin(cli: Cli, fed: TestFederation, bundle: Path) -> None:
    tokens = [fed.certificate()[0] for _ in range(2)]
    fed.write_bundle(bundle)
    answer = cli.run("verify", "--offline", "--json", "--batch", "-", stdin="\n".join(tokens))
    assert answer.code == 0
    assert answer.json()["summary"]["valid"] == 2


@pytest.mark.usefixtures("bundle")
def test_empty_batch_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    answer = cli.run(
        "verify", "--offline", "--batch", str(write_batch(tmp_path / "b", ["# nothing", ""]))
    )
    assert answer.code == 2
    assert "holds no certificate" in answer.stderr


def test_batch_with_a_stale_bundle(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    issued = now() - timedelta(days=3)
    path = fed.write_bundle(
        tmp_path / "stale",
        trust_list=fed.trust_list(issued_at=issued, next_update=issued + timedelta(days=1)),
    )
    batch = write_batch(tmp_path / "b", [fed.certificate()[0]])
    answer = cli.run("verify", "--offline", "--json", "--bundle", str(path), "--batch", str(batch))
    assert answer.code == 3
    assert answer.stdout == ""
    assert "trust_list_stale" in answer.stderr


def test_progress_bar_on_a_terminal(
    cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path
) -> None:
    tokens = [fed.certificate()[0] for _ in range(3)]
    fed.write_bundle(bundle)
    batch = str(write_batch(tmp_path / "b", tokens))
    code, stdout, stderr = cli.run_with_terminal("verify", "--offline", "--batch", batch)
    assert code == 0
    assert "Verifying" in stderr
    assert "Summary" in stdout
    code, stdout, stderr = cli.run_with_terminal("verify", "--offline", "--json", "--batch", batch)
    assert (code, stderr) == (0, "")
    assert json.loads(stdout)["summary"]["total"] == 3


def test_workers_give_the_same_answers_in_order(
    cli: Cli, fed: TestFederation, bundle: Path, tmp_path: Path
) -> None:
    tokens = []
    for n in range(450):  # three spans of 200 lines or fewer, for the command and a worker
        token, index = fed.certificate()
        if n % 7 == 0:
            fed.revoke(index)
        tokens.append(token)
    tokens[100] = "not a token"
    fed.write_bundle(bundle)
    batch = str(write_batch(tmp_path / "b", tokens))
    one = cli.run("verify", "--offline", "--json", "--workers", "1", "--batch", batch)
    two = cli.run("verify", "--offline", "--json", "--workers", "2", "--batch", batch)
    assert one.code == two.code == 1
    assert one.json()["results"] == two.json()["results"]
    assert two.json()["summary"]["by_reason"] == {"malformed": 1, "revoked": 65}
    assert [r["line"] for r in two.json()["results"]] == list(range(1, 451))
