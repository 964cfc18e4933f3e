"""Readings of many devices judged in one batch: each device against its own state."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import GRID_B, inside
from tests.sensing.conftest import Sensors
from tests.sensing.test_api import alarms, post, t

from cityops.sensing.alarms import open_alarms
from cityops.sensing.models import RuleState, Severity


def reading(device: str, seconds: float, value: float) -> dict[str, Any]:
    return {"device": device, "property": "ch4", "time": t(seconds - 600), "value": value}


def test_one_batch_judges_each_device_on_its_own_state_and_reads_only_its_alarms(
    client: TestClient, login: Any, sensors: Sensors, session: Session, district: Any
) -> None:
    admin, dp = login("admin"), login("dispatcher")
    lon, lat = inside(GRID_B, 0.001, 0.001)
    r = client.post(
        "/api/v1/devices",
        headers=admin,
        json={"code": "GAS-2", "name": "2号化粪池", "device_type": "septic-gas", "lon": lon,
              "lat": lat, "department_id": district.departments["HW"].id},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    second = r.json()["id"]

    post(client, sensors.key, [reading("GAS-1", 0, 62), reading("GAS-2", 0, 5)])
    (first_alarm,) = alarms(client, dp)
    assert (first_alarm["device_id"], first_alarm["severity"]) == (sensors.device_id, "major")
    assert first_alarm["case_id"] is not None
    states = {s.device_id: s.state for s in session.scalars(select(RuleState))}
    assert states[sensors.device_id]["active"] == Severity.MAJOR
    assert states[second]["active"] == 0 and states[second]["v"] == 5

    # GAS-2 rises past the warning level while GAS-1 stays up: one new alarm, no repeat
    post(client, sensors.key, [reading("GAS-1", 60, 63), reading("GAS-2", 60, 30)])
    by_device = {a["device_id"]: a for a in alarms(client, dp)}
    assert set(by_device) == {sensors.device_id, second}
    assert by_device[sensors.device_id]["id"] == first_alarm["id"]
    assert (by_device[second]["severity"], by_device[second]["case_id"]) == ("warning", None)

    session.expire_all()
    assert set(open_alarms(session, {second})) == {(second, f"rule:{sensors.rule_id}")}
    assert set(open_alarms(session)) == {
        (sensors.device_id, f"rule:{sensors.rule_id}"),
        (second, f"rule:{sensors.rule_id}"),
    }
    assert open_alarms(session, set()) == {}
