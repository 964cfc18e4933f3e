"""Every query on case tables, and the few reads of other contexts that intake needs in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseAttachment, CaseStep
from cityops.cases.workflow import OPEN_STATES, State
from cityops.ingest.models import SourceEvent
from cityops.org.models import DutyAssignment, Role

# SQLite allows at most 32,766 bound parameters in one statement; stay well below.
CHUNK = 400
# Up to this many points, merge candidates are looked up around each point.
NEAR_EACH_POINT = 64


def find_source_events(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[SourceEvent, str | None]]:
    """Events already recorded under these (source, external_id) keys, with their case state."""
    found: dict[tuple[str, str], tuple[SourceEvent, str | None]] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        rows = session.execute(
            select(SourceEvent, Case.state)
            .outerjoin(Case, Case.id == SourceEvent.case_id)
            .where(tuple_(SourceEvent.source, SourceEvent.external_id).in_(chunk))
        ).all()
        for event, state in rows:
            found[(event.source, event.external_id)] = (event, state)
    return found


def open_cases_near(
    session: Session,
    class_codes: Iterable[str],
    *,
    since: datetime,
    lons: Sequence[float],
    lats: Sequence[float],
    margin_deg: float,
) -> list[Any]:
    """Open cases of these classes opened since `since` within the points' box plus a margin."""
    return list(
        session.execute(
            select(Case.id, Case.class_code, Case.lon, Case.lat, Case.created_at, Case.state).where(
                Case.class_code.in_(sorted(class_codes)),
                Case.state.in_(sorted(OPEN_STATES)),
                Case.created_at >= since,
                Case.lon.between(min(lons) - margin_deg, max(lons) + margin_deg),
                Case.lat.between(min(lats) - margin_deg, max(lats) + margin_deg),
            )
        ).all()
    )


def grid_workers_on_duty(
    session: Session, grid_codes: set[str], *, at: datetime
) -> dict[str, tuple[int, str]]:
    """The grid worker covering each grid at `at` (the latest assignment wins): id and name."""
    from cityops.org.models import Person

    found: dict[str, tuple[int, str]] = {}
    codes = sorted(grid_codes)
    for i in range(0, len(codes), CHUNK):
        rows = session.execute(
            select(DutyAssignment.grid_code, Person.id, Person.name)
            .join(Person, Person.id == DutyAssignment.person_id)
            .where(
                DutyAssignment.grid_code.in_(codes[i : i + CHUNK]),
                DutyAssignment.role == Role.GRID_WORKER.value,
                DutyAssignment.starts_at <= at,
                or_(DutyAssignment.ends_at.is_(None), DutyAssignment.ends_at > at),
                Person.active.is_(True),
            )
            .order_by(DutyAssignment.starts_at, DutyAssignment.id)
        ).all()
        for grid, person_id, name in rows:
            found[grid] = (person_id, name)
    return found


def get_for_update(session: Session, case_id: int) -> Case | None:
    """The case, locked for the rest of the transaction on PostgreSQL.

    SQLite needs no row lock: every write transaction begins IMMEDIATE and so holds the
    database's write lock already.
    """
    return session.scalar(select(Case).where(Case.id == case_id).with_for_update())


def steps_of(session: Session, case_id: int) -> list[CaseStep]:
    return list(
        session.scalars(select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.seq))
    )


def last_seq(session: Session, case_id: int) -> int:
    return int(
        session.scalar(select(func.max(CaseStep.seq)).where(CaseStep.case_id == case_id)) or 0
    )


def attachments_of(session: Session, case_id: int) -> list[CaseAttachment]:
    return list(
        session.scalars(
            select(CaseAttachment)
            .where(CaseAttachment.case_id == case_id)
            .order_by(CaseAttachment.id)
        )
    )


def overdue_candidates(session: Session, now: datetime, limit: int = 1000) -> list[Case]:
    """Open cases whose running stage passed its deadline and that are not yet marked."""
    return list(
        session.scalars(
            select(Case)
            .where(
                Case.state.in_(sorted(OPEN_STATES - {State.DEFERRED})),
                Case.stage_due_at < now,
                Case.overdue.is_(False),
            )
            .order_by(Case.stage_due_at)
            .limit(limit)
            # Several processes may sweep at once; each takes the rows no other holds.
            .with_for_update(skip_locked=True)
        )
    )


def visible_filter(
    *,
    is_admin: bool,
    person_id: int | None,
    scope_code: str | None,
    department_id: int | None,
    region_roles: bool,
) -> Any:
    """The WHERE clause of what a person may see (mirrors workflow.can_see)."""
    if is_admin:
        return true()
    clauses = []
    if person_id is not None:
        clauses += [Case.assignee_id == person_id, Case.reporter_id == person_id]
    if department_id is not None:
        clauses.append(Case.department_id == department_id)
    if region_roles and scope_code:
        clauses.append(Case.region_code.startswith(scope_code, autoescape=True))
    return or_(*clauses) if clauses else false()


def apply_filters(query: Select[Any], **filters: Any) -> Select[Any]:
    """Narrow a case query by the filters of `CaseFilter` (None means: not filtered)."""
    f = filters
    if f.get("state"):
        query = query.where(Case.state.in_(f["state"]))
    if f.get("class_code"):
        query = query.where(Case.class_code.in_(f["class_code"]))
    if f.get("region"):
        query = query.where(Case.region_code.startswith(f["region"], autoescape=True))
    if f.get("department_id") is not None:
        query = query.where(Case.department_id == f["department_id"])
    if f.get("assignee_id") is not None:
        query = query.where(Case.assignee_id == f["assignee_id"])
    if f.get("overdue") is not None:
        query = query.where(Case.overdue.is_(f["overdue"]))
    if f.get("needs_placement") is not None:
        query = query.where(Case.needs_placement.is_(f["needs_placement"]))
    if f.get("source_kind"):
        query = query.where(Case.source_kind.in_(f["source_kind"]))
    if f.get("created_from") is not None:
        query = query.where(Case.created_at >= f["created_from"])
    if f.get("created_to") is not None:
        query = query.where(Case.created_at < f["created_to"])
    if f.get("text"):
        pattern = f"%{f['text']}%"
        query = query.where(or_(Case.description.ilike(pattern), Case.address.ilike(pattern)))
    return query
