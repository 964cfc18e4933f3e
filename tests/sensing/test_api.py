"""Readings in over HTTP, alarms raised and cleared, the case an alarm opens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import EPOCH, GRID_A
from tests.sensing.conftest import Sensors

from cityops.sensing.judging import sweep_silence


def t(seconds: float) -> str:
    return (EPOCH + timedelta(seconds=seconds)).isoformat()


def post(client: TestClient, key: str, readings: list[Any]) -> dict[str, Any]:
    r = client.post("/api/v1/readings", headers={"X-API-Key": key}, json=readings)
    assert r.status_code == 200, r.text
    return dict(r.json())


def gas(seconds: float, value: float) -> dict[str, Any]:
    return {"device": "GAS-1", "property": "ch4", "time": t(seconds - 600), "value": value}


def alarms(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/alarms", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_a_batch_gets_a_result_per_reading_and_a_repeat_is_a_duplicate(
    client: TestClient, sensors: Sensors
) -> None:
    batch = [
        gas(0, 5),
        gas(10, 6),
        {"device": "NOPE", "property": "ch4", "time": t(0), "value": 1},
        {"device": "GAS-1", "property": "ch4", "time": t(0), "value": 1, "unit": "ppm"},
        {"device": "GAS-1", "property": "ch4", "time": t(0), "value": "high"},
        {"device": "GAS-1", "property": "ch4", "time": t(3600), "value": 1},
        {"device": "GAS-1", "property": "ch4", "time": "2026-11-24T09:00:00", "value": 1},
    ]
    got = post(client, sensors.key, batch)
    assert (got["accepted"], got["duplicates"], got["rejected"]) == (2, 0, 5)
    assert [(r["status"], [e["path"] for e in r["errors"]]) for r in got["results"]] == [
        ("created", []),
        ("created", []),
        ("rejected", ["device"]),
        ("rejected", ["unit"]),
        ("rejected", ["value"]),
        ("rejected", ["time"]),
        ("rejected", ["time"]),
    ]
    again = post(client, sensors.key, [gas(10, 6), gas(20, 7)])
    assert [r["status"] for r in again["results"]] == ["duplicate", "created"]
    # NDJSON: a line that is not JSON is refused alone
    body = b'{"device":"GAS-1","property":"ch4","time":"%s","value":8}\n{oops\n' % t(-570).encode()
    r = client.post(
        "/api/v1/readings",
        content=body,
        headers={"X-API-Key": sensors.key, "Content-Type": "application/x-ndjson"},
    )
    assert [x["status"] for x in r.json()["results"]] == ["created", "rejected"]


def test_an_alarm_opens_a_case_for_the_owner_and_its_clearing_is_noted_on_it(
    client: TestClient, login: Any, sensors: Sensors, district: Any
) -> None:
    dp = login("dispatcher")
    post(client, sensors.key, [gas(0, 5), gas(60, 30), gas(120, 28)])
    (warning,) = alarms(client, dp)
    assert (warning["severity"], warning["state"], warning["case_id"]) == (
        "warning",
        "active",
        None,
    )
    post(client, sensors.key, [gas(180, 62)])
    (major,) = alarms(client, dp)
    assert major["id"] == warning["id"]  # escalated, not a second alarm
    assert major["severity"] == "major"
    case_id = major["case_id"]
    case = client.get(f"/api/v1/cases/{case_id}", headers=dp).json()
    assert case["source_kind"] == "sensor"
    assert case["class_code"] == "P0101"
    assert case["state"] == "handling"
    assert case["department_id"] == district.departments["HW"].id  # the owner, not the class's
    assert "1号化粪池" in case["description"] and "62 %LEL" in case["description"]
    assert "30，" in case["description"] and " 28，" in case["description"]  # readings before
    post(client, sensors.key, [gas(240, 22), gas(300, 12)])
    assert alarms(client, dp) == []
    (cleared,) = alarms(client, dp, state="cleared")
    assert cleared["clear_reason"] == "normal"
    case = client.get(f"/api/v1/cases/{case_id}", headers=dp).json()
    assert case["steps"][-1]["action"] == "note"
    assert "告警已恢复" in case["steps"][-1]["note"]


def test_an_impossible_value_is_a_faulty_sensor_not_an_alarm(
    client: TestClient, login: Any, sensors: Sensors
) -> None:
    dp = login("dispatcher")
    got = post(client, sensors.key, [gas(0, 5), gas(60, 140)])
    assert got["results"][1]["faulty"] is True
    (fault,) = alarms(client, dp)
    assert (fault["kind"], fault["case_id"]) == ("fault", None)
    assert "疑似传感器故障" in fault["message"]
    post(client, sensors.key, [gas(120, 6)])  # one good reading is not enough
    assert len(alarms(client, dp)) == 1
    post(client, sensors.key, [gas(60 + 181, 6)])  # three intervals of good readings
    assert alarms(client, dp) == []


def test_a_late_reading_is_stored_but_does_not_raise(
    client: TestClient, login: Any, sensors: Sensors
) -> None:
    post(client, sensors.key, [gas(0, 5), gas(60, 6)])
    got = post(client, sensors.key, [gas(30, 40)])
    assert got["results"][0]["status"] == "created"
    assert alarms(client, login("dispatcher")) == []
    r = client.get(
        f"/api/v1/devices/{sensors.device_id}/series",
        headers=login("dispatcher"),
        params={"property": "ch4", "start": t(-700), "end": t(0)},
    )
    series = r.json()
    assert [p[1] for p in series["points"]] == [5, 40, 6]
    assert {(x["severity"], x["value"]) for x in series["thresholds"]} == {
        ("warning", 25),
        ("major", 50),
        ("clear", 20),
    }
    r = client.get(
        f"/api/v1/devices/{sensors.device_id}/series",
        headers=login("dispatcher"),
        params={"property": "ch4", "start": t(-700), "end": t(0), "resolution": "1m"},
    )
    (minute_1, minute_2) = r.json()["points"]  # 00:50 (5, 40) and 00:51 (6)
    assert minute_1[1:] == [5, 22.5, 40, 2]
    assert minute_2[1:] == [6, 6, 6, 1]


def test_a_silent_device_raises_an_alarm_and_clears_it_when_it_speaks(
    client: TestClient, login: Any, sensors: Sensors, context: Any, clock: Any
) -> None:
    admin, dp = login("admin"), login("dispatcher")
    r = client.post(
        "/api/v1/alarm-rules",
        headers=admin,
        json={
            "name": "监测仪离线",
            "kind": "silence",
            "device_type": "septic-gas",
            "silence_seconds": 300,
            "silence_severity": "minor",
        },
    )
    assert r.status_code == 201, r.text
    post(client, sensors.key, [gas(600, 5)])
    clock.advance(seconds=301)
    uow = context.unit_of_work()
    assert sweep_silence(uow.session, context.sensing_env(uow.session, clock.now())) == 1
    uow.commit()
    uow.close()
    (silent,) = alarms(client, dp)
    assert "未上报" in silent["message"]
    device = client.get(f"/api/v1/devices/{sensors.device_id}", headers=dp).json()
    assert device["status"] == "offline"  # silent for over three intervals of 60 s
    assert (device["open_alarms"], device["worst_severity"]) == (1, "minor")
    post(client, sensors.key, [gas(900, 5)])
    assert alarms(client, dp) == []


def test_people_acknowledge_and_clear_alarms_within_their_remit(
    client: TestClient, login: Any, sensors: Sensors
) -> None:
    post(client, sensors.key, [gas(0, 30)])
    (alarm,) = alarms(client, login("dispatcher"))
    url = f"/api/v1/alarms/{alarm['id']}"
    assert client.post(f"{url}/acknowledge", json={}, headers=login("inspector")).status_code == 403
    assert client.get(url, headers=login("handler_sz")).status_code == 404  # not SZ's device
    r = client.post(f"{url}/acknowledge", json={"note": "已电话通知"}, headers=login("handler"))
    assert r.json()["state"] == "acknowledged", r.text
    r = client.post(f"{url}/clear", json={"note": "现场检测正常"}, headers=login("shift_leader"))
    assert (r.json()["state"], r.json()["clear_reason"]) == ("cleared", "manual")
    assert [e["kind"] for e in r.json()["events"]] == ["raised", "acknowledged", "cleared"]
    # The rule judges afresh: the value still high raises a new alarm.
    post(client, sensors.key, [gas(60, 31)])
    (again,) = alarms(client, login("dispatcher"))
    assert again["id"] != alarm["id"]


@pytest.mark.usefixtures("sensors")
def test_a_rule_is_checked_on_save_and_names_the_field(client: TestClient, login: Any) -> None:
    admin = login("admin")
    rule = {
        "name": "x",
        "kind": "threshold",
        "device_type": "septic-gas",
        "property": "ch4",
        "levels": [{"severity": "warning", "raise": 25}],
        "clear_at": 30,
    }
    r = client.post("/api/v1/alarm-rules", headers=admin, json=rule)
    assert r.status_code == 422
    assert "clear_at must be below the lowest raise threshold" in r.text
    r = client.post(
        "/api/v1/alarm-rules", headers=admin, json={**rule, "clear_at": 20, "property": "temp"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "property"
    r = client.post("/api/v1/alarm-rules", headers=login("dispatcher"), json=rule)
    assert r.status_code == 403


def test_the_map_shows_each_device_with_what_colours_it(
    client: TestClient, login: Any, sensors: Sensors
) -> None:
    dp = login("dispatcher")

    def marker() -> dict[str, Any]:
        r = client.get("/api/v1/devices/map", headers=dp)
        assert r.status_code == 200, r.text
        (found,) = r.json()
        return dict(found)

    first = marker()
    assert (first["id"], first["code"], first["grid_code"]) == (sensors.device_id, "GAS-1", GRID_A)
    assert (first["status"], first["open_alarms"], first["alarm_severity"], first["fault"]) == (
        "never",
        0,
        None,
        False,
    )
    post(client, sensors.key, [gas(0, 5), gas(60, 30)])
    now = marker()
    assert (now["status"], now["open_alarms"], now["alarm_severity"], now["fault"]) == (
        "online",
        1,
        "warning",
        False,
    )
    post(client, sensors.key, [gas(120, 140)])  # impossible: the sensor, not the place
    now = marker()
    assert (now["open_alarms"], now["alarm_severity"], now["fault"]) == (2, "warning", True)
    # Who may not see the device does not see it on the map either.
    assert client.get("/api/v1/devices/map", headers=login("handler_sz")).json() == []
