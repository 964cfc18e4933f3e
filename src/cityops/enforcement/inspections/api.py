"""`/api/v1/enforcement/inspections`: visits (one business, one or several agencies) from
invitation to closing — invitations and answers, the time, start, findings with photos,
finish, the combined rectification notice, proof, re-inspection.

Every route needs a person's login. Officers and leads act for the agencies of their
officer rows and see the visits those agencies take part in; supervisors and admins see
all. Every write is audited. Plans are under `/enforcement/plans` (plans_api)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile

from cityops.cases.service import Picture
from cityops.citizens.intake import photo_type
from cityops.deps import ContextDep, NowDep, PersonDep, UowDep
from cityops.enforcement.documents import service as documents
from cityops.enforcement.inspections import (
    access,
    joint,
    onsite,
    reads,
    records_api,
    rectification,
    repository,
    service,
    unplanned,
)
from cityops.enforcement.inspections.models import FindingOutcome, InspectionState
from cityops.enforcement.inspections.schemas import (
    AcceptIn,
    FindingIn,
    FindingRead,
    InspectionCreate,
    InspectionDetail,
    InspectionRow,
    InvitationsIn,
    NoticeIn,
    ProposedAgencyRead,
    ReasonIn,
    ReinspectionIn,
    ScheduleIn,
    ServeIn,
)
from cityops.errors import BadRequest, Conflict
from cityops.kit.bus import UnitOfWork
from cityops.kit.pagination import Page, PageParams, paginate
from cityops.kit.schemas import REQUEST_KEY_MAX_LENGTH, REQUEST_KEY_PATTERN

router = APIRouter(prefix="/enforcement/inspections", tags=["enforcement"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=REQUEST_KEY_MAX_LENGTH,
        pattern=REQUEST_KEY_PATTERN,
        description="A key of the sender's (e.g. a UUID): sent again by the same person, the "
        "request is answered (200) with what the first one made",
    ),
]
Photos = Annotated[list[UploadFile] | None, File(description="JPEG, PNG or WebP, at most 3")]


def detail(uow: UnitOfWork, inspection_id: int) -> InspectionDetail:
    """The visit as it is after the route's commit."""
    return reads.inspection_detail(uow.session, service.get_inspection(uow.session, inspection_id))


def pictures(uploads: list[UploadFile] | None, limit: int) -> list[Picture]:
    """The uploaded photos, each read up to one byte over the limit (the check says so)."""
    found = []
    for n, upload in enumerate(uploads or []):
        data = upload.file.read(limit + 1)
        if not data:
            raise BadRequest.at(f"photos.{n}", "an empty file")
        kind = photo_type(data) or "application/octet-stream"
        found.append(Picture(data, upload.filename or f"photo-{n}.jpg", kind))
    return found


@router.get("", summary="Inspections (监督检查) of your agencies, or all for supervisors")
def list_inspections(
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    state: Annotated[list[InspectionState] | None, Query(description="any of; repeat")] = None,
    mine: Annotated[
        bool,
        Query(description="only those you are on, or your agencies are invited to or accepted"),
    ] = False,
    plan_id: int | None = None,
    business_id: int | None = None,
    agency_id: Annotated[int | None, Query(description="an agency on the visit")] = None,
    scheduled_from: datetime | None = None,
    scheduled_until: datetime | None = None,
) -> Page[InspectionRow]:
    """Visits by state, plan, business, agency and time, newest first, each with its
    agencies (their answers) and officers."""
    who = access.acting(uow.session, caller.actor)
    query = repository.inspections_query(
        states=[s.value for s in state or ()],
        plan_id=plan_id,
        business_id=business_id,
        agency_id=agency_id,
        agency_ids=who.scope,
        scheduled_from=scheduled_from,
        scheduled_until=scheduled_until,
        mine=(who.officer_ids, who.agency_ids) if mine else None,
    )
    rows, total = paginate(uow.session, query, page)
    items = reads.inspection_rows(uow.session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, summary="An inspection without a plan (complaint, referral…)")
def create_inspection(
    body: InspectionCreate, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """On a complaint or a referral (which need no plan) or met on patrol: your agency's
    visit with its officers, ready to start at its time."""
    inspection = unplanned.create(uow.session, caller.actor, body, now=now)
    uow.commit()
    return detail(uow, inspection.id)


@router.get("/{inspection_id}", summary="One inspection with its checklist and findings")
def get_inspection(inspection_id: int, uow: UowDep, caller: PersonDep) -> InspectionDetail:
    """The visit, its agencies and officers, the merged checklist, findings and notice."""
    who = access.acting(uow.session, caller.actor)
    return reads.inspection_detail(
        uow.session, service.visible_inspection(uow.session, who, inspection_id)
    )


@router.get("/{inspection_id}/proposed-agencies", summary="Agencies to invite (综合查一次)")
def proposed_agencies(
    inspection_id: int, uow: UowDep, caller: PersonDep
) -> list[ProposedAgencyRead]:
    """The agencies that enforce the business type's items in its street, with those items."""
    who = access.acting(uow.session, caller.actor)
    inspection = service.visible_inspection(uow.session, who, inspection_id)
    return reads.proposed_agencies(uow.session, inspection)


@router.put("/{inspection_id}/agencies", summary="Set the invited agencies")
def set_agencies(
    inspection_id: int, body: InvitationsIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """Invite exactly these agencies (the lead agency, before the visit starts)."""
    joint.set_invitations(uow.session, caller.actor, inspection_id, body.agency_ids, now=now)
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/agencies/{agency_id}/accept", summary="Accept an invitation")
def accept(
    inspection_id: int,
    agency_id: int,
    body: AcceptIn,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
) -> InspectionDetail:
    """Your agency takes part with these officers (at least two, certified, checked)."""
    joint.accept(
        uow.session, caller.actor, inspection_id, agency_id, officer_ids=body.officer_ids, now=now
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/agencies/{agency_id}/decline", summary="Decline an invitation")
def decline(
    inspection_id: int,
    agency_id: int,
    body: ReasonIn,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
) -> InspectionDetail:
    """Your agency does not take part; the reason is required."""
    joint.decline(uow.session, caller.actor, inspection_id, agency_id, reason=body.reason, now=now)
    uow.commit()
    return detail(uow, inspection_id)


@router.put("/{inspection_id}/schedule", summary="Set the time and place")
def schedule(
    inspection_id: int, body: ScheduleIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """The lead agency sets (or moves) the visit's time within its plan's period."""
    joint.schedule(
        uow.session,
        caller.actor,
        inspection_id,
        scheduled_at=body.scheduled_at,
        place=body.place,
        now=now,
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/start", summary="Start on site")
def start(inspection_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> InspectionDetail:
    """An officer on the visit starts it; unanswered invitations count as declined."""
    onsite.start(uow.session, caller.actor, inspection_id, now=now)
    uow.commit()
    return detail(uow, inspection_id)


@router.post(
    "/{inspection_id}/findings",
    status_code=201,
    summary="Record a finding with photos (multipart)",
    responses={200: {"description": "A correction of the point's result, or a resend"}},
)
def record_finding(
    inspection_id: int,
    response: Response,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
    outcome: Annotated[FindingOutcome, Form()],
    checklist_item_id: Annotated[int | None, Form(description="a point of the checklist")] = None,
    item_id: Annotated[int | None, Form(description="for a finding outside the checklist")] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
    requirement: Annotated[str, Form(max_length=2000, description="整改要求, if failed")] = "",
    deadline: Annotated[date | None, Form(description="整改期限, if failed")] = None,
    photos: Photos = None,
    idempotency_key: IdempotencyKey = None,
) -> FindingRead:
    """Your agency's result for a checklist point (pass, fail, not_applicable): a failure
    needs the requirement and a deadline. Recorded again, the point's result is corrected
    and photos are added."""
    body = FindingIn(
        checklist_item_id=checklist_item_id,
        item_id=item_id,
        outcome=outcome,
        note=note,
        requirement=requirement,
        deadline=deadline,
    )
    limit = context.settings.max_upload_bytes
    finding, created = onsite.record(
        uow.session,
        context.storage,
        caller.actor,
        inspection_id,
        body,
        pictures(photos, limit),
        max_photo_bytes=limit,
        now=now,
        request_key=idempotency_key,
    )
    uow.commit()
    if not created:
        response.status_code = 200
    found = detail(uow, inspection_id).findings
    return next(f for f in found if f.id == finding.id)


@router.get("/{inspection_id}/findings/{finding_id}/photos/{n}", summary="A finding's photo")
def finding_photo(
    inspection_id: int,
    finding_id: int,
    n: int,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
) -> Response:
    """The n-th photo (from 0) of a finding."""
    photo = onsite.photo(uow.session, context.storage, caller.actor, inspection_id, finding_id, n)
    return Response(photo.data, media_type=photo.content_type)


@router.post("/{inspection_id}/finish", summary="Finish on site")
def finish(inspection_id: int, uow: UowDep, caller: PersonDep, now: NowDep) -> InspectionDetail:
    """The lead agency's officer finishes once every point has its result: nothing failed
    closes the visit as compliant; a failure waits for the combined notice."""
    onsite.finish(uow.session, caller.actor, inspection_id, now=now)
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/notice", summary="Issue the one combined rectification notice")
def issue_notice(
    inspection_id: int,
    body: NoticeIn,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
) -> InspectionDetail:
    """综合检查整改通知书: every agency's failed findings in one numbered PDF."""
    rectification.issue_notice(
        uow.session, context.storage, caller.actor, inspection_id, contact=body.contact, now=now
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.get("/{inspection_id}/notice.pdf", summary="The combined notice as issued (PDF)")
def notice_pdf(inspection_id: int, context: ContextDep, uow: UowDep, caller: PersonDep) -> Response:
    """For everyone who may see the visit, whichever agency they act for."""
    who = access.acting(uow.session, caller.actor)
    service.visible_inspection(uow.session, who, inspection_id)
    notice = repository.notice(uow.session, inspection_id)
    if notice is None or notice.document_id is None:
        raise Conflict("no notice has been issued for this inspection")
    issued = documents.get_issued(uow.session, notice.document_id)
    return records_api.pdf_response(context.storage, issued)


@router.post("/{inspection_id}/notice/serve", summary="Record the notice served")
def serve_notice(
    inspection_id: int, body: ServeIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """How and when it was served (直接送达 …); the visit then waits for the deadline."""
    rectification.serve_notice(
        uow.session,
        caller.actor,
        inspection_id,
        method=body.method,
        served_at=body.served_at,
        now=now,
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/proof", summary="Proof of rectification (multipart)")
def proof(
    inspection_id: int,
    context: ContextDep,
    uow: UowDep,
    caller: PersonDep,
    now: NowDep,
    note: Annotated[str, Form(max_length=2000)] = "",
    photos: Photos = None,
) -> InspectionDetail:
    """Photos and a note of the rectification, uploaded for the business (the public
    entrance calls the same service for the business itself); the visit is then due for
    re-inspection."""
    limit = context.settings.max_upload_bytes
    rectification.submit_proof(
        uow.session,
        context.storage,
        inspection_id,
        note=note,
        photos=pictures(photos, limit),
        max_photo_bytes=limit,
        now=now,
        actor=caller.actor,
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.post("/{inspection_id}/reinspection", summary="Re-inspect (复查)")
def reinspect(
    inspection_id: int, body: ReinspectionIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """Each failed finding rectified or not: all rectified closes the visit; any not
    escalates it, its findings to become penalty cases."""
    rectification.reinspect(
        uow.session,
        caller.actor,
        inspection_id,
        officer_ids=body.officer_ids,
        results=body.results,
        now=now,
    )
    uow.commit()
    return detail(uow, inspection_id)


@router.get("/{inspection_id}/penalty-findings", summary="Findings to open penalty cases from")
def penalty_findings(inspection_id: int, uow: UowDep, caller: PersonDep) -> list[FindingRead]:
    """The escalated visit's findings not rectified and without a penalty case yet."""
    who = access.acting(uow.session, caller.actor)
    service.visible_inspection(uow.session, who, inspection_id)
    ids = {f.id for f in service.findings_for_penalty(uow.session, inspection_id)}
    return [f for f in detail(uow, inspection_id).findings if f.id in ids]


@router.post("/{inspection_id}/cancel", summary="Cancel a visit not started")
def cancel(
    inspection_id: int, body: ReasonIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> InspectionDetail:
    """The lead agency cancels one visit of a plan (the business closed, say)."""
    joint.cancel(uow.session, caller.actor, inspection_id, reason=body.reason, now=now)
    uow.commit()
    return detail(uow, inspection_id)


# The signatures and on-site records, kept in their own module.
router.include_router(records_api.router)
