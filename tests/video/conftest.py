"""A camera over grid A looking at a viewing platform, with a no-vending zone and a
garbage zone, registered through the API; an API key for the video gateway."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside

from cityops.auth.service import create_api_key


@dataclass
class Video:
    key: str
    camera: str
    headers: dict[str, str]


def jpeg(width: int = 320, height: int = 180) -> bytes:
    """A grey frame with a dark stall in it, as a JPEG."""
    frame = np.full((height, width, 3), 160, np.uint8)
    cv2.rectangle(frame, (100, 90), (160, 150), (40, 40, 40), -1)
    ok, data = cv2.imencode(".jpg", frame)
    assert ok
    return bytes(data)


def at(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def detection(
    seconds: float,
    *,
    track: str = "t1",
    phase: str = "update",
    label: str = "person",
    score: float = 0.9,
    stationary: bool | None = True,
    box: tuple[float, float, float, float] = (0.3, 0.5, 0.5, 0.8),
    snapshot: bool = False,
    camera: str = "CAM-1",
    key: str | None = None,
) -> dict[str, Any]:
    x1, y1, x2, y2 = box
    body: dict[str, Any] = {
        "source": "cam-gw", "detection_id": key or f"{track}:{phase}:{seconds}",
        "camera": camera, "time": at(seconds).isoformat(), "label": label, "score": score,
        "box": {"x1": x1, "y1": y1, "x2": x2, "y2": y2}, "track_id": track, "phase": phase,
        "stationary": stationary,
    }  # fmt: skip
    if snapshot:
        body["snapshot_base64"] = base64.b64encode(jpeg()).decode()
    return body


def post(client: TestClient, video: Video, *items: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/detections", headers=video.headers, json=list(items))
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


@pytest.fixture
def video(client: TestClient, login: Any, session: Session, clock: Any) -> Video:
    # The tests send detections up to 12 h after EPOCH: the server's clock is past them all.
    clock.advance(hours=13)
    _, key = create_api_key(session, name="video", sources=["cam-gw"], trusted=True, now=EPOCH)
    session.commit()
    admin = login("admin")
    lon, lat = inside(GRID_A, 0.002, 0.001)
    r = client.post(
        "/api/v1/cameras",
        headers=admin,
        json={"code": "CAM-1", "name": "李子坝观景平台", "lon": lon, "lat": lat,
              "direction_deg": 90, "stream_url": "rtsp://nvr:secret@10.0.0.5/cam1",
              "image_width": 1280, "image_height": 720},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    zones = [
        # the platform: the lower middle of the picture
        {"code": "platform", "name": "观景平台", "purpose": "禁止占道经营",
         "polygon": [[0.2, 0.4], [0.8, 0.4], [0.8, 1.0], [0.2, 1.0]],
         "labels": ["person", "table", "umbrella"], "min_score": 0.7, "min_dwell_s": 60,
         "class_code": "E0502", "cooldown_s": 600},
        # the kerb on the left, watched for garbage in the daytime
        {"code": "kerb", "name": "路沿", "purpose": "暴露垃圾",
         "polygon": [[0.0, 0.5], [0.15, 0.5], [0.15, 1.0], [0.0, 1.0]],
         "labels": ["garbage"], "min_score": 0.5, "min_dwell_s": 0,
         "active_hours": [{"from": "07:00", "to": "19:00"}],
         "class_code": "E0102", "cooldown_s": 600},
    ]  # fmt: skip
    for zone in zones:
        r = client.put(f"/api/v1/cameras/CAM-1/zones/{zone['code']}", headers=admin, json=zone)
        assert r.status_code == 201, r.text
    return Video(key, "CAM-1", {"X-API-Key": key})
