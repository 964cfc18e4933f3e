"""Citizens' tables: the services residents report under, and each request they made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base, JSONType


class CitizenService(Base):
    """A kind of problem residents report (an Open311 service), mapped onto a case class.

    `attributes` are the Open311 attribute definitions asked for beside the description
    (`variable`, `code`, `datatype`, `required`, `description`, `order`, `values`).
    """

    __tablename__ = "citizen_services"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("catalog_classes.code"))
    group: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CitizenRequest(Base):
    """One resident's request as it came (市民诉求): the event it became and the case it
    follows (its own, or the open case it joined). Contact details are personal data: shown
    only to the roles that call residents back."""

    __tablename__ = "citizen_requests"
    __table_args__ = (Index("ix_citizen_requests_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # open311, web, hotline
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    service_code: Mapped[str] = mapped_column(ForeignKey("citizen_services.code"))
    event_id: Mapped[int] = mapped_column(ForeignKey("source_events.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address_string: Mapped[str | None] = mapped_column(String(250))
    address_id: Mapped[str | None] = mapped_column(String(80))
    media_url: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    first_name: Mapped[str | None] = mapped_column(String(60))
    last_name: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    device_id: Mapped[str | None] = mapped_column(String(80))
    account_id: Mapped[str | None] = mapped_column(String(80))
    requested_at: Mapped[datetime]
