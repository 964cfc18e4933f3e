"""Auth I/O: tokens, the current user, API keys and audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cityops.kit.schemas import ReadSchema, Schema


class TokenRead(ReadSchema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeRead(ReadSchema):
    id: int | None
    name: str
    roles: list[str]
    scope_code: str | None
    department_id: int | None


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    sources: list[str] = Field(min_length=1, max_length=50)
    trusted: bool = Field(default=False, description="Its events may skip on-site verification")


class ApiKeyRead(ReadSchema):
    id: int
    name: str
    prefix: str
    sources: list[str]
    trusted: bool
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; store it in the source's configuration")


class AuditRead(ReadSchema):
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
