"""Catalog I/O: case classes, stage limits and automation rules."""

from __future__ import annotations

from pydantic import Field

from cityops.catalog.models import DispatchTarget, Family, Stage, TimeUnit, Urgency
from cityops.kit.schemas import ReadSchema, Schema


class MajorClassRead(ReadSchema):
    family: str
    code: str
    name: str


class CaseClassRead(ReadSchema):
    code: str = Field(description="Family letter (P 部件, E 事件) + 2-digit major + 2-digit sub")
    family: str
    major_code: str
    sub_code: str
    name: str
    filing_condition: str
    closing_condition: str
    limit_value: float
    limit_unit: str
    urgency: str
    department_code: str | None
    merge_radius_m: float
    merge_window_minutes: int
    active: bool


class CaseClassCreate(Schema):
    family: Family
    major_code: str = Field(pattern=r"^\d{2}$")
    major_name: str | None = Field(default=None, max_length=60, description="For a new major")
    sub_code: str = Field(pattern=r"^\d{2}$")
    name: str = Field(min_length=1, max_length=60)
    filing_condition: str = Field(default="", max_length=2000)
    closing_condition: str = Field(default="", max_length=2000)
    limit_value: float = Field(gt=0, le=10_000)
    limit_unit: TimeUnit
    urgency: Urgency = Urgency.NORMAL
    department_code: str | None = None
    merge_radius_m: float = Field(default=50, ge=0, le=5000)
    merge_window_minutes: int = Field(default=1440, ge=0, le=525_600)


class CaseClassUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    filing_condition: str | None = Field(default=None, max_length=2000)
    closing_condition: str | None = Field(default=None, max_length=2000)
    limit_value: float | None = Field(default=None, gt=0, le=10_000)
    limit_unit: TimeUnit | None = None
    urgency: Urgency | None = None
    department_code: str | None = None
    merge_radius_m: float | None = Field(default=None, ge=0, le=5000)
    merge_window_minutes: int | None = Field(default=None, ge=0, le=525_600)
    active: bool | None = None


class StageLimitRead(ReadSchema):
    stage: str
    class_code: str | None
    value: float
    unit: str


class StageLimitSet(Schema):
    stage: Stage
    class_code: str | None = None
    value: float = Field(gt=0, le=10_000)
    unit: TimeUnit


class AutomationRuleRead(ReadSchema):
    id: int
    name: str
    class_code: str | None
    source_kind: str | None
    source: str | None
    min_confidence: float
    auto_accept: bool
    auto_file: bool
    auto_dispatch: bool
    dispatch_to: str
    active: bool


class AutomationRuleCreate(Schema):
    name: str = Field(min_length=1, max_length=80)
    class_code: str | None = None
    source_kind: str | None = Field(default=None, max_length=20)
    source: str | None = Field(default=None, max_length=80)
    min_confidence: float = Field(default=0.0, ge=0, le=1)
    auto_accept: bool = True
    auto_file: bool = True
    auto_dispatch: bool = False
    dispatch_to: DispatchTarget = DispatchTarget.DEPARTMENT
    active: bool = True
