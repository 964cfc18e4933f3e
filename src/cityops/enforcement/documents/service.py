"""Numbering and issuing enforcement documents: a number from the agency's sequence, the
PDF rendered and stored, a row recording it, and who may read it. Services flush; the
caller commits."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, actor_of, record_audit
from cityops.cases.workflow import Actor
from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.formats import document_number
from cityops.enforcement.documents.models import DocumentCounter, IssuedDocument
from cityops.enforcement.documents.render import kind_of, render_document, title_of
from cityops.enforcement.registries.models import Officer
from cityops.errors import DomainError, FieldProblem, Forbidden, Invalid, NotFound
from cityops.kit.storage import BlobStorage, check_key
from cityops.org.models import Person

# Read the documents of their own agencies (through their officer rows).
AGENCY_READ_ROLES = frozenset({"officer", "enforcement_lead", "legal_reviewer"})
# Read every agency's documents: who supervises enforcement.
READ_ALL_ROLES = frozenset({"enforcement_supervisor", "supervisor", "admin"})
READ_ROLES = AGENCY_READ_ROLES | READ_ALL_ROLES
PDF = "application/pdf"


class DocumentDamaged(DomainError):
    """A stored PDF no longer matches the checksum recorded when it was issued."""

    status = 500
    code = "document-damaged"
    title = "Stored document damaged"


def _bump(session: Session, agency_id: int, kind: str, year: int) -> int | None:
    statement = (
        update(DocumentCounter)
        .where(
            DocumentCounter.agency_id == agency_id,
            DocumentCounter.kind == kind,
            DocumentCounter.year == year,
        )
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def next_number(session: Session, *, agency_id: int, kind: str, year: int, prefix: str) -> str:
    """The next document number (文书编号) of an agency's kind of document in a year:
    `渝中消罚决字〔2026〕第12号`.

    The counter row is updated in the caller's transaction, which holds its lock until it
    ends: two transactions numbering at once get consecutive numbers (PostgreSQL waits on
    the row lock, SQLite on its single writer), and a rolled-back transaction gives its
    number back."""
    if not prefix.strip():
        raise Invalid("a document number needs a prefix", errors=[FieldProblem("prefix", "empty")])
    if not 1900 < year < 10000:
        raise Invalid(f"year {year} is out of range", errors=[FieldProblem("year", "1901–9999")])
    sequence = _bump(session, agency_id, kind, year)
    if sequence is None:
        try:
            with session.begin_nested():
                session.add(DocumentCounter(agency_id=agency_id, kind=kind, year=year, last=1))
            sequence = 1
        except IntegrityError:
            # Another transaction began this year's sequence first: take the next number.
            sequence = _bump(session, agency_id, kind, year)
            if sequence is None:
                raise
    return document_number(prefix.strip(), year, sequence)


def issue(
    session: Session,
    storage: BlobStorage,
    document: c.Document,
    *,
    agency_id: int,
    subject_kind: str,
    subject_id: int,
    actor_id: int | None,
    now: datetime,
) -> IssuedDocument:
    """Render `document`, store its PDF and record it as issued by the agency about the
    subject (an inspection, a penalty case…), with an audit entry. Flushes only.

    The PDF is stored before the row is written, so a committed row always has its file;
    a transaction that rolls back leaves an unreferenced file behind, never a row without
    one."""
    if not subject_kind.strip():
        raise Invalid("subject_kind is empty", errors=[FieldProblem("subject_kind", "empty")])
    if not document.number.strip():
        raise Invalid("the document has no number", errors=[FieldProblem("number", "empty")])
    duplicate = session.scalar(
        select(IssuedDocument.id).where(
            IssuedDocument.agency_id == agency_id,
            IssuedDocument.kind == kind_of(document),
            IssuedDocument.number == document.number,
        )
    )
    if duplicate is not None:
        raise Invalid(
            f"{document.number} was already issued (document {duplicate})",
            errors=[FieldProblem("number", "already issued")],
        )
    rendered = render_document(document)
    kind = kind_of(document)
    key = check_key(f"enforcement-documents/{now:%Y/%m}/{kind}-{uuid.uuid4().hex}.pdf")
    blob = storage.put(key, rendered.pdf, PDF)
    row = IssuedDocument(
        kind=kind, number=document.number, title=title_of(document), agency_id=agency_id,
        subject_kind=subject_kind, subject_id=subject_id, storage_key=blob.key,
        sha256=blob.sha256, size=blob.size, pages=rendered.pages, issued_at=now,
        issued_by=actor_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    person = session.get(Person, actor_id) if actor_id is not None else None
    record_audit(
        session, Principal(actor_of(person)) if person else None, "issue",
        "enforcement_document", row.id, now=now,
        after={"kind": kind, "number": row.number, "subject": f"{subject_kind}:{subject_id}",
               "sha256": row.sha256},
    )  # fmt: skip
    return row


def open_pdf(storage: BlobStorage, issued: IssuedDocument) -> bytes:
    """The stored PDF of an issued document, checked against its recorded checksum."""
    data = b"".join(storage.open(issued.storage_key))
    if hashlib.sha256(data).hexdigest() != issued.sha256:
        raise DocumentDamaged(f"the stored PDF of document {issued.id} does not match its checksum")
    return data


def get_issued(session: Session, document_id: int) -> IssuedDocument:
    row = session.get(IssuedDocument, document_id)
    if row is None:
        raise NotFound(f"enforcement document {document_id} not found")
    return row


def list_for_subject(
    session: Session, subject_kind: str, subject_id: int, *, agency_ids: frozenset[int] | None
) -> list[IssuedDocument]:
    """The documents issued about a subject, oldest first; only those of `agency_ids`
    unless it is None (all)."""
    query = select(IssuedDocument).where(
        IssuedDocument.subject_kind == subject_kind, IssuedDocument.subject_id == subject_id
    )
    if agency_ids is not None:
        query = query.where(IssuedDocument.agency_id.in_(agency_ids))
    return list(session.scalars(query.order_by(IssuedDocument.issued_at, IssuedDocument.id)))


def readable_agencies(session: Session, actor: Actor) -> frozenset[int] | None:
    """The agencies whose documents `actor` may read (through their officer rows); None:
    every agency. 403 without a role that reads documents."""
    if actor.roles & READ_ALL_ROLES:
        return None
    if not actor.roles & AGENCY_READ_ROLES:
        raise Forbidden(f"this needs one of the roles: {', '.join(sorted(READ_ROLES))}")
    if actor.id is None:
        return frozenset()
    rows = session.scalars(select(Officer.agency_id).where(Officer.person_id == actor.id))
    return frozenset(rows)


def check_readable(session: Session, actor: Actor, issued: IssuedDocument) -> None:
    """403 unless `actor` may read `issued` (their agency's, or they read all)."""
    agencies = readable_agencies(session, actor)
    if agencies is not None and issued.agency_id not in agencies:
        raise Forbidden("this document was issued by an agency you do not act for")
