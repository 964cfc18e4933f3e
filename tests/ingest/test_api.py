"""`POST /api/v1/events`: what sources may send, what they get back, and what is stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, GRID_B, inside

from cityops.auth.service import create_api_key
from cityops.cases.models import Case, CaseStep
from cityops.ingest.models import SourceEvent


@pytest.fixture
def camera_key(session: Session) -> str:
    _, key = create_api_key(session, name="cams", sources=["cam-gw"], trusted=True, now=EPOCH)
    session.commit()
    return key


def event(external_id: str = "e1", **overrides: Any) -> dict[str, Any]:
    lon, lat = inside(GRID_A)
    body: dict[str, Any] = {
        "source": "cam-gw",
        "external_id": external_id,
        "kind": "camera",
        "location": {"lon": lon, "lat": lat},
        "occurred_at": "2026-11-24T00:59:00Z",
        "class_code": "E0102",
        "description": "路边暴露垃圾",
        "confidence": 0.93,
        "evidence": [{"url": "https://cams.example/snap/1.jpg", "kind": "snapshot"}],
    }
    body.update(overrides)
    return body


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_event_opens_a_case_in_its_grid(
    client: TestClient, camera_key: str, session: Session
) -> None:
    r = client.post("/api/v1/events", json=event(), headers={"X-API-Key": camera_key})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "created"
    assert body["duplicate"] is False
    assert body["grid_code"] == GRID_A
    case = session.get(Case, body["case_id"])
    assert case is not None
    assert (case.state, case.class_code, case.region_code) == ("reported", "E0102", GRID_A)
    assert case.needs_verification is True
    steps = session.scalars(select(CaseStep).where(CaseStep.case_id == case.id)).all()
    assert [s.action for s in steps] == ["report"]


def test_a_repeat_returns_the_first_result_and_creates_nothing(
    client: TestClient, camera_key: str, session: Session
) -> None:
    first = client.post("/api/v1/events", json=event(), headers={"X-API-Key": camera_key}).json()
    again = client.post("/api/v1/events", json=event(description="changed"),
                        headers={"X-API-Key": camera_key})  # fmt: skip
    assert again.status_code == 200
    assert again.json()["case_id"] == first["case_id"]
    assert again.json()["event_id"] == first["event_id"]
    assert again.json()["duplicate"] is True
    assert count(session, SourceEvent) == 1
    assert count(session, Case) == 1


def test_a_nearby_report_of_the_same_problem_merges(
    client: TestClient, camera_key: str, session: Session
) -> None:
    lon, lat = inside(GRID_A)
    h = {"X-API-Key": camera_key}
    a = client.post("/api/v1/events", json=event("a"), headers=h).json()
    near = event("b", location={"lon": lon + 0.0002, "lat": lat})  # about 20 m east
    far = event("c", location={"lon": lon + 0.0009, "lat": lat})  # about 90 m east
    b = client.post("/api/v1/events", json=near, headers=h).json()
    c = client.post("/api/v1/events", json=far, headers=h).json()
    assert b["status"] == "merged"
    assert b["case_id"] == a["case_id"]
    assert c["status"] == "created"
    assert c["case_id"] != a["case_id"]
    case = session.get(Case, a["case_id"])
    assert case is not None
    assert case.signal_count == 2


def test_merging_keeps_to_the_class_and_to_its_merge_window(
    client: TestClient, camera_key: str, clock: Any
) -> None:
    def post(external_id: str, class_code: str = "E0502") -> dict[str, Any]:
        body = event(external_id, class_code=class_code, confidence=0.5)
        return client.post("/api/v1/events", json=body, headers={"X-API-Key": camera_key}).json()  # type: ignore[no-any-return]

    # E0502 (street vending) merges within 30 m and 120 minutes; E0102 (exposed garbage) at
    # the same spot is another problem.
    vending = post("v1")
    garbage = post("g1", class_code="E0102")
    assert garbage["status"] == "created"
    assert garbage["case_id"] != vending["case_id"]
    clock.advance(minutes=119)
    assert post("v2")["case_id"] == vending["case_id"]
    clock.advance(minutes=2)
    after = post("v3")
    assert after["status"] == "created"
    assert after["case_id"] != vending["case_id"]


def test_nearby_events_of_one_batch_merge_with_each_other(
    client: TestClient, camera_key: str, session: Session
) -> None:
    lon, lat = inside(GRID_B)
    batch = [event(f"b{i}", location={"lon": lon + i * 0.00005, "lat": lat}) for i in range(3)]
    batch.append(event("far", location={"lon": lon + 0.0008, "lat": lat}))
    r = client.post("/api/v1/events", json=batch, headers={"X-API-Key": camera_key})
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "merged", "merged", "created"]
    assert results[1]["case_id"] == results[2]["case_id"] == results[0]["case_id"]
    case = session.get(Case, results[0]["case_id"])
    assert case is not None
    assert case.signal_count == 3
    assert count(session, Case) == 2


def test_a_batch_joins_open_cases_first_then_the_nearest_case_it_opens_itself(
    client: TestClient, camera_key: str, session: Session
) -> None:
    # Exposed garbage merges within 50 m; a metre is about 0.0000103° of longitude here.
    lon, lat = inside(GRID_A)
    west = lon - 0.0008
    h = {"X-API-Key": camera_key}
    open_case = client.post("/api/v1/events", json=event("o", location={"lon": west, "lat": lat}),
                            headers=h).json()  # fmt: skip
    batch = [
        event("e1", location={"lon": west + 25 * 0.0000103, "lat": lat}),  # 25 m: joins it
        event("e2", location={"lon": west + 60 * 0.0000103, "lat": lat}),  # 60 m: a new case
        event("e3", location={"lon": west + 100 * 0.0000103, "lat": lat}),  # 40 m from e2
    ]
    results = client.post("/api/v1/events", json=batch, headers=h).json()["results"]
    assert [x["status"] for x in results] == ["merged", "created", "merged"]
    assert results[0]["case_id"] == open_case["case_id"]
    assert results[2]["case_id"] == results[1]["case_id"] != open_case["case_id"]
    assert results[0]["case_state"] == "reported"
    counts = {c.id: c.signal_count for c in session.scalars(select(Case))}
    assert counts == {open_case["case_id"]: 2, results[1]["case_id"]: 2}


def test_class_codes_are_read_as_the_catalog_writes_them(
    client: TestClient, camera_key: str, session: Session
) -> None:
    r = client.post("/api/v1/events", json=event(class_code=" e0102 "),
                    headers={"X-API-Key": camera_key})  # fmt: skip
    assert r.status_code == 201, r.text
    case = session.get(Case, r.json()["case_id"])
    assert case is not None
    assert case.class_code == "E0102"


def test_a_point_outside_every_grid_is_kept_for_placement(
    client: TestClient, camera_key: str, session: Session
) -> None:
    r = client.post("/api/v1/events", json=event(location={"lon": 106.9, "lat": 29.9}),
                    headers={"X-API-Key": camera_key})  # fmt: skip
    assert r.status_code == 201
    assert r.json()["needs_placement"] is True
    case = session.get(Case, r.json()["case_id"])
    assert case is not None
    assert case.grid_code is None
    assert case.region_code == "500103"
    assert case.needs_placement


def test_a_trusted_camera_detection_is_dispatched_to_the_worker_on_duty(
    client: TestClient, camera_key: str, session: Session, district: Any
) -> None:
    r = client.post("/api/v1/events", json=event(class_code="E0502", confidence=0.9),
                    headers={"X-API-Key": camera_key})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["case_state"] == "handling"
    case = session.get(Case, r.json()["case_id"])
    assert case is not None
    assert case.assignee_id == district.people["worker"].id
    assert case.department_id == district.departments["JFB"].id
    assert case.handle_due_at is not None
    assert case.dispatched_at == EPOCH
    steps = session.scalars(
        select(CaseStep).where(CaseStep.case_id == case.id).order_by(CaseStep.seq)
    ).all()
    assert [s.action for s in steps] == ["report", "accept", "file", "dispatch"]
    assert {s.rule for s in steps[1:]} == {"camera-street-vending"}
    assert {s.actor_role for s in steps[1:]} == {"system"}


def test_a_low_confidence_detection_waits_for_people(client: TestClient, camera_key: str) -> None:
    r = client.post("/api/v1/events", json=event(class_code="E0502", confidence=0.5),
                    headers={"X-API-Key": camera_key})  # fmt: skip
    assert r.json()["case_state"] == "reported"


def test_a_batch_reports_each_item(client: TestClient, camera_key: str, session: Session) -> None:
    lon, lat = inside(GRID_B)
    batch = [
        event("x1"),
        event("x2", location={"lon": 200, "lat": lat}),
        event("x3", class_code="E9999"),
        event("x4", location={"lon": lon, "lat": lat}),
        event("x1"),
        {"external_id": "x6"},
    ]
    r = client.post("/api/v1/events", json=batch, headers={"X-API-Key": camera_key})
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = [(i["status"], i["duplicate"]) for i in body["results"]]
    assert statuses == [
        ("created", False), ("rejected", False), ("rejected", False), ("created", False),
        ("created", True), ("rejected", False),
    ]  # fmt: skip
    assert body["results"][1]["errors"][0]["path"] == "location.lon"
    assert body["results"][2]["errors"][0]["path"] == "class_code"
    assert {e["path"] for e in body["results"][5]["errors"]} >= {"kind", "location"}
    assert body["results"][4]["case_id"] == body["results"][0]["case_id"]
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (2, 3, 1)
    assert count(session, SourceEvent) == 2


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"location": {"lon": 106.57, "lat": 95}}, "location.lat"),
        ({"location": {"lon": "east", "lat": 29.5}}, "location.lon"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2027-01-01T00:00:00Z"}, "occurred_at"),
        ({"kind": "ufo"}, "kind"),
        ({"external_id": ""}, "external_id"),
        ({"class_code": "E9999"}, "class_code"),
        ({"confidence": 1.5}, "confidence"),
        ({"source": "someone-else"}, "source"),
        ({"kind": "inspector"}, "kind"),
        ({"evidence": [{"url": "not a url"}]}, "evidence.0.url"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, camera_key: str, session: Session, change: dict[str, Any], path: str
) -> None:
    r = client.post("/api/v1/events", json=event(**change), headers={"X-API-Key": camera_key})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422
    assert problem["title"]
    assert path in [e["path"] for e in problem["errors"]]
    assert count(session, SourceEvent) == 0
    assert count(session, Case) == 0


def test_missing_fields_are_each_named(client: TestClient, camera_key: str) -> None:
    r = client.post("/api/v1/events", json={"source": "cam-gw"},
                    headers={"X-API-Key": camera_key})  # fmt: skip
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"external_id", "kind", "location", "occurred_at"} <= paths


def test_not_json_and_oversize_batches_are_refused(
    client: TestClient, camera_key: str, context: Any, session: Session
) -> None:
    h = {"X-API-Key": camera_key}
    r = client.post("/api/v1/events", content=b"{not json", headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body"
    context.settings.max_batch_size = 3
    r = client.post("/api/v1/events", json=[event(f"o{i}") for i in range(4)], headers=h)
    assert r.status_code == 413
    assert r.json()["errors"][0]["path"] == "events"
    r = client.post("/api/v1/events", json=[], headers=h)
    assert r.status_code == 422
    assert count(session, SourceEvent) == 0


def test_who_may_send_events(client: TestClient, login: Any) -> None:
    assert client.post("/api/v1/events", json=event()).status_code == 401
    assert client.post("/api/v1/events", json=event(),
                       headers={"X-API-Key": "cok_nope_nope"}).status_code == 401  # fmt: skip
    _lon, _lat = inside(GRID_A)
    mine = event("insp-1", kind="inspector", source=None, confidence=None)
    r = client.post("/api/v1/events", json=mine, headers=login("inspector"))
    assert r.status_code == 201, r.text
    # An inspector's report is trusted: the automation rule accepts and files it.
    assert r.json()["case_state"] == "filed"
    as_camera = client.post("/api/v1/events", json=event("insp-2", source=None),
                            headers=login("inspector"))  # fmt: skip
    assert as_camera.status_code == 422
    assert as_camera.json()["errors"][0]["path"] == "kind"
    handler = client.post("/api/v1/events", json=event("h-1", kind="inspector", source=None),
                          headers=login("handler"))  # fmt: skip
    assert handler.status_code == 403


def test_an_inspector_fixes_on_the_spot(client: TestClient, login: Any, session: Session) -> None:
    r = client.post(
        "/api/v1/events",
        json=event("fix-1", kind="inspector", source=None, confidence=None, self_handled=True),
        headers=login("inspector"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["case_state"] == "checked"
    case = session.get(Case, r.json()["case_id"])
    assert case is not None
    assert case.self_handled
