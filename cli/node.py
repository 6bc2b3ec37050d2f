"""`sdgcities node ...`: create a node's data folder and keys, run it, back it up and restore it."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .errors import CliError, ExitCode

if TYPE_CHECKING:
    from sdgcities.node.config import Settings

node_app = typer.Typer(help="Create, run, back up and restore a node.", no_args_is_help=True)

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
    global_url: Annotated[
        str | None,
        typer.Option(
            envvar="SDGCITIES_GLOBAL_URL",
            help="National nodes: the global node's base URL (where the node joins and syncs).",
        ),
    ] = None,
    root_thumbprint: Annotated[
        str | None,
        typer.Option(
            help=(
                "National nodes, with --global-url: the global root key's thumbprint, from the "
                "global secretariat; the key it names is fetched and pinned."
            ),
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create the data folder, the signing key (encrypted) and a first administrator token."""
    from .node_init import DatabaseUnreachable, NodeAlreadyInitialised, initialise_node

    root_keys = _root_keys_to_pin(
        node_id=node_id, global_url=global_url, root_thumbprint=root_thumbprint
    )
    try:
        result = initialise_node(
            data_dir=data_dir,
            node_id=node_id,
            name=name or f"SDG Cities node {node_id}",
            base_url=base_url,
            database_url=database_url,
            admin_email=admin_email,
            admin_name=admin_name,
            global_url=global_url,
            root_keys=root_keys,
        )
    except (NodeAlreadyInitialised, DatabaseUnreachable) as exc:
        raise CliError(str(exc), ExitCode.NOT_VALID) from exc
    except ValueError as exc:  # one line per problem, each naming its option or setting
        *others, last = str(exc).splitlines() or [""]
        for problem in others:
            typer.echo(f"error: {problem}", err=True)
        raise CliError(last, ExitCode.USAGE) from exc
    if json_output:
        import json

        typer.echo(json.dumps(result))
        return
    _print_initialised(result, data_dir=data_dir, global_url=global_url)


def _root_keys_to_pin(
    *, node_id: str, global_url: str | None, root_thumbprint: str | None
) -> list[dict[str, str]] | None:
    """The global root key a national node pins at creation, fetched from `global_url` and
    checked against `root_thumbprint`; None when there is none to fetch. Refuses the options
    that do not go together."""
    from .node_init import fetch_root_key

    # A root key pinned whole in the environment (docker-compose's ROOT_KEYS) needs no thumbprint.
    pinned_in_environment = os.environ.get("SDGCITIES_ROOT_KEYS", "").strip() not in ("", "[]")
    if global_url is not None or root_thumbprint is not None:
        if node_id == "global":
            raise CliError(
                "--global-url and --root-thumbprint are for national nodes: the global node "
                "holds the root key itself",
                ExitCode.USAGE,
            )
        if root_thumbprint is None and not pinned_in_environment:
            raise CliError(
                "--global-url and --root-thumbprint go together: the node pins the root key "
                "that the thumbprint names (or pin it whole with SDGCITIES_ROOT_KEYS)",
                ExitCode.USAGE,
            )
        if global_url is None:
            raise CliError(
                "--root-thumbprint goes with --global-url: the root key is fetched from the "
                "global node",
                ExitCode.USAGE,
            )
        if root_thumbprint is not None:
            from ._config import checked_thumbprint

            return [
                fetch_root_key(
                    global_url=global_url, thumbprint=checked_thumbprint(root_thumbprint)
                )
            ]
    return None


def _print_initialised(result: dict[str, str], *, data_dir: Path, global_url: str | None) -> None:
    """What `init` made, with the one-time admin token, and the commands that come next."""
    from ._program import program

    typer.echo(f"Node {result['node_id']} initialised in {result['data_dir']}")
    typer.echo(f"  DID:          {result['did']}")
    typer.echo(f"  signing key:  {result['kid']} (encrypted at rest)")
    typer.echo(f"  admin token:  {result['admin_token']}")
    if "root_thumbprint" in result:
        typer.echo(f"  root key:     {result['root_thumbprint']} (verifiers pin this thumbprint)")
    if global_url is not None:
        typer.echo(f"  global node:  {result['global_url']} (root key pinned)")
    serve_command = f"{program()} node serve --data-dir {shlex.quote(str(data_dir))}"
    typer.echo("The token is shown once; keep it. Start the node with:")
    typer.echo(f"  {serve_command}")
    if global_url is not None:
        typer.echo(
            "Then join the federation (with the admin token in SDGCITIES_TOKEN): "
            f"{program()} federation join --node-url {result['base_url']}"
        )


@node_app.command("serve")
def serve(
    data_dir: DataDir = Path("data"),
    host: Annotated[str, typer.Option(envvar="SDGCITIES_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="SDGCITIES_PORT")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            envvar="SDGCITIES_WORKERS",
            help="Worker processes (above 1: PostgreSQL only).",
        ),
    ] = 1,
) -> None:
    """Run the node (uvicorn) on HOST:PORT until stopped."""
    from ._serve import bind_listening_socket, node_settings, start_failure

    if workers < 1:
        raise CliError("--workers must be at least 1", ExitCode.USAGE)
    settings = node_settings(data_dir)
    if workers != 1:
        _check_workers(settings=settings, workers=workers)
    # The app and the server are imported (seconds) only once the folder and settings passed:
    # a refusal is answered at once.
    import uvicorn

    from sdgcities.node.app import create_app
    from sdgcities.node.serve_lock import NodeAlreadyServed, serving
    from sdgcities.node.serving import serve_workers

    try:
        # This process holds the lock against a second `node serve` of the node; the workers
        # it starts (`node.serving.worker_app`) never take it.
        with serving(settings):
            # The port is taken before start-up (migrations, status lists) runs, so a busy
            # one is refused at once, and nothing of the node has started.
            listener = bind_listening_socket(host, port)
            if workers != 1:
                # uvicorn binds the port again in this process for its workers.
                listener.close()
                serve_workers(settings=settings, host=host, port=port, workers=workers)
                return
            app = create_app(settings)
            config = uvicorn.Config(app, log_level="info", proxy_headers=False)
            uvicorn.Server(config).run(sockets=[listener])
    except NodeAlreadyServed as exc:
        raise CliError(str(exc), ExitCode.NOT_VALID) from exc
    except CliError:
        raise
    except Exception as exc:
        raise CliError(start_failure(exc, settings=settings)) from exc


def _check_workers(*, settings: Settings, workers: int) -> None:
    from sdgcities.node.serving import check_workers

    try:
        check_workers(settings=settings, workers=workers)
    except ValueError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc


@node_app.command("backup")
def backup(
    data_dir: DataDir = Path("data"),
    out: Annotated[
        Path, typer.Option("--out", help="The archive to write (.tar.gz; must not exist).")
    ] = Path("sdgcities-backup.tar.gz"),
    skip_database: Annotated[
        bool,
        typer.Option(
            "--skip-database",
            help="PostgreSQL only: leave the database out (you back it up with pg_dump).",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """A consistent backup of the data folder, safe while the node runs: the database (SQLite
    online backup, or pg_dump), keys, evidence and node.env, with a SHA-256 manifest."""
    from ._backup import create_backup

    manifest = create_backup(data_dir=data_dir, out=out, skip_database=skip_database)
    if json_output:
        import json

        typer.echo(json.dumps(manifest))
        return
    database = manifest["database"]
    stored = database.get("file") or "NOT included (--skip-database)"
    typer.echo(f"Backup of node {manifest['node_id']} written to {out}")
    typer.echo(f"  database ({database['kind']}): {stored}")
    typer.echo(f"  files: {len(manifest['files'])}, each with its SHA-256 in manifest.json")
    typer.echo("The archive holds the (encrypted) keys and every city's evidence: keep it safe.")


@node_app.command("restore")
def restore(
    archive: Annotated[Path, typer.Argument(help="A backup written by `sdgcities node backup`.")],
    data_dir: DataDir = Path("data"),
    json_output: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """Restore a backup into a new (or empty) data folder, after checking every file's SHA-256
    against the manifest; nothing is written if one does not match."""
    from ._backup import PG_DUMP_FILE, restore_backup

    manifest = restore_backup(archive=archive, data_dir=data_dir)
    if json_output:
        import json

        typer.echo(json.dumps(manifest))
        return
    typer.echo(
        f"Node {manifest['node_id']} restored into {data_dir} ({len(manifest['files'])} files)"
    )
    if manifest["database"].get("file") == PG_DUMP_FILE:
        typer.echo(
            f"Load the database into an empty PostgreSQL database, then delete the dump:\n"
            f"  pg_restore --no-owner --dbname=URL {data_dir / PG_DUMP_FILE}"
        )
    elif manifest["database"]["kind"] == "postgresql":
        typer.echo("The database was not in this backup: restore it from your pg_dump.")
    from ._program import program

    typer.echo(
        f"Start the node with: {program()} node serve --data-dir {shlex.quote(str(data_dir))}"
    )
