"""The STA entity types over the sensing tables: keys, properties, navigation and JSON.

Each entity type says which table it reads (through an alias, so that one query may hold
the same table twice), which columns it selects (labelled, so that rows read the same
from a table or a window subquery), how a property maps to SQL, how to reach each
navigation target, and how a row becomes STA JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, func, select
from sqlalchemy.orm import aliased

from cityops.sensing.models import Datastream, Device, DeviceType, ObservedProperty, Reading

Alias = Any  # an aliased ORM class: its attributes are SQL column expressions
Row = RowMapping

# An Observation's id packs its datastream and its time in epoch milliseconds: a reading
# has no id of its own, (datastream, time) identifies it. 10**13 ms reach the year 2286.
OBSERVATION_ID_FACTOR = 10**13
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
GEOJSON = "application/geo+json"
GEOJSON_TYPES = frozenset({GEOJSON, "application/vnd.geo+json"})
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


class Kind(StrEnum):
    """What a property holds, for type checks in `$filter` and the choice of SQL."""

    NUMBER = "number"
    STRING = "string"
    DATETIME = "datetime"
    BOOL = "bool"
    JSON = "json"  # an object: compared through its members (`properties/code`)
    INTERVAL = "interval"  # an ISO 8601 interval: shown, not compared
    GEOMETRY = "geometry"  # GeoJSON: shown, not compared
    OBSERVATION_ID = "observation-id"  # (datastream, time) packed into one number
    NULL = "null"  # the literal null


@dataclass(frozen=True)
class Prop:
    kind: Kind
    # The SQL for the property on an alias; None for what is derived in Python only.
    column: Callable[[Alias], ColumnElement[Any]] | None = None


@dataclass(frozen=True)
class Nav:
    target: str  # the entity type's name
    many: bool
    # The join condition between a source alias and a target alias.
    join: Callable[[Alias, Alias], ColumnElement[bool]]


@dataclass(frozen=True)
class EntityType:
    name: str
    plural: str
    model: type[Any]
    key: Callable[[Alias], list[ColumnElement[Any]]]
    columns: Callable[[Alias], list[ColumnElement[Any]]]
    key_of: Callable[[Row], tuple[Any, ...]]
    id_of: Callable[[Row], int]
    match_id: Callable[[Alias, int], ColumnElement[bool]]
    body: Callable[[Row], dict[str, Any]]
    props: dict[str, Prop]
    navs: dict[str, Nav]
    # Where the type lives on only some rows of its table (a Location: devices with a place).
    base: Callable[[Alias], list[ColumnElement[bool]]] = field(default=lambda _a: [])
    # The JSON column whose members `properties/<name>` reach, and members kept in columns.
    json_column: Callable[[Alias], ColumnElement[Any]] | None = None
    json_members: dict[str, Prop] = field(default_factory=dict)

    def alias(self) -> Alias:
        return aliased(self.model)


def iso(value: datetime | None) -> str | None:
    """A UTC instant as STA writes it: milliseconds and a Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def observation_id(datastream_id: int, observed_at: datetime) -> int:
    return datastream_id * OBSERVATION_ID_FACTOR + (observed_at - EPOCH) // MILLISECOND


def split_observation_id(value: int) -> tuple[int, datetime] | None:
    """(datastream id, time) of an Observation id; None for a number that is none."""
    datastream_id, ms = divmod(value, OBSERVATION_ID_FACTOR)
    if value < 0 or datastream_id == 0:
        return None
    return datastream_id, EPOCH + ms * MILLISECOND


def point(lon: float | None, lat: float | None) -> dict[str, Any] | None:
    if lon is None or lat is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _by_id(a: Alias, value: int) -> ColumnElement[bool]:
    return a.id == value  # type: ignore[no-any-return]


def _simple_key(a: Alias) -> list[ColumnElement[Any]]:
    return [a.id]


def _row_id(r: Row) -> int:
    return int(r["id"])


def _row_key(r: Row) -> tuple[Any, ...]:
    return (r["id"],)


def _same_device(s: Alias, t: Alias) -> ColumnElement[bool]:
    return s.id == t.id  # type: ignore[no-any-return]


def _has_place(a: Alias) -> list[ColumnElement[bool]]:
    return [a.lon.is_not(None), a.lat.is_not(None)]


def _place_name(a: Alias) -> ColumnElement[Any]:
    return func.coalesce(func.nullif(a.address, ""), a.name)


# -- Thing: a device ---------------------------------------------------------------------


def _thing_body(r: Row) -> dict[str, Any]:
    # The device's code is shown among the properties: it is what the device calls itself
    # in payloads and topics, and what a client gives as `properties.code` on create.
    return {
        "name": r["name"],
        "description": r["description"],
        "properties": {**(r["properties"] or {}), "code": r["code"]},
    }


THING = EntityType(
    name="Thing",
    plural="Things",
    model=Device,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.name.label("name"),
        a.description.label("description"),
        a.properties.label("properties"),
        a.code.label("code"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=_thing_body,
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, lambda a: a.name),
        "description": Prop(Kind.STRING, lambda a: a.description),
        "properties": Prop(Kind.JSON),
    },
    navs={
        "Locations": Nav("Location", True, _same_device),
        "HistoricalLocations": Nav("HistoricalLocation", True, _same_device),
        "Datastreams": Nav("Datastream", True, lambda s, t: t.device_id == s.id),
    },
    json_column=lambda a: a.properties,
    json_members={"code": Prop(Kind.STRING, lambda a: a.code)},
)


# -- Location, HistoricalLocation, FeatureOfInterest: the device's point -----------------


def _location_body(r: Row) -> dict[str, Any]:
    name = r["address"] or r["name"]
    return {
        "name": name,
        "description": name,
        "encodingType": GEOJSON,
        "location": point(r["lon"], r["lat"]),
    }


LOCATION = EntityType(
    name="Location",
    plural="Locations",
    model=Device,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.name.label("name"),
        a.address.label("address"),
        a.lon.label("lon"),
        a.lat.label("lat"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=_location_body,
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, _place_name),
        "description": Prop(Kind.STRING, _place_name),
        "encodingType": Prop(Kind.STRING),
        "location": Prop(Kind.GEOMETRY),
    },
    navs={
        "Things": Nav("Thing", True, _same_device),
        "HistoricalLocations": Nav("HistoricalLocation", True, _same_device),
    },
    base=_has_place,
)

HISTORICAL_LOCATION = EntityType(
    name="HistoricalLocation",
    plural="HistoricalLocations",
    model=Device,
    key=_simple_key,
    columns=lambda a: [a.id.label("id"), a.created_at.label("created_at")],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    # Devices keep no history of moves: the one historical location is the current
    # place, since the device was registered.
    body=lambda r: {"time": iso(r["created_at"])},
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "time": Prop(Kind.DATETIME, lambda a: a.created_at),
    },
    navs={
        "Thing": Nav("Thing", False, _same_device),
        "Locations": Nav("Location", True, _same_device),
    },
    base=_has_place,
)


def _feature_body(r: Row) -> dict[str, Any]:
    return {
        "name": r["name"],
        "description": r["address"] or r["name"],
        "encodingType": GEOJSON,
        "feature": point(r["lon"], r["lat"]),
    }


def _observations_of_device(s: Alias, t: Alias) -> ColumnElement[bool]:
    ds = aliased(Datastream)
    return t.datastream_id.in_(select(ds.id).where(ds.device_id == s.id))  # type: ignore[no-any-return]


FEATURE_OF_INTEREST = EntityType(
    name="FeatureOfInterest",
    plural="FeaturesOfInterest",
    model=Device,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.name.label("name"),
        a.address.label("address"),
        a.lon.label("lon"),
        a.lat.label("lat"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=_feature_body,
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, lambda a: a.name),
        "description": Prop(Kind.STRING, _place_name),
        "encodingType": Prop(Kind.STRING),
        "feature": Prop(Kind.GEOMETRY),
    },
    navs={"Observations": Nav("Observation", True, _observations_of_device)},
)


# -- Sensor: a device type; ObservedProperty ---------------------------------------------


def _datastreams_of_type(s: Alias, t: Alias) -> ColumnElement[bool]:
    d = aliased(Device)
    return t.device_id.in_(select(d.id).where(d.device_type_id == s.id))  # type: ignore[no-any-return]


SENSOR = EntityType(
    name="Sensor",
    plural="Sensors",
    model=DeviceType,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.code.label("code"),
        a.name.label("name"),
        a.description.label("description"),
        a.encoding_type.label("encoding_type"),
        a.metadata_url.label("metadata_url"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=lambda r: {
        "name": r["name"],
        "description": r["description"],
        "encodingType": r["encoding_type"],
        "metadata": r["metadata_url"],
        "properties": {"code": r["code"]},
    },
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, lambda a: a.name),
        "description": Prop(Kind.STRING, lambda a: a.description),
        "encodingType": Prop(Kind.STRING, lambda a: a.encoding_type),
        "metadata": Prop(Kind.STRING, lambda a: a.metadata_url),
        "properties": Prop(Kind.JSON),
    },
    navs={"Datastreams": Nav("Datastream", True, _datastreams_of_type)},
    json_members={"code": Prop(Kind.STRING, lambda a: a.code)},
)

OBSERVED_PROPERTY = EntityType(
    name="ObservedProperty",
    plural="ObservedProperties",
    model=ObservedProperty,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.code.label("code"),
        a.name.label("name"),
        a.definition.label("definition"),
        a.description.label("description"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=lambda r: {
        "name": r["name"],
        "definition": r["definition"],
        "description": r["description"],
        "properties": {"code": r["code"]},
    },
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, lambda a: a.name),
        "definition": Prop(Kind.STRING, lambda a: a.definition),
        "description": Prop(Kind.STRING, lambda a: a.description),
        "properties": Prop(Kind.JSON),
    },
    navs={"Datastreams": Nav("Datastream", True, lambda s, t: t.property_id == s.id)},
    json_members={"code": Prop(Kind.STRING, lambda a: a.code)},
)


# -- Datastream ---------------------------------------------------------------------------


def _datastream_body(r: Row) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": r["name"],
        "description": r["description"],
        "unitOfMeasurement": {
            "name": r["unit_name"],
            "symbol": r["unit_symbol"],
            "definition": r["unit_definition"],
        },
        "observationType": r["observation_type"],
    }
    if r["first_time"] is not None and r["last_time"] is not None:
        body["phenomenonTime"] = f"{iso(r['first_time'])}/{iso(r['last_time'])}"
    return body


def _sensor_of_datastream(s: Alias, t: Alias) -> ColumnElement[bool]:
    d = aliased(Device)
    return t.id == select(d.device_type_id).where(d.id == s.device_id).scalar_subquery()  # type: ignore[no-any-return]


DATASTREAM = EntityType(
    name="Datastream",
    plural="Datastreams",
    model=Datastream,
    key=_simple_key,
    columns=lambda a: [
        a.id.label("id"),
        a.name.label("name"),
        a.description.label("description"),
        a.unit_name.label("unit_name"),
        a.unit_symbol.label("unit_symbol"),
        a.unit_definition.label("unit_definition"),
        a.observation_type.label("observation_type"),
        a.first_time.label("first_time"),
        a.last_time.label("last_time"),
    ],
    key_of=_row_key,
    id_of=_row_id,
    match_id=_by_id,
    body=_datastream_body,
    props={
        "id": Prop(Kind.NUMBER, lambda a: a.id),
        "name": Prop(Kind.STRING, lambda a: a.name),
        "description": Prop(Kind.STRING, lambda a: a.description),
        "observationType": Prop(Kind.STRING, lambda a: a.observation_type),
        "unitOfMeasurement": Prop(Kind.JSON),
        # An interval: ordered by its start, not compared.
        "phenomenonTime": Prop(Kind.INTERVAL, lambda a: a.first_time),
    },
    navs={
        "Thing": Nav("Thing", False, lambda s, t: t.id == s.device_id),
        "Sensor": Nav("Sensor", False, _sensor_of_datastream),
        "ObservedProperty": Nav("ObservedProperty", False, lambda s, t: t.id == s.property_id),
        "Observations": Nav("Observation", True, lambda s, t: t.datastream_id == s.id),
    },
    json_members={
        "name": Prop(Kind.STRING, lambda a: a.unit_name),
        "symbol": Prop(Kind.STRING, lambda a: a.unit_symbol),
        "definition": Prop(Kind.STRING, lambda a: a.unit_definition),
    },
)


# -- Observation: a reading ---------------------------------------------------------------


def _observation_match(a: Alias, value: int) -> ColumnElement[bool]:
    parts = split_observation_id(value)
    if parts is None:
        return a.datastream_id.is_(None)  # type: ignore[no-any-return]
    return and_(a.datastream_id == parts[0], a.observed_at == parts[1])


def _feature_of_observation(s: Alias, t: Alias) -> ColumnElement[bool]:
    ds = aliased(Datastream)
    return t.id == select(ds.device_id).where(ds.id == s.datastream_id).scalar_subquery()  # type: ignore[no-any-return]


OBSERVATION = EntityType(
    name="Observation",
    plural="Observations",
    model=Reading,
    key=lambda a: [a.datastream_id, a.observed_at],
    columns=lambda a: [
        a.datastream_id.label("datastream_id"),
        a.observed_at.label("observed_at"),
        a.value.label("value"),
        a.received_at.label("received_at"),
    ],
    key_of=lambda r: (r["datastream_id"], r["observed_at"]),
    id_of=lambda r: observation_id(r["datastream_id"], r["observed_at"]),
    match_id=_observation_match,
    body=lambda r: {
        "phenomenonTime": iso(r["observed_at"]),
        "resultTime": iso(r["received_at"]),
        "result": r["value"],
    },
    props={
        "id": Prop(Kind.OBSERVATION_ID),
        "phenomenonTime": Prop(Kind.DATETIME, lambda a: a.observed_at),
        "resultTime": Prop(Kind.DATETIME, lambda a: a.received_at),
        "result": Prop(Kind.NUMBER, lambda a: a.value),
    },
    navs={
        "Datastream": Nav("Datastream", False, lambda s, t: t.id == s.datastream_id),
        "FeatureOfInterest": Nav("FeatureOfInterest", False, _feature_of_observation),
    },
)


TYPES: dict[str, EntityType] = {
    t.name: t
    for t in (
        THING,
        LOCATION,
        HISTORICAL_LOCATION,
        DATASTREAM,
        SENSOR,
        OBSERVED_PROPERTY,
        OBSERVATION,
        FEATURE_OF_INTEREST,
    )
}
BY_PLURAL: dict[str, EntityType] = {t.plural: t for t in TYPES.values()}

# What puts a row of an entity type's table in what a caller may read: the type's own
# `base`, and, for a person who sees only some devices, those devices' rows.
Base = Callable[[EntityType, Alias], list[ColumnElement[bool]]]


def unscoped(etype: EntityType, alias: Alias) -> list[ColumnElement[bool]]:
    return etype.base(alias)


def scoped(visible: ColumnElement[bool]) -> Base:
    """Rows of the devices `visible` (a condition on `Device`) lets through, and of their
    datastreams and observations; Sensors and ObservedProperties (device types and
    quantities) are the same for everyone."""
    devices = select(Device.id).where(visible).correlate(None)
    streams = select(Datastream.id).where(Datastream.device_id.in_(devices)).correlate(None)

    def base(etype: EntityType, alias: Alias) -> list[ColumnElement[bool]]:
        found = etype.base(alias)
        if etype.model is Device:
            return [*found, alias.id.in_(devices)]
        if etype.model is Datastream:
            return [*found, alias.device_id.in_(devices)]
        if etype.model is Reading:
            return [*found, alias.datastream_id.in_(streams)]
        return found

    return base


def serialize(
    etype: EntityType, row: Row, base: str, select: frozenset[str] | None = None
) -> dict[str, Any]:
    """One entity as STA JSON: `@iot.id`, `@iot.selfLink`, the (selected) properties and a
    navigation link per (selected) navigation property."""
    entity_id = etype.id_of(row)
    self_link = f"{base}/{etype.plural}({entity_id})"
    out: dict[str, Any] = {"@iot.id": entity_id, "@iot.selfLink": self_link}
    for name, value in etype.body(row).items():
        if select is None or name in select:
            out[name] = value
    for name in etype.navs:
        if select is None or name in select:
            out[f"{name}@iot.navigationLink"] = f"{self_link}/{name}"
    return out
