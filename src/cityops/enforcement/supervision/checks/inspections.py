"""Checks over inspections: a rectification deadline passed without re-inspection, a visit
without a plan that answers no complaint or referral, and a business inspected too often
(扰企). One query over all inspections each."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections.models import Inspection, InspectionAgency
from cityops.enforcement.registries.models import Agency
from cityops.enforcement.supervision.checks.common import (
    Env,
    Hit,
    WorkingDue,
    among,
    day_number,
    ensure_date,
    local_day,
    maybe_late,
    pairs,
    typed,
    ymd,
)
from cityops.enforcement.supervision.checks.officers import business_names
from cityops.enforcement.supervision.models import SubjectType
from cityops.enforcement.supervision.rules import (
    OverdueStageParams,
    RepeatedInspectionParams,
    WithoutPlanParams,
)

I = Inspection  # noqa: E741 (the table's alias in the queries)
CANCELLED = "cancelled"
SOURCE_NAMES_ZH = {
    "plan": "计划",
    "complaint": "投诉举报",
    "referral": "转办交办",
    "patrol": "巡查发现",
    "other": "其他",
}


def label(business_name: str | None, inspection_id: int) -> str:
    return (
        f"对“{business_name}”的检查（编号{inspection_id}）"
        if business_name
        else f"检查（编号{inspection_id}）"
    )


def _hit(row: Any, occurred_on: date | None, evidence: dict[str, Any], message: str) -> Hit:
    evidence = {
        "inspection_id": row.id,
        "business_id": row.business_id,
        "business_name": row.business_name,
        **evidence,
    }
    return Hit(
        SubjectType.INSPECTION,
        row.id,
        row.lead_agency_id,
        row.region_code,
        row.business_id,
        occurred_on,
        evidence,
        message,
    )


def visit_day(env: Env) -> Any:
    """The local day of a visit: when it started, else when it was scheduled."""
    return local_day(env, func.coalesce(I.started_at, I.scheduled_at))


def overdue_reinspections(session: Session, params: Any, env: Env) -> list[Hit]:
    """A rectification deadline whose re-inspection is more than the rule's working days
    late: not re-inspected yet, or (with `include_late_completed`) re-inspected late."""
    p: OverdueStageParams = typed(params, OverdueStageParams)
    today = env.today
    done_day = local_day(env, func.coalesce(I.reinspected_at, I.closed_at))
    late = maybe_late(
        env,
        I.rectification_deadline,
        done_day,
        p.reinspection_working_days,
        include_done=p.include_late_completed,
    )
    query = (
        select(
            I.id,
            I.business_id,
            I.lead_agency_id,
            I.region_code,
            I.state,
            I.rectification_deadline,
            done_day.label("done"),
            Business.name.label("business_name"),
        )
        .select_from(I)
        .outerjoin(Business, Business.id == I.business_id)
        .where(I.rectification_deadline.is_not(None), I.state != CANCELLED, late)
    )
    due_days = WorkingDue(env, p.reinspection_working_days)
    hits = []
    for row in session.execute(query):
        due_on = due_days.late(
            row.rectification_deadline, row.done, include_done=p.include_late_completed
        )
        if due_on is None:
            continue
        deadline, done = ensure_date(row.rectification_deadline), ensure_date(row.done)
        days = ((done or today) - due_on).days
        tail = f"于{ymd(done)}复查，逾期{days}日" if done else f"至今未复查，已逾期{days}日"
        message = (
            f"{label(row.business_name, row.id)}整改期限为{ymd(deadline)}，应在其后"
            f"{p.reinspection_working_days}个工作日内（{ymd(due_on)}前）复查，{tail}。"
        )
        stage = {
            "stage": "reinspection",
            "name": "整改复查",
            "from": ymd(deadline),
            "due": ymd(due_on),
            "done": ymd(done),
            "days_late": days,
        }
        hits.append(_hit(row, due_on, {"stages": [stage], "today": ymd(today)}, message))
    return hits


def inspection_without_plan(session: Session, params: Any, env: Env) -> list[Hit]:
    """A visit that started without a plan and whose source is not one that needs none
    (a complaint, a referral …)."""
    p: WithoutPlanParams = typed(params, WithoutPlanParams)
    day = visit_day(env)
    query = (
        select(
            I.id,
            I.business_id,
            I.lead_agency_id,
            I.region_code,
            I.source,
            day.label("day"),
            Business.name.label("business_name"),
        )
        .select_from(I)
        .outerjoin(Business, Business.id == I.business_id)
        .where(
            I.plan_id.is_(None),
            I.state != CANCELLED,
            I.started_at.is_not(None),
            or_(I.source.is_(None), I.source.not_in(p.exempt_sources)),
        )
    )
    hits = []
    for row in session.execute(query):
        on = ensure_date(row.day)
        source = SOURCE_NAMES_ZH.get(row.source or "", row.source or "未记")
        message = (
            f"{label(row.business_name, row.id)}于{ymd(on)}实施，未列入检查计划，"
            f"来源为“{source}”，不属投诉举报、转办交办等无需计划的情形。"
        )
        hits.append(_hit(row, on, {"day": ymd(on), "source": row.source, "plan_id": None}, message))
    return hits


def repeated_inspection(session: Session, params: Any, env: Env) -> list[Hit]:
    """Each visit that is more than the rule's number within its window of days (the
    window ends on the visit's day) at the same business, whichever agencies made them;
    a joint visit is one visit. Visits in the future or cancelled do not count."""
    p: RepeatedInspectionParams = typed(params, RepeatedInspectionParams)
    day = visit_day(env)
    number = day_number(env, day)
    visits = (
        select(
            I.id,
            I.business_id,
            I.lead_agency_id,
            I.region_code,
            day.label("day"),
            number.label("n"),
        )
        .where(
            # Only businesses visited more than the rule's number of times at all: an index
            # scan that leaves out most of the directory before any day is worked out.
            I.business_id.in_(
                select(I.business_id)
                .group_by(I.business_id)
                .having(func.count() > p.max_inspections)
            ),
            I.state != CANCELLED,
            func.coalesce(I.started_at, I.scheduled_at).is_not(None),
            day <= env.today,
        )
        .subquery("visits")
    )
    # The window ends on the visit's day: (window_days - 1) days before it and the day itself.
    in_window = func.count().over(
        partition_by=visits.c.business_id, order_by=visits.c.n, range_=(-(p.window_days - 1), 0)
    )
    ranked = select(visits, in_window.label("in_window")).subquery("ranked")
    query = select(ranked).where(ranked.c.in_window > p.max_inspections)
    rows = session.execute(query).all()
    if not rows:
        return []
    businesses = sorted({r.business_id for r in rows})
    days = [d for d in (ensure_date(r.day) for r in rows) if d is not None]
    earliest = min(days) - timedelta(days=p.window_days)
    joint = _agencies_of(session, env, businesses, earliest)
    names = business_names(session, env, businesses)
    agency_names = pairs(session.execute(select(Agency.id, Agency.name)))
    hits = []
    for row in rows:
        on = ensure_date(row.day)
        assert on is not None
        start = on - timedelta(days=p.window_days - 1)
        window = [v for v in joint[row.business_id] if start <= v["day_value"] <= on]
        listed = [{k: v for k, v in visit.items() if k != "day_value"} for visit in window]
        for visit in listed:
            visit["agency_names"] = [agency_names.get(a, str(a)) for a in visit["agency_ids"]]
        name = names.get(row.business_id)
        who = "、".join(f"{v['day']}（{'、'.join(v['agency_names'])}）" for v in listed)
        message = (
            f"“{name or row.business_id}”在{ymd(start)}至{ymd(on)}的{p.window_days}日内被检查"
            f"{len(listed)}次（联合检查计一次），超过{p.max_inspections}次：{who}。"
        )
        evidence = {
            "business_id": row.business_id,
            "business_name": name,
            "window_days": p.window_days,
            "window": [ymd(start), ymd(on)],
            "max_inspections": p.max_inspections,
            "count": len(listed),
            "visits": listed,
        }
        hits.append(
            Hit(
                SubjectType.INSPECTION,
                row.id,
                row.lead_agency_id,
                row.region_code,
                row.business_id,
                on,
                {"inspection_id": row.id, **evidence},
                message,
            )
        )
    return hits


def _agencies_of(
    session: Session, env: Env, businesses: list[int], since: date
) -> dict[int, list[dict[str, Any]]]:
    """The visits of these businesses since the day, each with the agencies on it (its
    lead, and those that accepted to join it)."""
    day = visit_day(env)
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    by_visit: dict[int, dict[str, Any]] = {}
    joined = and_(InspectionAgency.inspection_id == I.id, InspectionAgency.state == "accepted")
    for among_them in among(env, I.business_id, businesses):
        query = (
            select(
                I.id,
                I.business_id,
                I.lead_agency_id,
                day.label("day"),
                I.plan_id,
                InspectionAgency.agency_id,
            )
            .outerjoin(InspectionAgency, joined)
            .where(among_them, I.state != CANCELLED, day >= since, day <= env.today)
            .order_by(I.business_id, day, I.id)
        )
        for row in session.execute(query):
            visit = by_visit.get(row.id)
            if visit is None:
                on = ensure_date(row.day)
                visit = by_visit[row.id] = {
                    "inspection_id": row.id,
                    "day": ymd(on),
                    "day_value": on,
                    "agency_ids": [row.lead_agency_id],
                    "plan_id": row.plan_id,
                }
                found[row.business_id].append(visit)
            if row.agency_id is not None and row.agency_id not in visit["agency_ids"]:
                visit["agency_ids"].append(row.agency_id)
    return found
