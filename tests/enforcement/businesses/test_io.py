"""Importing the directory: all-or-nothing, every problem named by file, row and column;
rows upserted by key; a workbook with a sheet per table."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.enforcement.conftest import JIEFANGBEI

from cityops.enforcement.businesses.io import import_businesses
from cityops.enforcement.businesses.models import Business, BusinessType, Licence
from cityops.errors import ImportFailed

pytestmark = pytest.mark.usefixtures("seeded")

TYPES = "code,name,items\nbookshop,书店,SP-JC-001; XF-JC-001\n"
GOOD = (
    "credit_code,name,type_code,region_code,lon,lat,opened_on,phone\n"
    f"91500103MA5U00001G,渝中区解放碑书店,bookshop,{JIEFANGBEI},106.58,29.56,2020-01-02,023-1\n"
)


def folder(tmp_path: Path, **files: str) -> Path:
    path = tmp_path / "directory"
    path.mkdir(exist_ok=True)
    for name, text in files.items():
        (path / f"{name}.csv").write_text(text, encoding="utf-8")
    return path


def test_a_folder_imports_and_again_updates(session: Session, tmp_path: Path) -> None:
    licences = (
        "credit_code,kind,number,issuer,valid_from,valid_until\n"
        "91500103MA5U00001G,营业执照,91500103MA5U00001G,渝中区市场监督管理局,2020-01-02,\n"
    )
    path = folder(tmp_path, business_types=TYPES, businesses=GOOD, licences=licences)
    summary = import_businesses(session, path)
    assert str(summary) == (
        "business_types 1 created, 0 updated; businesses 1 created, 0 updated; "
        "licences 1 created, 0 updated"
    )
    shop = session.scalars(select(Business)).one()
    assert (shop.party_kind, shop.lon, shop.phone) == ("organisation", 106.58, "023-1")
    (path / "businesses.csv").write_text(GOOD.replace("解放碑书店", "解放碑新华书店"), "utf-8")
    again = import_businesses(session, path)
    assert again.tables["businesses"].updated == 1
    assert session.scalars(select(Business)).one().id == shop.id  # the same row
    assert session.scalar(select(func.count()).select_from(Licence)) == 1


def test_every_bad_cell_is_named_and_nothing_is_written(session: Session, tmp_path: Path) -> None:
    bad = (
        GOOD
        + f"91500103MA5U00001G,重复,bookshop,{JIEFANGBEI},,,,\n"
        + f"91500103MA5U00002X,某店,casino,{JIEFANGBEI},106.58,,2020-13-01,\n"
        + "110105194912310021,张三,bookshop,500199,,,,\n"
    )
    lines = "credit_code,kind,number\n91500103MA5U00009X,营业执照,1\n"
    path = folder(tmp_path, business_types=TYPES + "x y,,NOPE\n", businesses=bad, licences=lines)
    with pytest.raises(ImportFailed) as failed:
        import_businesses(session, path)
    found = [(p.file, p.row, p.field) for p in failed.value.problems]
    assert found == [
        ("business_types.csv", 3, "code"),
        ("business_types.csv", 3, "name"),
        ("business_types.csv", 3, "items"),
        ("businesses.csv", 3, "credit_code"),
        ("businesses.csv", 4, "credit_code"),
        ("businesses.csv", 4, "type_code"),
        ("businesses.csv", 4, "lat"),
        ("businesses.csv", 4, "opened_on"),
        ("businesses.csv", 5, "credit_code"),
        ("businesses.csv", 5, "region_code"),
        ("licences.csv", 2, "credit_code"),
    ]
    messages = {(p.row, p.field): p.message for p in failed.value.problems}
    assert messages[(3, "credit_code")] == "repeated in the file"
    assert "should be" in messages[(4, "credit_code")]
    assert session.scalar(select(func.count()).select_from(BusinessType)) == 0


def test_a_citizen_is_named_by_an_identity_number(session: Session, tmp_path: Path) -> None:
    row = f"11010519491231002X,张三,bookshop,{JIEFANGBEI},,,,\n"
    header = "credit_code,name,type_code,region_code,lon,lat,opened_on,party_kind\n"
    path = folder(
        tmp_path, business_types=TYPES, businesses=header + row.replace(",,,\n", ",,,个人\n")
    )
    import_businesses(session, path)
    assert session.scalars(select(Business)).one().party_kind == "citizen"


def test_a_workbook_with_a_sheet_per_table(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    types = book.active
    assert types is not None
    types.title = "business_types"
    for line in TYPES.splitlines():
        types.append(line.split(","))
    sheet = book.create_sheet("businesses")
    sheet.append(["credit_code", "name", "type_code", "region_code", "phone"])
    sheet.append(["91500103MA5U00001G", "书店", "bookshop", JIEFANGBEI, 13800000000])
    sheet.append(["91500103MA5U00001Y", "书店二", "bookshop", JIEFANGBEI, ""])
    path = tmp_path / "directory.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed) as failed:
        import_businesses(session, path)
    assert [str(p) for p in failed.value.problems] == [
        "directory.xlsx[businesses]:3: credit_code: the check character is Y, it should be G "
        "(GB 32100-2015)"
    ]
    book["businesses"].delete_rows(3)
    book.save(path)
    import_businesses(session, path)
    assert session.scalars(select(Business)).one().phone == "13800000000"
