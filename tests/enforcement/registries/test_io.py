"""Importing the registries from CSV/XLSX: every table, updates in place, the sample, and
bad files reported row by row with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.enforcement.conftest import TODAY
from tests.factories import COMMUNITY_A1, STREET_A

from cityops.enforcement.registries.io import import_registries, read_tables
from cityops.enforcement.registries.models import (
    Agency,
    Article,
    Benchmark,
    ChecklistItem,
    Item,
    Law,
    Officer,
)
from cityops.enforcement.registries.service import load_seed
from cityops.errors import ImportFailed

Write = Callable[[str, str], Path]

LAWS = """
code,version,title,level,effective_on,amendments
demo-law,2017,示例法,law,2017-09-01,2017-09-01 第二次修正
demo-law,2021,示例法,法律,2021-07-15,1996-03-17 通过; 2021-01-22 修订
demo-rule,,示例规章,department_rule,,
"""
ARTICLES = """
law_code,law_version,number,paragraph,item,text
demo-law,2017,第十条,,,旧的第十条
demo-law,,10,,,"单位有下列行为之一的，处五千元以上五万元以下罚款：
（一）甲；
（二）乙；
（三）丙。"
demo-law,,第十一条,,,任何单位不得堵塞疏散通道。
demo-law,2021,12,2,,第十二条第二款单独存放。
"""
ITEMS = """
code,name,kind,agency_kinds,duty_articles,penalty_articles,first_violation_exempt
I-1,对堵塞疏散通道的处罚,处罚,fire_rescue; 街道/乡镇综合行政执法,demo-law:11,demo-law:10.1.3,是
I-2,消防检查,inspection,,,,
"""
BENCHMARKS = """
item_code,grade,party,circumstance,fine_min,fine_max,article
I-1,从轻,单位,及时改正,5000,"15,000",demo-law:10
I-1,一般,organisation,一般,15000,35000,
"""
CHECKLIST = """
item_code,code,text,article
I-1,I-1-01,疏散通道是否畅通,demo-law@2021:第十一条
"""
AGENCIES = f"""
code,name,kind,regions,items
A-1,街道执法队,town_street,{STREET_A},I-2
"""
OFFICERS = f"""
certificate_number,name,agency_code,valid_from,valid_until,regions,person_code,phone
C-1,甲,A-1,2025-01-01,2029-12-31,{COMMUNITY_A1},inspector,13912345678
C-2,乙,A-1,2025-01-01,2029-12-31,,,
"""
GOOD = {
    "laws.csv": LAWS,
    "articles.csv": ARTICLES,
    "items.csv": ITEMS,
    "benchmarks.csv": BENCHMARKS,
    "checklist.csv": CHECKLIST,
    "agencies.csv": AGENCIES,
    "officers.csv": OFFICERS,
}


def write_all(write: Write, **changed: str) -> Path:
    for name, text in (GOOD | {f"{k}.csv": v for k, v in changed.items()}).items():
        path = write(name, text)
    return path.parent


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.usefixtures("district")
def test_a_folder_of_tables_loads_every_registry(session: Session, write: Write) -> None:
    summary = import_registries(session, write_all(write))
    assert str(summary).startswith("laws 3 created, 0 updated; articles 4 created")
    old, new = session.scalars(select(Law).where(Law.code == "demo-law").order_by(Law.version))
    # The later version supersedes the earlier on the day it takes effect.
    assert (old.superseded_on, new.superseded_on) == (date(2021, 7, 15), None)
    assert new.amendments == [
        {"on": "1996-03-17", "note": "通过"},
        {"on": "2021-01-22", "note": "修订"},
    ]
    assert [(a.label, a.paragraph) for a in new.articles] == [
        ("第十条", 0),
        ("第十一条", 0),
        ("第十二条", 2),
    ]
    assert new.articles[0].text.splitlines()[3] == "（三）丙。"
    item = session.scalar(select(Item).where(Item.code == "I-1"))
    assert item is not None and item.first_violation_exempt
    assert item.agency_kinds == ["fire_rescue", "town_street"]
    # A reference to a paragraph and item of an article stored whole keeps the pinpoint.
    basis = {(b.role, b.article.number, b.paragraph, b.item_no) for b in item.basis}
    assert basis == {("duty", 11, 0, 0), ("penalty", 10, 1, 3)}
    assert all(b.article.law_id == new.id for b in item.basis)  # the latest version
    assert [(b.grade, b.party, b.fine_min, b.fine_max) for b in item.benchmarks] == [
        ("lighter", "organisation", 5000, 15000),
        ("ordinary", "organisation", 15000, 35000),
    ]
    [point] = item.checklist
    assert point.article_id == new.articles[1].id
    agency = session.scalar(select(Agency))
    assert agency is not None and [r.region_code for r in agency.regions] == [STREET_A]
    officers = list(session.scalars(select(Officer).order_by(Officer.certificate_number)))
    assert [o.person_id is not None for o in officers] == [True, False]
    assert [r.region_code for r in officers[0].regions] == [COMMUNITY_A1]
    assert officers[0].phone == "13912345678"


@pytest.mark.usefixtures("district")
def test_a_second_import_updates_rows_in_place(session: Session, write: Write) -> None:
    folder = write_all(write)
    import_registries(session, folder)
    item = session.scalar(select(Item).where(Item.code == "I-1"))
    assert item is not None
    item_id, first_row = item.id, item.benchmarks[0].id
    write("benchmarks.csv", "item_code,grade,fine_min,fine_max\nI-1,从轻,6000,16000")
    write("officers.csv", OFFICERS.replace("2029-12-31", "2030-06-30").replace(COMMUNITY_A1, ""))
    summary = import_registries(session, folder)
    assert "items 0 created, 2 updated" in str(summary)
    session.expire_all()
    item = session.get(Item, item_id)
    assert item is not None
    # The file gives the item's whole benchmark: row 1 kept its id, row 2 went.
    assert [(b.id, b.fine_min, b.party) for b in item.benchmarks] == [(first_row, 6000, "any")]
    assert count(session, Benchmark) == 1 and count(session, Article) == 4
    officer = session.scalar(select(Officer).where(Officer.certificate_number == "C-1"))
    assert officer is not None
    assert officer.valid_until == date(2030, 6, 30) and officer.regions == []


@pytest.mark.usefixtures("district")
def test_a_workbook_with_a_sheet_per_table(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    laws = book.active
    assert laws is not None
    laws.title = "laws"
    laws.append(["code", "version", "title", "level", "effective_on"])
    laws.append(["wb-law", 2021, "工作簿法", "法律", datetime(2021, 7, 15)])
    articles = book.create_sheet("Articles")
    articles.append(["law_code", "number", "text"])
    articles.append(["wb-law", 42.0, "执法人员不得少于两人。"])
    book.create_sheet("notes").append(["anything", "else"])
    path = tmp_path / "registries.xlsx"
    book.save(path)
    import_registries(session, path)
    law = session.scalar(select(Law).where(Law.code == "wb-law"))
    assert law is not None and (law.version, law.effective_on) == ("2021", date(2021, 7, 15))
    assert [(a.number, a.label) for a in law.articles] == [(42, "第四十二条")]
    # One table's file on its own, named after its table.
    single = tmp_path / "checklist.csv"
    single.write_text("item_code,code,text\n", encoding="utf-8")
    assert list(read_tables(single)) == ["checklist"]


@pytest.mark.usefixtures("district")
def test_every_problem_is_named_by_file_row_and_field_and_nothing_is_written(
    session: Session, write: Write
) -> None:
    folder = write_all(
        write,
        laws=LAWS + "bad law,,,statute,2021-02-30,\n",
        articles=ARTICLES + "demo-law,2019,5,,,x\ndemo-law,,第条,,,\n",
        items=ITEMS + "I-1,again,penalty,police,demo-law:99,nope,maybe\n",
        benchmarks=BENCHMARKS + "I-1,heavier,any,,50000,40000,\nI-9,lighter,,,1,2,\n"
        "I-1,none,,,0,100,\nI-2,ordinary,,,,,,\n",
        agencies=AGENCIES.replace("I-2", "I-2; I-404") + "A-2,,army,999999,\n",
        officers=OFFICERS + "C-1,丙,A-9,2025-01-01,2024-01-01,500103002,nobody,\n",
    )
    with pytest.raises(ImportFailed) as failed:
        import_registries(session, folder)
    found = {str(p) for p in failed.value.problems}
    expected = {
        "laws.csv:5: code: no spaces or : @ ; , in a code",
        "laws.csv:5: title: empty",
        "laws.csv:5: effective_on: not a date (YYYY-MM-DD)",
        "articles.csv:6: law_version: no law demo-law@2019",
        "articles.csv:7: number: '第条' is not a number",
        "articles.csv:7: text: empty",
        "items.csv:4: code: repeated in the file",
        "items.csv:4: duty_articles: demo-law:99: demo-law@2021 has no 第九十九条 "
        "(import its articles first)",
        "items.csv:4: first_violation_exempt: write 是/否 (or 1/0, true/false)",
        "benchmarks.csv:4: fine_min: greater than fine_max",
        "benchmarks.csv:5: item_code: no item 'I-9'",
        "benchmarks.csv:6: fine_max: 不予处罚 allows no fine",
        "agencies.csv:2: items: no item 'I-404'",
        "agencies.csv:3: name: empty",
        "agencies.csv:3: regions: no region 999999",
        "officers.csv:4: certificate_number: repeated in the file",
        "officers.csv:4: agency_code: no agency 'A-9'",
        "officers.csv:4: valid_until: before valid_from",
        "officers.csv:4: person_code: no such person",
    }
    assert expected <= found, "\n".join(sorted(found))
    assert any(p.startswith("agencies.csv:3: kind: one of fire_rescue") for p in found)
    assert any(p.startswith("items.csv:4: agency_kinds: one of fire_rescue") for p in found)
    assert any(
        p.startswith("items.csv:4: penalty_articles: 'nope': write law-code:article") for p in found
    )
    assert any(p.startswith("laws.csv:5: level: one of law") for p in found)
    assert all(count(session, model) == 0 for model in (Law, Article, Item, Agency, Officer))


@pytest.mark.usefixtures("district")
def test_a_bad_row_does_not_drag_its_dependents_into_the_report(
    session: Session, write: Write
) -> None:
    folder = write_all(
        write,
        laws=LAWS.replace("demo-rule,,示例规章,department_rule", "demo-rule,,,department_rule"),
    )
    with pytest.raises(ImportFailed) as failed:
        import_registries(session, folder)
    assert [str(p) for p in failed.value.problems] == ["laws.csv:4: title: empty"]


@pytest.mark.usefixtures("district")
def test_an_officer_outside_the_agency_jurisdiction_and_missing_columns(
    session: Session, write: Write
) -> None:
    folder = write_all(write, officers=OFFICERS.replace(COMMUNITY_A1, "500103002"))
    with pytest.raises(ImportFailed) as failed:
        import_registries(session, folder)
    assert [str(p) for p in failed.value.problems] == [
        "officers.csv:2: regions: 500103002 is outside the agency's jurisdiction"
    ]
    write("items.csv", "code,title\nI-1,x")
    with pytest.raises(ImportFailed) as failed:
        import_registries(session, folder)
    assert {str(p) for p in failed.value.problems} >= {
        "items.csv:1: name: column missing",
        "items.csv:1: kind: column missing",
    }


def test_a_folder_without_registry_tables_says_what_it_wants(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("code\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="1 problem") as failed:
        read_tables(tmp_path)
    assert "holds none of: laws, articles" in str(failed.value.problems[0])


def test_the_sample_loads_once_and_keeps_what_exists(session: Session, seeded: Any) -> None:
    assert str(seeded) == (
        "laws 4 created, 0 updated; articles 35 created, 0 updated; items 10 created, "
        "0 updated; benchmarks 30 created, 0 updated; checklist 23 created, 0 updated; "
        "agencies 7 created, 0 updated; officers 14 created, 0 updated"
    )
    numbers = set(
        session.scalars(
            select(Article.number).join(Article.law).where(Law.code == "administrative-penalty-law")
        )
    )
    assert {33, 36, 42, 44, 45, 48, 51, 54, 57, 58, 60, 61, 63, 64, 67, 72} <= numbers
    row = session.scalar(select(Benchmark).where(Benchmark.fine_max == 50000).limit(1))
    assert row is not None
    row.fine_max = 45000  # an admin's edit
    session.flush()
    again = load_seed(session, today=TODAY)
    assert "laws 0 created, 0 updated, 4 kept" in str(again)
    assert "officers 0 created, 0 updated, 14 kept" in str(again)
    session.refresh(row)
    assert row.fine_max == 45000
    assert count(session, ChecklistItem) == 23


@pytest.mark.usefixtures("district")
def test_outside_the_demo_district_the_sample_keeps_to_what_holds_anywhere(
    session: Session,
) -> None:
    summary = load_seed(session)
    # The street teams and the officers of the demo streets are left out; the district's
    # agencies and their officers without street regions load.
    assert summary.tables["agencies"].created == 5
    assert summary.tables["officers"].created == 9
    assert summary.tables["items"].created == 10


@pytest.mark.usefixtures("streets")
def test_the_sample_certificates_move_with_today(session: Session) -> None:
    load_seed(session, today=date(2027, 1, 1))
    officer = session.scalar(select(Officer).where(Officer.name == "王强"))
    assert officer is not None
    # Written to expire 19 days after the reference day; still 19 days after this today.
    assert officer.valid_until == date(2027, 1, 20)
