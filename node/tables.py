"""Imports every table so that `SQLModel.metadata` is complete (for Alembic and tests).

Each feature keeps its tables in its own `models.py`; this is only the list of them.
"""

from sqlmodel import SQLModel

from sdgcities.node.accounts.models import ApiToken, User
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.cities.models import City
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.trust.models import TrustListCopy

metadata = SQLModel.metadata

__all__ = ["ApiToken", "AuditEntry", "City", "NodeKey", "TrustListCopy", "User", "metadata"]
