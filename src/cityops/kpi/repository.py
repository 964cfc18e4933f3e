"""The one query KPIs need: per case, what its steps did before and within a period.

Each row is one case touched by a step in the period, with flags and counts aggregated from
its steps by portable CASE WHEN sums, so the same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from cityops.cases.models import Case, CaseStep

S = CaseStep


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.max(case((condition, 1), else_=0))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def case_facts(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    region: str | None = None,
    department_id: int | None = None,
    group_length: int | None = None,
    group_by_department: bool = False,
) -> list[Any]:
    """One row of step facts per case that has a step in [start, end).

    `region` keeps cases whose region code starts with it; `department_id` keeps the steps
    that department took part in (dispatch to it, its handling). `group_length` adds a
    `key` column: the first characters of the region code (e.g. 9 → the street);
    `group_by_department` makes the key the department of the step.
    """
    in_period = and_(S.at >= start, S.at < end)
    by_end = S.at < end
    key: ColumnElement[Any]
    if group_by_department:
        key = S.department_id.expression
    elif group_length:
        key = func.substr(Case.region_code, 1, group_length)
    else:
        key = literal("all")
    touched = select(S.case_id).where(in_period)
    if department_id is not None:
        touched = touched.where(S.department_id == department_id)
    query = (
        select(
            S.case_id.label("case_id"),
            key.label("key"),
            Case.source_kind,
            Case.verified,
            Case.handle_due_at,
            Case.state,
            Case.reporter_id,
            _flag(and_(S.action == "report", in_period)).label("reported"),
            _flag(and_(S.action == "file", in_period)).label("filed"),
            _flag(and_(S.action == "file", by_end)).label("filed_by_end"),
            _flag(and_(S.action == "cancel", in_period)).label("cancelled"),
            _flag(and_(S.action == "cancel", S.from_state == "filed", by_end)).label(
                "filed_then_cancelled"
            ),
            _count(and_(S.action == "dispatch", in_period)).label("dispatches"),
            _flag(and_(S.action == "dispatch", in_period)).label("dispatched"),
            _count(and_(S.action == "approve", S.to_state == "filed", in_period)).label("returns"),
            _flag(and_(S.action == "close", by_end)).label("closed_by_end"),
            _count(and_(S.action == "report_handled", in_period)).label("handled"),
            _count(and_(S.action == "report_handled", in_period, S.on_time.is_(True))).label(
                "handled_on_time"
            ),
            _flag(and_(S.action == "report_handled", by_end)).label("handled_by_end"),
            _flag(and_(S.action == "report_handled", by_end, S.on_time.is_(False))).label(
                "late_handling"
            ),
            _flag(and_(S.action == "check", S.to_state == "handling", by_end)).label("reworked"),
            _flag(
                and_(
                    S.action == "approve",
                    S.from_state == "handling",
                    S.to_state == "handling",
                    by_end,
                )
            ).label("extended"),
            _count(and_(S.action == "escalate", in_period)).label("escalations"),
            _count(and_(S.action == "verify", in_period)).label("verifications"),
            _count(and_(S.action == "verify", in_period, S.on_time.is_(True))).label(
                "verifications_on_time"
            ),
            _count(and_(S.action == "check", in_period)).label("checks"),
            _count(and_(S.action == "check", in_period, S.on_time.is_(True))).label(
                "checks_on_time"
            ),
            _flag(and_(S.action == "verify", in_period)).label("verified_in_period"),
        )
        .join(Case, Case.id == S.case_id)
        .where(S.case_id.in_(touched), S.at < end)
        .group_by(
            S.case_id,
            key,
            Case.source_kind,
            Case.verified,
            Case.handle_due_at,
            Case.state,
            Case.reporter_id,
        )
    )
    if region:
        query = query.where(Case.region_code.startswith(region, autoescape=True))
    if department_id is not None:
        query = query.where(S.department_id.is_(None) | (S.department_id == department_id))
    return list(session.execute(query).all())


def person_facts(
    session: Session, *, person_id: int, start: datetime, end: datetime
) -> dict[str, int]:
    """What one person did in the period: their reports, verifications and checks."""
    in_period = and_(S.at >= start, S.at < end)
    filing = aliased(CaseStep)
    was_filed = exists().where(filing.case_id == S.case_id, filing.action == "file")
    own = session.execute(
        select(
            func.count().label("own_reports"),
            func.sum(case((was_filed, 1), else_=0)).label("own_reports_filed"),
        )
        .select_from(S)
        .where(S.action == "report", S.actor_id == person_id, in_period)
    ).one()
    acts = session.execute(
        select(
            _count(S.action == "verify").label("verifications"),
            _count(and_(S.action == "verify", S.on_time.is_(True))).label("verifications_on_time"),
            _count(S.action == "check").label("checks"),
            _count(and_(S.action == "check", S.on_time.is_(True))).label("checks_on_time"),
        ).where(S.actor_id == person_id, in_period)
    ).one()
    values = {**own._mapping, **acts._mapping}
    return {k: int(v or 0) for k, v in values.items()}
