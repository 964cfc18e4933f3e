"""The OGC SensorThings API at /sta/v1.1: devices as Things, readings as Observations.

Queries are checked against a small registry made through the API itself: two gas
detectors (gas and temperature) placed in two grids, and a water-level gauge without a
place, with a few readings each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, GRID_B, PASSWORD, inside, migrated_district
from tests.serverproc import ServerProcess

from cityops.auth.models import Account, AuditEntry
from cityops.auth.service import create_api_key, issue_token
from cityops.sensing.models import (
    Alarm,
    AlarmRule,
    Datastream,
    Device,
    DeviceType,
    ObservedProperty,
    Reading,
    Rollup,
)
from cityops.sensing.readings import ingest_readings

STA = "/sta/v1.1"
BASE = f"http://testserver{STA}"
ADMIN = ("admin", PASSWORD)
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
GD100 = {
    "name": "GD-100",
    "description": "Catalytic combustible gas detector",
    "encodingType": "application/pdf",
    "metadata": "https://sensors.example/gd-100.pdf",
}


def at(minutes_before: int) -> datetime:
    return EPOCH - timedelta(minutes=minutes_before)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def obs_id(datastream_id: int, t: datetime) -> int:
    return datastream_id * 10**13 + int(t.timestamp() * 1000)


class Sta:
    """The service as the admin calls it (a bearer token: no password check per test)."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        url = path if path.startswith("http") else f"{STA}/{path}"
        return self.client.request(method, url, headers=self.headers | (headers or {}), **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        # No params at all for a nextLink: an empty mapping would replace its query.
        r = self.request("GET", path, params=params or None)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: Any, status: int = 201) -> Any:
        r = self.request("POST", path, json=body)
        assert r.status_code == status, r.text
        return r.json()


@pytest.fixture
def sta(client: TestClient, session: Session, context: Any) -> Sta:
    account = session.scalar(select(Account).where(Account.username == "admin"))
    assert account is not None
    token = issue_token(
        account, secret=context.settings.secret_key, ttl=timedelta(hours=1), now=EPOCH
    )
    return Sta(client, {"Authorization": f"Bearer {token}"})


def names(body: dict[str, Any], key: str = "name") -> list[Any]:
    return [e[key] for e in body["value"]]


def place(grid: str) -> dict[str, Any]:
    return {
        "name": f"grid {grid}",
        "description": "on the wall",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": list(inside(grid))},
    }


def datastream(name: str, symbol: str, sensor: Any, prop: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} readings",
        "observationType": OM_MEASUREMENT,
        "unitOfMeasurement": {"name": symbol, "symbol": symbol, "definition": ""},
        "Sensor": sensor,
        "ObservedProperty": prop,
    }


@dataclass
class Registry:
    things: dict[str, int]
    streams: dict[str, int]  # "A gas" → id
    sensor: int  # GD-100


@pytest.fixture
def registry(sta: Sta, context: Any) -> Registry:
    """Gas detectors A (grid A) and B (grid B), each with gas and temperature, and the
    water gauge C without a place; readings taken in through the ingest service."""
    gas = {"name": "Combustible gas", "definition": "https://defs.example/lel"}
    temperature = {"name": "Temperature", "definition": "https://defs.example/t"}
    a = sta.post(
        "Things",
        {
            "name": "Gas detector A",
            "description": "kitchen",
            "properties": {"code": "gd-a", "floor": 1},
            "Locations": [place(GRID_A)],
            "Datastreams": [
                datastream("A gas", "%LEL", GD100, gas),
                datastream("A temperature", "°C", GD100, temperature),
            ],
        },
    )
    (sensor,) = names(sta.get("Sensors"), "@iot.id")
    props = {p["name"]: p["@iot.id"] for p in sta.get("ObservedProperties")["value"]}
    b = sta.post(
        "Things",
        {
            "name": "Gas detector B",
            "description": "boiler room",
            "properties": {"code": "gd-b", "floor": 2},
            "Locations": [place(GRID_B)],
            "Datastreams": [
                datastream(
                    "B gas", "%LEL", {"@iot.id": sensor}, {"@iot.id": props["Combustible gas"]}
                ),
                datastream(
                    "B temperature", "°C", {"@iot.id": sensor}, {"@iot.id": props["Temperature"]}
                ),
            ],
        },
    )
    c = sta.post(
        "Things",
        {
            "name": "Water level C",
            "description": "culvert",
            "properties": {"floor": 3},
            "Datastreams": [
                datastream("C water level", "m", {"name": "WL-7"}, {"name": "Water level"})
            ],
        },
    )
    streams = {
        d["name"]: d["@iot.id"] for d in sta.get("Datastreams", **{"$select": "id,name"})["value"]
    }
    readings = {
        "A gas": [(40, 0.0), (30, 5.0), (20, 30.0), (10, 12.5)],
        "A temperature": [(40, 20.5), (10, 21.0)],
        "B gas": [(40, 1.0), (20, 2.0)],
        "C water level": [(30, 0.8)],
    }
    uow = context.unit_of_work()
    env = context.sensing_env(uow.session, EPOCH)
    items = [
        {"datastream_id": streams[name], "time": iso(at(m)), "value": v}
        for name, values in readings.items()
        for m, v in values
    ]
    assert {r.status for r in ingest_readings(uow.session, env, items)} == {"created"}
    uow.commit()
    uow.close()
    things = {"A": a["@iot.id"], "B": b["@iot.id"], "C": c["@iot.id"]}
    return Registry(things, streams, sensor)


# -- the service root and paths ---------------------------------------------------------------


def test_the_service_root_lists_the_entity_sets_and_conformance(sta: Sta) -> None:
    root = sta.get("")
    sets = {s["name"]: s["url"] for s in root["value"]}
    assert sets["Things"] == f"{BASE}/Things"
    assert set(sets) == {
        "Things",
        "Locations",
        "HistoricalLocations",
        "Datastreams",
        "Sensors",
        "ObservedProperties",
        "Observations",
        "FeaturesOfInterest",
    }
    assert (
        "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data"
        in (root["serverSettings"]["conformance"])
    )


def test_every_entity_links_to_itself_and_its_navigation(sta: Sta, registry: Registry) -> None:
    a, gas = registry.things["A"], registry.streams["A gas"]
    thing = sta.get(f"Things({a})")
    assert thing["@iot.selfLink"] == f"{BASE}/Things({a})"
    assert thing["properties"] == {"code": "gd-a", "floor": 1}
    for nav in ("Locations", "HistoricalLocations", "Datastreams"):
        assert thing[f"{nav}@iot.navigationLink"] == f"{BASE}/Things({a})/{nav}"
    assert names(sta.get(f"Things({a})/Datastreams")) == ["A gas", "A temperature"]
    assert sta.get(f"Datastreams({gas})/Thing")["name"] == "Gas detector A"
    assert sta.get(f"Datastreams({gas})/Sensor")["metadata"] == GD100["metadata"]
    assert sta.get(f"Datastreams({gas})/ObservedProperty")["name"] == "Combustible gas"
    location = sta.get(f"Things({a})/Locations")["value"][0]
    assert location["@iot.id"] == a
    assert location["location"] == {"type": "Point", "coordinates": list(inside(GRID_A))}
    assert location["encodingType"] == "application/geo+json"
    (history,) = sta.get(f"Things({a})/HistoricalLocations")["value"]
    assert history["time"] == "2026-11-24T01:00:00.000Z"
    assert sta.get(f"HistoricalLocations({a})/Thing")["@iot.id"] == a
    assert sta.get(f"Things({registry.things['C']})/Locations")["value"] == []

    first = obs_id(gas, at(40))
    observation = sta.get(f"Observations({first})")
    assert observation["phenomenonTime"] == "2026-11-24T00:20:00.000Z"
    assert (
        observation["Datastream@iot.navigationLink"] == f"{BASE}/Observations({first})/Datastream"
    )
    assert sta.get(f"Observations({first})/Datastream")["@iot.id"] == gas
    feature = sta.get(f"Observations({first})/FeatureOfInterest")
    assert feature["feature"] == {"type": "Point", "coordinates": list(inside(GRID_A))}
    assert sta.get(f"FeaturesOfInterest({a})/Observations", **{"$count": "true"})["@iot.count"] == 6

    assert sta.get(f"Things({a})/name") == {"name": "Gas detector A"}
    r = sta.request("GET", f"Things({a})/name/$value")
    assert (r.status_code, r.text, r.headers["content-type"]) == (
        200,
        "Gas detector A",
        "text/plain; charset=utf-8",
    )
    assert sta.get(f"Datastreams({gas})/unitOfMeasurement/$value") is not None
    refs = sta.get(f"Things({a})/Datastreams/$ref")["value"]
    assert refs == [
        {"@iot.selfLink": f"{BASE}/Datastreams({gas})"},
        {"@iot.selfLink": f"{BASE}/Datastreams({registry.streams['A temperature']})"},
    ]


def test_unknown_entities_and_paths_are_404(sta: Sta, registry: Registry) -> None:
    a = registry.things["A"]
    for path in (
        "Things(999999)",
        "Things(999999)/Datastreams",
        "Gadgets",
        f"Things({a})/nope",
        "Observations(5)",
        f"Datastreams({registry.streams['A gas']})/Observations(1)",
        f"Things({a})/Datastreams({registry.streams['B gas']})",
    ):
        r = sta.request("GET", f"{path}")
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"


# -- query options ------------------------------------------------------------------------------


@pytest.mark.usefixtures("registry")
def test_filter_compares_combines_and_calls_functions(sta: Sta) -> None:
    def results(expr: str) -> list[float]:
        body = sta.get("Observations", **{"$filter": expr, "$orderby": "result"})
        return names(body, "result")

    assert results("result gt 10") == [12.5, 20.5, 21.0, 30.0]
    assert results("result ge 5 and result le 12.5") == [5.0, 12.5]
    assert results("not (result lt 20) or result eq 0") == [0.0, 20.5, 21.0, 30.0]
    assert results("result mul 2 gt 50") == [30.0]
    assert results("phenomenonTime lt 2026-11-24T00:25:00Z and result lt 10") == [0.0, 1.0]
    assert results("phenomenonTime ge 2026-11-24T08:45:00+08:00") == [12.5, 21.0]
    assert results("hour(phenomenonTime) eq 0 and minute(phenomenonTime) eq 50") == [12.5, 21.0]

    def things(expr: str) -> list[str]:
        return names(sta.get("Things", **{"$filter": expr, "$orderby": "name"}))

    assert things("startswith(name,'Gas') and not endswith(name,'B')") == ["Gas detector A"]
    assert things("substringof('detector', name)") == ["Gas detector A", "Gas detector B"]
    assert things("contains(tolower(name), 'water')") == ["Water level C"]
    assert things("length(name) eq 14 and indexof(name, 'detector') eq 4") == [
        "Gas detector A",
        "Gas detector B",
    ]
    assert things("properties/floor ge 2") == ["Gas detector B", "Water level C"]
    assert things("properties/code eq 'gd-a'") == ["Gas detector A"]
    assert things("properties/floor eq 'x'") == []
    datastreams = sta.get("Datastreams", **{"$filter": "unitOfMeasurement/symbol eq '°C'"})
    assert sorted(names(datastreams)) == ["A temperature", "B temperature"]


def test_filter_follows_navigation_paths(sta: Sta, registry: Registry) -> None:
    s = registry.streams

    def results(expr: str) -> list[float]:
        body = sta.get("Observations", **{"$filter": expr, "$orderby": "result"})
        return names(body, "result")

    assert results(f"Datastream/id eq {s['B gas']}") == [1.0, 2.0]
    assert results(
        "Datastream/Thing/name eq 'Gas detector A' and "
        "Datastream/ObservedProperty/name eq 'Combustible gas'"
    ) == [0.0, 5.0, 12.5, 30.0]
    assert results(f"Datastream/Sensor/id ne {registry.sensor}") == [0.8]

    def things(expr: str) -> list[str]:
        return names(sta.get("Things", **{"$filter": expr, "$orderby": "name"}))

    assert things("Datastreams/ObservedProperty/name eq 'Water level'") == ["Water level C"]
    assert things("Datastreams/Observations/result gt 25") == ["Gas detector A"]
    assert things("Locations/name eq 'grid 500103002001001'") == ["Gas detector B"]
    located = sta.get("Locations", **{"$filter": "Things/name eq 'Gas detector B'"})
    assert names(located, "@iot.id") == [registry.things["B"]]


def test_select_keeps_the_named_properties_and_links(sta: Sta, registry: Registry) -> None:
    body = sta.get("Things", **{"$select": "name", "$orderby": "name"})
    assert [set(e) for e in body["value"]] == [{"@iot.id", "@iot.selfLink", "name"}] * 3
    body = sta.get(f"Things({registry.things['A']})", **{"$select": "id,Datastreams"})
    assert set(body) == {"@iot.id", "@iot.selfLink", "Datastreams@iot.navigationLink"}


def test_expand_nests_with_its_own_options(sta: Sta, registry: Registry) -> None:
    (thing,) = sta.get(
        "Things",
        **{
            "$filter": "name eq 'Gas detector A'",
            "$select": "name",
            "$expand": "Datastreams($select=name;$orderby=name;$expand=Observations("
            "$select=result;$orderby=phenomenonTime desc;$top=2;$count=true)),Locations",
        },
    )["value"]
    assert [d["name"] for d in thing["Datastreams"]] == ["A gas", "A temperature"]
    gas, temperature = thing["Datastreams"]
    assert [o["result"] for o in gas["Observations"]] == [12.5, 30.0]
    assert gas["Observations@iot.count"] == 4
    rest = sta.get(gas["Observations@iot.nextLink"])
    assert names(rest, "result") == [5.0, 0.0]
    assert [o["result"] for o in temperature["Observations"]] == [21.0, 20.5]
    assert "Observations@iot.nextLink" not in temperature
    assert thing["Locations"][0]["location"]["coordinates"] == list(inside(GRID_A))

    body = sta.get(
        "Observations",
        **{
            "$filter": f"Datastream/id eq {registry.streams['C water level']}",
            "$expand": "Datastream/Thing($select=name)",
        },
    )
    assert body["value"][0]["Datastream"]["Thing"] == {
        "@iot.id": registry.things["C"],
        "@iot.selfLink": f"{BASE}/Things({registry.things['C']})",
        "name": "Water level C",
    }


@pytest.mark.usefixtures("registry")
def test_orderby_top_skip_count_and_next_links_page_through_everything(sta: Sta) -> None:
    first = sta.get("Observations", **{"$orderby": "result desc", "$top": "3", "$count": "true"})
    assert first["@iot.count"] == 9
    assert names(first, "result") == [30.0, 21.0, 20.5]
    seen, page = names(first, "result"), first
    while "@iot.nextLink" in page:
        page = sta.get(page["@iot.nextLink"])
        seen += names(page, "result")
    assert seen == [30.0, 21.0, 20.5, 12.5, 5.0, 2.0, 1.0, 0.8, 0.0]

    skipped = sta.get("Things", **{"$orderby": "properties/floor desc", "$skip": "1"})
    assert names(skipped) == ["Gas detector B", "Gas detector A"]
    by_thing = sta.get("Datastreams", **{"$orderby": "Thing/name desc,name", "$top": "2"})
    assert names(by_thing) == ["C water level", "B gas"]
    count_only = sta.get("Datastreams", **{"$top": "0", "$count": "true"})
    assert (count_only["@iot.count"], count_only["value"]) == (5, [])
    assert "@iot.nextLink" not in count_only


BAD_OPTIONS = [
    ({"$filter": "name eq"}, "$filter", "at the end"),
    ({"$filter": "nosuch eq 1"}, "$filter", "no property 'nosuch'"),
    ({"$filter": "name eq 5"}, "$filter", "cannot compare"),
    ({"$filter": "name eq 'a' and"}, "$filter", "expected a value"),
    ({"$filter": "geo.distance(location, 1) lt 2"}, "$filter", "spatial"),
    ({"$orderby": "Datastreams/name"}, "$orderby", "many"),
    ({"$top": "-1"}, "$top", "whole number"),
    ({"$count": "maybe"}, "$count", "true or false"),
    ({"$select": "name,nosuch"}, "$select", "nosuch"),
    ({"$expand": "Gadgets"}, "$expand", "Gadgets"),
    ({"$expand": "Datastreams($filter=bad eq)"}, "$expand/Datastreams/$filter", "at the end"),
    ({"$frobnicate": "1"}, "$frobnicate", "not a query option"),
]


def test_a_bad_query_option_is_a_400_naming_the_option(sta: Sta) -> None:
    for params, option, words in BAD_OPTIONS:
        r = sta.request("GET", "Things", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        (problem,) = r.json()["errors"]
        assert problem["path"] == option, params
        assert words in problem["message"], params


# -- creating, changing, deleting ---------------------------------------------------------------


def test_creating_a_thing_registers_a_device_with_its_place_and_datastreams(
    sta: Sta, session: Session
) -> None:
    r = sta.request(
        "POST",
        "Things",
        json={
            "name": "Gas detector",
            "description": "restaurant kitchen",
            "properties": {"code": "gd-77", "installer": "Chongqing Gas"},
            "Locations": [place(GRID_A)],
            "Datastreams": [  # the same Sensor inline twice, as clients send it
                datastream("gas", "%LEL", GD100, {"name": "Combustible gas", "definition": "x"}),
                datastream("temperature", "°C", GD100, {"name": "温度"}),
            ],
        },
    )
    assert r.status_code == 201, r.text
    thing = r.json()
    assert r.headers["location"] == thing["@iot.selfLink"] == f"{BASE}/Things({thing['@iot.id']})"
    assert thing["properties"] == {"code": "gd-77", "installer": "Chongqing Gas"}

    device = session.get(Device, thing["@iot.id"])
    assert device is not None
    assert (device.code, device.name, device.created_at) == ("gd-77", "Gas detector", EPOCH)
    assert (device.lon, device.lat, device.grid_code) == (*inside(GRID_A), GRID_A)
    assert device.address == f"grid {GRID_A}"
    assert device.device_type.name == "GD-100"
    assert device.device_type.metadata_url == GD100["metadata"]
    assert session.scalar(select(func.count()).select_from(DeviceType)) == 1
    streams = session.scalars(select(Datastream).where(Datastream.device_id == device.id)).all()
    assert sorted((s.name, s.unit_symbol) for s in streams) == [
        ("gas", "%LEL"),
        ("temperature", "°C"),
    ]
    codes = set(session.scalars(select(ObservedProperty.code)))
    assert codes == {"combustible-gas", "property"}  # a name without Latin letters: a fallback
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity != "account")))
    assert {
        "device.create",
        "datastream.create",
        "device_type.create",
        "property.create",
    } <= actions

    bare = sta.post("Things", {"name": "Bare", "description": "no streams yet"})
    assert bare["properties"] == {"code": f"sta-{bare['@iot.id']}"}


def test_a_thing_without_datastreams_takes_the_sensor_of_its_first(sta: Sta) -> None:
    thing = sta.post("Things", {"name": "Meter", "description": ""})["@iot.id"]
    sensor = sta.post(
        "Sensors", {"name": "Flow meter", "encodingType": "text/html", "metadata": "https://x/flow"}
    )
    prop = sta.post("ObservedProperties", {"name": "Flow", "definition": "https://x/q"})
    ds = sta.post(
        f"Things({thing})/Datastreams",
        datastream("flow", "m3/h", {"@iot.id": sensor["@iot.id"]}, {"@iot.id": prop["@iot.id"]}),
    )
    assert sta.get(f"Datastreams({ds['@iot.id']})/Sensor")["name"] == "Flow meter"
    assert sta.get(f"Sensors({sensor['@iot.id']})/Datastreams")["value"][0]["name"] == "flow"
    other = sta.post("Sensors", {"name": "Other"})
    r = sta.request(
        "POST",
        "Datastreams",
        json={
            "Thing": {"@iot.id": thing},
            **datastream("pressure", "kPa", {"@iot.id": other["@iot.id"]}, {"name": "Pressure"}),
        },
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["path"] == "Sensor"


def test_a_second_datastream_of_the_same_property_is_a_conflict(
    sta: Sta, registry: Registry
) -> None:
    gas = sta.get(f"Datastreams({registry.streams['A gas']})/ObservedProperty")["@iot.id"]
    r = sta.request(
        "POST",
        f"Things({registry.things['A']})/Datastreams",
        json=datastream("again", "%LEL", {"@iot.id": registry.sensor}, {"@iot.id": gas}),
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("/conflict")


BAD_THINGS = [
    ({"description": "no name"}, "name"),
    (
        {"name": "x", "Locations": [{"location": {"type": "Polygon", "coordinates": []}}]},
        "Locations.0.location.type",
    ),
    (
        {"name": "x", "Locations": [{"location": {"type": "Point", "coordinates": [200, 1]}}]},
        "Locations.0.location.coordinates.0",
    ),
    (
        {
            "name": "x",
            "Datastreams": [
                datastream("d", "m", GD100, {"name": "Depth"}) | {"unitOfMeasurement": None}
            ],
        },
        "Datastreams.0.unitOfMeasurement",
    ),
    (
        {
            "name": "x",
            "Datastreams": [datastream("d", "m", {"@iot.id": 999}, {"name": "Depth"})],
        },
        "Datastreams.0.Sensor.@iot.id",
    ),
    (
        {
            "name": "x",
            "Datastreams": [
                datastream("d", "m", GD100, {"name": "D"}),
                datastream("e", "m", {"name": "Other"}, {"name": "E"}),
            ],
        },
        "Datastreams",
    ),
]


def test_a_bad_thing_is_a_400_naming_the_field_and_registers_nothing(
    sta: Sta, session: Session
) -> None:
    for body, path in BAD_THINGS:
        r = sta.request("POST", "Things", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["path"] == path, body
    assert session.scalar(select(func.count()).select_from(Device)) == 0
    assert session.scalar(select(func.count()).select_from(DeviceType)) == 0


def test_observations_are_taken_in_by_the_ingest_service(
    sta: Sta, registry: Registry, session: Session, context: Any
) -> None:
    gas = registry.streams["B gas"]
    gas_property = sta.get(f"Datastreams({gas})/ObservedProperty")["@iot.id"]
    session.add(
        AlarmRule(
            name="gas high",
            kind="threshold",
            device_type_id=registry.sensor,
            property_id=gas_property,
            direction="above",
            levels=[{"severity": "major", "raise": 25.0}],
            created_at=EPOCH,
            updated_at=EPOCH,
        )
    )
    session.commit()
    context.sensors.invalidate()

    t = at(5)
    r = sta.request(
        "POST",
        "Observations",
        json={
            "phenomenonTime": iso(t),
            "result": 40.0,
            "Datastream": {"@iot.id": gas},
        },
    )
    assert r.status_code == 201, r.text
    observation = r.json()
    assert observation["@iot.id"] == obs_id(gas, t)
    assert r.headers["location"] == f"{BASE}/Observations({obs_id(gas, t)})"
    assert (observation["result"], observation["resultTime"]) == (40.0, "2026-11-24T01:00:00.000Z")
    assert session.get(Reading, (gas, t)) is not None
    minute = session.get(Rollup, (gas, "1m", t))
    assert minute is not None and minute.max_value == 40.0
    (alarm,) = session.scalars(select(Alarm).where(Alarm.device_id == registry.things["B"]))
    assert alarm.state == "active"

    again = sta.request(
        "POST", f"Datastreams({gas})/Observations", json={"phenomenonTime": iso(t), "result": 41.0}
    )
    assert again.status_code == 200
    assert (again.json()["@iot.id"], again.json()["result"]) == (obs_id(gas, t), 40.0)

    now = sta.post(f"Datastreams({gas})/Observations", {"result": 3})
    assert now["phenomenonTime"] == "2026-11-24T01:00:00.000Z"
    stream = sta.get(f"Datastreams({gas})")
    assert stream["phenomenonTime"] == "2026-11-24T00:20:00.000Z/2026-11-24T01:00:00.000Z"


REFUSED = [
    ("Observations", {"result": "high", "phenomenonTime": "2026-11-24T00:00:00Z"}, 400, "result"),
    (
        "Observations",
        {"result": 1, "phenomenonTime": "2026-11-24T02:00:00Z"},
        400,
        "phenomenonTime",
    ),
    ("Observations", {"result": 1, "phenomenonTime": "yesterday"}, 400, "phenomenonTime"),
    (
        "Observations",
        {"result": 1, "phenomenonTime": "2026-11-24T00:00:00Z/2026-11-24T00:01:00Z"},
        400,
        "phenomenonTime",
    ),
    ("Observations", {"phenomenonTime": "2026-11-24T00:00:00Z"}, 400, "result"),
    ("Observations", {"result": 1, "Datastream": {"@iot.id": 999999}}, 400, "Datastream"),
    ("Datastreams(999999)/Observations", {"result": 1}, 404, None),
]


def test_a_refused_observation_names_the_field_and_stores_nothing(
    sta: Sta, registry: Registry, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Reading))
    for path, body, status, field in REFUSED:
        r = sta.request(
            "POST", path, json={"Datastream": {"@iot.id": registry.streams["A gas"]}} | body
        )
        assert r.status_code == status, (body, r.text)
        if field is not None:
            assert r.json()["errors"][0]["path"] == field, body
    assert session.scalar(select(func.count()).select_from(Reading)) == before


def test_things_datastreams_and_places_change_and_go(
    sta: Sta, registry: Registry, session: Session
) -> None:
    a, b = registry.things["A"], registry.things["B"]
    gas, temperature = registry.streams["A gas"], registry.streams["A temperature"]
    r = sta.request(
        "PATCH",
        f"Datastreams({gas})",
        json={"unitOfMeasurement": {"name": "ppm", "symbol": "ppm", "definition": ""}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["unitOfMeasurement"]["symbol"] == "ppm"
    moved = sta.request(
        "PATCH",
        f"Locations({a})",
        json={"location": {"type": "Point", "coordinates": list(inside(GRID_B))}},
    )
    assert moved.status_code == 200, moved.text
    device = session.get(Device, a)
    assert device is not None
    session.refresh(device)
    assert (device.lon, device.lat, device.grid_code) == (*inside(GRID_B), GRID_B)
    renamed = sta.request(
        "PATCH",
        f"Things({a})",
        headers={"Content-Type": "application/json-patch+json"},
        content=b'[{"op": "replace", "path": "/name", "value": "Gas detector A2"},'
        b' {"op": "add", "path": "/properties/room", "value": "kitchen"}]',
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Gas detector A2"
    assert renamed.json()["properties"] == {"code": "gd-a", "floor": 1, "room": "kitchen"}

    latest = obs_id(gas, at(10))
    assert sta.request("DELETE", f"Observations({latest})").status_code == 200
    assert sta.request("GET", f"Observations({latest})").status_code == 404
    assert sta.get(f"Datastreams({gas})")["phenomenonTime"].endswith("/2026-11-24T00:40:00.000Z")
    assert sta.request("DELETE", f"Sensors({registry.sensor})").status_code == 409
    assert sta.request("DELETE", f"Datastreams({temperature})").status_code == 200
    assert names(sta.get(f"Things({a})/Datastreams")) == ["A gas"]
    assert sta.request("DELETE", f"Locations({a})").status_code == 200
    assert sta.get(f"Things({a})/Locations")["value"] == []

    b_streams = [registry.streams["B gas"], registry.streams["B temperature"]]
    assert sta.request("DELETE", f"Things({b})").status_code == 200
    assert sta.request("GET", f"Things({b})").status_code == 404
    leftover = select(func.count()).select_from(Reading).where(Reading.datastream_id.in_(b_streams))
    assert session.scalar(leftover) == 0
    assert (
        sta.request("PATCH", f"Observations({obs_id(gas, at(40))})", json={"result": 1}).status_code
        == 405
    )


# -- who may ------------------------------------------------------------------------------------


def test_every_request_needs_a_caller_and_writes_need_the_right_one(
    sta: Sta, registry: Registry, session: Session, login: Any
) -> None:
    def call(method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return sta.client.request(method, f"{STA}/{path}", headers=headers, **kw)

    r = call("GET", "Things")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert r.headers["content-type"] == "application/problem+json"
    assert call("GET", "Things", auth=("admin", "wrong")).status_code == 401
    assert call("GET", "Things", auth=ADMIN).status_code == 200

    _, key = create_api_key(session, name="gw", sources=["gw"], trusted=True, now=EPOCH)
    session.commit()
    machine = {"X-API-Key": key}
    person = login("dispatcher")
    for headers in (machine, person):
        assert call("GET", "Things", headers=headers).status_code == 200
        r = call("POST", "Things", json={"name": "x"}, headers=headers)
        assert r.status_code == 403
    basic = call("POST", "Sensors", json={"name": "x"}, auth=("dispatcher", PASSWORD))
    assert basic.status_code == 403

    gas = registry.streams["A gas"]
    body = {"result": 1.5, "phenomenonTime": iso(at(1)), "Datastream": {"@iot.id": gas}}
    assert call("POST", "Observations", json=body, headers=person).status_code == 403
    assert call("POST", "Observations", json=body, headers=machine).status_code == 201
    things_c = f"Things({registry.things['C']})"
    assert call("DELETE", things_c, headers=person).status_code == 403


def test_a_person_reads_only_the_devices_they_may_see(
    sta: Sta, registry: Registry, login: Any
) -> None:
    def read(person: dict[str, str], path: str, **params: Any) -> Any:
        r = sta.client.get(f"{STA}/{path}", headers=person, params=params or None)
        assert r.status_code == 200, r.text
        return r.json()

    # Street B's dispatcher: detector B (in grid B) only; not A, nor the gauge without a
    # place (which only the district's staff see).
    street = login("street_dispatcher")
    assert names(read(street, "Things")) == ["Gas detector B"]
    assert names(read(street, "Datastreams")) == ["B gas", "B temperature"]
    assert names(read(street, "Locations")) == ["grid " + GRID_B]
    observations = read(street, "Observations", **{"$expand": "Datastream($select=name)"})
    assert {o["Datastream"]["name"] for o in observations["value"]} == {"B gas"}
    thing_a = f"Things({registry.things['A']})"
    assert sta.client.get(f"{STA}/{thing_a}", headers=street).status_code == 404
    assert read(street, "Sensors")["value"]  # device types are the same for everyone
    # Through a navigation path too: no Sensor is found by a device the caller cannot see.
    by_a = read(street, "Sensors", **{"$filter": "Datastreams/Thing/name eq 'Gas detector A'"})
    assert by_a["value"] == []
    # A department's handler sees its department's devices: these have no owner yet.
    assert read(login("handler"), "Things")["value"] == []
    assert len(read(login("dispatcher"), "Things")["value"]) == 3


# -- a real client against a real server --------------------------------------------------------


# The client still calls furl's deprecated `pathstr`: its warning, not ours.
@pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
def test_the_frost_client_creates_a_thing_posts_observations_and_reads_them_back(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """frost-sta-client, as an STA user would drive it, against `cityops serve`."""
    import frost_sta_client as fsc
    from geojson import Point

    migrated_district(fresh_database_url)
    server = ServerProcess(fresh_database_url, tmp_path)
    server.start()
    try:
        service = fsc.SensorThingsService(
            f"{server.url}{STA}", auth_handler=fsc.AuthHandler("admin", PASSWORD)
        )
        sensor = fsc.Sensor(
            name="GD-100",
            description="gas detector",
            encoding_type="application/pdf",
            metadata=GD100["metadata"],
        )
        streams = [
            fsc.Datastream(
                name=name,
                description=f"{name} of the kitchen",
                observation_type=OM_MEASUREMENT,
                unit_of_measurement=fsc.UnitOfMeasurement(name=unit, symbol=unit, definition=""),
                sensor=sensor,
                observed_property=fsc.ObservedProperty(
                    name=name, definition=f"https://x/{name}", description=name
                ),
            )
            for name, unit in (("gas", "%LEL"), ("temperature", "°C"))
        ]
        location = fsc.Location(
            name="Jiefangbei",
            description="kitchen wall",
            encoding_type="application/geo+json",
            location=Point(inside(GRID_A)),
        )
        thing = fsc.Thing(
            name="Gas detector",
            description="restaurant kitchen",
            properties={"floor": 3},
            locations=[location],
            datastreams=streams,
        )
        service.create(thing)
        assert isinstance(thing.id, int)

        created = {d.name: d for d in thing.get_datastreams().query().list()}
        assert set(created) == {"gas", "temperature"}
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        values = [0.0, 4.5, 27.0, 12.5]
        for i, value in enumerate(values):
            observation = fsc.Observation(
                result=value,
                phenomenon_time=start + timedelta(minutes=i),
                datastream=created["gas"],
            )
            service.create(observation)
            assert observation.id == obs_id(created["gas"].id, start + timedelta(minutes=i))
        service.create(
            fsc.Observation(result=21.5, phenomenon_time=start, datastream=created["temperature"])
        )

        back = created["gas"].get_observations().query().orderby("phenomenonTime", "ASC").list()
        assert [o.result for o in back] == values
        high = (
            service.observations()
            .query()
            .filter(f"Datastream/id eq {created['gas'].id} and result gt 10")
            .orderby("result", "DESC")
            .list()
        )
        assert [o.result for o in high] == [27.0, 12.5]
        paged = service.observations().query().top(2).orderby("phenomenonTime", "ASC").list()
        assert len(list(paged)) == 5  # the client follows the nextLinks
        found = service.things().find(thing.id)
        assert (found.name, found.properties["floor"]) == ("Gas detector", 3)
        (where,) = found.get_locations().query().list()
        assert where.location["coordinates"] == list(inside(GRID_A))
    finally:
        server.stop()
