"""Conflict runs kept with their patches, their report (patches to GeoPackage/GeoJSON,
summaries by class pair and by street), and a patch's way through the closed loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pytest
from openpyxl import load_workbook
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.onemap.conftest import OVERLAP, store_layers
from tests.onemap.test_io import NOW, write

from cityops.auth.service import actor_of
from cityops.bootstrap import Context
from cityops.cases.models import Case
from cityops.errors import Conflict as ConflictError
from cityops.errors import Invalid
from cityops.onemap import service
from cityops.onemap.io import LayerImport, import_layer
from cityops.onemap.models import (
    Conflict,
    ConflictRun,
    ControlLine,
    LayerKind,
    Resolution,
)

EXACT = abs(Geod(ellps="GRS80").geometry_area_perimeter(OVERLAP)[0])


@pytest.mark.usefixtures("district")  # its streets
def test_a_run_keeps_every_patch_with_its_sides_rule_and_street(
    session: Session, tmp_path: Path
) -> None:
    store_layers(session, tmp_path)
    run = service.run(session, ["land", "urban", "red"], now=NOW, by="test", note="年度比对")
    assert (run.state, run.patch_count, run.finished_at) == ("finished", 2, NOW)
    assert run.total_area_m2 == pytest.approx(2 * EXACT, rel=1e-6)
    assert [(x["name"], x["version"]) for x in run.layers] == [("land", 1), ("urban", 1),
                                                               ("red", 1)]  # fmt: skip
    rows = session.scalars(select(Conflict).where(Conflict.run_id == run.id)).all()
    # wetland vs industry in the plans, and industry inside the red line; the wetland inside
    # the red line is no conflict
    assert {(r.layer_a, r.class_a, r.layer_b, r.class_b) for r in rows} == {
        ("land", "0501", "urban", "100101"),
        ("urban", "100101", "red", "line:ecological_red_line"),
    }  # fmt: skip
    # the plans differ in who builds: only the urban plan does (industry on forest swamp)
    assert {r.layer_b: r.difference for r in rows} == {"urban": "b_builds",
                                                       "red": "control_line"}  # fmt: skip
    for r in rows:
        assert r.area_m2 == pytest.approx(EXACT, rel=1e-6)
        assert (r.street_code, r.state, r.case_id) == ("500103001", "open", None)
        assert r.min_lon == pytest.approx(106.572) and r.max_lon == pytest.approx(106.573)
        assert 106.572 < r.lon < 106.573 and 29.5605 < r.lat < 29.5615

    summary = service.summarise(session, run.id)
    assert {(p["layer_a"], p["layer_b"], p["patches"]) for p in summary.by_pair} == {
        ("land", "urban", 1), ("urban", "red", 1)}  # fmt: skip
    wetland = next(p for p in summary.by_pair if p["layer_a"] == "land")
    assert (wetland["class_a_name"], wetland["open"]) == ("森林沼泽", 1)
    red = next(p for p in summary.by_pair if p["layer_b"] == "red")
    assert red["class_b_name"] == "生态保护红线"
    (street,) = summary.by_street
    assert (street["street"], street["patches"], street["open"]) == ("解放碑街道", 2, 2)
    assert street["open_area_m2"] == pytest.approx(2 * EXACT, abs=0.01)
    assert street["resolved_area_m2"] == 0
    assert street["area_m2"] == pytest.approx(2 * EXACT, abs=0.01)


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_a_runs_report_is_written_a_batch_at_a_time(
    session: Session, tmp_path: Path, suffix: str
) -> None:
    store_layers(session, tmp_path)
    run = service.run(session, ["land", "urban", "red"], now=NOW)
    path = tmp_path / f"conflicts{suffix}"
    assert service.write_patches(session, run.id, path, batch=1) == 2
    meta, _, geometry, values = pyogrio.raw.read(path)
    fields = list(meta["fields"])
    assert {"rule", "area_m2", "class_a", "class_b", "street_code", "state"} <= set(fields)
    assert len(geometry) == 2
    areas = values[fields.index("area_m2")]
    assert sum(areas) == pytest.approx(2 * EXACT, rel=1e-6)
    by_pair, by_street = service.write_summary(service.summarise(session, run.id),
                                               tmp_path / "summary.xlsx")  # fmt: skip
    sheet = load_workbook(by_street).active
    assert sheet is not None and (sheet["B2"].value, sheet["C2"].value) == ("解放碑街道", 2)
    assert load_workbook(by_pair).active is not None


@pytest.mark.usefixtures("district")
def test_a_run_with_nothing_in_conflict_writes_an_empty_report(
    session: Session, tmp_path: Path
) -> None:
    store_layers(session, tmp_path)
    run = service.run(session, ["land", "red"], now=NOW)  # wetland inside the red line: fine
    assert (run.patch_count, run.total_area_m2) == (0, 0)
    assert service.write_patches(session, run.id, tmp_path / "none.gpkg") == 0
    assert pyogrio.read_info(tmp_path / "none.gpkg")["features"] == 0
    assert service.summarise(session, run.id).by_pair == []


@pytest.mark.usefixtures("district")
def test_urban_land_outside_the_development_boundary_is_a_conflict(
    session: Session, tmp_path: Path
) -> None:
    # town housing half outside the boundary; a rural homestead outside it is allowed
    housing = box(106.571, 29.5605, 106.573, 29.5615)
    homestead = box(106.574, 29.5605, 106.575, 29.5615)
    plan = write(tmp_path / "plan.gpkg", [housing, homestead], {"DLBM": ["0701", "0703"]})
    edge = box(106.570, 29.560, 106.572, 29.562)
    boundary = write(tmp_path / "boundary.gpkg", [edge], {"MC": ["城镇开发边界"]})
    import_layer(session, plan, LayerImport("plan", "国土空间规划", LayerKind.PLAN, None,
                                            "DLBM"), now=NOW)  # fmt: skip
    import_layer(session, boundary, LayerImport("boundary", "城镇开发边界",
                                                LayerKind.CONTROL_LINE,
                                                ControlLine.URBAN_BOUNDARY), now=NOW)  # fmt: skip
    run = service.run(session, ["plan", "boundary"], now=NOW)
    (row,) = session.scalars(select(Conflict).where(Conflict.run_id == run.id)).all()
    outside = box(106.572, 29.5605, 106.573, 29.5615)
    assert (row.layer_a, row.class_a, row.layer_b, row.feature_b) == ("plan", "0701",
                                                                      "boundary", None)  # fmt: skip
    assert (row.class_b, row.difference) == ("line:urban_boundary", "control_line")
    assert row.area_m2 == pytest.approx(
        abs(Geod(ellps="GRS80").geometry_area_perimeter(outside)[0]), rel=1e-6
    )
    assert service.write_patches(session, run.id, tmp_path / "out.gpkg") == 1


def test_a_run_needs_two_different_stored_layers(session: Session) -> None:
    for names in (["land"], ["land", "nowhere"], ["land", "land"]):
        with pytest.raises(Invalid):
            service.run(session, names, now=NOW)


def test_a_patch_goes_to_the_planning_department_as_a_case_and_is_resolved(
    session: Session, context: Context, planning: dict[str, Any], tmp_path: Path
) -> None:
    store_layers(session, tmp_path)
    run = service.run(session, ["land", "urban"], now=NOW)
    (patch,) = session.scalars(select(Conflict).where(Conflict.run_id == run.id)).all()
    planner = actor_of(planning["planner"])
    env = context.intake_env(session, NOW)

    case_id = service.open_case(session, env, planner, patch.id, now=NOW)
    case = session.get(Case, case_id)
    assert case is not None
    # filed and dispatched by the shipped rule to the class's department
    assert (case.class_code, case.source_kind, case.state) == ("E0606", "planning", "handling")
    assert case.department_id == planning["handler_gh"].department_id
    assert "0501 森林沼泽" in case.description and f"图斑编号 {patch.id}" in case.description
    assert (patch.state, patch.case_id) == ("case_opened", case_id)
    assert service.open_case(session, env, planner, patch.id, now=NOW) == case_id  # the same

    service.resolve(session, planner, patch.id, Resolution.REVISE_B, "城市规划调整为湿地公园",
                    now=NOW)  # fmt: skip
    assert (patch.state, patch.resolution, patch.resolved_by) == ("resolved", "revise_b",
                                                                  "planner")  # fmt: skip
    # the same answer again is no change; another is refused
    service.resolve(session, planner, patch.id, Resolution.REVISE_B, "城市规划调整为湿地公园",
                    now=NOW)  # fmt: skip
    with pytest.raises(ConflictError, match="resolved already"):
        service.resolve(session, planner, patch.id, Resolution.EXCEPTION, "保留", now=NOW)
    assert session.scalar(select(ConflictRun.patch_count)) == 1


def test_a_resolution_needs_a_note_and_a_resolved_patch_takes_no_case(
    session: Session, context: Context, planning: dict[str, Any], tmp_path: Path
) -> None:
    store_layers(session, tmp_path)
    run = service.run(session, ["land", "urban"], now=NOW)
    (patch,) = session.scalars(select(Conflict).where(Conflict.run_id == run.id)).all()
    planner = actor_of(planning["planner"])
    with pytest.raises(Invalid, match="note"):
        service.resolve(session, planner, patch.id, Resolution.DATA_ERROR, "  ", now=NOW)
    service.resolve(session, planner, patch.id, Resolution.DATA_ERROR, "两规边界测绘误差", now=NOW)
    with pytest.raises(ConflictError):
        service.open_case(session, context.intake_env(session, NOW), planner, patch.id, now=NOW)
