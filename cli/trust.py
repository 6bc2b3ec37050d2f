"""`sdgcities trust ...`: the offline trust bundle (signed trust list and status lists)."""

from __future__ import annotations

import typer

from ._options import BundleDir, ConfigFile, JsonOutput, RegistryUrl, RootThumbprints, Timeout

trust_app = typer.Typer(
    help=(
        "The offline trust bundle: a folder with the signed trust list and every node's status "
        "lists, for 'sdgcities verify --offline' (it can travel on a USB stick)."
    ),
    no_args_is_help=True,
)


# Typer keeps the newlines of a help text: one line per paragraph.
SYNC_HELP = "\n\n".join(
    (
        "Download the signed trust list and every node's status lists into the bundle.",
        "The trust list is accepted only if a pinned root key signed it, it is fresh, and it is "
        "not older than the newest list the bundle has held: the bundle's anchor survives every "
        "sync, and an older list is refused with the bundle kept as it was. Status lists are "
        "fetched only under the base URLs the trust list names (each node's GET /status index); "
        "a node that cannot be reached keeps the lists the bundle already held for it.",
        "Exit codes:\n"
        "  0  synced\n"
        "  1  the bundle could not be written\n"
        "  2  usage error (no pinned root key, no registry URL, bad option)\n"
        "  3  trust list unreachable, stale, rolled back or not signed by a pinned key (bundle "
        "unchanged), or some node's status lists not fetched (bundle written, incomplete)",
    )
)
SHOW_HELP = "\n\n".join(
    (
        "Show the bundle: its age, trust list, nodes and status lists, checked against the pin.",
        "Makes no network request.",
        "Exit codes:\n"
        "  0  usable offline\n"
        "  2  usage error\n"
        "  3  not usable to decide: no bundle, a stale or rolled-back trust list, or a missing, "
        "damaged or expired status list",
    )
)


@trust_app.command("sync", help=SYNC_HELP)
def sync(
    json_output: JsonOutput = False,
    root_thumbprint: RootThumbprints = None,
    registry_url: RegistryUrl = None,
    bundle: BundleDir = None,
    config: ConfigFile = None,
    timeout: Timeout = 10.0,
) -> None:
    """Download the signed trust list and the status lists into the bundle."""
    from ._trust_cmds import TrustRequest, run_sync

    code = run_sync(
        TrustRequest(
            json_output=json_output,
            config=config,
            root_thumbprints=root_thumbprint,
            registry_url=registry_url,
            bundle_dir=bundle,
            timeout=timeout,
        )
    )
    raise typer.Exit(int(code))


@trust_app.command("show", help=SHOW_HELP)
def show(
    json_output: JsonOutput = False,
    root_thumbprint: RootThumbprints = None,
    bundle: BundleDir = None,
    config: ConfigFile = None,
) -> None:
    """Show the bundle and whether it can be used offline."""
    from ._trust_cmds import TrustRequest, run_show

    code = run_show(
        TrustRequest(
            json_output=json_output,
            config=config,
            root_thumbprints=root_thumbprint,
            registry_url=None,
            bundle_dir=bundle,
        )
    )
    raise typer.Exit(int(code))
