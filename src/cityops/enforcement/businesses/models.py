"""Regulated businesses (监管对象): who they are, what kind of business they run, their
licences, and where they are (street, grid, point).

An officer recorded as conflicting with a business (回避) is never drawn to inspect it.

A business's type decides which agencies a joint inspection invites (an internet café:
fire rescue, market regulation, culture market, city management), through the enforcement
items the type lists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityops.db import Base, JSONType


class BusinessType(Base):
    """A kind of business (业态), e.g. 网吧 (internet service venue) or 餐饮店, with the
    enforcement items that apply to it (by item code)."""

    __tablename__ = "enforcement_business_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    item_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")


class Business(Base):
    """A regulated business or person (市场主体). `credit_code` is the unified social
    credit code (统一社会信用代码, 18 characters) or, for a citizen, an ID number."""

    __tablename__ = "enforcement_businesses"
    __table_args__ = (
        Index("ix_enforcement_businesses_region", "region_code", "type_code"),
        Index("ix_enforcement_businesses_grid", "grid_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    party_kind: Mapped[str] = mapped_column(String(12), default="organisation")
    type_code: Mapped[str] = mapped_column(ForeignKey("enforcement_business_types.code"))
    representative: Mapped[str] = mapped_column(String(60), default="")  # 法定代表人/负责人
    phone: Mapped[str] = mapped_column(String(40), default="")  # for notices and codes
    address: Mapped[str] = mapped_column(String(200), default="")
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))  # the street
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    opened_on: Mapped[date | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")

    type: Mapped[BusinessType] = relationship(lazy="joined")
    licences: Mapped[list[Licence]] = relationship(
        cascade="all, delete-orphan", order_by="Licence.kind"
    )


class Licence(Base):
    """A licence a business holds (营业执照, 食品经营许可证, 网络文化经营许可证 …)."""

    __tablename__ = "enforcement_licences"
    __table_args__ = (UniqueConstraint("kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_businesses.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]


class OfficerConflict(Base):
    """An officer who must not inspect a business (回避: a relative runs it, they worked
    there, …); random draws and joint inspections leave them out."""

    __tablename__ = "enforcement_officer_conflicts"

    business_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_businesses.id", ondelete="CASCADE"), primary_key=True
    )
    officer_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_officers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    recorded_at: Mapped[datetime | None]
