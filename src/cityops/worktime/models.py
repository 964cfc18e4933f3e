"""Local corrections to the official holiday calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class CalendarOverride(Base):
    """A day whose working status differs from the official calendar (or is not in it yet)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60), default="")
