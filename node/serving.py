"""Serving a node with several worker processes (`sdgcities node serve --workers N`).

uvicorn's supervisor binds the port, starts N worker processes (spawned, each importing this
module and calling `worker_app`), and starts a worker again when one dies. Each worker is a whole
node app; the duties that must run once per node run in the one that leads (node.leader), and
each worker's caches follow the others' changes (node.coherence).

Before the workers start, this (the supervisor's) process prepares the database once, as a
one-process node does when it starts: the migrations, and the status lists and trust list that
lapsed while the node was down. The workers then find nothing to do there, instead of racing
each other to do it.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from .app import create_app
from .config import Settings, get_settings

WORKERS_NEED_POSTGRESQL = (
    "--workers above 1 needs PostgreSQL (SQLite takes one writer at a time, so a node on "
    "SQLite runs in one process)"
)


def check_workers(*, settings: Settings, workers: int) -> None:
    """Refuse a number of workers the node's database cannot serve (ValueError, one line)."""
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers > 1 and make_url(settings.sqlalchemy_url).get_backend_name() != "postgresql":
        raise ValueError(WORKERS_NEED_POSTGRESQL)


def prepare(settings: Settings) -> None:
    """What a node does once when it starts (`create_app` does it), done once for all workers."""
    app = create_app(settings)
    app.state.node.http.close()
    if app.state.ingest_pool is not None:
        app.state.ingest_pool.close()
    app.state.node.engine.dispose()


def serve_workers(*, settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the node with `workers` processes on HOST:PORT until stopped."""
    import uvicorn

    check_workers(settings=settings, workers=workers)
    prepare(settings)
    # The workers read their settings as `node serve` did: from the environment and node.env.
    os.environ["SDGCITIES_DATA_DIR"] = str(settings.data_dir.resolve())
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )


def worker_app() -> FastAPI:
    """One worker's app (uvicorn calls this in each worker process)."""
    return create_app(get_settings())
