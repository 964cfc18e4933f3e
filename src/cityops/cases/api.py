"""`/api/v1/cases`: list and search, detail with steps, actions, attachments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from cityops.cases import service
from cityops.cases.models import CaseAttachment
from cityops.cases.schemas import (
    ActionRequest,
    AttachmentRead,
    CaseDetail,
    CaseFilter,
    CaseRead,
    QueueCounts,
    SuggestionRead,
)
from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.errors import FieldProblem, NotFound, PayloadTooLarge
from cityops.kit.images import draw_box
from cityops.kit.pagination import Page, PageParams
from cityops.kit.schemas import REQUEST_KEY_MAX_LENGTH, REQUEST_KEY_PATTERN

router = APIRouter(prefix="/cases", tags=["cases"])

ATTACHMENT_URL = "/api/v1/cases/{case_id}/attachments/{attachment_id}"


def case_filter(
    state: Annotated[list[str] | None, Query()] = None,
    class_code: Annotated[list[str] | None, Query()] = None,
    region: str | None = None,
    department_id: int | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
    needs_placement: bool | None = None,
    source_kind: Annotated[list[str] | None, Query()] = None,
    created_from: str | None = None,
    created_to: str | None = None,
    text: str | None = None,
    queue: str | None = None,
) -> CaseFilter:
    try:
        return CaseFilter.model_validate({k: v for k, v in locals().items() if v is not None})
    except ValidationError as exc:  # a bad filter is the client's mistake: 422, by name
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
        ) from None


@router.get("", summary="List and search cases")
def list_cases(
    context: ContextDep,
    uow: UowDep,
    principal: PersonDep,
    now: NowDep,
    filters: Annotated[CaseFilter, Depends(case_filter)],
    page: Annotated[PageParams, Query()],
) -> Page[CaseRead]:
    """Cases you may see, newest first, filtered as asked."""
    env = context.case_env(uow.session, now)
    items, total = service.list_cases(uow.session, env, principal.actor, filters, page)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/queues", summary="How many cases wait in each work queue")
def queues(
    uow: UowDep, principal: PersonDep, filters: Annotated[CaseFilter, Depends(case_filter)]
) -> QueueCounts:
    """to_accept, verifying, to_file, to_dispatch, awaiting_approval, handling, to_check,
    checking, to_close and overdue: the open cases you may see, narrowed by the filters."""
    return QueueCounts(counts=service.queue_counts(uow.session, principal.actor, filters))


@router.get("/{case_id}", summary="A case with its steps")
def get_case(
    case_id: int, context: ContextDep, uow: UowDep, principal: PersonDep, now: NowDep
) -> CaseDetail:
    """The case, every step it took, its attachments and the actions you may take now."""
    env = context.case_env(uow.session, now)
    return service.detail(uow.session, env, principal.actor, case_id, ATTACHMENT_URL)


@router.get("/{case_id}/dispatch-suggestions", summary="Whom to dispatch a case to")
def dispatch_suggestions(
    case_id: int, context: ContextDep, uow: UowDep, principal: PersonDep, now: NowDep
) -> list[SuggestionRead]:
    """Handlers ranked by the catalog, the grid's duty roster and their open tasks."""
    env = context.case_env(uow.session, now)
    return service.dispatch_suggestions(uow.session, env, principal.actor, case_id)


@router.post("/{case_id}/actions", summary="Take an action on a case")
def act(
    case_id: int,
    body: ActionRequest,
    context: ContextDep,
    uow: UowDep,
    principal: PersonDep,
    now: NowDep,
) -> CaseDetail:
    """Accept, file, dispatch, sign for, report handled, check, close... as your role allows.

    With a `request_key`, a resend of a request already done changes nothing."""
    env = context.case_env(uow.session, now)
    service.act(uow.session, env, principal.actor, case_id, body)
    uow.commit()
    return service.detail(uow.session, env, principal.actor, case_id, ATTACHMENT_URL)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=REQUEST_KEY_MAX_LENGTH,
        pattern=REQUEST_KEY_PATTERN,
        description="Idempotency key (e.g. a UUID; 1–64 printable ASCII characters): a resend "
        "with the same key by the same person answers 200 with the file stored the first time",
    ),
]


@router.post(
    "/{case_id}/attachments",
    status_code=201,
    summary="Attach a photo or document",
    responses={200: {"description": "A resend: the file stored under the same Idempotency-Key"}},
)
def upload(
    case_id: int,
    file: UploadFile,
    response: Response,
    context: ContextDep,
    uow: UowDep,
    principal: PersonDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> AttachmentRead:
    """Store a file for the case; name its id in the next action's `attachment_ids`."""
    limit = context.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"files are limited to {limit} bytes",
                              errors=[FieldProblem("file", f"at most {limit} bytes")])  # fmt: skip
    row, created = service.add_attachment(
        uow.session, context.storage, principal.actor, case_id,
        filename=file.filename or "upload", content_type=file.content_type or "", data=data,
        now=now, request_key=idempotency_key,
    )  # fmt: skip
    uow.commit()
    if not created:
        response.status_code = 200
    return service.attachment_read(
        row, ATTACHMENT_URL.format(case_id=case_id, attachment_id=row.id)
    )


@router.get(
    "/{case_id}/attachments/{attachment_id}", summary="Download an attachment", response_model=None
)
def download(
    case_id: int,
    attachment_id: int,
    context: ContextDep,
    uow: UowDep,
    principal: PersonDep,
    original: Annotated[
        bool, Query(description="The stored bytes, without the marked region drawn")
    ] = False,
) -> Response:
    """The file's bytes, or a short-lived link to them in object storage. A picture that
    marks a region (a camera detection's box) is served with the region drawn in red."""
    service.get_visible(uow.session, principal.actor, case_id)
    row = uow.session.get(CaseAttachment, attachment_id)
    if row is None or row.case_id != case_id:
        raise NotFound(f"attachment {attachment_id} not found on case {case_id}")
    # RFC 6266/5987: Chinese file names travel percent-encoded in filename*.
    disposition = {"Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename)}"}
    if row.box is not None and not original:
        drawn, content_type = draw_box(b"".join(context.storage.open(row.key)), row.box)
        return Response(drawn, media_type=content_type, headers=disposition)
    url = context.storage.url(row.key, 300)
    if url:
        return RedirectResponse(url, status_code=307)
    chunks: Iterator[bytes] = context.storage.open(row.key)
    return StreamingResponse(chunks, media_type=row.content_type, headers=disposition)
