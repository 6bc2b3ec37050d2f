"""The offline batch's arguments read without Typer (`cli/_batch_args.py`): the same request as
Typer's, or none at all; and the command's answer the same bytes either way."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdgcities.cli import _verify
from sdgcities.cli._batch_args import batch_request
from sdgcities.cli._config import BUNDLE_DIR_ENV, CONFIG_ENV, REGISTRY_URL_ENV, ROOT_THUMBPRINT_ENV
from sdgcities.cli._verify import VerifyRequest
from sdgcities.cli.errors import ExitCode
from sdgcities.cli.main import app

from .conftest import Cli
from .federation import TestFederation
from .test_batch import write_batch

READ_DIRECTLY = [
    ["verify", "--batch", "b.txt", "--offline"],
    ["verify", "--offline", "--json", "--batch", "b.txt"],
    ["verify", "--batch=b.txt", "--offline", "--json", "--workers", "3", "--timeout", "2.5"],
    ["verify", "--batch", "-", "--offline", "--workers=1"],
    ["verify", "--batch", "b.txt", "--offline", "--workers", "007", "--timeout", "0.1"],
    ["verify", "--batch", "b.txt", "--offline", "--root-thumbprint", "A", "--root-thumbprint=B,C"],
    [
        "verify",
        "--batch",
        "b.txt",
        "--offline",
        "--bundle",
        "some dir",
        "--config",
        "c.toml",
        "--registry-url",
        "https://registry.example",
    ],
]
LEFT_TO_TYPER = [
    ["verify", "--batch", "b.txt"],  # online
    ["verify", "token.jwt", "--offline"],
    ["verify", "--batch", "b.txt", "--offline", "--help"],
    ["verify", "--batch", "b.txt", "--offline", "-h"],
    ["verify", "--batch", "b.txt", "--offline", "--json", "--json"],
    ["verify", "--batch", "a.txt", "--offline", "--batch", "b.txt"],
    ["verify", "--batch", "b.txt", "--offline", "--timeout", "0.05"],
    ["verify", "--batch", "b.txt", "--offline", "--timeout", "1e1"],
    ["verify", "--batch", "b.txt", "--offline", "--workers", "-1"],
    ["verify", "--batch", "b.txt", "--offline", "--workers", "two"],
    ["verify", "--batch", "--offline"],
    ["verify", "--batch", "b.txt", "--offline", "--bundle"],
    ["verify", "--batch", "b.txt", "--offline", "--bundle", ""],
    ["verify", "--batch", "b.txt", "--offline", "--no-json"],
    ["verify", "--batch", "b.txt", "--offline", "--"],
    ["trust", "show", "--offline"],
    ["--offline", "verify", "--batch", "b.txt"],
]
ENVIRONMENTS = [
    {},
    {ROOT_THUMBPRINT_ENV: "A"},
    {ROOT_THUMBPRINT_ENV: ""},
    {BUNDLE_DIR_ENV: "env dir", CONFIG_ENV: "env.toml", REGISTRY_URL_ENV: "https://env.example"},
    {BUNDLE_DIR_ENV: "", CONFIG_ENV: "", REGISTRY_URL_ENV: ""},
]


def typer_request(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]
) -> VerifyRequest:
    """The request Typer builds from `args` and `env` (the command itself is not run)."""
    seen: list[VerifyRequest] = []

    def record(request: VerifyRequest) -> ExitCode:
        seen.append(request)
        return ExitCode.OK

    monkeypatch.setattr(_verify, "run_verify", record)
    for name in (ROOT_THUMBPRINT_ENV, BUNDLE_DIR_ENV, CONFIG_ENV, REGISTRY_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    (request,) = seen
    return request


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("args", READ_DIRECTLY)
def test_the_request_is_the_one_typer_builds(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]
) -> None:
    request = batch_request(args, env)

    assert request is not None
    assert request == typer_request(monkeypatch, args, env)


@pytest.mark.parametrize("args", LEFT_TO_TYPER)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert batch_request(args, {}) is None


def test_a_pin_variable_typer_would_split_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    args = READ_DIRECTLY[0]
    env = {ROOT_THUMBPRINT_ENV: "A B"}

    assert batch_request(args, env) is None
    assert typer_request(monkeypatch, args, env).root_thumbprints == ["A", "B"]


@pytest.fixture
def batch_file(cli: Cli, fed: TestFederation, tmp_path: Path) -> Path:
    cli.env[BUNDLE_DIR_ENV] = str(tmp_path / "bundle")
    revoked, index = fed.certificate()
    fed.revoke(index)
    fed.write_bundle(tmp_path / "bundle")
    return write_batch(tmp_path / "batch.txt", [fed.certificate()[0], revoked, "garbage"])


@pytest.mark.parametrize("output", [["--json"], []])
def test_the_answer_is_the_same_without_typer(
    cli: Cli, batch_file: Path, output: list[str]
) -> None:
    direct = cli.run("verify", "--batch", str(batch_file), "--offline", *output)
    # `1e1` is a timeout Typer reads and `batch_request` leaves to it: the same command, through
    # Typer.
    through_typer = cli.run(
        "verify", "--batch", str(batch_file), "--offline", *output, "--timeout", "1e1"
    )

    assert direct.code == through_typer.code == ExitCode.NOT_VALID
    assert (timeless(direct.stdout), direct.stderr) == (
        timeless(through_typer.stdout),
        through_typer.stderr,
    )


def timeless(output: str) -> str:
    """`output` without the bundle's age, which the second run sees a moment later."""
    output = re.sub(r'"bundle_age_seconds":[0-9]+', '"bundle_age_seconds":0', output)
    return re.sub(r"synced [0-9]+ [a-z]+ ago", "synced 0 s ago", output)


def test_an_offline_batch_imports_neither_typer_nor_pydantic(cli: Cli, batch_file: Path) -> None:
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(repr(sorted(\n"
        "    {m.partition('.')[0] for m in sys.modules} & {'typer', 'pydantic', 'rich', 'httpx'}\n"
        "))))\n"
        "from sdgcities.cli.main import main\n"
        f"sys.argv = ['sdgcities', 'verify', '--batch', {str(batch_file)!r}, '--offline',"
        " '--json']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=cli.env,
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == ExitCode.NOT_VALID
    assert done.stderr == "[]"


def test_a_usage_error_on_the_direct_path_is_worded_as_before(cli: Cli, tmp_path: Path) -> None:
    answer = cli.run("verify", "--batch", str(tmp_path / "missing.txt"), "--offline")

    assert answer.code == ExitCode.USAGE
    assert answer.stderr.startswith("error: ")
    assert "no such file" in answer.stderr
