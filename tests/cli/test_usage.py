"""Usage errors (exit 2), configuration, help and the one-line error boundary."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SDGCITIES, Cli
from .federation import TestFederation


def assert_one_line_error(stderr: str, *parts: str) -> None:
    assert stderr.startswith("error: ")
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for part in parts:
        assert part in stderr


def test_help_documents_the_exit_codes(cli: Cli) -> None:
    root = cli.run("--help")
    assert root.code == 0
    for command in ("verify", "trust", "node"):
        assert command in root.stdout
    verify = cli.run("verify", "--help")
    assert verify.code == 0
    text = " ".join(verify.stdout.split())
    for line in ("0 valid", "1 not valid", "2 usage error", "3 cannot decide"):
        assert line in text
    for option in ("--offline", "--batch", "--json", "--root-thumbprint", "--bundle"):
        assert option in verify.stdout
    sync = cli.run("trust", "sync", "--help")
    assert sync.code == 0
    assert "Exit codes" in sync.stdout


# The command as a terminal starts it, Ctrl-C at its default: a shell script's background job
# (CI started that way) ignores SIGINT, and the command would inherit that and never hear it.
# `exec` keeps the process (its pid, its standard input) and a default disposition.
AS_AT_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@pytest.mark.parametrize(
    "command",
    [
        ("verify", "-"),
        ("verify", "--batch", "-", "--offline"),  # the offline batch, run without Typer
    ],
)
def test_ctrl_c_exits_130_in_one_line(cli: Cli, command: tuple[str, ...]) -> None:
    """`verify -` waits on standard input; Ctrl-C there ends it as shells expect (128 + SIGINT)."""
    process = subprocess.Popen(
        [sys.executable, "-c", AS_AT_A_TERMINAL, str(SDGCITIES), *command],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wchan = Path(f"/proc/{process.pid}/wchan")
        deadline = time.monotonic() + 30
        while "pipe_read" not in wchan.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)  # until it waits for the token
        process.send_signal(signal.SIGINT)
        # Standard input stays open until it has ended: closed at once (as `communicate` does),
        # the end of the input could race the signal and be read as an empty input.
        process.wait(timeout=30)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert (process.returncode, stdout, stderr.strip()) == (130, "", "interrupted")
    assert "130 interrupted" in " ".join(cli.run("--help").stdout.split())


def test_missing_pin(cli: Cli, fed: TestFederation) -> None:
    del cli.env["SDGCITIES_ROOT_THUMBPRINT"]
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", token)
    assert answer.code == 2
    assert answer.stdout == ""
    assert_one_line_error(answer.stderr, "no pinned root key thumbprint", "--root-thumbprint")


@pytest.mark.parametrize("command", [["trust", "sync"], ["trust", "show"]])
def test_missing_pin_trust_commands(cli: Cli, command: list[str]) -> None:
    del cli.env["SDGCITIES_ROOT_THUMBPRINT"]
    answer = cli.run(*command)
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "no pinned root key thumbprint")


def test_malformed_pin(cli: Cli) -> None:
    answer = cli.run("verify", "--offline", "--root-thumbprint", "sha256:abc", "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "not an RFC 7638 SHA-256 thumbprint")


def test_unknown_option(cli: Cli) -> None:
    answer = cli.run("verify", "--frobnicate")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "No such option: --frobnicate", "sdgcities verify --help")


def test_bad_option_value(cli: Cli) -> None:
    answer = cli.run("verify", "--timeout", "soon", "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "--timeout")


def test_a_demo_port_base_without_room_for_its_four_ports(cli: Cli) -> None:
    """The demo's mail server takes N+3, so the highest base is 65532."""
    answer = cli.run("demo", "--port-base", "65533")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "--port-base")


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_unreadable_certificate_file(cli: Cli, tmp_path: Path, what: str) -> None:
    target = tmp_path / "nothing.jwt"
    if what == "folder":
        target.mkdir()
    answer = cli.run("verify", "--offline", str(target))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, str(target))


def test_unreadable_batch_file(cli: Cli, tmp_path: Path) -> None:
    answer = cli.run("verify", "--offline", "--batch", str(tmp_path / "none.txt"))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "no such file")


def test_certificate_and_batch_together(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("a.b.c\n")
    answer = cli.run("verify", "--offline", "--batch", str(tmp_path / "b.txt"), "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "give one CERTIFICATE")


def test_nothing_to_verify(cli: Cli) -> None:
    answer = cli.run("verify", "--offline")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "give one CERTIFICATE")


def test_unsupported_url_scheme(cli: Cli) -> None:
    answer = cli.run("verify", "ftp://example.org/cert")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "unsupported URL scheme")


def test_registry_url_must_be_https_off_loopback(cli: Cli) -> None:
    answer = cli.run("verify", "--registry-url", "http://registry.example.org", "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "plain http is accepted only for loopback")


def test_config_file_supplies_pin_and_bundle(cli: Cli, fed: TestFederation, tmp_path: Path) -> None:
    del cli.env["SDGCITIES_ROOT_THUMBPRINT"]
    config = tmp_path / "home" / "config" / "sdgcities" / "config.toml"
    config.parent.mkdir(parents=True)
    fed.write_bundle(config.parent / "usb-bundle")
    config.write_text(
        f'root_thumbprints = ["{fed.pin}"]\n'
        'registry_url = "https://sdgcities.example"\n'
        'bundle_dir = "usb-bundle"\n'
    )
    token, _ = fed.certificate()
    answer = cli.run("verify", "--offline", "--json", token)
    assert answer.code == 0, answer.stderr
    assert answer.json()["trust"]["bundle"] == str(config.parent / "usb-bundle")


def test_option_overrides_environment_and_config(
    cli: Cli, fed: TestFederation, tmp_path: Path
) -> None:
    config = tmp_path / "explicit.toml"
    config.write_text('root_thumbprints = ["' + "A" * 43 + '"]\n')
    cli.env["SDGCITIES_CONFIG"] = str(config)
    cli.env["SDGCITIES_ROOT_THUMBPRINT"] = "B" * 43
    bundle = fed.write_bundle(tmp_path / "bundle")
    token, _ = fed.certificate()
    args = ("verify", "--offline", "--bundle", str(bundle), token)
    assert cli.run(*args).code == 3  # the environment's (wrong) pin wins over the file's
    assert cli.run(*args, "--root-thumbprint", fed.pin).code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("root_thumbprints = [", "not valid TOML"),
        ("root_thumbprint = 'x'", "unknown key(s) root_thumbprint"),
        ("root_thumbprints = 7", "must be a list of strings"),
        ("registry_url = 7", "registry_url must be a string"),
    ],
)
def test_bad_config_file(cli: Cli, tmp_path: Path, content: str, message: str) -> None:
    del cli.env["SDGCITIES_ROOT_THUMBPRINT"]
    config = tmp_path / "bad.toml"
    config.write_text(content)
    answer = cli.run("verify", "--offline", "--config", str(config), "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, message)


def test_explicit_config_file_must_exist(cli: Cli, tmp_path: Path) -> None:
    cli.env["SDGCITIES_CONFIG"] = str(tmp_path / "absent.toml")
    answer = cli.run("verify", "--offline", "a.b.c")
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "absent.toml does not exist")
