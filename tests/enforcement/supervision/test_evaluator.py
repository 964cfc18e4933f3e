"""Evaluating again: one flag per rule and subject, evidence kept current, flags cleared when
the subject complies and raised again when it breaks the rule anew."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import (
    TODAY,
    World,
    days_ago,
    evaluate,
    flags,
    penalty_case,
    steps_of,
)
from tests.factories import EPOCH

from cityops.auth.service import Principal, actor_of
from cityops.enforcement.supervision import service
from cityops.enforcement.supervision.evaluator import load_default_rules
from cityops.enforcement.supervision.models import Flag, SupervisionRule
from cityops.enforcement.supervision.repository import rule_by_code
from cityops.enforcement.supervision.rules import DEFAULT_RULES, parse_params
from cityops.enforcement.supervision.workflow import Action
from cityops.errors import Invalid

OVERDUE = "overdue-stage"


def test_every_kind_is_shipped_as_an_active_rule(session: Session) -> None:
    assert load_default_rules(session, now=EPOCH) == len(DEFAULT_RULES) == 10
    rules = session.scalars(select(SupervisionRule)).all()
    assert {r.kind for r in rules} == {
        "overdue_stage",
        "fine_outside_benchmark",
        "officer_certificate",
        "too_few_officers",
        "repeated_inspection",
        "decision_not_published",
        "inspection_without_plan",
        "missing_legal_review",
        "closed_without_service",
        "penalty_on_exempt_item",
    }
    repeated = rule_by_code(session, "repeated-inspection")
    assert repeated is not None and repeated.active
    assert repeated.parameters == {"max_inspections": 2, "window_days": 30}
    assert all(r.legal_source and r.title for r in rules)
    # Loading again adds nothing and keeps what a district changed.
    repeated.parameters = {"max_inspections": 4, "window_days": 30}
    assert load_default_rules(session, now=EPOCH) == 0
    assert repeated.parameters["max_inspections"] == 4


def test_reevaluation_never_duplicates_a_flag(session: Session, world: World) -> None:
    late = penalty_case(session, world, filed_on=days_ago(100))
    first = evaluate(session)
    second = evaluate(session)
    (flag,) = flags(session, OVERDUE)
    assert flag.subject_id == late.id
    count = session.scalar(select(func.count()).select_from(Flag))
    assert count == 1
    by_code = {r.code: r for r in second.rules}
    assert (by_code[OVERDUE].hits, by_code[OVERDUE].raised) == (1, 0)
    assert {r.code: r.raised for r in first.rules}[OVERDUE] == 1
    assert steps_of(session, flag) == ["raised"]


def test_evidence_follows_the_days_without_a_new_flag(session: Session, world: World) -> None:
    penalty_case(session, world, filed_on=days_ago(100))
    evaluate(session, codes=[OVERDUE])
    later = evaluate(session, now=EPOCH + timedelta(days=3), codes=[OVERDUE])
    (flag,) = flags(session, OVERDUE)
    assert flag.evidence["stages"][0]["days_late"] == 13
    assert "已逾期13日" in flag.message
    assert (later.rules[0].updated, later.rules[0].raised) == (1, 0)
    assert steps_of(session, flag) == ["raised"]


def test_a_flag_is_cleared_when_fixed_and_raised_again(session: Session, world: World) -> None:
    case = penalty_case(session, world, filed_on=days_ago(100))
    evaluate(session)
    case.extended_until = TODAY + timedelta(days=20)
    session.flush()
    cleared = evaluate(session)
    (flag,) = flags(session, OVERDUE, cleared=True)
    assert flag.cleared_at == EPOCH and flag.state == "open"
    assert {r.code: r.cleared for r in cleared.rules}[OVERDUE] == 1
    case.extended_until = None
    session.flush()
    evaluate(session, now=EPOCH + timedelta(hours=1))
    (again,) = flags(session, OVERDUE)
    assert again.id == flag.id and again.cleared_at is None and again.times_raised == 2
    assert steps_of(session, again) == ["raised", "cleared", "raised_again"]


def _principal(world: World, name: str) -> Principal:
    return Principal(actor=actor_of(world.people[name]))


def test_a_closed_case_reopens_when_its_flag_fires_anew(session: Session, world: World) -> None:
    case = penalty_case(session, world, filed_on=days_ago(100))
    other = penalty_case(session, world, filed_on=days_ago(100))
    evaluate(session)
    by_subject = {f.subject_id: f.id for f in flags(session, OVERDUE)}
    principal = _principal(world, "esup")
    caller = service.caller_of(session, principal)
    service.act(
        session,
        principal,
        caller,
        by_subject[case.id],
        Action.CLOSE,
        now=EPOCH,
        today=TODAY,
        note="已督促延期审批",
    )
    service.act(
        session,
        principal,
        caller,
        by_subject[other.id],
        Action.DISMISS,
        now=EPOCH,
        today=TODAY,
        reason="系统外已批准延期",
    )
    # Still breaking the rule: closed and dismissed cases stay as they are.
    evaluate(session)
    assert {f.state for f in flags(session, OVERDUE)} == {"closed", "dismissed"}
    # Cleared, then late again: the closed case goes back to the supervisor, the dismissed
    # one stays dismissed.
    for c in (case, other):
        c.extended_until = TODAY + timedelta(days=1)
    session.flush()
    evaluate(session)
    evaluate(session, now=EPOCH + timedelta(days=5))
    states = {f.subject_id: f for f in flags(session, OVERDUE)}
    assert states[case.id].state == "open" and states[case.id].closed_at is None
    assert states[case.id].resolution == ""
    assert states[other.id].state == "dismissed"
    assert steps_of(session, states[case.id]) == [
        "raised",
        "close",
        "cleared",
        "raised_again",
        "reopened",
    ]


def test_an_inactive_rule_is_not_evaluated(session: Session, world: World) -> None:
    penalty_case(session, world, filed_on=days_ago(100))
    load_default_rules(session, now=EPOCH)
    rule = rule_by_code(session, OVERDUE)
    assert rule is not None
    rule.active = False
    result = evaluate(session)
    assert OVERDUE not in {r.code for r in result.rules}
    assert flags(session, OVERDUE) == []
    assert rule.evaluated_at is None


def test_parameters_are_validated_and_named() -> None:
    assert parse_params("repeated_inspection", {"window_days": 7}).model_dump() == {
        "max_inspections": 2,
        "window_days": 7,
    }
    with pytest.raises(Invalid) as bad:
        parse_params("repeated_inspection", {"window_days": 0, "colour": "red"})
    paths = {e.path for e in bad.value.errors}
    assert paths == {"parameters.window_days", "parameters.colour"}
