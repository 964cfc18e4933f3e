"""Read and write the tables people keep in CSV or Excel, with row numbers for error reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cityops.errors import ImportFailed, ImportProblem

# Excel on Chinese Windows saves CSV as GBK (GB18030 is its superset); everything else as
# UTF-8, with or without the byte-order mark Excel adds.
ENCODINGS = ("utf-8-sig", "gb18030")


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows of a CSV or XLSX file; each row with its 1-based line number
    as a spreadsheet shows it (the header is row 1). Blank rows are skipped."""
    name = path.name
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        values = [["" if v is None else str(v).strip() for v in row]
                  for row in sheet.iter_rows(values_only=True)]  # fmt: skip
        book.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = path.read_bytes()
        for encoding in ENCODINGS:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFailed([ImportProblem(name, 0, "file", "not UTF-8 or GBK text")])
        values = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise ImportFailed([ImportProblem(name, 0, "file", "use a .csv or .xlsx file")])
    if not values:
        raise ImportFailed([ImportProblem(name, 0, "file", "the file is empty")])
    header = [h.strip() for h in values[0]]
    rows = []
    for number, cells in enumerate(values[1:], start=2):
        if not any(cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        rows.append((number, dict(zip(header, cells, strict=False))))
    return header, rows


def require_columns(name: str, header: list[str], columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportFailed([ImportProblem(name, 1, c, "column missing") for c in missing])


def write_table(path: Path, header: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows to CSV (UTF-8 with BOM, so Excel opens it right) or XLSX, by suffix."""
    data = [["" if r.get(h) is None else r.get(h) for h in header] for r in rows]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(header)
        for row in data:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(data)
    return len(data)
