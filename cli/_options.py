"""Options shared by the investor commands (`verify`, `trust sync`, `trust show`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._config import BUNDLE_DIR_ENV, CONFIG_ENV, REGISTRY_URL_ENV, ROOT_THUMBPRINT_ENV

RootThumbprints = Annotated[
    list[str] | None,
    typer.Option(
        "--root-thumbprint",
        envvar=ROOT_THUMBPRINT_ENV,
        help=(
            "Pinned RFC 7638 thumbprint of the global root key (repeat it, or separate several "
            "with commas). Default: root_thumbprints in the config file. Never taken from the "
            "network."
        ),
        show_default=False,
    ),
]
RegistryUrl = Annotated[
    str | None,
    typer.Option(
        "--registry-url",
        envvar=REGISTRY_URL_ENV,
        help="The global node's base URL. Default: registry_url in the config file.",
        show_default=False,
    ),
]
BundleDir = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        envvar=BUNDLE_DIR_ENV,
        help=(
            "The offline trust bundle (a folder). Default: bundle_dir in the config file, "
            "else ~/.local/share/sdgcities/bundle."
        ),
        show_default=False,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar=CONFIG_ENV,
        help="TOML config file. Default: ~/.config/sdgcities/config.toml (if it exists).",
        show_default=False,
    ),
]
JsonOutput = Annotated[
    bool,
    typer.Option(
        "--json", help="Print exactly one JSON document on stdout, for scripts; no progress bar."
    ),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=0.1, help="Seconds to wait for each HTTP request."),
]
