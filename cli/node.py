"""`sdgcities node ...`: create a node's data folder and keys, and run it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import CliError, ExitCode

node_app = typer.Typer(help="Create and run a node.", no_args_is_help=True)

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="SDGCITIES_DATA_DIR", help="The node's data folder."),
]


@node_app.command("init")
def init(
    data_dir: DataDir = Path("data"),
    node_id: Annotated[
        str, typer.Option(envvar="SDGCITIES_NODE_ID", help="ISO 3166-1 alpha-2, or 'global'.")
    ] = "KE",
    name: Annotated[str, typer.Option("--name", envvar="SDGCITIES_NODE_NAME")] = "",
    base_url: Annotated[
        str, typer.Option(envvar="SDGCITIES_BASE_URL", help="Public base URL (https).")
    ] = "http://127.0.0.1:8000",
    database_url: Annotated[
        str | None, typer.Option(envvar="SDGCITIES_DATABASE_URL", help="Default: SQLite file.")
    ] = None,
    admin_email: Annotated[str, typer.Option(help="The first administrator's email.")] = (
        "admin@example.org"
    ),
    admin_name: Annotated[str, typer.Option(help="The first administrator's name.")] = (
        "Node administrator"
    ),
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create the data folder, the signing key (encrypted) and a first administrator token."""
    from .node_init import NodeAlreadyInitialised, initialise_node

    try:
        result = initialise_node(
            data_dir=data_dir,
            node_id=node_id,
            name=name or f"SDG Cities node {node_id}",
            base_url=base_url,
            database_url=database_url,
            admin_email=admin_email,
            admin_name=admin_name,
        )
    except NodeAlreadyInitialised as exc:
        raise CliError(str(exc), ExitCode.NOT_VALID) from exc
    except ValueError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc
    if json_output:
        import json

        typer.echo(json.dumps(result))
        return
    typer.echo(f"Node {result['node_id']} initialised in {result['data_dir']}")
    typer.echo(f"  DID:          {result['did']}")
    typer.echo(f"  signing key:  {result['kid']} (encrypted at rest)")
    typer.echo(f"  admin token:  {result['admin_token']}")
    if "root_thumbprint" in result:
        typer.echo(f"  root key:     {result['root_thumbprint']} (verifiers pin this thumbprint)")
    typer.echo("The token is shown once; keep it. Start the node with: sdgcities node serve")


@node_app.command("serve")
def serve(
    data_dir: DataDir = Path("data"),
    host: Annotated[str, typer.Option(envvar="SDGCITIES_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="SDGCITIES_PORT")] = 8000,
) -> None:
    """Run the node (uvicorn) on HOST:PORT until stopped."""
    import uvicorn

    from sdgcities.node.app import create_app
    from sdgcities.node.config import get_settings

    settings = get_settings(data_dir=data_dir)
    try:
        app = create_app(settings)
    except Exception as exc:
        raise CliError(f"the node cannot start: {exc}") from exc
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
