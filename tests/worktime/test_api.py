"""The calendar through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_a_year_and_its_overrides(client: TestClient, login: Any) -> None:
    h = login("dispatcher")
    year = client.get("/api/v1/calendar/2026", headers=h).json()
    assert year["officially_covered"] is True
    assert "2026-10-01" in year["holidays"]
    assert year["windows"] == ["09:00-12:00", "13:30-17:30"]
    # 2026's official make-up working days (调休), Saturdays and Sundays that are worked.
    assert year["makeup_workdays"] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]  # fmt: skip
    assert client.get("/api/v1/calendar/2027", headers=h).json()["officially_covered"] is False
    admin = login("admin")
    r = client.put("/api/v1/calendar/overrides/2026-12-01",
                   json={"is_workday": False, "name": "区庆"}, headers=admin)  # fmt: skip
    assert r.status_code == 200
    year = client.get("/api/v1/calendar/2026", headers=h).json()
    assert "2026-12-01" in year["holidays"]
    assert year["overrides"] == [{"day": "2026-12-01", "is_workday": False, "name": "区庆"}]
    assert client.delete("/api/v1/calendar/overrides/2026-12-01", headers=admin).status_code == 204
    assert client.delete("/api/v1/calendar/overrides/2026-12-01", headers=admin).status_code == 404
    assert client.put("/api/v1/calendar/overrides/2026-12-01", json={"is_workday": True},
                      headers=h).status_code == 403  # fmt: skip
