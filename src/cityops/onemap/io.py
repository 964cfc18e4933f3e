"""Layers into the one map from GeoPackage, Shapefile (its .cpg and .prj honoured),
GeoJSON, FlatGeobuf or CSV with WKT, in any CRS, through pyogrio: reprojected to lon/lat
CGCS2000, invalid geometries repaired and reported, each feature's class mapped onto the
2023 national classification, and the whole import kept as a new version of the layer.

All-or-nothing: a file with a class that cannot be mapped, or a feature without a
polygon, is refused with every problem listed, and nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.errors import ImportFailed, ImportProblem
from cityops.geo.crs import to_lonlat_array
from cityops.kit.bulk import allocate_ids, insert_rows
from cityops.onemap import landuse
from cityops.onemap.models import ControlLine, Layer, LayerFeature, LayerKind, LayerVersion

Progress = Callable[[int, int], None]
GRS80 = Geod(ellps="GRS80")  # CGCS2000's ellipsoid: official patch areas are measured on it
BATCH = 5_000
# CSV has no geometry type of its own: GDAL reads the WKT column named here.
CSV_OPTIONS = {"GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,geom", "KEEP_GEOM_COLUMNS": "NO"}
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class LayerImport:
    """What to import and how to read it."""

    name: str
    title: str
    kind: LayerKind
    line: ControlLine | None = None
    class_field: str | None = None
    class_scheme: str = "2023"
    source_layer: str | None = None  # a GeoPackage's layer; the first if none
    crs: str | None = None  # for files that do not say theirs (CSV)
    note: str = ""


@dataclass(frozen=True)
class Imported:
    layer_id: int
    version: int
    features: int
    repaired: list[int]
    area_m2: float


def ellipsoidal_area(geometry: BaseGeometry) -> float:
    """The area in m² on the GRS80 ellipsoid of a lon/lat polygon (holes subtracted)."""
    area, _ = GRS80.geometry_area_perimeter(geometry)
    return abs(float(area))


def polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    """The polygons of a geometry (a repaired ring may come back as a collection)."""
    if geometry.geom_type in POLYGONAL:
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in POLYGONAL]
    if not parts:
        return None
    return shapely.union_all(parts)


def repair(geometry: BaseGeometry) -> BaseGeometry | None:
    """A valid version of `geometry`: each part made valid on its own (MakeValid on a large
    multipolygon is many times slower than on its parts), the polygons kept."""
    parts = list(shapely.get_parts(geometry))
    fixed = [polygonal(shapely.make_valid(p)) for p in parts]
    kept = [g for g in fixed if g is not None and not g.is_empty]
    return polygonal(shapely.union_all(kept)) if kept else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _plain(value: Any) -> Any:
    """A value as JSON stores it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (datetime, np.datetime64)):
        return str(value)
    return value


def import_layer(
    session: Session,
    path: Path,
    spec: LayerImport,
    *,
    now: datetime,
    by: str = "",
    progress: Progress | None = None,
) -> Imported:
    """Read the file whole, check every feature, then write the layer's new version."""
    source = path.name
    options = CSV_OPTIONS if path.suffix.lower() == ".csv" else {}
    try:
        meta, fids, geometries, values = pyogrio.raw.read(
            path, layer=spec.source_layer, return_fids=True, **options
        )
    except Exception as exc:  # GDAL reports unreadable files with several error types
        raise ImportFailed([ImportProblem(source, 0, "file", f"cannot read: {exc}")]) from exc
    fields = [str(f) for f in meta["fields"]]
    columns = dict(zip(fields, values, strict=True))
    crs = meta.get("crs") or spec.crs
    problems: list[ImportProblem] = []
    if spec.kind is LayerKind.CONTROL_LINE and spec.line is None:
        problems.append(ImportProblem(source, 0, "line", "a control line layer names its line"))
    if spec.class_field is not None and spec.class_field not in columns:
        problems.append(ImportProblem(source, 0, spec.class_field, "field missing"))
    if crs is None:
        problems.append(ImportProblem(source, 0, "crs", "the file has no CRS: give --crs"))
    if problems:
        raise ImportFailed(problems)
    classes = landuse.load_classes()
    mapping = landuse.load_mapping(spec.class_scheme) if spec.class_scheme != "2023" else None
    total = len(geometries)
    shapes = shapely.from_wkb(np.asarray(geometries, dtype=object))
    # Reprojected all at once: one transformer call for every coordinate of the file.
    lonlat = to_lonlat_array(shapes, crs)
    valid = shapely.is_valid(lonlat)
    rows: list[dict[str, Any]] = []
    repaired: list[int] = []
    for i in range(total):
        number = i + 1
        fid = int(fids[i]) if fids is not None else i
        geom = lonlat[i]
        if geom is None or shapely.is_empty(geom) or geom.geom_type not in POLYGONAL:
            kind = "missing" if geom is None or shapely.is_empty(geom) else geom.geom_type
            problems.append(ImportProblem(source, number, "geometry", f"not a polygon: {kind}"))
            continue
        if not valid[i]:
            fixed = repair(geom)
            if fixed is None:
                message = "invalid, and nothing polygonal is left when repaired"
                problems.append(ImportProblem(source, number, "geometry", message))
                continue
            geom = fixed
            repaired.append(fid)
        raw_class = _text(columns[spec.class_field][i]) if spec.class_field else ""
        class_code = None
        if spec.class_field:
            class_code = _class(raw_class, mapping, classes)
            if class_code is None:
                message = f"{raw_class!r} is not a class of {spec.class_scheme}"
                problems.append(ImportProblem(source, number, spec.class_field, message))
                continue
        minx, miny, maxx, maxy = shapely.bounds(geom)
        rows.append({
            "fid": fid, "class_code": class_code, "source_class": raw_class[:60] or None,
            "properties": {f: _plain(columns[f][i]) for f in fields},
            "geometry": shapely.to_wkb(geom), "min_lon": float(minx), "min_lat": float(miny),
            "max_lon": float(maxx), "max_lat": float(maxy),
            "area_m2": ellipsoidal_area(geom),
        })  # fmt: skip
        if progress and number % 1000 == 0:
            progress(number, total)
    if problems:
        raise ImportFailed(problems)
    layer = _layer(session, spec, now)
    layer.current_version += 1
    layer.updated_at = now
    bounds = _extent(rows)
    version = LayerVersion(
        layer_id=layer.id, version=layer.current_version,
        source=f"{source}:{spec.source_layer}" if spec.source_layer else source,
        source_format=str(pyogrio.read_info(path, layer=spec.source_layer, **options)["driver"]),
        source_crs=str(crs), fields=[{"name": f, "type": str(t)} for f, t in
                                     zip(fields, meta.get("dtypes", []), strict=False)],
        min_lon=bounds[0], min_lat=bounds[1], max_lon=bounds[2], max_lat=bounds[3],
        feature_count=len(rows), area_m2=sum(r["area_m2"] for r in rows), repaired=repaired,
        note=spec.note, imported_at=now, imported_by=by,
    )  # fmt: skip
    session.add(version)
    session.flush()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        (ids,) = allocate_ids(session, [(LayerFeature, len(batch))])
        for row, feature_id in zip(batch, ids, strict=True):
            row["id"], row["version_id"] = feature_id, version.id
        insert_rows(session, [(LayerFeature, batch)])
        if progress:
            progress(min(start + BATCH, len(rows)), len(rows))
    return Imported(layer.id, version.version, len(rows), repaired, version.area_m2)


def _class(
    raw: str, mapping: dict[str, str] | None, classes: dict[str, landuse.LandUseClass]
) -> str | None:
    if not raw:
        return None
    if mapping is not None:
        # A spreadsheet drops a code's leading zero (0101 → 101): try it with the zero back.
        padded = raw.zfill(len(raw) + 1) if raw.isdigit() and len(raw) % 2 else raw
        for candidate in (raw, raw.upper(), padded):
            if candidate in mapping:
                return mapping[candidate]
        return None
    try:
        return landuse.normalise(raw, classes)
    except ValueError:
        return None


def _layer(session: Session, spec: LayerImport, now: datetime) -> Layer:
    layer = session.scalar(select(Layer).where(Layer.name == spec.name))
    if layer is None:
        layer = Layer(name=spec.name, title=spec.title, kind=spec.kind.value,
                      line=spec.line.value if spec.line else None, class_field=spec.class_field,
                      class_scheme=spec.class_scheme, description=spec.note,
                      current_version=0, created_at=now, updated_at=now)  # fmt: skip
        session.add(layer)
        session.flush()
    return layer


def _extent(rows: list[dict[str, Any]]) -> tuple[float | None, ...]:
    if not rows:
        return (None, None, None, None)
    return (min(r["min_lon"] for r in rows), min(r["min_lat"] for r in rows),
            max(r["max_lon"] for r in rows), max(r["max_lat"] for r in rows))  # fmt: skip
