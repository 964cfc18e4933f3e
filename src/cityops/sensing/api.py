"""`/api/v1/readings`, `/devices`, `/device-types`, `/observed-properties`, `/alarm-rules`,
`/alarms`, `/dead-letters`: sensors, their readings and alarms."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from cityops.deps import AdminDep, ContextDep, NowDep, PersonDep, PrincipalDep, UowDep
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound, PayloadTooLarge
from cityops.kit.pagination import Page, PageParams, paginate
from cityops.sensing import repository, service
from cityops.sensing.models import (
    SEVERITY_BY_NAME,
    Alarm,
    AlarmRule,
    AlarmState,
    DeadLetter,
    Device,
    DeviceType,
    ObservedProperty,
)
from cityops.sensing.schemas import (
    AlarmAction,
    AlarmRead,
    DeadLetterRead,
    DeviceIn,
    DeviceMarker,
    DevicePatch,
    DeviceRead,
    DeviceTypeIn,
    DeviceTypeRead,
    ObservedPropertyIn,
    ObservedPropertyRead,
    RuleIn,
    RuleRead,
    Series,
)

router = APIRouter(tags=["sensing"])

MAX_BODY_BYTES = 64 * 1024 * 1024
# Who works alarms: the centre's staff (acknowledge, clear) and the owner department.
ALARM_ROLES = ("call_taker", "shift_leader", "dispatcher", "department_handler", "supervisor")


@router.post(
    "/readings",
    summary="Take in readings: a JSON array, or NDJSON (one reading a line)",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/x-ndjson": {"schema": {"type": "string"}}}}},
)  # fmt: skip
async def post_readings(request: Request, context: ContextDep, principal: PrincipalDep) -> Response:
    """Each reading: `device` and `property` codes (or `datastream_id`), `time` (ISO 8601 with
    its offset, or epoch seconds), `value`, optionally `unit`. Answered after the commit,
    with a result per reading in the order sent; a repeat is a `duplicate`."""
    if principal.api_key_id is None and not principal.has_role("admin"):
        raise Forbidden("readings come from a source's API key (or an admin)")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    items = _parse(body, request.headers.get("content-type", ""))
    limit = context.settings.max_readings_batch
    if not items:
        raise Invalid("no readings", errors=[FieldProblem("body", "empty")])
    if len(items) > limit:
        raise PayloadTooLarge(f"{len(items)} readings; at most {limit} a request",
                              errors=[FieldProblem("body", f"at most {limit} items")])  # fmt: skip
    results = await context.readings.submit(items)
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    for r in results:
        counts[r.status] += 1
    payload = {"accepted": counts["created"], "duplicates": counts["duplicate"],
               "rejected": counts["rejected"], "results": results}  # fmt: skip
    return Response(orjson.dumps(payload), media_type="application/json")


def _parse(body: bytes, content_type: str) -> list[Any]:
    if "ndjson" in content_type or "jsonl" in content_type:
        items: list[Any] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append({"__bad__": f"not JSON: {exc}"})
        return items
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not JSON: {exc}",
                      errors=[FieldProblem("body", "not JSON")]) from None  # fmt: skip
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise Invalid("send a reading or an array of readings",
                      errors=[FieldProblem("body", "object or array")])  # fmt: skip
    return payload


# -- registry -------------------------------------------------------------------------------


@router.get("/observed-properties", summary="What devices measure")
def list_properties(uow: UowDep, _caller: PersonDep) -> list[ObservedPropertyRead]:
    rows = uow.session.scalars(select(ObservedProperty).order_by(ObservedProperty.code))
    return [ObservedPropertyRead.model_validate(r) for r in rows]


@router.post("/observed-properties", status_code=201, summary="Add an observed property")
def create_property(
    data: ObservedPropertyIn, uow: UowDep, admin: AdminDep, context: ContextDep, now: NowDep
) -> ObservedPropertyRead:
    row = service.create_property(uow.session, admin, data, now)
    uow.commit()
    context.sensors.invalidate()
    return ObservedPropertyRead.model_validate(row)


@router.get("/device-types", summary="Device types with their properties and ranges")
def list_device_types(uow: UowDep, _caller: PersonDep) -> list[DeviceTypeRead]:
    rows = uow.session.scalars(select(DeviceType).order_by(DeviceType.code))
    return [repository.device_type_read(r) for r in rows]


@router.post("/device-types", status_code=201, summary="Add a device type")
def create_device_type(
    data: DeviceTypeIn, uow: UowDep, admin: AdminDep, context: ContextDep, now: NowDep
) -> DeviceTypeRead:
    row = service.create_device_type(uow.session, admin, data, now)
    uow.commit()
    context.sensors.invalidate()
    return repository.device_type_read(row)


@router.get("/devices", summary="Devices with their status, latest values and open alarms")
def list_devices(
    uow: UowDep,
    caller: PersonDep,
    context: ContextDep,
    now: NowDep,
    page: Annotated[PageParams, Query()],
    device_type: str | None = None,
    grid: Annotated[str | None, Query(pattern=r"^\d{6,15}$")] = None,
    status: Literal["online", "stale", "offline", "never"] | None = None,
    alarmed: bool | None = None,
    text: Annotated[str | None, Query(max_length=60)] = None,
) -> Page[DeviceRead]:
    """Filter by type, region (any code prefix), status, whether an alarm is open, and text
    in the code or name."""
    query = select(Device).where(repository.visible_devices(caller.actor)).order_by(Device.code)
    if device_type:
        query = query.join(DeviceType).where(DeviceType.code == device_type)
    if grid:
        query = query.where(Device.grid_code.startswith(grid))
    if text:
        query = query.where(Device.code.contains(text) | Device.name.contains(text))
    if status is None and alarmed is None:
        rows, total = paginate(uow.session, query, page)
        items = repository.device_reads(uow.session, rows, now, context.latest.get)
    else:
        # Status and alarms are worked out per device: filter after reading all in scope.
        every = repository.device_reads(uow.session, list(uow.session.scalars(query)), now,
                                     context.latest.get)  # fmt: skip
        every = [d for d in every if (status is None or d.status == status)
                 and (alarmed is None or (d.open_alarms > 0) == alarmed)]  # fmt: skip
        total = len(every)
        items = every[page.offset : page.offset + page.limit]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# Declared before `/devices/{device_id}`, which would otherwise take "map" for an id.
@router.get("/devices/map", summary="Every device in view with what colours it on a map")
def device_map(uow: UowDep, caller: PersonDep, now: NowDep) -> list[DeviceMarker]:
    """Active devices only, unpaged: place, status, open alarms, the worst of them that is
    not a fault, and whether a fault is open."""
    return repository.device_markers(uow.session, caller.actor, now)


def _visible_device(uow: UowDep, caller: PersonDep, device_id: int) -> Device:
    found = uow.session.scalar(
        select(Device).where(Device.id == device_id, repository.visible_devices(caller.actor))
    )
    if found is None:
        raise NotFound(f"device {device_id} not found")
    return found


@router.get("/devices/{device_id}", summary="One device")
def get_device(
    device_id: int, uow: UowDep, caller: PersonDep, context: ContextDep, now: NowDep
) -> DeviceRead:
    device = _visible_device(uow, caller, device_id)
    return repository.device_reads(uow.session, [device], now, context.latest.get)[0]


@router.post("/devices", status_code=201, summary="Register a device")
def create_device(
    data: DeviceIn, uow: UowDep, admin: AdminDep, context: ContextDep, now: NowDep
) -> DeviceRead:
    """Its grid is found from its place; a datastream is made for each property its type
    observes."""
    row = service.create_device(uow.session, admin, data, now, context.grids.get(uow.session))
    uow.commit()
    context.sensors.invalidate()
    return repository.device_reads(uow.session, [row], now, context.latest.get)[0]


@router.patch("/devices/{device_id}", summary="Change a device (move it, retire it...)")
def update_device(
    device_id: int, patch: DevicePatch, uow: UowDep, admin: AdminDep, context: ContextDep,
    now: NowDep,
) -> DeviceRead:  # fmt: skip
    grids = context.grids.get(uow.session)
    row = service.update_device(uow.session, admin, device_id, patch, now, grids)
    uow.commit()
    context.sensors.invalidate()
    return repository.device_reads(uow.session, [row], now, context.latest.get)[0]


@router.get("/devices/{device_id}/series", summary="A device's readings for a chart")
def device_series(
    device_id: int,
    uow: UowDep,
    caller: PersonDep,
    context: ContextDep,
    now: NowDep,
    property: Annotated[str, Query(min_length=1, max_length=60)],
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Literal["auto", "raw", "1m", "1h"] = "auto",
) -> Series:
    """Between `start` and `end` (default: the last 24 hours). `auto` gives raw readings up
    to 6 hours, minute rollups up to 7 days, hourly beyond."""
    device = _visible_device(uow, caller, device_id)
    end = end or now
    start = start or end - timedelta(hours=24)
    if start >= end:
        raise Invalid("start must be before end", errors=[FieldProblem("query.start", "after end")])
    if resolution == "auto":
        span = end - start
        resolution = (
            "raw" if span <= timedelta(hours=6) else "1m" if span <= timedelta(days=7) else "1h"
        )
    env = context.sensing_env(uow.session, now)
    return repository.series(uow.session, env, device, property, start, end, resolution)


# -- rules ------------------------------------------------------------------------------------


@router.get("/alarm-rules", summary="Alarm rules")
def list_rules(uow: UowDep, _caller: PersonDep) -> list[RuleRead]:
    rows = uow.session.scalars(select(AlarmRule).order_by(AlarmRule.id))
    return [repository.rule_read(uow.session, r) for r in rows]


@router.post("/alarm-rules", status_code=201, summary="Add an alarm rule (checked on save)")
def create_rule(
    data: RuleIn, uow: UowDep, admin: AdminDep, context: ContextDep, now: NowDep
) -> RuleRead:
    classes = set(context.catalog.get(uow.session).classes)
    row = service.save_rule(uow.session, admin, data, now, class_codes=classes)
    uow.commit()
    context.sensors.invalidate()
    return repository.rule_read(uow.session, row)


@router.put("/alarm-rules/{rule_id}", summary="Replace an alarm rule; it judges afresh")
def replace_rule(
    rule_id: int, data: RuleIn, uow: UowDep, admin: AdminDep, context: ContextDep, now: NowDep
) -> RuleRead:
    classes = set(context.catalog.get(uow.session).classes)
    row = service.save_rule(uow.session, admin, data, now, rule_id=rule_id, class_codes=classes)
    uow.commit()
    context.sensors.invalidate()
    return repository.rule_read(uow.session, row)


# -- alarms -----------------------------------------------------------------------------------


@router.get("/alarms", summary="Alarms, newest first")
def list_alarms(
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    state: Literal["open", "active", "acknowledged", "cleared"] | None = "open",
    severity: Literal["warning", "minor", "major", "critical"] | None = None,
    kind: Literal["alarm", "fault"] | None = None,
    device_id: int | None = None,
) -> Page[AlarmRead]:
    """`open` (the default) is active or acknowledged; `severity` is a minimum."""
    query = (select(Alarm).join(Device, Device.id == Alarm.device_id)
             .where(repository.visible_devices(caller.actor))
             .order_by(Alarm.severity.desc(), Alarm.raised_at.desc(), Alarm.id.desc()))  # fmt: skip
    if state == "open":
        query = query.where(Alarm.state != AlarmState.CLEARED.value)
    elif state is not None:
        query = query.where(Alarm.state == state)
    if severity:
        query = query.where(Alarm.severity >= int(SEVERITY_BY_NAME[severity]))
    if kind:
        query = query.where(Alarm.kind == kind)
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    rows, total = paginate(uow.session, query, page)
    return Page(items=repository.alarm_reads(uow.session, rows), total=total, limit=page.limit,
                offset=page.offset)  # fmt: skip


def _visible_alarm(uow: UowDep, caller: PersonDep, alarm_id: int) -> Alarm:
    found = uow.session.scalar(select(Alarm).join(Device, Device.id == Alarm.device_id).where(
        Alarm.id == alarm_id, repository.visible_devices(caller.actor)))  # fmt: skip
    if found is None:
        raise NotFound(f"alarm {alarm_id} not found")
    return found


@router.get("/alarms/{alarm_id}", summary="One alarm with its history")
def get_alarm(alarm_id: int, uow: UowDep, caller: PersonDep) -> AlarmRead:
    alarm = _visible_alarm(uow, caller, alarm_id)
    return repository.alarm_reads(uow.session, [alarm], events=True)[0]


def _may_work_alarms(caller: PersonDep) -> None:
    if not caller.has_role(*ALARM_ROLES, "admin"):
        raise Forbidden(f"this needs one of the roles: {', '.join(ALARM_ROLES)}")


@router.post("/alarms/{alarm_id}/acknowledge", summary="Acknowledge an alarm (确认)")
def acknowledge(
    alarm_id: int, body: AlarmAction, uow: UowDep, caller: PersonDep, context: ContextDep,
    now: NowDep,
) -> AlarmRead:  # fmt: skip
    _may_work_alarms(caller)
    _visible_alarm(uow, caller, alarm_id)
    env = context.sensing_env(uow.session, now)
    alarm = service.acknowledge(uow.session, env, caller, alarm_id, body.note)
    uow.commit()
    return repository.alarm_reads(uow.session, [alarm], events=True)[0]


@router.post("/alarms/{alarm_id}/clear", summary="Clear an alarm by hand (解除)")
def clear(
    alarm_id: int, body: AlarmAction, uow: UowDep, caller: PersonDep, context: ContextDep,
    now: NowDep,
) -> AlarmRead:  # fmt: skip
    _may_work_alarms(caller)
    _visible_alarm(uow, caller, alarm_id)
    env = context.sensing_env(uow.session, now)
    alarm = service.clear_by_hand(uow.session, env, caller, alarm_id, body.note)
    uow.commit()
    return repository.alarm_reads(uow.session, [alarm], events=True)[0]


@router.get("/dead-letters", summary="Messages a consumer could not take, with why")
def dead_letters(
    uow: UowDep, _admin: AdminDep, page: Annotated[PageParams, Query()], channel: str | None = None
) -> Page[DeadLetterRead]:
    query = select(DeadLetter).order_by(DeadLetter.id.desc())
    if channel:
        query = query.where(DeadLetter.channel == channel)
    rows, total = paginate(uow.session, query, page)
    return Page(items=[DeadLetterRead.model_validate(r) for r in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip
