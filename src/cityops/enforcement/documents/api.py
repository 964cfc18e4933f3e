"""`/api/v1/enforcement/documents`: the documents issued about an inspection or a penalty
case, and their PDFs, for enforcement staff (officers: their own agencies' documents)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from cityops.deps import ContextDep, PersonDep, UowDep
from cityops.enforcement.documents import service
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.documents.schemas import IssuedDocumentRead

router = APIRouter(prefix="/enforcement/documents", tags=["enforcement"])
PDF_URL = "/api/v1/enforcement/documents/{id}.pdf"


def _read(row: IssuedDocument) -> IssuedDocumentRead:
    return IssuedDocumentRead(
        id=row.id, kind=row.kind, title=row.title, number=row.number, agency_id=row.agency_id,
        subject_kind=row.subject_kind, subject_id=row.subject_id, sha256=row.sha256,
        size=row.size, pages=row.pages, issued_at=row.issued_at, issued_by=row.issued_by,
        pdf_url=PDF_URL.format(id=row.id),
    )  # fmt: skip


def filename(row: IssuedDocument) -> str:
    """行政处罚决定书（渝中消罚决字〔2026〕第12号）.pdf"""
    return f"{row.title}（{row.number}）.pdf"


@router.get("", summary="Documents issued about a subject")
def list_documents(
    uow: UowDep,
    caller: PersonDep,
    subject_kind: Annotated[str, Query(min_length=1, max_length=40, examples=["penalty_case"])],
    subject_id: int,
) -> list[IssuedDocumentRead]:
    """The documents issued about an inspection or a penalty case, oldest first; officers
    see those of their own agencies."""
    agencies = service.readable_agencies(uow.session, caller.actor)
    rows = service.list_for_subject(uow.session, subject_kind, subject_id, agency_ids=agencies)
    return [_read(r) for r in rows]


@router.get(
    "/{document_id}.pdf",
    summary="Download a document's PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def download(document_id: int, context: ContextDep, uow: UowDep, caller: PersonDep) -> Response:
    """The PDF as issued (checked against its checksum), named by title and number."""
    row = service.get_issued(uow.session, document_id)
    service.check_readable(uow.session, caller.actor, row)
    data = service.open_pdf(context.storage, row)
    # RFC 6266/5987: the Chinese name travels percent-encoded in filename*, with an ASCII
    # name for clients that read only filename.
    disposition = (
        f"inline; filename=\"{row.kind}-{row.id}.pdf\"; filename*=UTF-8''{quote(filename(row))}"
    )
    return Response(data, media_type=service.PDF, headers={"Content-Disposition": disposition})
