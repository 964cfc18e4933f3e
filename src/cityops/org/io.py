"""Import and export a district's own regions (GeoJSON, GeoPackage, Shapefile; any CRS) and
its departments, people and duty roster (CSV, XLSX). Imports are all-or-nothing: every bad
feature or row is reported with file, row and field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.models import Account
from cityops.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from cityops.db import upsert
from cityops.errors import ImportFailed, ImportProblem
from cityops.geo.crs import STORAGE_EPSG, to_lonlat
from cityops.kit.schemas import aware_utc
from cityops.kit.tabular import read_table, require_columns, write_table
from cityops.org.models import (
    CODE_LENGTH,
    LEVEL_OF_LENGTH,
    Department,
    DepartmentKind,
    DutyAssignment,
    Person,
    Region,
    RegionLevel,
)
from cityops.org.service import ROLES

Progress = Callable[[int, int], None]
_geod = Geod(ellps="GRS80")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _area(geom: Any) -> float:
    return float(abs(_geod.geometry_area_perimeter(geom)[0]))


def import_regions(
    session: Session,
    path: Path,
    *,
    layer: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
    level_field: str = "level",
    grade_field: str = "grade",
    progress: Progress | None = None,
) -> ImportResult:
    """Regions from a GeoJSON, GeoPackage or Shapefile in any CRS, upserted by code.

    A code's length gives its level (6 district, 9 street, 12 community, 15 grid) and its
    parent (the code without its last three digits); a `level` column, when present, must
    agree. The file may hold every level or only grids whose parents already exist.
    """
    name = path.name
    try:
        meta, _fids, geometries, values = pyogrio.raw.read(path, layer=layer)
    except Exception as exc:  # GDAL reports unreadable files with several error types
        raise ImportFailed([ImportProblem(name, 0, "file", f"cannot read: {exc}")]) from exc
    fields = list(meta["fields"])
    column = dict(zip(fields, values, strict=True))
    problems: list[ImportProblem] = []
    for wanted in (code_field, name_field):
        if wanted not in column:
            problems.append(ImportProblem(name, 0, wanted, "field missing"))
    if problems:
        raise ImportFailed(problems)
    crs = meta.get("crs")
    existing = dict(session.execute(select(Region.code, Region.level)).all())
    rows: list[dict[str, Any]] = []
    total = len(geometries)
    for i in range(total):
        number = i + 1
        code = _text(column[code_field][i])
        label = _text(column[name_field][i])
        bad = len(problems)
        level = LEVEL_OF_LENGTH.get(len(code)) if code.isdigit() else None
        if level is None:
            message = f"{code!r} is not a 6/9/12/15-digit region code"
            problems.append(ImportProblem(name, number, code_field, message))
        elif level_field in column and _text(column[level_field][i]) not in ("", level.value):
            message = f"says {column[level_field][i]}, the code says {level.value}"
            problems.append(ImportProblem(name, number, level_field, message))
        if not label:
            problems.append(ImportProblem(name, number, name_field, "empty"))
        grade = None
        if grade_field in column and _text(column[grade_field][i]):
            try:
                grade = int(float(_text(column[grade_field][i])))
            except ValueError:
                problems.append(ImportProblem(name, number, grade_field, "not a whole number"))
        geom = shapely.from_wkb(geometries[i]) if geometries[i] is not None else None
        if geom is None or geom.is_empty:
            problems.append(ImportProblem(name, number, "geometry", "missing"))
        else:
            geom = to_lonlat(geom, crs)
            if not geom.is_valid:
                geom = shapely.make_valid(geom)
            if geom.geom_type not in ("Polygon", "MultiPolygon"):
                problems.append(ImportProblem(name, number, "geometry",
                                              f"a {geom.geom_type}, not a polygon"))  # fmt: skip
            else:
                lon, lat = geom.centroid.x, geom.centroid.y
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    message = "coordinates out of range: check the CRS"
                    problems.append(ImportProblem(name, number, "geometry", message))
        if len(problems) > bad or level is None or geom is None:
            continue
        rows.append({"code": code, "level": level.value, "name": label,
                     "parent_code": code[:-3] if level is not RegionLevel.DISTRICT else None,
                     "grade": grade if level is RegionLevel.GRID else None, "geometry": geom,
                     "number": number})  # fmt: skip
    in_file = {r["code"] for r in rows}
    for r in rows:
        parent = r["parent_code"]
        if parent and parent not in in_file and parent not in existing:
            message = f"parent region {parent} is neither in the file nor in the database"
            problems.append(ImportProblem(name, r["number"], code_field, message))
    if problems:
        raise ImportFailed(problems)
    rows.sort(key=lambda r: len(r["code"]))
    created = updated = 0
    for done, r in enumerate(rows, start=1):
        geom = r.pop("geometry")
        r.pop("number")
        minx, miny, maxx, maxy = geom.bounds
        values_ = dict(r, geometry=shapely.to_wkb(geom), min_lon=minx, min_lat=miny,
                       max_lon=maxx, max_lat=maxy, area_m2=_area(geom))  # fmt: skip
        _, new = upsert(session, Region, session.get(Region, r["code"]), {}, values_)
        created, updated = created + new, updated + (not new)
        if len(r["code"]) < CODE_LENGTH[RegionLevel.GRID]:
            session.flush()  # children below may reference it
        if progress and (done % 200 == 0 or done == len(rows)):
            progress(done, len(rows))
    session.flush()
    return ImportResult(created, updated)


def _as_multi(geometry: Any) -> Any:
    if geometry.geom_type == "Polygon":
        return shapely.geometry.MultiPolygon([geometry])
    return geometry


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def export_regions(session: Session, path: Path, *, level: str | None = None) -> int:
    """Regions to GeoJSON or GeoPackage (by suffix) in CGCS2000 lon/lat (EPSG:4490)."""
    query = select(Region).order_by(Region.code)
    if level:
        query = query.where(Region.level == level)
    regions = list(session.scalars(query))
    driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
    shapes = [shapely.from_wkb(r.geometry) for r in regions]
    geometries: Any = np.array([shapely.to_wkb(_as_multi(g)) for g in shapes], dtype=object)
    fields = ["code", "level", "name", "parent_code", "grade", "area_m2"]
    data = [
        np.array([r.code for r in regions], dtype=object),
        np.array([r.level for r in regions], dtype=object),
        np.array([r.name for r in regions], dtype=object),
        np.array([r.parent_code or "" for r in regions], dtype=object),
        np.array([r.grade if r.grade is not None else -1 for r in regions], dtype=np.int32),
        np.array([r.area_m2 or 0.0 for r in regions], dtype=np.float64),
    ]
    if path.exists():
        path.unlink()
    pyogrio.raw.write(path, geometries, data, fields, driver=driver,
                      geometry_type="MultiPolygon", crs=f"EPSG:{STORAGE_EPSG}",
                      layer="regions")  # fmt: skip
    return len(regions)


# -- departments, people, duty ---------------------------------------------------------------


def import_departments(session: Session, path: Path) -> ImportResult:
    """Departments from CSV/XLSX: code, name, kind (department|street_office), region_code,
    phone. Upserted by code."""
    header, rows = read_table(path)
    require_columns(path.name, header, ("code", "name"))
    regions = set(session.scalars(select(Region.code)))
    kinds = {k.value for k in DepartmentKind}
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for number, row in rows:
        if not row["code"]:
            problems.append(ImportProblem(path.name, number, "code", "empty"))
        elif row["code"] in seen:
            problems.append(ImportProblem(path.name, number, "code", "repeated in the file"))
        seen.add(row["code"])
        if not row["name"]:
            problems.append(ImportProblem(path.name, number, "name", "empty"))
        if row.get("kind") and row["kind"] not in kinds:
            problems.append(ImportProblem(path.name, number, "kind", f"one of {sorted(kinds)}"))
        if row.get("region_code") and row["region_code"] not in regions:
            problems.append(ImportProblem(path.name, number, "region_code", "no such region"))
    if problems:
        raise ImportFailed(problems)
    created = updated = 0
    for _number, row in rows:
        dept = session.scalar(select(Department).where(Department.code == row["code"]))
        values = {"name": row["name"], "kind": row.get("kind") or DepartmentKind.DEPARTMENT.value,
                  "region_code": row.get("region_code") or None,
                  "phone": row.get("phone") or None}  # fmt: skip
        _, new = upsert(session, Department, dept, {"code": row["code"], "active": True}, values)
        created, updated = created + new, updated + (not new)
    session.flush()
    return ImportResult(created, updated)


def _roles(text: str) -> list[str]:
    for sep in ("、", ";", "；", "，"):
        text = text.replace(sep, ",")
    return [r.strip() for r in text.split(",") if r.strip()]


def import_people(session: Session, path: Path) -> ImportResult:
    """People from CSV/XLSX: code, name, phone, roles (separated by , ; or 、),
    department_code, scope_code, username, password. A username gives the person a login;
    a new login needs a password of at least 8 characters."""
    header, rows = read_table(path)
    require_columns(path.name, header, ("code", "name", "roles"))
    departments = dict(session.execute(select(Department.code, Department.id)).all())
    regions = set(session.scalars(select(Region.code)))
    accounts = {a.username: a for a in session.scalars(select(Account))}
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for number, row in rows:
        name = path.name
        if not row["code"]:
            problems.append(ImportProblem(name, number, "code", "empty"))
        elif row["code"] in seen:
            problems.append(ImportProblem(name, number, "code", "repeated in the file"))
        seen.add(row["code"])
        if not row["name"]:
            problems.append(ImportProblem(name, number, "name", "empty"))
        roles = _roles(row["roles"])
        if not roles:
            problems.append(ImportProblem(name, number, "roles", "at least one role"))
        for role in roles:
            if role not in ROLES:
                message = f"unknown role {role!r}; one of {sorted(ROLES)}"
                problems.append(ImportProblem(name, number, "roles", message))
        if row.get("department_code") and row["department_code"] not in departments:
            problems.append(ImportProblem(name, number, "department_code", "no such department"))
        if row.get("scope_code") and row["scope_code"] not in regions:
            problems.append(ImportProblem(name, number, "scope_code", "no such region"))
        username = row.get("username", "")
        if (
            username
            and username not in accounts
            and len(row.get("password", "")) < MIN_PASSWORD_LENGTH
        ):
            message = f"a new login needs at least {MIN_PASSWORD_LENGTH} characters"
            problems.append(ImportProblem(name, number, "password", message))
    if problems:
        raise ImportFailed(problems)
    created = updated = 0
    for _number, row in rows:
        person = session.scalar(select(Person).where(Person.code == row["code"]))
        values = {"name": row["name"], "phone": row.get("phone") or None,
                  "roles": _roles(row["roles"]),
                  "department_id": departments.get(row.get("department_code") or ""),
                  "scope_code": row.get("scope_code") or None}  # fmt: skip
        person, new = upsert(session, Person, person, {"code": row["code"], "active": True},
                             values)  # fmt: skip
        created, updated = created + new, updated + (not new)
        session.flush()
        username = row.get("username", "")
        if username:
            account = accounts.get(username)
            if account is None:
                account = Account(person_id=person.id, username=username,
                                  password_hash=hash_password(row["password"]), active=True,
                                  token_version=0)  # fmt: skip
                session.add(account)
                accounts[username] = account
            elif row.get("password"):
                account.password_hash = hash_password(row["password"])
                account.token_version += 1
    session.flush()
    return ImportResult(created, updated)


def import_duty(session: Session, path: Path) -> ImportResult:
    """Duty roster from CSV/XLSX: person_code, grid_code, role, starts_at, ends_at (ISO 8601,
    a time without zone is taken in UTC)."""
    header, rows = read_table(path)
    require_columns(path.name, header, ("person_code", "grid_code", "starts_at"))
    people = {p.code: p for p in session.scalars(select(Person))}
    grids = set(session.scalars(select(Region.code).where(Region.level == RegionLevel.GRID.value)))
    problems: list[ImportProblem] = []
    parsed: list[dict[str, Any]] = []
    for number, row in rows:
        name = path.name
        bad = len(problems)
        person = people.get(row["person_code"])
        role = row.get("role") or "grid_worker"
        if person is None:
            problems.append(ImportProblem(name, number, "person_code", "no such person"))
        elif role not in person.roles:
            problems.append(ImportProblem(name, number, "role", "the person does not hold it"))
        if row["grid_code"] not in grids:
            problems.append(ImportProblem(name, number, "grid_code", "no such grid"))
        times: dict[str, datetime | None] = {}
        for column in ("starts_at", "ends_at"):
            text = row.get(column, "")
            try:
                times[column] = aware_utc(datetime.fromisoformat(text)) if text else None
            except ValueError:
                problems.append(ImportProblem(name, number, column, "not an ISO 8601 time"))
        if times.get("starts_at") is None and "starts_at" not in [p.field for p in problems[bad:]]:
            problems.append(ImportProblem(name, number, "starts_at", "empty"))
        start, end = times.get("starts_at"), times.get("ends_at")
        if start and end and end <= start:
            problems.append(ImportProblem(name, number, "ends_at", "must be after starts_at"))
        if len(problems) == bad and person is not None:
            parsed.append({"person_id": person.id, "grid_code": row["grid_code"], "role": role,
                           "starts_at": start, "ends_at": end})  # fmt: skip
    if problems:
        raise ImportFailed(problems)
    for values in parsed:
        session.add(DutyAssignment(**values))
    session.flush()
    return ImportResult(len(parsed), 0)


PEOPLE_COLUMNS = ["code", "name", "phone", "roles", "department_code", "scope_code", "username"]
DEPARTMENT_COLUMNS = ["code", "name", "kind", "region_code", "phone"]


def export_people(session: Session, path: Path) -> int:
    """People to CSV/XLSX in the import's columns (logins without passwords)."""
    departments = {i: c for c, i in session.execute(select(Department.code, Department.id))}
    usernames = dict(session.execute(select(Account.person_id, Account.username)).all())
    rows = [
        {"code": p.code, "name": p.name, "phone": p.phone, "roles": ",".join(p.roles),
         "department_code": departments.get(p.department_id or 0), "scope_code": p.scope_code,
         "username": usernames.get(p.id)}
        for p in session.scalars(select(Person).order_by(Person.code))
    ]  # fmt: skip
    return write_table(path, PEOPLE_COLUMNS, rows)


def export_departments(session: Session, path: Path) -> int:
    rows = [
        {c: getattr(d, c) for c in DEPARTMENT_COLUMNS}
        for d in session.scalars(select(Department).order_by(Department.code))
    ]
    return write_table(path, DEPARTMENT_COLUMNS, rows)
