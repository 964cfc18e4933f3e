"""The tables of an import: read from a folder of CSV/XLSX files, a workbook with a sheet per
table, or one table's file; with their row numbers as a spreadsheet shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cityops.errors import ImportFailed, ImportProblem
from cityops.kit.tabular import read_table

SHEETS = ("laws", "articles", "items", "benchmarks", "checklist", "agencies", "officers")


@dataclass(frozen=True)
class Table:
    """One table of an import: its name in problem reports, its header and its rows."""

    label: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


def _cell(value: Any) -> str:
    # Spreadsheets hold dates as dates and whole numbers as floats: give back what a person
    # typed, 2021-07-15 and 42, not 2021-07-15 00:00:00 and 42.0.
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_workbook(path: Path) -> dict[str, Table]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl reports unreadable files with many error types
        raise ImportFailed([ImportProblem(path.name, 0, "file", f"cannot read: {exc}")]) from exc
    tables: dict[str, Table] = {}
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            if name not in SHEETS and not (len(book.worksheets) == 1 and path.stem in SHEETS):
                continue
            name = name if name in SHEETS else path.stem.lower()
            values = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            tables[name] = _table(f"{path.name}[{sheet.title}]", values)
    finally:
        book.close()
    return tables


def _table(label: str, values: list[list[str]]) -> Table:
    header = [h.strip() for h in values[0]] if values else []
    rows = []
    for number, cells in enumerate(values[1:], start=2):
        if any(cells):
            cells = cells + [""] * (len(header) - len(cells))
            rows.append((number, dict(zip(header, cells, strict=False))))
    return Table(label, header, rows)


def _read_file(path: Path) -> Table:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = _read_workbook(path)
        return tables.get(path.stem.lower()) or next(iter(tables.values()), _table(path.name, []))
    header, rows = read_table(path)
    return Table(path.name, header, rows)


def read_tables(path: Path) -> dict[str, Table]:
    """The tables of a folder (laws.csv, items.xlsx …), of a workbook (a sheet per table) or
    of one file named after its table (officers.csv)."""
    tables: dict[str, Table] = {}
    if path.is_dir():
        for child in sorted(path.iterdir()):
            stem = child.stem.lower()
            if stem in SHEETS and child.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm"):
                tables[stem] = _read_file(child)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = _read_workbook(path)
    elif path.stem.lower() in SHEETS:
        tables[path.stem.lower()] = _read_file(path)
    if not tables:
        names = ", ".join(SHEETS)
        raise ImportFailed([ImportProblem(path.name, 0, "file", f"holds none of: {names}")])
    return tables


def filter_rows(table: Table, keep: Callable[[dict[str, str]], bool]) -> Table:
    return replace(table, rows=[(n, row) for n, row in table.rows if keep(row)])


def shift_dates(table: Table, columns: Iterable[str], by: timedelta) -> Table:
    """The table with the dates of `columns` moved by `by` (the shipped sample's officers)."""
    rows = []
    for number, row in table.rows:
        row = dict(row)
        for column in columns:
            if row.get(column):
                row[column] = (date.fromisoformat(row[column]) + by).isoformat()
        rows.append((number, row))
    return replace(table, rows=rows)
