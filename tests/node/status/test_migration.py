"""Migration 0010stat: a database of revocation and suspension pairs becomes one message list per
pair, on SQLite and PostgreSQL, and no certificate loses its state or its index."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from sdgcities.credentials import MIN_ENTRIES, StatusBitstring
from sdgcities.node.db import alembic_config, make_engine, migrate
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.status.service import refresh_due_status_lists
from sdgcities.node.tables import metadata

from ...conftest import TemporaryDatabases
from ..conftest import Backend
from .conftest import read_list

BEFORE = ("0007spot", "0008glob", "0009fedreg")
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
# (revoked, suspended) of each certificate of the old pair, and the value its entry must hold.
STATES = {
    "active": ((False, False), 0b00),
    "suspended": ((False, True), 0b01),
    "revoked": ((True, False), 0b10),
    "revoked-after-suspension": ((True, True), 0b11),
}


def _filler(column: sa.Column[Any], serial: int) -> Any:
    """A value of the column's type, distinct per row where that matters (unique columns)."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return serial
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.LargeBinary):
        return b"\0"
    if isinstance(kind, sa.JSON):
        return {}
    length = getattr(kind, "length", None) or 64
    return f"x{serial}"[:length]


def insert_row(
    connection: Connection, table: str, values: dict[str, Any], serial: list[int]
) -> dict[str, Any]:
    """Insert a row with `values`, every other required column filled, each foreign key
    pointing at a new parent row made the same way."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    row = dict(values)
    for constraint in reflected.foreign_key_constraints:
        local = [c.name for c in constraint.columns]
        if all(name in row for name in local) or all(reflected.c[name].nullable for name in local):
            continue
        parent = insert_row(connection, constraint.referred_table.name, {}, serial)
        for element in constraint.elements:
            row[element.parent.name] = parent[element.column.name]
    for column in reflected.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and isinstance(column.type, sa.Integer):
            continue
        serial[0] += 1
        row[column.name] = _filler(column, serial[0])
    result = connection.execute(reflected.insert().values(**row))
    key = result.inserted_primary_key
    for column, value in zip(reflected.primary_key.columns, key or (), strict=False):
        row[column.name] = value
    return row


def bits_with(indices: list[int]) -> bytes:
    bits = StatusBitstring()
    for index in indices:
        bits.set(index)
    return bits.to_bytes()


def old_database(backend: Backend, databases: TemporaryDatabases) -> Engine:
    """A database at the revisions before 0010stat, holding one pair and a certificate in each
    state (its bits in the pair's two lists), each at its own index."""
    engine = make_engine(databases.create(backend.name))
    for head in BEFORE:
        command.upgrade(alembic_config(engine), head)
    indices = {name: 1000 + 7 * n for n, name in enumerate(STATES)}
    with engine.begin() as connection:
        serial = [0]
        pair = insert_row(
            connection,
            "status_pair",
            {
                "allocator_key": b"k" * 32,
                "size": MIN_ENTRIES,
                "next_position": 4,
                "created_at": NOW,
            },
            serial,
        )
        for purpose, set_at in (("revocation", 0), ("suspension", 1)):
            insert_row(
                connection,
                "status_list",
                {
                    "list_id": f"{purpose}-{pair['id']}",
                    "pair_id": pair["id"],
                    "purpose": purpose,
                    "bits": bits_with(
                        [indices[name] for name, (bits, _) in STATES.items() if bits[set_at]]
                    ),
                    "token": "old",
                    "etag": '"old"',
                    "valid_from": NOW,
                    "valid_until": NOW,
                    "updated_at": NOW,
                },
                serial,
            )
        for name, ((revoked, suspended), _) in STATES.items():
            insert_row(
                connection,
                "certificate",
                {
                    "id": f"urn:uuid:{name}",
                    "status": "revoked" if revoked else "suspended" if suspended else "active",
                    "status_pair_id": pair["id"],
                    "status_index": indices[name],
                    "revocation_list_id": f"revocation-{pair['id']}",
                    "suspension_list_id": f"suspension-{pair['id']}",
                },
                serial,
            )
    return engine


def test_every_certificate_keeps_its_state_in_the_one_list(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    engine = old_database(backend, databases)
    try:
        migrate(engine)

        with Session(engine) as session:
            record = session.exec(select(StatusListRecord)).one()
            certificates = session.execute(
                sa.text("SELECT id, status_list_id, status_index FROM certificate")
            ).all()
            bits = StatusBitstring.from_bytes(record.bits)
            assert (record.allocator_key, record.size, record.next_position) == (
                b"k" * 32,
                MIN_ENTRIES,
                4,
            )
            assert bits.entries(2) == MIN_ENTRIES
            assert {c.status_list_id for c in certificates} == {record.list_id}
            values = {
                c.id.removeprefix("urn:uuid:"): bits.get_entry(c.status_index, status_size=2)
                for c in certificates
            }
            assert values == {name: value for name, (_, value) in STATES.items()}
            # Nothing but those bits: 0x1, 0x2 and 0x3.
            assert sum(bin(byte).count("1") for byte in record.bits) == 4
            # Stored unsigned and lapsed: the node re-signs it before serving it.
            assert record.token == ""
            state = dataclasses.replace(backend.app.state.node, engine=engine)
            assert refresh_due_status_lists(session=session, state=state, now=NOW) == [
                record.list_id
            ]
            published = read_list(record.token, state)
            assert published.purpose == "message"
            assert published.url.endswith(f"/status/{record.list_id}")
            session.commit()
    finally:
        engine.dispose()


def test_the_migrated_certificate_is_still_guarded(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    engine = old_database(backend, databases)
    try:
        migrate(engine)
        with engine.connect() as connection:
            for statement, refusal in (
                ("UPDATE certificate SET status_index = 1", "never changes"),
                ("UPDATE certificate SET status_list_id = 'other'", "never changes"),
                ("DELETE FROM certificate", "never deleted"),
                (
                    "UPDATE certificate SET status = 'active' WHERE id = 'urn:uuid:revoked'",
                    "can never be undone",
                ),
            ):
                with pytest.raises(sa.exc.DBAPIError, match=refusal), connection.begin():
                    connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_the_migrated_tables_match_the_models(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    engine = old_database(backend, databases)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        names = {"status_list", "status_pair", "certificate"}
        # Any difference that names one of these tables (or a column or index of them).
        ours = [d for d in differences if names & set(re.findall(r"\w+", repr(d)))]
        assert ours == []
    finally:
        engine.dispose()


def test_a_new_database_has_no_pairs(backend: Backend, databases: TemporaryDatabases) -> None:
    engine = make_engine(databases.create(backend.name))
    try:
        migrate(engine)
        assert "status_pair" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
