"""The catalog through the API: reading it, and an admin editing it with an audit trail."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_reading_the_catalog(client: TestClient, login: Any) -> None:
    h = login("call_taker")
    events = client.get("/api/v1/catalog/classes", params={"family": "event"}, headers=h).json()
    assert [c["code"] for c in events] == ["E0102", "E0502"]
    assert events[0]["name"] == "暴露垃圾" and events[0]["limit_unit"] == "working_hours"
    found = client.get("/api/v1/catalog/classes", params={"text": "井盖"}, headers=h).json()
    assert [c["code"] for c in found] == ["P0101"]
    assert client.get("/api/v1/catalog/classes/e0102", headers=h).json()["code"] == "E0102"
    assert client.get("/api/v1/catalog/classes/E9999", headers=h).status_code == 404
    assert client.get("/api/v1/catalog/classes/garbage", headers=h).status_code == 422
    limits = client.get("/api/v1/catalog/stage-limits", headers=h).json()
    assert {row["stage"] for row in limits} == {"accept", "verify", "file", "dispatch",
                                                "check", "close"}  # fmt: skip
    rules = client.get("/api/v1/catalog/rules", headers=h).json()
    assert {r["name"] for r in rules} == {"camera-street-vending", "inspector-auto-file"}


def test_an_admin_adds_and_edits_a_class(client: TestClient, login: Any, context: Any) -> None:
    admin = login("admin")
    body = {"family": "event", "major_code": "07", "major_name": "城市家具", "sub_code": "01",
            "name": "共享充电柜占道", "limit_value": 1, "limit_unit": "working_days",
            "department_code": "HW"}  # fmt: skip
    assert client.post("/api/v1/catalog/classes", json=body,
                       headers=login("dispatcher")).status_code == 403  # fmt: skip
    r = client.post("/api/v1/catalog/classes", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "E0701"
    assert client.post("/api/v1/catalog/classes", json=body, headers=admin).status_code == 409
    r = client.patch("/api/v1/catalog/classes/E0701", json={"limit_value": 2}, headers=admin)
    assert r.json()["limit_value"] == 2
    r = client.patch("/api/v1/catalog/classes/E0701", json={"department_code": "NOPE"},
                     headers=admin)  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "department_code"
    r = client.patch("/api/v1/catalog/classes/E0701", json={"limit_value": -1}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "limit_value"
    # The new class is usable for intake at once in this process.
    assert "E0701" in context.catalog.get(context.sessions()).classes
    audit = client.get("/api/v1/audit", params={"entity": "case_class"}, headers=admin).json()
    assert [a["action"] for a in audit["items"]] == ["class.update", "class.create"]
    assert audit["items"][0]["before"]["limit_value"] == 1
    assert audit["items"][0]["after"]["limit_value"] == 2


def test_stage_limits_and_rules(client: TestClient, login: Any) -> None:
    admin = login("admin")
    r = client.put("/api/v1/catalog/stage-limits", headers=admin,
                   json={"stage": "dispatch", "class_code": "P0101", "value": 10,
                         "unit": "minutes"})  # fmt: skip
    assert r.status_code == 200 and r.json()["class_code"] == "P0101"
    r = client.put("/api/v1/catalog/stage-limits", headers=admin,
                   json={"stage": "teleport", "value": 10, "unit": "minutes"})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "stage"
    rule = {"name": "sensor-manholes", "class_code": "P0101", "source_kind": "sensor",
            "auto_dispatch": True, "dispatch_to": "department"}  # fmt: skip
    r = client.post("/api/v1/catalog/rules", json=rule, headers=admin)
    assert r.status_code == 201 and r.json()["auto_dispatch"] is True
    assert client.post("/api/v1/catalog/rules", json=rule, headers=admin).status_code == 409
