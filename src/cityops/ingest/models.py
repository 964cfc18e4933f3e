"""The event log: every source message, once, keyed by (source, external_id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class SourceEvent(Base):
    """One message from a source (camera, sensor, inspector, citizen...) and what it became."""

    __tablename__ = "source_events"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    class_code: Mapped[str | None] = mapped_column(String(8))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # What intake did with it: opened a case, merged into one, or was refused a class.
    outcome: Mapped[str] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    self_handled: Mapped[bool] = mapped_column(default=False)
