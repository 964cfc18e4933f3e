"""Supervision rules (监督规则), the flags they raise (预警) and the supervisor's case on each
flag (督办), step by step.

A rule is a row: its kind names the check, its parameters (JSON) the numbers a district may
change, its legal source why it is a rule at all. A flag is raised once per rule and subject
(a penalty case or an inspection); evaluating again updates its evidence, clears it when the
subject has become compliant and raises it again when it breaks the rule anew."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.auth.models import make_append_only
from cityops.db import Base, JSONType


class RuleKind(StrEnum):
    """The checks supervision knows how to run; a rule row picks one and sets its numbers."""

    OVERDUE_STAGE = "overdue_stage"  # 超期办理
    FINE_OUTSIDE_BENCHMARK = "fine_outside_benchmark"  # 罚款超出裁量基准
    OFFICER_CERTIFICATE = "officer_certificate"  # 执法证无效或超越执法区域
    TOO_FEW_OFFICERS = "too_few_officers"  # 执法人员不足两人
    REPEATED_INSPECTION = "repeated_inspection"  # 重复检查（扰企）
    DECISION_NOT_PUBLISHED = "decision_not_published"  # 处罚决定未按时公示
    INSPECTION_WITHOUT_PLAN = "inspection_without_plan"  # 无计划检查
    MISSING_LEGAL_REVIEW = "missing_legal_review"  # 未经法制审核
    CLOSED_WITHOUT_SERVICE = "closed_without_service"  # 未送达即结案
    PENALTY_ON_EXEMPT_ITEM = "penalty_on_exempt_item"  # 首违不罚事项仍予处罚


class Severity(StrEnum):
    LOW = "low"  # 提示
    MEDIUM = "medium"  # 预警
    HIGH = "high"  # 严重


class SubjectType(StrEnum):
    """What a flag is about; its page is the link target of the flag."""

    PENALTY_CASE = "penalty_case"
    INSPECTION = "inspection"


class FlagState(StrEnum):
    """The supervisor's case on a flag (督办)."""

    OPEN = "open"  # 待督办
    ASSIGNED = "assigned"  # 已分派
    CORRECTION_REQUESTED = "correction_requested"  # 已发整改督办
    ANSWERED = "answered"  # 机构已反馈
    CLOSED = "closed"  # 已办结
    DISMISSED = "dismissed"  # 已撤销 (not an irregularity, with the reason)


class SupervisionRule(Base):
    """A supervision rule (监督规则): what to check (`kind`), with which numbers
    (`parameters`), how serious a hit is, whether it runs, and the legal source."""

    __tablename__ = "enforcement_supervision_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # in Chinese, as supervisors read it
    kind: Mapped[str] = mapped_column(String(40), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    severity: Mapped[str] = mapped_column(String(12), default=Severity.MEDIUM)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    legal_source: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None]
    # The last evaluation: when, how many subjects it found, how long it took.
    evaluated_at: Mapped[datetime | None]
    last_hits: Mapped[int | None] = mapped_column(Integer)
    last_ms: Mapped[int | None] = mapped_column(Integer)


class Flag(Base):
    """A hit of a rule on one subject (预警), with the facts that make it one, and the
    supervisor's case on it. `cleared_at` is set while the subject complies; `state` is
    the case, which the evaluation leaves to people except to reopen a closed case when
    a cleared flag fires again."""

    __tablename__ = "enforcement_supervision_flags"
    __table_args__ = (
        UniqueConstraint(
            "rule_id", "subject_type", "subject_id", name="uq_enforcement_supervision_flags_subject"
        ),
        Index("ix_enforcement_supervision_flags_agency", "agency_id", "state"),
        Index("ix_enforcement_supervision_flags_state", "state", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_supervision_rules.id", ondelete="CASCADE")
    )
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    # The agency answerable for it (no FK: supervision reads what other modules wrote).
    agency_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(15))
    business_id: Mapped[int | None] = mapped_column(Integer)
    occurred_on: Mapped[date | None]  # the day of the irregular fact
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")  # the evidence as a sentence
    # What the evidence hashes to: an evaluation rewrites a flag only when it changed.
    digest: Mapped[str] = mapped_column(String(32), default="")
    raised_at: Mapped[datetime]
    evidence_at: Mapped[datetime]  # when the evidence was last found different
    cleared_at: Mapped[datetime | None]
    times_raised: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(24), default=FlagState.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    correction_due: Mapped[date | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(Text, default="")  # why closed or dismissed
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class FlagStep(Base):
    """One thing that happened to a flag (append-only): raised, cleared, raised again by
    an evaluation, or an act of the supervisor's case (assign, request correction, answer,
    close, dismiss). `actor_id` is None for the evaluation."""

    __tablename__ = "enforcement_supervision_flag_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_supervision_flags.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_name: Mapped[str] = mapped_column(String(60), default="")
    state_after: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


make_append_only(cast(Table, FlagStep.__table__))
