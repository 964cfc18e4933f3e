"""The camera registry as administrators keep it: cameras, their zones, known false
positives; each change checked and audited. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.geo.index import GridIndex
from cityops.video.models import Camera, Detection, FalsePositive, Zone
from cityops.video.schemas import CameraIn, CameraPatch, FalsePositiveIn, ZoneIn


def _audit_view(values: dict[str, Any]) -> dict[str, Any]:
    # The stream URL carries credentials: the audit trail says it changed, not what it is.
    out = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
    if out.get("stream_url"):
        out["stream_url"] = "(set)"
    return out


def get_camera(session: Session, code: str) -> Camera:
    camera = session.scalar(select(Camera).where(Camera.code == code))
    if camera is None:
        raise NotFound(f"camera {code!r} not found")
    return camera


def create_camera(
    session: Session, principal: Principal, data: CameraIn, now: datetime, grids: GridIndex
) -> Camera:
    """Register a camera; its grid is found from where it stands."""
    if session.scalar(select(Camera.id).where(Camera.code == data.code)):
        raise Conflict(f"camera {data.code!r} exists", errors=[FieldProblem("code", "taken")])
    values = data.model_dump()
    row = Camera(**values, grid_code=grids.locate(data.lon, data.lat), created_at=now,
                 updated_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    record_audit(session, principal, "camera.create", "camera", row.id, now=now,
                 after=_audit_view(data.model_dump(mode="json")))  # fmt: skip
    return row


def update_camera(
    session: Session,
    principal: Principal,
    code: str,
    patch: CameraPatch,
    now: datetime,
    grids: GridIndex,
) -> Camera:
    row = get_camera(session, code)
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "lon", "lat", "status"):
        if required in changes and changes[required] is None:
            raise Invalid(f"{required} cannot be empty", errors=[FieldProblem(required, "empty")])
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    if "lon" in changes or "lat" in changes:
        row.grid_code = grids.locate(row.lon, row.lat)
    row.updated_at = now
    record_audit(session, principal, "camera.update", "camera", row.id, now=now,
                 before=_audit_view(before), after=_audit_view(patch.model_dump(
                     mode="json", exclude_unset=True)))  # fmt: skip
    return row


def _zone_values(data: ZoneIn) -> dict[str, Any]:
    values = data.model_dump(by_alias=True)
    values["polygon"] = [[x, y] for x, y in data.polygon]
    values["labels"] = sorted(set(data.labels))
    return values


def save_zone(
    session: Session,
    principal: Principal,
    camera_code: str,
    data: ZoneIn,
    now: datetime,
    class_codes: set[str],
) -> tuple[Zone, bool]:
    """Create the zone, or replace the one of that code; (the zone, whether it is new).

    A changed rule judges from its next detection on; the tracks already followed keep
    their cases."""
    if data.class_code not in class_codes:
        raise Invalid(f"no case class {data.class_code!r}",
                      errors=[FieldProblem("class_code", "unknown class")])  # fmt: skip
    camera = get_camera(session, camera_code)
    values = _zone_values(data)
    row = session.scalar(select(Zone).where(Zone.camera_id == camera.id, Zone.code == data.code))
    if row is None:
        row = Zone(**values, camera_id=camera.id, created_at=now, updated_at=now, version=1)
        session.add(row)
        session.flush()
        record_audit(session, principal, "zone.create", "camera_zone", row.id, now=now,
                     after={"camera": camera.code, **values})  # fmt: skip
        return row, True
    before = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = now
    record_audit(session, principal, "zone.update", "camera_zone", row.id, now=now,
                 before=before, after=values)  # fmt: skip
    return row, False


def delete_zone(
    session: Session, principal: Principal, camera_code: str, zone_code: str, now: datetime
) -> None:
    """Retire a zone: it judges nothing more; its history stays."""
    camera = get_camera(session, camera_code)
    row = session.scalar(select(Zone).where(Zone.camera_id == camera.id, Zone.code == zone_code))
    if row is None:
        raise NotFound(f"zone {zone_code!r} of camera {camera_code!r} not found")
    row.active = False
    row.version += 1
    row.updated_at = now
    record_audit(session, principal, "zone.retire", "camera_zone", row.id, now=now)


def add_false_positive(
    session: Session, principal: Principal, camera_code: str, data: FalsePositiveIn, now: datetime
) -> FalsePositive:
    """Remember what a detection saw as a false positive (or the label and box given), so
    that the same thing at the same place is not counted again."""
    camera = get_camera(session, camera_code)
    label, box = data.label, data.box and [data.box.x1, data.box.y1, data.box.x2, data.box.y2]
    if data.detection_id is not None:
        seen = session.get(Detection, data.detection_id)
        if seen is None or seen.camera_id != camera.id:
            raise Invalid(f"no detection {data.detection_id} of camera {camera_code!r}",
                          errors=[FieldProblem("detection_id", "not of this camera")])  # fmt: skip
        label, box = label or seen.label, box or seen.box
    if label is None:
        raise Invalid("give a detection or a label", errors=[FieldProblem("label", "required")])
    if box is None:
        raise Invalid("give a detection with a box, or a box", errors=[
            FieldProblem("box", "required")])  # fmt: skip
    row = FalsePositive(camera_id=camera.id, label=label.lower(), box=box,
                        min_overlap=data.min_overlap, note=data.note,
                        created_by=principal.actor.id, created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    record_audit(session, principal, "false_positive.create", "video_false_positive", row.id,
                 now=now, after={"camera": camera.code, "label": row.label, "box": box,
                                 "detection_id": data.detection_id})  # fmt: skip
    return row
