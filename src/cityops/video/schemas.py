"""What video analytics send (`DetectionIn`), and what the camera registry reads and writes."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, HttpUrl, StringConstraints, field_validator, model_validator
from shapely.geometry import Polygon

from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime
from cityops.video.models import CameraStatus

Code = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
# A snapshot larger than this is refused: a 1080p JPEG is 200–600 kB.
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024


class Box(Schema):
    """An object's box in image coordinates normalised to 0…1 (x right, y down), so that
    it does not depend on the resolution the analytics ran at."""

    x1: float = Field(ge=0, le=1)
    y1: float = Field(ge=0, le=1)
    x2: float = Field(ge=0, le=1)
    y2: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError("x2 ≥ x1 and y2 ≥ y1")
        return self

    @property
    def foot(self) -> tuple[float, float]:
        """The bottom centre: where the object stands, which zones are tested against."""
        return ((self.x1 + self.x2) / 2, self.y2)


class DetectionIn(Schema):
    """One observation of one tracked object by a camera's analytics.

    `(source, detection_id)` identifies the message, for retries; `track_id` identifies the
    object across messages (Frigate's event id), so updates of one track are one object.
    """

    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="The sending system (an NVR, an AI box); one of the API key's sources",
    )
    detection_id: str = Field(min_length=1, max_length=160, description="Idempotency key")
    camera: Code = Field(description="The camera's code in our registry")
    time: UTCDatetime = Field(description="When the frame was taken")
    label: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)] = Field(
        min_length=1, max_length=40, description="person, car, table, umbrella, garbage …"
    )
    score: float = Field(ge=0, le=1)
    box: Box | None = None
    zones: list[Code] = Field(
        default_factory=list,
        max_length=20,
        description="The zones the source says the object is in; empty: found from the box",
    )
    zoned: bool = Field(
        default=False,
        description="The source judged the zones itself (Frigate): an empty `zones` then "
        "means in none of them, rather than placing the object by its box",
    )
    track_id: str | None = Field(default=None, min_length=1, max_length=120)
    phase: Literal["new", "update", "end"] = Field(
        default="update", description="The track begins, goes on, or ends (left the view)"
    )
    stationary: bool | None = Field(
        default=None, description="The source's own judgement that the object stands still"
    )
    track_started_at: UTCDatetime | None = Field(
        default=None, description="When the source first saw the object"
    )
    snapshot_url: HttpUrl | None = None
    snapshot_base64: str | None = Field(default=None, description="A JPEG or PNG, base64")

    @field_validator("snapshot_base64")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > MAX_SNAPSHOT_BYTES * 4 // 3 + 4:
            raise ValueError(f"the snapshot is over {MAX_SNAPSHOT_BYTES} bytes")
        try:
            head = base64.b64decode(value[:24], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
        if not (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG")):
            raise ValueError("a JPEG or PNG image")
        return value


class DetectionResult(ReadSchema):
    """What became of one detection: `created` with its verdict in each zone it was in,
    `duplicate` (sent before: the first one's verdicts), or `rejected` with the fields."""

    index: int
    status: Literal["created", "duplicate", "rejected"]
    id: int | None = None
    verdicts: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[dict[str, str]] = Field(default_factory=list)


class DetectionBatchResult(ReadSchema):
    accepted: int
    duplicates: int
    rejected: int
    results: list[DetectionResult]


# -- the registry ------------------------------------------------------------------------


class CameraIn(Schema):
    """A camera as an administrator registers it; its grid is found from its place."""

    code: Code
    name: str = Field(min_length=1, max_length=120)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    address: str | None = Field(default=None, max_length=200)
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    stream_url: str | None = Field(
        default=None, max_length=500, pattern=r"^(rtsp|rtsps|rtmp|http|https)://\S+$"
    )
    department_id: int | None = None
    status: CameraStatus = CameraStatus.ONLINE
    image_width: int | None = Field(default=None, ge=16, le=16384)
    image_height: int | None = Field(default=None, ge=16, le=16384)


class CameraPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=200)
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    stream_url: str | None = Field(
        default=None, max_length=500, pattern=r"^(rtsp|rtsps|rtmp|http|https)://\S+$"
    )
    department_id: int | None = None
    status: CameraStatus | None = None
    image_width: int | None = Field(default=None, ge=16, le=16384)
    image_height: int | None = Field(default=None, ge=16, le=16384)


class CameraRead(ReadSchema):
    id: int
    code: str
    name: str
    lon: float
    lat: float
    grid_code: str | None
    address: str | None
    direction_deg: float | None
    # Only for those who may see it (administrators): it carries the NVR's credentials.
    stream_url: str | None = None
    has_stream: bool = False
    department_id: int | None
    status: str
    image_width: int | None
    image_height: int | None
    last_seen_at: datetime | None
    last_snapshot_at: datetime | None
    snapshot_url: str | None = None


HOUR_MINUTE = r"^([01]\d|2[0-3]):[0-5]\d$"


class HoursWindow(Schema):
    from_: str = Field(alias="from", pattern=HOUR_MINUTE, description="HH:MM, local time")
    to: str = Field(pattern=HOUR_MINUTE, description="HH:MM; before `from`: past midnight")


class ZoneIn(Schema):
    """A zone and its rule; the polygon in image coordinates normalised to 0…1."""

    code: Code
    name: str = Field(min_length=1, max_length=120)
    purpose: str = Field(default="", max_length=200)
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=100)
    labels: list[Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                                  min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=20
    )  # fmt: skip
    min_score: float = Field(default=0.6, ge=0, le=1)
    min_dwell_s: int = Field(default=0, ge=0, le=86_400)
    active_hours: list[HoursWindow] = Field(default_factory=list, max_length=12)
    class_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)] = Field(
        max_length=8, description="The case class it raises, e.g. E0502 (占道经营)"
    )
    cooldown_s: int = Field(default=600, ge=0, le=7 * 86_400)
    active: bool = True

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for x, y in value:
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise ValueError("points are normalised image coordinates, 0…1")
        shape = Polygon(value)
        if not shape.is_valid or shape.area <= 0:
            raise ValueError("the polygon crosses itself or has no area")
        return value


class ZoneRead(ReadSchema):
    id: int
    camera_id: int
    code: str
    name: str
    purpose: str
    polygon: list[list[float]]
    labels: list[str]
    min_score: float
    min_dwell_s: int
    active_hours: list[dict[str, str]]
    class_code: str
    cooldown_s: int
    active: bool
    version: int


class FalsePositiveIn(Schema):
    """Mark what a detection saw as a known false positive, or give the label and box."""

    detection_id: int | None = Field(default=None, description="Our id of the detection")
    label: str | None = Field(default=None, min_length=1, max_length=40)
    box: Box | None = None
    min_overlap: float = Field(default=0.5, gt=0, le=1)
    note: str = Field(default="", max_length=200)


class FalsePositiveRead(ReadSchema):
    id: int
    camera_id: int
    label: str
    box: list[float]
    min_overlap: float
    note: str
    created_at: datetime


class DetectionRead(ReadSchema):
    id: int
    source: str
    detection_id: str
    camera_id: int
    track_id: str | None
    time: datetime
    label: str
    score: float
    box: list[float] | None
    phase: str
    stationary: bool | None
    verdicts: list[dict[str, Any]]
    has_snapshot: bool
    received_at: datetime
