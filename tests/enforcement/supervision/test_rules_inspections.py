"""The rules over inspections and the officers on every act: each fires on a subject made to
break it and stays silent on one that keeps it."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from tests.enforcement.supervision.factories import (
    World,
    at,
    days_ago,
    decided_case,
    evaluate,
    flags,
    inspection,
    step,
)
from tests.factories import STREET_B

VISIT, CASE = "inspection", "penalty_case"


# -- re-inspection after the rectification deadline ---------------------------------------------


def test_overdue_fires_on_a_deadline_without_reinspection(session: Session, world: World) -> None:
    # The deadline Monday 2 November; three working days later is Thursday 5 November.
    waiting = inspection(
        session,
        world,
        day=date(2026, 10, 20),
        state="notice_served",
        rectification_deadline=date(2026, 11, 2),
    )
    late = inspection(
        session,
        world,
        day=date(2026, 10, 20),
        rectification_deadline=date(2026, 11, 2),
        reinspected_on=date(2026, 11, 9),
    )
    evaluate(session, codes=["overdue-stage"])
    found = {f.subject_id: f for f in flags(session, "overdue-stage")}
    assert set(found) == {waiting.id, late.id}
    (stage,) = found[waiting.id].evidence["stages"]
    assert (stage["stage"], stage["due"], stage["done"], stage["days_late"]) == (
        "reinspection",
        "2026-11-05",
        None,
        19,
    )
    assert found[late.id].evidence["stages"][0]["done"] == "2026-11-09"
    assert "极速网咖" in found[waiting.id].message and "至今未复查" in found[waiting.id].message


def test_overdue_silent_on_a_timely_reinspection(session: Session, world: World) -> None:
    inspection(
        session,
        world,
        day=date(2026, 10, 20),
        rectification_deadline=date(2026, 11, 2),
        reinspected_on=date(2026, 11, 5),
    )
    inspection(session, world, state="notice_served", rectification_deadline=days_ago(1))
    inspection(session, world, state="cancelled", rectification_deadline=days_ago(60))
    evaluate(session, codes=["overdue-stage"])
    assert flags(session, "overdue-stage") == []


# -- inspections without a plan -----------------------------------------------------------------


def test_without_plan_fires_on_an_unplanned_visit(session: Session, world: World) -> None:
    visit = inspection(session, world, plan=False, source="other")
    evaluate(session, codes=["inspection-without-plan"])
    (flag,) = flags(session, "inspection-without-plan")
    assert (flag.subject_type, flag.subject_id, flag.agency_id) == (
        VISIT,
        visit.id,
        world.agency_a.id,
    )
    assert flag.evidence["source"] == "other" and "未列入检查计划" in flag.message


def test_without_plan_silent_on_plans_complaints_and_referrals(
    session: Session, world: World
) -> None:
    inspection(session, world)
    inspection(session, world, plan=False, source="complaint")
    inspection(session, world, plan=False, source="referral")
    inspection(session, world, plan=False, source="other", started=False, state="scheduled")
    evaluate(session, codes=["inspection-without-plan"])
    assert flags(session, "inspection-without-plan") == []


# -- repeated inspections (扰企) ------------------------------------------------------------------


def test_repeated_fires_on_a_third_visit_within_thirty_days(session: Session, world: World) -> None:
    inspection(session, world, day=days_ago(25))
    inspection(session, world, day=days_ago(12), agency=world.agency_b, officers=("b1", "b2"))
    third = inspection(session, world, day=days_ago(2))
    evaluate(session, codes=["repeated-inspection"])
    (flag,) = flags(session, "repeated-inspection")
    assert (flag.subject_type, flag.subject_id) == (VISIT, third.id)
    evidence = flag.evidence
    assert evidence["count"] == 3 and evidence["business_name"] == "极速网咖"
    assert [v["day"] for v in evidence["visits"]] == [days_ago(n).isoformat() for n in (25, 12, 2)]
    assert evidence["visits"][1]["agency_names"] == ["测试消防救援支队"]
    assert "3次" in flag.message


def test_repeated_counts_a_joint_visit_once(session: Session, world: World) -> None:
    inspection(session, world, day=days_ago(25))
    # Fire rescue joins market regulation's visit: one visit, not two.
    inspection(session, world, day=days_ago(12), accepted={world.agency_b: ("b1", "b2")})
    inspection(session, world, day=days_ago(70))  # outside the window
    inspection(session, world, day=days_ago(5), state="cancelled")
    inspection(
        session,
        world,
        business=world.business_b,
        day=days_ago(4),
        region=STREET_B,
        agency=world.agency_b,
        officers=("b1", "b2"),
    )
    evaluate(session, codes=["repeated-inspection"])
    assert flags(session, "repeated-inspection") == []


# -- officers' certificates and regions -----------------------------------------------------------


def test_certificate_fires_on_expired_outside_region_and_other_agency(
    session: Session, world: World
) -> None:
    expired = inspection(session, world, officers=("a1", "a_expired"))
    outside = inspection(session, world, business=world.business_b, officers=("a1", "a2"))
    narrow = inspection(session, world, agency=world.agency_b, officers=("b1", "b_street_b"))
    case = decided_case(session, world)
    step(
        session,
        case,
        "inquiry_recorded",
        at(days_ago(50)),
        [world.officers["a1"].id, world.officers["b1"].id],
    )
    evaluate(session, codes=["officer-certificate"])
    found = {(f.subject_type, f.subject_id): f for f in flags(session, "officer-certificate")}
    assert set(found) == {
        (VISIT, expired.id),
        (VISIT, outside.id),
        (VISIT, narrow.id),
        (CASE, case.id),
    }
    (bad,) = found[(VISIT, expired.id)].evidence["officers"]
    assert (bad["certificate_number"], bad["problems"], bad["valid_until"]) == (
        "CERT-a_expired",
        ["expired"],
        "2026-06-30",
    )
    assert "执法证已过期（有效期至2026-06-30）" in found[(VISIT, expired.id)].message
    problems = {o["name"]: o["problems"] for o in found[(VISIT, outside.id)].evidence["officers"]}
    assert problems == {"执法员a1": ["outside_region"], "执法员a2": ["outside_region"]}
    (narrow_officer,) = found[(VISIT, narrow.id)].evidence["officers"]
    assert narrow_officer["certificate_number"] == "CERT-b_street_b"
    (case_step,) = found[(CASE, case.id)].evidence["steps"]
    assert case_step["kind"] == "inquiry_recorded"
    assert [o["problems"] for o in case_step["officers"]] == [["other_agency"]]


def test_certificate_silent_on_valid_officers_in_their_regions(
    session: Session, world: World
) -> None:
    inspection(session, world)
    inspection(
        session,
        world,
        agency=world.agency_b,
        business=world.business_b,
        officers=("b1", "b_street_b"),
    )
    # Before the certificate expired on 30 June it was valid.
    inspection(session, world, day=date(2026, 5, 4), officers=("a1", "a_expired"))
    case = decided_case(session, world)
    step(
        session,
        case,
        "inquiry_recorded",
        at(days_ago(50)),
        [world.officers["a1"].id, world.officers["a2"].id],
    )
    evaluate(session, codes=["officer-certificate"])
    assert flags(session, "officer-certificate") == []


# -- too few officers ---------------------------------------------------------------------------


def test_too_few_fires_per_acting_agency_and_step(session: Session, world: World) -> None:
    alone = inspection(session, world, officers=("a1",))
    expired_pair = inspection(session, world, officers=("a1", "a_expired"))
    joint = inspection(session, world, accepted={world.agency_b: ("b1",)})
    case = decided_case(session, world)
    step(session, case, "inquiry_recorded", at(days_ago(50)), [world.officers["a1"].id])
    evaluate(session, codes=["too-few-officers"])
    found = {(f.subject_type, f.subject_id): f for f in flags(session, "too-few-officers")}
    assert set(found) == {
        (VISIT, alone.id),
        (VISIT, expired_pair.id),
        (VISIT, joint.id),
        (CASE, case.id),
    }
    assert found[(VISIT, expired_pair.id)].evidence["agencies"] == [
        {"agency_id": world.agency_a.id, "agency_name": "测试市场监督管理局", "certified": 1}
    ]
    # The visit's short agency answers for it, not the lead that brought two.
    assert found[(VISIT, joint.id)].agency_id == world.agency_b.id
    (case_step,) = found[(CASE, case.id)].evidence["steps"]
    assert (case_step["kind"], case_step["named"], case_step["certified"]) == (
        "inquiry_recorded",
        1,
        1,
    )
    assert "不足2人" in found[(CASE, case.id)].message


def test_too_few_silent_on_two_certified_officers(session: Session, world: World) -> None:
    inspection(session, world)
    inspection(session, world, accepted={world.agency_b: ("b1", "b2")})
    inspection(session, world, officers=(), started=False, state="scheduled")
    case = decided_case(session, world)
    step(
        session,
        case,
        "inquiry_recorded",
        at(days_ago(50)),
        [world.officers["a1"].id, world.officers["a2"].id],
    )
    step(session, case, "decided", at(days_ago(30)), [world.officers["a1"].id])  # not investigative
    evaluate(session, codes=["too-few-officers"])
    assert flags(session, "too-few-officers") == []
