"""The body of a renewal's start."""

from __future__ import annotations

from pydantic import Field

from sdgcities.node.schemas import Id, RequestModel


class RenewalStart(RequestModel):
    framework_version_id: Id | None = Field(
        default=None,
        description="The framework version to renew under; by default the certificate's own. "
        "Under a later version, criteria it no longer has are dropped and new ones start empty",
    )
