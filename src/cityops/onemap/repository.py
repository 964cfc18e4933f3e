"""Reading the one map for the API: layers with their class counts, the classes with their
colours, and conflict patches as the page lists and shows them."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from cityops.cases.models import Case
from cityops.errors import NotFound
from cityops.onemap import landuse
from cityops.onemap.features import layer_collection_id
from cityops.onemap.models import (
    LINE_CLASS_NAMES,
    RESOLUTION_NAMES_ZH,
    Conflict,
    Layer,
    LayerFeature,
    LayerVersion,
    Resolution,
)
from cityops.onemap.schemas import ConflictDetailRead, ConflictRead, LandUseClassRead, LayerRead
from cityops.org.models import Region, RegionLevel

COLOURS_SEED = Path(__file__).parent / "seed" / "landuse_colours.csv"


@cache
def colours() -> dict[str, str]:
    """The map's colour of each first-level class (a second or third level takes its
    first level's)."""
    with COLOURS_SEED.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["colour"] for row in csv.DictReader(f)}


@cache
def _class_names() -> dict[str, str]:
    return {**{c.code: c.name for c in landuse.load_classes().values()}, **LINE_CLASS_NAMES}


def classes() -> list[LandUseClassRead]:
    palette = colours()
    return [
        LandUseClassRead(
            code=c.code,
            level=c.level,
            parent=c.parent,
            name=c.name,
            name_en=c.name_en,
            construction=c.construction,
            colour=palette.get(c.code[:2], "#cccccc"),
        )
        for c in landuse.load_classes().values()
    ]


def layers(session: Session) -> list[LayerRead]:
    rows = session.execute(
        select(Layer, LayerVersion).outerjoin(LayerVersion, and_(
            LayerVersion.layer_id == Layer.id, LayerVersion.version == Layer.current_version))
        .order_by(Layer.kind, Layer.name)
    ).all()  # fmt: skip
    version_ids = [v.id for _, v in rows if v is not None]
    counts: dict[int, dict[str, int]] = {}
    if version_ids:
        for version_id, code, n in session.execute(
            select(LayerFeature.version_id, LayerFeature.class_code, func.count())
            .where(LayerFeature.version_id.in_(version_ids))
            .group_by(LayerFeature.version_id, LayerFeature.class_code)
        ):  # fmt: skip
            counts.setdefault(version_id, {})[code or ""] = n
    out = []
    for layer, v in rows:
        bbox = None
        if v is not None and None not in (v.min_lon, v.min_lat, v.max_lon, v.max_lat):
            bbox = [float(x or 0) for x in (v.min_lon, v.min_lat, v.max_lon, v.max_lat)]
        out.append(LayerRead(
            name=layer.name, title=layer.title, kind=layer.kind, line=layer.line,
            class_field=layer.class_field, class_scheme=layer.class_scheme,
            description=layer.description, version=layer.current_version,
            feature_count=v.feature_count if v else 0, area_m2=v.area_m2 if v else 0.0,
            bbox=bbox, imported_at=v.imported_at if v else None,
            classes=counts.get(v.id, {}) if v else {},
            collection=layer_collection_id(layer.name),
        ))  # fmt: skip
    return out


def _streets(session: Session) -> dict[str, str]:
    return dict(session.execute(
        select(Region.code, Region.name).where(Region.level == RegionLevel.STREET.value)
    ).all())  # fmt: skip


def _read(row: Conflict, streets: dict[str, str], case_state: str | None) -> dict[str, Any]:
    names = _class_names()
    return {
        "id": row.id, "run_id": row.run_id, "rule": row.rule, "layer_a": row.layer_a,
        "feature_a": row.feature_a, "class_a": row.class_a,
        "class_a_name": names.get(row.class_a, ""), "layer_b": row.layer_b,
        "feature_b": row.feature_b, "class_b": row.class_b,
        "class_b_name": names.get(row.class_b, ""), "difference": row.difference,
        "area_m2": round(row.area_m2, 2),
        "lon": row.lon, "lat": row.lat,
        "bbox": [row.min_lon, row.min_lat, row.max_lon, row.max_lat],
        "street_code": row.street_code,
        "street": streets.get(row.street_code) if row.street_code else None,
        "state": row.state, "case_id": row.case_id, "case_state": case_state,
        "resolution": row.resolution,
        "resolution_name": RESOLUTION_NAMES_ZH[Resolution(row.resolution)]
        if row.resolution else None,
        "resolution_note": row.resolution_note, "resolved_at": row.resolved_at,
        "resolved_by": row.resolved_by,
    }  # fmt: skip


def _case_states(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.state).where(Case.id.in_(ids))).all())


def conflicts(
    session: Session,
    run_id: int,
    *,
    street: str | None = None,
    state: str | None = None,
    rule: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[ConflictRead]]:
    """A run's patches, the largest first, with the total matching."""
    where = [Conflict.run_id == run_id]
    if street is not None:
        where.append(Conflict.street_code == (street or None))
    if state is not None:
        where.append(Conflict.state == state)
    if rule is not None:
        where.append(Conflict.rule == rule)
    total = session.scalar(select(func.count()).select_from(Conflict).where(*where)) or 0
    rows = list(session.scalars(select(Conflict).where(*where)
                                .order_by(Conflict.area_m2.desc(), Conflict.id)
                                .limit(limit).offset(offset)))  # fmt: skip
    streets = _streets(session)
    cases = _case_states(session, [r.case_id for r in rows if r.case_id is not None])
    return total, [ConflictRead(**_read(r, streets, cases.get(r.case_id or 0))) for r in rows]


def _side(session: Session, feature_id: int | None) -> dict[str, Any] | None:
    if feature_id is None:
        return None
    f = session.get(LayerFeature, feature_id)
    if f is None:
        return None
    return {"id": f.id, "fid": f.fid, "class_code": f.class_code,
            "class_name": _class_names().get(f.class_code or "", ""),
            "source_class": f.source_class, "area_m2": round(f.area_m2, 2),
            "properties": f.properties}  # fmt: skip


def detail(session: Session, conflict_id: int) -> ConflictDetailRead:
    row = session.get(Conflict, conflict_id)
    if row is None:
        raise NotFound(f"no conflict patch {conflict_id}")
    cases = _case_states(session, [row.case_id] if row.case_id is not None else [])
    geometry = shapely.geometry.mapping(shapely.from_wkb(row.geometry))
    return ConflictDetailRead(
        **_read(row, _streets(session), cases.get(row.case_id or 0)),
        geometry=dict(geometry), side_a=_side(session, row.feature_a),
        side_b=_side(session, row.feature_b),
    )  # fmt: skip
