"""`verify --batch FILE --offline [options]` read without Typer, for the console script.

`batch_request` answers the `VerifyRequest` that Typer would build from the same arguments and
environment, or None whenever it cannot be sure it would: anything but the `verify` command's
own options, a value that is not plainly valid (a usage error is Typer's to word), an option
given twice, help. None sends the command through Typer as usual, so no input is ever answered
differently; `tests/cli/test_batch_args.py` checks each request against Typer's own.

This module is imported before anything else the command needs, on every run: it imports the
standard library only until the arguments are known to be an offline batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._config import BUNDLE_DIR_ENV, CONFIG_ENV, REGISTRY_URL_ENV, ROOT_THUMBPRINT_ENV

if TYPE_CHECKING:
    from ._verify import VerifyRequest

# The options that take a value, and the flags; `--batch` and `--offline` must both be given.
_VALUED = frozenset(
    {
        "--batch",
        "--root-thumbprint",
        "--registry-url",
        "--bundle",
        "--config",
        "--timeout",
        "--workers",
    }
)
_FLAGS = frozenset({"--offline", "--json"})
_REPEATABLE = frozenset({"--root-thumbprint"})
_ENVIRONMENT = {
    "--root-thumbprint": ROOT_THUMBPRINT_ENV,
    "--registry-url": REGISTRY_URL_ENV,
    "--bundle": BUNDLE_DIR_ENV,
    "--config": CONFIG_ENV,
}
_DECIMAL = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?")
_COUNT = re.compile(r"[0-9]{1,4}")
DEFAULT_TIMEOUT = 10.0  # as `cli/verify.py` declares it
MIN_TIMEOUT = 0.1


def batch_request(args: Sequence[str], environ: Mapping[str, str]) -> VerifyRequest | None:
    """The request of an offline batch, or None: see the module's docstring."""
    if not args or args[0] != "verify" or "--offline" not in args:
        return None
    given = _options(args[1:])
    if given is None or "--batch" not in given or "--offline" not in given:
        return None
    values: dict[str, list[str]] = {}
    for name, env_name in _ENVIRONMENT.items():
        if name in given:
            values[name] = given[name]
        elif environ.get(env_name):  # Click takes an empty variable as unset
            value = environ[env_name]
            if name in _REPEATABLE and value.split() != [value]:
                return None  # Typer splits a list's variable on white space: leave it to Typer
            values[name] = [value]
    timeout = DEFAULT_TIMEOUT
    if "--timeout" in given:
        text = given["--timeout"][0]
        if not _DECIMAL.fullmatch(text) or float(text) < MIN_TIMEOUT:
            return None
        timeout = float(text)
    workers = 0
    if "--workers" in given:
        text = given["--workers"][0]
        if not _COUNT.fullmatch(text):
            return None
        workers = int(text)

    from ._verify import VerifyRequest

    return VerifyRequest(
        certificate=None,
        batch=given["--batch"][0],
        offline=True,
        json_output="--json" in given,
        timeout=timeout,
        workers=workers,
        config=_path(values.get("--config")),
        root_thumbprints=values.get("--root-thumbprint"),
        registry_url=values["--registry-url"][0] if "--registry-url" in values else None,
        bundle_dir=_path(values.get("--bundle")),
    )


def _options(args: Sequence[str]) -> dict[str, list[str]] | None:
    """Each option given and its values (flags: an empty list); None for anything else."""
    given: dict[str, list[str]] = {}
    position = 0
    while position < len(args):
        argument = args[position]
        name, equals, value = argument.partition("=")
        if name in _FLAGS and not equals:
            if name in given:
                return None
            given[name] = []
            position += 1
            continue
        if name not in _VALUED:
            return None  # a CERTIFICATE, help, another option, `--`: Typer's to read
        if not equals:
            if position + 1 == len(args):
                return None
            value = args[position + 1]
            position += 1
        position += 1
        # An empty value, or one that reads as an option, is left to Typer (standard input,
        # `--batch -`, is the one value that starts with a dash).
        if not value or (value.startswith("-") and not (name == "--batch" and value == "-")):
            return None
        if name in given and name not in _REPEATABLE:
            return None
        given.setdefault(name, []).append(value)
    return given


def _path(values: list[str] | None) -> Path | None:
    return Path(values[0]) if values else None
