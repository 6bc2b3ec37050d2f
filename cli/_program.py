"""How to run `sdgcities` again, for the commands the CLI prints: they must work as printed.

`make install` puts the console script in `.venv/bin`, which is not on most users' PATH; a
printed `sdgcities ...` would then fail with "command not found". So a printed command names
`sdgcities` only when that name finds this very script, and its full path otherwise.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

NAME = "sdgcities"


def program() -> str:
    """`sdgcities` when the PATH finds this script, else the script's path (shell-quoted)."""
    script = _running_script()
    if script is None:
        return NAME
    found = shutil.which(NAME)
    if found is not None and Path(found).resolve() == script.resolve():
        return NAME
    return shlex.quote(str(script))


def on_path() -> bool:
    return program() == NAME


def _running_script() -> Path | None:
    started_as = Path(sys.argv[0])
    if started_as.name == NAME and started_as.is_file():
        return started_as.absolute()
    # `python -m sdgcities.cli` or a test runner: the script beside the interpreter, if any.
    beside = Path(sys.executable).parent / NAME
    return beside if beside.is_file() else None


def path_hint() -> str | None:
    """How to put `sdgcities` on the PATH (a virtual environment's `activate`), when it is not."""
    script = _running_script()
    if script is None or on_path():
        return None
    activate = script.parent / "activate"
    if not activate.is_file():
        return f"sdgcities is not on your PATH; it is in {script.parent}"
    return f"sdgcities is not on your PATH: `. {shlex.quote(str(activate))}` puts it there"
