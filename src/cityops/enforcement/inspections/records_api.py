"""`/api/v1/enforcement/inspections/{id}/signatures` and `…/record`: the signatures taken
on an officer's phone and the on-site records (现场检查笔录) issued with them. Included in
the inspections router (`api.router`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Response, UploadFile

from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.enforcement.documents import service as documents
from cityops.enforcement.documents.api import filename
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.inspections import reads, records, service, signatures
from cityops.enforcement.inspections.models import Signature, SignerRole
from cityops.enforcement.inspections.schemas import RecordIn, RecordRead, SignatureRead
from cityops.errors import BadRequest
from cityops.kit.schemas import REQUEST_KEY_MAX_LENGTH, REQUEST_KEY_PATTERN
from cityops.kit.storage import BlobStorage

router = APIRouter()
URL = "/api/v1/enforcement/inspections/{inspection_id}/signatures/{id}.png"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=REQUEST_KEY_MAX_LENGTH,
        pattern=REQUEST_KEY_PATTERN,
        description="A key of the sender's (e.g. a UUID): sent again, the request is "
        "answered (200) with the signature the first one kept",
    ),
]


def _read(row: Signature) -> SignatureRead:
    return SignatureRead(
        id=row.id, role=row.role, name=row.name, officer_id=row.officer_id,
        signed_at=row.signed_at, url=URL.format(inspection_id=row.inspection_id, id=row.id),
    )  # fmt: skip


def pdf_response(storage: BlobStorage, issued: IssuedDocument) -> Response:
    """An issued document's PDF, named by its title and number."""
    disposition = (
        f'inline; filename="{issued.kind}-{issued.id}.pdf"; '
        f"filename*=UTF-8''{quote(filename(issued))}"
    )
    data = documents.open_pdf(storage, issued)
    return Response(data, media_type=documents.PDF, headers={"Content-Disposition": disposition})


@router.post(
    "/{inspection_id}/signatures",
    status_code=201,
    summary="A signature for the on-site record (multipart PNG)",
    responses={200: {"description": "A resend: the signature the first one kept"}},
)
def sign(
    inspection_id: int,
    response: Response,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
    role: Annotated[SignerRole, Form(description="party | officer")],
    name: Annotated[str, Form(min_length=1, max_length=signatures.MAX_NAME)],
    file: Annotated[UploadFile, File(description="a PNG, as drawn (the page sends 600 × 240)")],
    officer_id: Annotated[int | None, Form(description="for an officer on the visit")] = None,
    idempotency_key: IdempotencyKey = None,
) -> SignatureRead:
    """The party's or an officer's signature, taken on the phone of an officer on the
    visit while it is in progress or after it finished, until the record is issued."""
    data = file.file.read(signatures.MAX_BYTES + 1)
    if not data:
        raise BadRequest.at("file", "an empty file")
    body = signatures.SignatureIn(role=role, name=name, officer_id=officer_id, png=data)
    row, created = signatures.sign(
        uow.session, context.storage, caller.actor, inspection_id, body, now=now,
        request_key=idempotency_key,
    )  # fmt: skip
    uow.commit()
    if not created:
        response.status_code = 200
    return _read(row)


@router.get("/{inspection_id}/signatures", summary="The signatures taken")
def list_signatures(inspection_id: int, uow: UowDep, caller: PersonDep) -> list[SignatureRead]:
    """Each signer's latest signature, in the order signed."""
    return [_read(r) for r in signatures.listed(uow.session, caller.actor, inspection_id)]


@router.get(
    "/{inspection_id}/signatures/{signature_id}.png",
    summary="One signature (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def signature_png(
    inspection_id: int, signature_id: int, context: ContextDep, uow: UowDep, caller: PersonDep
) -> Response:
    data = signatures.image(uow.session, context.storage, caller.actor, inspection_id, signature_id)
    return Response(data, media_type=signatures.PNG)


@router.post(
    "/{inspection_id}/record",
    status_code=201,
    summary="Issue the on-site records (现场检查笔录), one per agency",
)
def issue_record(
    inspection_id: int,
    body: RecordIn,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
) -> list[RecordRead]:
    """After the visit finished, by an officer on it: each agency that took part issues
    its record — its officers and certificates, the time, the place, the results of its
    points and what failed, who was there for the party — with the signatures taken."""
    records.issue_records(
        uow.session, context.storage, caller.actor, inspection_id, present=body.present, now=now
    )
    uow.commit()
    return reads.records(uow.session, service.get_inspection(uow.session, inspection_id))


@router.get(
    "/{inspection_id}/records/{document_id}.pdf",
    summary="An on-site record as issued (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def record_pdf(
    inspection_id: int, document_id: int, context: ContextDep, uow: UowDep, caller: PersonDep
) -> Response:
    """For everyone who may see the visit, whichever agency issued it."""
    issued = records.record_document(uow.session, caller.actor, inspection_id, document_id)
    return pdf_response(context.storage, issued)
