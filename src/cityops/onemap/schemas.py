"""The one map's API shapes: layers, the land-use classes with their colours, conflict runs
with their summaries, conflict patches, and what may be sent about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from cityops.kit.schemas import ReadSchema, Schema
from cityops.onemap.models import Resolution


class LayerRead(ReadSchema):
    name: str
    title: str
    kind: str
    line: str | None
    class_field: str | None
    class_scheme: str | None
    description: str
    version: int
    feature_count: int
    area_m2: float
    bbox: list[float] | None  # lon/lat: min_lon, min_lat, max_lon, max_lat
    imported_at: datetime | None
    classes: dict[str, int]  # class code → features of the current version
    collection: str  # its OGC API collection id


class LandUseClassRead(ReadSchema):
    code: str
    level: int
    parent: str | None
    name: str
    name_en: str
    construction: bool
    colour: str  # #rrggbb, the first-level class's


class RunIn(Schema):
    layers: list[str] = Field(min_length=2, max_length=8, description="Stored layers, by name")
    min_area_m2: float = Field(default=1.0, ge=0, le=1e6, description="Slivers: smaller (m²)")
    min_width_m: float = Field(default=0.5, ge=0, le=1000, description="Slivers: narrower (m)")
    note: str = Field(default="", max_length=500)


class RunRead(ReadSchema):
    id: int
    layers: list[dict[str, Any]]
    state: str
    min_area_m2: float
    min_width_m: float
    patch_count: int
    total_area_m2: float
    dropped_by_area: int
    dropped_by_width: int
    dropped_area_m2: float
    repaired: list[dict[str, Any]]
    note: str
    started_at: datetime
    finished_at: datetime | None
    started_by: str


class RunSummaryRead(ReadSchema):
    run: RunRead
    by_pair: list[dict[str, Any]]
    by_street: list[dict[str, Any]]


class ConflictRead(ReadSchema):
    id: int
    run_id: int
    rule: str
    layer_a: str
    feature_a: int
    class_a: str
    class_a_name: str
    layer_b: str
    feature_b: int | None
    class_b: str
    class_b_name: str
    difference: str  # both_build, a_builds, b_builds, neither, control_line (差异类型)
    area_m2: float
    lon: float
    lat: float
    bbox: list[float]
    street_code: str | None
    street: str | None
    state: str
    case_id: int | None
    case_state: str | None = None
    resolution: str | None
    resolution_name: str | None
    resolution_note: str
    resolved_at: datetime | None
    resolved_by: str | None


class ConflictDetailRead(ConflictRead):
    geometry: dict[str, Any]  # GeoJSON, lon/lat
    # Each side's source feature: its original class and attributes, as imported
    side_a: dict[str, Any] | None
    side_b: dict[str, Any] | None


class ConflictPage(ReadSchema):
    total: int
    items: list[ConflictRead]


class CaseOpened(ReadSchema):
    conflict_id: int
    case_id: int
    case_state: str | None


class ResolutionIn(Schema):
    resolution: Resolution
    note: str = Field(min_length=1, max_length=2000, description="How: the revised plan, …")
