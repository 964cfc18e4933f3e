"""Supervision inspections (监督检查): plans (双随机抽查, 综合查一次, 专项检查), the visits to
businesses they make, the agencies and officers on each visit, the findings per checklist
entry, the one combined rectification notice, and the reminders sent to officers.

Supervision reads these tables (an inspection without a plan, fewer than two officers,
a business inspected too often, a deadline passed without re-inspection), so their names
and the meaning of their columns are a contract."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityops.db import Base, JSONType


class PlanKind(StrEnum):
    RANDOM = "random"  # 双随机抽查: targets and inspectors drawn at random
    JOINT = "joint"  # 综合查一次: several agencies inspect one business at once
    SPECIAL = "special"  # 专项检查: a campaign on a theme, targets drawn or chosen


class PlanState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the agency's enforcement lead
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"  # a visit has started
    COMPLETED = "completed"  # every visit has ended
    CANCELLED = "cancelled"


class InspectionState(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"  # on site
    FINDINGS_RECORDED = "findings_recorded"  # finished with failed findings
    NOTICE_SERVED = "notice_served"  # the combined notice served; waiting for the deadline
    REINSPECTION_DUE = "reinspection_due"  # deadline passed, or proof came in
    CLOSED = "closed"
    ESCALATED = "escalated"  # not rectified: the findings become penalty cases
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    COMPLIANT = "compliant"  # nothing failed
    RECTIFICATION = "rectification"  # failed, then rectified by the deadline
    PENALTY = "penalty"  # not rectified: penalty cases


class AgencyRole(StrEnum):
    INITIATOR = "initiator"
    INVITED = "invited"


class InvitationState(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class FindingOutcome(StrEnum):
    PASS = "pass"  # 符合
    FAIL = "fail"  # 不符合
    NOT_APPLICABLE = "not_applicable"  # 不适用


class InspectionPlan(Base):
    """An inspection plan (检查计划) of an agency: what kind, where, when, which items, and
    for a random plan the draw (seed, candidates, digest and result) that anyone can re-run."""

    __tablename__ = "enforcement_inspection_plans"
    __table_args__ = (
        UniqueConstraint("created_by", "request_key", name="uq_enforcement_plans_request"),
        Index("ix_enforcement_inspection_plans_agency", "initiator_agency_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12), index=True)
    initiator_agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    state: Mapped[str] = mapped_column(String(16), default=PlanState.DRAFT)
    planned_from: Mapped[date] = mapped_column(Date)
    planned_until: Mapped[date] = mapped_column(Date)
    # The items the plan checks (their checklists), and for a draw the business types and
    # how many targets with how many officers each.
    item_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    type_codes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    target_count: Mapped[int | None] = mapped_column(Integer)
    officers_per_target: Mapped[int] = mapped_column(Integer, default=2)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    draw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    published_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    approved_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")  # why returned or cancelled
    note: Mapped[str] = mapped_column(Text, default="")
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]

    inspections: Mapped[list[Inspection]] = relationship(
        back_populates="plan", order_by="Inspection.id"
    )


class Inspection(Base):
    """One visit to one business (a joint one by several agencies at once)."""

    __tablename__ = "enforcement_inspections"
    __table_args__ = (
        Index("ix_enforcement_inspections_business", "business_id", "scheduled_at"),
        Index("ix_enforcement_inspections_state", "state", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_inspection_plans.id"), index=True
    )
    # Why the visit is made: plan (a plan's visit), or without one complaint (投诉举报),
    # referral (转办交办) or patrol (巡查发现); supervision flags a visit without a plan
    # unless its source is exempt (complaint, referral).
    source: Mapped[str] = mapped_column(String(12), default="plan")
    business_id: Mapped[int] = mapped_column(ForeignKey("enforcement_businesses.id"))
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    scheduled_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    item_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default=InspectionState.SCHEDULED)
    outcome: Mapped[str | None] = mapped_column(String(16))
    rectification_deadline: Mapped[date | None] = mapped_column(Date)
    reinspected_at: Mapped[datetime | None]
    reinspection_officer_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    closed_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[InspectionPlan | None] = relationship(back_populates="inspections")
    agencies: Mapped[list[InspectionAgency]] = relationship(
        cascade="all, delete-orphan",
        order_by=lambda: [InspectionAgency.invited_at, InspectionAgency.agency_id],
    )
    officers: Mapped[list[InspectionOfficer]] = relationship(
        cascade="all, delete-orphan", order_by="InspectionOfficer.officer_id"
    )


class InspectionAgency(Base):
    """An agency on a visit: its initiator, or an agency invited to it (综合查一次) that
    accepts (naming its officers) or declines with a reason; with the items it checks."""

    __tablename__ = "enforcement_inspection_agencies"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_agencies.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12), default=InvitationState.INVITED)
    item_ids: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    invited_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class InspectionOfficer(Base):
    """An officer on a visit, for their agency."""

    __tablename__ = "enforcement_inspection_officers"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), primary_key=True
    )
    officer_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_officers.id"), primary_key=True, index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))


class Finding(Base):
    """The result of one checklist entry for one agency (or a free-text finding under one
    of its items), with photos, the requirement and deadline when it failed, and whether
    the re-inspection found it rectified."""

    __tablename__ = "enforcement_inspection_findings"
    __table_args__ = (
        UniqueConstraint("officer_id", "request_key", name="uq_enforcement_findings_request"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))
    checklist_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_checklist_items.id")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_items.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("enforcement_officers.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    requirement: Mapped[str] = mapped_column(Text, default="")  # 整改要求
    deadline: Mapped[date | None] = mapped_column(Date)
    photos: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # storage keys
    recorded_at: Mapped[datetime]
    rectified: Mapped[bool | None] = mapped_column(Boolean)
    reinspection_note: Mapped[str] = mapped_column(Text, default="")
    penalty_case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    request_key: Mapped[str | None] = mapped_column(String(64))


class RectificationNotice(Base):
    """The one combined rectification notice (综合检查整改通知书) of a visit: the issued
    PDF, its service, and the business's proof of rectification."""

    __tablename__ = "enforcement_rectification_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), unique=True
    )
    document_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_documents.id"))
    number: Mapped[str] = mapped_column(String(60))
    deadline: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime]
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    served_at: Mapped[datetime | None]
    served_method: Mapped[str] = mapped_column(String(20), default="")
    served_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    proof_keys: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    proof_note: Mapped[str] = mapped_column(Text, default="")
    proof_at: Mapped[datetime | None]


class ReminderKind(StrEnum):
    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"


class Reminder(Base):
    """A reminder to an officer of a visit: written before it is sent, so that each is
    sent once however often the job runs; `sent_at` once the gateway took it."""

    __tablename__ = "enforcement_inspection_reminders"
    __table_args__ = (
        UniqueConstraint("inspection_id", "officer_id", "kind", name="uq_enforcement_reminders"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), index=True
    )
    officer_id: Mapped[int] = mapped_column(ForeignKey("enforcement_officers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    phone: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class SignerRole(StrEnum):
    PARTY = "party"  # 当事人（现场负责人）
    OFFICER = "officer"  # 执法人员


class Signature(Base):
    """A signature on the visit's on-site record (现场检查笔录), drawn on an officer's phone:
    the party's or an officer's on the visit, a PNG in blob storage. A signer who signs
    again is shown (and printed) with their latest one."""

    __tablename__ = "enforcement_inspection_signatures"
    __table_args__ = (
        UniqueConstraint("taken_by", "request_key", name="uq_enforcement_signatures_request"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_inspections.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(60))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_officers.id"))
    storage_key: Mapped[str] = mapped_column(String(300))
    signed_at: Mapped[datetime]
    # The officer on the visit whose phone took it, and the phone's idempotency key.
    taken_by: Mapped[int] = mapped_column(ForeignKey("enforcement_officers.id"))
    request_key: Mapped[str | None] = mapped_column(String(64))
