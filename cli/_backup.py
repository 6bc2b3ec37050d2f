"""A consistent backup of a node's data folder while the node runs, and its restore.

The archive (`.tar.gz`) holds `data/...`, the data folder's files, and `manifest.json` (last),
with the SHA-256 and size of each. What makes it consistent:

- **SQLite** is copied with the sqlite3 online backup API (a snapshot of one transaction,
  whatever the node writes meanwhile), never as a file: a file copy of a WAL database taken
  while it runs may be torn. The copy is checked with `PRAGMA integrity_check`.
- **PostgreSQL** is not in the folder: `pg_dump --format=custom` (one snapshot) is stored as
  `data/database.pgdump` when `pg_dump` is on the PATH; without it the backup is refused unless
  `--skip-database` says the database is backed up otherwise.
- **The database first, then the files.** Key files and evidence files are written (and synced)
  before the row that names them is committed, and never change afterwards, so every file the
  snapshot refers to is already on disk when the files are copied. Files newer than the
  snapshot may come along; they are harmless (unreferenced evidence).
- Uploads in progress (`evidence/tmp/`) and the live database files are left out.

Restore refuses a target folder that is not empty, an archive member outside `data/`, a link,
and any file whose hash or size differs from the manifest (or that the manifest does not list).
It writes into a new folder beside the target and renames it into place only when every file
checked out, so a failed restore leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sdgcities.node.config import SERVE_LOCK_FILE

from .errors import CliError, ExitCode

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "data"
NODE_ENV = "node.env"
PG_DUMP_FILE = "database.pgdump"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
# Left out: the live SQLite files (the snapshot replaces them) and uploads in progress.
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")
_SKIPPED_DIRS = (PurePosixPath("evidence/tmp"),)


@dataclass(frozen=True)
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str
    sqlite_path: Path | None = None


def node_database(data_dir: Path) -> Database:
    """The node's database as `node serve` would find it: `SDGCITIES_DATABASE_URL` from the
    environment, else from `node.env` in the data folder, else `node.db` there."""
    url = os.environ.get("SDGCITIES_DATABASE_URL") or _node_env(data_dir).get(
        "SDGCITIES_DATABASE_URL"
    )
    if not url:
        return Database("sqlite", "", (data_dir / "node.db").resolve())
    if url.startswith("sqlite:///"):
        return Database("sqlite", url, Path(url.removeprefix("sqlite:///")).resolve())
    if url.startswith("postgresql"):
        return Database("postgresql", url)
    raise CliError(f"unsupported database URL {url.split(':', 1)[0]}:...", ExitCode.USAGE)


def _node_env(data_dir: Path) -> dict[str, str]:
    try:
        text = (data_dir / NODE_ENV).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def create_backup(
    *, data_dir: Path, out: Path, skip_database: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """Write the archive to `out` (a new file); the manifest, as written."""
    if not (data_dir / NODE_ENV).is_file():
        raise CliError(f"{data_dir} is not a node's data folder (no {NODE_ENV})", ExitCode.USAGE)
    if out.exists():
        raise CliError(f"{out} already exists", ExitCode.USAGE)
    database = node_database(data_dir)
    root = data_dir.resolve()
    if database.sqlite_path is not None and not database.sqlite_path.is_relative_to(root):
        raise CliError(
            f"the SQLite database {database.sqlite_path} is outside the data folder; "
            "back it up with sqlite3's .backup",
            ExitCode.USAGE,
        )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "node_id": _node_env(data_dir).get("SDGCITIES_NODE_ID"),
        "database": {"kind": database.kind},
        "files": {},
    }
    partial = out.with_name(f".{out.name}.partial")
    # The archive holds the encrypted keys and every city's evidence: it is created 0600 (umask
    # or not), so that it is never readable by others, not even while it is written.
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise CliError(
            f"{partial} exists: another backup is being written, or one was interrupted "
            "(remove it)",
            ExitCode.USAGE,
        ) from exc
    try:
        with (
            tempfile.TemporaryDirectory(prefix="sdgcities-backup-") as scratch,
            os.fdopen(descriptor, "wb") as file,
            tarfile.open(fileobj=file, mode="w:gz") as archive,
        ):
            snapshot = _database_snapshot(
                database, root, Path(scratch), skip=skip_database, manifest=manifest["database"]
            )
            if snapshot is not None:
                name, path = snapshot
                _add(archive, manifest, name, path)
            for relative, path in _data_files(root, database):
                _add(archive, manifest, relative, path)
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(datetime.now(UTC).timestamp())
            archive.addfile(info, io.BytesIO(body))
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _database_snapshot(
    database: Database, root: Path, scratch: Path, *, skip: bool, manifest: dict[str, Any]
) -> tuple[str, Path] | None:
    if database.sqlite_path is not None:
        if not database.sqlite_path.is_file():
            raise CliError(f"the node's database {database.sqlite_path} does not exist")
        copy = scratch / "node.db"
        _sqlite_snapshot(database.sqlite_path, copy)
        name = database.sqlite_path.relative_to(root).as_posix()
        manifest["file"] = name
        return name, copy
    if skip:
        manifest["file"] = None
        return None
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise CliError(
            "pg_dump is not on the PATH: install the PostgreSQL client, or pass --skip-database "
            "and back the database up with pg_dump --format=custom yourself"
        )
    dump = scratch / PG_DUMP_FILE
    _pg_dump(pg_dump, database.url, dump)
    manifest["file"] = PG_DUMP_FILE
    return PG_DUMP_FILE, dump


def _sqlite_snapshot(source: Path, target: Path) -> None:
    live = copy = None
    try:
        # Read-only: the backup takes no write lock and leaves the node's files as they are.
        live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        live.backup(copy)
        check = copy.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise CliError(f"cannot copy the database {source}: {exc}") from exc
    finally:
        for connection in (copy, live):
            if connection is not None:
                connection.close()
    if check != ("ok",):
        raise CliError(f"the database copy failed its integrity check: {check}")


def _pg_dump(pg_dump: str, url: str, target: Path) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)  # not in argv, where `ps` shows it
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from the node's own config
        [pg_dump, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={dsn}"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise CliError(f"pg_dump failed: {last}")


def _data_files(root: Path, database: Database) -> Iterator[tuple[str, Path]]:
    live = set()
    if database.sqlite_path is not None:
        live = {
            database.sqlite_path.with_name(database.sqlite_path.name + s)
            for s in _SQLITE_SIDE_FILES
        }
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        relative_dir = PurePosixPath(here.relative_to(root).as_posix())
        folders[:] = sorted(d for d in folders if relative_dir / d not in _SKIPPED_DIRS)
        for name in sorted(files):
            path = here / name
            if path in live or path.is_symlink() or not path.is_file():
                continue
            if relative_dir == PurePosixPath(".") and name == SERVE_LOCK_FILE:
                continue  # the running server's lock, not the node's data
            yield (relative_dir / name).as_posix(), path


def _add(archive: tarfile.TarFile, manifest: dict[str, Any], relative: str, path: Path) -> None:
    """Add `path` as `data/<relative>`, hashing the bytes as they go into the archive."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        hashing = _HashingReader(file)
        info = tarfile.TarInfo(f"{PREFIX}/{relative}")
        info.size, info.mode = size, 0o600
        info.mtime = int(os.fstat(file.fileno()).st_mtime)
        try:
            archive.addfile(info, hashing)
        except OSError as exc:  # the file shrank while it was read
            raise CliError(f"{path} changed while it was copied: {exc}") from exc
    manifest["files"][relative] = {"sha256": hashing.hexdigest(), "size": size}


class _HashingReader(io.RawIOBase):
    def __init__(self, file: IO[bytes]) -> None:
        self._file, self._hash = file, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._hash.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def restore_backup(*, archive: Path, data_dir: Path) -> dict[str, Any]:
    """Unpack and check `archive` into `data_dir` (absent or empty); the manifest."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise CliError(f"{data_dir} is not empty; restore only into a new or empty folder")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restoring-", dir=data_dir.parent))
    try:
        manifest = _unpack(archive, staging)
        staging.chmod(0o700)
        if data_dir.exists():
            data_dir.rmdir()
        staging.rename(data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _unpack(archive: Path, staging: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            manifest = _read_manifest(tar, archive)
            expected: dict[str, dict[str, Any]] = manifest["files"]
            seen: set[str] = set()
            for member in tar:
                if member.name == MANIFEST:
                    continue
                relative = _member_path(member, archive)
                if relative in seen or relative not in expected:
                    raise CliError(f"{archive}: {member.name} is not in the manifest (or twice)")
                seen.add(relative)
                _extract(tar, member, staging / relative, expected[relative], archive)
            missing = sorted(set(expected) - seen)
            if missing:
                raise CliError(
                    f"{archive}: the manifest lists files that are missing: {missing[0]}"
                )
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise CliError(f"{archive} is not a readable backup: {exc}") from exc
    return manifest


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError as exc:
        raise CliError(f"{archive} has no {MANIFEST}: not a node backup") from exc
    if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
        raise CliError(f"{archive}: {MANIFEST} is not a usable manifest")
    file = tar.extractfile(member)
    if file is None:
        raise CliError(f"{archive}: {MANIFEST} cannot be read")
    try:
        manifest = json.loads(file.read())
    except ValueError as exc:
        raise CliError(f"{archive}: {MANIFEST} is not JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CliError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
        for v in files.values()
    ):
        raise CliError(f"{archive}: {MANIFEST} lists its files wrongly")
    return manifest


def _member_path(member: tarfile.TarInfo, archive: Path) -> str:
    path = PurePosixPath(member.name)
    if (
        not member.isfile()
        or path.is_absolute()
        or ".." in path.parts
        or len(path.parts) < 2
        or path.parts[0] != PREFIX
    ):
        raise CliError(f"{archive}: refusing member {member.name!r} (only files under {PREFIX}/)")
    return PurePosixPath(*path.parts[1:]).as_posix()


def _extract(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    target: Path,
    expected: dict[str, Any],
    archive: Path,
) -> None:
    if member.size != expected["size"]:
        raise CliError(f"{archive}: {member.name} does not match the manifest (size)")
    source = tar.extractfile(member)
    if source is None:
        raise CliError(f"{archive}: {member.name} cannot be read")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != expected["sha256"]:
        raise CliError(f"{archive}: {member.name} does not match the manifest (SHA-256)")
