"""Cases, their append-only steps and their attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityops.auth.models import make_append_only
from cityops.db import Base, JSONType

# Case numbers read as the local date of the centre; China has one zone.
CASE_NUMBER_ZONE = ZoneInfo("Asia/Shanghai")


class Case(Base):
    """A problem being handled through the seven stages.

    The authoritative history is the list of steps; the columns here are the projection of
    that history that queues, filters and scope checks need, updated in the same
    transaction as each step.
    """

    __tablename__ = "cases"
    __table_args__ = (
        # Merge candidates: open cases of a class in a band of latitude around an event.
        Index("ix_cases_merge_lookup", "class_code", "lat"),
        Index("ix_cases_region_state", "region_code", "state"),
        Index("ix_cases_department_state", "department_id", "state"),
        Index("ix_cases_due", "state", "handle_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_code: Mapped[str | None] = mapped_column(ForeignKey("catalog_classes.code"))
    family: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    # The grid's code, or the district's when no grid contains the point: a prefix match on
    # this column is how region scope is checked and filtered.
    region_code: Mapped[str] = mapped_column(String(15))
    needs_placement: Mapped[bool] = mapped_column(Boolean, default=False)
    source_kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(80))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    needs_verification: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    self_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # A handling request awaiting the dispatcher: {"kind": "extension"|"return"|"defer", ...}
    pending_request: Mapped[dict[str, Any] | None]
    signal_count: Mapped[int] = mapped_column(Integer, default=1)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    reported_at: Mapped[datetime]
    filed_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    # When the handler signed for the task (签收); cleared whenever it reaches a handler anew.
    signed_for_at: Mapped[datetime | None]
    handle_due_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    stage_started_at: Mapped[datetime]
    stage_due_at: Mapped[datetime | None]
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None]
    evaluation: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)

    @property
    def number(self) -> str:
        """The number people read and say (案件编号): local date of creation and the id."""
        return f"{self.created_at.astimezone(CASE_NUMBER_ZONE):%Y%m%d}{self.id:06d}"


class CaseStep(Base):
    """One transition of a case: who (or which rule) did what, when, from which state to which."""

    __tablename__ = "case_steps"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index("ix_case_steps_action_at", "action", "at"),
        # A client's idempotency key is recorded once per case; steps without one (NULL)
        # are not constrained.
        Index("uq_case_steps_request_key", "case_id", "request_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str | None] = mapped_column(String(80))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    stage_due_at: Mapped[datetime | None]
    # Whether the stage this step ends was finished within its limit (None: no limit).
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    # The idempotency key of the request that took the step: a resend finds it and changes
    # nothing.
    request_key: Mapped[str | None] = mapped_column(String(64))


make_append_only(cast(Table, CaseStep.__table__))


class CaseAttachment(Base):
    """A photo or document on a case; the bytes live in blob storage under `key`."""

    __tablename__ = "case_attachments"
    __table_args__ = (
        # An upload's idempotency key is the uploader's: a resend returns the stored file.
        Index("uq_case_attachments_request_key", "uploaded_by", "request_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    uploaded_at: Mapped[datetime]
    request_key: Mapped[str | None] = mapped_column(String(64))
    # A region of the picture it points at (a camera detection's box: x1, y1, x2, y2 as
    # fractions of the width and height), drawn when the picture is shown; the stored
    # bytes stay the camera's own.
    box: Mapped[list[float] | None] = mapped_column(JSONType)
