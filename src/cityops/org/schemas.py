"""Org I/O: regions (with GeoJSON geometry), departments, people and duty."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime


class RegionRead(ReadSchema):
    code: str
    level: str
    name: str
    parent_code: str | None
    grade: int | None
    area_m2: float | None
    bbox: list[float] | None = None
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON, lon/lat")


class DepartmentRead(ReadSchema):
    id: int
    code: str
    name: str
    kind: str
    region_code: str | None
    phone: str | None
    active: bool


class PersonRead(ReadSchema):
    id: int
    code: str
    name: str
    phone: str | None
    roles: list[str]
    department_id: int | None
    scope_code: str | None
    active: bool


class PersonCreate(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=60)
    phone: str | None = Field(default=None, max_length=40)
    roles: list[str] = Field(min_length=1)
    department_id: int | None = None
    scope_code: str | None = Field(default=None, pattern=r"^\d{6,15}$")


class DutyRead(ReadSchema):
    id: int
    person_id: int
    grid_code: str
    role: str
    starts_at: datetime
    ends_at: datetime | None


class DutyCreate(Schema):
    person_id: int
    grid_code: str = Field(pattern=r"^\d{15}$")
    role: str = "grid_worker"
    starts_at: UTCDatetime
    ends_at: UTCDatetime | None = None
