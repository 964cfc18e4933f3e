"""Builders for test data: a small district, its staff, a catalog slice, and logins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shapely import box, to_wkb
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.auth.service import create_api_key
from cityops.catalog.models import AutomationRule, CaseClass, MajorClass, StageLimit
from cityops.migrate import upgrade
from cityops.org.models import Department, DutyAssignment, Person, Region

DISTRICT = "500103"
STREET_A, STREET_B = "500103001", "500103002"
COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1 = "500103001001", "500103001002", "500103002001"
# Four grids, 0.002° squares west to east from (106.570, 29.560).
GRIDS = {
    "500103001001001": (106.570, 29.560),
    "500103001001002": (106.572, 29.560),
    "500103001002001": (106.574, 29.560),
    "500103002001001": (106.576, 29.560),
}
GRID_A = "500103001001001"
GRID_B = "500103002001001"
PASSWORD = "correct-horse-battery"
A1_BOX = (106.570, 29.56, 106.574, 29.562)
A2_BOX = (106.574, 29.56, 106.576, 29.562)
B1_BOX = (106.576, 29.56, 106.578, 29.562)
EPOCH = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai, a working day


def inside(grid: str, dx: float = 0.001, dy: float = 0.001) -> tuple[float, float]:
    """A point inside `grid` (its centre by default)."""
    lon, lat = GRIDS[grid]
    return lon + dx, lat + dy


def _region(code: str, level: str, name: str, parent: str | None,
            bounds: tuple[float, float, float, float]) -> Region:  # fmt: skip
    geom = box(*bounds)
    return Region(
        code=code, level=level, name=name, parent_code=parent, grade=1 if level == "grid" else None,
        geometry=to_wkb(geom), min_lon=bounds[0], min_lat=bounds[1], max_lon=bounds[2],
        max_lat=bounds[3], area_m2=geom.area * 111_000 * 97_000,
    )  # fmt: skip


@dataclass
class District:
    """What `make_district` built, by name."""

    departments: dict[str, Department] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


def make_district(session: Session) -> District:
    """Regions, departments, staff with logins, a duty roster and a catalog slice."""
    session.add(_region(DISTRICT, "district", "渝中区", None, (106.57, 29.56, 106.578, 29.562)))
    session.flush()
    session.add_all([
        _region(STREET_A, "street", "解放碑街道", DISTRICT, (106.570, 29.560, 106.576, 29.562)),
        _region(STREET_B, "street", "七星岗街道", DISTRICT, (106.576, 29.560, 106.578, 29.562)),
    ])  # fmt: skip
    session.flush()
    session.add_all([
        _region(COMMUNITY_A1, "community", "大井巷社区", STREET_A, A1_BOX),
        _region(COMMUNITY_A2, "community", "民权路社区", STREET_A, A2_BOX),
        _region(COMMUNITY_B1, "community", "金汤街社区", STREET_B, B1_BOX),
    ])  # fmt: skip
    session.flush()
    for code, (lon, lat) in GRIDS.items():
        session.add(_region(code, "grid", f"网格{code[-3:]}", code[:12],
                            (lon, lat, lon + 0.002, lat + 0.002)))  # fmt: skip
    d = District()
    for code, name, kind, region in [
        ("HW", "区环卫所", "department", None),
        ("SZ", "区市政设施管理所", "department", None),
        ("JFB", "解放碑街道办事处", "street_office", STREET_A),
        ("QXG", "七星岗街道办事处", "street_office", STREET_B),
    ]:
        dept = Department(code=code, name=name, kind=kind, region_code=region, active=True)
        session.add(dept)
        d.departments[code] = dept
    session.flush()
    staff = [
        ("inspector", ["inspector"], GRID_A, None),
        ("inspector_b", ["inspector"], GRID_B, None),
        ("worker", ["grid_worker"], COMMUNITY_A1, None),
        ("worker_b", ["grid_worker"], GRID_B, None),
        ("call_taker", ["call_taker"], DISTRICT, None),
        ("shift_leader", ["shift_leader"], DISTRICT, None),
        ("dispatcher", ["dispatcher"], DISTRICT, None),
        ("street_dispatcher", ["dispatcher"], STREET_B, None),
        ("handler", ["department_handler"], None, "HW"),
        ("handler_sz", ["department_handler"], None, "SZ"),
        ("supervisor", ["supervisor"], DISTRICT, None),
        ("admin", ["admin"], DISTRICT, None),
    ]
    for username, roles, scope, dept_code in staff:
        person = Person(
            code=username, name=username, roles=roles, scope_code=scope, active=True,
            department_id=d.departments[dept_code].id if dept_code else None,
        )  # fmt: skip
        session.add(person)
        session.flush()
        session.add(Account(person_id=person.id, username=username,
                            password_hash=_HASH, active=True, token_version=0))  # fmt: skip
        d.people[username] = person
    session.add_all([
        DutyAssignment(person_id=d.people["worker"].id, grid_code=GRID_A, role="grid_worker",
                       starts_at=EPOCH - timedelta(days=30), ends_at=None),
        DutyAssignment(person_id=d.people["worker_b"].id, grid_code=GRID_B, role="grid_worker",
                       starts_at=EPOCH - timedelta(days=30), ends_at=None),
    ])  # fmt: skip
    make_catalog(session)
    session.flush()
    return d


_HASH = hash_password(PASSWORD)


def make_catalog(session: Session) -> None:
    """A slice of the catalog: two event classes, one part class, limits and rules."""
    session.add_all([
        MajorClass(family="event", code="01", name="市容环境"),
        MajorClass(family="event", code="05", name="街面秩序"),
        MajorClass(family="part", code="01", name="公用设施"),
    ])  # fmt: skip
    session.add_all([
        CaseClass(code="E0102", family="event", major_code="01", sub_code="02", name="暴露垃圾",
                  filing_condition="暴露垃圾面积大于0.5平方米", closing_condition="清理干净",
                  limit_value=4, limit_unit="working_hours", urgency="normal",
                  department_code="HW", merge_radius_m=50, merge_window_minutes=1440),
        CaseClass(code="E0502", family="event", major_code="05", sub_code="02", name="占道经营",
                  filing_condition="占道经营", closing_condition="恢复通行",
                  limit_value=2, limit_unit="working_hours", urgency="normal",
                  department_code=None, merge_radius_m=30, merge_window_minutes=120),
        CaseClass(code="P0101", family="part", major_code="01", sub_code="01", name="上水井盖",
                  filing_condition="井盖破损、丢失", closing_condition="更换完好",
                  limit_value=6, limit_unit="natural_hours", urgency="urgent",
                  department_code="SZ", merge_radius_m=20, merge_window_minutes=4320),
    ])  # fmt: skip
    session.flush()
    for stage, value, unit in [
        ("accept", 30, "minutes"),
        ("verify", 1, "working_hours"),
        ("file", 30, "minutes"),
        ("dispatch", 30, "minutes"),
        ("check", 2, "working_hours"),
        ("close", 1, "working_hours"),
    ]:
        session.add(StageLimit(stage=stage, class_code=None, value=value, unit=unit))
    session.add_all([
        AutomationRule(name="camera-street-vending", class_code="E0502", source_kind="camera",
                       min_confidence=0.8, auto_accept=True, auto_file=True, auto_dispatch=True,
                       dispatch_to="grid_worker", active=True),
        AutomationRule(name="inspector-auto-file", class_code=None, source_kind="inspector",
                       min_confidence=0.0, auto_accept=True, auto_file=True,
                       auto_dispatch=False, dispatch_to="department", active=True),
    ])  # fmt: skip


def migrated_district(url: str) -> str:
    """Migrate the database at `url`, build the small district in it and commit; returns
    an API key that may post as the camera gateway "cam-gw"."""
    engine = create_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        make_district(session)
        _, key = create_api_key(session, name="cams", sources=["cam-gw"], trusted=True, now=EPOCH)
        session.commit()
    engine.dispose()
    return key
