"""The demo district's one map: two plans that disagree, the three control lines, and a
comparison of them with a few conflicts handed to the planning department.

Made up but shaped like the real thing (渝中半岛): a wooded ridge (鹅岭–佛图关) along the
peninsula's western spine, a river margin all round, old industry at the western tip, the
business centre in the east, housing in between. The land-use master plan (土地利用总体规划,
GB/T 21010-2017 codes) and the urban master plan (城市总体规划, GB 50137-2011 codes) cut the
land into different parcels and want different things in places: the urban plan builds on
the ridge and the river margin, where the land plan keeps forest, parks and water. Every
plan is written to a GeoPackage and imported the way a district imports its own, so the
demo runs the same code as production.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely.geometry import LineString, MultiPoint, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.bootstrap import Context
from cityops.cases.workflow import Actor
from cityops.demo.geography import peninsula
from cityops.onemap import service
from cityops.onemap.io import LayerImport, import_layer
from cityops.onemap.models import Conflict, ControlLine, LayerKind, Resolution

Progress = Callable[[int, int, str], None]

# Zones of the peninsula, by what each plan wants there: (code, weight) choices.
LAND_PLAN = {  # GB/T 21010-2017
    "ridge": [("0301", 8), ("0810", 2)],
    "margin": [("1101", 4), ("1106", 2), ("0810", 4)],
    "industry": [("0601", 7), ("0701", 3)],
    "centre": [("0501", 3), ("0505", 2), ("0701", 3), ("0801", 1), ("0805", 1)],
    "town": [("0701", 6), ("0803", 1), ("0805", 1), ("0801", 1), ("1004", 1), ("0810", 1)],
    "farm": [("0101", 1)],
}
URBAN_PLAN = {  # GB 50137-2011
    "ridge": [("G1", 7), ("R2", 2), ("B1", 1)],
    "margin": [("G2", 5), ("E1", 3), ("B1", 2)],
    "industry": [("M1", 4), ("R2", 4), ("B2", 2)],
    "centre": [("B1", 4), ("B2", 2), ("R2", 3), ("A1", 1)],
    "town": [("R2", 6), ("A3", 1), ("A5", 1), ("S1", 1), ("G1", 1)],
    "farm": [("M1", 1)],
}
CONFLICT_LAYERS = ("land-plan-2020", "urban-plan-2017", "ecological-red-line",
                   "permanent-farmland", "urban-boundary")  # fmt: skip


@dataclass(frozen=True)
class Zones:
    ridge: BaseGeometry
    margin: BaseGeometry
    farm: BaseGeometry
    outline: BaseGeometry

    def of(self, point: shapely.Point) -> str:
        x = point.x
        if self.farm.contains(point):
            return "farm"
        if self.ridge.contains(point):
            return "ridge"
        if self.margin.contains(point):
            return "margin"
        if x < 106.533:
            return "industry"
        return "centre" if x > 106.574 else "town"


def zones() -> Zones:
    outline = peninsula()
    ridge = LineString([(106.526, 29.5520), (106.545, 29.5555), (106.562, 29.5585)])
    ridge_band = shapely.intersection(ridge.buffer(0.0022), outline)
    margin = outline.difference(outline.buffer(-0.0011))
    west = outline.bounds[0]
    farm = box(west + 0.0016, 29.5475, west + 0.0046, 29.5495).intersection(outline)
    return Zones(ridge_band, margin.difference(ridge_band), farm, outline)


def parcels(outline: BaseGeometry, count: int, rng: random.Random) -> list[Polygon]:
    """A Voronoi cut of the outline from `count` random seeds: parcels of a few hectares."""
    minx, miny, maxx, maxy = outline.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if outline.contains(shapely.Point(x, y)):
            points.append((x, y))
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(points), extend_to=outline))
    out = []
    for cell in shapely.intersection(cells, outline):
        if cell.is_empty:
            continue
        if cell.geom_type != "Polygon":
            cell = max(shapely.get_parts(cell), key=lambda p: p.area)
        if cell.geom_type == "Polygon":
            out.append(cell)
    return out


def _choose(choices: Sequence[tuple[str, int]], rng: random.Random) -> str:
    codes, weights = zip(*choices, strict=True)
    return str(rng.choices(codes, weights)[0])


def _write(path: Path, geoms: Sequence[BaseGeometry], fields: dict[str, list[str]]) -> Path:
    wkb = np.array([shapely.to_wkb(shapely.multipolygons(shapely.get_parts(g))) for g in geoms],
                   dtype=object)  # fmt: skip
    pyogrio.raw.write(path, wkb, [np.array(v, dtype=object) for v in fields.values()],
                      list(fields), geometry_type="MultiPolygon", crs="EPSG:4490",
                      driver="GPKG")  # fmt: skip
    return path


def add_plans(
    context: Context,
    session: Session,
    rng: random.Random,
    *,
    now: datetime,
    planner: Actor,
    progress: Progress | None = None,
) -> int:
    """Import the demo's layers, compare them, open cases for the largest conflicts and
    settle two; returns the run's id."""
    z = zones()
    land = parcels(z.outline, 900, rng)
    urban = parcels(z.outline, 1100, rng)
    tasks = 7
    with tempfile.TemporaryDirectory(prefix="cityops-demo-") as folder:
        base = Path(folder)

        def classes(cells: list[Polygon], table: dict[str, list[tuple[str, int]]]) -> list[str]:
            return [_choose(table[z.of(c.representative_point())], rng) for c in cells]

        land_codes = classes(land, LAND_PLAN)
        urban_codes = classes(urban, URBAN_PLAN)
        layers = [
            (_write(base / "land.gpkg", land, {"DLBM": land_codes}),
             LayerImport("land-plan-2020", "土地利用总体规划（2006—2020年）", LayerKind.PLAN, None,
                         "DLBM", "gbt21010_2017", note="区自然资源部门，规划期末用途")),
            (_write(base / "urban.gpkg", urban, {"YDDM": urban_codes}),
             LayerImport("urban-plan-2017", "城市总体规划（2017年修改）", LayerKind.PLAN, None,
                         "YDDM", "gb50137_2011", note="区规划部门，规划用地")),
            (_write(base / "red.gpkg", [z.ridge], {"MC": ["鹅岭—佛图关生态保护红线"]}),
             LayerImport("ecological-red-line", "生态保护红线", LayerKind.CONTROL_LINE,
                         ControlLine.ECOLOGICAL_RED_LINE)),
            (_write(base / "farm.gpkg", [z.farm], {"MC": ["化龙桥永久基本农田"]}),
             LayerImport("permanent-farmland", "永久基本农田", LayerKind.CONTROL_LINE,
                         ControlLine.PERMANENT_FARMLAND)),
            (_write(base / "boundary.gpkg", [_boundary(z)], {"MC": ["中心城区城镇开发边界"]}),
             LayerImport("urban-boundary", "城镇开发边界", LayerKind.CONTROL_LINE,
                         ControlLine.URBAN_BOUNDARY)),
        ]  # fmt: skip
        for done, (path, spec) in enumerate(layers, start=1):
            import_layer(session, path, spec, now=now, by="demo")
            if progress:
                progress(done, tasks, "one map")
    run = service.run(session, CONFLICT_LAYERS, now=now, by="demo", note="演示：两规与三线比对")
    if progress:
        progress(tasks - 1, tasks, "one map")
    largest = list(session.scalars(select(Conflict).where(Conflict.run_id == run.id)
                                   .order_by(Conflict.area_m2.desc()).limit(6)))  # fmt: skip
    env = context.intake_env(session, now)
    for row in largest:
        service.open_case(session, env, planner, row.id, now=now)
    for row, (resolution, note) in zip(largest[-2:], [
        (Resolution.REVISE_B, "城市总体规划局部修改，该地块调整为公园绿地"),
        (Resolution.DATA_ERROR, "两规底图坐标转换误差，核实后不构成冲突"),
    ], strict=True):  # fmt: skip
        service.resolve(session, planner, row.id, resolution, note, now=now)
    if progress:
        progress(tasks, tasks, "one map")
    return run.id


def _boundary(z: Zones) -> BaseGeometry:
    """The urban development boundary: the built peninsula, with the wooded ridge cut out
    as a hole, without the farmland and the western river margin."""
    west_margin = z.margin.intersection(box(-180, -90, 106.540, 90))
    kept = z.outline.difference(z.ridge).difference(z.farm).difference(west_margin)
    # Cutting can leave crumbs along the edges: the boundary is the main piece.
    main: BaseGeometry = max(shapely.get_parts(kept), key=lambda p: p.area)
    return main
