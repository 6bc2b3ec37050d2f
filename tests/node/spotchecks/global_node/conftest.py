"""The global node, with H1's ingest fixtures: members join through the API and report their
logs through `POST /federation/reports`, so candidates come from real ingested events."""

from ...ingest.conftest import (
    MakeMember,
    Member,
    backend,
    client,
    make_member,
    post_report,
    secretariat,
)

__all__ = [
    "MakeMember",
    "Member",
    "backend",
    "client",
    "make_member",
    "post_report",
    "secretariat",
]
