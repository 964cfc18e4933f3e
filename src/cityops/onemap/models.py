"""The one map's tables: layers (plans, base layers, control lines), each import of a layer
kept as a version so a plan revision can be compared with the one before, and the
features of each version (lon/lat CGCS2000 WKB with their bounding boxes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base, JSONType


class LayerKind(StrEnum):
    PLAN = "plan"  # a plan's land use (规划用地)
    BASE = "base"  # the present land use (现状, e.g. the third national land survey)
    CONTROL_LINE = "control_line"  # one of the three control lines (三线)


class ControlLine(StrEnum):
    ECOLOGICAL_RED_LINE = "ecological_red_line"  # 生态保护红线
    PERMANENT_FARMLAND = "permanent_farmland"  # 永久基本农田
    URBAN_BOUNDARY = "urban_boundary"  # 城镇开发边界


# A control line's features are of the class `line:<kind>` in conflicts: their names.
LINE_CLASS_NAMES = {
    f"line:{ControlLine.ECOLOGICAL_RED_LINE}": "生态保护红线",
    f"line:{ControlLine.PERMANENT_FARMLAND}": "永久基本农田",
    f"line:{ControlLine.URBAN_BOUNDARY}": "城镇开发边界",
}


class Layer(Base):
    """A layer of the one map: what it is and how its features are classed."""

    __tablename__ = "onemap_layers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)  # a slug, e.g. urban-plan-2017
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    line: Mapped[str | None] = mapped_column(String(24))  # the control line's kind
    # The attribute holding each feature's class, and the scheme its codes are in (the
    # 2023 national classification, or an older one mapped onto it).
    class_field: Mapped[str | None] = mapped_column(String(60))
    class_scheme: Mapped[str | None] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LayerVersion(Base):
    """One import of a layer: where it came from and what it held."""

    __tablename__ = "onemap_layer_versions"
    __table_args__ = (UniqueConstraint("layer_id", "version", name="uq_onemap_layer_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("onemap_layers.id"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))  # the file's name and layer
    source_format: Mapped[str] = mapped_column(String(40))  # the GDAL driver
    source_crs: Mapped[str | None] = mapped_column(Text)  # as the file declared it
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # name, type
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    feature_count: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)  # ellipsoidal, the features' sum
    repaired: Mapped[list[int]] = mapped_column(JSONType, default=list)  # source fids
    note: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(120), default="")


class LayerFeature(Base):
    """A feature of a layer's version: its class (2023 code), the code as the file gave it,
    its attributes, and its geometry (WKB, lon/lat CGCS2000) with its bounding box."""

    __tablename__ = "onemap_features"
    __table_args__ = (
        Index("ix_onemap_features_version_bbox", "version_id", "min_lon", "min_lat"),
        Index("ix_onemap_features_version_class", "version_id", "class_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("onemap_layer_versions.id"))
    fid: Mapped[int] = mapped_column(Integer)  # the feature's number in the source
    class_code: Mapped[str | None] = mapped_column(String(8))
    source_class: Mapped[str | None] = mapped_column(String(60))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    geometry: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)  # ellipsoidal (GRS80)


class ConflictRunState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class ConflictRun(Base):
    """One comparison of layers (多规合一比对): which versions, with which tolerances, and
    what it found. Its patches are kept with it, so a later run never rewrites an earlier
    report."""

    __tablename__ = "onemap_conflict_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # [{"name", "title", "version", "kind"}], in the order the layers were compared
    layers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(12), default=ConflictRunState.RUNNING)
    min_area_m2: Mapped[float] = mapped_column(Float)
    min_width_m: Mapped[float] = mapped_column(Float)
    rules: Mapped[list[str]] = mapped_column(JSONType, default=list)  # the matrix's rule names
    patch_count: Mapped[int] = mapped_column(Integer, default=0)
    total_area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    dropped_by_area: Mapped[int] = mapped_column(Integer, default=0)
    dropped_by_width: Mapped[int] = mapped_column(Integer, default=0)
    dropped_area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    # [{"layer", "feature_id"}]: features whose invalid rings the engine repaired
    repaired: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    started_by: Mapped[str] = mapped_column(String(120), default="")


class Difference(StrEnum):
    """Which side builds (差异类型), as conflict ledgers record it for two plans."""

    BOTH_BUILD = "both_build"  # both plans build, on different classes (两规均为建设用地)
    A_BUILDS = "a_builds"  # the first layer builds, the second does not
    B_BUILDS = "b_builds"  # the second builds, the first does not
    NEITHER = "neither"  # neither builds (e.g. forest in one, water in the other)
    CONTROL_LINE = "control_line"  # a plan, or another line, against a control line


class ConflictState(StrEnum):
    OPEN = "open"  # found, nobody has acted on it yet
    CASE_OPENED = "case_opened"  # handed to the planning department as a case
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a conflict was settled (差异图斑处理方式)."""

    REVISE_A = "revise_a"  # the first layer's plan is revised (调整甲方规划)
    REVISE_B = "revise_b"  # the second layer's plan is revised (调整乙方规划)
    EXCEPTION = "exception"  # kept by a lawful exception or approval (依法保留)
    DATA_ERROR = "data_error"  # no real conflict: a survey or drawing error (数据误差)


RESOLUTION_NAMES_ZH = {
    Resolution.REVISE_A: "调整甲方规划",
    Resolution.REVISE_B: "调整乙方规划",
    Resolution.EXCEPTION: "依法保留",
    Resolution.DATA_ERROR: "数据误差，非实际冲突",
}


class Conflict(Base):
    """A conflict patch (差异图斑) of a run: where, how large, the two sides and the rule;
    and what became of it (a case for the planning department, a resolution)."""

    __tablename__ = "onemap_conflicts"
    __table_args__ = (
        Index("ix_onemap_conflicts_run_bbox", "run_id", "min_lon", "min_lat"),
        Index("ix_onemap_conflicts_run_street", "run_id", "street_code"),
        Index("ix_onemap_conflicts_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("onemap_conflict_runs.id"))
    rule: Mapped[str] = mapped_column(String(120))
    layer_a: Mapped[str] = mapped_column(String(60))
    feature_a: Mapped[int] = mapped_column(Integer)  # onemap_features.id
    class_a: Mapped[str] = mapped_column(String(40))
    layer_b: Mapped[str] = mapped_column(String(60))
    # None where the conflict is the part of A outside all of B (a boundary's outside)
    feature_b: Mapped[int | None] = mapped_column(Integer)
    class_b: Mapped[str] = mapped_column(String(40))
    difference: Mapped[str] = mapped_column(String(16))
    area_m2: Mapped[float] = mapped_column(Float)  # ellipsoidal (GRS80)
    geometry: Mapped[bytes] = mapped_column(LargeBinary)  # WKB, lon/lat CGCS2000
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)  # a point inside the patch (its label, its case)
    lat: Mapped[float] = mapped_column(Float)
    street_code: Mapped[str | None] = mapped_column(String(15))
    state: Mapped[str] = mapped_column(String(12), default=ConflictState.OPEN)
    case_id: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
