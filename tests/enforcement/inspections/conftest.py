"""Fixtures of the inspection tests: those of the directory (sample, staff, client) and a
joint inspection of the café planned through the API, ready to be answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.businesses.conftest import (  # noqa: F401 (fixtures)
    CAFE,
    agency_id,
    api,
    directory,
    login,
    officer_id,
    staff,
)

from cityops.enforcement.businesses.models import Business

API = "/api/v1/enforcement"
# Thursday 26 November 2026, 10:00 in Chongqing; the clock starts on Tuesday 09:00.
VISIT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@dataclass
class Café:
    """The joint inspection of the café, as planned: ids to act on."""

    plan_id: int
    inspection_id: int
    business_id: int
    ids: dict[str, int]  # agency code → id
    officers: dict[str, int]  # certificate number → officer id


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def cafe(session: Session, request: pytest.FixtureRequest) -> Café:
    """The street team of 解放碑 plans a joint inspection of the café with its two
    officers, inviting fire rescue, market regulation and the culture market team (public
    security, also proposed by the type, is left out)."""
    http: TestClient = request.getfixturevalue("api")
    sign_in: Any = request.getfixturevalue("login")
    business = session.scalar(select(Business).where(Business.name == CAFE))
    assert business is not None
    codes = ("YZ-JFB-ZF", "YZ-XFJY", "YZ-SCJG", "YZ-WHZF", "YZ-GA")
    ids = {code: agency_id(session, code) for code in codes}
    officers = {
        n: officer_id(session, n)
        for n in (
            "500103-JFB-0001",
            "500103-JFB-0002",
            "500103-XF-0001",
            "500103-XF-0002",
            "500103-XF-0003",
            "500103-SJ-0001",
            "500103-SJ-0002",
            "500103-SJ-0003",
            "500103-WH-0001",
            "500103-WH-0002",
            "500103-GA-0001",
        )
    }
    body = {
        "business_id": business.id,
        "scheduled_at": VISIT.isoformat(),
        "officer_ids": [officers["500103-JFB-0001"], officers["500103-JFB-0002"]],
        "agency_ids": [ids["YZ-XFJY"], ids["YZ-SCJG"], ids["YZ-WHZF"]],
    }
    plan = ok(http.post(f"{API}/plans/joint", json=body, headers=sign_in("jfb_officer")), 201)
    return Café(plan["id"], plan["inspections"][0]["id"], business.id, ids, officers)
