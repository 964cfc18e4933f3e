"""Whether enough certified officers took part in each act (Administrative Penalty Law
Art. 42, 55): on every started inspection, per acting agency, and on every investigative
step of a penalty case. One query per table."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, func, select, true, union_all
from sqlalchemy.orm import Session

from cityops.enforcement.inspections.models import InspectionAgency
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries.models import Agency
from cityops.enforcement.supervision.checks.common import (
    Env,
    Hit,
    ensure_date,
    json_ints,
    json_value_int,
    local_day,
    pairs,
    typed,
    ymd,
)
from cityops.enforcement.supervision.checks.officers import (
    CANCELLED,
    IO,
    I,
    O,
    business_names,
    certified,
    span,
)
from cityops.enforcement.supervision.models import SubjectType
from cityops.enforcement.supervision.rules import TooFewOfficersParams


def too_few_officers(session: Session, params: Any, env: Env) -> list[Hit]:
    """Visits where an acting agency (the lead, and each invited agency that accepted) had
    fewer certified officers on site than the rule's minimum, and investigative penalty
    steps with fewer. Certified: the certificate valid that day."""
    p: TooFewOfficersParams = typed(params, TooFewOfficersParams)
    return _too_few_on_inspections(session, p, env) + _too_few_on_steps(session, p, env)


def _too_few_on_inspections(session: Session, p: TooFewOfficersParams, env: Env) -> list[Hit]:
    IA = InspectionAgency
    day = local_day(env, func.coalesce(I.started_at, I.scheduled_at))
    # The agencies acting on a visit: those that accepted (the initiator's row among them),
    # and the lead where a visit has no row for it.
    acting = union_all(
        select(IA.inspection_id, IA.agency_id).where(IA.state == "accepted"),
        select(I.id, I.lead_agency_id).where(
            ~exists().where(IA.inspection_id == I.id, IA.agency_id == I.lead_agency_id)
        ),
    ).subquery("acting")
    n = func.count(O.id)
    query = (
        select(
            acting.c.inspection_id,
            acting.c.agency_id,
            n.label("n"),
            I.business_id,
            I.lead_agency_id,
            I.region_code,
            day.label("day"),
        )
        .select_from(acting)
        .join(I, I.id == acting.c.inspection_id)
        .outerjoin(
            IO, and_(IO.inspection_id == acting.c.inspection_id, IO.agency_id == acting.c.agency_id)
        )
        .outerjoin(O, and_(O.id == IO.officer_id, certified(day, span(session, env, I.started_at))))
        .where(I.started_at.is_not(None), I.state != CANCELLED)
        .group_by(I.id, acting.c.inspection_id, acting.c.agency_id)
        .having(n < p.minimum)
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        grouped[row.inspection_id].append(row)
    rows = [r for found in grouped.values() for r in found]
    businesses = business_names(session, env, [r.business_id for r in rows])
    agencies = pairs(
        session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in rows}))
        )
    )
    hits = []
    for inspection_id, found in grouped.items():
        first = found[0]
        on = ensure_date(first.day)
        short = [
            {
                "agency_id": r.agency_id,
                "agency_name": agencies.get(r.agency_id),
                "certified": int(r.n),
            }
            for r in sorted(found, key=lambda r: r.agency_id)
        ]
        # The lead agency answers for its visit when it is short; else the first agency short.
        leads = [x["agency_id"] for x in short if x["agency_id"] == first.lead_agency_id]
        agency = leads[0] if leads else short[0]["agency_id"]
        name = businesses.get(first.business_id)
        place = f"对“{name}”的检查" if name else "检查"
        parts = "；".join(
            f"{x['agency_name'] or x['agency_id']}仅{x['certified']}名" for x in short
        )
        message = (
            f"{place}（编号{inspection_id}，{ymd(on)}）持有效执法证的执法人员不足"
            f"{p.minimum}人：{parts}。"
        )
        evidence = {
            "inspection_id": inspection_id,
            "day": ymd(on),
            "minimum": p.minimum,
            "business_id": first.business_id,
            "agencies": short,
        }
        hits.append(
            Hit(
                SubjectType.INSPECTION,
                inspection_id,
                agency,
                first.region_code,
                first.business_id,
                on,
                evidence,
                message,
            )
        )
    return hits


def _too_few_on_steps(session: Session, p: TooFewOfficersParams, env: Env) -> list[Hit]:
    s, c = PenaltyStep, PenaltyCase
    day = local_day(env, s.at)
    named = json_ints(env, s.officer_ids, "named")
    officer_id = json_value_int(named)
    valid = and_(O.id.is_not(None), certified(day, span(session, env, s.at)))
    n = func.count(func.distinct(case((valid, officer_id))))
    query = (
        select(
            c.id,
            c.number,
            c.agency_id,
            c.region_code,
            c.business_id,
            s.id.label("step_id"),
            s.kind,
            day.label("day"),
            n.label("n"),
            func.count(officer_id).label("named"),
        )
        .select_from(s)
        .join(c, c.id == s.case_id)
        .outerjoin(named, true())
        .outerjoin(O, O.id == officer_id)
        .where(s.kind.in_(p.step_kinds))
        .group_by(c.id, c.number, c.agency_id, c.region_code, c.business_id, s.id, s.kind, day)
        .having(n < p.minimum)
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        grouped[row.id].append(row)
    hits = []
    for case_id, rows in grouped.items():
        first = rows[0]
        steps = [
            {
                "step_id": r.step_id,
                "kind": r.kind,
                "day": ymd(ensure_date(r.day)),
                "named": int(r.named),
                "certified": int(r.n),
            }
            for r in rows
        ]
        case_label = f"案件{first.number}" if first.number else f"案件（编号{case_id}）"
        parts = "；".join(f"{st['day']}的{st['kind']}环节仅{st['certified']}名" for st in steps)
        message = f"{case_label}调查取证环节持有效执法证的执法人员不足{p.minimum}人：{parts}。"
        on = min(date.fromisoformat(st["day"]) for st in steps if st["day"])
        evidence = {
            "case_id": case_id,
            "case_number": first.number,
            "minimum": p.minimum,
            "steps": steps,
        }
        hits.append(
            Hit(
                SubjectType.PENALTY_CASE,
                case_id,
                first.agency_id,
                first.region_code,
                first.business_id,
                on,
                evidence,
                message,
            )
        )
    return hits
