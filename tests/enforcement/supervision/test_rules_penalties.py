"""The rules over penalty cases: each fires on a case made to break it and stays silent on
one that keeps it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import (
    World,
    at,
    days_ago,
    decided_case,
    evaluate,
    flags,
    penalty_case,
    step,
    subjects,
)
from tests.factories import EPOCH

from cityops.enforcement.supervision.evaluator import load_default_rules
from cityops.enforcement.supervision.repository import rule_by_code

CASE = "penalty_case"


# -- overdue stages ---------------------------------------------------------------------------


def test_overdue_fires_on_a_decision_past_ninety_days(session: Session, world: World) -> None:
    late = penalty_case(session, world, filed_on=days_ago(100))
    evaluate(session, codes=["overdue-stage"])
    (flag,) = flags(session, "overdue-stage")
    assert (flag.subject_type, flag.subject_id) == (CASE, late.id)
    (stage,) = flag.evidence["stages"]
    assert stage == {
        "stage": "decision",
        "name": "作出处罚决定",
        "from": days_ago(100).isoformat(),
        "due": days_ago(10).isoformat(),
        "done": None,
        "days_late": 10,
    }
    assert flag.agency_id == world.agency_a.id
    assert late.number in flag.message and "已逾期10日" in flag.message


def test_overdue_silent_on_a_case_within_its_extension(session: Session, world: World) -> None:
    penalty_case(session, world, filed_on=days_ago(100), extended_until=days_ago(-20), extensions=1)
    penalty_case(session, world, filed_on=days_ago(89))  # due tomorrow
    penalty_case(session, world, filed_on=days_ago(100), stage="terminated")  # ended undecided
    decided_case(session, world)
    evaluate(session, codes=["overdue-stage"])
    assert flags(session, "overdue-stage") == []


def test_overdue_fires_on_service_and_closing_late(session: Session, world: World) -> None:
    # Decided on Monday 2 November: seven working days end on Wednesday 11 November.
    unserved = decided_case(
        session,
        world,
        date(2026, 11, 2),
        served_on=None,
        stage="decided",
        published_on=date(2026, 11, 3),
        closed_on=None,
    )
    late_decision = decided_case(session, world, filed_on=days_ago(200), decided_on=days_ago(95))
    never_closed = decided_case(
        session,
        world,
        decided_on=days_ago(300),
        filed_on=days_ago(320),
        closed_on=None,
        stage="executing",
    )
    evaluate(session, codes=["overdue-stage"])
    found = {f.subject_id: f for f in flags(session, "overdue-stage")}
    assert set(found) == {unserved.id, late_decision.id, never_closed.id}
    (service,) = found[unserved.id].evidence["stages"]
    assert (service["stage"], service["due"], service["days_late"]) == ("service", "2026-11-11", 13)
    (decision,) = found[late_decision.id].evidence["stages"]
    assert (decision["stage"], decision["done"], decision["days_late"]) == (
        "decision",
        days_ago(95).isoformat(),
        15,
    )
    assert [s["stage"] for s in found[never_closed.id].evidence["stages"]] == ["closing"]


def test_overdue_late_completion_can_be_left_out(session: Session, world: World) -> None:
    decided_case(session, world, filed_on=days_ago(200), decided_on=days_ago(95))
    load_default_rules(session, now=EPOCH)
    rule = rule_by_code(session, "overdue-stage")
    assert rule is not None
    rule.parameters = {**rule.parameters, "include_late_completed": False}
    evaluate(session, codes=["overdue-stage"])
    assert flags(session, "overdue-stage") == []


# -- fines outside the benchmark ----------------------------------------------------------------


def test_fine_outside_benchmark_fires_without_a_reason(session: Session, world: World) -> None:
    above = decided_case(session, world, fine=40000)
    below = decided_case(session, world, fine=1000)
    times = decided_case(session, world, grade="heavier", fine=50000, base_amount=10000)
    evaluate(session, codes=["fine-outside-benchmark"])
    found = {f.subject_id: f for f in flags(session, "fine-outside-benchmark")}
    assert set(found) == {above.id, below.id, times.id}
    evidence = found[above.id].evidence
    assert evidence["fine"] == 40000 and evidence["grade"] == "ordinary"
    assert [(r["fine_min"], r["fine_max"]) for r in evidence["allowed"]] == [(15000, 35000)]
    assert "40,000元" in found[above.id].message and "15,000–35,000元" in found[above.id].message
    assert "1–3倍" in found[times.id].message


def test_fine_outside_benchmark_silent_within_or_with_reason(
    session: Session, world: World
) -> None:
    decided_case(session, world, fine=35000)  # the upper bound is allowed
    decided_case(session, world, fine=40000, departure_reason="经集体讨论，情节特别严重")
    decided_case(session, world, grade="heavier", fine=50000)  # a multiple of an unknown base
    decided_case(session, world, grade="heavier", fine=25000, base_amount=10000)
    lighter = world.item.benchmarks[1]
    decided_case(session, world, grade="ordinary", benchmark_id=lighter.id, fine=10000)
    decided_case(session, world, decision_kind="no_penalty", grade="none", fine=None)
    evaluate(session, codes=["fine-outside-benchmark"])
    assert flags(session, "fine-outside-benchmark") == []


# -- publication -------------------------------------------------------------------------------


def test_publication_fires_when_unpublished_or_late(session: Session, world: World) -> None:
    unpublished = decided_case(session, world, decided_on=days_ago(20), published_on=None)
    late = decided_case(session, world, decided_on=days_ago(40), published_on=days_ago(20))
    evaluate(session, codes=["decision-not-published"])
    found = {f.subject_id: f for f in flags(session, "decision-not-published")}
    assert set(found) == {unpublished.id, late.id}
    assert found[unpublished.id].evidence["published_on"] is None
    assert "仍未公示" in found[unpublished.id].message
    assert found[late.id].evidence["published_on"] == days_ago(20).isoformat()


def test_publication_silent_when_in_time_or_not_required(session: Session, world: World) -> None:
    decided_case(session, world, decided_on=days_ago(20), published_on=days_ago(15))
    decided_case(session, world, decided_on=days_ago(3), published_on=None)  # not yet due
    decided_case(session, world, decided_on=days_ago(20), published_on=None, procedure="simplified")
    decided_case(
        session,
        world,
        decided_on=days_ago(20),
        published_on=None,
        decision_kind="no_penalty",
        grade="none",
        fine=None,
    )
    evaluate(session, codes=["decision-not-published"])
    assert flags(session, "decision-not-published") == []


def test_publication_counts_working_days_across_national_day(
    session: Session, world: World
) -> None:
    # Decided Wednesday 30 September 2026; 1–7 October are holidays and Saturday 10 October
    # a make-up working day: the seventh working day after is Thursday 15 October.
    decided = date(2026, 9, 30)
    in_time = decided_case(session, world, decided_on=decided, published_on=date(2026, 10, 15))
    late = decided_case(session, world, decided_on=decided, published_on=date(2026, 10, 16))
    evaluate(session, codes=["decision-not-published"])
    (flag,) = flags(session, "decision-not-published")
    assert flag.subject_id == late.id != in_time.id
    assert flag.evidence["due"] == "2026-10-15"
    assert "2026-10-15前" in flag.message


def test_publication_published_a_week_later_is_late_without_a_holiday(
    session: Session, world: World
) -> None:
    # Decided Monday 2 November: the seventh working day after is Wednesday 11 November.
    decided_case(session, world, decided_on=date(2026, 11, 2), published_on=date(2026, 11, 11))
    late = decided_case(
        session, world, decided_on=date(2026, 11, 2), published_on=date(2026, 11, 12)
    )
    evaluate(session, codes=["decision-not-published"])
    assert subjects(session, "decision-not-published") == {(CASE, late.id)}


# -- legal review ------------------------------------------------------------------------------


def test_missing_legal_review_fires_when_none_passed_before_the_decision(
    session: Session, world: World
) -> None:
    never = decided_case(
        session, world, legal_review_required=True, legal_review_why="罚款达到重大执法决定标准"
    )
    after = decided_case(session, world, legal_review_required=True)
    step(session, after, "legal_review_passed", at(after.decided_on + timedelta(days=1)), [])  # type: ignore[operator]
    evaluate(session, codes=["missing-legal-review"])
    found = {f.subject_id: f for f in flags(session, "missing-legal-review")}
    assert set(found) == {never.id, after.id}
    assert "罚款达到重大执法决定标准" in found[never.id].message


def test_missing_legal_review_silent_when_reviewed_or_not_required(
    session: Session, world: World
) -> None:
    reviewed = decided_case(session, world, legal_review_required=True)
    step(session, reviewed, "legal_review_passed", at(reviewed.decided_on, 9), [])  # type: ignore[arg-type]
    decided_case(session, world, legal_review_required=False)
    penalty_case(session, world, legal_review_required=True)  # not decided yet
    evaluate(session, codes=["missing-legal-review"])
    assert flags(session, "missing-legal-review") == []


# -- service and exemption ----------------------------------------------------------------------


def test_closed_without_service_fires(session: Session, world: World) -> None:
    closed = decided_case(session, world, served_on=None)
    evaluate(session, codes=["closed-without-service"])
    (flag,) = flags(session, "closed-without-service")
    assert flag.subject_id == closed.id
    assert flag.evidence["closed_on"] == closed.closed_on.isoformat()  # type: ignore[union-attr]
    assert "无处罚决定书送达记录" in flag.message


def test_closed_without_service_silent_when_served_or_open(session: Session, world: World) -> None:
    decided_case(session, world)
    decided_case(session, world, served_on=None, closed_on=None, stage="decided")
    evaluate(session, codes=["closed-without-service"])
    assert flags(session, "closed-without-service") == []


def test_penalty_on_exempt_item_fires(session: Session, world: World) -> None:
    fined = decided_case(
        session, world, item_id=world.exempt_item.id, exempt="first_violation", fine=500
    )
    evaluate(session, codes=["penalty-on-exempt-item"])
    (flag,) = flags(session, "penalty-on-exempt-item")
    assert flag.subject_id == fined.id
    assert flag.evidence["item_code"] == "T-ITEM-2" and flag.evidence["fine"] == 500
    assert "首违不罚清单" in flag.message


def test_penalty_on_exempt_item_silent_when_not_punished(session: Session, world: World) -> None:
    decided_case(
        session,
        world,
        item_id=world.exempt_item.id,
        exempt="first_violation",
        decision_kind="no_penalty",
        grade="none",
        fine=None,
    )
    decided_case(session, world, item_id=world.exempt_item.id, fine=500)  # not a first violation
    decided_case(session, world, exempt="first_violation", fine=20000)  # the item is not listed
    evaluate(session, codes=["penalty-on-exempt-item"])
    assert flags(session, "penalty-on-exempt-item") == []
