"""Developer tool: write a new migration by comparing the tables with a scratch database.

    .venv/bin/python -m sdgcities.node.migrations.autogenerate "what changed" 0004 [--head 0003]

It migrates a throwaway SQLite database to the newest revision(s), then lets Alembic write the
difference with the tables; review the file (and run `ruff format`) before committing it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from sdgcities.node.db import alembic_config, make_engine, migrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("message")
    parser.add_argument("revision_id")
    parser.add_argument("--head", default="head", help="the revision to build on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        migrate(engine)
        command.revision(
            alembic_config(engine),
            message=args.message,
            autogenerate=True,
            rev_id=args.revision_id,
            head=args.head,
        )
        engine.dispose()


if __name__ == "__main__":
    main()
