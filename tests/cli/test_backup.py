"""`sdgcities node backup` and `node restore`: a consistent copy of a running node, checked on
the way back, through the console script."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sdgcities.cli._backup import create_backup
from sdgcities.cli.errors import CliError

from ..conftest import TemporaryDatabases
from .conftest import Cli, clean_environment
from .nodes import Node, free_port, init_node
from .test_usage import assert_one_line_error

pytestmark = pytest.mark.slow  # node processes


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = init_node(tmp_path_factory.mktemp("ke"), "KE").serve()
    yield node
    node.stop()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(cwd=tmp_path, env=clean_environment(home))


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """A copy of `archive` with some members' bytes replaced (or added)."""
    members = {**_members(archive), **change}
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_backup_while_the_node_writes_then_restore_and_serve(
    node: Node, cli: Cli, tmp_path: Path
) -> None:
    admin = {"Authorization": f"Bearer {node.admin_token}"}
    stop = threading.Event()
    created: list[int] = []

    def write_users() -> None:
        with httpx.Client(base_url=node.url, headers=admin, timeout=30) as http:
            while not stop.is_set():
                n = len(created)
                answer = http.post(
                    "/admin/users",
                    json={"name": f"u{n}", "email": f"u{n}@example.org", "role": "reviewer"},
                )
                created.append(answer.status_code)

    writer = threading.Thread(target=write_users)
    writer.start()
    try:
        archive = tmp_path / "ke.tar.gz"
        done = cli.run(
            "node", "backup", "--data-dir", str(node.data_dir), "--out", str(archive), "--json"
        )
    finally:
        stop.set()
        writer.join()
    assert done.code == 0, done.stderr
    assert created
    assert set(created) == {201}
    manifest = done.json()
    assert manifest["database"] == {"kind": "sqlite", "file": "node.db"}
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    names = set(manifest["files"])
    assert {"node.db", "node.env", f"keys/{node.init['kid']}.pem"} <= names
    assert not any(n.endswith(("-wal", "-shm")) for n in names)
    stored = _members(archive)
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(stored[f"data/{name}"]).hexdigest() == entry["sha256"]

    restored_dir = tmp_path / "restored"
    restored = cli.run("node", "restore", str(archive), "--data-dir", str(restored_dir))
    assert restored.code == 0, restored.stderr
    assert "restored into" in restored.stdout
    assert (
        oct((restored_dir / "keys" / f"{node.init['kid']}.pem").stat().st_mode & 0o777) == "0o600"
    )
    copy = Node(restored_dir, free_port(), node.init)
    copy.add_env(BASE_URL=copy.url)
    copy.serve()
    try:
        users = httpx.get(f"{copy.url}/admin/users?limit=500", headers=admin, timeout=30).json()
    finally:
        copy.stop()
    # The snapshot is one transaction: every account it holds is whole, and it holds at least
    # the administrator and the accounts created before the backup started.
    assert users["count"] == len(users["data"]) >= 1
    assert all(u["email"] for u in users["data"])


def test_restore_refuses_a_non_empty_target_and_a_mismatch(
    node: Node, cli: Cli, tmp_path: Path
) -> None:
    archive = tmp_path / "ke.tar.gz"
    assert (
        cli.run("node", "backup", "--data-dir", str(node.data_dir), "--out", str(archive)).code == 0
    )

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "something").write_text("x")
    answer = cli.run("node", "restore", str(archive), "--data-dir", str(occupied))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "is not empty")

    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(archive, tampered, {"data/node.env": b"SDGCITIES_NODE_ID=XX\n"})
    target = tmp_path / "target"
    answer = cli.run("node", "restore", str(tampered), "--data-dir", str(target))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "data/node.env does not match the manifest")
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []

    smuggled = tmp_path / "smuggled.tar.gz"
    _rewrite(archive, smuggled, {"data/../../evil": b"x"})
    answer = cli.run("node", "restore", str(smuggled), "--data-dir", str(target))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "refusing member 'data/../../evil'")

    extra = tmp_path / "extra.tar.gz"
    _rewrite(archive, extra, {"data/keys/extra.pem": b"x"})
    answer = cli.run("node", "restore", str(extra), "--data-dir", str(target))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "data/keys/extra.pem is not in the manifest")

    manifest = json.loads(_members(archive)["manifest.json"])
    manifest["files"]["evidence/missing"] = {"sha256": "0" * 64, "size": 1}
    missing = tmp_path / "missing.tar.gz"
    _rewrite(archive, missing, {"manifest.json": json.dumps(manifest).encode()})
    answer = cli.run("node", "restore", str(missing), "--data-dir", str(target))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "missing: evidence/missing")

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    answer = cli.run("node", "restore", str(garbage), "--data-dir", str(target))
    assert answer.code == 1
    assert_one_line_error(answer.stderr, "is not a readable backup")


def test_backup_usage_errors(node: Node, cli: Cli, tmp_path: Path) -> None:
    existing = tmp_path / "exists.tar.gz"
    existing.write_bytes(b"")
    answer = cli.run("node", "backup", "--data-dir", str(node.data_dir), "--out", str(existing))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "already exists")
    answer = cli.run("node", "backup", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x"))
    assert answer.code == 2
    assert_one_line_error(answer.stderr, "is not a node's data folder")


@pytest.mark.skipif(shutil.which("pg_restore") is None, reason="needs the PostgreSQL client")
def test_postgresql_node_is_dumped_with_pg_dump(
    databases: TemporaryDatabases, cli: Cli, tmp_path: Path
) -> None:
    url = databases.create("postgresql")
    data_dir = tmp_path / "pg"
    init_node(data_dir, "KE", "--database-url", url)
    archive = tmp_path / "pg.tar.gz"
    done = cli.run("node", "backup", "--data-dir", str(data_dir), "--out", str(archive), "--json")
    assert done.code == 0, done.stderr
    assert done.json()["database"] == {"kind": "postgresql", "file": "database.pgdump"}
    dump = tmp_path / "database.pgdump"
    dump.write_bytes(_members(archive)["data/database.pgdump"])
    listing = subprocess.run(
        ["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True
    )
    assert "TABLE public node_key" in listing.stdout

    restored = cli.run("node", "restore", str(archive), "--data-dir", str(tmp_path / "back"))
    assert restored.code == 0, restored.stderr
    assert "pg_restore --no-owner" in restored.stdout

    without = tmp_path / "without.tar.gz"
    skipped = cli.run(
        "node",
        "backup",
        "--data-dir",
        str(data_dir),
        "--out",
        str(without),
        "--skip-database",
        "--json",
    )
    assert skipped.code == 0, skipped.stderr
    assert skipped.json()["database"] == {"kind": "postgresql", "file": None}


def test_the_archive_is_0600_from_its_first_byte_even_with_umask_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "ke"
    init_node(data_dir, "KE")
    out = tmp_path / "backup.tar.gz"
    partial = out.with_name(f".{out.name}.partial")
    modes: list[int] = []
    add_member = tarfile.TarFile.addfile

    def watching(archive: tarfile.TarFile, *args: object, **kwargs: object) -> None:
        modes.append(partial.stat().st_mode & 0o777)
        add_member(archive, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "addfile", watching)
    previous = os.umask(0)
    try:
        create_backup(data_dir=data_dir, out=out)
    finally:
        os.umask(previous)

    assert modes
    assert set(modes) == {0o600}
    assert out.stat().st_mode & 0o777 == 0o600


def test_a_leftover_partial_archive_is_not_overwritten(tmp_path: Path) -> None:
    data_dir = tmp_path / "ke"
    init_node(data_dir, "KE")
    out = tmp_path / "backup.tar.gz"
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(b"another backup's bytes")

    with pytest.raises(CliError, match="another backup is being written"):
        create_backup(data_dir=data_dir, out=out)

    assert partial.read_bytes() == b"another backup's bytes"
    assert not out.exists()
