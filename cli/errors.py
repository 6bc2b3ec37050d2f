"""Exit codes (documented in `sdgcities --help` and the README) and the CLI's one error type."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NOT_VALID = 1
    USAGE = 2
    CANNOT_DECIDE = 3
    INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C


class CliError(Exception):
    """A one-line reason for the user; `exit_code` is what the process returns."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.NOT_VALID) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(message: object, *, limit: int = 1000) -> str:
    """`message` on one line, without control characters (it may quote a server or a file)."""
    text = "".join(c if c.isprintable() else " " for c in str(message))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
