"""Checks of a penalty case's deadlines: each stage past its due date (decision, service,
closing), and the decision's publication within working days. One query over all cases
each; periods in working days are narrowed by the database and decided by the calendar."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from cityops.enforcement.supervision.checks.common import (
    Env,
    Hit,
    WorkingDue,
    add_days,
    ensure_date,
    maybe_late,
    typed,
    ymd,
)
from cityops.enforcement.supervision.checks.penalties import ENDED_UNDECIDED, C, case_hit, label
from cityops.enforcement.supervision.rules import OverdueStageParams, PublicationParams

# -- overdue stages -----------------------------------------------------------------------------


def overdue_cases(session: Session, params: Any, env: Env) -> list[Hit]:
    """A decision past its due date (the case's decision_due or extension, else filing + the
    rule's days), service past the working days after the decision, closing past the days
    after service; not yet done and late today, or (with `include_late_completed`) done late."""
    p: OverdueStageParams = typed(params, OverdueStageParams)
    today, late = env.today, p.include_late_completed
    decision_due = func.coalesce(
        C.extended_until, C.decision_due, add_days(env, C.filed_on, p.decision_days)
    )
    close_due = add_days(env, C.served_on, p.close_days)
    decision_late = and_(
        C.filed_on.is_not(None),
        or_(
            and_(C.decided_on.is_(None), C.stage.not_in(ENDED_UNDECIDED), decision_due < today),
            and_(literal(late), C.decided_on > decision_due),
        ),
    )
    # Working days: the database narrows by calendar days, the calendar decides.
    service_late = and_(
        C.decided_on.is_not(None),
        maybe_late(env, C.decided_on, C.served_on, p.service_working_days, include_done=late),
    )
    closing_late = and_(
        C.served_on.is_not(None),
        or_(
            and_(C.closed_on.is_(None), C.stage.not_in(ENDED_UNDECIDED), close_due < today),
            and_(literal(late), C.closed_on > close_due),
        ),
    )
    query = select(
        C.id,
        C.number,
        C.agency_id,
        C.region_code,
        C.business_id,
        C.filed_on,
        C.decided_on,
        C.served_on,
        C.closed_on,
        decision_due.label("decision_due"),
        close_due.label("close_due"),
        decision_late.label("decision_late"),
        service_late.label("service_late"),
        closing_late.label("closing_late"),
    ).where(C.procedure.in_(p.procedures), or_(decision_late, service_late, closing_late))
    due_days = WorkingDue(env, p.service_working_days)
    hits = []
    for row in session.execute(query):
        service_due = due_days.late(row.decided_on, row.served_on, include_done=late)
        stages = []
        for stage, name, start, done, due, late_flag in (
            (
                "decision",
                "作出处罚决定",
                row.filed_on,
                row.decided_on,
                row.decision_due,
                row.decision_late,
            ),
            (
                "service",
                "送达处罚决定书",
                row.decided_on,
                row.served_on,
                service_due,
                service_due is not None,
            ),
            ("closing", "结案", row.served_on, row.closed_on, row.close_due, row.closing_late),
        ):
            if not late_flag:
                continue
            due, done = ensure_date(due), ensure_date(done)
            assert due is not None  # a late stage has a due day
            days = ((done or today) - due).days
            stages.append(
                {
                    "stage": stage,
                    "name": name,
                    "from": ymd(ensure_date(start)),
                    "due": ymd(due),
                    "done": ymd(done),
                    "days_late": days,
                }
            )
        if not stages:
            continue
        parts = [
            f"{s['name']}期限为{s['due']}，"
            + (
                f"于{s['done']}完成，逾期{s['days_late']}日"
                if s["done"]
                else f"至今未完成，已逾期{s['days_late']}日"
            )
            for s in stages
        ]
        message = f"{label(row.number, row.id)}：" + "；".join(parts) + "。"
        first = date.fromisoformat(str(stages[0]["due"]))
        hits.append(case_hit(row, first, {"stages": stages, "today": ymd(today)}, message))
    return hits


# -- publication --------------------------------------------------------------------------------


def decision_not_published(session: Session, params: Any, env: Env) -> list[Hit]:
    """A decision not published within the rule's working days (the day of the decision not
    counted, holidays and make-up days as the working calendar has them): still
    unpublished after its due day, or published after it."""
    p: PublicationParams = typed(params, PublicationParams)
    today = env.today
    punished = literal(True) if p.include_unpunished else C.decision_kind == "penalty"
    concerned = and_(
        C.decided_on.is_not(None),
        or_(and_(C.procedure.in_(p.procedures), punished), C.publication_required.is_(True)),
    )
    query = select(
        C.id, C.number, C.agency_id, C.region_code, C.business_id, C.decided_on, C.published_on
    ).where(
        concerned,
        maybe_late(env, C.decided_on, C.published_on, p.working_days, include_done=True),
    )
    due_days = WorkingDue(env, p.working_days)
    hits = []
    for row in session.execute(query):
        due_on = due_days.late(row.decided_on, row.published_on, include_done=True)
        if due_on is None:
            continue
        decided, published = ensure_date(row.decided_on), ensure_date(row.published_on)
        if published is None:
            tail = f"至{ymd(today)}仍未公示"
        else:
            tail = f"于{ymd(published)}公示，超过期限"
        message = (
            f"{label(row.number, row.id)}于{ymd(decided)}作出处罚决定，应在{p.working_days}"
            f"个工作日内（{ymd(due_on)}前）公示，{tail}。"
        )
        evidence = {
            "decided_on": ymd(decided),
            "due": ymd(due_on),
            "published_on": ymd(published),
            "working_days": p.working_days,
        }
        hits.append(case_hit(row, due_on, evidence, message))
    return hits
