"""The standard catalog, its snapshot and rules, and moving it in and out as tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.catalog.io import export_classes, import_classes
from cityops.catalog.models import CaseClass, Stage
from cityops.catalog.schemas import CaseClassUpdate
from cityops.catalog.service import (
    RuleInfo,
    load_seed,
    load_snapshot,
    match_rule,
    normalize_code,
    update_class,
)
from cityops.errors import ImportFailed, Invalid


def test_the_seed_loads_the_standard_classes_once(session: Session) -> None:
    first = load_seed(session)
    assert first.classes >= 100
    assert first.departments >= 15 and first.stage_limits == 6 and first.rules >= 5
    names = dict(session.execute(select(CaseClass.code, CaseClass.name)).all())
    assert names["E0102"] == "暴露垃圾" and names["P0101"] == "上水井盖"
    assert names["E0502"] == "占道经营" and names["E0101"] == "私搭乱建"
    families = dict(session.execute(
        select(CaseClass.family, func.count()).group_by(CaseClass.family)).all())  # fmt: skip
    assert families["part"] >= 50 and families["event"] >= 50
    update_class(session, "E0102", CaseClassUpdate(limit_value=3))
    again = load_seed(session)
    assert (again.classes, again.departments, again.rules) == (0, 0, 0)
    assert session.get(CaseClass, "E0102").limit_value == 3  # type: ignore[union-attr]


def test_the_snapshot_holds_what_intake_needs(session: Session) -> None:
    load_seed(session)
    snap = load_snapshot(session)
    assert snap.classes["E0102"].limit_unit == "working_hours"
    assert snap.stage_limit(Stage.DISPATCH, "E0102") is not None
    assert "HW" in snap.department_ids


def test_codes_are_normalised_or_refused() -> None:
    assert normalize_code(" e0102 ") == "E0102"
    with pytest.raises(Invalid) as err:
        normalize_code("X12")
    assert err.value.errors[0].path == "class_code"


def rule(name: str, **kw: object) -> RuleInfo:
    base: dict[str, object] = {"class_code": None, "source_kind": None, "source": None,
                               "min_confidence": 0.0, "auto_accept": True, "auto_file": True,
                               "auto_dispatch": False, "dispatch_to": "department"}  # fmt: skip
    base.update(kw)
    return RuleInfo(name=name, **base)  # type: ignore[arg-type]


def test_the_most_specific_rule_wins() -> None:
    rules = (
        rule("any"),
        rule("cameras", source_kind="camera"),
        rule("gateway-7", source="gw-7"),
        rule("vending", class_code="E0502"),
        rule("vending-cameras", class_code="E0502", source_kind="camera", min_confidence=0.8),
        rule("vending-gw7", class_code="E0502", source="gw-7"),
    )
    pick = lambda code, kind, src, conf: match_rule(rules, code, kind, src, conf).name  # type: ignore[union-attr]  # noqa: E731
    assert pick("E0502", "camera", "gw-7", 0.9) == "vending-gw7"
    assert pick("E0502", "camera", "gw-1", 0.9) == "vending-cameras"
    assert pick("E0502", "camera", "gw-1", 0.5) == "vending"
    assert pick("E0502", "camera", "gw-1", None) == "vending"
    assert pick("E0102", "camera", "gw-7", None) == "gateway-7"
    assert pick("E0102", "camera", "gw-1", None) == "cameras"
    assert pick("E0102", "hotline", "h", None) == "any"
    assert match_rule((), "E0102", "camera", "x", 1.0) is None


def test_classes_round_trip_through_xlsx_and_gbk_csv(session: Session, tmp_path: Path) -> None:
    load_seed(session)
    out = tmp_path / "catalog.xlsx"
    count = export_classes(session, out)
    assert count == session.scalar(select(func.count()).select_from(CaseClass))
    assert import_classes(session, out) == (0, count)
    gbk = tmp_path / "new.csv"
    gbk.write_bytes(
        "family,major_code,major_name,sub_code,name,limit_value,limit_unit,department_code\n"
        "event,7,城市家具,1,共享充电柜占道,1,working_days,HW\n".encode("gbk")
    )
    assert import_classes(session, gbk) == (1, 0)
    assert session.get(CaseClass, "E0701").name == "共享充电柜占道"  # type: ignore[union-attr]


def test_a_bad_catalog_file_names_every_bad_row(session: Session, tmp_path: Path) -> None:
    load_seed(session)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "family,major_code,sub_code,name,limit_value,limit_unit,department_code\n"
        "event,01,90,好的,1,working_hours,HW\n"
        "thing,01,91,坏家族,1,working_hours,\n"
        "event,01,92,坏时限,-2,working_hours,\n"
        "event,01,93,坏单位,1,fortnights,\n"
        "event,01,94,坏部门,1,working_hours,NOPE\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failed:
        import_classes(session, bad)
    assert {(p.row, p.field) for p in failed.value.problems} == {
        (3, "family"), (4, "limit_value"), (5, "limit_unit"), (6, "department_code")}  # fmt: skip
    assert session.get(CaseClass, "E0190") is None
