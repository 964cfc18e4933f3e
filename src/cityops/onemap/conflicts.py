"""Planning conflicts (多规合一差异图斑): where two plans give the same land classes that a rule
says cannot coexist.

Every pair of layers is overlaid (A∩B); a piece is a conflict when `rule_for(class_a,
class_b)` names a rule. Pieces are single polygons (a ledger patch, 图斑, is one polygon), in
CGCS2000 lon/lat (EPSG:4490), with their ellipsoidal area on GRS80 (the land-survey rules'
图斑椭球面积). Slivers from digitising differences are dropped by a minimum area and a minimum
width (a negative buffer in the local Gauss-Krüger zone) and counted, never silently.

Scale: a city's layers hold millions of polygons. Space is cut into a grid of chunks; each
candidate pair of features is assigned to exactly one chunk, the one holding the lower-left
corner of the intersection of their bounding boxes (the "reference point" rule of
partitioned spatial joins). We do not clip pieces to the chunk: a clipped patch would be split
at every grid line, its halves judged as slivers on their own, and the result would depend on
the grid. With the reference point, the chunked result is the plain overlay's, piece for
piece. A chunk's work is one STRtree query and one vectorised `shapely.intersection` over its
candidate pairs; finished chunks can be written to a checkpoint directory so that a rerun
skips them.

No database and no I/O except the optional checkpoint files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

LONLAT_EPSG = 4490
_GEOGRAPHIC = {4326, 4490}  # CGCS2000 and WGS 84 agree to centimetres: the same frame here
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


class RuleLike(Protocol):
    """What `rule_for` returns: anything with a name (landuse.Rule in production)."""

    @property
    def name(self) -> str: ...


RuleFor = Callable[[str, str], RuleLike | None]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Layer:
    """One plan: parallel arrays of polygons, class codes and feature ids, in one CRS."""

    name: str
    geometries: NDArray[np.object_]
    classes: NDArray[Any]
    ids: NDArray[Any]
    epsg: int = LONLAT_EPSG

    def __post_init__(self) -> None:
        n = len(self.geometries)
        if len(self.classes) != n or len(self.ids) != n:
            raise ValueError(f"layer {self.name!r}: geometries, classes and ids differ in length")


@dataclass(frozen=True)
class Tolerances:
    """Sliver thresholds: a patch smaller than `min_area_m2` or narrower than `min_width_m`
    everywhere is a digitising artefact, not a conflict."""

    min_area_m2: float = 1.0
    min_width_m: float = 0.5


@dataclass(frozen=True)
class RepairedFeature:
    layer: str
    feature_id: Any


@dataclass(frozen=True)
class ConflictPatch:
    geometry: shapely.Polygon
    area_m2: float
    layer_a: str
    id_a: Any
    class_a: str
    layer_b: str
    id_b: Any
    class_b: str
    rule: str


@dataclass
class ConflictReport:
    """Columnar (one array per field): a city has hundreds of thousands of patches, and
    arrays cost a fraction of one object per patch. `patches()` gives them one by one."""

    geometry: NDArray[np.object_]
    area_m2: NDArray[np.float64]
    layer_a: NDArray[np.object_]
    id_a: NDArray[Any]
    class_a: NDArray[Any]
    layer_b: NDArray[np.object_]
    id_b: NDArray[Any]
    class_b: NDArray[Any]
    rule: NDArray[np.object_]
    dropped_by_area: int
    dropped_by_width: int
    dropped_area_m2: float
    repaired: list[RepairedFeature]
    chunks: int
    working_epsg: int
    # The sum is order-independent (fsum): a resumed run gives the same total to the bit.
    total_area_m2: float = field(init=False)

    def __post_init__(self) -> None:
        self.total_area_m2 = math.fsum(self.area_m2.tolist())

    def __len__(self) -> int:
        return len(self.area_m2)

    def patches(self) -> Iterator[ConflictPatch]:
        for i in range(len(self)):
            yield ConflictPatch(
                self.geometry[i], float(self.area_m2[i]), self.layer_a[i], self.id_a[i],
                self.class_a[i], self.layer_b[i], self.id_b[i], self.class_b[i], self.rule[i],
            )  # fmt: skip


# --- coordinates and areas ---------------------------------------------------------------


def gauss_kruger_epsg(central_lon: float) -> int:
    """The CGCS2000 3° Gauss-Krüger CRS (central meridian only, EPSG:4534-4554) whose zone
    holds `central_lon`: zone n spans 3n ± 1.5 °E, n = 25 (75°E) … 45 (135°E)."""
    zone = math.floor((central_lon + 1.5) / 3)
    if not 25 <= zone <= 45:
        raise ValueError(f"longitude {central_lon} is outside China's 3° zones")
    return 4534 + zone - 25


def _transformer(source: int, target: int) -> Transformer:
    # Gauss-Krüger CRSs list northing first and EPSG:4490 latitude first: always_xy.
    return Transformer.from_crs(CRS.from_epsg(source), CRS.from_epsg(target), always_xy=True)


def reproject(geoms: NDArray[np.object_], transformer: Transformer) -> NDArray[np.object_]:
    """All coordinates of all geometries through one transformer call."""

    def apply(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out: NDArray[np.object_] = shapely.transform(geoms, apply)
    return out


def ellipsoidal_area(
    polygons: NDArray[np.object_], geod: Geod | None = None
) -> NDArray[np.float64]:
    """Area in m² on GRS80 of lon/lat (multi)polygons, holes subtracted: pyproj's geodesic
    polygon area, ring by ring (orientation-free: exteriors add, holes subtract)."""
    geod = geod or Geod(ellps="GRS80")
    polygons = np.asarray(polygons, dtype=object)
    parts, part_of = shapely.get_parts(polygons, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    # get_rings lists each polygon's exterior first, then its holes.
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_of[1:] != ring_of[:-1]
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    ends = np.searchsorted(coord_of, np.arange(len(rings)), side="right")
    starts = np.concatenate([[0], ends])[:-1].astype(np.int64)
    lon = np.ascontiguousarray(coords[:, 0])
    lat = np.ascontiguousarray(coords[:, 1])
    ring_area = np.empty(len(rings))
    # One C call per ring: pyproj has no vectorised polygon area. Its public method copies
    # both arrays first, which costs 40 % of the time on small rings (100k rings/s against
    # 170k); the C method behind it takes contiguous float64 arrays as they are, and runs
    # without the GIL. The public one stays as the fallback should pyproj rename it.
    area_of = getattr(geod, "_polygon_area_perimeter", geod.polygon_area_perimeter)
    # The last vertex repeats the first; pyproj closes rings itself, so it is left out.
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        ring_area[k] = abs(area_of(lon[s : e - 1], lat[s : e - 1])[0])
    signed = np.where(exterior, ring_area, -ring_area)
    out = np.zeros(len(polygons))
    np.add.at(out, part_of[ring_of], signed)
    return out


# --- input preparation --------------------------------------------------------------------


@dataclass
class _Prepared:
    name: str
    geoms: NDArray[np.object_]  # lon/lat, valid
    bounds: NDArray[np.float64]
    class_code: NDArray[np.intp]  # index into `class_names`
    class_names: NDArray[Any]
    ids: NDArray[Any]
    tree: shapely.STRtree


def _prepare(layer: Layer, repaired: list[RepairedFeature]) -> _Prepared:
    geoms = np.asarray(layer.geometries, dtype=object)
    if layer.epsg not in _GEOGRAPHIC:
        geoms = reproject(geoms, _transformer(layer.epsg, LONLAT_EPSG))
    kinds = shapely.get_type_id(geoms)
    bad_kind = ~np.isin(kinds, [-1, _POLYGON, _MULTIPOLYGON])
    if bad_kind.any():
        raise ValueError(
            f"layer {layer.name!r}: features {layer.ids[bad_kind][:5]} are not polygons"
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    if len(invalid):
        geoms = geoms.copy()
        for i in invalid.tolist():
            geoms[i] = _repair(geoms[i])
            repaired.append(RepairedFeature(layer.name, layer.ids[i]))
    class_names, class_code = np.unique(np.asarray(layer.classes), return_inverse=True)
    return _Prepared(
        layer.name, geoms, shapely.bounds(geoms), class_code, class_names, layer.ids,
        shapely.STRtree(geoms),
    )  # fmt: skip


def _repair(geom: Any) -> Any:
    """Make valid part by part: MakeValid on a whole large multipolygon can be tens of times
    slower than on its parts, and a bad part should not drag the others through it."""
    parts = shapely.get_parts(geom)
    fixed = shapely.make_valid(parts[~shapely.is_valid(parts)])
    polys = np.concatenate([parts[shapely.is_valid(parts)], _polygonal(fixed)])
    # The parts may overlap once repaired (or did before): their union is valid.
    return shapely.union_all(polys)


def _polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """The polygons inside geometries that may be collections (an overlay of two polygons that
    share an edge returns the edge as a line beside the polygons)."""
    parts = shapely.get_parts(geoms)
    while True:
        kinds = shapely.get_type_id(parts)
        nested = (kinds == _MULTIPOLYGON) | (kinds == _COLLECTION)
        if not nested.any():
            break
        parts = np.concatenate([parts[~nested], shapely.get_parts(parts[nested])])
    out: NDArray[np.object_] = parts[shapely.get_type_id(parts) == _POLYGON]
    return out


def _rule_matrix(
    a: _Prepared, b: _Prepared, rule_for: RuleFor, rule_names: dict[str, int]
) -> NDArray[np.intp]:
    """rule_for over the distinct class pairs only (tens, not millions, of calls); -1 means
    no conflict."""
    out = np.full((len(a.class_names), len(b.class_names)), -1, dtype=np.intp)
    for i, ca in enumerate(a.class_names.tolist()):
        for j, cb in enumerate(b.class_names.tolist()):
            rule = rule_for(str(ca), str(cb))
            if rule is not None:
                out[i, j] = rule_names.setdefault(rule.name, len(rule_names))
    return out


# --- chunks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    @property
    def cells(self) -> int:
        return self.nx * self.ny

    def box(self, cell: int) -> shapely.Polygon:
        cx, cy = cell % self.nx, cell // self.nx
        x, y = self.x0 + cx * self.dx, self.y0 + cy * self.dy
        return shapely.box(x, y, x + self.dx, y + self.dy)

    def cell_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
        # Half-open cells, the last row and column closed: each point in exactly one cell.
        cx = np.clip(np.floor((x - self.x0) / self.dx), 0, self.nx - 1).astype(np.intp)
        cy = np.clip(np.floor((y - self.y0) / self.dy), 0, self.ny - 1).astype(np.intp)
        out: NDArray[np.intp] = cy * self.nx + cx
        return out


def _grid(layers: Sequence[_Prepared], features_per_chunk: int) -> _Grid:
    bounds = np.vstack([p.bounds for p in layers])
    x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    total = sum(len(p.geoms) for p in layers)
    chunks = max(1, math.ceil(total / max(1, features_per_chunk)))
    # Near-square cells on the ground: a degree of longitude is cos(lat) of one of latitude.
    aspect = (x1 - x0) * math.cos(math.radians((y0 + y1) / 2)) / max(y1 - y0, 1e-12)
    nx = max(1, round(math.sqrt(chunks * aspect)))
    ny = max(1, math.ceil(chunks / nx))
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    return _Grid(float(x0), float(y0), width / nx, height / ny, nx, ny)


@dataclass
class _ChunkResult:
    geometry: NDArray[np.object_]
    area: NDArray[np.float64]
    layer_a: NDArray[np.int16]
    index_a: NDArray[np.int64]
    layer_b: NDArray[np.int16]
    index_b: NDArray[np.int64]
    rule: NDArray[np.int32]
    dropped_by_area: int
    dropped_by_width: int
    dropped_area: float


class _Engine:
    def __init__(
        self,
        layers: list[_Prepared],
        rule_for: RuleFor,
        tolerances: Tolerances,
        grid: _Grid,
        working_epsg: int,
    ) -> None:
        self.layers = layers
        self.tolerances = tolerances
        self.grid = grid
        self.working_epsg = working_epsg
        self.rule_names: dict[str, int] = {}
        self.pairs = [
            (i, j, _rule_matrix(layers[i], layers[j], rule_for, self.rule_names))
            for i in range(len(layers))
            for j in range(i + 1, len(layers))
        ]
        # pyproj transformers must not be shared between threads: one per thread.
        self._local = threading.local()

    def _to_working(self) -> Transformer:
        t: Transformer | None = getattr(self._local, "transformer", None)
        if t is None:
            t = self._local.transformer = _transformer(LONLAT_EPSG, self.working_epsg)
        return t

    def chunk(self, cell: int) -> _ChunkResult:
        box = self.grid.box(cell)
        pieces: list[NDArray[np.object_]] = []
        meta: list[NDArray[np.int64]] = []
        for pair_no, (i, j, rules) in enumerate(self.pairs):
            a, b = self.layers[i], self.layers[j]
            in_a = a.tree.query(box)
            if not len(in_a):
                continue
            # Candidate pairs by bounding box (a query with the intersects predicate costs
            # more than the intersections it saves: touching pairs are cheap to intersect).
            qa, qb = b.tree.query(a.geoms[in_a])
            ia = in_a[qa]
            # Each pair belongs to the one cell holding the lower-left corner of the
            # intersection of the two bounding boxes.
            rx = np.maximum(a.bounds[ia, 0], b.bounds[qb, 0])
            ry = np.maximum(a.bounds[ia, 1], b.bounds[qb, 1])
            rule = rules[a.class_code[ia], b.class_code[qb]]
            keep = (self.grid.cell_of(rx, ry) == cell) & (rule >= 0)
            ia, ib, rule = ia[keep], qb[keep], rule[keep]
            # Classes first: pairs that cannot conflict are never tested nor intersected.
            # A third of the pairs whose boxes meet do not touch (neighbouring cells' boxes
            # overlap), and the exact test costs a fifth of an intersection that finds
            # nothing (measured: 50k×50k Voronoi cells, 4.99 s → 0.68 + 3.85 s).
            hit = shapely.intersects(a.geoms[ia], b.geoms[ib])
            ia, ib, rule = ia[hit], ib[hit], rule[hit]
            if not len(ia):
                continue
            inter = shapely.intersection(a.geoms[ia], b.geoms[ib])
            parts, part_of = shapely.get_parts(inter, return_index=True)
            kinds = shapely.get_type_id(parts)
            if ((kinds == _COLLECTION) | (kinds == _MULTIPOLYGON)).any():
                parts, part_of = self._flatten(inter)
                kinds = shapely.get_type_id(parts)
            poly = kinds == _POLYGON
            parts, part_of = parts[poly], part_of[poly]
            pieces.append(parts)
            meta.append(
                np.column_stack([
                    np.full(len(parts), pair_no), ia[part_of], ib[part_of], rule[part_of]
                ]).astype(np.int64)
            )  # fmt: skip
        if not pieces:
            return self._empty()
        geoms = np.concatenate(pieces)
        rows = np.concatenate(meta)
        return self._filter(geoms, rows)

    @staticmethod
    def _flatten(inter: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
        parts, part_of = shapely.get_parts(inter, return_index=True)
        while True:
            kinds = shapely.get_type_id(parts)
            nested = (kinds == _COLLECTION) | (kinds == _MULTIPOLYGON)
            if not nested.any():
                return parts, part_of
            sub, sub_of = shapely.get_parts(parts[nested], return_index=True)
            parts = np.concatenate([parts[~nested], sub])
            part_of = np.concatenate([part_of[~nested], part_of[nested][sub_of]])

    def _filter(self, geoms: NDArray[np.object_], rows: NDArray[np.int64]) -> _ChunkResult:
        tol = self.tolerances
        area = ellipsoidal_area(geoms)
        # Touching features give zero-area pieces: not slivers, not conflicts, not counted.
        touching = area <= 0
        small = ~touching & (area < tol.min_area_m2)
        keep = ~touching & ~small
        thin = np.zeros(len(geoms), dtype=bool)
        if tol.min_width_m > 0 and keep.any():
            # Width is a length: test it in metres, in the data's own Gauss-Krüger zone.
            idx = np.flatnonzero(keep)
            local = reproject(geoms[idx], self._to_working())
            # A negative buffer costs ~6 µs a patch. A patch with a point farther than
            # min_width/2 from its boundary survives it for sure; GEOS's point on surface
            # (middle of the widest horizontal section) is such a point for nine patches in
            # ten, so only the rest is buffered.
            half = tol.min_width_m / 2
            inside = shapely.point_on_surface(local)
            doubt = shapely.distance(inside, shapely.boundary(local)) <= half
            eroded = shapely.buffer(local[doubt], -half)
            thin[idx[doubt]] = shapely.is_empty(eroded)
        keep &= ~thin
        dropped = math.fsum(area[small | thin].tolist())
        layer_of = np.array([[i, j] for i, j, _ in self.pairs], dtype=np.int16)
        rows = rows[keep]
        return _ChunkResult(
            geoms[keep], area[keep], layer_of[rows[:, 0], 0], rows[:, 1],
            layer_of[rows[:, 0], 1], rows[:, 2], rows[:, 3].astype(np.int32),
            int(small.sum()), int(thin.sum()), dropped,
        )  # fmt: skip

    @staticmethod
    def _empty() -> _ChunkResult:
        i16, i64 = np.empty(0, np.int16), np.empty(0, np.int64)
        return _ChunkResult(
            np.empty(0, object), np.empty(0), i16, i64, i16, i64, np.empty(0, np.int32), 0, 0, 0.0
        )


# --- checkpoints ----------------------------------------------------------------------------


class _Checkpoint:
    """One .npz per finished chunk, written to a temporary name and renamed: a run stopped
    mid-write leaves no half chunk behind. A fingerprint of the inputs and the grid guards
    against resuming a different job into the same directory."""

    def __init__(self, directory: Path, fingerprint: dict[str, Any]) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        meta = directory / "job.json"
        if meta.exists():
            if json.loads(meta.read_text()) != fingerprint:
                raise ValueError(f"{directory} holds the checkpoint of another job")
        else:
            meta.write_text(json.dumps(fingerprint))

    def _path(self, cell: int) -> Path:
        return self.dir / f"chunk-{cell:06d}.npz"

    def load(self, cell: int) -> _ChunkResult | None:
        path = self._path(cell)
        if not path.exists():
            return None
        with np.load(path) as z:
            wkb, offsets = z["wkb"].tobytes(), z["offsets"]
            blobs = [
                wkb[s:e] for s, e in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
            ]
            counts = z["counts"]
            return _ChunkResult(
                shapely.from_wkb(np.array(blobs, dtype=object)), z["area"], z["layer_a"],
                z["index_a"], z["layer_b"], z["index_b"], z["rule"], int(counts[0]),
                int(counts[1]), float(z["dropped_area"][0]),
            )  # fmt: skip

    def save(self, cell: int, r: _ChunkResult) -> None:
        blobs = shapely.to_wkb(r.geometry).tolist() if len(r.geometry) else []
        offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs], dtype=np.int64)])
        tmp = self.dir / f".chunk-{cell:06d}.tmp.npz"
        np.savez(
            tmp, wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets=offsets,
            area=r.area, layer_a=r.layer_a, index_a=r.index_a, layer_b=r.layer_b,
            index_b=r.index_b, rule=r.rule,
            counts=np.array([r.dropped_by_area, r.dropped_by_width], dtype=np.int64),
            dropped_area=np.array([r.dropped_area]),
        )  # fmt: skip
        os.replace(tmp, self._path(cell))


# --- the entry point -------------------------------------------------------------------------


def find_conflicts(
    layers: Sequence[Layer],
    rule_for: RuleFor,
    *,
    tolerances: Tolerances | None = None,
    features_per_chunk: int = 20_000,
    checkpoint_dir: Path | None = None,
    progress: Progress | None = None,
    threads: int = 1,
) -> ConflictReport:
    """Conflict patches between every pair of `layers` (A∩B, classes judged by `rule_for`
    in the layers' order). `features_per_chunk` (all layers counted) sizes the grid;
    `progress(done, total)` is called after each chunk (and may raise to stop: with a
    `checkpoint_dir`, a rerun resumes where it stopped)."""
    if len(layers) < 2:
        raise ValueError("conflicts need at least two layers")
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must differ: {names}")
    tolerances = tolerances or Tolerances()
    repaired: list[RepairedFeature] = []
    prepared = [_prepare(layer, repaired) for layer in layers]
    grid = _grid(prepared, features_per_chunk)
    working_epsg = gauss_kruger_epsg(grid.x0 + grid.dx * grid.nx / 2)
    engine = _Engine(prepared, rule_for, tolerances, grid, working_epsg)
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = _Checkpoint(
            Path(checkpoint_dir),
            {
                "layers": [[p.name, len(p.geoms), _digest(p)] for p in prepared],
                "grid": [grid.x0, grid.y0, grid.dx, grid.dy, grid.nx, grid.ny],
                "tolerances": [tolerances.min_area_m2, tolerances.min_width_m],
                "rules": sorted(engine.rule_names, key=engine.rule_names.__getitem__),
                "matrices": [m.tolist() for _, _, m in engine.pairs],
            },
        )
    results: dict[int, _ChunkResult] = {}
    todo: list[int] = []
    for cell in range(grid.cells):
        done = checkpoint.load(cell) if checkpoint else None
        if done is None:
            todo.append(cell)
        else:
            results[cell] = done

    def finish(cell: int, result: _ChunkResult) -> None:
        if checkpoint:
            checkpoint.save(cell, result)
        results[cell] = result
        if progress:
            progress(len(results), grid.cells)

    if threads <= 1:
        for cell in todo:
            finish(cell, engine.chunk(cell))
    else:
        # A bounded window of chunks in flight keeps memory flat; Shapely and GEOS release
        # the GIL inside the vectorised calls, so two threads overlap well.
        with ThreadPoolExecutor(threads) as pool:
            window: list[tuple[int, Future[_ChunkResult]]] = []
            queue = iter(todo)
            try:
                for cell in queue:
                    window.append((cell, pool.submit(engine.chunk, cell)))
                    if len(window) >= 2 * threads:
                        c, f = window.pop(0)
                        finish(c, f.result())
                for c, f in window:
                    finish(c, f.result())
            except BaseException:
                for _, f in window:
                    f.cancel()
                raise
    return _report(prepared, engine, [results[c] for c in range(grid.cells)], repaired)


def _digest(layer: _Prepared) -> str:
    """A cheap fingerprint of a layer's content (bounds and classes, ~50 ms a million
    features): enough to refuse resuming a job over edited data."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(layer.bounds).tobytes())
    h.update(layer.class_code.astype(np.int64).tobytes())
    h.update("\x00".join(map(str, layer.class_names.tolist())).encode())
    return h.hexdigest()


def _report(
    layers: list[_Prepared],
    engine: _Engine,
    chunks: list[_ChunkResult],
    repaired: list[RepairedFeature],
) -> ConflictReport:
    def cat(attr: str) -> NDArray[Any]:
        return np.concatenate([getattr(c, attr) for c in chunks])

    layer_a, index_a, layer_b, index_b = (
        cat("layer_a"),
        cat("index_a"),
        cat("layer_b"),
        cat("index_b"),
    )
    names = np.array([p.name for p in layers], dtype=object)
    rule_names = np.array(
        sorted(engine.rule_names, key=engine.rule_names.__getitem__) or [""], dtype=object
    )

    def side(layer: NDArray[np.int16], index: NDArray[np.int64], what: str) -> NDArray[Any]:
        out = np.empty(len(index), dtype=object)
        for k, p in enumerate(layers):
            mine = layer == k
            values = (
                p.ids[index[mine]] if what == "ids" else p.class_names[p.class_code[index[mine]]]
            )
            out[mine] = values
        return out

    return ConflictReport(
        geometry=cat("geometry"), area_m2=cat("area"),
        layer_a=names[layer_a], id_a=side(layer_a, index_a, "ids"),
        class_a=side(layer_a, index_a, "classes"),
        layer_b=names[layer_b], id_b=side(layer_b, index_b, "ids"),
        class_b=side(layer_b, index_b, "classes"),
        rule=rule_names[cat("rule")],
        dropped_by_area=sum(c.dropped_by_area for c in chunks),
        dropped_by_width=sum(c.dropped_by_width for c in chunks),
        dropped_area_m2=math.fsum(c.dropped_area for c in chunks),
        repaired=repaired, chunks=len(chunks), working_epsg=engine.working_epsg,
    )  # fmt: skip
