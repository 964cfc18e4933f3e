"""Exports of residents' requests mask personal data unless asked for with contacts, and
that ask is recorded."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.citizens.test_hotline import call, created
from tests.factories import EPOCH

from cityops.auth.models import AuditEntry
from cityops.citizens.io import export_requests


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_an_export_masks_names_phones_and_numbers_in_descriptions(
    client: TestClient, login: Any, session: Session, tmp_path: Path
) -> None:
    created(call(client, login("call_taker"), "门口垃圾没人清，回电13800138000",
                 class_code="E0102"))  # fmt: skip
    path = tmp_path / "requests.csv"
    assert export_requests(session, path, now=EPOCH) == 1
    (row,) = rows(path)
    assert (row["first_name"], row["phone"]) == ("王*", "139****5678")
    assert "13800138000" not in row["description"] and row["channel"] == "hotline"
    assert (row["case_state"], row["routing"], row["callbacks"]) == ("reported", "chosen", "0")
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "citizens.export_with_contacts")) is None  # fmt: skip


def test_an_export_with_contacts_is_in_full_and_audited(
    client: TestClient, login: Any, session: Session, tmp_path: Path
) -> None:
    created(call(client, login("call_taker"), "门口垃圾没人清", class_code="E0102"))
    path = tmp_path / "requests.xlsx"
    assert export_requests(session, path, with_contacts=True, now=EPOCH) == 1
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    assert sheet is not None
    header, values = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    row = dict(zip(header, values, strict=True))
    assert (row["first_name"], row["phone"]) == ("王芳", "13912345678")
    audit = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "citizens.export_with_contacts"))  # fmt: skip
    assert audit is not None
