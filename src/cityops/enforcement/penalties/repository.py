"""Every query on the penalty tables: lists by filter and scope, the overdue scan, earlier
cases of a party, the steps of a case, and who acts for which agency."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.penalties.workflow import AFTER_DECISION, TERMINAL, Stage
from cityops.enforcement.registries.models import Agency, Officer

# The name of each stage's clock in the overdue scan (what `stage_due` means in it).
STAGE_CLOCKS: dict[str, str] = {
    Stage.FILING: "filing",
    Stage.INVESTIGATING: "decision",
    Stage.REVIEWING: "decision",
    Stage.NOTIFYING: "decision",
    Stage.NOTIFIED: "decision",
    Stage.HEARING: "decision",
    Stage.DECIDING: "decision",
    Stage.DECIDED: "service",
    Stage.EXECUTING: "payment",
}
_OPEN = [s.value for s in Stage if s not in TERMINAL]
_DECIDED = [s.value for s in AFTER_DECISION]


def acting_agencies(session: Session, person_id: int, department_id: int | None) -> set[int]:
    """The agencies a person acts for: through their active officer rows, and the agency of
    their department."""
    ids = set(
        session.scalars(
            select(Officer.agency_id).where(Officer.person_id == person_id, Officer.active)
        )
    )
    if department_id is not None:
        ids |= set(session.scalars(select(Agency.id).where(Agency.department_id == department_id)))
    return ids


def cases_query(
    *,
    agency_ids: Collection[int] | None,
    region_prefix: str | None = None,
    stages: Sequence[str] | None = None,
    agency_id: int | None = None,
    procedure: str | None = None,
    business_id: int | None = None,
    overdue_on: date | None = None,
    text: str | None = None,
) -> Select[Any]:
    """Cases newest first, narrowed to the caller's agencies (None: all) or region."""
    query = select(PenaltyCase).order_by(PenaltyCase.id.desc())
    if agency_ids is not None:
        seen: ColumnElement[bool] = PenaltyCase.agency_id.in_(list(agency_ids))
        if region_prefix:
            seen = or_(seen, PenaltyCase.region_code.startswith(region_prefix))
        query = query.where(seen)
    if stages:
        query = query.where(PenaltyCase.stage.in_(list(stages)))
    if agency_id is not None:
        query = query.where(PenaltyCase.agency_id == agency_id)
    if procedure:
        query = query.where(PenaltyCase.procedure == procedure)
    if business_id is not None:
        query = query.where(PenaltyCase.business_id == business_id)
    if overdue_on is not None:
        late = select(overdue_query(overdue_on).subquery().c.case_id)
        query = query.where(PenaltyCase.id.in_(late))
    if text:
        for term in text.split():
            like = f"%{term}%"
            query = query.where(
                or_(PenaltyCase.number.ilike(like), PenaltyCase.party_name.ilike(like),
                    PenaltyCase.title.ilike(like))
            )  # fmt: skip
    return query


def overdue_query(on: date, agency_ids: Collection[int] | None = None) -> Select[Any]:
    """(case_id, number, agency_id, stage, kind, due) of every deadline not met that passed
    before `on`: the running stage's own (filing, decision, service, payment), publication
    of a decision (the three systems; closed cases too) and the filing of a simplified
    decision with the agency (备案). One set-based query, for supervision sweeps and the
    `overdue` filter."""
    c = PenaltyCase
    scope = c.agency_id.in_(list(agency_ids)) if agency_ids is not None else literal(True)
    stage_kind = sql_case(
        *[(c.stage == stage, literal(kind)) for stage, kind in STAGE_CLOCKS.items()],
        else_=literal("stage"),
    )
    stage_late = select(
        c.id.label("case_id"), c.number, c.agency_id, c.stage, stage_kind.label("kind"),
        c.stage_due.label("due"),
    ).where(scope, c.stage.in_(_OPEN), c.stage_due.is_not(None), c.stage_due < on)  # fmt: skip
    unpublished = select(
        c.id, c.number, c.agency_id, c.stage, literal("publication"), c.publication_due
    ).where(
        scope, c.stage.in_(_DECIDED), c.publication_required, c.published_on.is_(None),
        c.publication_due.is_not(None), c.publication_due < on,
    )  # fmt: skip
    unrecorded = select(
        c.id, c.number, c.agency_id, c.stage, literal("record"), c.record_due
    ).where(
        scope, c.procedure == "simplified", c.recorded_on.is_(None),
        c.record_due.is_not(None), c.record_due < on,
    )  # fmt: skip
    return select(union_all(stage_late, unpublished, unrecorded).subquery())


@dataclass(frozen=True)
class OverdueRow:
    case_id: int
    number: str | None
    agency_id: int
    stage: str
    kind: str
    due: date


def overdue(
    session: Session, *, on: date, agency_ids: Collection[int] | None = None
) -> list[OverdueRow]:
    """Every deadline of an open case that passed before `on` (see `overdue_query`), oldest
    due first."""
    query = overdue_query(on, agency_ids)
    rows = session.execute(query).all()
    found = [OverdueRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
    return sorted(found, key=lambda r: (r.due, r.case_id, r.kind))


def earlier_cases(
    session: Session, case: PenaltyCase, *, item_id: int | None = None
) -> list[PenaltyCase]:
    """Other decided cases against the same party (by business or identifier) for the item,
    decided before this one: what makes a violation not the first."""
    same_party = []
    if case.business_id is not None:
        same_party.append(PenaltyCase.business_id == case.business_id)
    if case.party_identifier:
        same_party.append(PenaltyCase.party_identifier == case.party_identifier)
    if not same_party:
        return []
    query = select(PenaltyCase).where(
        PenaltyCase.id != case.id,
        PenaltyCase.item_id == (item_id if item_id is not None else case.item_id),
        PenaltyCase.decided_on.is_not(None),
        or_(*same_party),
        PenaltyCase.decision_kind == "penalty",
    )
    return list(session.scalars(query.order_by(PenaltyCase.decided_on)))


def steps_of(session: Session, case_id: int) -> list[PenaltyStep]:
    return list(
        session.scalars(
            select(PenaltyStep).where(PenaltyStep.case_id == case_id).order_by(PenaltyStep.seq)
        )
    )


def next_seq(session: Session, case_id: int) -> int:
    last = session.scalar(select(func.max(PenaltyStep.seq)).where(PenaltyStep.case_id == case_id))
    return int(last or 0) + 1


def case_by_origin(session: Session, kind: str, origin_id: int) -> PenaltyCase | None:
    return session.scalar(
        select(PenaltyCase).where(
            PenaltyCase.origin_kind == kind, PenaltyCase.origin_id == origin_id
        )
    )


def published_query(text: str | None = None) -> Select[Any]:
    """Published decisions, latest first."""
    query = (
        select(PenaltyCase)
        .where(PenaltyCase.published_on.is_not(None))
        .order_by(PenaltyCase.published_on.desc(), PenaltyCase.id.desc())
    )
    for term in (text or "").split():
        like = f"%{term}%"
        query = query.where(or_(PenaltyCase.number.ilike(like), PenaltyCase.title.ilike(like)))
    return query
