"""What the citizens' context reads: services, requests, the cases residents follow, their
call-backs, phone codes and the vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseAttachment, CaseStep
from cityops.cases.workflow import OPEN_STATES, Action
from cityops.citizens.models import (
    CitizenCallback,
    CitizenRequest,
    CitizenService,
    PhoneCode,
    VocabularyTerm,
)
from cityops.ingest.models import SourceEvent
from cityops.org.models import Department

CHUNK = 500


def active_services(session: Session) -> list[CitizenService]:
    """The services residents may report under, in the order they are offered."""
    return list(session.scalars(
        select(CitizenService).where(CitizenService.active.is_(True))
        .order_by(CitizenService.position, CitizenService.code)
    ))  # fmt: skip


def request_by_external_id(
    session: Session, source: str, external_id: str
) -> CitizenRequest | None:
    return session.scalar(
        select(CitizenRequest)
        .join(SourceEvent, SourceEvent.id == CitizenRequest.event_id)
        .where(SourceEvent.source == source, SourceEvent.external_id == external_id)
    )


def request_by_token(session: Session, token: str) -> CitizenRequest | None:
    return session.scalar(select(CitizenRequest).where(CitizenRequest.token == token))


@dataclass(frozen=True)
class Found:
    """A case as residents see it: its service, the unit handling it, a resident's photo."""

    case: Case
    service: CitizenService
    agency: str | None
    media_url: str | None


def cases_for_residents(
    session: Session,
    services_by_class: dict[str, CitizenService],
    *,
    ids: Sequence[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    states: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Found]:
    """Cases of the services' classes: those of `ids` (in that order), else those reported
    in [start, end] in `states`, newest first, at most `limit`."""
    if not services_by_class:
        return []
    query = (
        select(Case, Department.name)
        .outerjoin(Department, Department.id == Case.department_id)
        .where(Case.class_code.in_(sorted(services_by_class)))
    )
    if ids is not None:
        rows: list[Any] = []
        wanted = list(dict.fromkeys(ids))
        for i in range(0, len(wanted), CHUNK):
            rows += session.execute(query.where(Case.id.in_(wanted[i : i + CHUNK]))).all()
        order = {case_id: n for n, case_id in enumerate(wanted)}
        rows.sort(key=lambda r: order[r[0].id])
    else:
        if start is not None:
            query = query.where(Case.reported_at >= start)
        if end is not None:
            query = query.where(Case.reported_at <= end)
        if states is not None:
            query = query.where(Case.state.in_(states))
        query = query.order_by(Case.reported_at.desc(), Case.id.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = list(session.execute(query).all())
    photos = _photos(session, [case.id for case, _ in rows])
    return [
        Found(case, services_by_class[case.class_code or ""], agency, photos.get(case.id))
        for case, agency in rows
    ]


def _photos(session: Session, case_ids: list[int]) -> dict[int, str]:
    """Each case's first photo a resident sent with a request."""
    found: dict[int, str] = {}
    for i in range(0, len(case_ids), CHUNK):
        for case_id, url in session.execute(
            select(CitizenRequest.case_id, CitizenRequest.media_url)
            .where(CitizenRequest.case_id.in_(case_ids[i : i + CHUNK]),
                   CitizenRequest.media_url.is_not(None))
            .order_by(CitizenRequest.id)
        ):  # fmt: skip
            if case_id is not None and url is not None:
                found.setdefault(case_id, url)
    return found


def resident_updates(session: Session, case_id: int) -> list[CaseStep]:
    """The residents' notes on a case (follow-ups through the updates extension)."""
    steps = session.scalars(
        select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.action == Action.NOTE.value)
    )
    return [s for s in steps if s.data.get("public")]


def steps_between(
    session: Session, classes: set[str], start: datetime, end: datetime, *, limit: int
) -> list[tuple[CaseStep, Case]]:
    """Steps that changed a case's state, and notes, of cases of `classes`, taken in
    [start, end], oldest first."""
    if not classes:
        return []
    rows = session.execute(
        select(CaseStep, Case)
        .join(Case, Case.id == CaseStep.case_id)
        .where(
            Case.class_code.in_(sorted(classes)),
            CaseStep.at >= start,
            CaseStep.at <= end,
            or_(
                CaseStep.from_state.is_(None),
                CaseStep.from_state != CaseStep.to_state,
                CaseStep.action == Action.NOTE.value,
            ),
        )
        .order_by(CaseStep.at, CaseStep.id)
        .limit(limit)
    )
    return [(step, case) for step, case in rows]


def closed_case_texts(session: Session, *, per_class: int) -> list[tuple[str, str]]:
    """(class, description) of the most recent closed cases, at most `per_class` a class;
    only those reported by people (a camera's or a sensor's words teach nothing of how
    residents write)."""
    rows = session.execute(
        select(Case.class_code, Case.description)
        .where(
            Case.state.in_(["closed", "evaluated"]),
            Case.class_code.is_not(None),
            Case.source_kind.in_(["citizen", "hotline", "inspector", "grid_worker"]),
        )
        .order_by(Case.closed_at.desc())
        .limit(per_class * 200)
    )
    taken: dict[str, int] = {}
    texts = []
    for code, description in rows:
        if code is None or not description or taken.get(code, 0) >= per_class:
            continue
        taken[code] = taken.get(code, 0) + 1
        texts.append((code, description))
    return texts


def requests_of_case(session: Session, case_id: int) -> list[CitizenRequest]:
    return list(session.scalars(
        select(CitizenRequest).where(CitizenRequest.case_id == case_id)
        .order_by(CitizenRequest.id)
    ))  # fmt: skip


def open_cases_around(
    session: Session, lon: float, lat: float, *, margin_deg: float, since: datetime, limit: int
) -> list[Case]:
    """Open cases reported since `since` within a box of `margin_deg` around a point, of
    any class: the candidates a report may be about."""
    return list(session.scalars(
        select(Case)
        .where(
            Case.state.in_(sorted(s.value for s in OPEN_STATES)),
            Case.lon.between(lon - margin_deg, lon + margin_deg),
            Case.lat.between(lat - margin_deg, lat + margin_deg),
            Case.created_at >= since,
        )
        .order_by(Case.created_at.desc())
        .limit(limit)
    ))  # fmt: skip


def state_steps(session: Session, case_id: int) -> list[CaseStep]:
    """The steps that moved the case, and the notes, oldest first."""
    return list(session.scalars(
        select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.seq)
    ))  # fmt: skip


def callbacks_of(session: Session, request_ids: Sequence[int]) -> dict[int, list[CitizenCallback]]:
    found: dict[int, list[CitizenCallback]] = {}
    for i in range(0, len(request_ids), CHUNK):
        for row in session.scalars(
            select(CitizenCallback)
            .where(CitizenCallback.request_id.in_(request_ids[i : i + CHUNK]))
            .order_by(CitizenCallback.id)
        ):
            found.setdefault(row.request_id, []).append(row)
    return found


def callbacks_due(session: Session, *, limit: int) -> list[tuple[CitizenRequest, Case]]:
    """Closed requests with a phone to call, no call-back yet and no rating of the
    resident's own, the longest closed first."""
    called = select(CitizenCallback.request_id)
    return [(r, c) for r, c in session.execute(
        select(CitizenRequest, Case)
        .join(Case, Case.id == CitizenRequest.case_id)
        .where(
            Case.state.in_(["closed", "evaluated"]),
            CitizenRequest.phone.is_not(None),
            CitizenRequest.rating.is_(None),
            CitizenRequest.id.not_in(called),
        )
        .order_by(Case.closed_at, CitizenRequest.id)
        .limit(limit)
    )]  # fmt: skip


def phone_codes_since(session: Session, phone: str, since: datetime) -> list[PhoneCode]:
    return list(session.scalars(
        select(PhoneCode).where(PhoneCode.phone == phone, PhoneCode.created_at >= since)
        .order_by(PhoneCode.created_at.desc())
    ))  # fmt: skip


def codes_from_client_since(session: Session, client: str, since: datetime) -> int:
    return len(session.scalars(
        select(PhoneCode.id).where(PhoneCode.client == client, PhoneCode.created_at >= since)
    ).all())  # fmt: skip


def vocabulary_terms(session: Session, class_code: str | None = None) -> list[VocabularyTerm]:
    query = select(VocabularyTerm).order_by(VocabularyTerm.class_code, VocabularyTerm.id)
    if class_code is not None:
        query = query.where(VocabularyTerm.class_code == class_code)
    return list(session.scalars(query))


def attachments(session: Session, ids: Sequence[int]) -> list[CaseAttachment]:
    if not ids:
        return []
    rows = {a.id: a for a in session.scalars(
        select(CaseAttachment).where(CaseAttachment.id.in_(list(ids))))}  # fmt: skip
    return [rows[i] for i in ids if i in rows]
