"""Frames built from committed cases: what a client is told, and what it is not."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, GRID_B, inside

from cityops.auth.service import actor_of, create_api_key
from cityops.cases.models import CaseStep
from cityops.notify.service import Change, frames_for, frames_since


def _post(
    client: TestClient, key: str, ext: str, grid: str, code: str, confidence: float,
    dx: float = 0.001,
) -> int:  # fmt: skip
    lon, lat = inside(grid, dx)
    r = client.post("/api/v1/events", headers={"X-API-Key": key}, json={
        "source": "cam-gw", "external_id": ext, "kind": "camera",
        "location": {"lon": lon, "lat": lat}, "occurred_at": "2026-11-24T00:59:00Z",
        "class_code": code, "confidence": confidence, "description": "x" * 1000,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["case_id"])


def _changes(session: Session) -> list[Change]:
    rows = session.execute(select(CaseStep.case_id, CaseStep.id, CaseStep.action))
    return [Change(*row) for row in rows]


def _key(session: Session) -> str:
    _, key = create_api_key(session, name="cams", sources=["cam-gw"], trusted=True, now=EPOCH)
    session.commit()
    return key


def test_a_frame_shows_the_case_as_the_api_does(
    client: TestClient, session: Session, context: Any, login: Any
) -> None:
    case_id = _post(client, _key(session), "a", GRID_A, "E0502", 0.93)
    (frame,) = frames_for(session, context.case_env(session, EPOCH), _changes(session))
    body = orjson.loads(frame.data)
    assert body["type"] == "case"
    assert body["actions"] == ["report", "accept", "file", "dispatch"]
    assert frame.id == body["id"] == max(c.step_id for c in _changes(session))
    api = client.get(f"/api/v1/cases/{case_id}", headers=login("dispatcher")).json()
    for field in ("id", "state", "class_name", "assignee_id", "stage_due_at", "light"):
        assert body["case"][field] == api[field], field
    assert len(body["case"]["description"]) == 300  # frames stay small; detail has it all
    assert len(frame.data) < 7_600


def test_past_the_detail_limit_only_cases_sent_to_someone_come_one_by_one(
    client: TestClient, session: Session, context: Any
) -> None:
    key = _key(session)
    dispatched = _post(client, key, "a", GRID_A, "E0502", 0.93)
    _post(client, key, "b", GRID_A, "E0102", 0.5)  # waits for the call-taker, street A
    _post(client, key, "c", GRID_B, "E0102", 0.5)  # street B
    env = context.case_env(session, EPOCH)
    frames = frames_for(session, env, _changes(session), detail_limit=2)
    bodies = [orjson.loads(f.data) for f in frames]
    assert [(b["type"], b.get("case", {}).get("id")) for b in bodies] == [
        ("case", dispatched),
        ("reload", None),
        ("reload", None),
    ]
    assert [(b["region_code"], b["count"]) for b in bodies[1:]] == [
        (GRID_A[:9], 1),
        (GRID_B[:9], 1),
    ]
    assert len(frames_for(session, env, _changes(session), detail_limit=3)) == 3


def test_a_client_resumes_after_the_last_frame_it_saw_and_is_told_only_its_own(
    client: TestClient, session: Session, context: Any, district: Any
) -> None:
    key = _key(session)
    _post(client, key, "a", GRID_A, "E0502", 0.93)
    seen = max(c.step_id for c in _changes(session))
    task = _post(client, key, "b", GRID_A, "E0502", 0.93, dx=0.0015)  # 48 m on: a new case
    waiting = _post(client, key, "c", GRID_A, "E0102", 0.5)  # not sent to anyone yet
    elsewhere = _post(client, key, "d", GRID_B, "E0102", 0.5)
    env = context.case_env(session, EPOCH)

    def missed(username: str) -> list[int]:
        frames, too_many = frames_since(session, env, actor_of(district.people[username]), seen)
        assert not too_many
        return [f.case_id for f in frames if f.id > seen]

    assert missed("worker") == [task]  # a worker's phone: their own tasks only
    assert missed("inspector") == [task, waiting]  # grid A's inspector: grid A
    assert missed("dispatcher") == [task, waiting, elsewhere]  # the district
