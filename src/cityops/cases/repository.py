"""Every query on case tables, and the few reads of other contexts that intake needs in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Select, Text, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseAttachment, CaseStep
from cityops.cases.queues import QUEUES
from cityops.cases.workflow import OPEN_STATES, State
from cityops.kit.bulk import dialect_name, driver_rows, in_marks
from cityops.org.models import DutyAssignment, Role

# SQLite allows at most 32,766 bound parameters in one statement; stay well below.
CHUNK = 400
# Up to this many points, merge candidates are looked up around each point.
NEAR_EACH_POINT = 64


class RecordedEvent(NamedTuple):
    """An event already recorded under its (source, external_id), and its case's state."""

    id: int
    source: str
    external_id: str
    outcome: str
    case_id: int | None
    grid_code: str | None
    case_state: str | None


def find_source_events(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], RecordedEvent]:
    """Events already recorded under these (source, external_id) keys."""
    found: dict[tuple[str, str], RecordedEvent] = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in dict.fromkeys(keys):
        by_source.setdefault(source, []).append(external_id)
    # `source = ? AND external_id IN (...)` seeks the unique index; a row-value IN over
    # both columns makes SQLite scan the whole index, which grows with every event.
    # On PostgreSQL each key of an array is looked up on its own (OFFSET 0 keeps the
    # planner from turning that into a scan of all the source's events, which it does when
    # its statistics lag a bulk load and the table seems small).
    postgres = dialect_name(session) == "postgresql"
    columns = "e.id, e.source, e.external_id, e.outcome, e.case_id, e.grid_code, c.state"
    for source, ids in by_source.items():
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            if postgres:
                sql = (f"SELECT {columns} FROM unnest(CAST(? AS varchar[])) AS k(external_id) "
                       "CROSS JOIN LATERAL (SELECT * FROM source_events WHERE source = ? "
                       "AND external_id = k.external_id OFFSET 0) e "
                       "LEFT JOIN cases c ON c.id = e.case_id")  # fmt: skip
                rows = driver_rows(session, sql, [chunk, source])
            else:
                sql = (f"SELECT {columns} FROM source_events e "
                       "LEFT JOIN cases c ON c.id = e.case_id WHERE e.source = ? "
                       f"AND e.external_id IN ({in_marks(len(chunk))})")  # fmt: skip
                rows = driver_rows(session, sql, [source, *chunk])
            for row in rows:
                event = RecordedEvent(*row)
                found[(event.source, event.external_id)] = event
    return found


def open_cases_near(
    session: Session,
    since: dict[str, datetime],
    points: Sequence[tuple[str, float, float]],
    *,
    margin_deg: float,
) -> dict[str, npt.NDArray[np.float64]]:
    """Open cases that events at `points` (class code, lon, lat) may merge into.

    A candidate has the point's class, lies within `margin_deg` of it and was opened since
    its class's time in `since`. The result maps each class code to an array of rows
    (id, lon, lat): a big batch reads tens of thousands of candidates, and numbers come
    off the driver into one array in C where Python objects would cost a call each.
    A few points are looked up each in its own box, which the (class_code, lat) index
    finds directly, so a lone event does not read every open case of its class; many
    points share one box per class (a big batch needs most candidates anyway).
    """
    if not points:
        return {}
    boxes: list[tuple[str, float, float, float, float]]
    if len(points) <= NEAR_EACH_POINT:
        boxes = [(code, lon, lon, lat, lat) for code, lon, lat in dict.fromkeys(points)]
    else:
        extent: dict[str, tuple[float, float, float, float]] = {}
        for code, lon, lat in points:
            x0, x1, y0, y1 = extent.get(code, (lon, lon, lat, lat))
            extent[code] = (min(x0, lon), max(x1, lon), min(y0, lat), max(y1, lat))
        boxes = [(code, *box) for code, box in extent.items()]
    codes = sorted({code for code, *_ in boxes})
    terms: list[str] = []
    params: list[Any] = []
    for code, x0, x1, y0, y1 in boxes:
        terms.append("(class_code = ? AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? "
                     "AND created_at >= ?)")  # fmt: skip
        params += [code, y0 - margin_deg, y1 + margin_deg, x0 - margin_deg, x1 + margin_deg,
                   since[code]]  # fmt: skip
    states = sorted(OPEN_STATES)
    # The class comes back as its position in `codes`, so that every column is a number.
    which = " ".join(f"WHEN ? THEN {n}" for n in range(len(codes)))
    sql = (
        f"SELECT CASE class_code {which} END, id, lon, lat FROM cases "
        f"WHERE ({' OR '.join(terms)}) AND state IN ({in_marks(len(states))})"
    )
    rows = driver_rows(session, sql, [*codes, *params, *states])
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return {code: table[table[:, 0] == n, 1:] for n, code in enumerate(codes)}


def states_of(session: Session, case_ids: Sequence[int]) -> dict[int, str]:
    """The current state of each case."""
    if dialect_name(session) == "postgresql":  # one array instead of a statement a chunk
        sql = "SELECT id, state FROM cases WHERE id = ANY(CAST(? AS bigint[]))"
        return dict(driver_rows(session, sql, [list(case_ids)]))
    found: dict[int, str] = {}
    for i in range(0, len(case_ids), CHUNK):
        chunk = case_ids[i : i + CHUNK]
        sql = f"SELECT id, state FROM cases WHERE id IN ({in_marks(len(chunk))})"
        found.update(driver_rows(session, sql, chunk))
    return found


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


def last_seqs(session: Session, case_ids: set[int]) -> dict[int, int]:
    """The number of each case's latest step (a case with none is left out)."""
    found: dict[int, int] = {}
    ids = sorted(case_ids)
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(CaseStep.case_id, func.max(CaseStep.seq))
            .where(CaseStep.case_id.in_(ids[i : i + CHUNK]))
            .group_by(CaseStep.case_id)
        )
        found.update((case_id, int(seq)) for case_id, seq in rows)
    return found


def step_with_request_key(session: Session, case_id: int, request_key: str) -> CaseStep | None:
    """The step of the case taken by the request with this idempotency key, if any."""
    return session.scalar(
        select(CaseStep).where(CaseStep.case_id == case_id, CaseStep.request_key == request_key)
    )


def attachment_with_request_key(
    session: Session, uploaded_by: int | None, request_key: str
) -> CaseAttachment | None:
    """The file this person uploaded under this idempotency key, if any."""
    return session.scalar(
        select(CaseAttachment).where(
            CaseAttachment.uploaded_by == uploaded_by, CaseAttachment.request_key == request_key
        )
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
        text = f["text"].strip()
        pattern = f"%{text}%"
        matches: list[ColumnElement[bool]] = [
            Case.description.ilike(pattern), Case.address.ilike(pattern)
        ]  # fmt: skip
        if text.isdigit():  # a case number (date + id) or a bare id, as people read them out
            matches.append(Case.id == int(text[8:] if len(text) > 8 else text))
        query = query.where(or_(*matches))
    if f.get("queue"):
        queue = QUEUES[f["queue"]]
        query = query.where(Case.state.in_([s.value for s in queue.states]))
        if queue.pending is not None:
            query = query.where(HAS_PENDING_REQUEST if queue.pending else ~HAS_PENDING_REQUEST)
        if queue.overdue is not None:
            query = query.where(Case.overdue.is_(queue.overdue))
    return query


# A cleared request is JSON null when the ORM wrote it and SQL NULL when a bulk insert did;
# both read as the text 'null' once cast, on SQLite and on PostgreSQL alike.
HAS_PENDING_REQUEST = func.coalesce(cast(Case.pending_request, Text), "null") != "null"


def queue_counts(session: Session, visible: Any, filters: dict[str, Any]) -> dict[str, int]:
    """How many visible open cases wait in each queue, from one grouped count."""
    groups: list[Any] = [Case.state, HAS_PENDING_REQUEST, Case.overdue]
    query = select(*groups, func.count()).where(
        visible, Case.state.in_([s.value for s in OPEN_STATES])
    )
    query = apply_filters(query, **{k: v for k, v in filters.items() if k != "queue"})
    counts = dict.fromkeys(QUEUES, 0)
    rows: list[Any] = list(session.execute(query.group_by(*groups)))
    for state, pending, overdue, n in rows:
        for name, queue in QUEUES.items():
            if queue.holds(state, bool(pending), bool(overdue)):
                counts[name] += n
    return counts
