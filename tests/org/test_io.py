"""Loading a real district's data: regions from GIS files in any CRS, staff from tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.auth.models import Account
from cityops.auth.passwords import verify_password
from cityops.errors import ImportFailed
from cityops.org.io import (
    export_people,
    export_regions,
    import_departments,
    import_duty,
    import_people,
    import_regions,
)
from cityops.org.models import DutyAssignment, Person, Region
from cityops.org.service import load_grid_index

# A street with one community and two grids, west and east, near 106.57 E 29.56 N.
STREET = ("500105001", "石桥铺街道", (106.50, 29.52, 106.504, 29.522))
COMMUNITY = ("500105001001", "科园社区", (106.50, 29.52, 106.504, 29.522))
WEST = ("500105001001001", "第1网格", (106.50, 29.52, 106.502, 29.522))
EAST = ("500105001001002", "第2网格", (106.502, 29.52, 106.504, 29.522))
DISTRICT = ("500105", "九龙坡区", (106.40, 29.40, 106.60, 29.60))


def write_regions(path: Path, rows: list[tuple[str, str, tuple[float, ...]]], epsg: int,
                  driver: str, grade: bool = True) -> None:  # fmt: skip
    to = Transformer.from_crs(4490, epsg, always_xy=True)
    geoms = [shapely.transform(MultiPolygon([box(*b)]),
                               lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1])))
             for _c, _n, b in rows]  # fmt: skip
    fields = ["code", "name"] + (["grade"] if grade else [])
    data = [
        np.array([r[0] for r in rows], dtype=object),
        np.array([r[1] for r in rows], dtype=object),
    ]
    if grade:
        data.append(np.array([2 if len(r[0]) == 15 else -1 for r in rows], dtype=np.int32))
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    pyogrio.raw.write(path, wkb, data, fields, driver=driver, geometry_type="MultiPolygon",
                      crs=f"EPSG:{epsg}")  # fmt: skip


@pytest.mark.parametrize(
    ("suffix", "driver", "epsg"),
    [(".geojson", "GeoJSON", 4490), (".gpkg", "GPKG", 4544), (".shp", "ESRI Shapefile", 4326)],
)
def test_regions_in_any_crs_land_where_they_should(
    session: Session, tmp_path: Path, suffix: str, driver: str, epsg: int
) -> None:
    path = tmp_path / f"regions{suffix}"
    write_regions(path, [WEST, EAST, COMMUNITY, STREET, DISTRICT], epsg, driver)
    result = import_regions(session, path)
    assert (result.created, result.updated) == (5, 0)
    west = session.get(Region, WEST[0])
    assert west is not None
    assert (west.level, west.parent_code, west.grade, west.name) == (
        "grid", COMMUNITY[0], 2, "第1网格")  # fmt: skip
    # Within a metre (1e-5 degree) of where they were drawn, after the round trip through GK.
    assert west.min_lon == pytest.approx(106.50, abs=1e-5)
    assert west.max_lat == pytest.approx(29.522, abs=1e-5)
    assert west.area_m2 == pytest.approx(0.002 * 96_900 * 0.002 * 110_800, rel=0.01)
    index = load_grid_index(session)
    assert index.locate(106.5005, 29.521) == WEST[0]
    assert index.locate(106.5035, 29.521) == EAST[0]
    again = import_regions(session, path)
    assert (again.created, again.updated) == (0, 5)


def test_a_bad_file_reports_every_problem_and_writes_nothing(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bad.geojson"
    bad = [
        ("5001050010010", "长度不对", WEST[2]),  # 13 digits
        ("500199001001001", "无上级", EAST[2]),  # parent nowhere
        ("500105001001003", "", EAST[2]),  # no name
    ]
    write_regions(path, bad, 4490, "GeoJSON", grade=False)
    with pytest.raises(ImportFailed) as failed:
        import_regions(session, path)
    found = {(p.row, p.field) for p in failed.value.problems}
    assert found == {(1, "code"), (2, "code"), (3, "name")}
    assert "500199001001" in str(failed.value)
    assert session.scalar(select(func.count()).select_from(Region)) == 0


def test_export_reimports_unchanged(session: Session, tmp_path: Path) -> None:
    src = tmp_path / "in.geojson"
    write_regions(src, [DISTRICT, STREET, COMMUNITY, WEST, EAST], 4490, "GeoJSON")
    import_regions(session, src)
    before = {
        r.code: (r.name, r.parent_code, r.grade, r.geometry)
        for r in session.scalars(select(Region))
    }
    out = tmp_path / "out.gpkg"
    assert export_regions(session, out) == 5
    result = import_regions(session, out)
    assert (result.created, result.updated) == (0, 5)
    session.expire_all()
    after = {r.code: (r.name, r.parent_code, r.grade) for r in session.scalars(select(Region))}
    assert after == {k: v[:3] for k, v in before.items()}
    west = session.get(Region, WEST[0])
    assert west is not None
    assert shapely.from_wkb(west.geometry).equals_exact(shapely.from_wkb(before[WEST[0]][3]), 1e-9)


def _load_district(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "d.geojson"
    write_regions(path, [DISTRICT, STREET, COMMUNITY, WEST, EAST], 4490, "GeoJSON")
    import_regions(session, path)


def test_people_departments_and_duty_from_tables(session: Session, tmp_path: Path) -> None:
    _load_district(session, tmp_path)
    depts = tmp_path / "departments.csv"
    depts.write_text(
        "code,name,kind,region_code\nHW,区环卫所,department,\n"
        "SQP,石桥铺街道办事处,street_office,500105001\n",
        encoding="utf-8-sig",
    )
    assert import_departments(session, depts).created == 2
    people = tmp_path / "people.csv"
    # Saved by Excel on a Chinese Windows: GBK, with 、 between roles.
    people.write_bytes(
        "code,name,phone,roles,department_code,scope_code,username,password\n"
        "G001,李网格,13800000001,grid_worker、inspector,SQP,500105001001,liwg,secret-pass-1\n"
        "D001,王派遣,13800000002,dispatcher,,500105,,\n".encode("gbk")
    )
    result = import_people(session, people)
    assert (result.created, result.updated) == (2, 0)
    li = session.scalar(select(Person).where(Person.code == "G001"))
    assert li is not None
    assert li.roles == ["grid_worker", "inspector"] and li.name == "李网格"
    account = session.scalar(select(Account).where(Account.username == "liwg"))
    assert account is not None and verify_password(account.password_hash, "secret-pass-1")
    duty = tmp_path / "duty.csv"
    duty.write_text(
        "person_code,grid_code,role,starts_at,ends_at\n"
        f"G001,{WEST[0]},grid_worker,2026-11-01T00:00:00+08:00,\n",
        encoding="utf-8",
    )
    assert import_duty(session, duty).created == 1
    assert session.scalar(select(func.count()).select_from(DutyAssignment)) == 1
    out = tmp_path / "people.xlsx"
    assert export_people(session, out) == 2
    assert import_people(session, out).updated == 2


def test_bad_people_rows_are_all_reported(session: Session, tmp_path: Path) -> None:
    _load_district(session, tmp_path)
    people = tmp_path / "people.csv"
    people.write_text(
        "code,name,roles,department_code,scope_code,username,password\n"
        "A1,甲,wizard,,500105,,\n"
        "A2,乙,inspector,NOPE,,,\n"
        "A3,丙,inspector,,999999,,\n"
        "A4,丁,inspector,,500105,newlogin,short\n"
        "A4,戊,inspector,,500105,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failed:
        import_people(session, people)
    found = {(p.row, p.field) for p in failed.value.problems}
    assert found == {(2, "roles"), (3, "department_code"), (4, "scope_code"), (5, "password"),
                     (6, "code")}  # fmt: skip
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    missing = tmp_path / "missing.csv"
    missing.write_text("code,name\nX,某\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="roles: column missing"):
        import_people(session, missing)
