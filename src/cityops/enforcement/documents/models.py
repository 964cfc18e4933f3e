"""Document numbers (文书编号) and the documents issued (their PDFs live in blob storage).

A number is `prefix〔year〕第N号` with N counted per agency, kind and year; the counter row
is updated in the caller's transaction, so two documents never share a number and a
number is not used up by a transaction that rolled back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class DocumentCounter(Base):
    """The last number issued of a kind of document by an agency in a year (文书编号)."""

    __tablename__ = "enforcement_document_counters"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_agencies.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class IssuedDocument(Base):
    """An enforcement document as issued (已制作的执法文书): its kind (the content class in
    snake case, e.g. `penalty_decision`), number, issuing agency, what it is about (an
    inspection, a penalty case…), and the stored PDF with its checksum."""

    __tablename__ = "enforcement_documents"
    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "number", name="uq_enforcement_documents_number"),
        Index("ix_enforcement_documents_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime]
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
