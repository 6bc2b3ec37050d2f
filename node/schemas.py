"""Base classes for request and response bodies.

Request bodies refuse unknown fields: a client cannot set `status`, `owner` or `score` by adding a
member the schema does not name (no mass assignment).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(ResponseModel):
    count: int
