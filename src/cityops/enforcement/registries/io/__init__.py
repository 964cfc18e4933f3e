"""Import the four registries from CSV/XLSX: a folder of files, or one workbook with a sheet
per table, named laws, articles, items, benchmarks, checklist, agencies, officers (any
subset). All-or-nothing: every bad row is reported with file, row and field, and nothing is
written. A row may refer to rows of an earlier table in the same import or in the database.

Rows are upserted by their keys (a law by code and version, an article by law and number,
an item, agency or officer by code or certificate number), so ids stay stable; an item's
basis, an agency's regions and powers and an officer's regions are replaced by the row's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cityops.enforcement.registries.io.checks import CHECKS, REQUIRED, Known, Report
from cityops.enforcement.registries.io.tables import (
    SHEETS,
    Table,
    filter_rows,
    read_tables,
    shift_dates,
)
from cityops.enforcement.registries.io.writing import Counts, ImportSummary, Progress, Writer
from cityops.errors import ImportFailed

__all__ = [
    "SHEETS",
    "Counts",
    "ImportSummary",
    "Progress",
    "Table",
    "check_then_write",
    "filter_rows",
    "import_registries",
    "import_tables",
    "read_tables",
    "shift_dates",
]


K = TypeVar("K")


def check_then_write(
    tables: Mapping[str, Table],
    *,
    sheets: Sequence[str],
    required: Mapping[str, Sequence[str]],
    checks: Mapping[str, Callable[[Table, Report, K], list[dict[str, Any]]]],
    known: K,
    writer: object,
) -> None:
    """Check every table given (of `sheets`), then hand each one's rows to the writer's
    method of the sheet's name, in the order of `sheets`; ImportFailed (nothing written)
    lists every problem. The registries and the business directory import this way."""
    report = Report()
    parsed: dict[str, list[dict[str, Any]]] = {}
    for name in sheets:
        table = tables.get(name)
        if table is None:
            continue
        missing = [c for c in required[name] if c not in table.header]
        for column in missing:
            report.add(table, 1, column, "column missing")
        if not missing:
            parsed[name] = checks[name](table, report, known)
    if report.problems:
        raise ImportFailed(report.problems)
    for name in sheets:
        if name in parsed:
            getattr(writer, name)(parsed[name])


def import_tables(
    session: Session,
    tables: dict[str, Table],
    *,
    keep_existing: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Check every table, then write them in order; ImportFailed (nothing written) lists
    every problem. With `keep_existing`, rows whose key exists are left as they are."""
    writer = Writer(session, keep_existing, progress)
    check_then_write(tables, sheets=SHEETS, required=REQUIRED, checks=CHECKS,
                     known=Known.load(session), writer=writer)  # fmt: skip
    return writer.summary


def import_registries(
    session: Session,
    path: Path,
    *,
    keep_existing: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """The registries from a folder, a workbook or one table's file (see the module)."""
    return import_tables(session, read_tables(path), keep_existing=keep_existing, progress=progress)
