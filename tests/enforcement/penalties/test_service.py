"""Penalty cases on a real database: filing within the limitation period, investigation by
certified officers, the benchmark and its departures, the first-violation exemption, the
notice and the decision it bounds, service, payment with its late fee, the overdue scan,
and a case from an inspection finding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.penalties.conftest import TODAY, Staff, day
from tests.factories import STREET_A

from cityops.auth.models import AuditEntry
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.penalties import opening, repository
from cityops.enforcement.penalties.actions import act
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.penalties.schemas import ActionBody, CaseOpen, OnTheSpot
from cityops.enforcement.penalties.service import INVESTIGATIVE_KINDS
from cityops.enforcement.penalties.workflow import IllegalTransition
from cityops.errors import Invalid

ACTION: TypeAdapter[Any] = TypeAdapter(ActionBody)


def do(session: Session, env: Any, staff: Staff, who: str, case: PenaltyCase,
       **body: Any) -> PenaltyCase:  # fmt: skip
    result = act(session, env(), staff.who(session, who), case.id, ACTION.validate_python(body))
    session.commit()
    return result


def open_cafe_case(session: Session, env: Any, staff: Staff, **changes: Any) -> PenaltyCase:
    body = CaseOpen.model_validate({
        "item_code": "XF-CF-001", "business_id": staff.cafe_id, "source": "complaint",
        "facts": "营业期间二楼安全出口被桌椅堵塞", "violation_on": "2026-11-20",
        **changes,
    })  # fmt: skip
    case = opening.open_case(session, env(), staff.who(session, "zhangwei"), body)
    session.commit()
    return case


def team(staff: Staff, *names: str) -> list[int]:
    return [staff.officers[n] for n in names]


def test_a_case_from_filing_to_closing(session: Session, staff: Staff, env: Any,
                                       clock: Any) -> None:  # fmt: skip
    case = open_cafe_case(session, env, staff)
    assert case.stage == "filing" and case.number is None
    assert case.stage_due == day("2026-12-15")  # 15 working days from discovery (24 Nov)
    case = do(session, env, staff, "fire_lead", case, action="approve_filing",
              officer_ids=team(staff, "张伟", "李娜"))  # fmt: skip
    assert case.number == "渝中消立字〔2026〕第1号"
    assert (case.filed_on, case.decision_due) == (TODAY, day("2027-02-22"))
    do(session, env, staff, "zhangwei", case, action="inspect_site",
       officer_ids=team(staff, "张伟", "李娜"), record="二楼安全出口被桌椅堵塞",
       findings=["安全出口堵塞"])  # fmt: skip
    do(session, env, staff, "lina", case, action="record_inquiry", record="承认堵塞",
       officer_ids=team(staff, "张伟", "李娜"), person="赵六（负责人）")  # fmt: skip
    case = do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
              measures=["fine"], fine=20_000)  # fmt: skip
    assert case.stage == "notifying" and not case.legal_review_required
    assert not case.hearing_right
    case = do(session, env, staff, "zhangwei", case, action="serve_notice")
    assert case.stage == "notified" and case.statement_due == day("2026-12-01")
    with pytest.raises(IllegalTransition) as early:
        do(session, env, staff, "zhangwei", case, action="lapse")
    assert early.value.extra["current_stage"] == "notified"
    session.rollback()
    clock.advance(days=8)  # Wed 2 Dec: the five working days passed
    case = do(session, env, staff, "zhangwei", case, action="lapse")
    case = do(session, env, staff, "fire_lead", case, action="decide", note="维持拟处罚意见")
    assert case.stage == "decided" and case.decided_on == day("2026-12-02")
    assert case.publication_required and case.publication_due == day("2026-12-11")
    case = do(session, env, staff, "zhangwei", case, action="serve", recipient="赵六",
              officer_ids=team(staff, "张伟", "李娜"))  # fmt: skip
    assert case.stage == "executing" and case.payment_due == day("2026-12-17")
    clock.advance(days=17)  # two days late: 3 % a day
    case = do(session, env, staff, "zhangwei", case, action="record_payment", amount="21200")
    assert case.stage == "executed" and case.late_fee_fen == 120_000
    case = do(session, env, staff, "fire_lead", case, action="publish")
    case = do(session, env, staff, "fire_lead", case, action="close")
    assert case.stage == "closed" and case.closed_on == day("2026-12-19")
    steps = repository.steps_of(session, case.id)
    assert [s.kind for s in steps] == [
        "opened", "filed", "site_inspected", "inquiry_recorded", "penalty_proposed",
        "notice_served", "statement_period_lapsed", "decided", "served", "paid", "published",
        "closed",
    ]  # fmt: skip
    investigative = [s for s in steps if s.kind in INVESTIGATIVE_KINDS]
    assert investigative and all(len(s.officer_ids) >= 2 for s in investigative)
    documents = session.scalars(select(IssuedDocument).where(
        IssuedDocument.subject_kind == "penalty_case", IssuedDocument.subject_id == case.id
    ).order_by(IssuedDocument.id)).all()  # fmt: skip
    assert [(d.kind, d.number) for d in documents] == [
        ("filing_approval", "渝中消立字〔2026〕第1号"),
        ("on_site_record", "渝中消检字〔2026〕第1号"),
        ("advance_notice", "渝中消罚告字〔2026〕第1号"),
        ("penalty_decision", "渝中消罚决字〔2026〕第1号"),
        ("service_proof", "渝中消送字〔2026〕第1号"),
    ]
    assert {s.document_id for s in steps if s.document_id} == {d.id for d in documents}
    audited = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity == "penalty_case", AuditEntry.entity_id == str(case.id)
    )).all()  # fmt: skip
    assert len(audited) == len(steps)


def filed(session: Session, env: Any, staff: Staff, **changes: Any) -> PenaltyCase:
    """The café's case filed and investigated by 张伟 and 李娜."""
    case = open_cafe_case(session, env, staff, **changes)
    do(session, env, staff, "fire_lead", case, action="approve_filing",
       officer_ids=team(staff, "张伟", "李娜"))  # fmt: skip
    return do(session, env, staff, "zhangwei", case, action="collect_evidence",
              officer_ids=team(staff, "张伟", "李娜"), items=["现场照片3张"])  # fmt: skip


def test_an_expired_certificate_blocks_the_act_naming_the_officer(
    session: Session, staff: Staff, env: Any
) -> None:
    body = CaseOpen(item_code="SP-CF-001", business_id=staff.cafe_id, violation_on=TODAY,
                    facts="未取得食品经营许可销售饮品")  # fmt: skip
    case = opening.open_case(session, env(), staff.who(session, "liuyang"), body)
    session.commit()
    with pytest.raises(Invalid) as caught:
        do(session, env, staff, "market_lead", case, action="approve_filing",
           officer_ids=team(staff, "刘洋", "杨帆"))  # fmt: skip
    assert caught.value.status == 422
    problem = caught.value.errors[0]
    assert problem.path == "officer_ids.1" and "杨帆" in problem.message
    assert "expired on 2026-11-15" in problem.message
    session.rollback()
    with pytest.raises(Invalid) as foreign:  # an officer of the fire rescue
        do(session, env, staff, "market_lead", case, action="approve_filing",
           officer_ids=team(staff, "刘洋", "张伟"))  # fmt: skip
    assert foreign.value.errors[0].path == "officer_ids.1"
    assert "not for this agency" in foreign.value.errors[0].message
    session.rollback()
    with pytest.raises(Invalid) as alone:
        do(session, env, staff, "market_lead", case, action="approve_filing",
           officer_ids=team(staff, "刘洋"))  # fmt: skip
    assert "at least 2" in alone.value.errors[0].message
    session.rollback()
    assert session.get(PenaltyCase, case.id).stage == "filing"  # type: ignore[union-attr]


def test_filing_is_refused_after_the_limitation_period(
    session: Session, staff: Staff, env: Any
) -> None:
    with pytest.raises(Invalid) as caught:
        open_cafe_case(session, env, staff, violation_on="2024-11-23")
    assert caught.value.errors[0].path == "discovered_on"
    assert "2026-11-23" in caught.value.errors[0].message
    session.rollback()
    # Two years to the day is still in time; so is a continuing violation that ended later,
    # and one that harmed life or health (five years).
    assert open_cafe_case(session, env, staff, violation_on="2024-11-24").stage == "filing"
    assert open_cafe_case(session, env, staff, violation_on="2023-01-01",
                          violation_ended_on="2025-06-30").stage == "filing"  # fmt: skip
    assert open_cafe_case(session, env, staff, violation_on="2022-01-01",
                          serious_harm=True).stage == "filing"  # fmt: skip


def test_a_fine_outside_the_benchmark_needs_a_written_reason_and_legal_review(
    session: Session, staff: Staff, env: Any
) -> None:
    case = filed(session, env, staff)
    with pytest.raises(Invalid) as caught:
        do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
           measures=["fine"], fine=40_000)  # fmt: skip
    assert caught.value.errors[0].path == "departure_reason"
    assert "15,000–35,000" in caught.value.errors[0].message
    session.rollback()
    case = do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
              measures=["fine"], fine=40_000, departure_reason="经责令改正后再次堵塞")  # fmt: skip
    assert case.stage == "reviewing" and case.legal_review_required
    assert "超出裁量基准" in case.legal_review_why
    with pytest.raises(Exception, match="does not allow pass_review"):
        do(session, env, staff, "zhangwei", case, action="pass_review")
    session.rollback()
    case = do(session, env, staff, "legal", case, action="pass_review", note="理由充分")
    assert case.stage == "notifying" and case.reviewed_at is not None


def test_the_decision_may_not_be_heavier_than_the_notice_art_45(
    session: Session, staff: Staff, env: Any
) -> None:
    case = filed(session, env, staff)
    do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
       measures=["fine"], fine=20_000)  # fmt: skip
    do(session, env, staff, "zhangwei", case, action="serve_notice")
    do(session, env, staff, "zhangwei", case, action="record_statement",
       statement="已当场清除，请求从轻")  # fmt: skip
    for heavier, path in (({"fine": 25_000}, "fine"), ({"measures": ["fine", "warning"]},
                                                      "measures")):  # fmt: skip
        with pytest.raises(Invalid) as caught:
            do(session, env, staff, "fire_lead", case, action="decide", **heavier)
        assert caught.value.errors[0].path == path and "第四十五条" in caught.value.detail
        session.rollback()
    # Lighter is fine: the lighter grade's range, after the defence was taken.
    case = do(session, env, staff, "fire_lead", case, action="decide", grade="lighter",
              fine=10_000)  # fmt: skip
    assert (case.fine, case.grade, case.decision_kind) == (10_000, "lighter", "penalty")


def test_the_first_violation_exemption(session: Session, staff: Staff, env: Any) -> None:
    exempt = {"action": "decide", "outcome": "no_penalty", "exempt": "first_violation",
              "exempt_reason": "初次违法，及时更换灭火器", "first_violation": True,
              "harm_slight": True, "corrected": True}  # fmt: skip
    # XF-CF-001 is not on the list.
    case = filed(session, env, staff)
    with pytest.raises(Invalid) as caught:
        do(session, env, staff, "fire_lead", case, **exempt)
    assert caught.value.errors[0].path == "exempt" and "first-violation list" in (
        caught.value.errors[0].message
    )
    session.rollback()
    # XF-CF-002 is; every condition must be stated.
    case = filed(session, env, staff, item_code="XF-CF-002", facts="灭火器压力不足")
    with pytest.raises(Invalid) as missing:
        do(session, env, staff, "fire_lead", case, **exempt | {"harm_slight": False})
    assert missing.value.errors[0].path == "harm_slight"
    session.rollback()
    case = do(session, env, staff, "fire_lead", case, **exempt)
    assert case.stage == "decided" and case.exempt == "first_violation"
    assert case.fine is None and case.decision_kind == "no_penalty"
    assert not case.publication_required
    case = do(session, env, staff, "zhangwei", case, action="serve",
              officer_ids=team(staff, "张伟", "李娜"))  # fmt: skip
    assert case.stage == "executed"  # nothing to execute
    # Once the café was punished for the item, a later case is not a first violation.
    punished = filed(session, env, staff, item_code="XF-CF-002", facts="灭火器失效")
    punished.decided_on, punished.decision_kind = TODAY, "penalty"
    punished.number = "渝中消立字〔2026〕第99号"
    session.commit()
    again = filed(session, env, staff, item_code="XF-CF-002", facts="灭火器再次失效")
    with pytest.raises(Invalid) as second:
        do(session, env, staff, "fire_lead", again, **exempt)
    assert "not a first violation: case 渝中消立字〔2026〕第99号" in second.value.errors[0].message


def test_a_hearing_then_legal_review_then_a_collective_decision(
    session: Session, staff: Staff, env: Any, clock: Any
) -> None:
    case = filed(session, env, staff)
    case = do(session, env, staff, "zhangwei", case, action="propose", grade="heavier",
              measures=["fine"], fine=50_000)  # fmt: skip
    assert case.stage == "reviewing" and case.hearing_right  # 50,000 reaches both figures
    do(session, env, staff, "legal", case, action="pass_review")
    case = do(session, env, staff, "zhangwei", case, action="serve_notice")
    assert case.hearing_request_due == day("2026-12-01")
    case = do(session, env, staff, "zhangwei", case, action="request_hearing")
    assert case.stage == "hearing" and case.hearing_requested
    wang = staff.officers["王强"]
    for body, path in (({"hearing_on": "2026-12-02", "host_officer_id": wang}, "hearing_on"),
                       ({"hearing_on": "2026-12-03", "host_officer_id": staff.officers["张伟"]},
                        "host_officer_id")):  # fmt: skip
        with pytest.raises(Invalid) as caught:
            do(session, env, staff, "zhangwei", case, action="notify_hearing", place="第一会议室",
               **body)  # fmt: skip
        assert caught.value.errors[0].path == path
        session.rollback()
    do(session, env, staff, "zhangwei", case, action="notify_hearing", place="第一会议室",
       hearing_on="2026-12-03", host_officer_id=wang)  # fmt: skip
    clock.advance(days=9)
    case = do(session, env, staff, "zhangwei", case, action="hold_hearing", record="当事人申辩")
    assert case.stage == "deciding" and "经过听证程序" in case.legal_review_why
    with pytest.raises(IllegalTransition, match="legal review must pass first"):
        do(session, env, staff, "fire_lead", case, action="decide")
    session.rollback()
    do(session, env, staff, "zhangwei", case, action="request_review")
    case = do(session, env, staff, "legal", case, action="pass_review")
    assert case.stage == "deciding"
    with pytest.raises(Invalid) as caught:
        do(session, env, staff, "fire_lead", case, action="decide")
    assert caught.value.errors[0].path == "collective"
    session.rollback()
    case = do(session, env, staff, "fire_lead", case, action="decide", collective=True)
    assert case.stage == "decided" and case.fine == 50_000


def test_extensions_of_the_ninety_days(session: Session, staff: Staff, env: Any) -> None:
    case = filed(session, env, staff)
    case = do(session, env, staff, "fire_lead", case, action="extend", note="需鉴定")
    assert case.extended_until == day("2027-03-24") and case.stage_due == day("2027-03-24")
    with pytest.raises(Invalid) as caught:
        do(session, env, staff, "fire_lead", case, action="extend", note="仍需鉴定")
    assert caught.value.errors[0].path == "collective"
    session.rollback()
    case = do(session, env, staff, "fire_lead", case, action="extend", note="仍需鉴定",
              collective=True)  # fmt: skip
    assert case.extended_until == day("2027-04-23") and case.extensions == 2


def spot(session: Session, env: Any, staff: Staff, **changes: Any) -> PenaltyCase:
    body = OnTheSpot.model_validate({
        "item_code": "XF-CF-001", "business_id": staff.cafe_id, "facts": "安全出口堆放杂物",
        "violation_on": TODAY.isoformat(), "officer_ids": team(staff, "张伟", "李娜"),
        "grade": "mitigated", "measures": ["fine"], "fine": 3000, **changes,
    })  # fmt: skip
    case = opening.open_on_the_spot(session, env(), staff.who(session, "zhangwei"), body)
    session.commit()
    return case


def test_the_simplified_procedure_on_the_spot(session: Session, staff: Staff, env: Any,
                                              clock: Any) -> None:  # fmt: skip
    case = spot(session, env, staff)
    assert case.stage == "executing" and case.number == "渝中消简罚字〔2026〕第1号"
    assert case.record_due == day("2026-11-26")
    with pytest.raises(Invalid) as caught:
        spot(session, env, staff, fine=3001)
    assert caught.value.errors[0].path == "fine"
    session.rollback()
    citizen = {
        "business_id": None,
        "region_code": STREET_A,
        "grade": "ordinary",
        "party": {"kind": "citizen", "name": "张三", "identifier": "500103199001010011"},
    }
    assert spot(session, env, staff, fine=200, **citizen).party_kind == "citizen"
    with pytest.raises(Invalid) as citizen_over:
        spot(session, env, staff, fine=201, **citizen)
    assert citizen_over.value.errors[0].path == "fine"
    session.rollback()
    case = do(session, env, staff, "zhangwei", case, action="record_payment", amount="3000")
    with pytest.raises(IllegalTransition, match="file the decision made on the spot"):
        do(session, env, staff, "fire_lead", case, action="close")
    session.rollback()
    clock.advance(days=3)  # Friday: a day late
    case = do(session, env, staff, "zhangwei", case, action="record_filing")
    steps = repository.steps_of(session, case.id)
    assert steps[-1].payload == {"on_time": False}
    assert [s.kind for s in steps] == ["decided_on_spot", "served", "paid", "recorded_with_agency"]
    assert do(session, env, staff, "fire_lead", case, action="close").stage == "closed"


def test_overdue_is_one_set_based_scan(session: Session, staff: Staff, env: Any) -> None:
    waiting = open_cafe_case(session, env, staff)  # filing due 15 Dec
    onspot = spot(session, env, staff)  # to be filed with the agency by 26 Nov
    case = filed(session, env, staff, item_code="XF-CF-002", facts="灭火器失效")
    assert repository.overdue(session, on=TODAY) == []
    rows = repository.overdue(session, on=day("2026-11-27"))
    assert [(r.case_id, r.kind, r.due) for r in rows] == [
        (onspot.id, "record", day("2026-11-26"))]  # fmt: skip
    rows = repository.overdue(session, on=day("2026-12-16"))
    # The fine of the spot decision was due fifteen days after it was handed over (9 Dec).
    assert {(r.case_id, r.kind, r.due) for r in rows} == {
        (onspot.id, "record", day("2026-11-26")), (onspot.id, "payment", day("2026-12-09")),
        (waiting.id, "filing", day("2026-12-15"))}  # fmt: skip
    assert case.stage_due == day("2027-02-22")
    late = {(r.case_id, r.kind) for r in repository.overdue(session, on=day("2027-02-23"))}
    assert (case.id, "decision") in late
    # Decided (no penalty, made public all the same): publication due in 7 working days.
    do(session, env, staff, "fire_lead", case, action="decide", outcome="no_penalty",
       note="违法事实不能成立", publish=True)  # fmt: skip
    late = {(r.case_id, r.kind, r.due) for r in repository.overdue(session, on=day("2026-12-04"))}
    assert (case.id, "publication", day("2026-12-03")) in late
    assert (case.id, "service", day("2026-12-03")) in late
    fire = staff.agencies["YZ-XFJY"]
    assert repository.overdue(session, on=day("2027-02-23"), agency_ids=[fire + 1000]) == []


def test_a_case_from_an_inspection_finding_once(session: Session, staff: Staff, env: Any,
                                                finding: Any) -> None:  # fmt: skip
    actor = staff.people["zhangwei"].id
    case = opening.open_from_finding(session, finding_id=finding.id, actor_id=actor,
                                     now=env().now)  # fmt: skip
    session.commit()
    again = opening.open_from_finding(session, finding_id=finding.id, actor_id=actor,
                                      now=env().now + timedelta(minutes=5))  # fmt: skip
    assert again.id == case.id and finding.penalty_case_id == case.id
    assert (case.source, case.origin_kind, case.origin_id) == (
        "inspection",
        "inspection_finding",
        finding.id,
    )
    assert case.business_id == staff.cafe_id and case.party_name == "重庆市渝中区极速网咖有限公司"
    assert case.officer_ids == team(staff, "张伟", "李娜")
    assert case.facts == "营业期间二楼安全出口被桌椅堵塞"
    opened_step = session.scalars(select(PenaltyStep).where(PenaltyStep.case_id == case.id)).one()
    assert opened_step.payload["photos"] == ["inspections/2026/11/exit.jpg"]


def test_a_returned_review_and_a_reopened_investigation_start_the_proposal_afresh(
    session: Session, staff: Staff, env: Any
) -> None:
    case = filed(session, env, staff)
    do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
       measures=["fine"], fine=20_000, complex=True)  # fmt: skip
    assert case.stage == "reviewing" and "疑难复杂" in case.legal_review_why
    with pytest.raises(Invalid):
        do(session, env, staff, "legal", case, action="return_review", note=" ")
    session.rollback()
    case = do(session, env, staff, "legal", case, action="return_review", note="证据不足")
    assert case.stage == "investigating"
    do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
       measures=["fine"], fine=20_000)  # fmt: skip
    case = do(session, env, staff, "zhangwei", case, action="serve_notice")
    assert case.notice == {"number": "渝中消罚告字〔2026〕第1号", "on": "2026-11-24",
                           "fine": 20_000, "measures": ["fine"]}  # fmt: skip
    case = do(session, env, staff, "fire_lead", case, action="reopen_investigation",
              note="当事人提供新证据")  # fmt: skip
    case = do(session, env, staff, "zhangwei", case, action="propose", grade="ordinary",
              measures=["fine"], fine=25_000)  # fmt: skip
    assert case.stage == "notifying" and case.notice is None and case.notified_on is None
    case = do(session, env, staff, "fire_lead", case, action="terminate", note="涉嫌犯罪，移送公安")
    assert case.stage == "terminated" and case.stage_due is None
