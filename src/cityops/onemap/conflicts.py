"""Planning conflicts (多规合一差异图斑): where two plans, or a plan and a control line, give
the same place uses that a rule says cannot coexist.

Two kinds of rule. An overlap rule judges A∩B: every pair of layers is overlaid, and a piece
is a conflict when `rule_for(class_a, class_b)` names such a rule (overlap rules read the
same either way round). An outside rule judges A−B: the part of a feature of layer A that
lies outside the union of layer B's features, as with urban construction land outside the
urban development boundary (城镇开发边界外的城镇建设用地). A rule says which it is by a
`kind` attribute, "overlap" when it has none. An outside rule is directional, so `rule_for`
is asked both ways round for every pair of layers: `rule_for(a, b)` of kind outside means
"the part of class a outside class b".

Pieces are single polygons (a ledger patch, 图斑, is one polygon), in CGCS2000 lon/lat (EPSG:
4490), with their ellipsoidal area on GRS80 (the land-survey rules' 图斑椭球面积). Slivers from
digitising differences are dropped by a minimum area and a minimum width (a negative buffer)
and counted, never silently.

Areas and widths: a chunk's pieces go through one vectorised projection into an equal-area
projection on GRS80 fitted to the data's extent (Albers, standard parallels at 1/6 and 5/6
of its latitudes), and the areas are summed from the projected coordinates. An authalic
projection keeps ellipsoidal area exactly, so these are GRS80 areas except for how an edge
is drawn between two vertices (a straight line of the projection rather than a geodesic).
Against pyproj's geodesic polygon area (one C call per ring, holding the GIL, and no longer
used here) on the benchmark's 1,433,679 patches the total differs by 2e-11, a patch by
4e-8 (median) and at most 1e-7 (patches of 1000 m² or more) or 2e-4 m²: mostly the
geodesic sum's own rounding, about 2e-5 m² whatever a patch's size, since two different
equal-area projections agree to 6e-9 on those patches. The edge term grows with the square
of an edge's length: 2e-9 for a square of 1 km edges, 2e-7 for 10 km, 5e-6 for 50 km;
digitised boundaries have vertices metres apart. Widths are tested in the same
coordinates: the projection's scale error is 3e-6 over a 45 km city, 2e-5 over one degree
of latitude and 3e-4 over the whole of Chongqing (the edge of a Gauss-Krüger zone: 3e-4),
at most 0.15 mm on a 0.5 m width.

Scale: a city's layers hold millions of polygons. Space is cut into a grid of chunks; each
candidate pair of features is assigned to exactly one chunk, the one holding the lower-left
corner of the intersection of their bounding boxes (the "reference point" rule of
partitioned spatial joins), and each feature judged by an outside rule to the chunk holding
its own bounding box's lower-left corner. We do not clip pieces to the chunk: a clipped patch
would be split at every grid line, its halves judged as slivers on their own, and the result
would depend on the grid. With the reference point, the chunked result is the plain
overlay's, piece for piece. A chunk's work is one STRtree query and one vectorised
`shapely.intersection` over its candidate pairs; for outside rules, one union of the other
layer's features clipped to the chunk's features, prepared, then vectorised `covers` (a
covered feature costs one prepared test) and `difference` for the features it crosses
(the same patches whatever the grid, but for the last bits of where a clipped edge crosses
a feature: a few 1e-13 of the area). GEOS releases the GIL in all of these, and so does PROJ;
building geometry objects does not, so areas are summed from coordinates rather than from
projected copies, and two threads do twice the work of one.

Streaming: finished chunks are handed to `on_chunk` in ascending order, whether computed or
read back from a checkpoint, and with `keep=False` the report keeps only the totals, so a
city's run needs memory for its inputs and a few chunks, not for every patch.

No database and no I/O except the optional checkpoint files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

LONLAT_EPSG = 4490
_GEOGRAPHIC = {4326, 4490}  # CGCS2000 and WGS 84 agree to centimetres: the same frame here
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
OVERLAP: Final = "overlap"
OUTSIDE: Final = "outside"
RULE_KINDS: Final = (OVERLAP, OUTSIDE)
# Bumped whenever a chunk file's content changes meaning: older checkpoints are refused.
_CHECKPOINT_FORMAT = 2


class RuleLike(Protocol):
    """What `rule_for` returns: anything with a name (landuse.Rule in production). An
    optional `kind` attribute, OVERLAP (the default) or OUTSIDE, says what the rule judges."""

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
    id_b: Any  # None for an outside rule's patch: it lies outside a union, not in a feature
    class_b: str
    rule: str


@dataclass
class ConflictReport:
    """Columnar (one array per field): a city has hundreds of thousands of patches, and
    arrays cost a fraction of one object per patch. `patches()` gives them one by one.

    `count` and `total_area_m2` are the run's even when its patches were only streamed
    (`keep=False`, the arrays then empty); with them kept, `count == len(report)`. An
    outside rule's patch has `id_b` None and `class_b` the class of the layer it lies
    outside (`line:urban_boundary`)."""

    geometry: NDArray[np.object_]
    area_m2: NDArray[np.float64]
    layer_a: NDArray[np.object_]
    id_a: NDArray[Any]
    class_a: NDArray[Any]
    layer_b: NDArray[np.object_]
    id_b: NDArray[Any]
    class_b: NDArray[Any]
    rule: NDArray[np.object_]
    count: int
    # The exact sum rounded once, as math.fsum: the same to the bit whatever the chunks.
    total_area_m2: float
    dropped_by_area: int
    dropped_by_width: int
    dropped_area_m2: float
    repaired: list[RepairedFeature]
    chunks: int
    working_crs: str  # PROJ definition of the equal-area projection of areas and widths

    def __len__(self) -> int:
        return len(self.area_m2)

    def patches(self) -> Iterator[ConflictPatch]:
        for i in range(len(self)):
            yield ConflictPatch(
                self.geometry[i], float(self.area_m2[i]), self.layer_a[i], self.id_a[i],
                self.class_a[i], self.layer_b[i], self.id_b[i], self.class_b[i], self.rule[i],
            )  # fmt: skip


OnChunk = Callable[[ConflictReport], None]


# --- coordinates and areas ---------------------------------------------------------------


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


def equal_area_crs(west: float, south: float, east: float, north: float) -> str:
    """The PROJ definition of an equal-area projection on GRS80 for a lon/lat extent: Albers
    conic with standard parallels at 1/6 and 5/6 of its latitudes, centred on it (planar
    coordinates stay small, so planar areas keep their precision). Near the equator, where
    the cone flattens into a cylinder, the Lambert azimuthal projection, equal-area too."""
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    lat1, lat2 = south + (north - south) / 6, north - (north - south) / 6
    if abs(lat1 + lat2) < 10:
        return f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +ellps=GRS80"
    return (
        f"+proj=aea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +lat_1={lat1:.6f} +lat_2={lat2:.6f}"
        " +ellps=GRS80"
    )


def equal_area_transformer(projection: str) -> Transformer:
    """lon/lat degrees (x = longitude) into `projection`, a PROJ definition on GRS80: a
    pipeline, not a CRS-to-CRS transformation, so that no datum shift can be slipped in."""
    return Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {projection}"
    )


@dataclass
class _Planar:
    area: NDArray[np.float64]  # m², holes subtracted
    perimeter: NDArray[np.float64]  # m, holes' included
    vertices: NDArray[np.int64]  # coordinates, closing ones included


def _planar(polygons: NDArray[np.object_], transformer: Transformer) -> _Planar:
    """Areas, perimeters and vertex counts of lon/lat (multi)polygons in the plane of
    `transformer`, from their coordinates: one projection call and numpy sums, no new
    geometries (building them held the GIL for half the time of the projection itself)."""
    n = len(polygons)
    kinds = shapely.get_type_id(polygons)
    present = ~shapely.is_empty(polygons) & (kinds >= 0)
    # A polygon without holes is one ring; anything else is cut into rings (exterior first).
    one_ring = present & (kinds == _POLYGON) & (shapely.get_num_interior_rings(polygons) == 0)
    simple, other = np.flatnonzero(one_ring), np.flatnonzero(present & ~one_ring)
    parts, part_of = shapely.get_parts(polygons[other], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    hole = np.zeros(len(rings), dtype=bool)
    hole[1:] = ring_of[1:] == ring_of[:-1]
    owner = np.concatenate([simple, other[part_of[ring_of]]])
    sign = np.concatenate([np.ones(len(simple)), np.where(hole, -1.0, 1.0)])
    coords, ring = shapely.get_coordinates(
        np.concatenate([polygons[simple], rings]), return_index=True
    )
    if not len(coords):
        return _Planar(np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64))
    x, y = transformer.transform(coords[:, 0], coords[:, 1])
    count = np.bincount(ring, minlength=len(owner))
    first = np.minimum(np.concatenate([[0], np.cumsum(count)[:-1]]), len(x) - 1)
    # Relative to each ring's first vertex: the shoelace's products stay small and exact.
    x = x - x[first][ring]
    y = y - y[first][ring]
    same = ring[1:] == ring[:-1]
    segment = ring[:-1][same]
    cross = (x[:-1] * y[1:] - x[1:] * y[:-1])[same]
    length = np.hypot(np.diff(x), np.diff(y))[same]
    ring_area = np.abs(np.bincount(segment, cross, minlength=len(owner))) / 2
    ring_length = np.bincount(segment, length, minlength=len(owner))
    return _Planar(
        np.asarray(np.bincount(owner, sign * ring_area, minlength=n), dtype=np.float64),
        np.asarray(np.bincount(owner, ring_length, minlength=n), dtype=np.float64),
        np.bincount(owner, count, minlength=n).astype(np.int64),
    )


def ellipsoidal_area(
    polygons: NDArray[np.object_], projection: str | None = None
) -> NDArray[np.float64]:
    """Area in m² on GRS80 of lon/lat (multi)polygons, holes subtracted: planar areas in an
    equal-area projection (`projection`, a PROJ definition such as a report's `working_crs`;
    by default `equal_area_crs` of the polygons' extent). Missing or empty: 0. The engine's
    own measure; how it differs from `geodesic_area` is told in the module's docstring."""
    polygons = np.asarray(polygons, dtype=object)
    present = ~shapely.is_missing(polygons) & ~shapely.is_empty(polygons)
    if not present.any():
        return np.zeros(len(polygons))
    if projection is None:
        projection = equal_area_crs(*shapely.total_bounds(polygons[present]).tolist())
    return _planar(polygons, equal_area_transformer(projection)).area


def geodesic_area(polygons: NDArray[np.object_], geod: Geod | None = None) -> NDArray[np.float64]:
    """Area in m² on GRS80 of lon/lat (multi)polygons with geodesic edges: pyproj's geodesic
    polygon area, ring by ring (orientation-free: exteriors add, holes subtract). The
    reference `ellipsoidal_area` is checked against; a Python loop over rings, so slower."""
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
    # The public method copies both arrays first; the C method behind it takes contiguous
    # float64 arrays as they are. The public one stays as the fallback should pyproj
    # rename it.
    area_of = getattr(geod, "_polygon_area_perimeter", geod.polygon_area_perimeter)
    # The last vertex repeats the first; pyproj closes rings itself, so it is left out.
    for k, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        ring_area[k] = abs(area_of(lon[s : e - 1], lat[s : e - 1])[0])
    signed = np.where(exterior, ring_area, -ring_area)
    out = np.zeros(len(polygons))
    np.add.at(out, part_of[ring_of], signed)
    return out


class _ExactSum:
    """The exact sum of float64 values added batch by batch, rounded once when read: what
    math.fsum of all of them at once gives, without keeping them (a streamed run's total).

    Each value is m·2^e with m an integer of 53 bits. A batch's m are summed per exponent in
    int64, split in halves of 26 and 27 bits so that no sum can overflow, and the sums added
    into one Python integer counting units of 2^-1127 (the smallest subnormal, 2^-1074,
    times 2^-53). Python's int / int is correctly rounded."""

    _SCALE: Final = 1074 + 53

    def __init__(self) -> None:
        self._units = 0

    def add(self, values: NDArray[np.float64]) -> None:
        if not len(values):
            return
        fraction, exponent = np.frexp(np.asarray(values, dtype=np.float64))
        mantissa = (fraction * 2.0**53).astype(np.int64)  # exact: 53 bits
        shift = exponent.astype(np.int64) + 1074  # m·2^(e-53) in units of 2^-1127
        order = np.argsort(shift, kind="stable")
        shift, mantissa = shift[order], mantissa[order]
        first = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]])
        high = np.add.reduceat(mantissa >> 26, first)
        low = np.add.reduceat(mantissa & (2**26 - 1), first)
        for s, h, lo in zip(shift[first].tolist(), high.tolist(), low.tolist(), strict=True):
            self._units += ((h << 26) + lo) << s

    @property
    def value(self) -> float:
        return self._units / (1 << self._SCALE)


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


def _prepare(layer: Layer) -> tuple[_Prepared, list[RepairedFeature]]:
    repaired: list[RepairedFeature] = []
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
    prepared = _Prepared(
        layer.name, geoms, shapely.bounds(geoms), class_code, class_names, layer.ids,
        shapely.STRtree(geoms),
    )  # fmt: skip
    return prepared, repaired


def _repair(geom: Any) -> Any:
    """Make valid part by part: MakeValid on a whole large multipolygon can be tens of times
    slower than on its parts, and a bad part should not drag the others through it."""
    parts = shapely.get_parts(geom)
    fixed = shapely.make_valid(parts[~shapely.is_valid(parts)])
    polys = np.concatenate([parts[shapely.is_valid(parts)], _polygons(fixed)[0]])
    # The parts may overlap once repaired (or did before): their union is valid.
    return shapely.union_all(polys)


def _polygons(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """The polygons inside geometries that may be multi or collections (an overlay of two
    polygons that share an edge returns the edge as a line beside the polygons), with the
    index of the geometry each came from, in that order. Single polygons, nearly all of
    them, are passed through rather than copied."""
    kinds = shapely.get_type_id(geoms)
    single = (kinds == _POLYGON) & ~shapely.is_empty(geoms)
    nested = (kinds == _COLLECTION) | (kinds == _MULTIPOLYGON)
    if not nested.any():
        keep = np.flatnonzero(single)
        return geoms[keep], keep
    parts, part_of = shapely.get_parts(geoms[nested], return_index=True)
    part_of = np.flatnonzero(nested)[part_of]
    while True:
        kinds = shapely.get_type_id(parts)
        deeper = (kinds == _COLLECTION) | (kinds == _MULTIPOLYGON)
        if not deeper.any():
            break
        sub, sub_of = shapely.get_parts(parts[deeper], return_index=True)
        parts = np.concatenate([parts[~deeper], sub])
        part_of = np.concatenate([part_of[~deeper], part_of[deeper][sub_of]])
    polygon = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    keep = np.flatnonzero(single)
    out = np.concatenate([geoms[keep], parts[polygon]])
    out_of = np.concatenate([keep, part_of[polygon]])
    order = np.argsort(out_of, kind="stable")
    return out[order], out_of[order]


# --- rules ----------------------------------------------------------------------------------


@dataclass
class _Overlap:
    """A∩B for a pair of layers: rules[class of a, class of b] is a rule number, -1 none."""

    a: int
    b: int
    rules: NDArray[np.intp]


@dataclass
class _Outside:
    """A−B for an ordered pair of layers: rules[class of a, class of b] as for overlaps.

    A feature of class ca lies outside one union per rule: of the features of B whose
    classes pair with ca under that rule (usually the one class of a control line). Each
    such (rule, B classes) is a target; `targets[ca]` lists ca's, padded with -1."""

    a: int
    b: int
    rules: NDArray[np.intp]
    targets: NDArray[np.intp]
    order: NDArray[np.intp]  # A's features that have a target, by home chunk
    starts: NDArray[np.intp]  # order[starts[c]:starts[c + 1]] are chunk c's


@dataclass(frozen=True)
class _Target:
    rule: int
    b_classes: NDArray[np.intp]  # codes of B's classes whose union is the inside
    label: str  # class_b of its patches


def _kind(rule: RuleLike) -> str:
    kind = getattr(rule, "kind", OVERLAP)
    if kind not in RULE_KINDS:
        raise ValueError(f"rule {rule.name!r}: kind {kind!r} is not one of {RULE_KINDS}")
    return str(kind)


class _RuleBook:
    """`rule_for` over the distinct class pairs of every pair of layers, both ways round
    (tens, not millions, of calls), sorted into overlap and outside matrices."""

    def __init__(self, layers: list[_Prepared], rule_for: RuleFor) -> None:
        self.names: dict[str, int] = {}
        self.overlaps: list[_Overlap] = []
        self.outsides: list[tuple[int, int, NDArray[np.intp]]] = []
        for i in range(len(layers)):
            for j in range(i + 1, len(layers)):
                a, b = layers[i], layers[j]
                ab = self._ask(a.class_names, b.class_names, rule_for)
                ba = self._ask(b.class_names, a.class_names, rule_for)
                overlap = self._numbers(ab, len(b.class_names), OVERLAP)
                if (overlap >= 0).any():
                    self.overlaps.append(_Overlap(i, j, overlap))
                for x, y, asked in ((i, j, ab), (j, i, ba)):
                    outside = self._numbers(asked, len(layers[y].class_names), OUTSIDE)
                    if (outside >= 0).any():
                        self.outsides.append((x, y, outside))

    @staticmethod
    def _ask(a: NDArray[Any], b: NDArray[Any], rule_for: RuleFor) -> list[list[RuleLike | None]]:
        return [[rule_for(str(ca), str(cb)) for cb in b.tolist()] for ca in a.tolist()]

    def _numbers(
        self, asked: list[list[RuleLike | None]], columns: int, kind: str
    ) -> NDArray[np.intp]:
        out = np.full((len(asked), columns), -1, dtype=np.intp)
        for i, row in enumerate(asked):
            for j, rule in enumerate(row):
                if rule is not None and _kind(rule) == kind:
                    out[i, j] = self.names.setdefault(rule.name, len(self.names))
        return out

    @property
    def ordered(self) -> list[str]:
        return sorted(self.names, key=self.names.__getitem__)


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
    """A chunk's patches by layer and feature number; an outside patch has index_b
    -1 - its target's number (it lies in no feature of B)."""

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


# A clipped union's new edges run this far (in degrees, ~10 cm) outside the features it is
# compared with, so that no clipping vertex ever lands on one of their edges.
_CLIP_MARGIN = 1e-6


class _Engine:
    def __init__(
        self,
        layers: list[_Prepared],
        rule_for: RuleFor,
        tolerances: Tolerances,
        grid: _Grid,
        projection: str,
    ) -> None:
        self.layers = layers
        self.tolerances = tolerances
        self.grid = grid
        self.projection = projection
        book = _RuleBook(layers, rule_for)
        self.rule_names = book.ordered
        self.overlaps = book.overlaps
        self.targets: list[_Target] = []
        self.outsides = [self._outside_plan(a, b, rules) for a, b, rules in book.outsides]
        # pyproj transformers must not be shared between threads: one per thread.
        self._local = threading.local()

    def _outside_plan(self, a: int, b: int, rules: NDArray[np.intp]) -> _Outside:
        la, lb = self.layers[a], self.layers[b]
        per_class: list[list[int]] = []
        for ca in range(len(la.class_names)):
            mine = []
            for rule in np.unique(rules[ca][rules[ca] >= 0]).tolist():
                inside = np.flatnonzero(rules[ca] == rule)
                label = "|".join(str(c) for c in lb.class_names[inside].tolist())
                mine.append(len(self.targets))
                self.targets.append(_Target(rule, inside, label))
            per_class.append(mine)
        width = max(1, max(len(m) for m in per_class)) if per_class else 1
        targets = np.full((len(per_class), width), -1, dtype=np.intp)
        for ca, mine in enumerate(per_class):
            targets[ca, : len(mine)] = mine
        # Each feature belongs to the chunk holding its bounding box's lower-left corner.
        judged = np.flatnonzero((targets[la.class_code, 0] >= 0) & ~np.isnan(la.bounds[:, 0]))
        home = self.grid.cell_of(la.bounds[judged, 0], la.bounds[judged, 1])
        by_home = np.argsort(home, kind="stable")
        starts = np.searchsorted(home[by_home], np.arange(self.grid.cells + 1))
        return _Outside(a, b, rules, targets, judged[by_home], starts)

    def _to_working(self) -> Transformer:
        t: Transformer | None = getattr(self._local, "transformer", None)
        if t is None:
            t = self._local.transformer = equal_area_transformer(self.projection)
        return t

    def chunk(self, cell: int) -> _ChunkResult:
        pieces: list[NDArray[np.object_]] = []
        meta: list[NDArray[np.int64]] = []
        box = self.grid.box(cell)
        for pair in self.overlaps:
            self._overlap(cell, box, pair, pieces, meta)
        for outside in self.outsides:
            self._outside(cell, outside, pieces, meta)
        if not pieces:
            return _empty()
        return self._filter(np.concatenate(pieces), np.concatenate(meta))

    def _overlap(
        self,
        cell: int,
        box: shapely.Polygon,
        pair: _Overlap,
        pieces: list[NDArray[np.object_]],
        meta: list[NDArray[np.int64]],
    ) -> None:
        a, b = self.layers[pair.a], self.layers[pair.b]
        in_a = a.tree.query(box)
        if not len(in_a):
            return
        # Candidate pairs by bounding box (a query with the intersects predicate costs
        # more than the intersections it saves: touching pairs are cheap to intersect).
        qa, qb = b.tree.query(a.geoms[in_a])
        ia = in_a[qa]
        # Classes first: pairs that cannot conflict are never tested nor intersected.
        rule = pair.rules[a.class_code[ia], b.class_code[qb]]
        known = rule >= 0
        ia, ib, rule = ia[known], qb[known], rule[known]
        # Each pair belongs to the one cell holding the lower-left corner of the
        # intersection of the two bounding boxes.
        rx = np.maximum(a.bounds[ia, 0], b.bounds[ib, 0])
        ry = np.maximum(a.bounds[ia, 1], b.bounds[ib, 1])
        mine = self.grid.cell_of(rx, ry) == cell
        ia, ib, rule = ia[mine], ib[mine], rule[mine]
        # A third of the pairs whose boxes meet do not touch (neighbouring cells' boxes
        # overlap), and the exact test costs a fifth of an intersection that finds
        # nothing (measured: 200k×200k Voronoi cells, 1.15 s of tests save 1.9 s).
        hit = shapely.intersects(a.geoms[ia], b.geoms[ib])
        ia, ib, rule = ia[hit], ib[hit], rule[hit]
        if not len(ia):
            return
        parts, part_of = _polygons(shapely.intersection(a.geoms[ia], b.geoms[ib]))
        pieces.append(parts)
        meta.append(_rows(pair.a, ia[part_of], pair.b, ib[part_of], rule[part_of]))

    def _outside(
        self,
        cell: int,
        plan: _Outside,
        pieces: list[NDArray[np.object_]],
        meta: list[NDArray[np.int64]],
    ) -> None:
        home = plan.order[plan.starts[cell] : plan.starts[cell + 1]]
        if not len(home):
            return
        a, b = self.layers[plan.a], self.layers[plan.b]
        # One job per feature and target (a feature whose class has two outside rules
        # against B, rare, is judged against each).
        targets = plan.targets[a.class_code[home]]
        row, col = np.nonzero(targets >= 0)
        feature, target = home[row], targets[row, col]
        for t in np.unique(target).tolist():
            mine = feature[target == t]
            inside = self._inside(b, self.targets[t], a.bounds[mine])
            geoms = a.geoms[mine]
            if inside is None:
                outside = geoms
            else:
                # Prepared, so that a feature wholly inside costs one point-in-polygon
                # test, and one wholly outside an envelope and an edge-crossing test.
                shapely.prepare(inside)
                meets = shapely.intersects(inside, geoms)
                crossed = meets & ~shapely.covers(inside, geoms)
                outside = geoms.copy()
                outside[crossed] = shapely.difference(geoms[crossed], inside)
                outside = outside[~meets | crossed]
                mine = mine[~meets | crossed]
            parts, part_of = _polygons(outside)
            rule = self.targets[t].rule
            pieces.append(parts)
            meta.append(_rows(plan.a, mine[part_of], plan.b, np.full(len(parts), -1 - t), rule))

    @staticmethod
    def _inside(b: _Prepared, target: _Target, bounds: NDArray[np.float64]) -> Any:
        """The union of B's features of the target's classes, clipped to the features'
        extent (with a margin): a control line may be one polygon of a whole district, and
        only its few edges near the chunk take part. None when nothing is there."""
        x0, y0 = np.nanmin(bounds[:, :2], axis=0) - _CLIP_MARGIN
        x1, y1 = np.nanmax(bounds[:, 2:], axis=0) + _CLIP_MARGIN
        near = b.tree.query(shapely.box(x0, y0, x1, y1))
        near = near[np.isin(b.class_code[near], target.b_classes)]
        if not len(near):
            return None
        clipped = shapely.clip_by_rect(b.geoms[near], x0, y0, x1, y1)
        union = shapely.union_all(clipped)
        return None if shapely.is_empty(union) else union

    def _filter(self, geoms: NDArray[np.object_], rows: NDArray[np.int64]) -> _ChunkResult:
        tol = self.tolerances
        planar = _planar(geoms, self._to_working())
        area = planar.area
        # Touching features give zero-area pieces: not slivers, not conflicts, not counted.
        touching = area <= 0
        small = ~touching & (area < tol.min_area_m2)
        keep = ~touching & ~small
        thin = np.zeros(len(geoms), dtype=bool)
        if tol.min_width_m > 0 and keep.any():
            thin[keep] = self._thin(geoms[keep], planar, keep, tol.min_width_m / 2)
        keep &= ~thin
        dropped = math.fsum(area[small | thin].tolist())
        rows = rows[keep]
        return _ChunkResult(
            geoms[keep], area[keep], rows[:, 0].astype(np.int16), rows[:, 1],
            rows[:, 2].astype(np.int16), rows[:, 3], rows[:, 4].astype(np.int32),
            int(small.sum()), int(thin.sum()), dropped,
        )  # fmt: skip

    def _thin(
        self, geoms: NDArray[np.object_], planar: _Planar, which: NDArray[np.bool_], half: float
    ) -> NDArray[np.bool_]:
        """Which patches a negative buffer of `half` erases (narrower than 2·half
        everywhere), in metres of the working projection; a buffer costs ~6 µs a patch, so
        two cheap proofs of survival go first.

        The points of a polygon nearer than h to its boundary lie within h of an edge
        (at most perimeter·h of area) or of a reflex vertex (a sector of less than π·h²/2
        each), so a patch with more area than that keeps a point farther than h from its
        boundary: nine patches in ten, from sums already made. Of the rest, GEOS's point
        on surface (middle of the widest horizontal section) is such a point for most;
        only the others are buffered."""
        area, perimeter = planar.area[which], planar.perimeter[which]
        near = perimeter * half + planar.vertices[which] * (math.pi / 2) * half**2
        doubt = np.flatnonzero(area <= near * (1 + 1e-6))
        thin = np.zeros(len(geoms), dtype=bool)
        if not len(doubt):
            return thin
        local = reproject(geoms[doubt], self._to_working())
        inside = shapely.point_on_surface(local)
        unsure = shapely.distance(inside, shapely.boundary(local)) <= half
        thin[doubt[unsure]] = shapely.is_empty(shapely.buffer(local[unsure], -half))
        return thin


def _rows(
    layer_a: int, index_a: NDArray[Any], layer_b: int, index_b: NDArray[Any], rule: Any
) -> NDArray[np.int64]:
    n = len(index_a)
    return np.column_stack([
        np.full(n, layer_a), index_a, np.full(n, layer_b), index_b, np.broadcast_to(rule, n)
    ]).astype(np.int64)  # fmt: skip


def _empty() -> _ChunkResult:
    i16, i64 = np.empty(0, np.int16), np.empty(0, np.int64)
    return _ChunkResult(
        np.empty(0, object), np.empty(0), i16, i64, i16, i64, np.empty(0, np.int32), 0, 0, 0.0
    )


# --- checkpoints ----------------------------------------------------------------------------


class _Checkpoint:
    """One .npz per finished chunk, written to a temporary name and renamed: a run stopped
    mid-write leaves no half chunk behind. A fingerprint of the inputs and the grid guards
    against resuming a different job into the same directory. Chunks are read back one at a
    time, when their turn comes."""

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

    def finished(self) -> set[int]:
        return {int(p.stem.removeprefix("chunk-")) for p in self.dir.glob("chunk-*.npz")}

    def load(self, cell: int) -> _ChunkResult:
        with np.load(self._path(cell)) as z:
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


def _fingerprint(engine: _Engine) -> dict[str, Any]:
    grid, tol = engine.grid, engine.tolerances
    return {
        "format": _CHECKPOINT_FORMAT,
        "layers": [[p.name, len(p.geoms), _digest(p)] for p in engine.layers],
        "grid": [grid.x0, grid.y0, grid.dx, grid.dy, grid.nx, grid.ny],
        "tolerances": [tol.min_area_m2, tol.min_width_m],
        "projection": engine.projection,
        "rules": engine.rule_names,
        "overlaps": [[p.a, p.b, p.rules.tolist()] for p in engine.overlaps],
        "outsides": [[p.a, p.b, p.rules.tolist()] for p in engine.outsides],
    }


def _in_order(
    engine: _Engine, finished: set[int], threads: int
) -> Generator[tuple[int, _ChunkResult | None], None, None]:
    """Every cell with its result, in cell order; None for the cells an earlier run
    finished. With threads, a bounded window of chunks in flight keeps memory flat, and
    results come in cell order whichever thread finishes first."""
    cells = range(engine.grid.cells)
    if threads <= 1:
        for cell in cells:
            yield cell, None if cell in finished else engine.chunk(cell)
        return
    with ThreadPoolExecutor(threads) as pool:
        window: deque[tuple[int, Future[_ChunkResult] | None]] = deque()
        try:
            for cell in cells:
                window.append((cell, None if cell in finished else pool.submit(engine.chunk, cell)))
                if len(window) >= 2 * threads:
                    c, f = window.popleft()
                    yield c, f.result() if f else None
            while window:
                c, f = window.popleft()
                yield c, f.result() if f else None
        finally:
            # Stopped early (a progress callback raised): drop the chunks not started.
            for _, f in window:
                if f:
                    f.cancel()


def _digest(layer: _Prepared) -> str:
    """A cheap fingerprint of a layer's content (bounds and classes, ~50 ms a million
    features): enough to refuse resuming a job over edited data."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(layer.bounds).tobytes())
    h.update(layer.class_code.astype(np.int64).tobytes())
    h.update("\x00".join(map(str, layer.class_names.tolist())).encode())
    return h.hexdigest()


# --- reports ----------------------------------------------------------------------------------


class _Collector:
    """Turns chunk results, in cell order, into reports: each chunk's for `on_chunk`, the
    run's totals always, and its patches only when kept."""

    def __init__(self, engine: _Engine, keep: bool, on_chunk: OnChunk | None) -> None:
        self.engine = engine
        self.keep = keep
        self.on_chunk = on_chunk
        self.kept: list[ConflictReport] = []
        self.count = self.chunks = self.by_area = self.by_width = 0
        self.total = _ExactSum()
        self.dropped = _ExactSum()
        self.layer_names = np.array([p.name for p in engine.layers], dtype=object)
        self.rule_names = np.array(engine.rule_names or [""], dtype=object)
        self.labels = np.array([t.label for t in engine.targets] or [""], dtype=object)

    def add(self, r: _ChunkResult) -> None:
        self.count += len(r.area)
        self.chunks += 1
        self.by_area += r.dropped_by_area
        self.by_width += r.dropped_by_width
        self.total.add(r.area)
        self.dropped.add(np.array([r.dropped_area]))
        if not (self.keep or self.on_chunk):
            return
        report = self._chunk_report(r)
        if self.on_chunk:
            self.on_chunk(report)
        if self.keep:
            self.kept.append(report)

    def _chunk_report(self, r: _ChunkResult) -> ConflictReport:
        total = _ExactSum()
        total.add(r.area)
        return ConflictReport(
            geometry=r.geometry, area_m2=r.area,
            layer_a=self.layer_names[r.layer_a], id_a=self._ids(r.layer_a, r.index_a),
            class_a=self._classes(r.layer_a, r.index_a),
            layer_b=self.layer_names[r.layer_b], id_b=self._ids(r.layer_b, r.index_b),
            class_b=self._classes(r.layer_b, r.index_b),
            rule=self.rule_names[r.rule], count=len(r.area), total_area_m2=total.value,
            dropped_by_area=r.dropped_by_area, dropped_by_width=r.dropped_by_width,
            dropped_area_m2=r.dropped_area, repaired=[], chunks=1,
            working_crs=self.engine.projection,
        )  # fmt: skip

    def _ids(self, layer: NDArray[np.int16], index: NDArray[np.int64]) -> NDArray[Any]:
        out = np.full(len(index), None, dtype=object)
        for k, p in enumerate(self.engine.layers):
            mine = (layer == k) & (index >= 0)
            if mine.any():
                out[mine] = p.ids[index[mine]]
        return out

    def _classes(self, layer: NDArray[np.int16], index: NDArray[np.int64]) -> NDArray[Any]:
        out = np.full(len(index), None, dtype=object)
        for k, p in enumerate(self.engine.layers):
            mine = (layer == k) & (index >= 0)
            if mine.any():
                out[mine] = p.class_names[p.class_code[index[mine]]]
        outside = index < 0
        if outside.any():
            out[outside] = self.labels[-1 - index[outside]]
        return out

    def report(self, repaired: list[RepairedFeature]) -> ConflictReport:
        kept = self.kept or [self._chunk_report(_empty())]

        def cat(attr: str) -> NDArray[Any]:
            return np.concatenate([getattr(c, attr) for c in kept])

        return ConflictReport(
            geometry=cat("geometry"), area_m2=cat("area_m2"), layer_a=cat("layer_a"),
            id_a=cat("id_a"), class_a=cat("class_a"), layer_b=cat("layer_b"),
            id_b=cat("id_b"), class_b=cat("class_b"), rule=cat("rule"), count=self.count,
            total_area_m2=self.total.value, dropped_by_area=self.by_area,
            dropped_by_width=self.by_width, dropped_area_m2=self.dropped.value,
            repaired=repaired, chunks=self.chunks, working_crs=self.engine.projection,
        )  # fmt: skip


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
    on_chunk: OnChunk | None = None,
    keep: bool = True,
) -> ConflictReport:
    """Conflict patches between every pair of `layers`: A∩B for overlap rules, A−B for
    outside rules, classes judged by `rule_for` (see the module's docstring).

    `features_per_chunk` (all layers counted) sizes the grid; `threads` chunks are computed
    at once (two threads do 1.9 times the work of one). `progress(done, total)` is called
    after each chunk computed (and may raise to stop: with a `checkpoint_dir`, a rerun
    resumes where it stopped). `on_chunk` receives every chunk's patches as a report
    of their own (`chunks=1`, `repaired=[]`) in ascending cell order, those read back from
    a checkpoint included, so a resumed run hands over the same stream. With `keep=False`
    the returned report's patch arrays are empty and only its totals are filled: memory no
    longer grows with the number of patches."""
    if len(layers) < 2:
        raise ValueError("conflicts need at least two layers")
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must differ: {names}")
    tolerances = tolerances or Tolerances()
    if threads > 1:
        # Validity checks and STRtree builds release the GIL: one layer per thread.
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(_prepare, layers))
    else:
        done = [_prepare(layer) for layer in layers]
    prepared = [p for p, _ in done]
    repaired = [r for _, fixed in done for r in fixed]
    grid = _grid(prepared, features_per_chunk)
    projection = equal_area_crs(grid.x0, grid.y0, grid.x0 + grid.dx * grid.nx,
                                grid.y0 + grid.dy * grid.ny)  # fmt: skip
    engine = _Engine(prepared, rule_for, tolerances, grid, projection)
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = _Checkpoint(Path(checkpoint_dir), _fingerprint(engine))
    finished = checkpoint.finished() if checkpoint else set()
    collector = _Collector(engine, keep, on_chunk)
    computed = len(finished)
    with closing(_in_order(engine, finished, threads)) as results:
        for cell, result in results:
            if result is not None:
                if checkpoint:
                    checkpoint.save(cell, result)
                collector.add(result)
                computed += 1
                if progress:
                    progress(computed, grid.cells)
            elif checkpoint:  # finished by an earlier run: read now, not all at the start
                collector.add(checkpoint.load(cell))
    return collector.report(repaired)
