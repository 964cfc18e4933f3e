"""What the API and pages read of the video tables: who sees which camera, and reads."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from cityops.cases.workflow import Actor
from cityops.video.events import DetectionRecorded
from cityops.video.models import Camera, Detection
from cityops.video.schemas import CameraRead, DetectionRead

# The centre's staff watch the cameras; field staff and departments get the cases.
VIDEO_ROLES = frozenset({"call_taker", "shift_leader", "dispatcher", "supervisor", "admin"})
# A scope code this short is the whole district: it sees the cameras placed in no grid too.
DISTRICT_CODE_LENGTH = 6


def visible_cameras(actor: Actor) -> ColumnElement[bool]:
    """Admins see every camera; the centre's staff those in their scope."""
    if actor.is_system or "admin" in actor.roles:
        return true()
    if not actor.roles & VIDEO_ROLES or not actor.scope_code:
        return false()
    conditions = [Camera.grid_code.startswith(actor.scope_code)]
    if len(actor.scope_code) <= DISTRICT_CODE_LENGTH:
        conditions.append(Camera.grid_code.is_(None))
    return or_(*conditions)


def camera_read(camera: Camera, actor: Actor, snapshot_url: str | None) -> CameraRead:
    """A camera as `actor` may see it: the stream URL (it carries the NVR's credentials)
    only for administrators."""
    read = CameraRead.model_validate(camera)
    read.has_stream = camera.stream_url is not None
    read.stream_url = camera.stream_url if "admin" in actor.roles else None
    read.snapshot_url = snapshot_url if camera.last_snapshot_key else None
    return read


def recorded_read(event: DetectionRecorded) -> DetectionRead:
    """The detection as the API shows it, from the event of its recording: the same as
    reading its row back, without the query."""
    return DetectionRead(
        id=event.id, source=event.source, detection_id=event.detection_id,
        camera_id=event.camera_id, track_id=event.track_id, time=event.time,
        label=event.label, score=event.score, box=event.box, phase=event.phase,
        stationary=event.stationary, verdicts=event.verdicts,
        has_snapshot=event.has_snapshot, received_at=event.received_at,
    )  # fmt: skip


def detection_read(row: Detection) -> DetectionRead:
    values = {c.key: getattr(row, c.key) for c in Detection.__table__.columns}
    return DetectionRead.model_validate({**values, "has_snapshot": row.snapshot_key is not None})
