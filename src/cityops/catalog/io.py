"""Import and export the catalog of case classes as CSV or XLSX, all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.catalog import repository
from cityops.catalog.models import CaseClass, MajorClass
from cityops.catalog.schemas import CaseClassCreate
from cityops.catalog.service import class_code
from cityops.db import upsert
from cityops.errors import ImportFailed, ImportProblem
from cityops.kit.tabular import read_table, require_columns, write_table
from cityops.org.models import Department

COLUMNS = ["family", "major_code", "major_name", "sub_code", "name", "filing_condition",
           "closing_condition", "limit_value", "limit_unit", "urgency", "department_code",
           "merge_radius_m", "merge_window_minutes"]  # fmt: skip
REQUIRED = ["family", "major_code", "sub_code", "name", "limit_value", "limit_unit"]


def import_classes(session: Session, path: Path) -> tuple[int, int]:
    """Upsert classes (and their major classes) by code; returns (created, updated)."""
    header, rows = read_table(path)
    require_columns(path.name, header, REQUIRED)
    departments = set(session.scalars(select(Department.code)))
    problems: list[ImportProblem] = []
    valid: list[CaseClassCreate] = []
    seen: set[str] = set()
    for number, row in rows:
        data: dict[str, Any] = {k: v for k, v in row.items() if k in COLUMNS and v != ""}
        data["major_code"] = data.get("major_code", "").zfill(2)
        data["sub_code"] = data.get("sub_code", "").zfill(2)
        try:
            item = CaseClassCreate.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "row"
                problems.append(ImportProblem(path.name, number, field, error["msg"]))
            continue
        code = class_code(item.family, item.major_code, item.sub_code)
        if code in seen:
            problems.append(ImportProblem(path.name, number, "sub_code", f"{code} repeated"))
        seen.add(code)
        if item.department_code and item.department_code not in departments:
            problems.append(ImportProblem(path.name, number, "department_code",
                                          "no such department"))  # fmt: skip
        valid.append(item)
    if problems:
        raise ImportFailed(problems)
    created = updated = 0
    majors = {(m.family, m.code): m for m in repository.majors(session)}
    for item in valid:
        key = (item.family.value, item.major_code)
        if key not in majors:
            majors[key] = MajorClass(family=key[0], code=key[1],
                                     name=item.major_name or f"大类{item.major_code}")  # fmt: skip
            session.add(majors[key])
        elif item.major_name:
            majors[key].name = item.major_name
        code = class_code(item.family, item.major_code, item.sub_code)
        values = item.model_dump(exclude={"major_name"}, mode="json")
        existing = session.get(CaseClass, code)
        _, new = upsert(session, CaseClass, existing, {"code": code, "active": True}, values)
        created, updated = created + new, updated + (not new)
    session.flush()
    return created, updated


def export_classes(session: Session, path: Path) -> int:
    """Every class to CSV or XLSX in the columns `import_classes` reads."""
    majors = {(m.family, m.code): m.name for m in repository.majors(session)}
    rows = []
    for c in repository.classes(session):
        row = {col: getattr(c, col, None) for col in COLUMNS}
        row["major_name"] = majors.get((c.family, c.major_code), "")
        rows.append(row)
    return write_table(path, COLUMNS, rows)
