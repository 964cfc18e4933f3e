"""Reference data through the API: regions with GeoJSON, departments, people, duty."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import COMMUNITY_A1, DISTRICT, GRID_A, STREET_A


def test_regions_by_level_and_parent(client: TestClient, login: Any) -> None:
    h = login("dispatcher")
    grids = client.get("/api/v1/regions", params={"level": "grid"}, headers=h).json()
    assert grids["total"] == 4
    first = grids["items"][0]
    assert first["code"] == GRID_A and first["parent_code"] == COMMUNITY_A1
    assert first["geometry"]["type"] == "Polygon"
    assert len(first["geometry"]["coordinates"][0]) == 5
    assert first["bbox"] == pytest.approx([106.57, 29.56, 106.572, 29.562])
    streets = client.get("/api/v1/regions", params={"parent": DISTRICT, "geometry": "false"},
                         headers=h).json()  # fmt: skip
    assert [s["code"] for s in streets["items"]] == [STREET_A, "500103002"]
    assert streets["items"][0]["geometry"] is None
    one = client.get(f"/api/v1/regions/{STREET_A}", headers=h).json()
    assert one["name"] == "解放碑街道"
    assert client.get("/api/v1/regions/999999", headers=h).status_code == 404
    bad = client.get("/api/v1/regions", params={"level": "planet"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "query.level"
    assert client.get("/api/v1/regions").status_code == 401


def test_departments_and_people(client: TestClient, login: Any, district: Any) -> None:
    h = login("dispatcher")
    offices = client.get("/api/v1/departments", params={"kind": "street_office"},
                         headers=h).json()  # fmt: skip
    assert {d["code"] for d in offices["items"]} == {"JFB", "QXG"}
    inspectors = client.get("/api/v1/people", params={"role": "inspector"}, headers=h).json()
    assert {p["code"] for p in inspectors["items"]} == {"inspector", "inspector_b"}
    in_street = client.get("/api/v1/people", params={"scope": STREET_A, "role": "grid_worker"},
                           headers=h).json()  # fmt: skip
    assert [p["code"] for p in in_street["items"]] == ["worker"]
    hw = district.departments["HW"].id
    handlers = client.get("/api/v1/people", params={"department_id": hw}, headers=h).json()
    assert [p["code"] for p in handlers["items"]] == ["handler"]


def test_only_admins_add_people_and_bad_fields_are_named(client: TestClient, login: Any) -> None:
    body = {"code": "new1", "name": "张三", "roles": ["inspector"], "scope_code": GRID_A}
    assert client.post("/api/v1/people", json=body, headers=login("dispatcher")).status_code == 403
    admin = login("admin")
    r = client.post("/api/v1/people", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["roles"] == ["inspector"]
    assert client.post("/api/v1/people", json=body, headers=admin).status_code == 409
    bad = dict(body, code="new2", roles=["wizard"], scope_code="500103999999999")
    r = client.post("/api/v1/people", json=bad, headers=admin)
    assert r.status_code == 422
    assert {e["path"] for e in r.json()["errors"]} == {"roles.0", "scope_code"}
    audit = client.get("/api/v1/audit", params={"entity": "person"}, headers=admin).json()
    assert audit["total"] == 1 and audit["items"][0]["action"] == "person.create"


def test_duty_roster(client: TestClient, login: Any, district: Any) -> None:
    h = login("dispatcher")
    params = {"grid_code": GRID_A, "at": "2026-11-24T02:00:00Z"}
    now = client.get("/api/v1/duty", params=params, headers=h).json()
    assert [d["person_id"] for d in now["items"]] == [district.people["worker"].id]
    admin = login("admin")
    body = {"person_id": district.people["inspector"].id, "grid_code": GRID_A,
            "role": "grid_worker", "starts_at": "2026-11-25T00:00:00Z"}  # fmt: skip
    r = client.post("/api/v1/duty", json=body, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "role"
    body["person_id"] = district.people["worker_b"].id
    body["ends_at"] = "2026-11-24T00:00:00Z"
    r = client.post("/api/v1/duty", json=body, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "ends_at"
    del body["ends_at"]
    assert client.post("/api/v1/duty", json=body, headers=admin).status_code == 201
