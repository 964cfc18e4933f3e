"""The internet café's story as the public entrance sees it, built in a database that holds
the shipped registries and business directory: a published random plan of 解放碑街道 whose
visit to 极速网咖 (by the street team and the fire brigade) found two problems and left one
combined rectification notice, issued and served; a visit to another café that found none;
and published penalty decisions, one on the café (fine unpaid past its deadline) and one on
a citizen. Used by the API tests and, against the server's database, by the page test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.auth.service import actor_of
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.documents import content as c
from cityops.enforcement.documents import service as documents
from cityops.enforcement.inspections import rectification
from cityops.enforcement.inspections.models import (
    Finding,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
    RectificationNotice,
)
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries.models import Agency, ChecklistItem, Item, Officer
from cityops.kit.storage import BlobStorage
from cityops.org.models import Person

CAFE = "91500103232332119Y"  # 渝中区极速网咖, 解放碑街道, phone 13923000001
CAFE_PHONE = "13923000001"
OTHER_CAFE = "915001030729142826"  # 重庆星际电竞网咖有限公司, 13923000002
OTHER_PHONE = "13923000002"
JIEFANGBEI = "500103010"
PLAN_TITLE = "2026年第四季度解放碑街道网吧“双随机”抽查"
CITIZEN_NAME = "张三丰"
CITIZEN_ID = "500103199001011234"
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Story:
    plan_id: int
    visit_id: int
    notice_id: int
    notice_number: str
    notice_document_id: int
    cafe_case_id: int
    decision_number: str
    decision_document_id: int
    citizen_case_id: int
    other_case_id: int


def _officer_person(session: Session, username: str, certificate: str, password: str) -> Person:
    officer = session.scalar(select(Officer).where(Officer.certificate_number == certificate))
    assert officer is not None
    person = Person(code=username, name=officer.name, roles=["officer"], active=True)
    session.add(person)
    session.flush()
    session.add(
        Account(person_id=person.id, username=username, password_hash=hash_password(password),
                active=True, token_version=0)
    )  # fmt: skip
    officer.person_id = person.id
    session.flush()
    return person


def build(session: Session, storage: BlobStorage, now: datetime, password: str) -> Story:
    """The story, committed by the caller: the visit three days before `now`, the notice's
    deadlines three and ten days after its day."""
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    officers = {o.certificate_number: o for o in session.scalars(select(Officer))}
    items = {i.code: i for i in session.scalars(select(Item))}
    businesses = {b.credit_code: b for b in session.scalars(select(Business))}
    street, fire = agencies["YZ-JFB-ZF"], agencies["YZ-XFJY"]
    sun = _officer_person(session, "jfb_sun", "500103-JFB-0001", password)

    visited = now - timedelta(days=3)
    today = now.astimezone(ZONE).date()
    plan = InspectionPlan(
        number="渝中解放碑抽〔2026〕第4号", title=PLAN_TITLE, kind="random",
        initiator_agency_id=street.id, region_code=JIEFANGBEI, state="in_progress",
        planned_from=date(2026, 11, 16), planned_until=date(2026, 12, 15),
        item_ids=[items["XF-CF-001"].id, items["WH-CF-003"].id], type_codes=["internet-cafe"],
        target_count=2, seed=20261116,
        draw={"seed": 20261116, "candidates": 12, "candidates_digest": "9f" * 32, "roster": 2,
              "roster_digest": "1e" * 32,
              "targets": [{"business_id": businesses[CAFE].id, "key": CAFE, "officer_ids": []},
                          {"business_id": businesses[OTHER_CAFE].id, "key": OTHER_CAFE,
                           "officer_ids": []}],
              "shortfalls": []},
        published_at=visited - timedelta(days=5), created_by=sun.id,
        created_at=visited - timedelta(days=6),
    )  # fmt: skip
    session.add(plan)
    session.flush()

    def visit(business: Business, state: str, outcome: str | None) -> Inspection:
        row = Inspection(
            plan_id=plan.id, source="plan", business_id=business.id, lead_agency_id=street.id,
            region_code=JIEFANGBEI, scheduled_at=visited, place=business.address,
            item_ids=plan.item_ids, started_at=visited, finished_at=visited + timedelta(hours=1),
            state=state, outcome=outcome,
            closed_at=visited + timedelta(hours=1) if state == "closed" else None,
        )  # fmt: skip
        session.add(row)
        session.flush()
        session.add(InspectionAgency(
            inspection_id=row.id, agency_id=street.id, role="initiator", state="accepted",
            invited_at=visited - timedelta(days=2),
        ))  # fmt: skip
        for cert in ("500103-JFB-0001", "500103-JFB-0002"):
            session.add(InspectionOfficer(inspection_id=row.id, officer_id=officers[cert].id,
                                          agency_id=street.id))  # fmt: skip
        return row

    visit(businesses[OTHER_CAFE], "closed", "compliant")
    cafe = visit(businesses[CAFE], "findings_recorded", None)
    session.add(InspectionAgency(inspection_id=cafe.id, agency_id=fire.id, role="invited",
                                 state="accepted", invited_at=visited - timedelta(days=2),
                                 responded_at=visited - timedelta(days=1)))  # fmt: skip
    for cert in ("500103-XF-0001", "500103-XF-0002"):
        session.add(InspectionOfficer(inspection_id=cafe.id, officer_id=officers[cert].id,
                                      agency_id=fire.id))  # fmt: skip
    exits = session.scalar(select(ChecklistItem).where(ChecklistItem.code == "XF-CF-001-01"))
    assert exits is not None
    session.add_all([
        Finding(inspection_id=cafe.id, agency_id=fire.id, checklist_item_id=exits.id,
                item_id=items["XF-CF-001"].id, officer_id=officers["500103-XF-0001"].id,
                outcome="fail", note="西侧安全出口被货架和纸箱堵塞",
                requirement="立即清除安全出口处堆放的货架和纸箱，保持疏散通道畅通",
                deadline=today + timedelta(days=3), recorded_at=visited),
        Finding(inspection_id=cafe.id, agency_id=street.id, item_id=items["WH-CF-003"].id,
                officer_id=officers["500103-JFB-0001"].id, outcome="fail",
                note="凌晨一时仍在营业", requirement="严格按照规定的营业时间营业",
                deadline=today + timedelta(days=10), recorded_at=visited),
    ])  # fmt: skip
    session.flush()
    actor = actor_of(sun)
    notice = rectification.issue_notice(session, storage, actor, cafe.id, contact="",
                                        now=visited + timedelta(hours=2))  # fmt: skip
    rectification.serve_notice(session, actor, cafe.id, method="in_person", served_at=None,
                               now=visited + timedelta(hours=3))  # fmt: skip

    cafe_case = _decided(session, storage, fire, items["XF-CF-001"], now,
                         party=businesses[CAFE], fine=5000, published=True)  # fmt: skip
    citizen = _decided(session, storage, fire, items["XF-CF-001"], now, party=None, fine=200,
                       published=True)  # fmt: skip
    other = _decided(session, storage, fire, items["XF-CF-001"], now,
                     party=businesses[OTHER_CAFE], fine=3000, published=False)  # fmt: skip
    session.flush()
    decision = documents.list_for_subject(session, "penalty_case", cafe_case.id, agency_ids=None)
    notice_row = session.get(RectificationNotice, notice.id)
    assert notice_row is not None and notice_row.document_id is not None
    return Story(
        plan_id=plan.id, visit_id=cafe.id, notice_id=notice.id, notice_number=notice.number,
        notice_document_id=notice_row.document_id, cafe_case_id=cafe_case.id,
        decision_number=decision[0].number, decision_document_id=decision[0].id,
        citizen_case_id=citizen.id, other_case_id=other.id,
    )  # fmt: skip


def _decided(session: Session, storage: BlobStorage, agency: Agency, item: Item, now: datetime,
             *, party: Business | None, fine: int, published: bool) -> PenaltyCase:  # fmt: skip
    """A decided penalty case of the fire brigade, served on 2 November (paid by the 17th,
    Art. 67), with its decision document issued."""
    decided = date(2026, 11, 1)
    row = PenaltyCase(
        number=f"渝中消罚立〔2026〕第{10 + (party.id if party else 0)}号", agency_id=agency.id,
        item_id=item.id, business_id=party.id if party else None,
        party_kind="organisation" if party else "citizen",
        party_name=party.name if party else CITIZEN_NAME,
        party_identifier=party.credit_code if party else CITIZEN_ID,
        party_address=party.address if party else "重庆市渝中区某小区",
        party_phone=party.phone if party else "13700000000",
        procedure="general", stage="executing", source="inspection",
        title="占用、堵塞疏散通道、安全出口案",
        facts=("2026年10月20日，执法人员检查发现当事人经营场所西侧安全出口被货架和纸箱堵塞，"
               "疏散通道宽度不足0.6米。当事人联系电话13700000000。"),
        region_code=JIEFANGBEI, officer_ids=[], violation_on=date(2026, 10, 20),
        discovered_on=date(2026, 10, 20), filed_on=date(2026, 10, 21),
        decision_due=date(2027, 1, 19), grade="ordinary", fine=fine, measures=["fine"],
        decision_kind="penalty", decided_on=decided, served_on=date(2026, 11, 2),
        payment_due=date(2026, 11, 17), publication_required=True,
        published_on=date(2026, 11, 5) if published else None, stage_started_on=decided,
        created_at=now - timedelta(days=40), updated_at=now - timedelta(days=20),
    )  # fmt: skip
    session.add(row)
    session.flush()
    issuer = c.Issuer(agency.name)
    document = documents.issue(session, storage, c.PenaltyDecision(
        number=f"渝中消罚决字〔2026〕第{row.id}号", issuer=issuer,
        party=c.PartyInfo(name=row.party_name, kind=row.party_kind,
                          identifier=row.party_identifier),
        facts=row.facts, evidence=("现场检查笔录", "现场照片"),
        duty_basis=("《中华人民共和国消防法》第二十八条",),
        penalty_basis=("《中华人民共和国消防法》第六十条第一款第三项",),
        discretion="一般处罚", penalty=f"罚款人民币{fine:,}元", fine=fine,
        payment="持本决定书到指定银行缴纳", payment_days=15,
        reconsideration="重庆市渝中区人民政府", court="重庆市渝中区人民法院", decided_on=decided,
    ), agency_id=agency.id, subject_kind="penalty_case", subject_id=row.id, actor_id=None,
        now=now - timedelta(days=23))  # fmt: skip
    session.add(PenaltyStep(
        case_id=row.id, seq=1, kind="decided", from_stage="deciding", to_stage="decided",
        at=now - timedelta(days=23), actor_name="王强", officer_ids=[], note="",
        document_id=document.id, payload={},
    ))  # fmt: skip
    return row
