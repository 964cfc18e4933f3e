"""Minimal rows for the supervision rules, written directly: two agencies with officers, an
item with a benchmark and one on the first-violation list, two businesses, and builders of
inspections, penalty cases and their steps made to keep or break a rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import DISTRICT, EPOCH, PASSWORD, STREET_A, STREET_B

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.config import Settings
from cityops.enforcement.businesses.models import Business, BusinessType
from cityops.enforcement.inspections.models import (
    Inspection,
    InspectionAgency,
    InspectionOfficer,
    InspectionPlan,
)
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries.models import (
    Agency,
    AgencyRegion,
    Benchmark,
    Item,
    Officer,
    OfficerRegion,
)
from cityops.enforcement.supervision.checks.common import Env
from cityops.enforcement.supervision.evaluator import Evaluation
from cityops.enforcement.supervision.models import Flag, FlagStep, SupervisionRule
from cityops.enforcement.supervision.service import run_evaluation
from cityops.org.models import Person
from cityops.worktime.service import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = EPOCH.astimezone(SHANGHAI).date()  # Tuesday 24 November 2026
_HASH = hash_password(PASSWORD)


def at(day: date, hour: int = 10) -> datetime:
    """A local time of day as the UTC instant the tables keep."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@dataclass
class World:
    agency_a: Agency  # market regulation, street A
    agency_b: Agency  # fire rescue, the whole district
    officers: dict[str, Officer]
    item: Item  # fixed ranges: lighter 5,000–15,000; ordinary 15,000–35,000
    exempt_item: Item  # on the first-violation list
    business: Business
    business_b: Business
    people: dict[str, Person] = field(default_factory=dict)


def _person(session: Session, code: str, roles: list[str]) -> Person:
    person = Person(code=code, name=code, roles=roles, scope_code=DISTRICT, active=True)
    session.add(person)
    session.flush()
    session.add(
        Account(
            person_id=person.id, username=code, password_hash=_HASH, active=True, token_version=0
        )
    )
    return person


def build_world(session: Session) -> World:
    """The registries and staff every supervision test starts from (needs the district)."""
    a = Agency(code="T-SCJG", name="测试市场监督管理局", kind="market_regulation")
    b = Agency(code="T-XFJY", name="测试消防救援支队", kind="fire_rescue")
    session.add_all([a, b])
    session.flush()
    session.add_all(
        [
            AgencyRegion(agency_id=a.id, region_code=STREET_A),
            AgencyRegion(agency_id=b.id, region_code=DISTRICT),
        ]
    )
    valid, expired = (date(2024, 1, 1), date(2029, 12, 31)), (date(2021, 1, 1), date(2026, 6, 30))
    officers: dict[str, Officer] = {}
    for name, agency, (start, end) in [
        ("a1", a, valid),
        ("a2", a, valid),
        ("a3", a, valid),
        ("a_expired", a, expired),
        ("b1", b, valid),
        ("b2", b, valid),
        ("b_street_b", b, valid),
    ]:
        officer = Officer(
            certificate_number=f"CERT-{name}",
            name=f"执法员{name}",
            agency_id=agency.id,
            valid_from=start,
            valid_until=end,
        )
        session.add(officer)
        officers[name] = officer
    session.flush()
    # One officer of the district-wide agency whose certificate covers street B only.
    session.add(OfficerRegion(officer_id=officers["b_street_b"].id, region_code=STREET_B))
    item = Item(
        code="T-ITEM-1", name="测试处罚事项", kind="penalty", agency_kinds=["market_regulation"]
    )
    exempt = Item(
        code="T-ITEM-2",
        name="首违不罚测试事项",
        kind="penalty",
        agency_kinds=["market_regulation"],
        first_violation_exempt=True,
        exemption_conditions="初次违法且危害后果轻微并及时改正",
    )
    session.add_all([item, exempt])
    session.flush()
    session.add_all(
        [
            Benchmark(item_id=item.id, position=1, grade="none", circumstance="轻微"),
            Benchmark(
                item_id=item.id,
                position=2,
                grade="lighter",
                circumstance="从轻",
                fine_min=5000,
                fine_max=15000,
            ),
            Benchmark(
                item_id=item.id,
                position=3,
                grade="ordinary",
                circumstance="一般",
                fine_min=15000,
                fine_max=35000,
            ),
            Benchmark(
                item_id=item.id,
                position=4,
                grade="heavier",
                circumstance="按货值",
                times_min=1.0,
                times_max=3.0,
                base_name="货值金额",
            ),
            Benchmark(item_id=exempt.id, position=1, grade="ordinary", fine_min=100, fine_max=1000),
        ]
    )
    session.add(BusinessType(code="cafe", name="网吧", item_codes=[item.code]))
    session.flush()
    business = Business(
        credit_code="91500103TEST00001X", name="极速网咖", type_code="cafe", region_code=STREET_A
    )
    business_b = Business(
        credit_code="91500103TEST00002X", name="老街茶馆", type_code="cafe", region_code=STREET_B
    )
    session.add_all([business, business_b])
    session.flush()
    world = World(a, b, officers, item, exempt, business, business_b)
    world.people = {
        "esup": _person(session, "esup", ["enforcement_supervisor"]),
        "esup2": _person(session, "esup2", ["enforcement_supervisor"]),
        "lead_a": _person(session, "lead_a", ["enforcement_lead"]),
        "officer_a": _person(session, "officer_a", ["officer"]),
        "officer_b": _person(session, "officer_b", ["officer"]),
        "stranger": _person(session, "stranger", ["officer"]),  # an officer of no agency
    }
    # Staff act for an agency through their officer rows.
    session.add_all(
        [
            Officer(
                certificate_number="CERT-lead_a",
                name="机构负责人",
                agency_id=a.id,
                valid_from=valid[0],
                valid_until=valid[1],
                person_id=world.people["lead_a"].id,
            ),
        ]
    )
    officers["a1"].person_id = world.people["officer_a"].id
    officers["b1"].person_id = world.people["officer_b"].id
    session.flush()
    return world


def inspection(
    session: Session,
    w: World,
    *,
    day: date | None = None,
    business: Business | None = None,
    agency: Agency | None = None,
    officers: tuple[str, ...] = ("a1", "a2"),
    plan: bool = True,
    source: str = "plan",
    state: str = "closed",
    region: str | None = None,
    started: bool = True,
    accepted: dict[Agency, tuple[str, ...]] | None = None,
    rectification_deadline: date | None = None,
    reinspected_on: date | None = None,
) -> Inspection:
    """A visit that keeps every rule unless told otherwise: planned, two valid officers of
    its agency in its agency's region, started and closed."""
    day = day or days_ago(10)
    agency = agency or w.agency_a
    business = business or w.business
    plan_id = None
    if plan:
        row = InspectionPlan(
            title="计划",
            kind="random",
            initiator_agency_id=agency.id,
            region_code=DISTRICT,
            state="approved",
            planned_from=day,
            planned_until=day,
            created_by=w.people["lead_a"].id,
            created_at=at(day - timedelta(days=5)),
        )
        session.add(row)
        session.flush()
        plan_id = row.id
    visit = Inspection(
        plan_id=plan_id,
        source=source,
        business_id=business.id,
        lead_agency_id=agency.id,
        region_code=region or business.region_code,
        scheduled_at=at(day),
        started_at=at(day) if started else None,
        finished_at=at(day, 11) if started else None,
        state=state,
        rectification_deadline=rectification_deadline,
        reinspected_at=at(reinspected_on) if reinspected_on else None,
        closed_at=at(reinspected_on or day, 12) if state == "closed" else None,
    )
    session.add(visit)
    session.flush()
    session.add(
        InspectionAgency(
            inspection_id=visit.id,
            agency_id=agency.id,
            role="initiator",
            state="accepted",
            invited_at=at(day - timedelta(days=3)),
        )
    )
    for name in officers:
        session.add(
            InspectionOfficer(
                inspection_id=visit.id, officer_id=w.officers[name].id, agency_id=agency.id
            )
        )
    for other, names in (accepted or {}).items():
        session.add(
            InspectionAgency(
                inspection_id=visit.id,
                agency_id=other.id,
                role="invited",
                state="accepted",
                invited_at=at(day - timedelta(days=3)),
            )
        )
        for name in names:
            session.add(
                InspectionOfficer(
                    inspection_id=visit.id, officer_id=w.officers[name].id, agency_id=other.id
                )
            )
    session.flush()
    return visit


_numbers = iter(range(1, 1_000_000))


def penalty_case(session: Session, w: World, **values: Any) -> PenaltyCase:
    """A general-procedure case filed 60 days ago and still investigating (nothing due),
    unless `values` say otherwise."""
    filed = values.pop("filed_on", days_ago(60))
    defaults: dict[str, Any] = {
        "number": f"测罚〔2026〕第{next(_numbers)}号",
        "agency_id": w.agency_a.id,
        "item_id": w.item.id,
        "business_id": w.business.id,
        "party_kind": "organisation",
        "party_name": w.business.name,
        "procedure": "general",
        "stage": "investigating",
        "source": "inspection",
        "title": "测试案件",
        "region_code": STREET_A,
        "violation_on": filed - timedelta(days=5),
        "discovered_on": filed - timedelta(days=3),
        "filed_on": filed,
        "decision_due": filed + timedelta(days=90),
        "stage_started_on": filed,
        "created_at": at(filed),
        "updated_at": at(filed),
    }
    row = PenaltyCase(**(defaults | values))
    session.add(row)
    session.flush()
    return row


def decided_case(
    session: Session, w: World, decided_on: date | None = None, **values: Any
) -> PenaltyCase:
    """A case decided (a fine of 20,000 in the ordinary range), served, published and
    closed in time, unless `values` say otherwise."""
    decided = decided_on or days_ago(30)
    defaults: dict[str, Any] = {
        "filed_on": decided - timedelta(days=40),
        "stage": "closed",
        "grade": "ordinary",
        "fine": 20000,
        "decision_kind": "penalty",
        "decided_on": decided,
        "served_on": decided + timedelta(days=1),
        "published_on": decided + timedelta(days=2),
        "closed_on": decided + timedelta(days=20),
    }
    case = penalty_case(session, w, **(defaults | values))
    if case.served_on is not None:
        step(session, case, "served", at(case.served_on), [])
    return case


_seq: dict[int, int] = {}


def step(
    session: Session, case: PenaltyCase, kind: str, when: datetime, officer_ids: list[int]
) -> PenaltyStep:
    seq = _seq[case.id] = _seq.get(case.id, 0) + 1
    row = PenaltyStep(
        case_id=case.id, seq=seq, kind=kind, to_stage=case.stage, at=when, officer_ids=officer_ids
    )
    session.add(row)
    session.flush()
    return row


def calendar() -> WorkCalendar:
    return WorkCalendar.from_settings(Settings(database_url="sqlite://"))


def evaluate(
    session: Session, *, now: datetime = EPOCH, codes: list[str] | None = None
) -> Evaluation:
    env = Env(now=now, calendar=calendar(), dialect=session.get_bind().dialect.name)
    result = run_evaluation(session, env, codes=codes)
    session.flush()
    return result


def flags(session: Session, code: str, *, cleared: bool | None = False) -> list[Flag]:
    """The rule's flags (by default those not cleared), in id order."""
    query = (
        select(Flag)
        .join(SupervisionRule, SupervisionRule.id == Flag.rule_id)
        .where(SupervisionRule.code == code)
    )
    if cleared is not None:
        query = query.where(Flag.cleared_at.is_not(None) if cleared else Flag.cleared_at.is_(None))
    return list(session.scalars(query.order_by(Flag.id)))


def subjects(session: Session, code: str) -> set[tuple[str, int]]:
    return {(f.subject_type, f.subject_id) for f in flags(session, code)}


def steps_of(session: Session, flag: Flag) -> list[str]:
    query = select(FlagStep.kind).where(FlagStep.flag_id == flag.id).order_by(FlagStep.id)
    return list(session.scalars(query))
