"""`sdgcities node serve --workers N`: refused, in one line, where the database cannot serve it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdgcities.cli.errors import ExitCode
from sdgcities.node.serving import WORKERS_NEED_POSTGRESQL

from .nodes import init_node

SDGCITIES = Path(sys.executable).with_name("sdgcities")


def serve(data_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    return subprocess.run(
        [str(SDGCITIES), "node", "serve", "--data-dir", str(data_dir), "--port", "1", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_more_than_one_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    node = init_node(tmp_path / "node", "KE")
    before = sorted(path.name for path in node.data_dir.iterdir())
    done = serve(node.data_dir, "--workers", "2")
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == f"error: {WORKERS_NEED_POSTGRESQL}\n"
    # Refused before anything started: no lock taken, nothing written.
    assert sorted(path.name for path in node.data_dir.iterdir()) == before


def test_no_workers_is_refused(tmp_path: Path) -> None:
    done = serve(tmp_path / "node", "--workers", "0")
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == "error: --workers must be at least 1\n"
    assert not (tmp_path / "node").exists()
