"""Dispatch suggestions (派遣建议): whom to send a filed case to, and why.

The dispatcher decides; this only ranks the plausible handlers so that the usual choice is
one keystroke away. Three sources, in this order of weight:

1. the catalog: the class's responsible department, or the grid worker on duty when an
   automation rule of the class says small matters go to the grid (智能派遣 规则);
2. the grid's duty roster: who covers the case's grid right now;
3. the street office of the case's street (属地管理), the fallback for what has no owner.

Within a tier the one with fewer open tasks comes first, so work spreads over people who
could equally take it. Every suggestion carries its reasons and its current load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.cases import repository
from cityops.cases.models import Case
from cityops.cases.workflow import State
from cityops.catalog.models import DispatchTarget
from cityops.catalog.service import CatalogSnapshot, match_rule
from cityops.org.models import CODE_LENGTH, Department, Person, RegionLevel

STREET_CODE_LENGTH = CODE_LENGTH[RegionLevel.STREET]
# Tasks that still weigh on a handler: sent to them and not yet reported handled.
LOAD_STATES = (State.HANDLING.value, State.DEFERRED.value)


# Why a handler is suggested; the pages word them in the reader's language.
RESPONSIBLE_DEPARTMENT = "responsible_department"  # the class's department in the catalog
ON_DUTY = "on_duty"  # covers the case's grid now, by the duty roster
DISPATCH_RULE = "dispatch_rule"  # an automation rule sends this class to the grid worker
STREET_OFFICE = "street_office"  # the street office of the case's street


@dataclass
class Suggestion:
    department_id: int | None
    department_name: str | None
    assignee_id: int | None = None
    assignee_name: str | None = None
    open_tasks: int = 0
    reasons: list[str] = field(default_factory=list)
    rule: str | None = None
    tier: int = 9

    def key(self) -> tuple[int | None, int | None]:
        return (self.department_id, self.assignee_id)


def suggest(
    session: Session, case: Case, snapshot: CatalogSnapshot, now: datetime
) -> list[Suggestion]:
    """Ranked handlers for `case`, best first; empty only where the district has none."""
    found: dict[tuple[int | None, int | None], Suggestion] = {}

    def add(s: Suggestion) -> None:
        known = found.get(s.key())
        if known is None:
            found[s.key()] = s
        else:  # the same handler reached by two routes: keep both reasons, the better tier
            known.reasons.extend(r for r in s.reasons if r not in known.reasons)
            known.tier = min(known.tier, s.tier)
            known.rule = known.rule or s.rule

    klass = snapshot.classes.get(case.class_code or "")
    # By dispatch a person has accepted and filed the case: it is as sure as a signal gets.
    rule = match_rule(snapshot.rules, case.class_code, case.source_kind, case.source, 1.0)
    grid_first = rule is not None and rule.dispatch_to == DispatchTarget.GRID_WORKER.value
    departments = {d.id: d for d in session.scalars(select(Department).where(Department.active))}
    by_code = {d.code: d for d in departments.values()}

    if klass is not None and klass.department_code in by_code:
        dept = by_code[klass.department_code]
        add(Suggestion(dept.id, dept.name, reasons=[RESPONSIBLE_DEPARTMENT],
                       tier=2 if grid_first else 1))  # fmt: skip

    if case.grid_code:
        on_duty = repository.grid_workers_on_duty(session, {case.grid_code}, at=now)
        if case.grid_code in on_duty:
            person_id, name = on_duty[case.grid_code]
            person = session.get(Person, person_id)
            dept_id = person.department_id if person is not None else None
            dept_name = departments[dept_id].name if dept_id in departments else None
            reasons = [ON_DUTY, DISPATCH_RULE] if grid_first else [ON_DUTY]
            add(Suggestion(dept_id, dept_name, person_id, name, reasons=reasons,
                           rule=rule.name if grid_first and rule else None,
                           tier=1 if grid_first else 2))  # fmt: skip

    office_id = snapshot.street_offices.get(case.region_code[:STREET_CODE_LENGTH])
    if office_id in departments:
        office = departments[office_id]
        add(Suggestion(office.id, office.name, reasons=[STREET_OFFICE], tier=3))

    _add_loads(session, list(found.values()))
    return sorted(found.values(), key=lambda s: (s.tier, s.open_tasks, s.department_id or 0))


def _add_loads(session: Session, suggestions: list[Suggestion]) -> None:
    """Open tasks of each suggested department (all its cases) and person (theirs)."""
    dept_load = _open_tasks(session, Case.department_id, {s.department_id for s in suggestions})
    person_load = _open_tasks(session, Case.assignee_id, {s.assignee_id for s in suggestions})
    for s in suggestions:
        if s.assignee_id is not None:
            s.open_tasks = person_load.get(s.assignee_id, 0)
        elif s.department_id is not None:
            s.open_tasks = dept_load.get(s.department_id, 0)


def _open_tasks(session: Session, column: Any, ids: set[int | None]) -> dict[int, int]:
    """Cases still being handled, counted by `column` (department or assignee) for `ids`."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(column, func.count())
        .where(column.in_(wanted), Case.state.in_(LOAD_STATES))
        .group_by(column)
    )
    return {int(key): int(n) for key, n in rows if key is not None}
