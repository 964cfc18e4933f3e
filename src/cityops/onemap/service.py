"""The one map's use cases on stored layers (多规合一): compare the current versions of chosen
layers and keep what the comparison found as a run with its conflict patches; summarise a run
by class pair and by street; write it as GeoPackage/GeoJSON and XLSX/CSV; hand a patch to the
planning department as a case through the closed loop, and record how it was settled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityops.cases.intake import IntakeEnv, Signal, intake
from cityops.cases.workflow import Actor
from cityops.errors import Conflict as ConflictError
from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.ingest.schemas import EventIn, Location, SourceKind
from cityops.kit.bulk import allocate_ids, insert_rows
from cityops.kit.tabular import write_table
from cityops.onemap import conflicts, landuse
from cityops.onemap.models import (
    LINE_CLASS_NAMES,
    RESOLUTION_NAMES_ZH,
    Conflict,
    ConflictRun,
    ConflictRunState,
    ConflictState,
    Difference,
    Layer,
    LayerFeature,
    LayerVersion,
    Resolution,
)
from cityops.org.models import Region, RegionLevel

# The case class of a conflict patch (扩展事项 · 规划冲突图斑), routed to the planning
# department by the shipped automation rule `onemap-conflict-route`.
CONFLICT_CLASS = "E0606"
SOURCE = "onemap"
OUTSIDE = "（辖区外）"  # a patch in none of the district's streets


def _current(session: Session, name: str) -> tuple[Layer, LayerVersion]:
    layer = session.scalar(select(Layer).where(Layer.name == name))
    version = None
    if layer is not None and layer.current_version:
        current = (LayerVersion.layer_id == layer.id) & (
            LayerVersion.version == layer.current_version
        )
        version = session.scalar(select(LayerVersion).where(current))
    if layer is None or version is None:
        raise Invalid(f"layers: no layer {name!r}", errors=[FieldProblem("layers", name)])
    return layer, version


def engine_layer(session: Session, name: str) -> conflicts.Layer:
    """The current version of a stored layer as the conflict engine takes it; a control
    line's features are all of the class `line:<kind>`."""
    layer, version = _current(session, name)
    rows = session.execute(
        select(LayerFeature.id, LayerFeature.class_code, LayerFeature.geometry)
        .where(LayerFeature.version_id == version.id).order_by(LayerFeature.id)
    ).all()  # fmt: skip
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    if layer.line:
        classes = np.full(len(rows), f"line:{layer.line}", dtype=object)
    else:
        classes = np.array([r[1] or "" for r in rows], dtype=object)
    geometries = shapely.from_wkb(np.array([r[2] for r in rows], dtype=object))
    return conflicts.Layer(name, geometries, classes, ids)


class _Streets:
    """The district's streets (街道), to tell which one a patch lies in."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            select(Region.code, Region.geometry).where(
                Region.level == RegionLevel.STREET.value, Region.geometry.is_not(None))
            .order_by(Region.code)
        ).all()  # fmt: skip
        self.codes = np.array([r[0] for r in rows] or [""], dtype=object)
        shapes = shapely.from_wkb(np.array([r[1] for r in rows], dtype=object))
        self.tree = shapely.STRtree(shapes) if len(shapes) else None

    def of(self, points: Any) -> list[str | None]:
        found: list[str | None] = [None] * len(points)
        if self.tree is None or not len(points):
            return found
        hit_point, hit_street = self.tree.query(points, predicate="within")
        for p, s in zip(hit_point.tolist(), hit_street.tolist(), strict=True):
            found[p] = found[p] or str(self.codes[s])
        return found


def run(
    session: Session,
    names: Sequence[str],
    *,
    now: datetime,
    by: str = "",
    tolerances: conflicts.Tolerances | None = None,
    matrix: landuse.CompatibilityMatrix | None = None,
    checkpoint_dir: Path | None = None,
    progress: conflicts.Progress | None = None,
    note: str = "",
    threads: int = 1,
) -> ConflictRun:
    """Compare the named layers' current versions, every pair, and keep the run and each
    conflict patch it finds (in the caller's transaction)."""
    if len(names) < 2:
        raise Invalid("layers: name at least two", errors=[FieldProblem("layers", "two or more")])
    if len(set(names)) != len(names):
        raise Invalid("layers: each layer once", errors=[FieldProblem("layers", "repeated")])
    tolerances = tolerances or conflicts.Tolerances()
    rules = matrix or landuse.CompatibilityMatrix.from_csv()
    described = []
    for name in names:
        layer, version = _current(session, name)
        described.append({"name": layer.name, "title": layer.title, "kind": layer.kind,
                          "line": layer.line, "version": version.version})  # fmt: skip
    record = ConflictRun(
        layers=described, state=ConflictRunState.RUNNING.value,
        min_area_m2=tolerances.min_area_m2, min_width_m=tolerances.min_width_m,
        rules=sorted(r.name for r in rules.rules), started_at=now, finished_at=None,
        started_by=by, note=note,
    )  # fmt: skip
    session.add(record)
    session.flush()
    streets = _Streets(session)
    layers = [engine_layer(session, n) for n in names]
    # Each chunk's patches go to the database as the engine finishes it (keep=False): a
    # city's run never holds all its patches in memory at once.
    report = conflicts.find_conflicts(
        layers, rules.rule_for, tolerances=tolerances, checkpoint_dir=checkpoint_dir,
        progress=progress, threads=threads,
        on_chunk=lambda chunk: _store(session, record.id, chunk, streets), keep=False,
    )  # fmt: skip
    record.state = ConflictRunState.FINISHED.value
    record.finished_at = now
    record.patch_count = report.count
    record.total_area_m2 = report.total_area_m2
    record.dropped_by_area = report.dropped_by_area
    record.dropped_by_width = report.dropped_by_width
    record.dropped_area_m2 = report.dropped_area_m2
    record.repaired = [{"layer": r.layer, "feature_id": int(r.feature_id)}
                       for r in report.repaired]  # fmt: skip
    session.flush()
    return record


_BATCH = 5_000


@cache
def _builds() -> dict[str, bool]:
    return {code: c.construction for code, c in landuse.load_classes().items()}


@cache
def difference_of(class_a: str, class_b: str) -> Difference:
    """Which side builds: by the construction flag (建设用地) of each side's class."""
    if class_a.startswith("line:") or class_b.startswith("line:"):
        return Difference.CONTROL_LINE
    a, b = _builds().get(class_a, False), _builds().get(class_b, False)
    if a and b:
        return Difference.BOTH_BUILD
    return Difference.A_BUILDS if a else Difference.B_BUILDS if b else Difference.NEITHER


def _store(
    session: Session, run_id: int, report: conflicts.ConflictReport, streets: _Streets
) -> None:
    """A (part of a) report's patches as rows of the run, in batches."""
    for start in range(0, len(report), _BATCH):
        stop = min(start + _BATCH, len(report))
        geoms = report.geometry[start:stop]
        labels = shapely.point_on_surface(geoms)
        xy = shapely.get_coordinates(labels)
        bounds = shapely.bounds(geoms)
        blobs = shapely.to_wkb(geoms)
        street = streets.of(labels)
        (ids,) = allocate_ids(session, [(Conflict, stop - start)])
        rows = []
        for k, i in enumerate(range(start, stop)):
            id_b = report.id_b[i]
            rows.append({
                "id": ids[k], "run_id": run_id, "rule": str(report.rule[i]),
                "layer_a": str(report.layer_a[i]), "feature_a": int(report.id_a[i]),
                "class_a": str(report.class_a[i]), "layer_b": str(report.layer_b[i]),
                "feature_b": None if id_b is None else int(id_b),
                "class_b": str(report.class_b[i]), "area_m2": float(report.area_m2[i]),
                "difference": difference_of(str(report.class_a[i]), str(report.class_b[i])).value,
                "geometry": blobs[k], "min_lon": float(bounds[k, 0]),
                "min_lat": float(bounds[k, 1]), "max_lon": float(bounds[k, 2]),
                "max_lat": float(bounds[k, 3]), "lon": float(xy[k, 0]), "lat": float(xy[k, 1]),
                "street_code": street[k], "state": ConflictState.OPEN.value, "case_id": None,
                "resolution": None, "resolution_note": "", "resolved_at": None,
                "resolved_by": None,
            })  # fmt: skip
        insert_rows(session, [(Conflict, rows)])


def get_run(session: Session, run_id: int | None = None) -> ConflictRun:
    """A run by id, or the latest finished one."""
    if run_id is None:
        found = session.scalar(select(ConflictRun).where(
            ConflictRun.state == ConflictRunState.FINISHED.value).order_by(ConflictRun.id.desc())
            .limit(1))  # fmt: skip
        if found is None:
            raise NotFound("no conflict run has finished yet")
        return found
    row = session.get(ConflictRun, run_id)
    if row is None:
        raise NotFound(f"no conflict run {run_id}")
    return row


def list_runs(session: Session, limit: int = 50) -> list[ConflictRun]:
    return list(session.scalars(select(ConflictRun).order_by(ConflictRun.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Summary:
    by_pair: list[dict[str, Any]]
    by_street: list[dict[str, Any]]


def _by_state() -> list[Any]:
    """Per state: how many patches, and their area."""
    counts = [func.sum(case((Conflict.state == s.value, 1), else_=0)) for s in ConflictState]
    areas = [func.sum(case((Conflict.state == s.value, Conflict.area_m2), else_=0.0))
             for s in ConflictState]  # fmt: skip
    return [*counts, *areas]


def _state_columns(row: Sequence[Any]) -> dict[str, Any]:
    """The columns of `_by_state` at the end of `row` as {state: n, state_area_m2: m²}."""
    n = len(ConflictState)
    tail = row[len(row) - 2 * n :]
    out: dict[str, Any] = {}
    for k, s in enumerate(ConflictState):
        out[s.value] = int(tail[k] or 0)
        out[f"{s.value}_area_m2"] = round(float(tail[n + k] or 0), 2)
    return out


def summarise(session: Session, run_id: int) -> Summary:
    """A run's patches and areas by rule and class pair, and by the street (街道) each
    patch's label point lies in, the largest first, with how many, and how much area, are
    open, with a case and resolved."""
    names = {**{c.code: c.name for c in landuse.load_classes().values()}, **LINE_CLASS_NAMES}
    area = func.sum(Conflict.area_m2)
    pair_cols = (Conflict.rule, Conflict.layer_a, Conflict.class_a, Conflict.layer_b,
                 Conflict.class_b, Conflict.difference)  # fmt: skip
    rows = session.execute(
        select(*pair_cols, func.count(), area, *_by_state())
        .where(Conflict.run_id == run_id).group_by(*pair_cols).order_by(area.desc())
    ).all()  # fmt: skip
    by_pair = [{
        "rule": r[0], "layer_a": r[1], "class_a": r[2], "class_a_name": names.get(r[2], ""),
        "layer_b": r[3], "class_b": r[4], "class_b_name": names.get(r[4], ""),
        "difference": r[5], "patches": r[6], "area_m2": round(float(r[7]), 2),
        **_state_columns(r),
    } for r in rows]  # fmt: skip
    streets = dict(session.execute(
        select(Region.code, Region.name).where(Region.level == RegionLevel.STREET.value)
    ).all())  # fmt: skip
    rows = session.execute(
        select(Conflict.street_code, func.count(), area, *_by_state())
        .where(Conflict.run_id == run_id).group_by(Conflict.street_code).order_by(area.desc())
    ).all()  # fmt: skip
    by_street = [{
        "street_code": r[0] or "", "street": streets.get(r[0] or "", OUTSIDE),
        "patches": r[1], "area_m2": round(float(r[2]), 2), **_state_columns(r),
    } for r in rows]  # fmt: skip
    return Summary(by_pair, by_street)


_PATCH_FIELDS = (
    "id", "rule", "difference", "area_m2", "layer_a", "feature_a", "class_a", "layer_b",
    "feature_b", "class_b", "street_code", "state", "case_id", "resolution",
)  # fmt: skip


def _patch_batches(session: Session, run_id: int, size: int) -> Iterator[list[Any]]:
    columns = [getattr(Conflict, f) for f in _PATCH_FIELDS]
    last = 0
    while True:
        rows = session.execute(
            select(*columns, Conflict.geometry).where(Conflict.run_id == run_id, Conflict.id > last)
            .order_by(Conflict.id).limit(size)
        ).all()  # fmt: skip
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]


def write_patches(session: Session, run_id: int, path: Path, *, batch: int = 20_000) -> int:
    """A run's patches with their area, sides, rule, street and state, to GeoPackage or
    GeoJSON (by suffix), lon/lat CGCS2000; read and written a batch at a time (a GeoPackage
    is appended to, so memory stays flat whatever the run's size)."""
    geojson = path.suffix.lower() in (".geojson", ".json")
    if path.exists():
        path.unlink()
    written = 0
    batches = _patch_batches(session, run_id, batch)
    if geojson:
        # GDAL's GeoJSON writer cannot append: one batch of everything.
        rows = [row for part in batches for row in part]
        batches = iter([rows] if rows else [])
    for rows in batches:
        columns = [np.array([r[k] for r in rows], dtype=object) for k in range(len(_PATCH_FIELDS))]
        for k, name in enumerate(_PATCH_FIELDS):
            if name in ("feature_b", "case_id"):  # nullable integers: -1 for none
                columns[k] = np.array([-1 if v is None else v for v in columns[k]], np.int64)
            elif name == "area_m2":
                columns[k] = columns[k].astype(np.float64)
            elif name in ("id", "feature_a"):
                columns[k] = columns[k].astype(np.int64)
            else:
                columns[k] = np.array(["" if v is None else str(v) for v in columns[k]], object)
        multi = shapely.multipolygons(shapely.get_parts(shapely.from_wkb(
            np.array([r[-1] for r in rows], dtype=object))).reshape(-1, 1))  # fmt: skip
        pyogrio.raw.write(path, shapely.to_wkb(multi), columns, list(_PATCH_FIELDS),
                          driver="GeoJSON" if geojson else "GPKG", geometry_type="MultiPolygon",
                          crs="EPSG:4490", layer="conflicts", append=written > 0)  # fmt: skip
        written += len(rows)
    if not written:
        empty = np.array([], dtype=object)
        driver = "GeoJSON" if geojson else "GPKG"
        pyogrio.raw.write(path, empty, [empty], ["rule"], layer="conflicts", crs="EPSG:4490",
                          driver=driver, geometry_type="MultiPolygon")  # fmt: skip
    return written


def write_summary(summary: Summary, path: Path) -> tuple[Path, Path]:
    """The summary by class pair to `path` (XLSX or CSV, by suffix), and by street beside it
    (`<name>-streets<suffix>`)."""
    states = [*(s.value for s in ConflictState), *(f"{s.value}_area_m2" for s in ConflictState)]
    write_table(path, ["rule", "difference", "layer_a", "class_a", "class_a_name", "layer_b",
                       "class_b", "class_b_name", "patches", "area_m2", *states],
                summary.by_pair)  # fmt: skip
    streets = path.with_name(f"{path.stem}-streets{path.suffix}")
    write_table(streets, ["street_code", "street", "patches", "area_m2", *states],
                summary.by_street)  # fmt: skip
    return path, streets


# -- the closed loop ------------------------------------------------------------------------


def get_conflict(session: Session, conflict_id: int, *, lock: bool = False) -> Conflict:
    query = select(Conflict).where(Conflict.id == conflict_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"no conflict patch {conflict_id}")
    return row


def _describe(row: Conflict) -> str:
    names = {c.code: c.name for c in landuse.load_classes().values()}

    def side(layer: str, code: str) -> str:
        if code.startswith("line:"):
            return f"{layer}（{LINE_CLASS_NAMES.get(code, code)}）"
        return f"{layer}「{code} {names.get(code, '')}」".replace(" 」", "」")

    a, b = side(row.layer_a, row.class_a), side(row.layer_b, row.class_b)
    # An outside patch is the part of A beyond all of B (e.g. beyond the urban boundary).
    what = f"{a}与{b}冲突" if row.feature_b is not None else f"{a}位于{b}以外"
    return (f"【多规合一·规划冲突图斑】{what}（规则：{row.rule}），"
            f"面积 {row.area_m2:,.1f} m²（{row.area_m2 / 1e4:.4f} 公顷）。"
            f"比对批次 {row.run_id}，图斑编号 {row.id}。")  # fmt: skip


def open_case(
    session: Session, env: IntakeEnv, actor: Actor, conflict_id: int, *, now: datetime
) -> int:
    """Hand a conflict patch to the planning department as a case (class E0606, routed by
    the automation rule) at the patch's label point. Asked again, the same case."""
    row = get_conflict(session, conflict_id, lock=True)
    if row.case_id is not None:
        return row.case_id
    if row.state == ConflictState.RESOLVED.value:
        raise ConflictError(f"conflict patch {conflict_id} is resolved already")
    event = EventIn(
        source=SOURCE, external_id=f"conflict-{row.id}", kind=SourceKind.PLANNING,
        location=Location(lon=row.lon, lat=row.lat), occurred_at=now,
        description=_describe(row)[:2000], class_code=CONFLICT_CLASS, confidence=1.0,
    )  # fmt: skip
    signal = Signal(index=0, event=event, source=SOURCE, reporter_id=actor.id,
                    reporter_name=actor.name, reporter_role="planner")  # fmt: skip
    (result,) = intake(session, env, [signal])
    if result.case_id is None:
        problems = "; ".join(e.get("message", "") for e in result.errors)
        raise Invalid(f"the case could not be opened: {problems}")
    row.case_id = result.case_id
    row.state = ConflictState.CASE_OPENED.value
    return result.case_id


def resolve(
    session: Session,
    actor: Actor,
    conflict_id: int,
    resolution: Resolution,
    note: str,
    *,
    now: datetime,
) -> Conflict:
    """Record how a patch was settled; recorded once (a second, different answer is a
    conflict: a plan is not revised twice over the same patch)."""
    row = get_conflict(session, conflict_id, lock=True)
    if row.state == ConflictState.RESOLVED.value:
        if row.resolution == resolution.value and row.resolution_note == note:
            return row
        settled = RESOLUTION_NAMES_ZH[Resolution(row.resolution or "")]
        raise ConflictError(f"conflict patch {conflict_id} is resolved already ({settled})")
    if not note.strip():
        raise Invalid("note: say how it was settled (the revised plan, the approval, …)",
                      errors=[FieldProblem("note", "required")])  # fmt: skip
    row.state = ConflictState.RESOLVED.value
    row.resolution = resolution.value
    row.resolution_note = note.strip()
    row.resolved_at = now
    row.resolved_by = actor.name
    return row
