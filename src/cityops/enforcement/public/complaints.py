"""Complaints about enforcement conduct (执法投诉): taken in from anyone, with a ticket to
follow them by; listed for the enforcement supervisors (执法监督人员), who take them up and
answer. The answer reaches the complainant by the ticket and, when they proved a phone, by
SMS after the commit.

Everything runs in the caller's transaction; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.service import Picture
from cityops.citizens.intake import check_photos, new_ticket, normalise_ticket
from cityops.enforcement.public import repository
from cityops.enforcement.public.models import COMPLAINT_STATE_NAMES_ZH, Complaint, ComplaintState
from cityops.enforcement.public.schemas import (
    AgencyRef,
    ComplaintIn,
    ComplaintRead,
    ComplaintTrack,
    OfficerRef,
    PhotoLink,
)
from cityops.enforcement.registries.models import Agency
from cityops.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound, TooManyRequests
from cityops.kit.privacy import mask_personal
from cityops.kit.storage import BlobStorage, new_key

SUPERVISOR_ROLES = ("enforcement_supervisor", "admin")
# One address sending more than this in an hour is someone's script, not a citizen.
COMPLAINTS_PER_CLIENT_HOUR = 10
# A phone's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Submitted:
    complaint: Complaint
    repeat: bool  # the same idempotency key was sent before: nothing new was written


def submit(
    session: Session,
    storage: BlobStorage,
    sent: ComplaintIn,
    photos: list[Picture],
    *,
    phone_verified: bool,
    client: str,
    request_key: str | None,
    max_photo_bytes: int,
    now: datetime,
) -> Submitted:
    """Take in a complaint: checked whole before anything is stored (one bad field or photo
    refuses it all, naming the field), the certificate number matched against the officer
    registry, the photos stored, a ticket given."""
    if request_key is not None:
        earlier = repository.complaint_by_key(session, request_key)
        if earlier is not None:
            return Submitted(earlier, repeat=True)
    if (
        client
        and repository.complaints_from_client_since(session, client, now - timedelta(hours=1))
        >= COMPLAINTS_PER_CLIENT_HOUR
    ):
        raise TooManyRequests("too many complaints from this address; try again in an hour")
    if sent.happened_at > now + CLOCK_SKEW:
        raise Invalid("happened_at: in the future",
                      errors=[FieldProblem("happened_at", "not after now")])  # fmt: skip
    check_photos(photos, max_photo_bytes)
    agency_id = sent.agency_id
    if agency_id is not None:
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise Invalid(f"agency_id: no agency {agency_id}",
                          errors=[FieldProblem("agency_id", "no such agency")])  # fmt: skip
    certificate = (sent.certificate_number or "").strip().upper()
    officer = repository.officer_by_certificate(session, certificate) if certificate else None
    if officer is not None and agency_id is None:
        agency_id = officer.agency_id
    stored = []
    for n, picture in enumerate(photos):
        assert isinstance(picture.data, bytes)
        blob = storage.put(new_key("complaints", picture.filename or f"{n}.jpg"),
                           picture.data, picture.content_type)  # fmt: skip
        stored.append({"key": blob.key, "content_type": picture.content_type,
                       "size": blob.size, "sha256": blob.sha256,
                       "filename": (picture.filename or f"photo-{n}")[:200]})  # fmt: skip
    complaint = Complaint(
        ticket=new_ticket(), state=ComplaintState.RECEIVED, what=sent.what,
        agency_id=agency_id, officer_name=sent.officer_name or "",
        certificate_number=certificate, officer_id=officer.id if officer else None,
        happened_at=sent.happened_at, place=sent.place, name=sent.name or None,
        phone=sent.phone or None, phone_verified=phone_verified and bool(sent.phone),
        photos=stored, client=client[:64], request_key=request_key, created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(complaint)
    session.flush()
    return Submitted(complaint, repeat=False)


def by_ticket(session: Session, ticket: str) -> Complaint:
    """The complaint a ticket names, as typed (any case, spaces or dashes)."""
    found = repository.complaint_by_ticket(session, normalise_ticket(ticket))
    if found is None:
        raise NotFound("no complaint with this ticket; check it and try again")
    return found


def _supervisor(principal: Principal) -> None:
    if not principal.has_role(*SUPERVISOR_ROLES):
        raise Forbidden(f"this needs one of the roles: {', '.join(SUPERVISOR_ROLES)}")


def get(session: Session, principal: Principal, complaint_id: int) -> Complaint:
    """One complaint, for the enforcement supervisors."""
    _supervisor(principal)
    found = session.get(Complaint, complaint_id)
    if found is None:
        raise NotFound(f"no complaint {complaint_id}")
    return found


def _snapshot(c: Complaint) -> dict[str, object]:
    return {"state": c.state, "handler_id": c.handler_id, "answer": c.answer}


def take(session: Session, principal: Principal, complaint_id: int, *, now: datetime) -> Complaint:
    """A supervisor takes the complaint up (办理): it is theirs and shows as being handled."""
    complaint = get(session, principal, complaint_id)
    if complaint.state == ComplaintState.ANSWERED:
        raise Conflict("the complaint is answered already", state=complaint.state, allowed=[])
    before = _snapshot(complaint)
    complaint.state = ComplaintState.HANDLING
    complaint.handler_id = principal.actor.id
    complaint.taken_at = now
    complaint.updated_at = now
    record_audit(session, principal, "complaint.take", "enforcement_complaint", complaint.id,
                 now=now, before=before, after=_snapshot(complaint))  # fmt: skip
    session.flush()
    return complaint


def answer(
    session: Session, principal: Principal, complaint_id: int, text: str, *, now: datetime
) -> Complaint:
    """The supervisors' answer to the complainant (答复): what was found and done. Given
    once; the caller sends it by SMS after the commit to a proven phone."""
    complaint = get(session, principal, complaint_id)
    if complaint.state == ComplaintState.ANSWERED:
        raise Conflict("the complaint is answered already", state=complaint.state, allowed=[])
    before = _snapshot(complaint)
    complaint.state = ComplaintState.ANSWERED
    complaint.answer = text
    complaint.answered_at = now
    complaint.answered_by = principal.actor.id
    complaint.handler_id = complaint.handler_id or principal.actor.id
    complaint.updated_at = now
    record_audit(session, principal, "complaint.answer", "enforcement_complaint", complaint.id,
                 now=now, before=before, after=_snapshot(complaint))  # fmt: skip
    session.flush()
    return complaint


def answer_message(complaint: Complaint) -> str:
    """The text message that tells a complainant there is an answer."""
    return (f"【城市运行和治理中心】您反映的执法问题（编号 {complaint.ticket}）已有答复，"
            f"请凭编号在“执法公开”页面查询。")  # fmt: skip


# -- what each side reads ------------------------------------------------------------------


def public_photo_url(complaint: Complaint, n: int) -> str:
    return f"/api/v1/public/enforcement/complaints/{complaint.ticket}/photos/{n}"


def staff_photo_url(complaint: Complaint, n: int) -> str:
    return f"/api/v1/enforcement/complaints/{complaint.id}/photos/{n}"


def track_read(session: Session, complaint: Complaint) -> ComplaintTrack:
    """What anyone holding the ticket sees: the complaint without name or phone, personal
    numbers in the text masked, and the answer once given."""
    agency = session.get(Agency, complaint.agency_id) if complaint.agency_id else None
    answered = complaint.state == ComplaintState.ANSWERED
    return ComplaintTrack(
        ticket=complaint.ticket, state=complaint.state,
        state_name=COMPLAINT_STATE_NAMES_ZH[complaint.state], what=mask_personal(complaint.what),
        agency_name=agency.name if agency else None, officer_name=complaint.officer_name,
        happened_at=complaint.happened_at, place=complaint.place,
        created_at=complaint.created_at,
        photos=[PhotoLink(url=public_photo_url(complaint, n), content_type=p["content_type"],
                          size=p["size"]) for n, p in enumerate(complaint.photos)],
        answer=complaint.answer if answered else None,
        answered_at=complaint.answered_at if answered else None,
    )  # fmt: skip


def staff_reads(session: Session, rows: Sequence[Complaint]) -> list[ComplaintRead]:
    """Complaints for the supervisors, with the names of agencies, officers and people."""
    agencies = repository.agencies_by_id(session, {r.agency_id for r in rows if r.agency_id})
    officers = repository.officers_by_id(session, {r.officer_id for r in rows if r.officer_id})
    agencies |= repository.agencies_by_id(session, {o.agency_id for o in officers.values()})
    acting = {p for r in rows for p in (r.handler_id, r.answered_by) if p}
    people = repository.people_names(session, acting)

    def officer_ref(officer_id: int | None) -> OfficerRef | None:
        o = officers.get(officer_id) if officer_id else None
        if o is None:
            return None
        return OfficerRef(
            id=o.id, name=o.name, certificate_number=o.certificate_number,
            agency_id=o.agency_id, agency_name=agencies[o.agency_id].name,
        )  # fmt: skip

    def agency_ref(agency_id: int | None) -> AgencyRef | None:
        a = agencies.get(agency_id) if agency_id else None
        return AgencyRef(id=a.id, name=a.name, kind=a.kind, kind_name=a.kind_name) if a else None

    return [ComplaintRead(
        id=r.id, ticket=r.ticket, state=r.state, state_name=COMPLAINT_STATE_NAMES_ZH[r.state],
        what=r.what, agency=agency_ref(r.agency_id), officer_name=r.officer_name,
        certificate_number=r.certificate_number, officer=officer_ref(r.officer_id),
        certificate_found=(r.officer_id is not None) if r.certificate_number else None,
        happened_at=r.happened_at, place=r.place, name=r.name, phone=r.phone,
        phone_verified=r.phone_verified,
        photos=[PhotoLink(url=staff_photo_url(r, n), content_type=p["content_type"],
                          size=p["size"]) for n, p in enumerate(r.photos)],
        created_at=r.created_at, updated_at=r.updated_at, handler_id=r.handler_id,
        handler_name=people.get(r.handler_id) if r.handler_id else None, taken_at=r.taken_at,
        answer=r.answer, answered_at=r.answered_at, answered_by=r.answered_by,
        answered_by_name=people.get(r.answered_by) if r.answered_by else None,
        flag_id=r.flag_id,
    ) for r in rows]  # fmt: skip


def photo(complaint: Complaint, n: int) -> dict[str, object]:
    """The complaint's `n`-th photo (from 0) as stored."""
    if not 0 <= n < len(complaint.photos):
        raise NotFound(f"the complaint has no photo {n}")
    return complaint.photos[n]
