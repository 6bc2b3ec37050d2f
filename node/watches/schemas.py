from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from .models import MAX_WEBHOOK_URL_CHARS, WatchChannel, WatchTarget


class WatchCreate(BaseModel):
    """A new watch: one target, one channel. Confirmed by the link mailed to `email`."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    language: str = Field(default="en", max_length=8)
    city: str | None = Field(default=None, max_length=6, description="A UN/LOCODE, KE-NBO")
    country: str | None = Field(default=None, max_length=2, description="An ISO code, KE")
    certificate: str | None = Field(default=None, max_length=64, description="A credential id")
    channel: WatchChannel = WatchChannel.EMAIL
    webhook_url: str | None = Field(default=None, max_length=MAX_WEBHOOK_URL_CHARS)

    def target(self) -> tuple[WatchTarget, str] | None:
        given = [
            (kind, value)
            for kind, value in (
                (WatchTarget.CITY, self.city),
                (WatchTarget.COUNTRY, self.country),
                (WatchTarget.CERTIFICATE, self.certificate),
            )
            if value
        ]
        return given[0] if len(given) == 1 else None


class WatchLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=64)


class WatchPublic(BaseModel):
    """What the owner is told about a watch (never its secrets)."""

    id: int
    target_kind: WatchTarget
    target: str
    channel: WatchChannel
    webhook_url: str | None
    language: str
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    failing_since: datetime | None
