"""`/sta/v1.1`: the OGC SensorThings API (Sensing part): read with the OData query
options, create, change and delete; Observations go through the sensing ingest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.deps import ContextDep, NowDep, UowDep
from cityops.errors import BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge
from cityops.ingest.sensorthings import service
from cityops.ingest.sensorthings.deps import (
    StaPrincipal,
    StaRoute,
    require_admin,
    require_observer,
    sta_principal,
)
from cityops.ingest.sensorthings.entities import (
    BY_PLURAL,
    DATASTREAM,
    OBSERVATION,
    Base,
    EntityType,
    observation_id,
    scoped,
    unscoped,
)
from cityops.ingest.sensorthings.paths import Resource, Step, parse_path
from cityops.ingest.sensorthings.query import Options, parse_options
from cityops.ingest.sensorthings.repository import Reader, Result
from cityops.kit.bulk import dialect_name
from cityops.kit.bus import UnitOfWork
from cityops.sensing.models import Datastream
from cityops.sensing.readings import ingest_readings, parse_time
from cityops.sensing.repository import visible_devices

PREFIX = "/sta/v1.1"
MAX_BODY_BYTES = 8 * 1024 * 1024
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
]
JSON_PATCH = "application/json-patch+json"

router = APIRouter(prefix=PREFIX, tags=["sensorthings"], route_class=StaRoute)

# A write is one of these, by entity type: (session, env, id, body) or (session, env, id).
Updater = Callable[[Session, service.WriteEnv, int, Any], None]
Deleter = Callable[[Session, service.WriteEnv, int], None]
UPDATES: dict[str, Updater] = {
    "Thing": service.update_thing,
    "Location": service.update_location,
    "Sensor": service.update_sensor,
    "ObservedProperty": service.update_observed_property,
    "Datastream": service.update_datastream,
}
DELETES: dict[str, Deleter] = {
    "Thing": service.delete_thing,
    "Location": service.delete_location,
    "Sensor": service.delete_sensor,
    "ObservedProperty": service.delete_observed_property,
    "Datastream": service.delete_datastream,
    "Observation": service.delete_observation,
}


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _reader(
    uow: UnitOfWork, request: Request, now: datetime, principal: Principal | None = None
) -> Reader:
    """A reader for `principal`: a person reads the devices they may see (as on the sensors
    API), an API key (an integration an administrator issued) and a writer reading back
    what it wrote read everything."""
    scope: Base = unscoped
    if principal is not None and principal.api_key_id is None:
        scope = scoped(visible_devices(principal.actor))
    return Reader(uow.session, _base(request), dialect_name(uow.session), now, scope)


def _root(request: Request) -> Response:
    base = _base(request)
    return _json(
        {
            "value": [{"name": plural, "url": f"{base}/{plural}"} for plural in BY_PLURAL],
            "serverSettings": {"conformance": CONFORMANCE},
        }
    )


@router.get(
    "",
    summary="The service root: entity sets and conformance classes",
    dependencies=[Depends(sta_principal)],
)
async def service_root(request: Request) -> Response:
    """Lists the entity sets and, in `serverSettings`, the conformance classes."""
    return _root(request)


@router.get("/{path:path}", summary="Read entities, one entity, a property, or links")
def read(
    path: str, request: Request, uow: UowDep, now: NowDep, principal: StaPrincipal
) -> Response:
    """`Things`, `Things(1)/Datastreams`, `Datastreams(5)/Observations?$filter=...`,
    `Things(1)/name/$value`, `.../$ref`; with $filter, $select, $expand, $orderby, $top,
    $skip and $count."""
    if not path.strip("/"):
        return _root(request)
    resource = parse_path(path)
    result = _reader(uow, request, now, principal).read(
        resource, parse_options(request.query_params)
    )
    return _result(result)


def _result(result: Result) -> Response:
    if result.text is not None:
        return Response(result.text, media_type="text/plain; charset=utf-8")
    if result.body is None:
        return Response(status_code=204)
    return _json(result.body)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest.at("body", f"not JSON: {exc}") from None


def _write_env(
    context: Context, uow: UnitOfWork, principal: Principal, now: datetime
) -> service.WriteEnv:
    grids = context.grids.get(uow.session)
    return service.WriteEnv(principal=principal, now=now, locate=grids.locate)


def _parent_key(resource: Resource, *allowed: str) -> int | None:
    """The id of the entity a collection is reached from (`Things(1)/Datastreams` → 1),
    for a parent of one of the `allowed` types; None for a top-level collection."""
    if len(resource.steps) == 1:
        return None
    parent: Step = resource.steps[-2]
    if parent.etype.name not in allowed or parent.key is None or len(resource.steps) > 2:
        raise MethodNotAllowed(
            f"cannot create through {resource.path}: post to {resource.etype.plural}"
        )
    return parent.key


@router.post("/{path:path}", summary="Create an entity (with inline related entities)")
async def create(
    path: str,
    request: Request,
    context: ContextDep,
    uow: UowDep,
    principal: StaPrincipal,
    now: NowDep,
) -> Response:
    """Things with inline Locations and Datastreams (each with its Sensor and
    ObservedProperty, inline or by id), Locations, Sensors, ObservedProperties,
    Datastreams and Observations. 201 with a Location header."""
    resource = parse_path(path)
    if resource.single or resource.prop is not None or resource.ref:
        raise MethodNotAllowed("POST to a collection")
    if resource.etype is OBSERVATION:
        require_observer(principal)
        body = await _body(request)
        return await run_in_threadpool(
            _create_observation, resource, body, context, uow, request, now
        )
    require_admin(principal)
    body = await _body(request)
    return await run_in_threadpool(_create, resource, body, context, uow, principal, request, now)


def _create(
    resource: Resource,
    body: Any,
    context: Context,
    uow: UnitOfWork,
    principal: Principal,
    request: Request,
    now: datetime,
) -> Response:
    etype = resource.etype
    session, env = uow.session, _write_env(context, uow, principal, now)
    if etype.name == "Thing":
        _parent_key(resource)
        new_id = service.create_thing(session, env, body)
    elif etype.name == "Datastream":
        thing_id = _parent_key(resource, "Thing")
        new_id = service.create_datastream(session, env, body, thing_id=thing_id)
    elif etype.name == "Location":
        thing_id = _parent_key(resource, "Thing")
        new_id = service.create_location(session, env, body, thing_id=thing_id)
    elif etype.name == "Sensor":
        _parent_key(resource)
        new_id = service.create_sensor(session, env, body)
    elif etype.name == "ObservedProperty":
        _parent_key(resource)
        new_id = service.create_observed_property(session, env, body)
    else:
        raise MethodNotAllowed(
            f"{etype.plural} are derived from the Things (each device is its own "
            "feature of interest, and its place its location)"
        )
    uow.commit()
    context.sensors.invalidate()
    return _entity_response(context, request, now, etype, new_id, 201)


def _entity_response(
    context: Context, request: Request, now: datetime, etype: EntityType, new_id: int, status: int
) -> Response:
    # Read back in a session of its own: the write transaction has committed, and reading
    # in it again would hold the writer's lock (on SQLite) while the answer is built.
    with context.read_sessions() as session:
        reader = Reader(session, _base(request), dialect_name(session), now)
        entity = reader.entity(
            etype, lambda a: [*etype.base(a), etype.match_id(a, new_id)], Options()
        )
    if entity is None:  # deleted in between by someone else
        raise NotFound(f"no {etype.plural}({new_id})")
    return _json(entity, status, headers={"Location": entity["@iot.selfLink"]})


def _create_observation(
    resource: Resource,
    body: Any,
    context: Context,
    uow: UnitOfWork,
    request: Request,
    now: datetime,
) -> Response:
    datastream_id = _parent_key(resource, DATASTREAM.name)
    if datastream_id is not None and uow.session.get(Datastream, datastream_id) is None:
        raise NotFound(f"no Datastreams({datastream_id})")
    item = service.observation_item(body, datastream_id=datastream_id, now=now)
    env = context.sensing_env(uow.session, now)
    (result,) = ingest_readings(uow.session, env, [item])
    if result.status == "rejected":
        raise service.rejected(result.errors)
    uow.commit()
    # A repeat of a reading stored before changes nothing: 200 with the stored one.
    new_id = observation_id(item["datastream_id"], parse_time(item["time"]))
    status = 201 if result.status == "created" else 200
    return _entity_response(context, request, now, OBSERVATION, new_id, status)


def _entity_key(resource: Resource, method: str) -> int:
    if resource.prop is not None or resource.ref or not resource.single:
        raise MethodNotAllowed(f"{method} an entity: {resource.etype.plural}(id)")
    key = resource.steps[-1].key
    if key is None:
        raise MethodNotAllowed(f"{method} the entity at {resource.etype.plural}({{id}})")
    return key


@router.patch("/{path:path}", summary="Change an entity (JSON or JSON Patch)")
async def update(
    path: str,
    request: Request,
    context: ContextDep,
    uow: UowDep,
    principal: StaPrincipal,
    now: NowDep,
) -> Response:
    """Things, Locations, Sensors, ObservedProperties and Datastreams: the properties given
    are changed; an `application/json-patch+json` body is applied to the entity."""
    resource = parse_path(path)
    key = _entity_key(resource, request.method)
    updater = UPDATES.get(resource.etype.name)
    if updater is None:
        raise MethodNotAllowed(f"{resource.etype.plural} are not changed: delete and post again")
    require_admin(principal)
    body = await _body(request)
    patch = request.headers.get("content-type", "").startswith(JSON_PATCH)
    return await run_in_threadpool(
        _update, resource, key, updater, body, patch, context, uow, principal, request, now
    )


@router.put("/{path:path}", summary="Change an entity (taken as PATCH)")
async def replace(
    path: str,
    request: Request,
    context: ContextDep,
    uow: UowDep,
    principal: StaPrincipal,
    now: NowDep,
) -> Response:
    """What clients send as an update (the whole entity): its properties are changed, its
    links must stay as they are."""
    return await update(path, request, context, uow, principal, now)


def _update(
    resource: Resource,
    key: int,
    updater: Updater,
    body: Any,
    patch: bool,
    context: Context,
    uow: UnitOfWork,
    principal: Principal,
    request: Request,
    now: datetime,
) -> Response:
    etype = resource.etype
    reader = _reader(uow, request, now)

    def where(a: Any) -> list[Any]:
        return [*etype.base(a), etype.match_id(a, key)]

    current = reader.entity(etype, where, Options())
    if current is None:
        raise NotFound(f"no {etype.plural}({key})")
    if patch:
        body = service.apply_json_patch(current, body)
    updater(uow.session, _write_env(context, uow, principal, now), key, body)
    uow.commit()
    context.sensors.invalidate()
    return _entity_response(context, request, now, etype, key, 200)


@router.delete("/{path:path}", summary="Delete an entity")
def remove(
    path: str,
    context: ContextDep,
    uow: UowDep,
    principal: StaPrincipal,
    now: NowDep,
) -> Response:
    """Things (with their Datastreams and Observations), Locations (the Thing stays,
    without a place), Sensors and ObservedProperties no longer used, Datastreams,
    Observations."""
    resource = parse_path(path)
    key = _entity_key(resource, "DELETE")
    deleter = DELETES.get(resource.etype.name)
    if deleter is None:
        raise MethodNotAllowed(f"{resource.etype.plural} are derived from the Things")
    require_admin(principal)
    deleter(uow.session, _write_env(context, uow, principal, now), key)
    uow.commit()
    context.sensors.invalidate()
    return Response(status_code=200)
