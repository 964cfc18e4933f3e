"""The detection log kept to its retention; cases keep their evidence."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.video.conftest import Video, detection, post

from cityops.cases.models import CaseAttachment
from cityops.video.models import Camera, Detection, Track
from cityops.video.retention import prune_detections


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_old_detections_and_their_snapshots_go_but_cases_keep_their_evidence(
    client: TestClient, login: Any, video: Video, context: Any, clock: Any, session: Session
) -> None:
    post(client, video, detection(0, phase="new", snapshot=True))
    (signalled,) = post(client, video, detection(61, snapshot=True))
    case_id = signalled["verdicts"][0]["case_id"]
    post(client, video, detection(70, track="t2", phase="new", stationary=False, snapshot=True))
    keys = set(session.scalars(select(Detection.snapshot_key).where(
        Detection.snapshot_key.is_not(None))))  # fmt: skip
    assert len(keys) == 3
    latest = session.scalar(select(Camera.last_snapshot_key))
    assert latest in keys
    # the case references the snapshot of the detection that signalled: no copy
    evidence = session.scalar(select(CaseAttachment.key).where(CaseAttachment.case_id == case_id))
    assert evidence in keys - {latest}

    # within the retention nothing goes
    assert prune_detections(context.sessions, context.storage, clock.now(), 30).changes == 0
    clock.advance(days=31)
    report = prune_detections(context.sessions, context.storage, clock.now(), 30)
    assert (report.detections, report.snapshots, report.tracks) == (3, 1, 2)
    session.expire_all()
    assert count(session, Detection) == 0 and count(session, Track) == 0
    assert b"".join(context.storage.open(latest))  # the wall's picture stays
    for key in keys - {latest, evidence}:
        assert not (context.settings.storage_dir / key).exists()
    # the case shows its snapshot still
    dp = login("dispatcher")
    (attachment,) = client.get(f"/api/v1/cases/{case_id}", headers=dp).json()["attachments"]
    assert client.get(attachment["url"], headers=dp).status_code == 200
    # 0 days keeps everything
    assert prune_detections(context.sessions, context.storage, clock.now(), 0).changes == 0
