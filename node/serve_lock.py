"""One `node serve` per node: a second one on the same data folder or database refuses to start.

Two servers on one node would each run the relay, sign status lists and schedule duties, and two
processes writing one SQLite file lose the durability it was configured for. The lock is held for
the life of the serving process, and the kernel or PostgreSQL releases it when that process ends,
however it ends (no stale lock file to clear after a crash).

- The data folder: an exclusive `flock` on `<data dir>/serve.lock` (the file holds the owner's
  pid, for the message; its presence alone means nothing).
- PostgreSQL: a session-level advisory lock keyed on the node's DID, on a connection of its own,
  since two data folders may point at one database. (The leader lock of several workers, if any,
  is another key: this one says "a server runs this node", not "this process leads".)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from .config import SERVE_LOCK_FILE, Settings
from .db import make_engine

_ADVISORY_NAMESPACE = b"sdgcities node serve\x00"


class NodeAlreadyServed(Exception):
    """Another `node serve` holds this node's data folder or database."""


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[None]:
    """Hold the data-folder lock and, on PostgreSQL, the node's advisory lock until exit."""
    with _data_folder_lock(settings.data_dir), _database_lock(settings):
        yield


@contextlib.contextmanager
def _data_folder_lock(data_dir: Path) -> Iterator[None]:
    path = data_dir / SERVE_LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(descriptor, 32).decode("ascii", errors="replace").strip()
            held_by = f" (pid {owner})" if owner.isdigit() else ""
            raise NodeAlreadyServed(
                f"another `node serve` runs on the data folder {data_dir}{held_by}: "
                "stop it first, one server per node"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        os.close(descriptor)  # releases the lock


def advisory_key(did: str) -> int:
    """A signed 64-bit key for `pg_try_advisory_lock`, from the node's DID."""
    digest = hashlib.sha256(_ADVISORY_NAMESPACE + did.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _database_lock(settings: Settings) -> Iterator[None]:
    if not settings.sqlalchemy_url.startswith("postgresql"):
        yield
        return
    engine = make_engine(settings.sqlalchemy_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            key = advisory_key(settings.did)
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar()
            connection.commit()
            if not taken:
                raise NodeAlreadyServed(
                    f"another `node serve` runs node {settings.node_id} on this database: "
                    "stop it first, one server per node"
                )
            yield  # the lock lives as long as this session; PostgreSQL drops it with it
    finally:
        engine.dispose()
