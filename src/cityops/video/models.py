"""Video tables: cameras, their zones and rules, known false positives, detections, tracks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base, JSONType


class CameraStatus(StrEnum):
    """Set by the centre: a camera under repair raises nothing and is shown as such."""

    ONLINE = "online"
    OFFLINE = "offline"
    MAINTENANCE = "maintenance"  # 维护中


class Camera(Base):
    """A camera (视频监控点位): where it stands and looks, who owns it, how to reach it."""

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    # Where it looks, degrees clockwise from north; None for a dome that turns.
    direction_deg: Mapped[float | None] = mapped_column(Float)
    # Secret: it usually carries the NVR's credentials. Shown only to admins.
    stream_url: Mapped[str | None] = mapped_column(String(500))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(12), default=CameraStatus.ONLINE.value)
    # The analytics' frame size, for sources that give boxes in pixels.
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    last_seen_at: Mapped[datetime | None]
    last_snapshot_key: Mapped[str | None] = mapped_column(String(200))
    last_snapshot_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Zone(Base):
    """A region of a camera's image with a purpose and a rule (e.g. "no vending on the
    viewing platform"): which labels count, how sure and how long, when, and the class of
    case it raises."""

    __tablename__ = "camera_zones"
    __table_args__ = (Index("uq_camera_zones_code", "camera_id", "code", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    # [[x, y], …] normalised to 0…1 of the image, x right, y down; at least three points.
    polygon: Mapped[list[list[float]]] = mapped_column(JSONType)
    labels: Mapped[list[str]] = mapped_column(JSONType)
    min_score: Mapped[float] = mapped_column(Float, default=0.6)
    min_dwell_s: Mapped[int] = mapped_column(Integer, default=0)
    # [{"from": "08:00", "to": "20:00"}, …] in the district's local time; empty: always.
    active_hours: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    class_code: Mapped[str] = mapped_column(String(8))
    cooldown_s: Mapped[int] = mapped_column(Integer, default=600)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The zone's latest case and when its signal went: a new object in the zone within the
    # cool-down joins that case as more evidence instead of opening another.
    last_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    last_signal_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FalsePositive(Base):
    """A known false positive (a statue taken for a person, a parked kiosk taken for a
    stall): a detection of this label whose box overlaps this one is not counted."""

    __tablename__ = "video_false_positives"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    box: Mapped[list[float]] = mapped_column(JSONType)  # [x1, y1, x2, y2], normalised
    min_overlap: Mapped[float] = mapped_column(Float, default=0.5)  # intersection over union
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class Verdict(StrEnum):
    """What verification made of a detection in a zone."""

    WATCHING = "watching"  # counts, but does not (yet) satisfy the rule
    SIGNALLED = "signalled"  # opened (or joined by intake) a case
    ATTACHED = "attached"  # a new object within the cool-down: evidence on the zone's case
    TRACKED = "tracked"  # a further update of a track that has its case
    ENDED = "ended"  # the object left
    OUTSIDE = "outside"  # in no active zone of the camera
    LABEL = "label"  # a label the zone does not count
    LOW_SCORE = "low_score"
    OFF_HOURS = "off_hours"
    FALSE_POSITIVE = "false_positive"
    CAMERA_DOWN = "camera_down"  # the camera is offline or under maintenance


class Detection(Base):
    """One message of a source about one object, as received, with what became of it.

    `(source, detection_id)` is the message's idempotency key."""

    __tablename__ = "video_detections"
    __table_args__ = (
        Index("uq_video_detections_source_key", "source", "detection_id", unique=True),
        Index("ix_video_detections_camera_time", "camera_id", "time"),
        Index("ix_video_detections_track_time", "source", "track_id", "time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80))
    detection_id: Mapped[str] = mapped_column(String(160))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    track_id: Mapped[str | None] = mapped_column(String(120))
    time: Mapped[datetime]
    label: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    box: Mapped[list[float] | None] = mapped_column(JSONType)
    phase: Mapped[str] = mapped_column(String(8))
    stationary: Mapped[bool | None] = mapped_column(Boolean)
    # One per zone it was judged in: [{"zone": code, "verdict": …, "case_id": …}, …].
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    snapshot_key: Mapped[str | None] = mapped_column(String(200))
    snapshot_url: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(index=True)


class Track(Base):
    """An object followed by a source, within one zone: when it came, whether it stands
    still and since when, and the case it opened or joined."""

    __tablename__ = "video_tracks"
    __table_args__ = (Index("uq_video_tracks_key", "source", "track_id", "zone_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80))
    track_id: Mapped[str] = mapped_column(String(120))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("camera_zones.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(40))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    stationary_since: Mapped[datetime | None]
    best_score: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
