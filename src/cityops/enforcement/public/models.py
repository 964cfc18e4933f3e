"""The public entrance's own tables: complaints about enforcement conduct (执法投诉) and the
receipts of the business's uploads, by which a resent upload is answered with the first."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base, JSONType


class ComplaintState(StrEnum):
    """Where a complaint stands for the complainant and the supervisors."""

    RECEIVED = "received"  # 已受理, waiting for a supervisor
    HANDLING = "handling"  # 办理中, a supervisor took it
    ANSWERED = "answered"  # 已答复


COMPLAINT_STATE_NAMES_ZH: dict[str, str] = {
    ComplaintState.RECEIVED: "已受理，等待执法监督人员办理",
    ComplaintState.HANDLING: "执法监督人员正在核查",
    ComplaintState.ANSWERED: "已答复",
}


class Complaint(Base):
    """A complaint about how enforcement was done (执法投诉), from anyone, with or without an
    account: what happened, which agency and officer (as the complainant names them; the
    certificate number is matched against the officer registry when given), when, where and
    photos. The phone, when given, is proven by a code and gets the answer by SMS; the
    ticket lets anyone holding it follow the complaint."""

    __tablename__ = "enforcement_complaints"
    __table_args__ = (
        Index("ix_enforcement_complaints_state", "state", "created_at"),
        Index("ix_enforcement_complaints_agency", "agency_id", "state"),
        Index("ix_enforcement_complaints_client", "client", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=ComplaintState.RECEIVED)
    what: Mapped[str] = mapped_column(Text)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_agencies.id"))
    officer_name: Mapped[str] = mapped_column(String(60), default="")
    certificate_number: Mapped[str] = mapped_column(String(40), default="")
    # The registry's officer holding that certificate; None when none does (worth knowing
    # too: someone may have shown a certificate that is not one).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_officers.id"))
    happened_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(250))
    name: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"key", "content_type", "size", "sha256", "filename"}], in the order sent.
    photos: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    client: Mapped[str] = mapped_column(String(64), default="")  # the sender's address
    # The sender's idempotency key: a resend is answered with this complaint.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    taken_at: Mapped[datetime | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The supervision flag the complaint was raised as, where supervision takes them.
    flag_id: Mapped[int | None] = mapped_column(Integer)


class PublicReceipt(Base):
    """What a public write answered, under the sender's idempotency key and the business it
    was made for (`scope`, e.g. `proof:12`): sent again, the write is not made twice and the
    sender gets the first answer."""

    __tablename__ = "enforcement_public_receipts"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_enforcement_public_receipts_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime]
