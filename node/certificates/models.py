"""Certificates this node issued, and proposals to suspend, reinstate or revoke them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class CertificateStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class ProposalKind(StrEnum):
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    REVOCATION = "revocation"


class ProposalState(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Closed without a decision: the certificate was revoked in the meantime.
    SUPERSEDED = "superseded"


class Certificate(SQLModel, table=True):
    """A certificate as issued: the exact signed `vc+jwt` text, and the facts it states.

    The columns repeat what the token says, for queries (a city's certificates, those near
    expiry); the token is what is served and verified. `status` mirrors the status-list bits,
    which the same transaction sets.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        # One entry per certificate in its status list (docs/architecture.md).
        UniqueConstraint("status_list_id", "status_index", name="uq_certificate_status_entry"),
    )

    id: str = Field(primary_key=True, max_length=64)
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    stage: str = Field(max_length=32)
    level: str = Field(max_length=16)
    # One certificate per application, and one per award decision.
    application_id: int = Field(foreign_key="application.id", unique=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", unique=True)
    framework_version_id: int = Field(foreign_key="framework_version.id", index=True)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime, index=True)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    token: str = Field(sa_column=Column(Text, nullable=False))
    status: CertificateStatus = Field(
        default=CertificateStatus.ACTIVE, sa_type=enum_column(CertificateStatus), index=True
    )
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_list_id: str = Field(max_length=64, foreign_key="status_list.list_id")
    status_index: int = Field(ge=0)
    # The certificate this one renews (node/renewal): the node's record of the chain, shown in
    # the public registry; the signed credential does not state it.
    renews: str | None = Field(
        default=None,
        max_length=64,
        index=True,
        unique=True,
        sa_column_args=[ForeignKey("certificate.id", name="fk_certificate_renews_certificate")],
    )


class CertificateProposal(SQLModel, table=True):
    """A proposal, with its reason, that the committee suspend, reinstate or revoke."""

    __tablename__ = "certificate_proposal"
    __table_args__ = (
        # One open proposal of a kind per certificate: a second would put the same question
        # to the committee twice.
        Index(
            "uq_certificate_proposal_open",
            "certificate_id",
            "kind",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: str = Field(max_length=64, foreign_key="certificate.id", index=True)
    kind: ProposalKind = Field(sa_type=enum_column(ProposalKind))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: ProposalState = Field(
        default=ProposalState.OPEN, sa_type=enum_column(ProposalState), index=True
    )
    proposed_by: int | None = Field(default=None, foreign_key="user.id")
    proposed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
