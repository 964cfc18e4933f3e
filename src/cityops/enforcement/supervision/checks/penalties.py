"""Checks over decided penalty cases: fines outside the benchmark, legal review missing,
cases closed without service, and penalties on first-violation-exempt items (the deadlines
are in `deadlines`). One query over all cases each."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries.models import GRADE_NAMES_ZH, Benchmark, Item
from cityops.enforcement.supervision.checks.common import (
    Env,
    Hit,
    cny,
    ensure_date,
    local_day,
    pairs,
    typed,
    ymd,
)
from cityops.enforcement.supervision.models import SubjectType
from cityops.enforcement.supervision.rules import (
    FineParams,
    NoParams,
)

C = PenaltyCase
# Stages a case ends in without a decision (不予立案, 终止): no further deadline runs.
ENDED_UNDECIDED = ("not_filed", "terminated")
NO_REASON = or_(C.departure_reason.is_(None), func.trim(C.departure_reason) == "")


def label(number: str | None, case_id: int) -> str:
    return f"案件{number}" if number else f"案件（编号{case_id}）"


def case_hit(row: Any, occurred_on: date | None, evidence: dict[str, Any], message: str) -> Hit:
    evidence = {"case_id": row.id, "case_number": row.number, **evidence}
    return Hit(
        SubjectType.PENALTY_CASE,
        row.id,
        row.agency_id,
        row.region_code,
        row.business_id,
        occurred_on,
        evidence,
        message,
    )


# -- fines outside the benchmark ----------------------------------------------------------------


def _applicable(b: type[Benchmark]) -> Any:
    """The benchmark rows a decided case is judged against: the row it names, or else the
    rows of its item for its grade and party; a row limited to a span of the base amount
    (货值金额 …) only when the amount falls in it or is unknown."""
    chosen = or_(
        and_(C.benchmark_id.is_not(None), b.id == C.benchmark_id),
        and_(
            C.benchmark_id.is_(None),
            b.item_id == C.item_id,
            b.grade == C.grade,
            b.party.in_(["any", C.party_kind]),
        ),
    )
    in_span = or_(
        C.base_amount.is_(None),
        and_(
            or_(b.base_from.is_(None), C.base_amount >= b.base_from),
            or_(b.base_below.is_(None), C.base_amount < b.base_below),
        ),
    )
    return and_(chosen, in_span)


def fine_outside_benchmark(session: Session, params: Any, _env: Env) -> list[Hit]:
    """A decided fine outside every benchmark row that applies (bounds included, plus the
    rule's tolerance), with no departure reason. A row that cannot be judged — a multiple
    of an unknown base amount, or a span of it — keeps the case out."""
    p: FineParams = typed(params, FineParams)
    tol, fine, base = p.tolerance, C.fine, C.base_amount
    b = Benchmark
    has_fixed = or_(b.fine_min.is_not(None), b.fine_max.is_not(None))
    within_fixed = and_(
        has_fixed,
        fine >= func.coalesce(b.fine_min, 0) - tol,
        or_(b.fine_max.is_(None), fine <= b.fine_max + tol),
    )
    within_times = and_(
        b.times_min.is_not(None),
        base.is_not(None),
        fine >= b.times_min * base - tol,
        or_(b.times_max.is_(None), fine <= b.times_max * base + tol),
    )
    no_fine_row = and_(~has_fixed, b.times_min.is_(None), b.times_max.is_(None), fine <= tol)
    unknown = and_(
        base.is_(None),
        or_(b.times_min.is_not(None), b.base_from.is_not(None), b.base_below.is_not(None)),
    )
    applicable = _applicable(b)
    query = select(
        C.id,
        C.number,
        C.agency_id,
        C.region_code,
        C.business_id,
        C.item_id,
        C.benchmark_id,
        C.grade,
        C.party_kind,
        C.fine,
        C.base_amount,
        C.decided_on,
    ).where(
        C.decided_on.is_not(None),
        C.decision_kind == "penalty",
        fine > tol,
        NO_REASON,
        exists().where(applicable),
        ~exists().where(applicable, or_(within_fixed, within_times, no_fine_row, unknown)),
    )
    rows = session.execute(query).all()
    if not rows:
        return []
    bench = session.scalars(
        select(Benchmark).where(Benchmark.item_id.in_({r.item_id for r in rows}))
    ).all()
    codes = pairs(
        session.execute(select(Item.id, Item.code).where(Item.id.in_({r.item_id for r in rows})))
    )
    hits = []
    for row in rows:
        ranges = [
            {
                "benchmark_id": x.id,
                "circumstance": x.circumstance,
                "grade": x.grade,
                "party": x.party,
                "fine_min": x.fine_min,
                "fine_max": x.fine_max,
                "times_min": x.times_min,
                "times_max": x.times_max,
            }
            for x in bench
            if _applies(x, row)
        ]
        shown = "、".join(_range_text(r, row.base_amount) for r in ranges)
        grade = GRADE_NAMES_ZH.get(row.grade or "", row.grade or "未定")
        message = (
            f"{label(row.number, row.id)}罚款{cny(row.fine)}元，不在“{grade}”裁量基准"
            f"（{shown}）之内，且未说明理由。"
        )
        evidence = {
            "item_id": row.item_id,
            "item_code": codes.get(row.item_id),
            "grade": row.grade,
            "fine": row.fine,
            "base_amount": row.base_amount,
            "allowed": ranges,
            "decided_on": ymd(ensure_date(row.decided_on)),
        }
        hits.append(case_hit(row, ensure_date(row.decided_on), evidence, message))
    return hits


def _applies(x: Benchmark, row: Any) -> bool:
    if row.benchmark_id is not None:
        return bool(x.id == row.benchmark_id)
    return x.item_id == row.item_id and x.grade == row.grade and x.party in ("any", row.party_kind)


def _range_text(r: dict[str, Any], base: int | None) -> str:
    if r["fine_min"] is not None or r["fine_max"] is not None:
        upper = cny(r["fine_max"]) if r["fine_max"] is not None else "不限"
        return f"{cny(r['fine_min'] or 0)}–{upper}元"
    if r["times_min"] is not None:
        upper = f"{r['times_max']:g}" if r["times_max"] is not None else "以上"
        return f"{r['times_min']:g}–{upper}倍" + (f"（基数{cny(base)}元）" if base else "")
    return "不予罚款"


# -- legal review, service, exemption -----------------------------------------------------------


def missing_legal_review(session: Session, params: Any, env: Env) -> list[Hit]:
    """A case that needed legal review (Art. 58) decided without a review passed by the day
    of the decision."""
    typed(params, NoParams)
    s = PenaltyStep
    passed = exists().where(
        s.case_id == C.id, s.kind == "legal_review_passed", local_day(env, s.at) <= C.decided_on
    )
    query = select(
        C.id,
        C.number,
        C.agency_id,
        C.region_code,
        C.business_id,
        C.decided_on,
        C.legal_review_why,
        C.fine,
    ).where(C.decided_on.is_not(None), C.legal_review_required.is_(True), ~passed)
    hits = []
    for row in session.execute(query):
        decided = ensure_date(row.decided_on)
        why = (row.legal_review_why or "").strip()
        message = (
            f"{label(row.number, row.id)}依法应当进行法制审核"
            + (f"（{why}）" if why else "")
            + f"，于{ymd(decided)}作出决定前未经审核通过。"
        )
        evidence = {"decided_on": ymd(decided), "review_required_because": why, "fine": row.fine}
        hits.append(case_hit(row, decided, evidence, message))
    return hits


def closed_without_service(session: Session, params: Any, _env: Env) -> list[Hit]:
    """A closed case with no record of its decision's service (送达回证)."""
    typed(params, NoParams)
    s = PenaltyStep
    served_step = exists().where(s.case_id == C.id, s.kind == "served")
    query = select(
        C.id, C.number, C.agency_id, C.region_code, C.business_id, C.closed_on, C.decided_on
    ).where(or_(C.closed_on.is_not(None), C.stage == "closed"), C.served_on.is_(None), ~served_step)
    hits = []
    for row in session.execute(query):
        closed = ensure_date(row.closed_on)
        message = (
            f"{label(row.number, row.id)}已于{ymd(closed) or '（日期未记）'}结案，"
            "但无处罚决定书送达记录。"
        )
        evidence = {
            "closed_on": ymd(closed),
            "decided_on": ymd(ensure_date(row.decided_on)),
            "served_on": None,
        }
        hits.append(case_hit(row, closed, evidence, message))
    return hits


def penalty_on_exempt_item(session: Session, params: Any, _env: Env) -> list[Hit]:
    """A penalty decided on an item of the first-violation list (首违不罚) for a case the
    agency itself marked as a first violation."""
    typed(params, NoParams)
    query = (
        select(
            C.id,
            C.number,
            C.agency_id,
            C.region_code,
            C.business_id,
            C.decided_on,
            C.fine,
            C.measures,
            Item.code.label("item_code"),
            Item.name.label("item_name"),
            Item.exemption_conditions,
        )
        .join(Item, Item.id == C.item_id)
        .where(
            C.decided_on.is_not(None),
            Item.first_violation_exempt.is_(True),
            C.exempt == "first_violation",
            or_(
                C.decision_kind == "penalty",
                and_(C.decision_kind.is_(None), func.coalesce(C.fine, 0) > 0),
            ),
        )
    )
    hits = []
    for row in session.execute(query):
        decided = ensure_date(row.decided_on)
        penalty = f"罚款{cny(row.fine)}元" if row.fine else "行政处罚"
        message = (
            f"{label(row.number, row.id)}的事项“{row.item_name}”列入首违不罚清单，"
            f"案件已认定为初次违法，仍于{ymd(decided)}作出{penalty}。"
        )
        evidence = {
            "item_code": row.item_code,
            "exempt": "first_violation",
            "fine": row.fine,
            "measures": row.measures,
            "decided_on": ymd(decided),
            "conditions": row.exemption_conditions,
        }
        hits.append(case_hit(row, decided, evidence, message))
    return hits
