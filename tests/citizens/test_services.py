"""Residents' services loaded from CSV: the seed on a small catalog, and a strict import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import EPOCH

from cityops.citizens.models import CitizenService
from cityops.citizens.service import load_services
from cityops.errors import ImportFailed

HEADER = "code,class_code,group,name,description,keywords,attributes\n"


@pytest.mark.usefixtures("district")
def test_the_seed_skips_classes_the_catalog_lacks_and_keeps_an_admin_s_edits(
    session: Session,
) -> None:
    assert load_services(session, EPOCH) == 2  # E0102, E0502 of the test catalog
    garbage = session.get(CitizenService, "E0102")
    assert garbage is not None
    garbage.name = "垃圾乱堆"
    assert load_services(session, EPOCH) == 0
    assert session.get(CitizenService, "E0102").name == "垃圾乱堆"  # type: ignore[union-attr]


@pytest.mark.usefixtures("district")
def test_an_import_lists_every_bad_row_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    rows = [
        "stall,E0502,街面秩序,摆摊,,摆摊;小贩,[]",
        "lamp,P0118,公用设施,路灯不亮,,路灯,[]",
        'bins,E0102,市容环境,垃圾桶,,垃圾桶,"{""code"": 1}"',
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        load_services(session, EPOCH, path, strict=True)
    assert [(p.row, p.field) for p in failed.value.problems] == [
        (3, "class_code"), (4, "attributes"),
    ]  # fmt: skip
    assert session.scalars(select(CitizenService)).all() == []


@pytest.mark.usefixtures("district")
def test_an_import_of_good_rows_adds_them_in_order(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text(
        HEADER + "stall,E0502,街面秩序,摆摊,商贩占道,摆摊;小贩,[]\n"
        'heap,E0102,市容环境,垃圾堆,,垃圾,"[{""code"": ""size"", ""datatype"": ""number""}]"\n',
        encoding="utf-8",
    )
    assert load_services(session, EPOCH, path, strict=True) == 2
    rows: Any = session.scalars(select(CitizenService).order_by(CitizenService.position)).all()
    assert [(r.code, r.keywords) for r in rows] == [("stall", ["摆摊", "小贩"]), ("heap", ["垃圾"])]
    assert rows[1].attributes[0] == {"code": "size", "datatype": "number", "variable": True,
                                     "datatype_description": ""}  # fmt: skip
