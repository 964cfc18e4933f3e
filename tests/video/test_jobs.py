"""The built-in detector at work: a camera's video through the detector into cases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside
from tests.video.test_detector import STALL_BOX, _config, _scene, _write_video

from cityops.cases.models import Case, CaseAttachment
from cityops.video.jobs import DetectorRunner, cameras_to_watch
from cityops.video.models import Detection


@pytest.fixture
def camera(client: TestClient, login: Any) -> str:
    admin = login("admin")
    lon, lat = inside(GRID_A, 0.001, 0.002)
    r = client.post("/api/v1/cameras", headers=admin, json={
        "code": "CAM-STALL", "name": "菜市场门口", "lon": lon, "lat": lat,
        "stream_url": "rtsp://nvr/stall"})  # fmt: skip
    assert r.status_code == 201, r.text
    left, top, right, _ = STALL_BOX
    # the pavement where the stall stands, a margin around it; anything still there counts
    zone = {"code": "pavement", "name": "人行道", "purpose": "禁止占道经营",
            "polygon": [[left - 0.1, top - 0.1], [right + 0.1, top - 0.1], [right + 0.1, 1.0],
                        [left - 0.1, 1.0]],
            "labels": ["object"], "min_score": 0.5, "min_dwell_s": 2,
            "class_code": "E0502"}  # fmt: skip
    r = client.put("/api/v1/cameras/CAM-STALL/zones/pavement", headers=admin, json=zone)
    assert r.status_code == 201, r.text
    return "CAM-STALL"


def test_a_stall_on_a_camera_s_video_becomes_a_case_with_its_snapshot(
    context: Any, session: Session, camera: str, tmp_path: Path
) -> None:
    assert cameras_to_watch(context) == [(camera, "rtsp://nvr/stall")]
    with pytest.raises(ValueError, match="no camera NOPE"):
        cameras_to_watch(context, ["NOPE"])
    video = _write_video(tmp_path / "stall.avi", 12, _scene(stall=(2, 99)))
    runner = DetectorRunner(context, [(camera, video)], _config(),
                            start_time=EPOCH - timedelta(minutes=1))  # fmt: skip
    runner.start()
    runner.join(timeout=60)
    assert not runner.running
    assert runner.stats.failed_batches == 0
    assert runner.stats.signalled == 1
    (case,) = session.scalars(select(Case)).all()
    # a blob's score (0.5) is below what the class's automation rule trusts: a person looks
    assert (case.class_code, case.source_kind, case.state) == ("E0502", "camera", "reported")
    assert session.scalar(select(CaseAttachment.id).where(CaseAttachment.case_id == case.id))
    phases = session.scalars(select(Detection.phase).order_by(Detection.id)).all()
    assert phases[0] == "new" and phases[-1] == "end"
