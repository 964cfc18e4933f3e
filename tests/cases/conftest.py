"""Fixtures of the case tests: reports that open cases through the real ingest API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside

from cityops.auth.service import create_api_key

# Reports of one test stand on a 3 × 3 lattice 0.0006° (about 60 m) apart: further than any
# class's merge radius, so each opens a case of its own.
LATTICE = 0.0006


@pytest.fixture
def report(client: TestClient, session: Session) -> Any:
    """`report(grid, class_code=..., kind=...)` posts a hotline-style report (verified on site
    before filing) and returns the id of the case it opens."""
    _, key = create_api_key(session, name="hotline", sources=["hotline"], now=EPOCH,
                            trusted=False)  # fmt: skip
    session.commit()
    n = 0

    def _report(grid: str = GRID_A, class_code: str | None = "E0102", kind: str = "hotline") -> int:
        nonlocal n
        assert n < 9, "more reports than places on the lattice: they would merge"
        lon, lat = inside(grid, 0.0001 + LATTICE * (n % 3), 0.0001 + LATTICE * (n // 3))
        n += 1
        r = client.post("/api/v1/events", headers={"X-API-Key": key}, json={
            "source": "hotline", "external_id": f"call-{n}", "kind": kind,
            "location": {"lon": lon, "lat": lat}, "occurred_at": "2026-11-24T00:50:00Z",
            "class_code": class_code, "description": "市民来电：路边有垃圾堆放",
        })  # fmt: skip
        assert r.status_code == 201, r.text
        return int(r.json()["case_id"])

    return _report
