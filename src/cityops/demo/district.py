"""The demo district's regions, departments, staff, logins and duty roster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.catalog.service import load_seed
from cityops.citizens.service import load_services, load_vocabulary
from cityops.demo.geography import DISTRICT_CODE, area_m2, build_areas
from cityops.org.models import Department, DepartmentKind, DutyAssignment, Person, Region

DEMO_PASSWORD = "cityops-demo"  # for the demo district only
# The logins printed at the end of `cityops demo`, by username → role.
WELL_KNOWN = {
    "admin": "admin",
    "dispatcher": "dispatcher",
    "calltaker": "call_taker",
    "shiftleader": "shift_leader",
    "inspector": "inspector",
    "worker": "grid_worker",
    "handler": "department_handler",
    "supervisor": "supervisor",
    "planner": "planner",
    "officer": "officer",
    "fireofficer": "officer",
    "marketofficer": "officer",
    "lead": "enforcement_lead",
    "reviewer": "legal_reviewer",
    "enfsupervisor": "enforcement_supervisor",
}
# Law enforcement staff, username → (role, scope, name). `cityops.demo.enforcement` ties each
# to a registry officer of their agency through `Officer.person_id`: the street team of 解放碑
# (officer, lead), fire rescue, market regulation, the culture market team (wenhua, who
# declines the café's joint inspection; not printed) and the district's justice bureau
# (reviewer, enfsupervisor). The sample's officers keep their names; the others are new.
ENFORCEMENT_STAFF = {
    "officer": ("officer", "500103010", "孙浩"),
    "fireofficer": ("officer", DISTRICT_CODE, "张伟"),
    "marketofficer": ("officer", DISTRICT_CODE, "刘洋"),
    "wenhua": ("officer", DISTRICT_CODE, "赵磊"),
    "lead": ("enforcement_lead", "500103010", "谭建华"),
    "reviewer": ("legal_reviewer", DISTRICT_CODE, "罗静怡"),
    "enfsupervisor": ("enforcement_supervisor", DISTRICT_CODE, "邓文斌"),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红娥建国志文斌宇浩凯鹏辉鑫波斌晨琳雪梅婷慧丹"


@dataclass
class Staff:
    """Who plays which part in the simulated month, by what the workflow needs."""

    admin: int = 0
    call_takers: list[int] = field(default_factory=list)
    shift_leaders: list[int] = field(default_factory=list)
    dispatchers: list[int] = field(default_factory=list)
    supervisors: list[int] = field(default_factory=list)
    planner: int = 0  # compares the plans and hands conflicts to the planning department
    inspector_of: dict[str, int] = field(default_factory=dict)  # community code → person
    worker_of: dict[str, int] = field(default_factory=dict)  # grid code → person
    handlers_of: dict[int, list[int]] = field(default_factory=dict)  # department → people
    street_office_of: dict[str, int] = field(default_factory=dict)  # street code → department
    names: dict[int, str] = field(default_factory=dict)
    enforcement: dict[str, int] = field(default_factory=dict)  # username → person


def _name(i: int) -> str:
    return (
        SURNAMES[i * 7 % len(SURNAMES)]
        + GIVEN[i * 13 % len(GIVEN)]
        + GIVEN[(i * 5 + 3) % len(GIVEN)]
    )


def build_district(session: Session, *, start: datetime) -> Staff:
    """Regions, departments (the catalog seed's and street offices), staff and duty."""
    load_seed(session)
    load_services(session, start)
    load_vocabulary(session, start)
    for area in build_areas():
        minx, miny, maxx, maxy = area.geometry.bounds
        session.add(Region(
            code=area.code, level=area.level, name=area.name, parent_code=area.parent,
            grade=area.grade, geometry=shapely.to_wkb(area.geometry), min_lon=minx,
            min_lat=miny, max_lon=maxx, max_lat=maxy, area_m2=area_m2(area.geometry),
        ))  # fmt: skip
        if area.level in ("district", "street", "community"):
            session.flush()  # parents exist before their children reference them
    staff = Staff()
    streets = list(
        session.scalars(select(Region).where(Region.level == "street").order_by(Region.code))
    )
    for street in streets:
        office = Department(code=f"JD{street.code[-3:]}", name=f"{street.name}办事处",
                            kind=DepartmentKind.STREET_OFFICE.value, region_code=street.code,
                            active=True)  # fmt: skip
        session.add(office)
        session.flush()
        staff.street_office_of[street.code] = office.id
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: all demo logins share it
    counter = 0

    def person(username: str | None, roles: list[str], scope: str | None,
               department_id: int | None = None, name: str | None = None) -> int:  # fmt: skip
        nonlocal counter
        counter += 1
        code = username or f"p{counter:04d}"
        p = Person(code=code, name=name or _name(counter), phone=f"1380238{counter:04d}", roles=roles,
                   scope_code=scope, department_id=department_id, active=True)  # fmt: skip
        session.add(p)
        session.flush()
        session.add(Account(person_id=p.id, username=code, password_hash=password_hash,
                            active=True, token_version=0))  # fmt: skip
        staff.names[p.id] = p.name
        return p.id

    staff.admin = person("admin", ["admin"], DISTRICT_CODE)
    staff.supervisors = [person("supervisor", ["supervisor"], DISTRICT_CODE)] + [
        person(None, ["supervisor"], DISTRICT_CODE) for _ in range(2)]  # fmt: skip
    staff.shift_leaders = [person("shiftleader", ["shift_leader"], DISTRICT_CODE)] + [
        person(None, ["shift_leader"], DISTRICT_CODE) for _ in range(2)]  # fmt: skip
    staff.dispatchers = [person("dispatcher", ["dispatcher"], DISTRICT_CODE)] + [
        person(None, ["dispatcher"], DISTRICT_CODE) for _ in range(3)]  # fmt: skip
    for street in streets:
        person(None, ["dispatcher"], street.code)
    staff.call_takers = [person("calltaker", ["call_taker"], DISTRICT_CODE)] + [
        person(None, ["call_taker"], DISTRICT_CODE) for _ in range(5)]  # fmt: skip
    communities = list(session.scalars(
        select(Region).where(Region.level == "community").order_by(Region.code)))  # fmt: skip
    for i, community in enumerate(communities):
        staff.inspector_of[community.code] = person("inspector" if i == 0 else None,
                                                    ["inspector"], community.code)  # fmt: skip
    grids = list(
        session.scalars(select(Region.code).where(Region.level == "grid").order_by(Region.code))
    )
    for i in range(0, len(grids), 2):
        pair = grids[i : i + 2]
        worker = person("worker" if i == 0 else None, ["grid_worker"], pair[0][:12],
                        staff.street_office_of[pair[0][:9]])  # fmt: skip
        for grid in pair:
            staff.worker_of[grid] = worker
            session.add(DutyAssignment(person_id=worker, grid_code=grid, role="grid_worker",
                                       starts_at=start, ends_at=None))  # fmt: skip
    departments = list(session.scalars(select(Department).order_by(Department.code)))
    for dept in departments:
        count = 1 if dept.kind == DepartmentKind.STREET_OFFICE.value else 2
        staff.handlers_of[dept.id] = [
            person("handler" if dept.code == "HW" and n == 0 else None,
                   ["department_handler"], None, dept.id)
            for n in range(count)
        ]  # fmt: skip
        if dept.code == "GH":
            staff.planner = person("planner", ["planner"], DISTRICT_CODE, dept.id)
    # Last, so that adding them left everyone else's name and phone as they were.
    for username, (role, scope, name) in ENFORCEMENT_STAFF.items():
        staff.enforcement[username] = person(username, [role], scope, name=name)
    session.flush()
    return staff
