"""`sdgcities node init`, through the installed console script."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sdgcities.credentials import KeyStoreError, SigningKey

SDGCITIES = str(Path(sys.executable).parent / "sdgcities")


def _init(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SDGCITIES, "node", "init", "--data-dir", str(data_dir), "--json", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_creates_key_admin_token_and_catalogue(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    done = _init(data_dir, "--node-id", "CO")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["node_id"] == "CO"
    assert result["admin_token"].startswith("sdgc_")
    key_file = data_dir / "keys" / f"{result['kid']}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    with pytest.raises(KeyStoreError):
        SigningKey.load(key_file, "not the passphrase")
    database = sqlite3.connect(data_dir / "node.db")
    try:
        tokens = database.execute("SELECT token_hash FROM apitoken").fetchall()
        tools = database.execute("SELECT count(*) FROM catalogue_tool").fetchone()[0]
    finally:
        database.close()
    assert len(tokens) == 1
    assert result["admin_token"] not in str(tokens)
    assert tools > 0


def test_init_refuses_an_initialised_folder_and_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    assert _init(data_dir).returncode == 0
    again = _init(data_dir)
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: {data_dir} already holds an initialised node"
    bad = _init(tmp_path / "other", "--node-id", "KEN")
    assert bad.returncode == 2
    assert "node_id is an ISO 3166-1 alpha-2 code (KE) or 'global'" in bad.stderr
    assert "Traceback" not in bad.stderr
