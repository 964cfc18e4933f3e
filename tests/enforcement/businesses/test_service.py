"""The shipped sample directory and what a business's type says about who inspects it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import CAFE
from tests.enforcement.conftest import JIEFANGBEI, QIXINGGANG

from cityops.enforcement.businesses import repository, service
from cityops.enforcement.businesses.codes import credit_code_problem
from cityops.enforcement.businesses.models import Business, Licence, OfficerConflict


def test_the_sample_loads_once_with_valid_codes(directory: Any, session: Session) -> None:
    assert str(directory).startswith("business_types 5 created")
    assert directory.tables["businesses"].created == 40
    assert directory.tables["conflicts"].created == 1
    businesses = list(session.scalars(select(Business)))
    assert {b.region_code for b in businesses} == {JIEFANGBEI, QIXINGGANG}
    assert all(credit_code_problem(b.credit_code) is None for b in businesses)
    # The test database has no grids of these streets: they are left blank, not invented.
    assert all(b.grid_code is None and b.lon is not None for b in businesses)
    again = service.load_seed(session)
    assert again.tables["businesses"].created == 0 and again.tables["businesses"].skipped == 40
    assert session.scalar(select(func.count()).select_from(Licence)) == 101
    assert session.scalar(select(func.count()).select_from(OfficerConflict)) == 1


@pytest.mark.usefixtures("directory")
def test_the_cafe_is_inspected_by_five_agencies(session: Session) -> None:
    cafe = session.scalars(repository.businesses_query(text="极速网咖")).one()
    assert cafe.name == CAFE and cafe.type.name.startswith("网吧")
    found = {
        a.code: [i.code for i in items] for a, items in service.inspecting_agencies(session, cafe)
    }
    assert found == {
        "YZ-GA": ["WH-CF-002", "GA-CF-001"],
        "YZ-JFB-ZF": ["WH-CF-003", "XF-CF-001"],
        "YZ-SCJG": ["SP-CF-001", "SP-JC-001"],
        "YZ-WHZF": ["WH-CF-001", "WH-CF-002", "WH-CF-003", "WH-JC-001"],
        "YZ-XFJY": ["XF-CF-001", "XF-CF-002", "XF-JC-001"],
    }
    # 七星岗's team holds XF-CF-001 too, but not in 解放碑.
    assert "YZ-QXG-ZF" not in found
