"""Vector tiles (Mapbox Vector Tile 2.1, 矢量瓦片) of the OGC API collections on the
WebMercatorQuad tile matrix set, without HTTP: the tile matrix set, where a tile lies, and
one tile's bytes with a tag that changes when they do.

A tile holds one MVT layer, named after the collection's id, whose features carry their
id (where it is an integer) and the properties the map draws with
(`Collection.tile_properties`). Each geometry is projected onto the tile's 4096 × 4096 grid
(y down), clipped to the tile and a buffer of 64 units around it (so outlines and fills
join across tile edges), simplified and snapped to the integer grid:

* a pixel is one of the 256 × 256 that WebMercatorQuad gives a tile (`tileWidth`), 16
  units; simplification (Douglas–Peucker, topology kept) has a tolerance of half a pixel,
  so an outline moves by less than a pixel even on a screen of two device pixels to one:
  at a city overview it loses what no screen shows, at street zoom nothing;
* below zoom 15 (`DETAIL_ZOOM`), a feature whose box is under one pixel both ways (a
  lone point too), or a polygon of less than one pixel's area (256 units²), is left out:
  it would draw as a speck, and at a city overview a million parcels are mostly specks.
  The box test runs in SQL (on SQLite inside the R*Tree, before the rows are read), the
  area test once projected. From zoom 15 on every feature is kept, so each one shows at
  some zoom;
* snapping rounds to whole units; where that breaks an outline, GEOS's snap-rounding
  makes it valid again, as the MVT specification asks; what collapses is left out.

The geometry commands of all features are computed at once with NumPy and written into the
protobuf message of the mapbox-vector-tile package (its tile schema; the tests decode with
its decoder). Its own encoder walks every coordinate in Python: 13 µs a feature measured,
26 µs with its winding check, a second or two for an overview tile of 80,000 parcels.

A layer version never changes, so a layer's tile has a tag computed from the version and
the tile's address alone (no encoding needed to answer a revalidation), and encoded layer
tiles are kept in a bounded LRU (`TileCache`). Grids and conflict patches do change: their
tiles are encoded on each request and tagged by a hash of their bytes.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2  # type: ignore[import-untyped]
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.errors import BadRequest, NotFound
from cityops.onemap import features
from cityops.onemap.features import BBox, Collection

MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
MAX_ZOOM = 24  # WebMercatorQuad's last tile matrix
EXTENT = 4096  # MVT units across a tile
BUFFER = 64  # units kept around the tile
TILE_PIXELS = 256  # WebMercatorQuad's tileWidth and tileHeight
PIXEL = EXTENT // TILE_PIXELS
SIMPLIFY = PIXEL / 2
DETAIL_ZOOM = 15
MAX_LAT = 85.0511287798066  # where Web Mercator's square ends
HALF_WORLD = 20037508.342789244  # metres from the origin to the edge of Web Mercator
# Changes whenever the same data would encode to other bytes (a new simplification, new
# properties): a layer tile's tag includes it, so browsers drop what they cached before.
ENCODING = 1

_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_POINT, _LINESTRING, _POLYGON = 1, 2, 3  # MVT's geometry types
# GEOS's type ids: a single geometry's multi-geometry, and a collection of any.
_MULTI = {0: 4, 1: 5, 3: 6}
_COLLECTION = 7


# -- the tile matrix set --------------------------------------------------------------------


def tile_matrix_set() -> dict[str, Any]:
    """WebMercatorQuad as the 2D Tile Matrix Set standard (2.0) writes it."""
    cell = 2 * HALF_WORLD / TILE_PIXELS  # metres per pixel at zoom 0
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": cell / 2**z / 0.00028,
                "cellSize": cell / 2**z,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": TILE_PIXELS,
                "tileHeight": TILE_PIXELS,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }


def check_tms(tms_id: str) -> None:
    """404 for a tile matrix set other than WebMercatorQuad."""
    if tms_id != TMS_ID:
        raise NotFound(f"no tile matrix set {tms_id!r}; tiles are served in {TMS_ID}")


@dataclass(frozen=True)
class TileAddress:
    """A tile of WebMercatorQuad: its tile matrix (the zoom), row (from the top) and column."""

    z: int
    row: int
    col: int

    @classmethod
    def parse(cls, tile_matrix: str, tile_row: str, tile_col: str) -> TileAddress:
        """The tile the path names: 400 for what is not a whole number, 404 for a tile
        matrix, row or column outside WebMercatorQuad (/req/core/tc-error)."""
        if not tile_matrix.isdigit() or int(tile_matrix) > MAX_ZOOM:
            raise NotFound(f"no tile matrix {tile_matrix!r} in {TMS_ID} (0 to {MAX_ZOOM})")
        z = int(tile_matrix)
        numbers = []
        for name, raw in (("tileRow", tile_row), ("tileCol", tile_col)):
            try:
                value = int(raw)
            except ValueError:
                raise BadRequest.at(name, f"not an integer: {raw!r}") from None
            if not 0 <= value < 2**z:
                raise NotFound(f"{name} {value} is outside tile matrix {z} (0 to {2**z - 1})")
            numbers.append(value)
        return cls(z, numbers[0], numbers[1])

    def lon_lat_box(self, margin: float = 0.0) -> BBox:
        """The tile's box in lon/lat, grown by `margin` units of the tile's grid each way."""
        n = float(1 << self.z)
        grow = margin / EXTENT

        def lon(x: float) -> float:
            return max(-180.0, min(180.0, x / n * 360.0 - 180.0))

        def lat(y: float) -> float:
            y = max(0.0, min(n, y))
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

        return BBox(
            lon(self.col - grow), lat(self.row + 1 + grow), lon(self.col + 1 + grow),
            lat(self.row - grow),
        )  # fmt: skip

    def min_size(self) -> tuple[float, float] | None:
        """Below DETAIL_ZOOM, the box (degrees of longitude, of latitude) under which a
        feature is left out: one pixel, in latitude where the tile's pixels are shortest,
        so nothing a pixel tall is ever left out."""
        if self.z >= DETAIL_ZOOM:
            return None
        lon = PIXEL * 360.0 / (2**self.z * EXTENT)
        box = self.lon_lat_box(BUFFER)
        return lon, lon * math.cos(math.radians(max(abs(box.miny), abs(box.maxy))))


# -- the tile -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """A tile's bytes (empty: no feature there) and its tag: the same tag, the same bytes."""

    data: bytes
    tag: str


class TileCache:
    """Encoded layer tiles, the least recently used dropped first once their total size
    passes `max_bytes`. Shared by the threads serving requests."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._tiles: OrderedDict[str, Tile] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tiles)

    def get(self, key: str) -> Tile | None:
        with self._lock:
            found = self._tiles.get(key)
            if found is not None:
                self._tiles.move_to_end(key)
            return found

    def put(self, key: str, tile: Tile) -> None:
        if len(tile.data) > self.max_bytes:
            return
        with self._lock:
            old = self._tiles.pop(key, None)
            if old is not None:
                self.size -= len(old.data)
            self._tiles[key] = tile
            self.size += len(tile.data)
            while self.size > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self.size -= len(dropped.data)


def tileable(coll: Collection) -> bool:
    return bool(coll.tile_properties) and coll.spatial.wkb is not None


def check_tileable(coll: Collection) -> None:
    if not tileable(coll):
        raise NotFound(f"collection {coll.id!r} has no tiles")


def _json_type(column: Any) -> str:
    kind = column.type.python_type
    if kind is bool:
        return "boolean"
    return {int: "integer", float: "number"}.get(kind, "string")


def layer_description(coll: Collection) -> dict[str, Any]:
    """The tileset metadata's entry for the collection's MVT layer: its name (the
    collection's id) and the properties its features carry, as a JSON Schema."""
    properties = {name: {"type": _json_type(c)} for name, c in coll.tile_properties}
    return {
        "id": coll.id,
        "title": coll.title,
        "dataType": "vector",
        "propertiesSchema": {"type": "object", "properties": properties},
        "minTileMatrix": "0",
        "maxTileMatrix": str(MAX_ZOOM),
    }


def _quote(text: str) -> str:
    return f'"{text}"'


def known_tag(coll: Collection, address: TileAddress) -> str | None:
    """A layer tile's tag, from its version and address alone (a version never changes,
    and everyone sees all of it); None for other collections, whose tag is their bytes'
    hash."""
    v = coll.version
    if v is None or coll.scope is not None:
        return None
    key = f"{v.layer_id}:{v.id}:{v.imported_at.isoformat()}:{address.z}/{address.row}/" \
          f"{address.col}:{ENCODING}"  # fmt: skip
    return _quote(hashlib.blake2b(key.encode(), digest_size=12).hexdigest())


def tile(
    session: Session,
    coll: Collection,
    actor: Actor | None,
    address: TileAddress,
    cache: TileCache | None = None,
) -> Tile:
    """The tile of `coll` at `address` with the features `actor` may see (from `cache`
    where it holds a layer tile)."""
    check_tileable(coll)
    tag = known_tag(coll, address)
    if tag is not None and cache is not None:
        found = cache.get(tag)
        if found is not None:
            return found
    data = encode(session, coll, actor, address)
    if tag is None:
        return Tile(data, _quote(hashlib.blake2b(data, digest_size=12).hexdigest()))
    made = Tile(data, tag)
    if cache is not None:
        cache.put(tag, made)
    return made


def encode(session: Session, coll: Collection, actor: Actor | None, address: TileAddress) -> bytes:
    """The MVT bytes of `coll`'s features in the tile (b"" when there are none)."""
    box = address.lon_lat_box(BUFFER)
    conditions = features.located(session, coll, actor, box, address.min_size())
    names = [name for name, _ in coll.tile_properties]
    query = (
        select(coll.key, coll.spatial.wkb, *(c for _, c in coll.tile_properties))
        .where(*conditions)
        .order_by(coll.key)  # the same data, the same bytes: the tag depends on it
    )
    rows = session.execute(query).all()
    return render(
        coll.id,
        address,
        [row[0] if coll.key_is_int else None for row in rows],
        [row[1] for row in rows],
        names,
        [[row[2 + k] for row in rows] for k in range(len(names))],
    )


def render(
    name: str,
    address: TileAddress,
    ids: Sequence[int | None],
    geometries: Sequence[bytes | BaseGeometry],
    keys: Sequence[str],
    columns: Sequence[Sequence[Any]],
) -> bytes:
    """One MVT layer `name` of these features (lon/lat, WKB or Shapely) in the tile at
    `address`, with their ids and properties (`keys`, one column of values each; None is
    left out); b"" when none is left once generalised and clipped."""
    if not geometries:
        return b""
    wkbs = [g for g in geometries if isinstance(g, bytes)]
    if len(wkbs) == len(geometries):
        geoms = shapely.from_wkb(wkbs)
    else:
        geoms = np.empty(len(geometries), dtype=object)
        geoms[:] = [shapely.from_wkb(g) if isinstance(g, bytes) else g for g in geometries]
    geoms = _to_grid(geoms, address)
    keep = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)).tolist()
    if not keep:
        return b""
    return _layer_bytes(
        name,
        [ids[i] for i in keep],
        geoms[keep],
        keys,
        [[column[i] for i in keep] for column in columns],
    )


def _to_grid(geoms: NDArray[Any], address: TileAddress) -> NDArray[Any]:
    """Lon/lat geometries on the tile's integer grid, generalised as the module says;
    None or empty where a feature is left out."""
    n = 2**address.z

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x = ((xy[:, 0] + 180.0) / 360.0 * n - address.col) * EXTENT
        lat = np.radians(np.clip(xy[:, 1], -MAX_LAT, MAX_LAT))
        y = ((1.0 - np.arcsinh(np.tan(lat)) / np.pi) / 2.0 * n - address.row) * EXTENT
        out: NDArray[np.float64] = np.column_stack([x, y])
        return out

    geoms = shapely.transform(geoms, project)
    if address.z < DETAIL_ZOOM:
        bounds = shapely.bounds(geoms)
        small = (bounds[:, 2] - bounds[:, 0] < PIXEL) & (bounds[:, 3] - bounds[:, 1] < PIXEL)
        polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
        small |= polygonal & (shapely.area(geoms) < PIXEL * PIXEL)
        geoms = geoms.copy()
        geoms[small] = None
    edge = (-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    bounds = shapely.bounds(geoms)
    inside = (bounds[:, 0] >= edge[0]) & (bounds[:, 1] >= edge[1]) & \
             (bounds[:, 2] <= edge[2]) & (bounds[:, 3] <= edge[3])  # fmt: skip
    crossing = np.flatnonzero(~inside & ~shapely.is_missing(geoms))
    if crossing.size:
        geoms[crossing] = shapely.clip_by_rect(geoms[crossing], *edge)
    simple = shapely.simplify(geoms, SIMPLIFY, preserve_topology=True)
    # Rounding keeps nearly every outline valid and costs a microsecond; GEOS's
    # snap-rounding (set_precision) repairs the rest but costs 30 µs a polygon, so it is
    # kept for those that rounding broke (a sliver folded onto itself, a ring collapsed).
    geoms = shapely.transform(simple, np.rint)
    present = ~shapely.is_missing(geoms)
    valid = shapely.is_valid(geoms)
    broken = np.flatnonzero(present & ~valid)
    fine = np.flatnonzero(present & valid)
    # A valid outline may still pass a point twice, and MVT allows no zero-length step.
    geoms[fine] = shapely.remove_repeated_points(geoms[fine])
    if broken.size:
        repaired = shapely.set_precision(simple[broken], 1.0)
        some = ~shapely.is_empty(repaired)
        repaired[some] = shapely.remove_repeated_points(repaired[some])
        geoms[broken] = repaired
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    # The MVT winding: an exterior ring's area is positive on the y-down grid, which
    # GEOS calls counter-clockwise (it reads the numbers with y up).
    geoms[polygonal] = shapely.orient_polygons(geoms[polygonal], exterior_cw=False)
    result: NDArray[Any] = geoms
    return result


# -- MVT encoding ---------------------------------------------------------------------------


def _zigzag(values: NDArray[np.int64]) -> NDArray[np.int64]:
    out: NDArray[np.int64] = (values << 1) ^ (values >> 63)
    return out


def _command(command: int, count: NDArray[np.int64] | int) -> Any:
    return (np.asarray(count, dtype=np.int64) << 3) | command


def _parts(
    geoms: NDArray[Any], type_ids: NDArray[np.int32], single: int
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """The single parts of type `single` (a Point, LineString or Polygon type id) of
    `geoms`, in order, with the index of their feature: the geometry itself where it is
    one, the parts of a multi-geometry, the parts of that kind of a collection left by
    clipping."""
    alone = np.flatnonzero(type_ids == single)
    grouped = np.flatnonzero((type_ids == _MULTI[single]) | (type_ids == _COLLECTION))
    parts, index = geoms[alone], alone.astype(np.int64)
    if grouped.size:
        more, at = shapely.get_parts(geoms[grouped], return_index=True)
        wanted = (shapely.get_type_id(more) == single) & ~shapely.is_empty(more)
        parts = np.concatenate([parts, more[wanted]])
        index = np.concatenate([index, grouped[at[wanted]]])
        order = np.argsort(index, kind="stable")
        parts, index = parts[order], index[order]
    return parts, index


def _deltas(points: NDArray[np.int64], first: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each point less the one before it; the first point of each feature (`first`) less
    the origin, where MVT's cursor starts for every feature."""
    deltas = np.diff(points, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    deltas[first] = points[first]
    return _zigzag(deltas)


def _polygon_commands(
    parts: NDArray[Any], index: NDArray[np.int64], count: int
) -> tuple[list[int], NDArray[np.int64]]:
    """The commands of each feature's polygons, as one list, and where each feature's
    commands start in it (count + 1 offsets)."""
    _, coords, (ring_offsets, part_offsets) = shapely.to_ragged_array(parts)
    grid = np.rint(coords).astype(np.int64)
    rings = ring_offsets.size - 1
    closing = ring_offsets[1:] - 1
    kept = np.ones(len(grid), dtype=bool)
    kept[closing] = False  # MVT closes a ring with ClosePath, not by repeating a point
    points = grid[kept]
    starts = ring_offsets[:-1] - np.arange(rings)  # each ring's first point in `points`
    sizes = np.diff(ring_offsets) - 1
    ring_part = np.repeat(np.arange(parts.size), np.diff(part_offsets))
    ring_feature = index[ring_part]
    first_ring = np.flatnonzero(np.r_[True, ring_feature[1:] != ring_feature[:-1]])
    zig = _deltas(points, starts[first_ring])
    lengths = 2 * sizes + 3  # MoveTo, x, y, LineTo, 2 × (sizes − 1), ClosePath
    out_at = np.concatenate([[0], np.cumsum(lengths)])
    out = np.empty(int(out_at[-1]), dtype=np.int64)
    at = out_at[:-1]
    out[at] = _command(_MOVE_TO, 1)
    out[at + 1] = zig[starts, 0]
    out[at + 2] = zig[starts, 1]
    out[at + 3] = _command(_LINE_TO, sizes - 1)
    out[out_at[1:] - 1] = _command(_CLOSE_PATH, 1)
    ring_of = np.repeat(np.arange(rings), sizes)
    later = np.ones(len(points), dtype=bool)
    later[starts] = False
    idx = np.flatnonzero(later)
    pos = at[ring_of[idx]] + 2 * (idx - starts[ring_of[idx]]) + 2
    out[pos] = zig[idx, 0]
    out[pos + 1] = zig[idx, 1]
    return out.tolist(), _feature_offsets(ring_feature, out_at, count)


def _line_commands(
    parts: NDArray[Any], index: NDArray[np.int64], count: int
) -> tuple[list[int], NDArray[np.int64]]:
    """As `_polygon_commands`, for lines (each part MoveTo, then LineTo the rest)."""
    _, coords, (part_offsets,) = shapely.to_ragged_array(parts)
    points = np.rint(coords).astype(np.int64)
    starts = part_offsets[:-1].astype(np.int64)
    sizes = np.diff(part_offsets)
    first_part = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    zig = _deltas(points, starts[first_part])
    lengths = 2 * sizes + 2  # MoveTo, x, y, LineTo, 2 × (sizes − 1)
    out_at = np.concatenate([[0], np.cumsum(lengths)])
    out = np.empty(int(out_at[-1]), dtype=np.int64)
    at = out_at[:-1]
    out[at] = _command(_MOVE_TO, 1)
    out[at + 1] = zig[starts, 0]
    out[at + 2] = zig[starts, 1]
    out[at + 3] = _command(_LINE_TO, sizes - 1)
    part_of = np.repeat(np.arange(parts.size), sizes)
    later = np.ones(len(points), dtype=bool)
    later[starts] = False
    idx = np.flatnonzero(later)
    pos = at[part_of[idx]] + 2 * (idx - starts[part_of[idx]]) + 2
    out[pos] = zig[idx, 0]
    out[pos + 1] = zig[idx, 1]
    return out.tolist(), _feature_offsets(index, out_at, count)


def _point_commands(
    parts: NDArray[Any], index: NDArray[np.int64], count: int
) -> tuple[list[int], NDArray[np.int64]]:
    """As `_polygon_commands`, for points (one MoveTo with all of a feature's points)."""
    points = np.rint(shapely.get_coordinates(parts)).astype(np.int64)
    first = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    zig = _deltas(points, first)
    per_feature = np.bincount(index, minlength=count)
    lengths = np.where(per_feature > 0, 1 + 2 * per_feature, 0)
    out_at = np.concatenate([[0], np.cumsum(lengths)])
    out = np.empty(int(out_at[-1]), dtype=np.int64)
    has = np.flatnonzero(per_feature)
    out[out_at[has]] = _command(_MOVE_TO, per_feature[has])
    rank = np.arange(len(points)) - np.searchsorted(index, index, side="left")
    pos = out_at[index] + 1 + 2 * rank
    out[pos] = zig[:, 0]
    out[pos + 1] = zig[:, 1]
    return out.tolist(), out_at


def _feature_offsets(
    part_feature: NDArray[np.int64], out_at: NDArray[np.int64], count: int
) -> NDArray[np.int64]:
    """Where each of `count` features' commands start, given each part's feature (in
    order) and where each part's commands start; a feature without parts spans nothing."""
    first = np.searchsorted(part_feature, np.arange(count + 1), side="left")
    offsets: NDArray[np.int64] = out_at[first]
    return offsets


def _value(layer: Any, value: Any) -> None:
    slot = layer.values.add()
    if isinstance(value, bool):
        slot.bool_value = value
    elif isinstance(value, int):
        slot.sint_value = value
    elif isinstance(value, float):
        slot.double_value = value
    else:
        slot.string_value = str(value)


def _layer_bytes(
    name: str,
    ids: Sequence[int | None],
    geoms: NDArray[Any],
    keys: Sequence[str],
    columns: Sequence[Sequence[Any]],
) -> bytes:
    """One MVT layer of these features, serialised as a tile."""
    count = len(geoms)
    type_ids = shapely.get_type_id(geoms)
    kinds = [
        (_POLYGON, _polygon_commands, _parts(geoms, type_ids, 3)),
        (_LINESTRING, _line_commands, _parts(geoms, type_ids, 1)),
        (_POINT, _point_commands, _parts(geoms, type_ids, 0)),
    ]
    message = vector_tile_pb2.tile()
    layer = message.layers.add()
    layer.name = name
    layer.version = 2
    layer.extent = EXTENT
    layer.keys.extend(keys)
    # Each distinct value once, by its type too (True and 1 are different values).
    slots: dict[tuple[type, Any], int] = {}
    tags = np.full((count, 2 * len(keys)), -1, dtype=np.int64)
    for k, column in enumerate(columns):
        tags[:, 2 * k] = k
        for i, value in enumerate(column):
            if value is None:
                continue
            key = (type(value), value)
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = len(slots)
                _value(layer, value)
            tags[i, 2 * k + 1] = slot
    complete = bool((tags >= 0).all())
    tag_rows = tags.tolist()
    for kind, commands, (parts, index) in kinds:
        if parts.size == 0:
            continue
        stream, offsets = commands(parts, index, count)
        bounds = offsets.tolist()
        for i in np.unique(index).tolist():
            feature = layer.features.add()
            if ids[i] is not None:
                feature.id = ids[i]
            row = tag_rows[i]
            if not complete:
                row = [x for pair in zip(row[::2], row[1::2], strict=True) if pair[1] >= 0
                       for x in pair]  # fmt: skip
            feature.tags.extend(row)
            feature.type = kind
            feature.geometry.extend(stream[bounds[i] : bounds[i + 1]])
    if not layer.features:
        return b""
    data: bytes = message.SerializeToString()
    return data
