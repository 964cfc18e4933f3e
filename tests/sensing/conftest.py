"""A septic-tank gas sensor in grid A, owned by the sanitation department, with a rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.factories import GRID_A, inside

from cityops.catalog.models import AutomationRule


@dataclass
class Sensors:
    device_id: int
    key: str
    rule_id: int


@pytest.fixture
def sensors(client: Any, login: Any, session: Session, district: Any) -> Sensors:
    """Via the API, as an administrator sets them up; an API key for the sensor platform."""
    from tests.factories import EPOCH

    from cityops.auth.service import create_api_key

    session.add(
        AutomationRule(
            name="sensor-parts",
            class_code="P0101",
            source_kind="sensor",
            min_confidence=0.0,
            auto_accept=True,
            auto_file=True,
            auto_dispatch=True,
            dispatch_to="department",
            active=True,
        )
    )
    _, key = create_api_key(session, name="iot", sources=["iot"], trusted=True, now=EPOCH)
    session.commit()
    admin = login("admin")
    ok = [
        client.post(
            "/api/v1/observed-properties",
            headers=admin,
            json={"code": "ch4", "name": "可燃气体浓度"},
        ),
        client.post(
            "/api/v1/device-types",
            headers=admin,
            json={
                "code": "septic-gas",
                "name": "化粪池可燃气体监测仪",
                "report_interval_s": 60,
                "properties": [
                    {"property": "ch4", "unit_symbol": "%LEL", "min_value": 0, "max_value": 100}
                ],
            },
        ),
    ]
    assert all(r.status_code == 201 for r in ok), [r.text for r in ok]
    lon, lat = inside(GRID_A, 0.001, 0.001)
    r = client.post(
        "/api/v1/devices",
        headers=admin,
        json={
            "code": "GAS-1",
            "name": "1号化粪池",
            "device_type": "septic-gas",
            "lon": lon,
            "lat": lat,
            "department_id": district.departments["HW"].id,
            "facility_code": "500103-0101-0001",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"] == GRID_A
    device_id = r.json()["id"]
    r = client.post(
        "/api/v1/alarm-rules",
        headers=admin,
        json={
            "name": "化粪池可燃气体超限",
            "kind": "threshold",
            "device_type": "septic-gas",
            "property": "ch4",
            "direction": "above",
            "clear_at": 20,
            "levels": [{"severity": "warning", "raise": 25}, {"severity": "major", "raise": 50}],
            "case_class_code": "P0101",
            "case_severity": "major",
        },
    )
    assert r.status_code == 201, r.text
    return Sensors(device_id, key, r.json()["id"])
