"""`/api/v1/public/enforcement/…`: the public entrance, no staff login. Anyone looks up what
has been published and complains about enforcement conduct; a business signs in with its
credit code and a code sent to its registered phone and sees its own. And
`/api/v1/enforcement/complaints`: the complaints for the enforcement supervisors."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.bootstrap import Context
from cityops.cases.service import Picture
from cityops.citizens import intake
from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.enforcement.documents import api as documents_api
from cityops.enforcement.documents import service as documents
from cityops.enforcement.public import complaints, deps, lookup, repository, service, tokens
from cityops.enforcement.public.models import COMPLAINT_STATE_NAMES_ZH, ComplaintState
from cityops.enforcement.public.schemas import (
    BusinessCodeIn,
    BusinessCodeSent,
    BusinessOverview,
    BusinessRef,
    BusinessTokenIn,
    BusinessTokenRead,
    ComplaintAnswerIn,
    ComplaintIn,
    ComplaintRead,
    ComplaintTaken,
    ComplaintTrack,
    ProofAccepted,
    ProofIn,
    PublicAgencyRead,
    PublicDecision,
    PublicPlan,
)
from cityops.errors import FieldProblem, Invalid, Unavailable
from cityops.kit.pagination import Page, PageParams, paginate
from cityops.notify.sms import SmsFailed

log = logging.getLogger(__name__)

public = APIRouter(prefix="/public/enforcement", tags=["enforcement-public"])
staff = APIRouter(prefix="/enforcement/complaints", tags=["enforcement"])

# -- reference --------------------------------------------------------------------------------


@public.get("/agencies", summary="The enforcement agencies (执法主体), to name or search by")
def public_agencies(uow: UowDep) -> list[PublicAgencyRead]:
    """Every active agency with its public office phone and address."""
    return [PublicAgencyRead(id=a.id, code=a.code, name=a.name, kind=a.kind,
                             kind_name=a.kind_name, phone=a.phone, address=a.address)
            for a in repository.active_agencies(uow.session)]  # fmt: skip


# -- what is published -----------------------------------------------------------------------------

Words = Annotated[str | None, Query(alias="q", max_length=100,
                                    description="words of a business's name or its credit "
                                    "code (organisations only)")]  # fmt: skip
Since = Annotated[date | None, Query(description="from this day")]
Until = Annotated[date | None, Query(description="until this day, inclusive")]


def _lookup_filter(text: str | None, agency_id: int | None, since: date | None,
                   until: date | None) -> lookup.LookupFilter:  # fmt: skip
    if since is not None and until is not None and since > until:
        raise Invalid("since: after until", errors=[FieldProblem("since", "after until")])
    return lookup.LookupFilter(text=text, agency_id=agency_id, since=since, until=until)


@public.get("/decisions", summary="Published penalty decisions (行政处罚决定公示)")
def published_decisions(
    uow: UowDep, page: Annotated[PageParams, Query()], text: Words = None,
    agency_id: int | None = None, since: Since = None, until: Until = None,
) -> Page[PublicDecision]:  # fmt: skip
    """Decisions made public (Art. 48), the latest decided first; by an organisation's name
    or credit code, the agency, and the day decided. A citizen party shows as 张*."""
    query = lookup.decisions_query(_lookup_filter(text, agency_id, since, until))
    rows, total = paginate(uow.session, query, page)
    items = lookup.decision_reads(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@public.get("/plans", summary="Published inspection plans and results (双随机、一公开)")
def published_plans(
    uow: UowDep, page: Annotated[PageParams, Query()], text: Words = None,
    agency_id: int | None = None, since: Since = None, until: Until = None,
) -> Page[PublicPlan]:  # fmt: skip
    """Published plans, the latest first, each with its draw (seed, how many drawn from how
    many, the directory's digest) and the result for each business visited; by a business's
    name or credit code, an agency taking part, and days overlapping the plan's period."""
    query = lookup.plans_query(_lookup_filter(text, agency_id, since, until))
    rows, total = paginate(uow.session, query, page)
    items = lookup.plan_reads(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# -- complaints ---------------------------------------------------------------------------------


@public.post("/complaints", status_code=201, response_model=ComplaintTaken,
             summary="Complain about enforcement conduct (multipart, no login)")  # fmt: skip
async def submit_complaint(
    request: Request, response: Response, context: ContextDep,
    idempotency_key: deps.IdempotencyKey = None,
) -> ComplaintTaken:  # fmt: skip
    """Fields: `what`, `agency_id`, `officer_name`, `certificate_number`, `happened_at`,
    `place`, `name`, `phone` with the `code` sent to it (`POST /api/v1/public/phone-codes`),
    and up to three `photos`. Answered after the commit with the ticket to follow it by."""
    fields, photos = await deps.read_form(request, context.settings.max_upload_bytes)
    return await run_in_threadpool(_submit_complaint, context, fields, photos,
                                   deps.client_of(request), idempotency_key, response)  # fmt: skip


def _submit_complaint(
    context: Context,
    fields: dict[str, Any],
    photos: list[Picture],
    client: str,
    key: str | None,
    response: Response,
) -> ComplaintTaken:
    sent = deps.validated(ComplaintIn, fields)
    intake.check_photos(photos, context.settings.max_upload_bytes)
    if sent.phone and not sent.code:
        raise Invalid("code: give the code sent to your phone, or leave the phone out",
                      errors=[FieldProblem("code", "required with a phone")])  # fmt: skip
    if key is not None:
        with context.read_sessions() as session:
            earlier = repository.complaint_by_key(session, key)
            if earlier is not None:
                response.status_code = 200
                return _taken(earlier.ticket, earlier.state, repeat=True)
    if sent.phone and sent.code:
        deps.spend_check(context, sent.phone, sent.code)
    secret = context.settings.secret_key

    def work(session: Session) -> ComplaintTaken:
        now = context.clock.now()
        if sent.phone and sent.code:
            intake.use_phone_code(session, secret, sent.phone, sent.code, now)
        done = complaints.submit(
            session, context.storage, sent, photos, phone_verified=bool(sent.phone),
            client=client, request_key=key, max_photo_bytes=context.settings.max_upload_bytes,
            now=now,
        )  # fmt: skip
        if done.repeat:
            response.status_code = 200
        return _taken(done.complaint.ticket, done.complaint.state, repeat=done.repeat)

    return context.in_transaction(work)


def _taken(ticket: str, state: str, *, repeat: bool) -> ComplaintTaken:
    notice = (f"此投诉已收到（编号 {ticket}），无需重复提交。" if repeat else
              f"已收到您的投诉，执法监督人员将核查办理。可凭编号 {ticket} 查询答复。")  # fmt: skip
    return ComplaintTaken(ticket=ticket, state=state, state_name=COMPLAINT_STATE_NAMES_ZH[state],
                          notice=notice, repeat=repeat)  # fmt: skip


@public.get("/complaints/{ticket}", response_model=ComplaintTrack,
            summary="Follow a complaint by its ticket")  # fmt: skip
def track_complaint(ticket: str, uow: UowDep) -> ComplaintTrack:
    return complaints.track_read(uow.session, complaints.by_ticket(uow.session, ticket))


@public.get("/complaints/{ticket}/photos/{n}", response_model=None,
            summary="A photo sent with the complaint")  # fmt: skip
def complaint_photo_public(ticket: str, n: int, uow: UowDep, context: ContextDep) -> Response:
    found = complaints.photo(complaints.by_ticket(uow.session, ticket), n)
    return deps.stream(context, str(found["key"]), str(found["content_type"]))


@staff.get("", summary="Complaints about enforcement conduct (执法投诉), waiting ones first")
def list_complaints(
    uow: UowDep,
    _caller: deps.SupervisorDep,
    _person: PersonDep,
    page: Annotated[PageParams, Query()],
    state: Annotated[list[ComplaintState] | None, Query()] = None,
    agency_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ComplaintRead]:
    """By state (repeatable), agency, when they came in (`since` ≤ t < `until`) and words of
    what happened, the place, the officer's name or the ticket."""
    query = repository.complaints_query(repository.ComplaintFilter(
        states=tuple(s.value for s in state or ()), agency_id=agency_id, since=since,
        until=until, text=text))  # fmt: skip
    rows, total = paginate(uow.session, query, page)
    items = complaints.staff_reads(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@staff.get("/{complaint_id}", summary="One complaint with the complainant's contact")
def get_complaint(complaint_id: int, uow: UowDep, caller: PersonDep) -> ComplaintRead:
    (read,) = complaints.staff_reads(
        uow.session, [complaints.get(uow.session, caller, complaint_id)]
    )
    return read


@staff.get("/{complaint_id}/photos/{n}", response_model=None, summary="A complaint's photo")
def complaint_photo(
    complaint_id: int, n: int, uow: UowDep, caller: PersonDep, context: ContextDep
) -> Response:
    found = complaints.photo(complaints.get(uow.session, caller, complaint_id), n)
    return deps.stream(context, str(found["key"]), str(found["content_type"]))


@staff.post("/{complaint_id}/take", summary="Take a complaint up (办理)")
def take_complaint(complaint_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> ComplaintRead:
    row = complaints.take(uow.session, caller, complaint_id, now=now)
    uow.commit()
    (read,) = complaints.staff_reads(uow.session, [row])
    return read


@staff.post("/{complaint_id}/answer", summary="Answer a complaint (答复); SMS to a proven phone")
def answer_complaint(
    complaint_id: int, body: ComplaintAnswerIn, uow: UowDep, caller: PersonDep, now: NowDep,
    context: ContextDep,
) -> ComplaintRead:  # fmt: skip
    """The answer shows on the complainant's ticket at once; a complainant who proved their
    phone is told by SMS after the commit (a failed SMS leaves the answer in place)."""
    row = complaints.answer(uow.session, caller, complaint_id, body.answer, now=now)
    uow.commit()
    if row.phone and row.phone_verified:
        try:
            context.sms.send(row.phone, complaints.answer_message(row))
        except SmsFailed:
            log.warning("the answer to complaint %s could not be texted", row.id, exc_info=True)
    (read,) = complaints.staff_reads(uow.session, [row])
    return read


# -- the business's sign-in -----------------------------------------------------------------------


@public.post("/business/codes", status_code=202, response_model=BusinessCodeSent,
             summary="Send a sign-in code to the business's registered phone")  # fmt: skip
def business_code(body: BusinessCodeIn, request: Request, context: ContextDep) -> BusinessCodeSent:
    """The code goes to the mobile phone registered for the business (the answer shows it
    masked); asked again within a minute, or too often, 429."""
    secret, client = context.settings.secret_key, deps.client_of(request)
    issued = context.in_transaction(lambda session: service.ask_code(
        session, secret, body.credit_code, client, context.clock.now()))  # fmt: skip
    try:
        context.sms.send(issued.phone, intake.code_message(issued.code))
    except SmsFailed as exc:
        raise Unavailable(f"the code could not be sent: {exc}; try again shortly") from None
    return BusinessCodeSent(phone_hint=issued.phone_hint,
                            expires_in=int(intake.CODE_TTL.total_seconds()),
                            resend_after=int(intake.RESEND_AFTER.total_seconds()))  # fmt: skip


@public.post("/business/token", response_model=BusinessTokenRead,
             summary="Sign a business in with the code sent to its phone")  # fmt: skip
def business_sign_in(body: BusinessTokenIn, context: ContextDep) -> BusinessTokenRead:
    """A token for this business only, good for 30 minutes: send it as `X-Business-Token`."""
    with context.read_sessions() as session:
        phone = service.phone_of(session, body.credit_code)
    deps.spend_check(context, phone, body.code)
    secret = context.settings.secret_key

    def work(session: Session) -> BusinessTokenRead:
        now = context.clock.now()
        done = service.sign_in(session, secret, body.credit_code, body.code, now)
        b = done.business
        return BusinessTokenRead(
            access_token=done.token, expires_in=int(tokens.TTL.total_seconds()),
            expires_at=done.expires_at,
            business=BusinessRef(id=b.id, name=b.name, credit_code=b.credit_code,
                                 type_name=b.type.name, address=b.address),
        )  # fmt: skip

    return context.in_transaction(work)


# -- the business's own -------------------------------------------------------------------------


def _today(context: Context) -> date:
    return context.clock.now().astimezone(ZoneInfo(context.settings.timezone)).date()


@public.get("/business/me", response_model=BusinessOverview,
            summary="The signed-in business's notices, decisions and visits")  # fmt: skip
def business_overview(
    claims: deps.BusinessDep, uow: UowDep, context: ContextDep
) -> BusinessOverview:
    """Its rectification notices with each line's deadline and the days left, the proof it
    sent; its penalty decisions with the fine, the payment deadline and any late fee; the
    visits it has had. Only its own: the token names one business."""
    business = service.business_of(uow.session, claims)
    return service.overview(uow.session, business, _today(context))


@public.get(
    "/business/documents/{document_id}.pdf", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="A document addressed to the signed-in business, as a PDF",
)  # fmt: skip
def business_document(
    document_id: int, claims: deps.BusinessDep, uow: UowDep, context: ContextDep
) -> Response:
    """The rectification notice or penalty decision as issued (checked against its
    checksum); another business's document is a 404."""
    business = service.business_of(uow.session, claims)
    row = service.document_of(uow.session, business, document_id)
    data = documents.open_pdf(context.storage, row)
    name = quote(documents_api.filename(row))
    disposition = f"inline; filename=\"{row.kind}-{row.id}.pdf\"; filename*=UTF-8''{name}"
    return Response(data, media_type=documents.PDF, headers={"Content-Disposition": disposition})


@public.post("/business/notices/{notice_id}/proof", status_code=201,
             response_model=ProofAccepted,
             summary="Send proof of rectification (multipart: photos and a note)")  # fmt: skip
async def business_proof(
    notice_id: int, request: Request, response: Response, claims: deps.BusinessDep,
    context: ContextDep, idempotency_key: deps.IdempotencyKey = None,
) -> ProofAccepted:  # fmt: skip
    """Up to three `photos` (JPEG, PNG or WebP) and a `note` saying what was corrected, for
    the business's own notice once served; the inspection then awaits re-inspection."""
    fields, photos = await deps.read_form(request, context.settings.max_upload_bytes)
    sent = deps.validated(ProofIn, fields)
    return await run_in_threadpool(_prove, context, claims, notice_id, sent, photos,
                                   idempotency_key, response)  # fmt: skip


def _prove(
    context: Context,
    claims: tokens.BusinessClaims,
    notice_id: int,
    sent: ProofIn,
    photos: list[Picture],
    key: str | None,
    response: Response,
) -> ProofAccepted:
    intake.check_photos(photos, context.settings.max_upload_bytes)

    def work(session: Session) -> ProofAccepted:
        business = service.business_of(session, claims)
        accepted, repeat = service.prove(
            session, context.storage, business, notice_id, note=sent.note or "",
            photos=photos, max_photo_bytes=context.settings.max_upload_bytes,
            request_key=key, now=context.clock.now(),
        )  # fmt: skip
        if repeat:
            response.status_code = 200
        return accepted

    return context.in_transaction(work)
