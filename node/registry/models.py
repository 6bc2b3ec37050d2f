"""The indexes the registry's reads need, on tables other features own.

Declared here, next to the queries they serve, and attached to the tables' metadata (so that the
migrations and the models agree); created by migration `0004reg`.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import col

from sdgcities.node.certificates.models import Certificate

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

__all__ = ["CURRENT_CERTIFICATES"]
