"""What `node serve` checks before the node starts: its settings, its data folder, its port."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import typer
from pydantic import ValidationError

from sdgcities.node.config import NODE_ENV_FILE, Settings, get_settings, settings_problems
from sdgcities.node.db import describe_connection_failure

from ._program import program
from .errors import CliError, ExitCode, one_line


def node_settings(data_dir: Path) -> Settings:
    """The node's settings, once its data folder is known to hold a node `node init` created.

    Nothing is created for a folder that holds none: a typo in `--data-dir` must not start an
    empty node with a new identity beside the real one."""
    if not (data_dir / NODE_ENV_FILE).is_file():
        raise CliError(
            f"{data_dir} holds no node (no {NODE_ENV_FILE}): create one with "
            f"`{program()} node init --data-dir {data_dir}`, or check --data-dir",
            ExitCode.USAGE,
        )
    try:
        return get_settings(data_dir=data_dir)
    except ValidationError as exc:
        problems = settings_problems(exc)
        for problem in problems[:-1]:
            typer.echo(f"error: {one_line(problem)}", err=True)
        raise CliError(problems[-1], ExitCode.USAGE) from exc


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on HOST:PORT, for uvicorn; a one-line usage error when it is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"--host {host}: {exc.strerror}", ExitCode.USAGE) from exc
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        reason = (
            "is already in use"
            if exc.errno == errno.EADDRINUSE
            else f"cannot be used ({exc.strerror})"
        )
        raise CliError(
            f"port {port} on {host} {reason}: choose another with --port", ExitCode.USAGE
        ) from exc
    return listener


def start_failure(exc: BaseException, *, settings: Settings) -> str:
    """Why the node could not start, in one line."""
    unreachable = describe_connection_failure(exc, url=settings.sqlalchemy_url)
    if unreachable is not None:
        return f"the node cannot start: {unreachable}"
    return f"the node cannot start: {exc}"
