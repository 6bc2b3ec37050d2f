"""Tables of the federation's projection (global node only), kept by `projection.py`.

`federation_certificate` and `federation_city` have the columns of `certificate` and `city` that
the public registry reads, under the same names, so that `node/registry` serves either pair.
Certificate facts come from the signed token; a city's other public fields (region, population,
priorities) from the `credential.issued` event, which the node signed as part of its report.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from sdgcities.node.certificates.models import CertificateStatus
from sdgcities.node.dbtypes import UTCDateTime, enum_column


class FederationCertificate(SQLModel, table=True):
    """A certificate a node of the federation issued, as its `credential.issued` event carried it.

    The id is the credential's; a second node reporting the same id is an anomaly, not a row.
    """

    __tablename__ = "federation_certificate"
    __table_args__ = (
        # The registry's listing reads the current certificates from the index alone, as on a
        # national node (`ix_certificate_registry_current`).
        Index(
            "ix_federation_certificate_current",
            "status",
            "valid_until",
            "valid_from",
            "city_locode",
            "level",
        ),
        Index("ix_federation_certificate_node_item", "node_id", "decision_item"),
    )

    id: str = Field(primary_key=True, max_length=64)
    node_id: str = Field(max_length=16)
    city_locode: str = Field(max_length=6, index=True)
    stage: str = Field(max_length=32)
    level: str = Field(max_length=16)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    token: str = Field(sa_column=Column(Text, nullable=False))
    status: CertificateStatus = Field(
        default=CertificateStatus.ACTIVE, sa_type=enum_column(CertificateStatus)
    )
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The agenda item of the node's award decision, as the event names it.
    decision_item: int | None = None
    # The certificate this one renews (node/renewal), as the event names it and the projection
    # checked (a certificate of the same node for the same city, renewed once): the signed
    # credential does not state it, the node's signed report does.
    renews: str | None = Field(default=None, max_length=64, index=True, unique=True)
    sequence: int = Field(description="The credential.issued event in the node's log")
    projected_at: datetime = Field(sa_type=UTCDateTime)


class FederationCity(SQLModel, table=True):
    """A certified city's public fields, from its latest reported certificate."""

    __tablename__ = "federation_city"

    locode: str = Field(primary_key=True, max_length=6)
    country: str = Field(max_length=2, index=True)
    name: str = Field(max_length=200)
    region: str = Field(default="", max_length=200)
    population: int | None = None
    priorities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Which certificate the fields come from (the latest issued wins).
    node_id: str = Field(max_length=16)
    facts_issued_at: datetime = Field(sa_type=UTCDateTime)


class FederationDecision(SQLModel, table=True):
    """A committee decision a node reported (`decision.recorded`): counts only, no names."""

    __tablename__ = "federation_decision"

    node_id: str = Field(primary_key=True, max_length=16)
    item: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    meeting: int | None = None
    kind: str = Field(max_length=32)
    outcome: str = Field(max_length=32)
    locode: str = Field(default="", max_length=6)
    # Whether the reported counts satisfy the federation's quorum rule and the tally its outcome.
    quorum_met: bool
    tally_consistent: bool
    sequence: int
    decided_at: datetime = Field(sa_type=UTCDateTime)


class AnomalyKind(StrEnum):
    """What a node's log shows that the rules do not allow. Values are part of the API."""

    CERTIFICATE_WITHOUT_DECISION = "certificate_without_decision"
    STATUS_WITHOUT_DECISION = "status_without_decision"
    DECISION_WITHOUT_QUORUM = "decision_without_quorum"
    DECISION_TALLY = "decision_tally"
    UNVERIFIABLE_CERTIFICATE = "unverifiable_certificate"
    UNKNOWN_CERTIFICATE = "unknown_certificate"
    INVALID_RENEWAL = "invalid_renewal"
    INVALID_ASSISTANCE = "invalid_assistance"


class FederationAssistanceRequest(SQLModel, table=True):
    """A city's request for technical assistance with one gap, as its node reported it
    (`assistance.requested`, then `assistance.closed`): the gap, never the message or a person.

    `criterion` is the code in the framework the city applied under. A baseline criterion keeps
    its code in every national adaptation (`node/frameworks/adapt.py` rewords it, never renames
    or drops it), so `national` False means the same gap in every country; a criterion a
    national node added (`national` True) is that country's alone and is compared within it.
    """

    __tablename__ = "federation_assistance_request"
    __table_args__ = (Index("ix_federation_assistance_gap", "national", "criterion"),)

    node_id: str = Field(primary_key=True, max_length=16)
    request: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    locode: str = Field(max_length=6)
    country: str = Field(max_length=2)
    criterion: str = Field(max_length=32)
    national: bool
    stage: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    framework_id: str = Field(max_length=64)
    framework_version: str = Field(max_length=32)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    closure: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sequence: int = Field(description="The assistance.requested event in the node's log")


class FederationAnomaly(SQLModel, table=True):
    """One anomaly, found when the event that shows it was ingested (append-only).

    A node's log is ingested in order, so what an event needs (its decision) is already held
    when it arrives: an anomaly found then is final.
    """

    __tablename__ = "federation_anomaly"
    __table_args__ = (Index("ix_federation_anomaly_node_found", "node_id", "found_at"),)

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(max_length=16)
    kind: AnomalyKind = Field(sa_type=enum_column(AnomalyKind, length=40))
    sequence: int = Field(description="The event that shows it")
    event_type: str = Field(max_length=64)
    credential_id: str | None = Field(default=None, max_length=200)
    detail: str = Field(max_length=1000)
    found_at: datetime = Field(sa_type=UTCDateTime)


class FederationRegistryHead(SQLModel, table=True):
    """One row: a counter moved by every batch that changes a certificate or city, so the
    registry's snapshot (`node/registry/cache.py`) knows when to read again.

    `stamp` is new at every move: a counter rolled back (a restored backup, a rolled-back
    transaction) and moved again does not repeat a value a snapshot was filed under.
    """

    __tablename__ = "federation_registry_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0
    stamp: str = Field(default="", max_length=32)
