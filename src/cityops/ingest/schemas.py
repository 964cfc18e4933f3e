"""What sources send to `POST /api/v1/events`, and what they get back."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, StringConstraints

from cityops.kit.schemas import ReadSchema, Schema, UTCDatetime


class SourceKind(StrEnum):
    INSPECTOR = "inspector"  # 监督员上报
    GRID_WORKER = "grid_worker"  # 网格员上报
    CAMERA = "camera"  # 视频智能分析
    SENSOR = "sensor"  # 物联感知
    CITIZEN = "citizen"  # 市民 (app, web, Open311)
    HOTLINE = "hotline"  # 12345 热线
    REFERRAL = "referral"  # 上级转办
    PLANNING = "planning"  # 多规合一差异图斑 (a conflict between plans, from the one map)
    OTHER = "other"


# Staff in the field find problems themselves; everything else is verified on site first
# unless an automation rule trusts the source.
STAFF_KINDS = frozenset({SourceKind.INSPECTOR, SourceKind.GRID_WORKER})


class Location(Schema):
    lon: float = Field(ge=-180, le=180, description="Longitude, CGCS2000/WGS 84 degrees")
    lat: float = Field(ge=-90, le=90, description="Latitude, CGCS2000/WGS 84 degrees")


class Evidence(Schema):
    url: HttpUrl
    kind: Literal["photo", "video", "snapshot", "document", "audio"] = "photo"
    caption: str | None = Field(default=None, max_length=200)


class EventIn(Schema):
    """One observation from a source; `(source, external_id)` identifies it for retries."""

    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="The sending system; a person's app may omit it",
    )
    external_id: str = Field(min_length=1, max_length=120, description="Idempotency key")
    kind: SourceKind
    location: Location
    occurred_at: UTCDatetime
    description: str = Field(default="", max_length=2000)
    address: str | None = Field(default=None, max_length=200)
    # Codes are compared as the catalog writes them: " e0102" is E0102.
    class_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)] | None = (
        Field(default=None, max_length=8, description="e.g. E0102")
    )
    confidence: float | None = Field(default=None, ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    self_handled: bool = Field(default=False, description="自处理: fixed on the spot by staff")


class EventResult(ReadSchema):
    """What became of one event. A repeat returns the first result with `duplicate` true."""

    index: int
    status: Literal["created", "merged", "rejected"]
    duplicate: bool = False
    event_id: int | None = None
    case_id: int | None = None
    case_state: str | None = None
    grid_code: str | None = None
    needs_placement: bool = False
    errors: list[dict[str, str]] = Field(default_factory=list)


class BatchResult(ReadSchema):
    accepted: int
    rejected: int
    duplicates: int
    results: list[EventResult]
