"""Fixtures of the penalty-case tests: enforcement staff tied to the sample's officers, an
internet café to punish, an inspection finding against it, and the environment services
read (the working-day calendar, a store for documents, the time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import _HASH, DISTRICT, EPOCH, STREET_A

from cityops.auth.models import Account
from cityops.enforcement.businesses.models import Business, BusinessType
from cityops.enforcement.inspections.models import (
    Finding,
    Inspection,
    InspectionAgency,
    InspectionOfficer,
)
from cityops.enforcement.penalties.service import PenaltyEnv, acting_person
from cityops.enforcement.penalties.workflow import Acting
from cityops.enforcement.registries.models import Agency, Item, Officer
from cityops.kit.storage import LocalStorage
from cityops.org.models import Person
from cityops.worktime.service import WorkCalendar

ZONE = ZoneInfo("Asia/Shanghai")
# EPOCH is Tuesday 24 November 2026, 09:00 in Chongqing: the sample's certificates are
# valid then, except 杨帆's (expired 2026-11-15).
TODAY = EPOCH.astimezone(ZONE).date()


def calendar() -> WorkCalendar:
    return WorkCalendar([(time(9), time(12)), (time(13, 30), time(17, 30))], ZONE)


@dataclass
class Staff:
    """People by login name, the registry officers by surname, the café and its items."""

    people: dict[str, Person] = field(default_factory=dict)
    officers: dict[str, int] = field(default_factory=dict)
    agencies: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    cafe: Business | None = None
    citizen_region: str = STREET_A

    def who(self, session: Session, name: str) -> Acting:
        return acting_person(session, self.people[name].id)

    @property
    def cafe_id(self) -> int:
        assert self.cafe is not None
        return self.cafe.id


# login, roles, scope, the certificate of the officer row that ties them to an agency
STAFF = [
    ("zhangwei", ["officer"], DISTRICT, "500103-XF-0001"),  # 张伟, fire rescue
    ("lina", ["officer"], DISTRICT, "500103-XF-0002"),  # 李娜, fire rescue
    ("fire_lead", ["enforcement_lead"], DISTRICT, "500103-XF-0003"),  # 王强, fire rescue
    ("liuyang", ["officer"], DISTRICT, "500103-SJ-0001"),  # 刘洋, market regulation
    ("market_lead", ["enforcement_lead"], DISTRICT, "500103-SJ-0002"),  # 陈静
    ("legal", ["legal_reviewer"], DISTRICT, None),  # the district's legal office
    ("watcher", ["enforcement_supervisor"], DISTRICT, None),
]


@pytest.fixture
def staff(session: Session, request: pytest.FixtureRequest) -> Staff:
    """Enforcement staff with logins, tied to the sample's officers; the café (an
    organisation in 解放碑 street of the test district)."""
    request.getfixturevalue("seeded")
    s = Staff()
    officers = {o.certificate_number: o for o in session.scalars(select(Officer))}
    for name, roles, scope, certificate in STAFF:
        person = Person(code=name, name=name, roles=roles, scope_code=scope, active=True)
        session.add(person)
        session.flush()
        session.add(Account(person_id=person.id, username=name, password_hash=_HASH,
                            active=True, token_version=0))  # fmt: skip
        if certificate:
            officers[certificate].person_id = person.id
        s.people[name] = person
    for o in officers.values():
        s.officers[o.name] = o.id
    s.agencies = {a.code: a.id for a in session.scalars(select(Agency))}
    s.items = {i.code: i.id for i in session.scalars(select(Item))}
    session.add(BusinessType(code="internet_cafe", name="网吧",
                             item_codes=["XF-CF-001", "WH-CF-001"]))  # fmt: skip
    session.flush()
    s.cafe = Business(
        credit_code="91500103MA5U000001", name="重庆市渝中区极速网咖有限公司",
        party_kind="organisation", type_code="internet_cafe", representative="赵六",
        phone="13900000001", address="渝中区民权路1号", region_code=STREET_A,
    )  # fmt: skip
    session.add(s.cafe)
    session.commit()
    return s


@pytest.fixture
def env(tmp_path: Path, clock: Any) -> Any:
    """The environment at the fake clock's time (move the clock, build it again)."""

    def build(now: datetime | None = None) -> PenaltyEnv:
        return PenaltyEnv(calendar(), LocalStorage(tmp_path / "blobs"), now or clock.now())

    return build


@pytest.fixture
def finding(session: Session, staff: Staff) -> Finding:
    """A failed finding of the fire rescue's inspection of the café: the evacuation route
    blocked (XF-CF-001), found by 张伟 and 李娜."""
    fire = staff.agencies["YZ-XFJY"]
    inspection = Inspection(
        source="complaint", business_id=staff.cafe_id, lead_agency_id=fire,
        region_code=STREET_A, place="渝中区民权路1号", item_ids=[staff.items["XF-CF-001"]],
        started_at=EPOCH - timedelta(hours=2), finished_at=EPOCH - timedelta(hours=1),
        state="findings_recorded",
    )  # fmt: skip
    session.add(inspection)
    session.flush()
    invited = EPOCH - timedelta(days=1)
    session.add(InspectionAgency(inspection_id=inspection.id, agency_id=fire, role="initiator",
                                 state="accepted", invited_at=invited))  # fmt: skip
    for name in ("张伟", "李娜"):
        session.add(InspectionOfficer(inspection_id=inspection.id,
                                      officer_id=staff.officers[name], agency_id=fire))  # fmt: skip
    row = Finding(
        inspection_id=inspection.id, agency_id=fire, item_id=staff.items["XF-CF-001"],
        officer_id=staff.officers["张伟"], outcome="fail",
        note="营业期间二楼安全出口被桌椅堵塞", photos=["inspections/2026/11/exit.jpg"],
        recorded_at=EPOCH - timedelta(hours=1, minutes=30),
    )  # fmt: skip
    session.add(row)
    session.commit()
    return row


def day(text: str) -> date:
    return date.fromisoformat(text)
