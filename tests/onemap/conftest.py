"""The one map's fixtures: three stored layers whose conflicts are known exactly, and the
planning side of the test district (department, case class, routing rule, people)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import box
from sqlalchemy.orm import Session
from tests.factories import PASSWORD
from tests.onemap.test_io import NOW, write

from cityops.auth.models import Account
from cityops.auth.service import hash_password
from cityops.catalog.models import AutomationRule, CaseClass, MajorClass
from cityops.onemap.io import LayerImport, import_layer
from cityops.onemap.models import ControlLine, LayerKind
from cityops.org.models import Department, Person

# Inside the test district's 解放碑街道 (106.570–106.576°E, 29.560–29.562°N).
WETLAND = box(106.571, 29.5605, 106.573, 29.5615)
INDUSTRY = box(106.572, 29.5605, 106.574, 29.5615)  # overlaps the wetland's east half
OVERLAP = box(106.572, 29.5605, 106.573, 29.5615)


def store_layers(session: Session, folder: Path) -> None:
    """A land-use plan's wetland, an urban plan's industry over half of it, and a red line
    over the wetland: two conflicts (wetland vs industry; industry inside the red line)."""
    land = write(folder / "land.gpkg", [WETLAND], {"DLBM": ["0501"], "MC": ["湿地"]})
    urban = write(folder / "urban.gpkg", [INDUSTRY], {"YDDM": ["M1"]})
    red = write(folder / "red.gpkg", [WETLAND], {"NAME": ["湿地公园"]})
    import_layer(session, land, LayerImport("land", "土地利用规划", LayerKind.PLAN, None,
                                            "DLBM"), now=NOW)  # fmt: skip
    import_layer(session, urban, LayerImport("urban", "城市规划", LayerKind.PLAN, None, "YDDM",
                                             "gb50137_2011"), now=NOW)  # fmt: skip
    import_layer(session, red, LayerImport("red", "生态保护红线", LayerKind.CONTROL_LINE,
                                           ControlLine.ECOLOGICAL_RED_LINE), now=NOW)  # fmt: skip


@pytest.fixture
def planning(session: Session, request: pytest.FixtureRequest) -> dict[str, Person]:
    """The planning department (GH) with a handler, a planner, and the shipped class and
    rule that route a conflict case to it, in the test district; committed."""
    request.getfixturevalue("district")
    gh = Department(code="GH", name="规划和自然资源分局", kind="department", active=True)
    session.add(gh)
    session.add(MajorClass(family="event", code="06", name="扩展事项"))
    session.flush()
    session.add(CaseClass(
        code="E0606", family="event", major_code="06", sub_code="06", name="规划冲突图斑",
        filing_condition="多规合一比对发现的规划冲突图斑", closing_condition="冲突图斑处理完毕",
        limit_value=20, limit_unit="working_days", urgency="normal", department_code="GH",
        merge_radius_m=0, merge_window_minutes=0,
    ))  # fmt: skip
    session.flush()
    session.add(AutomationRule(
        name="onemap-conflict-route", class_code="E0606", source_kind="planning",
        min_confidence=0.0, auto_accept=True, auto_file=True, auto_dispatch=True,
        dispatch_to="department", active=True,
    ))  # fmt: skip
    people = {}
    for username, roles, dept in [("planner", ["planner"], None),
                                  ("handler_gh", ["department_handler"], gh.id)]:  # fmt: skip
        person = Person(code=username, name=username, roles=roles, scope_code="500103",
                        department_id=dept, active=True)  # fmt: skip
        session.add(person)
        session.flush()
        hashed = hash_password(PASSWORD)
        session.add(Account(person_id=person.id, username=username, password_hash=hashed,
                            active=True, token_version=0))  # fmt: skip
        people[username] = person
    session.commit()
    return people
