"""Citizens' tables: the services residents report under, each request they made, the
call-backs (回访) that follow, the codes that verify a phone, and the words of the vocabulary
the classifier learns from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    # None when the resident left the kind of problem to the centre (the classifier chose,
    # or the call-taker will).
    service_code: Mapped[str | None] = mapped_column(ForeignKey("citizen_services.code"))
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
    # How the case's class was decided: chosen (by the resident or the call-taker),
    # automatic (the classifier was sure enough), call_taker (left for a person to decide).
    routing: Mapped[str] = mapped_column(String(16), default="chosen")
    joined: Mapped[bool] = mapped_column(Boolean, default=False)  # joined an open case
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # the call-taker
    photo_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)  # case attachments
    rating: Mapped[str | None] = mapped_column(String(24))  # the resident's own, at the end
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]


class CitizenCallback(Base):
    """A call-taker's call back to a resident after the case closed (回访): whether they
    were reached, how satisfied they were, what they said."""

    __tablename__ = "citizen_callbacks"
    __table_args__ = (Index("ix_citizen_callbacks_request", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("citizen_requests.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    person_name: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    reached: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)


class PhoneCode(Base):
    """A code sent to a phone to verify it belongs to the resident reporting: kept as a
    keyed hash, good for a few minutes and a few tries."""

    __tablename__ = "citizen_phone_codes"
    __table_args__ = (Index("ix_citizen_phone_codes_phone", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")  # the sender's address
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]


class VocabularyTerm(Base):
    """A word residents use for a class (synonyms, dialect, miswritings, English), which
    the classifier learns from; edited by admins."""

    __tablename__ = "citizen_vocabulary"
    __table_args__ = (UniqueConstraint("class_code", "term", name="uq_citizen_vocabulary"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("catalog_classes.code"))
    term: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
