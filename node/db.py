"""Database engine, durability checks, migrations, and the one-transaction-per-request session.

SQLite (a file in the data folder) is the embedded default; PostgreSQL is what a ministry runs in
production. Either way the node refuses to start on settings that could lose a committed
decision: SQLite must run in WAL mode with `synchronous=FULL`, PostgreSQL with
`synchronous_commit` on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Dialect, Engine, Table, event, func, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, create_engine, select

from .errors import UnsafeDatabaseSettings

Row = TypeVar("Row", bound=SQLModel)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; we take over
    # (SQLAlchemy's documented recipe) and begin every transaction ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


WRITE_INTENT = "sdgcities_write_intent"


def _begin(connection: Any) -> None:
    # A transaction that will write takes the write lock up front (IMMEDIATE): two transactions
    # that read and then write could otherwise deadlock on the lock upgrade, which busy_timeout
    # cannot resolve. Read-only transactions begin deferred and never wait for a writer (WAL).
    immediate = connection.get_execution_options().get(WRITE_INTENT, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **options)


def check_durability(engine: Engine) -> None:
    """Refuse to run on settings under which a committed decision could be lost."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            synchronous = connection.execute(text("PRAGMA synchronous")).scalar()
            if str(mode).lower() != "wal" or synchronous != 2:  # 2 is FULL
                raise UnsafeDatabaseSettings(
                    f"SQLite must run with journal_mode=WAL and synchronous=FULL "
                    f"(found journal_mode={mode}, synchronous={synchronous})"
                )
        elif engine.dialect.name == "postgresql":
            synchronous_commit = connection.execute(text("SHOW synchronous_commit")).scalar()
            fsync = connection.execute(text("SHOW fsync")).scalar()
            if synchronous_commit not in ("on", "remote_apply") or fsync != "on":
                raise UnsafeDatabaseSettings(
                    "PostgreSQL must run with synchronous_commit=on and fsync=on "
                    f"(found synchronous_commit={synchronous_commit}, fsync={fsync})"
                )


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("sdgcities.node") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (from empty on a new node)."""
    command.upgrade(alembic_config(engine), "heads")


def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One session, one transaction: commit on success, roll back on any error.

    `write=False` is for requests that only read: on SQLite they neither take nor wait for the
    write lock, and no transaction begins until the first query.
    """
    with Session(engine, expire_on_commit=False) as session:
        if write:
            session.connection(execution_options={WRITE_INTENT: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionOpener = Callable[[], AbstractContextManager[Session]]
"""Opens a session when one is needed, for code that usually needs none."""


transaction = contextmanager(session_scope)
"""`with transaction(engine) as session:` — one transaction outside a request (tasks, tools)."""


def session_opener(engine: Engine, *, write: bool = True) -> SessionOpener:
    return partial(transaction, engine, write=write)


def add_once(session: Session, *rows: SQLModel, refusal: Exception) -> None:
    """Add rows that a unique constraint allows once, raising `refusal` if another transaction
    added theirs first (the check before came too early: both passed it at once). The savepoint
    keeps the rest of the transaction usable."""
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError as exc:
        raise refusal from exc


_AFTER_COMMIT = "sdgcities_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Call `callback` once the session's transaction has committed.

    For in-memory caches of what the transaction changed: dropped when written and again after
    the commit, so that no reader in between keeps the old value.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


def saved_id(value: int | None) -> int:
    """A row's id where the row is known to be saved (flushed), which gave it one: typed as `int`
    for what reads it, instead of the model's `int | None`."""
    assert value is not None, "the row is not saved yet"
    return value


def page_of(
    session: Session,
    model: type[Row],
    *,
    conditions: Sequence[Any],
    order_by: Sequence[Any],
    offset: int,
    limit: int,
) -> tuple[list[Row], int]:
    """One page of the `model` rows meeting every condition, in `order_by` order, and how many
    rows meet them in all (what a listing's `count` says)."""
    rows = session.exec(
        select(model).where(*conditions).order_by(*order_by).offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(model).where(*conditions)).one()
    return list(rows), total


def equal_when_given(*filters: tuple[Any, object]) -> list[Any]:
    """A listing's optional filters as conditions for `page_of`: `column == value` for each
    (column, value) pair whose value is given, that is not None."""
    return [column == value for column, value in filters if value is not None]


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for bulk statements that skip the ORM's row objects."""
    table = model.__dict__["__table__"]  # set by SQLModel on table models; not in its stubs
    assert isinstance(table, Table)
    return table


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    json_text: Collection[str] = (),
) -> None:
    """Insert `rows` (each with the same columns, every column without a server default) into
    `table` in the session's transaction: a plain INSERT, no defaults filled in by Python.
    The JSON columns named in `json_text` are given as their JSON text, written as it is.

    On PostgreSQL by `COPY ... FROM STDIN`: the batch goes in one stream, where an executemany
    sends, binds and executes one INSERT a row (the ingest writes about a hundred rows a
    report). Each value goes through its column type's bind processor first, as the INSERT's
    would (an enum by its value, a UTC datetime checked); a JSON column takes its JSON text.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        json_columns = [name for name in rows[0] if isinstance(table.c[name].type, JSON)]
        session.execute(
            insert(table),
            [
                {
                    **row,
                    **{
                        name: json.loads(row[name]) if name in json_text else _plain(row[name])
                        for name in json_columns
                    },
                }
                for row in rows
            ],
        )
        return
    names = tuple(rows[0])
    copy_sql, processors = _copy_plan(table, names, frozenset(json_text), dialect)
    columns = tuple(zip(names, processors, strict=True))
    driver: Any = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for name, process in columns
                    for value in (row[name],)
                ]
            )


# An event's read-only views (`sdgcities.federation.Event.data`) are written as the objects
# they are.
_JSON_TEXT: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=dict)
_COPY_PLANS: dict[
    tuple[str, tuple[str, ...], frozenset[str]],
    tuple[Any, tuple[Callable[[Any], Any] | None, ...]],
] = {}


def _plain(value: Any) -> Any:
    """`value` with its read-only mappings as dicts, for the JSON serialiser of an INSERT."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _copy_plan(
    table: Table, names: tuple[str, ...], json_text: frozenset[str], dialect: Dialect
) -> tuple[Any, tuple[Callable[[Any], Any] | None, ...]]:
    """The `COPY` statement for `names` of `table` and each column's bind processor (none for
    the JSON columns given as text, `json_text`), made once (composing the statement cost a
    tenth of a small batch's COPY)."""
    key = (table.name, names, json_text)
    found = _COPY_PLANS.get(key)
    if found is None:
        from psycopg import sql  # the PostgreSQL driver: not installed for SQLite alone

        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
        )
        found = _COPY_PLANS[key] = (
            copy_sql,
            tuple(
                None
                if name in json_text
                else _JSON_TEXT.encode
                if isinstance(table.c[name].type, JSON)
                else table.c[name].type.bind_processor(dialect)
                for name in names
            ),
        )
    return found


def describe_connection_failure(exc: BaseException, *, url: str) -> str | None:
    """One line with a hint for a database that cannot be reached, else None (another error).

    SQLAlchemy's text for these runs to a dozen lines (the driver's message, the SQL, a link);
    an operator needs what is wrong and what to do."""
    if not isinstance(exc, OperationalError):
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return f"cannot open the database {parsed.database}: {_driver_message(exc)}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    message = _driver_message(exc)
    user = parsed.username or "(your login)"
    if "does not exist" in message and "database" in message:
        return (
            f"PostgreSQL at {where} has no database {parsed.database!r}: create it "
            f"(createdb --owner={user} {parsed.database}) or fix SDGCITIES_DATABASE_URL"
        )
    if "does not exist" in message and "role" in message:
        return (
            f"PostgreSQL at {where} has no role {user!r}: create it (createuser {user}) "
            "or fix the user in SDGCITIES_DATABASE_URL"
        )
    if "password authentication failed" in message:
        return (
            f"PostgreSQL at {where} refused the password of {user!r}: "
            "check it in SDGCITIES_DATABASE_URL"
        )
    if "refused" in message or "could not connect" in message or "timeout" in message:
        return (
            f"cannot connect to PostgreSQL at {where} ({message}): is the server running "
            "there, and is SDGCITIES_DATABASE_URL right?"
        )
    return f"PostgreSQL at {where}: {message}"


def _driver_message(exc: OperationalError) -> str:
    # The driver's first meaningful line, without "connection failed:" / "FATAL:" decoration.
    original = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in original.splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    for marker in ("FATAL:", "failed:"):
        if marker in first:
            first = first.rsplit(marker, 1)[1].strip()
    return first
