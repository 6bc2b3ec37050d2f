"""Who is making a request: a user with a role, or the anonymous public."""

from __future__ import annotations

from dataclasses import dataclass

from sdgcities.node.accounts.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    role: Role
    user_id: int | None = None
    city_locode: str | None = None
    name: str = "public"

    @property
    def is_public(self) -> bool:
        return self.role is Role.PUBLIC


PUBLIC = Actor(role=Role.PUBLIC)
SYSTEM = Actor(role=Role.ADMINISTRATOR, name="system")
