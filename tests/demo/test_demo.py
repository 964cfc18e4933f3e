"""The demo district: its geography, its staff, and a history built by the real workflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.bootstrap import build_context
from cityops.cases.models import Case, CaseStep
from cityops.cases.workflow import State
from cityops.citizens.models import CitizenRequest
from cityops.config import Settings
from cityops.db import Base, import_all_models, make_engine
from cityops.demo.geography import build_areas
from cityops.demo.service import build_demo
from cityops.onemap.models import Conflict
from cityops.org.models import DutyAssignment, Person, Region

# Which role the workflow requires for each action a person takes.
ROLE_OF_ACTION = {
    "send_verify": {"call_taker", "shift_leader"},
    "verify": {"inspector", "grid_worker"},
    "accept": {"call_taker", "shift_leader", "system"},
    "file": {"shift_leader", "system"},
    "cancel": {"shift_leader"},
    "dispatch": {"dispatcher", "system"},
    "approve": {"dispatcher"},
    "reject": {"dispatcher"},
    "resume": {"dispatcher"},
    "sign_for": {"department_handler", "grid_worker"},
    "report_handled": {"department_handler", "grid_worker"},
    "request_extension": {"department_handler", "grid_worker"},
    "request_return": {"department_handler", "grid_worker"},
    "request_defer": {"department_handler", "grid_worker"},
    "send_check": {"call_taker", "shift_leader"},
    "check": {"inspector", "grid_worker"},
    "close": {"shift_leader"},
    "evaluate": {"shift_leader", "supervisor"},
    "escalate": {"system"},
}


def test_children_tile_their_parent_exactly() -> None:
    areas = build_areas()
    by_code = {a.code: a for a in areas}
    assert [sum(a.level == lv for a in areas) for lv in ("district", "street", "community",
                                                         "grid")] == [1, 11, 80, 640]  # fmt: skip
    for parent in areas:
        children = [a.geometry for a in areas if a.parent == parent.code]
        if not children:
            continue
        assert all(a.code.startswith(parent.code) for a in areas if a.parent == parent.code)
        assert sum(c.area for c in children) == pytest.approx(parent.geometry.area, rel=1e-3)
        union = shapely.union_all(children)
        assert union.symmetric_difference(parent.geometry).area < parent.geometry.area * 1e-6
    lons = [by_code[f"500103001001{g:03d}"].geometry.centroid.x for g in (1, 2)]
    assert lons[0] < lons[1]  # numbered west → east within a row
    assert all(a.geometry.is_valid and a.geometry.geom_type == "Polygon" for a in areas)


def test_a_short_demo_runs_the_real_workflow(context: Any, session: Session) -> None:
    summary = build_demo(context, until=date(2026, 11, 24), days=2, cases_per_day=25)
    assert summary.regions == {"district": 1, "street": 11, "community": 80, "grid": 640}
    assert summary.people == session.scalar(select(func.count()).select_from(Person)) >= 450
    grids = set(session.scalars(select(Region.code).where(Region.level == "grid")))
    covered = set(session.scalars(select(DutyAssignment.grid_code)))
    assert covered == grids
    states = set(session.scalars(select(Case.state)))
    assert {State.CLOSED, State.HANDLING} <= {State(s) for s in states}
    assert len(states) >= 5
    for action, role in session.execute(select(CaseStep.action, CaseStep.actor_role)).all():
        if action in ROLE_OF_ACTION:
            assert role in ROLE_OF_ACTION[action], (action, role)
    assert sum(summary.cases.values()) == session.scalar(select(func.count()).select_from(Case))
    # the residents behind the hotline's and the app's cases, each with a ticket to follow
    residents = session.scalar(select(func.count()).select_from(Case).where(
        Case.source_kind.in_(["citizen", "hotline"])))  # fmt: skip
    assert summary.requests == residents > 0
    assert summary.ticket is not None
    requests = session.scalars(select(CitizenRequest)).all()
    assert all(r.phone and r.case_id for r in requests)
    assert {r.channel for r in requests} == {"web", "hotline"}
    # the one map: two plans and the three control lines, compared; the largest conflicts
    # went to the planning department as cases, two of them settled
    assert summary.layers == 5 and summary.conflicts > 50
    rules = set(session.scalars(select(Conflict.rule)))
    assert len(rules) >= 3
    layer_pairs = set(session.execute(select(Conflict.layer_a, Conflict.layer_b)).all())
    assert ("urban-plan-2017", "ecological-red-line") in layer_pairs
    assert ("urban-plan-2017", "permanent-farmland") in layer_pairs
    assert ("urban-plan-2017", "urban-boundary") in layer_pairs  # built beyond the boundary
    handed = session.scalars(select(Conflict).where(Conflict.case_id.is_not(None))).all()
    assert len(handed) == 6 and sum(c.state == "resolved" for c in handed) == 2
    planning_cases = session.scalars(select(Case).where(Case.class_code == "E0606")).all()
    assert {c.state for c in planning_cases} == {State.HANDLING.value}
    assert {c.source_kind for c in planning_cases} == {"planning"}


def _fingerprint(tmp: Path, name: str) -> list[tuple[Any, ...]]:
    engine = make_engine(f"sqlite:///{tmp / name}", synchronous="NORMAL")
    import_all_models()
    Base.metadata.create_all(engine)
    context = build_context(
        Settings(database_url=f"sqlite:///{tmp / name}", storage_dir=tmp / f"{name}-blobs")
    )
    build_demo(context, until=date(2026, 11, 24), days=1, cases_per_day=15, seed=3)
    with Session(engine) as s:
        rows = s.execute(
            select(CaseStep.case_id, CaseStep.seq, CaseStep.action, CaseStep.at,
                   CaseStep.actor_id).order_by(CaseStep.id)
        ).all()  # fmt: skip
        rows += s.execute(
            select(CitizenRequest.token, CitizenRequest.phone, CitizenRequest.rating).order_by(
                CitizenRequest.id
            )
        ).all()
        rows += s.execute(
            select(Conflict.rule, Conflict.area_m2, Conflict.state).order_by(Conflict.id)
        ).all()
    engine.dispose()
    context.engine.dispose()
    return [tuple(r) for r in rows]


def test_the_same_seed_builds_the_same_demo(tmp_path: Path) -> None:
    assert _fingerprint(tmp_path, "a.db") == _fingerprint(tmp_path, "b.db")
