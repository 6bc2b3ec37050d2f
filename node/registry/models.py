"""The indexes the registry's reads need, on tables other features own.

Declared here, next to the queries they serve, and attached to the tables' metadata (so that the
migrations and the models agree); created by migration `0004reg`.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import col

from sdgcities.node.certificates.models import Certificate
from sdgcities.node.federation_registry.models import FederationCertificate

# Which cities hold a current certificate, and at what level: the range of active certificates
# not yet expired (a small part of them all, as most certificates of a long history have lapsed),
# read from the index alone, which covers every column the query reads.
CURRENT_CERTIFICATES = Index(
    "ix_certificate_registry_current",
    col(Certificate.status),
    col(Certificate.valid_until),
    col(Certificate.valid_from),
    col(Certificate.city_locode),
    col(Certificate.level),
)

# The registry's feed of changes (`service.list_registry_changes`): the latest awards and the
# latest status decisions, each read newest first from its own index, on either registry.
CERTIFICATES_BY_ISSUE = Index("ix_certificate_issued_at", col(Certificate.issued_at))
CERTIFICATES_BY_STATUS_CHANGE = Index(
    "ix_certificate_status_changed_at", col(Certificate.status_changed_at)
)
FEDERATION_CERTIFICATES_BY_ISSUE = Index(
    "ix_federation_certificate_issued_at", col(FederationCertificate.issued_at)
)
FEDERATION_CERTIFICATES_BY_STATUS_CHANGE = Index(
    "ix_federation_certificate_status_changed_at", col(FederationCertificate.status_changed_at)
)

__all__ = [
    "CERTIFICATES_BY_ISSUE",
    "CERTIFICATES_BY_STATUS_CHANGE",
    "CURRENT_CERTIFICATES",
    "FEDERATION_CERTIFICATES_BY_ISSUE",
    "FEDERATION_CERTIFICATES_BY_STATUS_CHANGE",
]
