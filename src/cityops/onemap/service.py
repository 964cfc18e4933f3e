"""The one map's use cases on stored layers: find the conflicts between the current versions
of chosen layers (多规合一), and write them as a report: every patch to GeoPackage or
GeoJSON, and a summary by class pair and by street to XLSX or CSV."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.errors import FieldProblem, Invalid
from cityops.kit.tabular import write_table
from cityops.onemap import conflicts, landuse
from cityops.onemap.models import Layer, LayerFeature, LayerVersion
from cityops.org.models import Region, RegionLevel


def engine_layer(session: Session, name: str) -> conflicts.Layer:
    """The current version of a stored layer as the conflict engine takes it; a control
    line's features are all of the class `line:<kind>`."""
    layer = session.scalar(select(Layer).where(Layer.name == name))
    if layer is None or layer.current_version == 0:
        raise Invalid(f"layers: no layer {name!r}", errors=[FieldProblem("layers", name)])
    current = (LayerVersion.layer_id == layer.id) & (LayerVersion.version == layer.current_version)
    version_id = session.scalar(select(LayerVersion.id).where(current))
    rows = session.execute(
        select(LayerFeature.id, LayerFeature.class_code, LayerFeature.geometry)
        .where(LayerFeature.version_id == version_id).order_by(LayerFeature.id)
    ).all()  # fmt: skip
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    if layer.line:
        classes = np.full(len(rows), f"line:{layer.line}", dtype=object)
    else:
        classes = np.array([r[1] or "" for r in rows], dtype=object)
    geometries = shapely.from_wkb(np.array([r[2] for r in rows], dtype=object))
    return conflicts.Layer(name, geometries, classes, ids)


def find(
    session: Session,
    names: Sequence[str],
    *,
    tolerances: conflicts.Tolerances | None = None,
    matrix: landuse.CompatibilityMatrix | None = None,
    checkpoint_dir: Path | None = None,
    progress: conflicts.Progress | None = None,
) -> conflicts.ConflictReport:
    """Conflicts between every pair of the named layers' current versions."""
    if len(names) < 2:
        raise Invalid("layers: name at least two", errors=[FieldProblem("layers", "two or more")])
    rules = matrix or landuse.CompatibilityMatrix.from_csv()
    layers = [engine_layer(session, n) for n in names]
    return conflicts.find_conflicts(layers, rules.rule_for, tolerances=tolerances,
                                    checkpoint_dir=checkpoint_dir, progress=progress)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    by_pair: list[dict[str, Any]]
    by_street: list[dict[str, Any]]


def summarise(session: Session, report: conflicts.ConflictReport) -> Summary:
    """Patches and areas by rule and class pair, and by the street (街道) each patch's
    representative point lies in."""
    pairs: dict[tuple[str, str, str, str, str], list[float]] = defaultdict(list)
    for p in report.patches():
        pairs[(p.rule, p.layer_a, str(p.class_a), p.layer_b, str(p.class_b))].append(p.area_m2)
    by_pair = [{"rule": k[0], "layer_a": k[1], "class_a": k[2], "layer_b": k[3],
                "class_b": k[4], "patches": len(v), "area_m2": round(math.fsum(v), 2)}
               for k, v in sorted(pairs.items(), key=lambda kv: -math.fsum(kv[1]))]  # fmt: skip
    streets = session.execute(
        select(Region.code, Region.name, Region.geometry).where(
            Region.level == RegionLevel.STREET.value, Region.geometry.is_not(None))
    ).all()  # fmt: skip
    shapes = shapely.from_wkb(np.array([s[2] for s in streets], dtype=object))
    points = shapely.point_on_surface(report.geometry) if len(report) else np.array([])
    tree = shapely.STRtree(shapes)
    hits = tree.query(points, predicate="within") if len(points) and len(shapes) else None
    street_of = np.full(len(report), -1)
    if hits is not None:
        street_of[hits[0]] = hits[1]
    totals: dict[int, list[float]] = defaultdict(list)
    for i, s in enumerate(street_of.tolist()):
        totals[s].append(float(report.area_m2[i]))
    by_street = [{"street_code": streets[s][0] if s >= 0 else "",
                  "street": streets[s][1] if s >= 0 else "（辖区外）",
                  "patches": len(v), "area_m2": round(math.fsum(v), 2)}
                 for s, v in sorted(totals.items(), key=lambda kv: -math.fsum(kv[1]))]  # fmt: skip
    return Summary(by_pair, by_street)


def write_patches(report: conflicts.ConflictReport, path: Path) -> int:
    """Every patch with its area, sides and rule, to GeoPackage or GeoJSON (by suffix),
    lon/lat CGCS2000."""
    driver = "GeoJSON" if path.suffix.lower() in (".geojson", ".json") else "GPKG"
    if path.exists():
        path.unlink()
    columns = {
        "rule": report.rule, "area_m2": report.area_m2, "layer_a": report.layer_a,
        "id_a": report.id_a.astype(np.int64), "class_a": report.class_a,
        "layer_b": report.layer_b, "id_b": report.id_b.astype(np.int64),
        "class_b": report.class_b,
    }  # fmt: skip
    multi = [shapely.to_wkb(g if g.geom_type == "MultiPolygon" else shapely.multipolygons([g]))
             for g in report.geometry]  # fmt: skip
    pyogrio.raw.write(path, np.array(multi, dtype=object),
                      [np.asarray(v) for v in columns.values()], list(columns),
                      driver=driver, geometry_type="MultiPolygon", crs="EPSG:4490",
                      layer="conflicts")  # fmt: skip
    return len(report)


def write_summary(summary: Summary, path: Path) -> tuple[Path, Path]:
    """The summary by class pair to `path` (XLSX or CSV, by suffix), and by street beside it
    (`<name>-streets<suffix>`)."""
    write_table(path, ["rule", "layer_a", "class_a", "layer_b", "class_b", "patches",
                       "area_m2"], summary.by_pair)  # fmt: skip
    streets = path.with_name(f"{path.stem}-streets{path.suffix}")
    write_table(streets, ["street_code", "street", "patches", "area_m2"], summary.by_street)
    return path, streets
