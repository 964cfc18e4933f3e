"""The catalog of case classes (部件/事件 › 大类 › 小类), stage limits and automation rules."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class Family(StrEnum):
    """部件 (a public facility) or 事件 (a behaviour or incident)."""

    PART = "part"
    EVENT = "event"


# The one-letter prefix that makes a 2+2 digit national code unique across both families:
# 部件 0101 (上水井盖) is P0101, 事件 0101 (私搭乱建) is E0101.
FAMILY_PREFIX = {Family.PART: "P", Family.EVENT: "E"}


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日
    NATURAL_HOURS = "natural_hours"  # 自然小时
    MINUTES = "minutes"  # natural minutes, for short stage limits


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class MajorClass(Base):
    """大类: a major class of parts or events, two digits within its family."""

    __tablename__ = "catalog_major_classes"
    __table_args__ = (UniqueConstraint("family", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(60))


class CaseClass(Base):
    """小类: what a case is, when it may be filed and closed, and how long handling may take."""

    __tablename__ = "catalog_classes"
    __table_args__ = (UniqueConstraint("family", "major_code", "sub_code"),)

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    family: Mapped[str] = mapped_column(String(8))
    major_code: Mapped[str] = mapped_column(String(2))
    sub_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(60))
    filing_condition: Mapped[str] = mapped_column(Text, default="")
    closing_condition: Mapped[str] = mapped_column(Text, default="")
    limit_value: Mapped[float] = mapped_column(Float)
    limit_unit: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.NORMAL)
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", onupdate="CASCADE")
    )
    # Duplicate reports of the same problem merge into one open case when they come from
    # within this distance and time of it.
    merge_radius_m: Mapped[float] = mapped_column(Float, default=50.0)
    merge_window_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Stage(StrEnum):
    """The stages that carry their own time limit besides handling."""

    ACCEPT = "accept"
    VERIFY = "verify"
    FILE = "file"
    DISPATCH = "dispatch"
    CHECK = "check"
    CLOSE = "close"


class StageLimit(Base):
    """The time limit of a stage; a row with a class code overrides the default for that class."""

    __tablename__ = "catalog_stage_limits"
    __table_args__ = (UniqueConstraint("stage", "class_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(12))
    class_code: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_classes.code", ondelete="CASCADE")
    )
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))


class DispatchTarget(StrEnum):
    GRID_WORKER = "grid_worker"  # the grid worker on duty in the case's grid
    DEPARTMENT = "department"  # the class's responsible department


class AutomationRule(Base):
    """智能立案/智能派遣: which signals may skip the people of accept, file and dispatch.

    A rule matches a case class (or any when `class_code` is None) and a source kind or
    source name. The most specific active rule wins; its name is written on each step it
    takes, so every automatic decision can be traced to the rule that made it.
    """

    __tablename__ = "catalog_automation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    class_code: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_classes.code", ondelete="CASCADE")
    )
    source_kind: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(80))
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_file: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=True)
    dispatch_to: Mapped[str] = mapped_column(String(16), default=DispatchTarget.GRID_WORKER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
