"""Regions (district › street › community › grid), departments, people and the duty roster."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class RegionLevel(StrEnum):
    """区县 · 街道/镇 · 社区/村 · 网格."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


# The length of a region code at each level: district 6 (GB/T 2260) + street 3 +
# community 3 + grid 3 digits. A code's prefixes are its ancestors' codes, which is what
# makes scope checks a prefix comparison.
CODE_LENGTH = {
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
    RegionLevel.GRID: 15,
}
LEVEL_OF_LENGTH = {length: level for level, length in CODE_LENGTH.items()}


class Region(Base):
    """An administrative or management area with its polygon (WKB, lon/lat CGCS2000/WGS 84)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code", ondelete="RESTRICT"), index=True
    )
    # 管理等级 of a grid (1 = most intensive patrol); None above grid level.
    grade: Mapped[int | None] = mapped_column(Integer)
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    area_m2: Mapped[float | None] = mapped_column(Float)


class DepartmentKind(StrEnum):
    DEPARTMENT = "department"  # 专业部门
    STREET_OFFICE = "street_office"  # 街道办事处


class Department(Base):
    """A unit that handles cases: a professional department or a street office."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default=DepartmentKind.DEPARTMENT)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Role(StrEnum):
    INSPECTOR = "inspector"  # 监督员
    GRID_WORKER = "grid_worker"  # 网格员
    CALL_TAKER = "call_taker"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT_HANDLER = "department_handler"  # 部门处置人员
    SUPERVISOR = "supervisor"  # 督办/领导查看
    PLANNER = "planner"  # 规划人员: the one map's layers and conflicts
    OFFICER = "officer"  # 执法人员: inspections and penalty cases of their agency
    ENFORCEMENT_LEAD = "enforcement_lead"  # 执法机构负责人: approves plans, filings, decisions
    LEGAL_REVIEWER = "legal_reviewer"  # 法制审核人员
    ENFORCEMENT_SUPERVISOR = "enforcement_supervisor"  # 执法监督人员
    ADMIN = "admin"


ROLE_NAMES_ZH = {
    Role.INSPECTOR: "监督员",
    Role.GRID_WORKER: "网格员",
    Role.CALL_TAKER: "受理员",
    Role.SHIFT_LEADER: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.DEPARTMENT_HANDLER: "部门处置人员",
    Role.SUPERVISOR: "督办员",
    Role.PLANNER: "规划人员",
    Role.OFFICER: "执法人员",
    Role.ENFORCEMENT_LEAD: "执法机构负责人",
    Role.LEGAL_REVIEWER: "法制审核人员",
    Role.ENFORCEMENT_SUPERVISOR: "执法监督人员",
    Role.ADMIN: "管理员",
}


class Person(Base):
    """A member of staff: roles, and the scope they act in (a region and/or a department)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    scope_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)


class DutyAssignment(Base):
    """Who covers which grid when (值班/网格责任); open-ended when `ends_at` is None."""

    __tablename__ = "duty_assignments"
    __table_args__ = (Index("ix_duty_grid_time", "grid_code", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    role: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
