"""Import the business directory from CSV/XLSX: a folder of files, or one workbook with a
sheet per table, named business_types, businesses, licences, conflicts (any subset), or
one table's file. All-or-nothing, like the registries' import (whose table, report and
cell helpers this reuses): every bad cell is reported with file, row and column, and
nothing is written. Rows are upserted by key (a type by code, a business by credit code,
a licence by kind and number, a conflict by business and officer), so ids stay stable."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.db import upsert
from cityops.enforcement.businesses.codes import credit_code_problem, id_number_problem
from cityops.enforcement.businesses.models import Business, BusinessType, Licence, OfficerConflict
from cityops.enforcement.registries.citation import split_list
from cityops.enforcement.registries.io import (
    Counts,
    ImportSummary,
    Progress,
    Table,
    check_then_write,
)
from cityops.enforcement.registries.io.cells import parse_date, parse_flag
from cityops.enforcement.registries.io.checks import Report
from cityops.enforcement.registries.models import Item, Officer
from cityops.errors import ImportFailed, ImportProblem
from cityops.kit.tabular import read_table
from cityops.org.models import Region

SHEETS = ("business_types", "businesses", "licences", "conflicts")
REQUIRED = {
    "business_types": ("code", "name"),
    "businesses": ("credit_code", "name", "type_code", "region_code"),
    "licences": ("credit_code", "kind", "number"),
    "conflicts": ("credit_code", "certificate_number"),
}
TYPE_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
PARTY_KINDS = {
    "organisation": "organisation",
    "citizen": "citizen",
    "单位": "organisation",
    "法人": "organisation",
    "个人": "citizen",
    "公民": "citizen",
    "": "organisation",
}


# -- reading ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    # As a person typed it: 2021-07-15 for a date cell, 42 for a whole number Excel keeps
    # as 42.0.
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(label: str, values: list[list[str]]) -> Table:
    header = [h.strip() for h in values[0]] if values else []
    rows = [
        (n, dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False)))
        for n, cells in enumerate(values[1:], start=2)
        if any(cells)
    ]
    return Table(label, header, rows)


def _workbook(path: Path) -> dict[str, Table]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl reports unreadable files with many error types
        raise ImportFailed([ImportProblem(path.name, 0, "file", f"cannot read: {exc}")]) from exc
    tables: dict[str, Table] = {}
    try:
        single = len(book.worksheets) == 1 and path.stem.lower() in SHEETS
        for sheet in book.worksheets:
            name = path.stem.lower() if single else sheet.title.strip().lower()
            if name in SHEETS:
                values = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
                tables[name] = _rows(f"{path.name}[{sheet.title}]", values)
    finally:
        book.close()
    return tables


def read_tables(path: Path) -> dict[str, Table]:
    """The tables of a folder (businesses.csv, licences.xlsx …), of a workbook (a sheet per
    table) or of one file named after its table."""
    tables: dict[str, Table] = {}
    if path.is_dir():
        for child in sorted(path.iterdir()):
            stem, suffix = child.stem.lower(), child.suffix.lower()
            if stem in SHEETS and suffix in (".csv", ".txt"):
                tables[stem] = Table(child.name, *read_table(child))
            elif stem in SHEETS and suffix in (".xlsx", ".xlsm"):
                tables.update(_workbook(child))
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = _workbook(path)
    elif path.stem.lower() in SHEETS:
        tables[path.stem.lower()] = Table(path.name, *read_table(path))
    if not tables:
        names = ", ".join(SHEETS)
        raise ImportFailed([ImportProblem(path.name, 0, "file", f"holds none of: {names}")])
    return tables


# -- checking --------------------------------------------------------------------------------


@dataclass
class Known:
    """What rows may refer to: in the database or in an earlier table of this import."""

    items: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    businesses: set[str] = field(default_factory=set)
    officers: dict[str, int] = field(default_factory=dict)  # certificate number → id
    bad_types: set[str] = field(default_factory=set)
    bad_businesses: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> Known:
        return cls(
            items=set(session.scalars(select(Item.code))),
            types=set(session.scalars(select(BusinessType.code))),
            regions=set(session.scalars(select(Region.code))),
            businesses=set(session.scalars(select(Business.credit_code))),
            officers=dict(session.execute(select(Officer.certificate_number, Officer.id)).all()),
        )


def _text(
    report: Report,
    t: Table,
    n: int,
    row: dict[str, str],
    column: str,
    limit: int,
    *,
    required: bool = False,
) -> str:
    value = row.get(column, "")
    if required and not value:
        report.add(t, n, column, "empty")
    elif len(value) > limit:
        report.add(t, n, column, f"over {limit} characters")
    return value


def _check_types(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[str]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("code", "")
        if not TYPE_CODE.match(code):
            report.add(t, n, "code", "empty" if not code else "at most 40 letters, digits, - or _")
        elif code in seen:
            report.add(t, n, "code", "repeated in the file")
        seen.add(code)
        name = _text(report, t, n, row, "name", 100, required=True)
        items = list(dict.fromkeys(split_list(row.get("items", ""))))
        for item in items:
            if item not in known.items:
                report.add(t, n, "items", f"no item {item!r} (import the registries first)")
        if len(report.problems) > bad:
            known.bad_types.add(code)
            continue
        known.types.add(code)
        parsed.append(
            {"code": code, "name": name, "item_codes": items, "note": row.get("note", "")}
        )
    return parsed


def _coordinate(
    report: Report, t: Table, n: int, column: str, text: str, low: float, high: float
) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        report.add(t, n, column, "not a number")
        return None
    if not low <= value <= high:
        report.add(t, n, column, f"between {low:g} and {high:g}")
        return None
    return value


def _check_businesses(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[str]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("credit_code", "").strip().upper()
        kind = PARTY_KINDS.get(row.get("party_kind", "").strip())
        if kind is None:
            report.add(t, n, "party_kind", "organisation or citizen (单位 or 个人)")
        problem = (id_number_problem if kind == "citizen" else credit_code_problem)(code)
        if problem:
            report.add(t, n, "credit_code", problem if code else "empty")
        elif code in seen:
            report.add(t, n, "credit_code", "repeated in the file")
        seen.add(code)
        values: dict[str, Any] = {
            "credit_code": code,
            "party_kind": kind,
            "name": _text(report, t, n, row, "name", 200, required=True),
            "representative": _text(report, t, n, row, "representative", 60),
            "phone": _text(report, t, n, row, "phone", 40),
            "address": _text(report, t, n, row, "address", 200),
            "note": row.get("note", ""),
        }
        type_code = row.get("type_code", "")
        if type_code not in known.types and type_code not in known.bad_types:
            report.add(
                t, n, "type_code", f"no business type {type_code!r}" if type_code else "empty"
            )
        values["type_code"] = type_code
        region, grid = row.get("region_code", ""), row.get("grid_code", "") or None
        if region not in known.regions:
            report.add(t, n, "region_code", f"no region {region}" if region else "empty")
        if grid is not None and grid not in known.regions:
            report.add(t, n, "grid_code", f"no region {grid}")
        elif grid is not None and not grid.startswith(region):
            report.add(t, n, "grid_code", f"{grid} is not within {region}")
        values["region_code"], values["grid_code"] = region, grid
        before = len(report.problems)
        values["lon"] = _coordinate(report, t, n, "lon", row.get("lon", ""), -180, 180)
        values["lat"] = _coordinate(report, t, n, "lat", row.get("lat", ""), -90, 90)
        if (values["lon"] is None) != (values["lat"] is None) and len(report.problems) == before:
            report.add(t, n, "lat" if values["lat"] is None else "lon", "give both lon and lat")
        values["opened_on"] = report.parse(t, n, "opened_on", parse_date, row.get("opened_on", ""))
        values["active"] = report.parse(t, n, "active", parse_flag, row.get("active", ""), True)
        if len(report.problems) > bad:
            known.bad_businesses.add(code)
            continue
        known.businesses.add(code)
        parsed.append(values)
    return parsed


def _business_ok(report: Report, known: Known, t: Table, n: int, code: str) -> bool:
    if code in known.bad_businesses:
        return False  # its own row is reported already
    if code not in known.businesses:
        report.add(t, n, "credit_code", f"no business {code!r}" if code else "empty")
        return False
    return True


def _check_licences(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed, seen = [], set[tuple[str, str]]()
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("credit_code", "").strip().upper()
        _business_ok(report, known, t, n, code)
        kind = _text(report, t, n, row, "kind", 60, required=True)
        number = _text(report, t, n, row, "number", 60, required=True)
        if (kind, number) in seen:
            report.add(t, n, "number", f"{kind} {number} repeated in the file")
        seen.add((kind, number))
        valid_from = report.parse(t, n, "valid_from", parse_date, row.get("valid_from", ""))
        valid_until = report.parse(t, n, "valid_until", parse_date, row.get("valid_until", ""))
        if valid_from and valid_until and valid_until < valid_from:
            report.add(t, n, "valid_until", "before valid_from")
        if len(report.problems) == bad:
            parsed.append(
                {
                    "credit_code": code,
                    "kind": kind,
                    "number": number,
                    "issuer": _text(report, t, n, row, "issuer", 200),
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                }
            )
    return parsed


def _check_conflicts(t: Table, report: Report, known: Known) -> list[dict[str, Any]]:
    parsed = []
    for n, row in t.rows:
        bad = len(report.problems)
        code = row.get("credit_code", "").strip().upper()
        _business_ok(report, known, t, n, code)
        number = row.get("certificate_number", "")
        if number not in known.officers:
            report.add(t, n, "certificate_number", f"no officer {number!r}" if number else "empty")
        if len(report.problems) == bad:
            parsed.append(
                {
                    "credit_code": code,
                    "officer_id": known.officers[number],
                    "reason": row.get("reason", ""),
                }
            )
    return parsed


CHECKS: dict[str, Callable[[Table, Report, Known], list[dict[str, Any]]]] = {
    "business_types": _check_types,
    "businesses": _check_businesses,
    "licences": _check_licences,
    "conflicts": _check_conflicts,
}


# -- writing ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, session: Session, keep: bool, progress: Progress | None) -> None:
        self.session, self.keep, self.progress = session, keep, progress
        self.summary = ImportSummary()

    def put(
        self,
        stage: str,
        model: type[Any],
        existing: Any,
        keys: dict[str, Any],
        values: dict[str, Any],
    ) -> None:
        counts = self.summary.tables.setdefault(stage, Counts())
        if existing is not None and self.keep:
            counts.skipped += 1
            return
        _, created = upsert(self.session, model, existing, keys, values)
        counts.created += created
        counts.updated += not created

    def tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None and (done % 500 == 0 or done == total):
            self.progress(stage, done, total)

    def business_types(self, rows: list[dict[str, Any]]) -> None:
        have = {x.code: x for x in self.session.scalars(select(BusinessType))}
        for done, values in enumerate(rows, start=1):
            self.put("business_types", BusinessType, have.get(values["code"]), {}, values)
            self.tick("business_types", done, len(rows))
        self.session.flush()

    def businesses(self, rows: list[dict[str, Any]]) -> None:
        have = {x.credit_code: x for x in self.session.scalars(select(Business))}
        for done, values in enumerate(rows, start=1):
            self.put("businesses", Business, have.get(values["credit_code"]), {}, values)
            self.tick("businesses", done, len(rows))
        self.session.flush()

    def _ids(self) -> dict[str, int]:
        return dict(self.session.execute(select(Business.credit_code, Business.id)).all())

    def licences(self, rows: list[dict[str, Any]]) -> None:
        ids = self._ids()
        have = {(x.kind, x.number): x for x in self.session.scalars(select(Licence))}
        for done, values in enumerate(rows, start=1):
            values["business_id"] = ids[values.pop("credit_code")]
            self.put("licences", Licence, have.get((values["kind"], values["number"])), {}, values)
            self.tick("licences", done, len(rows))
        self.session.flush()

    def conflicts(self, rows: list[dict[str, Any]]) -> None:
        ids = self._ids()
        for values in rows:
            key = {"business_id": ids[values["credit_code"]], "officer_id": values["officer_id"]}
            existing = self.session.get(OfficerConflict, (key["business_id"], key["officer_id"]))
            self.put(
                "conflicts",
                OfficerConflict,
                existing,
                key if existing is None else {},
                {"reason": values["reason"]},
            )
        self.session.flush()


def import_tables(
    session: Session,
    tables: dict[str, Table],
    *,
    keep_existing: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Check every table, then write them in order; ImportFailed (nothing written) lists
    every problem. With `keep_existing`, rows whose key exists are left as they are."""
    writer = _Writer(session, keep_existing, progress)
    check_then_write(tables, sheets=SHEETS, required=REQUIRED, checks=CHECKS,
                     known=Known.load(session), writer=writer)  # fmt: skip
    return writer.summary


def import_businesses(
    session: Session, path: Path, *, keep_existing: bool = False, progress: Progress | None = None
) -> ImportSummary:
    """The directory from a folder, a workbook or one table's file (see the module)."""
    return import_tables(session, read_tables(path), keep_existing=keep_existing, progress=progress)
