"""OGC API – Features over our data, without HTTP: which collections there are (the one
map's layers and the grids for everyone; cases, devices, cameras and the conflict patches
of the latest finished comparison run for staff), their extents, and their items filtered
by bbox, datetime and properties, one page at a time.

A bbox query is answered in SQL on the bounding-box columns first, through a spatial index
where the table has one (layer features and conflict patches): an R*Tree virtual table on
SQLite, a GiST index on the box on PostgreSQL (`spatial_index_statements`). Only the
features whose box crosses the query box's edge (a thin band, whatever the layer's size)
are read with their geometry for the exact intersects test; those that fail it are left out
of the count and of the page in SQL again. Features whose box lies inside the query box
match without being decoded. So a page costs one count, one small band scan and one
LIMIT/OFFSET query.

Axis order follows Part 2: CRS84 is lon, lat; EPSG:4490 and EPSG:4326 are lat, lon, both in
what we write and in a `bbox` given with such a `bbox-crs`. CGCS2000 and WGS 84 agree to
centimetres here (see `cityops.geo.crs`), so neither needs a transformation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    DDL,
    Boolean,
    ColumnElement,
    Table,
    and_,
    bindparam,
    column,
    event,
    func,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session

from cityops.cases.models import Case
from cityops.cases.service import visible_to
from cityops.cases.workflow import Actor
from cityops.errors import BadRequest, NotFound, Unauthorized
from cityops.onemap.models import (
    Conflict,
    ConflictRun,
    ConflictRunState,
    Layer,
    LayerFeature,
    LayerVersion,
)
from cityops.org.models import Region
from cityops.sensing.models import Device
from cityops.sensing.repository import visible_devices
from cityops.video.models import Camera
from cityops.video.repository import visible_cameras

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
SUPPORTED_CRS = (CRS84, EPSG_4490, EPSG_4326)
STORAGE_CRS = EPSG_4490
LAT_LON = frozenset({EPSG_4490, EPSG_4326})  # the EPSG definitions put latitude first
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
# Collections of our own; a layer whose name is one of these is served as `layer-<name>`.
RESERVED = ("grids", "cases", "devices", "cameras", "conflicts")
_BAND_CHUNK = 2_000

# A mapped attribute or SQL expression (SQLAlchemy's own types for both are too narrow).
Column = Any


# -- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    """A query box in lon/lat; `minx > maxx` crosses the antimeridian."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def geometry(self) -> BaseGeometry:
        if self.minx <= self.maxx:
            return shapely.box(self.minx, self.miny, self.maxx, self.maxy)
        return shapely.union(
            shapely.box(self.minx, self.miny, 180, self.maxy),
            shapely.box(-180, self.miny, self.maxx, self.maxy),
        )


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None is open at that end."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ItemQuery:
    """What `/items` was asked, parsed and checked."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: BBox | None = None
    interval: Interval | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    crs: str = CRS84


def parse_crs(raw: str | None, name: str = "crs") -> str:
    """One of the CRS URIs we serve (CRS84 when absent); 400 naming `name` otherwise."""
    if raw is None:
        return CRS84
    value = raw.strip()
    if value.startswith("[") and value.endswith("]"):  # a safe CURIE, e.g. [EPSG:4490]
        value = value[1:-1]
    curies = {"EPSG:4490": EPSG_4490, "EPSG:4326": EPSG_4326, "OGC:CRS84": CRS84}
    value = curies.get(value.upper(), value)
    if value not in SUPPORTED_CRS:
        raise BadRequest.at(name, f"unsupported CRS {raw!r}; use one of {', '.join(SUPPORTED_CRS)}")
    return value


def parse_limit(raw: str | None) -> int:
    """1 to 10,000, 10 when absent. A larger value is served as 10,000, as Part 1 asks
    (/req/core/fc-limit-response: more than the maximum is not an error)."""
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest.at("limit", f"not an integer: {raw!r}") from None
    if value < 1:
        raise BadRequest.at("limit", f"must be at least 1, not {value}")
    return min(value, MAX_LIMIT)


def parse_offset(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest.at("offset", f"not an integer: {raw!r}") from None
    if value < 0:
        raise BadRequest.at("offset", f"must not be negative, not {value}")
    return value


def parse_bbox(raw: str | None, bbox_crs: str | None) -> BBox | None:
    """`minx,miny,maxx,maxy` (or six numbers with heights, which are ignored) in
    `bbox_crs`'s axis order, as a lon/lat box."""
    crs = parse_crs(bbox_crs, "bbox-crs")
    if raw is None:
        if bbox_crs is not None:
            raise BadRequest.at("bbox-crs", "given without a bbox")
        return None
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise BadRequest.at("bbox", f"not a list of numbers: {raw!r}") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise BadRequest.at("bbox", f"needs four (or six) finite numbers: {raw!r}")
    a, b, c, d = numbers
    minx, miny, maxx, maxy = (b, a, d, c) if crs in LAT_LON else (a, b, c, d)
    if not (-90 <= miny <= maxy <= 90):
        raise BadRequest.at("bbox", "latitudes must be within -90..90, the lower first")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise BadRequest.at("bbox", "longitudes must be within -180..180")
    return BBox(minx, miny, maxx, maxy)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _instant(text: str, *, end: bool) -> datetime | None:
    if text in ("..", ""):
        return None
    try:
        if _DATE.match(text):
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return day + timedelta(days=1, microseconds=-1) if end else day
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise BadRequest.at("datetime", f"not an RFC 3339 date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(raw: str | None) -> Interval | None:
    """An instant (a date is its whole day, in UTC) or an interval `start/end`, either
    end open as `..` or empty."""
    if raw is None:
        return None
    text = raw.strip()
    if "/" in text:
        first, _, last = text.partition("/")
        interval = Interval(_instant(first, end=False), _instant(last, end=True))
        if interval.start is None and interval.end is None:
            raise BadRequest.at("datetime", "an interval needs at least one end")
    else:
        if text in ("..", ""):
            raise BadRequest.at("datetime", f"not an instant: {raw!r}")
        interval = Interval(_instant(text, end=False), _instant(text, end=True))
    if interval.start and interval.end and interval.start > interval.end:
        raise BadRequest.at("datetime", "the interval ends before it starts")
    return interval


# -- spatial index ------------------------------------------------------------------------

# The tables whose features are found by box at city scale, and their spatial indexes. An
# R*Tree is a virtual table with shadow tables, and an index on an expression is more than
# the models say: neither is a model, so both are named `sx_<table>`, which
# `cityops.db.include_name` leaves out of Alembic's comparison with the models.
SPATIAL_INDEX_PREFIX = "sx_"
INDEXED_TABLES = ("onemap_features", "onemap_conflicts")
# The box of a row as PostgreSQL's built-in `box` (no PostGIS needed); the GiST index is on
# this very expression, so a query must spell it the same way to use it.
_PG_BOX = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


def spatial_index_statements(table_name: str, dialect: str) -> list[str]:
    """SQL that builds `table_name`'s spatial index and fills it from the rows there (used by
    create_all and by migration 0013).

    SQLite: an R*Tree of the boxes (`sx_<table>`: id, min_lon, max_lon, min_lat, max_lat),
    kept in step by triggers on insert, delete and an update of the box. It stores 32-bit
    floats rounded outwards, so it may find a few boxes too many, never one too few: queries
    keep the exact test on the table's own columns. PostgreSQL: a GiST index on the box.
    """
    name = f"{SPATIAL_INDEX_PREFIX}{table_name}"
    if dialect == "postgresql":
        return [f"CREATE INDEX IF NOT EXISTS {name} ON {table_name} USING gist ({_PG_BOX})"]
    if dialect != "sqlite":
        return []
    row = "NEW.id, NEW.min_lon, NEW.max_lon, NEW.min_lat, NEW.max_lat"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} "
        "USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
        # A table dropped and created again leaves its R*Tree behind: start it afresh.
        f"DELETE FROM {name}",
        f"INSERT INTO {name} SELECT id, min_lon, max_lon, min_lat, max_lat FROM {table_name}",
        f"CREATE TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON {table_name} "
        f"BEGIN INSERT INTO {name} VALUES ({row}); END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_update "
        f"AFTER UPDATE OF id, min_lon, min_lat, max_lon, max_lat ON {table_name} "
        f"BEGIN DELETE FROM {name} WHERE id = OLD.id; INSERT INTO {name} VALUES ({row}); END",
        f"CREATE TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON {table_name} "
        f"BEGIN DELETE FROM {name} WHERE id = OLD.id; END",
    ]


def _index_when_created(model: Any) -> None:
    """Build the spatial index whenever `model`'s table is created by create_all (the tests'
    schema); a migrated database has it from migration 0013."""
    tbl: Table = model.__table__
    for dialect in ("sqlite", "postgresql"):
        for statement in spatial_index_statements(tbl.name, dialect):
            ddl = DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
            event.listen(tbl, "after_create", ddl)


_index_when_created(LayerFeature)
_index_when_created(Conflict)


def _has_rtree(session: Session, name: str) -> bool:
    # Asked each time (a lookup in the schema's few rows): a database built without the
    # migrations, by an older create_all, has no R*Tree and is answered from the columns.
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": name},
    )
    return found.first() is not None


def _rtree_ids(name: str, b: BBox, min_size: tuple[float, float] | None) -> Any:
    rt = table(name, column("id"), column("min_lon"), column("max_lon"), column("min_lat"),
               column("max_lat"))  # fmt: skip
    lat = [rt.c.min_lat <= b.maxy, rt.c.max_lat >= b.miny]
    if min_size is not None:
        # On the R*Tree's own columns: at a city overview most rows are left out here,
        # before the table's rows (and their geometries) are read.
        lat.append(or_(rt.c.max_lon - rt.c.min_lon >= min_size[0],
                       rt.c.max_lat - rt.c.min_lat >= min_size[1]))  # fmt: skip
    if b.minx <= b.maxx:
        return select(rt.c.id).where(rt.c.min_lon <= b.maxx, rt.c.max_lon >= b.minx, *lat)
    # Across the antimeridian: an R*Tree query takes ranges joined by AND only.
    east = select(rt.c.id).where(rt.c.max_lon >= b.minx, *lat)
    west = select(rt.c.id).where(rt.c.min_lon <= b.maxx, *lat)
    return east.union_all(west)


def _pg_query_box(b: BBox) -> list[Any]:
    def box(x0: float, x1: float) -> Any:
        return func.box(func.point(x0, b.miny), func.point(x1, b.maxy))

    if b.minx <= b.maxx:
        return [box(b.minx, b.maxx)]
    return [box(b.minx, 180.0), box(-180.0, b.maxx)]


def located(
    session: Session,
    coll: Collection,
    actor: Actor | None,
    b: BBox,
    min_size: tuple[float, float] | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses for the rows of `coll` that `actor` may see and whose box meets `b`,
    found through the table's spatial index where it has one. With `min_size` (degrees of
    longitude, of latitude), rows whose box is smaller than that both ways are left out
    (vector tiles at low zoom)."""
    s = coll.spatial
    where: list[ColumnElement[bool]] = list(coll.where)
    scope = visible(coll, actor)[len(where) :]
    conditions = [_overlaps(s, b)]
    if min_size is not None:
        conditions.append(
            or_(s.max_lon - s.min_lon >= min_size[0], s.max_lat - s.min_lat >= min_size[1])
        )
    dialect = session.get_bind().dialect.name
    if s.index is not None and dialect == "postgresql":
        # The index's own expression, over the table's columns: only so does the planner
        # see that the GiST index answers it.
        own = func.box(func.point(s.min_lon, s.min_lat), func.point(s.max_lon, s.max_lat))
        boxes = [own.op("&&")(q) for q in _pg_query_box(b)]
        conditions.insert(0, or_(*boxes) if len(boxes) > 1 else boxes[0])
    elif s.index is not None and dialect == "sqlite" and _has_rtree(session, s.index):
        conditions.insert(0, coll.key.in_(_rtree_ids(s.index, b, min_size)))
        # Without statistics SQLite's planner takes the B-tree on (version_id, min_lon) for
        # the version's test and reads half the layer; likely() tells it that test leaves
        # most rows in, so it looks up the R*Tree's ids instead (0.2 ms, not 11 ms, for a
        # page's box in 100,000 features).
        where = [func.likely(w, type_=Boolean) for w in where]
    return [*where, *scope, *conditions]


# -- collections --------------------------------------------------------------------------


@dataclass(frozen=True)
class Spatial:
    """Where a collection keeps its geometry: a WKB column with its bounding-box columns,
    or a point's lon/lat columns (`wkb` None; the box is the point)."""

    min_lon: Column
    min_lat: Column
    max_lon: Column
    max_lat: Column
    wkb: Column = None
    index: str | None = None  # the table's spatial index (`sx_<table>`), if it has one


@dataclass(frozen=True)
class Queryable:
    """A property that may be filtered on by a query parameter of the same name."""

    column: Column
    kind: str = "string"  # string, integer or boolean
    title: str = ""


@dataclass(frozen=True)
class Collection:
    """A feature collection: how to read its items, who may, and how to filter them."""

    id: str
    title: str
    description: str
    key: Column  # the feature's id
    spatial: Spatial
    columns: tuple[tuple[str, Column], ...]  # the properties, by name
    where: tuple[ColumnElement[bool], ...] = ()
    queryables: Mapping[str, Queryable] = field(default_factory=dict)
    time: Column = None  # the property `datetime` filters on
    time_name: str | None = None
    # The rows an authenticated caller may see; None: a public collection.
    scope: Callable[[Actor], ColumnElement[bool]] | None = None
    extra: Column = None  # a JSON column of further properties (a layer's attributes)
    keywords: tuple[str, ...] = ()
    version: LayerVersion | None = None  # a layer's current version: its extent
    # What a vector tile's feature carries (by name); none: the collection has no tiles.
    tile_properties: tuple[tuple[str, Column], ...] = ()

    @property
    def staff_only(self) -> bool:
        return self.scope is not None

    @property
    def key_is_int(self) -> bool:
        return self.key is not Region.code


def _spatial_of_box(model: Any) -> Spatial:
    name = model.__tablename__
    index = f"{SPATIAL_INDEX_PREFIX}{name}" if name in INDEXED_TABLES else None
    return Spatial(model.min_lon, model.min_lat, model.max_lon, model.max_lat, model.geometry,
                   index)  # fmt: skip


def _spatial_of_point(model: Any) -> Spatial:
    return Spatial(model.lon, model.lat, model.lon, model.lat)


GRIDS = Collection(
    id="grids",
    title="网格 Grids",
    description="城市管理网格：编码、名称、所属社区和管理等级 (the management grids)",
    key=Region.code,
    spatial=_spatial_of_box(Region),
    columns=(
        ("code", Region.code),
        ("name", Region.name),
        ("parent_code", Region.parent_code),
        ("grade", Region.grade),
        ("area_m2", Region.area_m2),
    ),
    where=(Region.level == "grid",),
    queryables={
        "code": Queryable(Region.code, title="网格编码"),
        "name": Queryable(Region.name, title="名称"),
        "parent_code": Queryable(Region.parent_code, title="所属社区编码"),
        "grade": Queryable(Region.grade, "integer", "管理等级"),
    },
    keywords=("网格", "grid"),
    tile_properties=(("code", Region.code), ("name", Region.name)),
)

CASES = Collection(
    id="cases",
    title="案件 Cases",
    description="案件的位置和进度，仅限工作人员，按其权限范围 (staff only, as far as each may see)",
    key=Case.id,
    spatial=_spatial_of_point(Case),
    columns=(
        ("class_code", Case.class_code),
        ("family", Case.family),
        ("urgency", Case.urgency),
        ("state", Case.state),
        ("address", Case.address),
        ("grid_code", Case.grid_code),
        ("region_code", Case.region_code),
        ("source_kind", Case.source_kind),
        ("overdue", Case.overdue),
        ("reported_at", Case.reported_at),
        ("closed_at", Case.closed_at),
    ),
    queryables={
        "class_code": Queryable(Case.class_code, title="案件类别"),
        "family": Queryable(Case.family, title="事件或部件"),
        "urgency": Queryable(Case.urgency, title="紧急程度"),
        "state": Queryable(Case.state, title="状态"),
        "grid_code": Queryable(Case.grid_code, title="网格编码"),
        "region_code": Queryable(Case.region_code, title="区域编码"),
        "source_kind": Queryable(Case.source_kind, title="来源"),
        "overdue": Queryable(Case.overdue, "boolean", "是否超时"),
    },
    time=Case.reported_at,
    time_name="reported_at",
    scope=visible_to,
    keywords=("案件", "case"),
)

DEVICES = Collection(
    id="devices",
    title="感知设备 Devices",
    description="物联感知设备的位置，仅限工作人员 (sensors' locations, staff only)",
    key=Device.id,
    spatial=_spatial_of_point(Device),
    columns=(
        ("code", Device.code),
        ("name", Device.name),
        ("address", Device.address),
        ("grid_code", Device.grid_code),
        ("facility_code", Device.facility_code),
        ("facility_class_code", Device.facility_class_code),
        ("active", Device.active),
        ("last_seen_at", Device.last_seen_at),
    ),
    queryables={
        "code": Queryable(Device.code, title="设备编码"),
        "grid_code": Queryable(Device.grid_code, title="网格编码"),
        "facility_class_code": Queryable(Device.facility_class_code, title="部件类别"),
        "active": Queryable(Device.active, "boolean", "是否启用"),
    },
    scope=visible_devices,
    keywords=("设备", "device"),
)

CAMERAS = Collection(
    id="cameras",
    title="视频监控点位 Cameras",
    description="视频监控点位，仅限工作人员；不含视频流地址 (cameras, staff only, no stream URLs)",
    key=Camera.id,
    spatial=_spatial_of_point(Camera),
    columns=(
        ("code", Camera.code),
        ("name", Camera.name),
        ("address", Camera.address),
        ("grid_code", Camera.grid_code),
        ("direction_deg", Camera.direction_deg),
        ("status", Camera.status),
        ("last_seen_at", Camera.last_seen_at),
    ),
    queryables={
        "code": Queryable(Camera.code, title="点位编码"),
        "grid_code": Queryable(Camera.grid_code, title="网格编码"),
        "status": Queryable(Camera.status, title="状态"),
    },
    scope=visible_cameras,
    keywords=("视频", "camera"),
)

FIXED = {c.id: c for c in (GRIDS, CASES, DEVICES, CAMERAS)}


def layer_collection_id(name: str) -> str:
    return f"layer-{name}" if name in RESERVED or name.startswith("layer-") else name


def _layer_collection(layer: Layer, version: LayerVersion | None) -> Collection:
    version_id = version.id if version is not None else -1
    return Collection(
        id=layer_collection_id(layer.name),
        title=layer.title,
        description=layer.description or f"一张图图层 ({layer.kind})",
        key=LayerFeature.id,
        spatial=_spatial_of_box(LayerFeature),
        columns=(
            ("fid", LayerFeature.fid),
            ("class_code", LayerFeature.class_code),
            ("source_class", LayerFeature.source_class),
            ("area_m2", LayerFeature.area_m2),
        ),
        where=(LayerFeature.version_id == version_id,),
        queryables={
            "class_code": Queryable(LayerFeature.class_code, title="用地用海分类代码"),
            "source_class": Queryable(LayerFeature.source_class, title="原始分类"),
            "fid": Queryable(LayerFeature.fid, "integer", "源要素编号"),
        },
        extra=LayerFeature.properties,
        keywords=("一张图", layer.kind, *([layer.line] if layer.line else [])),
        version=version,
        tile_properties=(
            ("id", LayerFeature.id),
            ("fid", LayerFeature.fid),
            ("class_code", LayerFeature.class_code),
            ("source_class", LayerFeature.source_class),
        ),
    )


def layer_at_version(session: Session, coll: Collection, number: int) -> Collection:
    """A layer's collection as it was at its version `number` (versions are kept and never
    change); 404 if the layer has no such version."""
    if coll.version is None:
        raise BadRequest.at("v", f"collection {coll.id!r} is not a layer with versions")
    if number == coll.version.version:
        return coll
    version = session.scalar(
        select(LayerVersion).where(
            LayerVersion.layer_id == coll.version.layer_id, LayerVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"collection {coll.id!r} has no version {number}")
    return replace(coll, where=(LayerFeature.version_id == version.id,), version=version)


def _any_staff(_actor: Actor) -> ColumnElement[bool]:
    return true()


def _conflicts(session: Session) -> Collection:
    """The conflict patches of the latest finished comparison run (none before the first)."""
    run_id = session.scalar(
        select(func.max(ConflictRun.id)).where(ConflictRun.state == ConflictRunState.FINISHED)
    )
    return Collection(
        id="conflicts",
        title="规划冲突图斑 Conflicts",
        description="最近一次完成的多规合一比对发现的冲突图斑，仅限工作人员 "
        "(the conflict patches of the latest finished comparison, staff only)",
        key=Conflict.id,
        spatial=_spatial_of_box(Conflict),
        columns=(
            ("run_id", Conflict.run_id),
            ("rule", Conflict.rule),
            ("layer_a", Conflict.layer_a),
            ("feature_a", Conflict.feature_a),
            ("class_a", Conflict.class_a),
            ("layer_b", Conflict.layer_b),
            ("feature_b", Conflict.feature_b),
            ("class_b", Conflict.class_b),
            ("difference", Conflict.difference),
            ("area_m2", Conflict.area_m2),
            ("street_code", Conflict.street_code),
            ("state", Conflict.state),
            ("case_id", Conflict.case_id),
            ("resolution", Conflict.resolution),
        ),
        where=(Conflict.run_id == (run_id if run_id is not None else -1),),
        queryables={
            "rule": Queryable(Conflict.rule, title="冲突规则"),
            "class_a": Queryable(Conflict.class_a, title="甲方用地分类"),
            "class_b": Queryable(Conflict.class_b, title="乙方用地分类"),
            "layer_a": Queryable(Conflict.layer_a, title="甲方图层"),
            "layer_b": Queryable(Conflict.layer_b, title="乙方图层"),
            "street_code": Queryable(Conflict.street_code, title="街道编码"),
            "state": Queryable(Conflict.state, title="处理状态"),
            "difference": Queryable(Conflict.difference, title="差异类型"),
        },
        scope=_any_staff,
        keywords=("一张图", "冲突图斑", "conflict"),
        tile_properties=(
            ("id", Conflict.id),
            ("rule", Conflict.rule),
            ("layer_a", Conflict.layer_a),
            ("class_a", Conflict.class_a),
            ("layer_b", Conflict.layer_b),
            ("class_b", Conflict.class_b),
            ("difference", Conflict.difference),
            ("area_m2", Conflict.area_m2),
            ("state", Conflict.state),
        ),
    )


def _layers(session: Session, name: str | None = None) -> list[Collection]:
    query = (
        select(Layer, LayerVersion)
        .outerjoin(
            LayerVersion,
            and_(LayerVersion.layer_id == Layer.id, LayerVersion.version == Layer.current_version),
        )
        .order_by(Layer.name)
    )
    if name is not None:
        query = query.where(Layer.name == name)
    return [_layer_collection(layer, version) for layer, version in session.execute(query)]


def collections(session: Session, actor: Actor | None) -> list[Collection]:
    """The collections `actor` may read: the layers and the grids for anyone, and the
    staff's collections for a logged-in caller."""
    found = [*_layers(session), GRIDS]
    if actor is not None:
        found += [CASES, DEVICES, CAMERAS, _conflicts(session)]
    return found


def collection(session: Session, collection_id: str, actor: Actor | None) -> Collection:
    """One collection; 404 for none of that id, 401 for a staff collection without login."""
    fixed = _conflicts(session) if collection_id == "conflicts" else FIXED.get(collection_id)
    if fixed is not None:
        if fixed.staff_only and actor is None:
            raise Unauthorized(f"collection {collection_id!r} is for logged-in staff only")
        return fixed
    name = collection_id
    if collection_id.startswith("layer-"):
        name = collection_id.removeprefix("layer-")
    found = [c for c in _layers(session, name) if c.id == collection_id]
    if not found:
        raise NotFound(f"no collection {collection_id!r}")
    return found[0]


def visible(coll: Collection, actor: Actor | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the rows of `coll` that `actor` may see; 401 for a staff
    collection without login."""
    conditions = list(coll.where)
    if coll.scope is not None:
        if actor is None:
            raise Unauthorized(f"collection {coll.id!r} is for logged-in staff only")
        conditions.append(coll.scope(actor))
    return conditions


def extent(session: Session, coll: Collection, actor: Actor | None) -> dict[str, Any]:
    """The spatial extent in CRS84 (from the layer version's box, else from the rows the
    caller may see) and, for a collection with a time property, the temporal one."""
    s = coll.spatial
    box: list[float | None]
    if coll.version is not None:
        v = coll.version
        box = [v.min_lon, v.min_lat, v.max_lon, v.max_lat]
    else:
        row = session.execute(
            select(
                func.min(s.min_lon), func.min(s.min_lat), func.max(s.max_lon), func.max(s.max_lat)
            ).where(*visible(coll, actor))
        ).one()
        box = list(row)
    result: dict[str, Any] = {}
    if all(v is not None for v in box):
        result["spatial"] = {"bbox": [box], "crs": CRS84}
    if coll.time is not None:
        first, last = session.execute(
            select(func.min(coll.time), func.max(coll.time)).where(*visible(coll, actor))
        ).one()
        result["temporal"] = {
            "interval": [[iso(first), iso(last)]] if first else [[None, None]],
            "trs": GREGORIAN,
        }
    return result


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


# -- items --------------------------------------------------------------------------------


def _overlaps(s: Spatial, b: BBox) -> ColumnElement[bool]:
    lat = and_(s.min_lat <= b.maxy, s.max_lat >= b.miny)
    if b.minx <= b.maxx:
        return and_(s.min_lon <= b.maxx, s.max_lon >= b.minx, lat)
    return and_(or_(s.max_lon >= b.minx, s.min_lon <= b.maxx), lat)


def _inside(s: Spatial, b: BBox) -> ColumnElement[bool]:
    lat = and_(s.min_lat >= b.miny, s.max_lat <= b.maxy)
    if b.minx <= b.maxx:
        return and_(s.min_lon >= b.minx, s.max_lon <= b.maxx, lat)
    return and_(or_(s.min_lon >= b.minx, s.max_lon <= b.maxx), lat)


def _property_condition(name: str, q: Queryable, raw: str) -> ColumnElement[bool]:
    value: Any = raw
    if q.kind == "integer":
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest.at(name, f"not an integer: {raw!r}") from None
    elif q.kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise BadRequest.at(name, f"true or false, not {raw!r}")
        value = raw.lower() == "true"
    condition: ColumnElement[bool] = q.column == value
    return condition


def _conditions(session: Session, coll: Collection, actor: Actor | None, q: ItemQuery) -> list[Any]:
    conditions: list[Any] = (
        located(session, coll, actor, q.bbox) if q.bbox is not None else visible(coll, actor)
    )
    if q.interval is not None:
        if coll.time is None:
            raise BadRequest.at(
                "datetime", f"collection {coll.id!r} has no time property to filter on"
            )
        if q.interval.start is not None:
            conditions.append(coll.time >= q.interval.start)
        if q.interval.end is not None:
            conditions.append(coll.time <= q.interval.end)
    for name, raw in q.properties.items():
        queryable = coll.queryables.get(name)
        if queryable is None:
            raise BadRequest.at(name, f"not a queryable property of {coll.id!r}")
        conditions.append(_property_condition(name, queryable, raw))
    return conditions


def _outside(session: Session, coll: Collection, conditions: list[Any], bbox: BBox) -> list[Any]:
    """The keys of the features whose box meets the query box but whose geometry does
    not: read only from the band of boxes that cross the query box's edge."""
    s = coll.spatial
    if s.wkb is None:  # a point's box is the point: the SQL test was exact
        return []
    area = bbox.geometry()
    shapely.prepare(area)
    band = select(coll.key, s.wkb).where(*conditions, ~_inside(s, bbox))
    keys: list[Any] = []
    result = session.execute(band.execution_options(yield_per=_BAND_CHUNK))
    for chunk in result.partitions():
        geoms = shapely.from_wkb([row[1] for row in chunk])
        hits = shapely.intersects(area, geoms)
        keys.extend(row[0] for row, hit in zip(chunk, hits, strict=True) if not hit)
    return keys


@dataclass
class Page:
    """One page of features (GeoJSON dicts, geometries pre-serialised) and the number of
    all that match."""

    features: list[dict[str, Any]]
    matched: int


def _select(coll: Collection) -> Any:
    s = coll.spatial
    geometry = (s.wkb,) if s.wkb is not None else (s.min_lon, s.min_lat)
    extra = (coll.extra,) if coll.extra is not None else ()
    return select(coll.key, *geometry, *extra, *(col for _, col in coll.columns))


def _swap(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = xy[:, ::-1]
    return out


def _features(coll: Collection, rows: Sequence[Any], crs: str) -> list[dict[str, Any]]:
    lat_first = crs in LAT_LON
    names = [name for name, _ in coll.columns]
    has_extra = coll.extra is not None
    first_prop = (2 if coll.spatial.wkb is not None else 3) + has_extra
    geometries: list[Any]
    if coll.spatial.wkb is not None:
        geoms = shapely.from_wkb([row[1] for row in rows])
        if lat_first:
            geoms = shapely.transform(geoms, _swap)
        texts = shapely.to_geojson(geoms)
        geometries = [orjson.Fragment(t) if t is not None else None for t in texts]
    else:
        geometries = [
            None if row[1] is None or row[2] is None
            else {"type": "Point", "coordinates": [row[2], row[1]] if lat_first
                  else [row[1], row[2]]}
            for row in rows
        ]  # fmt: skip
    features = []
    for row, geometry in zip(rows, geometries, strict=True):
        properties = dict(row[first_prop - 1]) if has_extra and row[first_prop - 1] else {}
        properties.update(zip(names, row[first_prop:], strict=True))
        features.append(
            {"type": "Feature", "id": row[0], "geometry": geometry, "properties": properties}
        )
    return features


def items(session: Session, coll: Collection, actor: Actor | None, q: ItemQuery) -> Page:
    """One page of `coll`'s features that `actor` may see and that match `q`, in key
    order, with the number of all that match."""
    conditions = _conditions(session, coll, actor, q)
    outside = _outside(session, coll, conditions, q.bbox) if q.bbox is not None else []
    total = session.scalar(select(func.count()).select_from(coll.key.class_).where(*conditions))
    if outside:
        # Inline integers (no bound parameter per key): SQLite caps those at 32,766.
        conditions.append(coll.key.not_in(bindparam("outside", outside, expanding=True,
                                                    literal_execute=True)))  # fmt: skip
    query = _select(coll).where(*conditions).order_by(coll.key).limit(q.limit).offset(q.offset)
    rows = session.execute(query).all()
    return Page(_features(coll, rows, q.crs), int(total or 0) - len(outside))


def item(
    session: Session, coll: Collection, actor: Actor | None, key: str, crs: str = CRS84
) -> dict[str, Any]:
    """One feature of `coll` by its id; 404 if there is none the caller may see."""
    value: Any = key
    if coll.key_is_int:
        try:
            value = int(key)
        except ValueError:
            raise NotFound(f"no feature {key!r} in {coll.id!r}") from None
    rows = session.execute(_select(coll).where(*visible(coll, actor), coll.key == value)).all()
    if not rows:
        raise NotFound(f"no feature {key!r} in {coll.id!r}")
    return _features(coll, rows, crs)[0]


ITEM_PARAMETERS = frozenset({"f", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs"})


def item_query(params: Sequence[tuple[str, str]], coll: Collection) -> ItemQuery:
    """The query `params` of `/items` asked, checked: an unknown parameter is refused, as
    Part 1 asks (/req/core/query-param-unknown), and so is `datetime` on a collection
    without a time property (its API definition does not declare it)."""
    given: dict[str, str] = {}
    for name, value in params:
        if name in given:
            raise BadRequest.at(name, "given more than once")
        given[name] = value
    for name in given:
        if name not in ITEM_PARAMETERS and name not in coll.queryables:
            known = ", ".join(sorted(ITEM_PARAMETERS | set(coll.queryables)))
            raise BadRequest.at(name, f"unknown query parameter; {coll.id!r} takes {known}")
    if "datetime" in given and coll.time is None:
        raise BadRequest.at("datetime", f"collection {coll.id!r} has no time property")
    return ItemQuery(
        limit=parse_limit(given.get("limit")),
        offset=parse_offset(given.get("offset")),
        bbox=parse_bbox(given.get("bbox"), given.get("bbox-crs")),
        interval=parse_datetime(given.get("datetime")),
        properties={k: v for k, v in given.items() if k in coll.queryables},
        crs=parse_crs(given.get("crs")),
    )
