"""KPIs of a region, a department or a person over a period, from the case steps.

Definitions (docs/kpi.md says the same in words). A case counts for a period when one of its
steps falls in the period; "by the end" means at any time before the period ends.
- due to close (应结案数): cases dispatched in the period that, by the end, were closed or
  are past their handling deadline (extensions included);
- 结案率 closure rate = closed by the end ÷ due to close;
- 按期结案率 on-time closure rate = closed by the end with every handling report on time
  ÷ due to close;
- 按时处置率 on-time handling rate = handling reports on time in the period ÷ due to handle
  (handling reports in the period plus cases still unhandled past their deadline);
- 返工率 rework rate = due-to-close cases sent back to rework ÷ due to close;
- 延期率 extension rate = due-to-close cases with an approved extension ÷ due to close;
- 监督举报率 public report rate = public reports (citizen, hotline) verified true in the
  period ÷ cases filed in the period;
- 有效上报率 valid report rate = a person's reports in the period that were filed ÷ their
  reports;
- 准确立案率 accurate filing rate = (filed − filed then cancelled) ÷ filed;
- 准确派遣率 accurate dispatch rate = (dispatches − approved returns) ÷ dispatches;
- 按时核实率 / 按时核查率 = verify / check steps on time ÷ all of them.
A rate whose denominator is zero is None: there was nothing to measure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.kpi import repository
from cityops.kpi.schemas import Counts, KpiRead, Rates, Weights
from cityops.org.models import CODE_LENGTH, Department, Person, Region, RegionLevel

PUBLIC_KINDS = frozenset({"citizen", "hotline"})
GRADES = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("the period ends before it starts",
                      errors=[FieldProblem("end", "must be after start")])  # fmt: skip


def counts_of(rows: Iterable[Any], end: datetime) -> Counts:
    """Sum the per-case facts of `rows` into the counts the rates are made of."""
    c = Counts()
    for r in rows:
        c.reported += r.reported
        c.filed += r.filed
        c.cancelled += r.cancelled
        c.filed_then_cancelled += r.filed and r.filed_then_cancelled
        c.dispatched += r.dispatches
        c.returned += r.returns
        c.handled += r.handled
        c.handled_on_time += r.handled_on_time
        c.escalations += r.escalations
        c.verifications += r.verifications
        c.verifications_on_time += r.verifications_on_time
        c.checks += r.checks
        c.checks_on_time += r.checks_on_time
        overdue_unhandled = (
            r.dispatched and not r.handled_by_end and r.handle_due_at is not None
            and r.handle_due_at < end and r.state not in ("deferred", "cancelled")
        )  # fmt: skip
        c.due_to_handle += r.handled + (1 if overdue_unhandled else 0)
        if r.verified_in_period and r.source_kind in PUBLIC_KINDS and r.verified:
            c.public_reports_verified += 1
        past_due = r.handle_due_at is not None and r.handle_due_at < end
        if r.dispatched and (r.closed_by_end or past_due):
            c.due_to_close += 1
            if r.closed_by_end:
                c.closed += 1
                if not r.late_handling:
                    c.closed_on_time += 1
            c.reworked += r.reworked
            c.extended += r.extended
    return c


def rates_of(c: Counts) -> Rates:
    return Rates(
        closure_rate=_ratio(c.closed, c.due_to_close),
        on_time_closure_rate=_ratio(c.closed_on_time, c.due_to_close),
        on_time_handling_rate=_ratio(c.handled_on_time, c.due_to_handle),
        rework_rate=_ratio(c.reworked, c.due_to_close),
        extension_rate=_ratio(c.extended, c.due_to_close),
        public_report_rate=_ratio(c.public_reports_verified, c.filed),
        valid_report_rate=_ratio(c.own_reports_filed, c.own_reports),
        accurate_filing_rate=_ratio(c.filed - c.filed_then_cancelled, c.filed),
        accurate_dispatch_rate=_ratio(c.dispatched - c.returned, c.dispatched),
        on_time_verification_rate=_ratio(c.verifications_on_time, c.verifications),
        on_time_check_rate=_ratio(c.checks_on_time, c.checks),
    )


# A person's composite: the indicators of an inspector's own work.
PERSON_WEIGHTS = {"valid_report_rate": 0.4, "on_time_verification_rate": 0.3,
                  "on_time_check_rate": 0.3}  # fmt: skip


def score_of(rates: Rates, weights: Weights | dict[str, float]) -> tuple[float | None, str | None]:
    """The weighted composite (0–100) over the rates that exist, and its grade A–E."""
    total = weight_sum = 0.0
    items = weights.items() if isinstance(weights, dict) else weights.model_dump().items()
    for name, weight in items:
        value = getattr(rates, name)
        if value is None or weight == 0:
            continue
        if name in ("rework_rate", "extension_rate"):
            value = 1 - value
        total += weight * value
        weight_sum += weight
    if weight_sum == 0:
        return None, None
    score = round(100 * total / weight_sum, 2)
    grade = next((g for floor, g in GRADES if score >= floor), "E")
    return score, grade


def _read(subject: str, name: str | None, start: datetime, end: datetime, c: Counts,
          weights: Weights | dict[str, float]) -> KpiRead:  # fmt: skip
    rates = rates_of(c)
    score, grade = score_of(rates, weights)
    return KpiRead(subject=subject, name=name, start=start, end=end, counts=c, rates=rates,
                   score=score, grade=grade)  # fmt: skip


M = TypeVar("M", Region, Department, Person)


def _subject(session: Session, model: type[M], key: str | int, label: str) -> M:
    """The region, department or person the indicators are about; NotFound if there is none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {label} {key}")
    return row


def region_kpi(
    session: Session, code: str, start: datetime, end: datetime, weights: Weights | None = None
) -> KpiRead:
    """The indicators of a region (district, street, community or grid) over [start, end)."""
    _check_period(start, end)
    region = _subject(session, Region, code, "region")
    rows = repository.case_facts(session, start=start, end=end, region=code)
    return _read(f"region:{code}", region.name, start, end, counts_of(rows, end),
                 weights or Weights())  # fmt: skip


def department_kpi(
    session: Session, department_id: int, start: datetime, end: datetime,
    weights: Weights | None = None,
) -> KpiRead:  # fmt: skip
    """The indicators of a department over [start, end), from the steps it took part in."""
    _check_period(start, end)
    dept = _subject(session, Department, department_id, "department")
    rows = repository.case_facts(session, start=start, end=end, department_id=department_id)
    return _read(f"department:{department_id}", dept.name, start, end, counts_of(rows, end),
                 weights or Weights())  # fmt: skip


def person_kpi(session: Session, person_id: int, start: datetime, end: datetime) -> KpiRead:
    """What a person did over [start, end): reports, and verifications and checks on time."""
    _check_period(start, end)
    person = _subject(session, Person, person_id, "person")
    c = Counts(**repository.person_facts(session, person_id=person_id, start=start, end=end))
    return _read(f"person:{person_id}", person.name, start, end, c, PERSON_WEIGHTS)


def ranking(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    parent: str | None = None,
    by: str = "region",
    weights: Weights | None = None,
) -> list[KpiRead]:
    """The indicators of every child region of `parent` (or every department), best first.

    One query for all of them: a dashboard ranks 640 grids at once.
    """
    _check_period(start, end)
    weights = weights or Weights()
    names: dict[Any, str]
    if by == "department":
        rows = repository.case_facts(session, start=start, end=end, region=parent,
                                     group_by_department=True)  # fmt: skip
        names = {d.id: d.name for d in session.scalars(select(Department))}
        prefix = "department"
    else:
        if parent is None:
            raise Invalid("name the parent region", errors=[FieldProblem("parent", "required")])
        region = _subject(session, Region, parent, "region")
        level = RegionLevel(region.level)
        if level is RegionLevel.GRID:
            raise Invalid("a grid has no child regions",
                          errors=[FieldProblem("parent", "not a grid")])  # fmt: skip
        child_length = {RegionLevel.DISTRICT: 9, RegionLevel.STREET: 12,
                        RegionLevel.COMMUNITY: CODE_LENGTH[RegionLevel.GRID]}[level]  # fmt: skip
        rows = repository.case_facts(session, start=start, end=end, region=parent,
                                     group_length=child_length)  # fmt: skip
        names = {r.code: r.name for r in session.scalars(
            select(Region).where(Region.parent_code == parent))}  # fmt: skip
        prefix = "region"
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        if row.key is not None:
            grouped[row.key].append(row)
    result = [
        _read(f"{prefix}:{key}", names.get(key), start, end, counts_of(group, end), weights)
        for key, group in grouped.items()
        if by == "department" or key in names
    ]
    result.sort(key=lambda k: (k.score is None, -(k.score or 0), k.subject))
    return result
