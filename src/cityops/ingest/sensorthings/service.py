"""Creating, changing and deleting STA entities: devices (Things and their places),
device types (Sensors), observed properties and datastreams; and Observations, which go
through the sensing ingest like every other reading.

Bodies are read by hand, field by field, so that each problem names the field as the
client sent it (`Datastreams.0.unitOfMeasurement.symbol`). The caller commits.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.errors import BadRequest, Conflict, FieldProblem, NotFound
from cityops.ingest.sensorthings.entities import (
    GEOJSON_TYPES,
    OM_MEASUREMENT,
    split_observation_id,
)
from cityops.sensing.models import (
    Alarm,
    AlarmRule,
    Datastream,
    Device,
    DeviceType,
    DeviceTypeProperty,
    ObservedProperty,
    Reading,
    Rollup,
)

# What a Thing created without Datastreams is, until its first Datastream names a Sensor.
GENERIC_TYPE_CODE = "sta-generic"
OBSERVATION_TYPES = frozenset(
    {OM_MEASUREMENT, "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"}
)
_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,60}$")
# The ingest service names a reading's fields its own way; the client named them the STA way.
_OBSERVATION_FIELDS = {
    "value": "result",
    "time": "phenomenonTime",
    "datastream_id": "Datastream",
    "device": "Datastream",
    "property": "Datastream",
    "unit": "Datastream",
}


@dataclass
class WriteEnv:
    """Who writes, when, and the grid a point falls in (for a device's place)."""

    principal: Principal
    now: datetime
    locate: Callable[[float, float], str | None]
    # Inline Sensors and ObservedProperties of one request, by content: the same object
    # sent twice (once per Datastream, as clients do) is created once.
    made: dict[tuple[Any, ...], Any] = field(default_factory=dict)


# -- reading bodies ---------------------------------------------------------------------------


class Fields:
    """A JSON object of the body, read with each field's path for the error it may cause."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            raise BadRequest.at(path or "body", "an object")
        self.raw: dict[str, Any] = raw
        self.path = path

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.raw

    def text(self, name: str, max_length: int, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise BadRequest.at(self.at(name), "required")
            return None
        if not isinstance(value, str):
            raise BadRequest.at(self.at(name), "a string")
        if required and not value.strip():
            raise BadRequest.at(self.at(name), "must not be empty")
        if len(value) > max_length:
            raise BadRequest.at(self.at(name), f"at most {max_length} characters")
        return value

    def obj(self, name: str) -> Fields | None:
        value = self.raw.get(name)
        return None if value is None else Fields(value, self.at(name))

    def items(self, name: str) -> list[Fields]:
        value = self.raw.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise BadRequest.at(self.at(name), "an array")
        return [Fields(item, f"{self.at(name)}.{i}") for i, item in enumerate(value)]

    def reference(self) -> int | None:
        """The `@iot.id` of an object that refers to an existing entity (FROST clients
        send the whole entity they fetched: its other fields are not changes)."""
        if "@iot.id" not in self.raw:
            return None
        value = self.raw["@iot.id"]
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest.at(self.at("@iot.id"), "an entity's id: a whole number")
        return value


def _slug(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:30].strip("-")
    return slug or fallback


def _free_code(session: Session, model: type[Any], base: str) -> str:
    """`base`, or `base-2`, `base-3`...: the first code no row of `model` has."""
    taken = set(session.scalars(select(model.code).where(model.code.startswith(base))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


# -- places ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    address: str | None


def _coordinate(value: Any, path: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest.at(path, "a number")
    if abs(value) > limit:
        raise BadRequest.at(path, f"between -{limit:g} and {limit:g}")
    return float(value)


def _place(f: Fields) -> Place:
    """A Location's body: a GeoJSON Point (or a Feature of one), and a name."""
    encoding = f.text("encodingType", 80)
    if encoding is not None and encoding not in GEOJSON_TYPES:
        raise BadRequest.at(f.at("encodingType"), "application/geo+json")
    geometry = f.obj("location")
    if geometry is None:
        raise BadRequest.at(f.at("location"), "required: a GeoJSON Point")
    if geometry.raw.get("type") == "Feature":
        inner = geometry.obj("geometry")
        if inner is None:
            raise BadRequest.at(geometry.at("geometry"), "required")
        geometry = inner
    if geometry.raw.get("type") != "Point":
        raise BadRequest.at(geometry.at("type"), "Point: a device is in one place")
    coordinates = geometry.raw.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise BadRequest.at(geometry.at("coordinates"), "[longitude, latitude]")
    lon = _coordinate(coordinates[0], f"{geometry.at('coordinates')}.0", 180)
    lat = _coordinate(coordinates[1], f"{geometry.at('coordinates')}.1", 90)
    address = f.text("name", 200) or f.text("description", 200)
    return Place(lon, lat, address)


def _set_place(env: WriteEnv, device: Device, place: Place | None) -> None:
    if place is None:
        device.lon = device.lat = device.grid_code = None
        return
    device.lon, device.lat = place.lon, place.lat
    device.grid_code = env.locate(place.lon, place.lat)
    if place.address is not None:
        device.address = place.address


def _thing_place(session: Session, f: Fields) -> Place | None:
    """The one Location in a Thing's `Locations`: inline, or another Thing's by id."""
    locations = f.items("Locations")
    if not locations:
        return None
    if len(locations) > 1:
        raise BadRequest.at(f.at("Locations"), "at most one: a device is in one place")
    location = locations[0]
    ref = location.reference()
    if ref is None:
        return _place(location)
    other = session.get(Device, ref)
    if other is None or other.lon is None or other.lat is None:
        raise BadRequest.at(location.at("@iot.id"), f"no Location {ref}")
    return Place(other.lon, other.lat, other.address or None)


# -- sensors and observed properties -----------------------------------------------------------


def _sensor(session: Session, env: WriteEnv, f: Fields) -> DeviceType:
    ref = f.reference()
    if ref is not None:
        found = session.get(DeviceType, ref)
        if found is None:
            raise BadRequest.at(f.at("@iot.id"), f"no Sensor {ref}")
        return found
    values = _sensor_values(f, creating=True)
    key = ("Sensor", *sorted(values.items()))
    if key not in env.made:
        row = DeviceType(code=_free_code(session, DeviceType, _slug(values["name"], "sensor")))
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()
        record_audit(
            session,
            env.principal,
            "device_type.create",
            "device_type",
            row.id,
            now=env.now,
            after={"via": "sta", "code": row.code, **values},
        )
        env.made[key] = row
    return env.made[key]  # type: ignore[no-any-return]


def _sensor_values(f: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, column, limit in (
        ("name", "name", 80),
        ("description", "description", 10_000),
        ("encodingType", "encoding_type", 80),
    ):
        value = f.text(name, limit, required=creating and name == "name")
        if value is not None:
            values[column] = value
    if f.has("metadata"):
        metadata = f.raw["metadata"]
        if not isinstance(metadata, str):
            raise BadRequest.at(f.at("metadata"), "a URL or a text (a datasheet, say)")
        if len(metadata) > 300:
            raise BadRequest.at(f.at("metadata"), "at most 300 characters")
        values["metadata_url"] = metadata
    return values


def _observed_property(session: Session, env: WriteEnv, f: Fields) -> ObservedProperty:
    ref = f.reference()
    if ref is not None:
        found = session.get(ObservedProperty, ref)
        if found is None:
            raise BadRequest.at(f.at("@iot.id"), f"no ObservedProperty {ref}")
        return found
    values = _property_values(f, creating=True)
    key = ("ObservedProperty", *sorted(values.items()))
    if key not in env.made:
        code = _free_code(session, ObservedProperty, _slug(values["name"], "property"))
        row = ObservedProperty(code=code, **values)
        session.add(row)
        session.flush()
        record_audit(
            session,
            env.principal,
            "property.create",
            "observed_property",
            row.id,
            now=env.now,
            after={"via": "sta", "code": code, **values},
        )
        env.made[key] = row
    return env.made[key]  # type: ignore[no-any-return]


def _property_values(f: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, limit in (("name", 80), ("definition", 200), ("description", 10_000)):
        value = f.text(name, limit, required=creating and name == "name")
        if value is not None:
            values[name] = value
    return values


# -- datastreams -------------------------------------------------------------------------------


@dataclass
class DatastreamSpec:
    path: str
    values: dict[str, Any]
    sensor: DeviceType | None
    prop: ObservedProperty


def _datastream_values(f: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    name = f.text("name", 160, required=creating)
    if name is not None:
        values["name"] = name
    description = f.text("description", 10_000)
    if description is not None:
        values["description"] = description
    unit = f.obj("unitOfMeasurement")
    if unit is None and creating:
        raise BadRequest.at(f.at("unitOfMeasurement"), "required: {name, symbol, definition}")
    if unit is not None:
        values["unit_symbol"] = unit.text("symbol", 20) or ""
        values["unit_name"] = unit.text("name", 40) or ""
        values["unit_definition"] = unit.text("definition", 200) or ""
    observation_type = f.text("observationType", 120)
    if observation_type is not None:
        if observation_type not in OBSERVATION_TYPES:
            raise BadRequest.at(
                f.at("observationType"), "OM_Measurement: readings here are numbers"
            )
        values["observation_type"] = observation_type
    elif creating:
        values["observation_type"] = OM_MEASUREMENT
    return values


def _datastream_spec(session: Session, env: WriteEnv, f: Fields) -> DatastreamSpec:
    values = _datastream_values(f, creating=True)
    sensor_body = f.obj("Sensor")
    sensor = _sensor(session, env, sensor_body) if sensor_body is not None else None
    prop_body = f.obj("ObservedProperty")
    if prop_body is None:
        raise BadRequest.at(f.at("ObservedProperty"), 'required: inline, or {"@iot.id": n}')
    return DatastreamSpec(f.path, values, sensor, _observed_property(session, env, prop_body))


def _add_datastream(session: Session, env: WriteEnv, device: Device, spec: DatastreamSpec) -> int:
    taken = session.scalar(
        select(Datastream.id).where(
            Datastream.device_id == device.id, Datastream.property_id == spec.prop.id
        )
    )
    if taken is not None:
        raise Conflict(
            f"Thing {device.id} has a Datastream of {spec.prop.name!r} already (Datastreams"
            f"({taken})): one per observed property",
            errors=[FieldProblem(f"{spec.path}.ObservedProperty".lstrip("."), "taken")],
        )
    row = Datastream(device_id=device.id, property_id=spec.prop.id, **spec.values)
    session.add(row)
    session.flush()
    record_audit(
        session,
        env.principal,
        "datastream.create",
        "datastream",
        row.id,
        now=env.now,
        after={"via": "sta", "device": device.code, "property": spec.prop.code},
    )
    return row.id


def create_datastream(
    session: Session, env: WriteEnv, body: Any, *, thing_id: int | None = None
) -> int:
    """A Datastream of an existing Thing (named in the body, or the path's)."""
    f = Fields(body, "")
    if thing_id is not None:
        device = _get(session, Device, thing_id, "Things")
    else:
        thing = f.obj("Thing")
        if thing is None:
            raise BadRequest.at(
                "Thing", 'required: {"@iot.id": n} (or post to Things(n)/Datastreams)'
            )
        ref = thing.reference()
        if ref is None:
            raise BadRequest.at(
                "Thing",
                'an existing Thing, {"@iot.id": n}: post a new Thing with its Datastreams instead',
            )
        device = session.get(Device, ref)
        if device is None:
            raise BadRequest.at("Thing.@iot.id", f"no Thing {ref}")
    spec = _datastream_spec(session, env, f)
    _fit_sensor(session, device, spec)
    return _add_datastream(session, env, device, spec)


def _fit_sensor(session: Session, device: Device, spec: DatastreamSpec) -> None:
    """A Datastream's Sensor is its device's type. A Thing made without Datastreams has
    the generic type until its first Datastream names the Sensor it really is."""
    if spec.sensor is None or spec.sensor.id == device.device_type_id:
        return
    generic = device.device_type.code == GENERIC_TYPE_CODE
    has_streams = session.scalar(
        select(Datastream.id).where(Datastream.device_id == device.id).limit(1)
    )
    if generic and has_streams is None:
        device.device_type_id = spec.sensor.id
        session.flush()
        session.refresh(device, ["device_type"])
        return
    raise BadRequest.at(
        f"{spec.path}.Sensor".lstrip("."),
        f"a Datastream's Sensor is its Thing's device type: Sensors({device.device_type_id})",
    )


# -- things ------------------------------------------------------------------------------------


def _thing_properties(f: Fields) -> tuple[dict[str, Any] | None, str | None]:
    """The properties to keep, and the device code given among them (`code`)."""
    if not f.has("properties") or f.raw["properties"] is None:
        return None, None
    properties = f.raw["properties"]
    if not isinstance(properties, dict):
        raise BadRequest.at(f.at("properties"), "an object")
    kept = dict(properties)
    code = kept.pop("code", None)
    if code is not None and (not isinstance(code, str) or not _CODE.match(code)):
        raise BadRequest.at(f.at("properties.code"), "1–60 letters, digits and _ . : -")
    return kept, code


def _generic_type(session: Session, env: WriteEnv) -> DeviceType:
    found = session.scalar(select(DeviceType).where(DeviceType.code == GENERIC_TYPE_CODE))
    if found is None:
        found = DeviceType(
            code=GENERIC_TYPE_CODE,
            name="SensorThings device",
            description="A device registered through SensorThings without Datastreams",
        )
        session.add(found)
        session.flush()
        record_audit(
            session,
            env.principal,
            "device_type.create",
            "device_type",
            found.id,
            now=env.now,
            after={"via": "sta", "code": GENERIC_TYPE_CODE},
        )
    return found


def _check_code_free(session: Session, code: str, path: str, device_id: int | None = None) -> None:
    other = session.scalar(select(Device.id).where(Device.code == code))
    if other is not None and other != device_id:
        raise Conflict(
            f"a device with the code {code!r} exists: Things({other})",
            errors=[FieldProblem(path, "taken")],
        )


def create_thing(session: Session, env: WriteEnv, body: Any) -> int:
    """A device, with its place and Datastreams as the client sent them inline."""
    f = Fields(body, "")
    name = f.text("name", 120, required=True)
    description = f.text("description", 10_000) or ""
    properties, code = _thing_properties(f)
    if code is not None:
        _check_code_free(session, code, "properties.code")
    if f.has("HistoricalLocations") or f.has("MultiDatastreams"):
        raise BadRequest.at(
            "HistoricalLocations", "not taken: a Thing's history is kept by the service"
        )
    place = _thing_place(session, f)
    specs = [_datastream_spec(session, env, d) for d in f.items("Datastreams")]
    sensors = {s.sensor.id: s.sensor for s in specs if s.sensor is not None}
    if len(sensors) > 1:
        raise BadRequest.at(
            "Datastreams", "a Thing is one device of one type: its Datastreams share one Sensor"
        )
    if specs and not sensors:
        raise BadRequest.at("Datastreams.0.Sensor", 'required: inline, or {"@iot.id": n}')
    device_type = next(iter(sensors.values())) if sensors else _generic_type(session, env)
    device = Device(
        # A unique placeholder until the row has the id the generated code is made of.
        code=code or f"sta-new-{uuid.uuid4().hex}",
        name=name,
        description=description,
        device_type_id=device_type.id,
        properties=properties or {},
        created_at=env.now,
        active=True,
    )
    _set_place(env, device, place)
    session.add(device)
    session.flush()
    if code is None:
        device.code = _free_code(session, Device, f"sta-{device.id}")
    session.flush()
    session.refresh(device, ["device_type"])
    record_audit(
        session,
        env.principal,
        "device.create",
        "device",
        device.id,
        now=env.now,
        after={"via": "sta", "code": device.code, "name": name, "device_type": device_type.code},
    )
    seen: set[int] = set()
    for spec in specs:
        if spec.prop.id in seen:
            raise Conflict(
                f"two Datastreams of {spec.prop.name!r}: one per observed property",
                errors=[FieldProblem(f"{spec.path}.ObservedProperty", "repeated")],
            )
        seen.add(spec.prop.id)
        _add_datastream(session, env, device, spec)
    return device.id


def update_thing(session: Session, env: WriteEnv, thing_id: int, body: Any) -> None:
    f = Fields(body, "")
    device = _get(session, Device, thing_id, "Things")
    before = {"name": device.name, "code": device.code, "lon": device.lon, "lat": device.lat}
    name = f.text("name", 120, required=f.has("name"))
    if name is not None:
        device.name = name
    description = f.text("description", 10_000)
    if description is not None:
        device.description = description
    properties, code = _thing_properties(f)
    if properties is not None:
        device.properties = properties
    if code is not None and code != device.code:
        _check_code_free(session, code, "properties.code", device.id)
        device.code = code
    if f.has("Locations"):
        _set_place(env, device, _thing_place(session, f))
    for link in ("Datastreams", "HistoricalLocations", "MultiDatastreams"):
        if f.raw.get(link):
            raise BadRequest.at(
                link, "not changed through the Thing: post to Things(n)/Datastreams"
            )
    after = {"name": device.name, "code": device.code, "lon": device.lon, "lat": device.lat}
    record_audit(
        session,
        env.principal,
        "device.update",
        "device",
        device.id,
        now=env.now,
        before=before,
        after={"via": "sta", **after},
    )


def delete_thing(session: Session, env: WriteEnv, thing_id: int) -> None:
    """Delete a device with its datastreams and readings. A device that has had alarms or
    has rules of its own keeps its history: retire it instead (404 is not the answer)."""
    device = _get(session, Device, thing_id, "Things")
    if session.scalar(select(Alarm.id).where(Alarm.device_id == thing_id).limit(1)) is not None:
        raise Conflict(f"Things({thing_id}) has alarms on record: retire the device instead")
    rule = session.scalar(select(AlarmRule.id).where(AlarmRule.device_id == thing_id).limit(1))
    if rule is not None:
        raise Conflict(f"Things({thing_id}) has alarm rules of its own: delete them first")
    streams = list(session.scalars(select(Datastream.id).where(Datastream.device_id == thing_id)))
    _delete_readings(session, streams)
    session.execute(delete(Datastream).where(Datastream.device_id == thing_id))
    record_audit(
        session,
        env.principal,
        "device.delete",
        "device",
        thing_id,
        now=env.now,
        before={"code": device.code, "name": device.name, "datastreams": streams},
    )
    session.delete(device)
    session.flush()


def _delete_readings(session: Session, stream_ids: list[int]) -> None:
    # Readings and rollups have no foreign key to their datastream (readings are
    # partitioned on PostgreSQL): they go by hand.
    if stream_ids:
        session.execute(delete(Reading).where(Reading.datastream_id.in_(stream_ids)))
        session.execute(delete(Rollup).where(Rollup.datastream_id.in_(stream_ids)))


def _get(session: Session, model: type[Any], entity_id: int, plural: str) -> Any:
    row = session.get(model, entity_id)
    if row is None:
        raise NotFound(f"no {plural}({entity_id})")
    return row


# -- locations ---------------------------------------------------------------------------------


def create_location(
    session: Session, env: WriteEnv, body: Any, *, thing_id: int | None = None
) -> int:
    """A Location is a device's place: posting one places its Thing (one Thing only);
    the Location's id is the Thing's."""
    f = Fields(body, "")
    if thing_id is None:
        things = f.items("Things")
        if len(things) != 1 or things[0].reference() is None:
            raise BadRequest.at(
                "Things",
                'exactly one existing Thing, [{"@iot.id": n}]: a Location here is a Thing\'s place',
            )
        thing_id = things[0].reference()
        assert thing_id is not None
        if session.get(Device, thing_id) is None:
            raise BadRequest.at("Things.0.@iot.id", f"no Thing {thing_id}")
    device = _get(session, Device, thing_id, "Things")
    _set_place(env, device, _place(f))
    record_audit(
        session,
        env.principal,
        "device.place",
        "device",
        device.id,
        now=env.now,
        after={"via": "sta", "lon": device.lon, "lat": device.lat},
    )
    return int(device.id)


def update_location(session: Session, env: WriteEnv, location_id: int, body: Any) -> None:
    f = Fields(body, "")
    device = _get(session, Device, location_id, "Locations")
    if device.lon is None or device.lat is None:
        raise NotFound(f"no Locations({location_id})")
    if f.has("location"):
        _set_place(env, device, _place(f))
    else:
        encoding = f.text("encodingType", 80)
        if encoding is not None and encoding not in GEOJSON_TYPES:
            raise BadRequest.at("encodingType", "application/geo+json")
        address = f.text("name", 200) or f.text("description", 200)
        if address is not None:
            device.address = address
    record_audit(
        session,
        env.principal,
        "device.place",
        "device",
        device.id,
        now=env.now,
        after={"via": "sta", "lon": device.lon, "lat": device.lat, "address": device.address},
    )


def delete_location(session: Session, env: WriteEnv, location_id: int) -> None:
    device = _get(session, Device, location_id, "Locations")
    if device.lon is None or device.lat is None:
        raise NotFound(f"no Locations({location_id})")
    before = {"lon": device.lon, "lat": device.lat}
    _set_place(env, device, None)
    record_audit(
        session,
        env.principal,
        "device.place",
        "device",
        device.id,
        now=env.now,
        before=before,
        after={"via": "sta", "lon": None, "lat": None},
    )


# -- sensors, observed properties, datastreams: create, change, delete ---------------------


def create_sensor(session: Session, env: WriteEnv, body: Any) -> int:
    f = Fields(body, "")
    if f.raw.get("Datastreams"):
        raise BadRequest.at("Datastreams", "post Datastreams with their Thing")
    f.raw.pop("@iot.id", None)  # a new Sensor, whatever id the client thought of
    return int(_sensor(session, env, f).id)


def create_observed_property(session: Session, env: WriteEnv, body: Any) -> int:
    f = Fields(body, "")
    if f.raw.get("Datastreams"):
        raise BadRequest.at("Datastreams", "post Datastreams with their Thing")
    f.raw.pop("@iot.id", None)
    return int(_observed_property(session, env, f).id)


def _change(
    session: Session, env: WriteEnv, row: Any, values: dict[str, Any], action: str, entity: str
) -> None:
    """Set `values` on `row` and record who changed what, from what, through STA."""
    before = {k: getattr(row, k) for k in values}
    for name, value in values.items():
        setattr(row, name, value)
    record_audit(
        session,
        env.principal,
        action,
        entity,
        row.id,
        now=env.now,
        before=before,
        after={"via": "sta", **values},
    )


def update_sensor(session: Session, env: WriteEnv, sensor_id: int, body: Any) -> None:
    row = _get(session, DeviceType, sensor_id, "Sensors")
    values = _sensor_values(Fields(body, ""), creating=False)
    _change(session, env, row, values, "device_type.update", "device_type")


def update_observed_property(session: Session, env: WriteEnv, prop_id: int, body: Any) -> None:
    row = _get(session, ObservedProperty, prop_id, "ObservedProperties")
    values = _property_values(Fields(body, ""), creating=False)
    _change(session, env, row, values, "property.update", "observed_property")


def update_datastream(session: Session, env: WriteEnv, datastream_id: int, body: Any) -> None:
    row = _get(session, Datastream, datastream_id, "Datastreams")
    f = Fields(body, "")
    device = session.get(Device, row.device_id)
    assert device is not None
    current = {
        "Thing": row.device_id,
        "ObservedProperty": row.property_id,
        "Sensor": device.device_type_id,
    }
    for link, now_id in current.items():
        linked = f.obj(link)
        if linked is not None and linked.reference() != now_id:
            raise BadRequest.at(
                link, f"a Datastream's {link} does not change: make a new Datastream"
            )
    values = _datastream_values(f, creating=False)
    _change(session, env, row, values, "datastream.update", "datastream")


def delete_datastream(session: Session, env: WriteEnv, datastream_id: int) -> None:
    row = _get(session, Datastream, datastream_id, "Datastreams")
    _delete_readings(session, [datastream_id])
    record_audit(
        session,
        env.principal,
        "datastream.delete",
        "datastream",
        datastream_id,
        now=env.now,
        before={"device_id": row.device_id, "name": row.name},
    )
    session.delete(row)
    session.flush()


def delete_sensor(session: Session, env: WriteEnv, sensor_id: int) -> None:
    row = _get(session, DeviceType, sensor_id, "Sensors")
    used = session.scalar(select(func.count()).where(Device.device_type_id == sensor_id))
    if used:
        raise Conflict(f"Sensors({sensor_id}) is the type of {used} device(s)")
    if session.scalar(select(AlarmRule.id).where(AlarmRule.device_type_id == sensor_id)):
        raise Conflict(f"Sensors({sensor_id}) has alarm rules: delete them first")
    record_audit(
        session,
        env.principal,
        "device_type.delete",
        "device_type",
        sensor_id,
        now=env.now,
        before={"code": row.code, "name": row.name},
    )
    session.delete(row)
    session.flush()


def delete_observed_property(session: Session, env: WriteEnv, prop_id: int) -> None:
    row = _get(session, ObservedProperty, prop_id, "ObservedProperties")
    for model, column, what in (
        (Datastream, Datastream.property_id, "Datastreams"),
        (DeviceTypeProperty, DeviceTypeProperty.property_id, "device types"),
        (AlarmRule, AlarmRule.property_id, "alarm rules"),
        (Alarm, Alarm.property_id, "alarms"),
    ):
        if session.scalar(select(func.count()).select_from(model).where(column == prop_id)):
            raise Conflict(f"ObservedProperties({prop_id}) is used by {what}")
    record_audit(
        session,
        env.principal,
        "property.delete",
        "observed_property",
        prop_id,
        now=env.now,
        before={"code": row.code, "name": row.name},
    )
    session.delete(row)
    session.flush()


# -- observations ------------------------------------------------------------------------------


def observation_item(body: Any, *, datastream_id: int | None, now: datetime) -> dict[str, Any]:
    """An Observation's body as a reading for the ingest service: which datastream, when
    (the phenomenon time, or now), and the result."""
    f = Fields(body, "")
    if f.has("MultiDatastream"):
        raise BadRequest.at("MultiDatastream", "not supported: post to a Datastream")
    if datastream_id is None:
        stream = f.obj("Datastream")
        datastream_id = stream.reference() if stream is not None else None
        if datastream_id is None:
            raise BadRequest.at(
                "Datastream", 'required: {"@iot.id": n} (or post to Datastreams(n)/Observations)'
            )
    if "result" not in f.raw:
        raise BadRequest.at("result", "required")
    time = f.raw.get("phenomenonTime")
    if time is None:
        time = now.isoformat()
    elif isinstance(time, str) and "/" in time:
        raise BadRequest.at("phenomenonTime", "an instant: a reading is taken at one time")
    return {"datastream_id": datastream_id, "time": time, "value": f.raw["result"]}


def rejected(errors: list[dict[str, str]]) -> BadRequest:
    """The ingest service's reasons for refusing a reading, in the client's field names."""
    problems = [
        FieldProblem(_OBSERVATION_FIELDS.get(e["path"], e["path"]), e["message"]) for e in errors
    ]
    detail = "; ".join(f"{p.path}: {p.message}" for p in problems) or "the observation was refused"
    return BadRequest(detail, errors=problems)


def delete_observation(session: Session, env: WriteEnv, observation_id: int) -> None:
    """Delete a reading; its minute and hour rollups and its datastream's first and last
    reading are worked out again from what remains."""
    parts = split_observation_id(observation_id)
    row = session.get(Reading, parts) if parts is not None else None
    if row is None or parts is None:
        raise NotFound(f"no Observations({observation_id})")
    datastream_id, at = parts
    session.delete(row)
    session.flush()
    minute = at.replace(second=0, microsecond=0)
    for bucket, start, length in (
        ("1m", minute, timedelta(minutes=1)),
        ("1h", minute.replace(minute=0), timedelta(hours=1)),
    ):
        _recount(session, datastream_id, bucket, start, length)
    _reset_heads(session, datastream_id)
    record_audit(
        session,
        env.principal,
        "reading.delete",
        "datastream",
        datastream_id,
        now=env.now,
        before={"time": at.isoformat(), "value": row.value},
    )


def _recount(
    session: Session, datastream_id: int, bucket: str, start: datetime, length: timedelta
) -> None:
    count, low, high, total = session.execute(
        select(
            func.count(), func.min(Reading.value), func.max(Reading.value), func.sum(Reading.value)
        ).where(
            Reading.datastream_id == datastream_id,
            Reading.observed_at >= start,
            Reading.observed_at < start + length,
            Reading.faulty.is_(False),
        )
    ).one()
    rollup = session.get(Rollup, (datastream_id, bucket, start))
    if not count:
        if rollup is not None:
            session.delete(rollup)
        return
    if rollup is None:
        rollup = Rollup(datastream_id=datastream_id, bucket=bucket, start=start)
        session.add(rollup)
    rollup.count, rollup.min_value, rollup.max_value, rollup.sum_value = count, low, high, total


def _reset_heads(session: Session, datastream_id: int) -> None:
    stream = session.get(Datastream, datastream_id)
    if stream is None:
        return
    first, last = session.execute(
        select(func.min(Reading.observed_at), func.max(Reading.observed_at)).where(
            Reading.datastream_id == datastream_id
        )
    ).one()
    stream.first_time, stream.last_time = first, last
    stream.last_value = (
        session.scalar(
            select(Reading.value).where(
                Reading.datastream_id == datastream_id, Reading.observed_at == last
            )
        )
        if last is not None
        else None
    )
    session.flush()


def apply_json_patch(current: dict[str, Any], operations: Any) -> dict[str, Any]:
    """A JSON Patch (RFC 6902: add, replace, remove) applied to an entity's JSON, as the
    body of a PATCH: the top-level properties it changed."""
    if not isinstance(operations, list):
        raise BadRequest.at("body", "a JSON Patch: an array of operations")
    document = copy.deepcopy({k: v for k, v in current.items() if "@" not in k})
    for i, raw in enumerate(operations):
        f = Fields(raw, str(i))
        op = f.text("op", 10, required=True)
        path = f.text("path", 500, required=True) or ""
        if op not in ("add", "replace", "remove"):
            raise BadRequest.at(f.at("op"), "add, replace or remove")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not path.startswith("/") or not parts or not all(parts):
            raise BadRequest.at(f.at("path"), "a JSON pointer such as /name or /properties/floor")
        target: Any = document
        for part in parts[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
            if not isinstance(target, dict):
                raise BadRequest.at(f.at("path"), f"no object at {path}")
        if op == "remove":
            if parts[-1] not in target:
                raise BadRequest.at(f.at("path"), f"nothing at {path}")
            del target[parts[-1]]
        else:
            if "value" not in f.raw:
                raise BadRequest.at(f.at("value"), "required")
            target[parts[-1]] = f.raw["value"]
    return {k: v for k, v in document.items() if current.get(k) != v}
