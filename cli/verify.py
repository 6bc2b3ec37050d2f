"""`sdgcities verify`: is this certificate valid? For a person, or for a script with `--json`."""

from __future__ import annotations

from typing import Annotated

import typer

from ._options import BundleDir, ConfigFile, JsonOutput, RegistryUrl, RootThumbprints, Timeout

# Typer keeps the newlines of a help text: one line per paragraph, lists line by line.
VERIFY_HELP = "\n\n".join(
    (
        "Verify SDG Cities certificates: signature, issuer, key, framework, dates, revocation, "
        "suspension.",
        "CERTIFICATE is a token, a file holding one ('-' for standard input), a certificate URL, "
        "or a city id such as KE-NBO (then every current certificate of that city, from the "
        "registry). Everything is checked against the trust list signed by the pinned global "
        "root key.",
        "Exit codes:\n"
        "  0  valid\n"
        "  1  not valid (bad signature, expired, revoked, suspended, unknown or suspended "
        "issuer ...)\n"
        "  2  usage error (bad option, no pinned root key, unreadable file)\n"
        "  3  cannot decide (trust data or a status list unreachable, stale or rolled back)",
        "With several certificates (a city id, --batch) the worst answer decides: 1 if any is "
        "not valid, else 3 if any is undecided, else 0.",
        "--offline reads only the bundle made by 'sdgcities trust sync', makes no network "
        "request, and says how old the bundle is; a stale or rolled-back bundle gives 3, never 0.",
    )
)


def verify(
    certificate: Annotated[
        str | None,
        typer.Argument(
            help="A token, a file ('-' for stdin), a certificate URL, or a city id (KE-NBO).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch",
            metavar="FILE",
            help="Verify many: one token per line ('#' comments and blank lines skipped).",
            show_default=False,
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only the trust bundle: no network at all.")
    ] = False,
    json_output: JsonOutput = False,
    root_thumbprint: RootThumbprints = None,
    registry_url: RegistryUrl = None,
    bundle: BundleDir = None,
    config: ConfigFile = None,
    timeout: Timeout = 10.0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help=(
                "Processes that verify an offline --batch: 0 = one per CPU for 1,000 "
                "lines or more (Linux), 1 = this process only."
            ),
        ),
    ] = 0,
) -> None:
    from ._verify import VerifyRequest, run_verify

    code = run_verify(
        VerifyRequest(
            certificate=certificate,
            batch=batch,
            offline=offline,
            json_output=json_output,
            timeout=timeout,
            workers=workers,
            config=config,
            root_thumbprints=root_thumbprint,
            registry_url=registry_url,
            bundle_dir=bundle,
        )
    )
    raise typer.Exit(int(code))
