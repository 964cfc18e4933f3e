"""Sensing use cases done by people: the registry (observed properties, device types,
devices, alarm rules, checked on save and audited), alarms acknowledged and cleared by hand,
and the dead letters of messages no consumer could take. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.geo.index import GridIndex
from cityops.sensing import alarms as alarm_rows
from cityops.sensing.models import (
    Alarm,
    AlarmRule,
    AlarmState,
    Datastream,
    DeadLetter,
    Device,
    DeviceType,
    DeviceTypeProperty,
    ObservedProperty,
    RuleState,
)
from cityops.sensing.readings import SensingEnv
from cityops.sensing.repository import rule_read
from cityops.sensing.rules import reset
from cityops.sensing.schemas import DeviceIn, DevicePatch, DeviceTypeIn, ObservedPropertyIn, RuleIn


def acknowledge(
    session: Session, env: SensingEnv, principal: Principal, alarm_id: int, note: str
) -> Alarm:
    """Someone in the centre has seen the alarm and is on it (确认)."""
    alarm = session.get(Alarm, alarm_id, with_for_update=True)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found")
    if alarm.state != AlarmState.ACTIVE.value:
        raise Conflict(f"alarm {alarm_id} is {alarm.state}", current_state=alarm.state)
    alarm.state = AlarmState.ACKNOWLEDGED.value
    alarm.acknowledged_at = env.now
    alarm.acknowledged_by = principal.actor.id
    alarm.updated_at = env.now
    alarm_rows._event(
        session, alarm.id, env.now, "acknowledged", alarm.severity, None, principal.actor.id, note
    )
    record_audit(session, principal, "alarm.acknowledge", "alarm", alarm.id, now=env.now)
    device = env.registry.devices[alarm.device_id]
    alarm_rows._changed(
        session, alarm.id, device, "acknowledged", alarm.severity, AlarmState.ACKNOWLEDGED
    )
    return alarm


def clear_by_hand(
    session: Session, env: SensingEnv, principal: Principal, alarm_id: int, note: str
) -> Alarm:
    """Clear an alarm by hand (a repaired sensor, a false alarm): the rule starts afresh,
    so if the condition still holds it raises a new alarm at the next readings."""
    alarm = session.get(Alarm, alarm_id, with_for_update=True)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found")
    if alarm.state == AlarmState.CLEARED.value:
        raise Conflict(f"alarm {alarm_id} is cleared already", current_state=alarm.state)
    device = env.registry.devices[alarm.device_id]
    open_alarm = alarm_rows.OpenAlarm(
        alarm.id, alarm.device_id, alarm.key, alarm.severity, alarm.case_id, alarm.last_trigger_at
    )
    alarm_rows.clear(
        session,
        open_alarm,
        device,
        at=env.now,
        value=None,
        now=env.now,
        reason="manual",
        actor_id=principal.actor.id,
        note=note,
    )
    if alarm.rule_id is not None:
        state = session.get(RuleState, (alarm.rule_id, alarm.device_id))
        if state is not None:
            fresh = dict(state.state)
            reset(fresh)
            state.state = fresh
    record_audit(
        session, principal, "alarm.clear", "alarm", alarm.id, now=env.now, after={"note": note}
    )
    session.refresh(alarm)
    return alarm


def record_dead_letter(
    session: Session,
    *,
    channel: str,
    topic: str,
    payload: bytes | str,
    reason: str,
    now: datetime,
) -> None:
    """Keep a message a consumer could not take, with why, for someone to look at.

    The payload is kept as text that shows every byte: invalid UTF-8 as `\\xNN` escapes
    (not replaced, so the sender can be shown what they sent) and NUL as `\\x00`, which
    PostgreSQL's text type refuses."""
    session.add(
        DeadLetter(
            channel=channel,
            topic=_printable(topic)[:200],
            payload=_printable(payload)[:10_000],
            reason=_printable(reason)[:500],
            received_at=now,
        )
    )


def _printable(value: bytes | str) -> str:
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value
    return text.replace("\x00", "\\x00")


def _property(session: Session, code: str, path: str) -> ObservedProperty:
    found = session.scalar(select(ObservedProperty).where(ObservedProperty.code == code))
    if found is None:
        raise Invalid(f"no observed property {code!r}", errors=[FieldProblem(path, "unknown")])
    return found


def _device_type(session: Session, code: str, path: str) -> DeviceType:
    found = session.scalar(select(DeviceType).where(DeviceType.code == code))
    if found is None:
        raise Invalid(f"no device type {code!r}", errors=[FieldProblem(path, "unknown")])
    return found


def _device(session: Session, code: str, path: str) -> Device:
    found = session.scalar(select(Device).where(Device.code == code))
    if found is None:
        raise Invalid(f"no device {code!r}", errors=[FieldProblem(path, "unknown")])
    return found


def create_property(
    session: Session, principal: Principal, data: ObservedPropertyIn, now: datetime
) -> ObservedProperty:
    if session.scalar(select(ObservedProperty.id).where(ObservedProperty.code == data.code)):
        raise Conflict(f"observed property {data.code!r} exists")
    row = ObservedProperty(**data.model_dump())
    session.add(row)
    session.flush()
    record_audit(
        session,
        principal,
        "property.create",
        "observed_property",
        row.id,
        now=now,
        after=data.model_dump(),
    )
    return row


def create_device_type(
    session: Session, principal: Principal, data: DeviceTypeIn, now: datetime
) -> DeviceType:
    if session.scalar(select(DeviceType.id).where(DeviceType.code == data.code)):
        raise Conflict(f"device type {data.code!r} exists")
    row = DeviceType(**data.model_dump(exclude={"properties"}))
    for i, p in enumerate(data.properties):
        prop = _property(session, p.property, f"properties.{i}.property")
        row.properties.append(
            DeviceTypeProperty(property=prop, **p.model_dump(exclude={"property"}))
        )
    session.add(row)
    session.flush()
    record_audit(
        session,
        principal,
        "device_type.create",
        "device_type",
        row.id,
        now=now,
        after=data.model_dump(mode="json"),
    )
    return row


def create_device(
    session: Session, principal: Principal, data: DeviceIn, now: datetime, grids: GridIndex
) -> Device:
    """Register a device, with a datastream for each property of its type; its grid is
    found from its place."""
    if session.scalar(select(Device.id).where(Device.code == data.code)):
        raise Conflict(f"device {data.code!r} exists")
    dtype = _device_type(session, data.device_type, "device_type")
    values = data.model_dump(exclude={"device_type"})
    row = Device(**values, device_type_id=dtype.id, created_at=now, active=True)
    if data.lon is not None and data.lat is not None:
        row.grid_code = grids.locate(data.lon, data.lat)
    session.add(row)
    session.flush()
    for tp in dtype.properties:
        session.add(
            Datastream(
                device_id=row.id,
                property_id=tp.property_id,
                name=f"{row.name} {tp.property.name}",
                unit_symbol=tp.unit_symbol,
                unit_name=tp.unit_name,
                unit_definition=tp.unit_definition,
            )
        )
    session.flush()
    record_audit(
        session,
        principal,
        "device.create",
        "device",
        row.id,
        now=now,
        after=data.model_dump(mode="json"),
    )
    return row


def update_device(
    session: Session,
    principal: Principal,
    device_id: int,
    patch: DevicePatch,
    now: datetime,
    grids: GridIndex,
) -> Device:
    row = session.get(Device, device_id)
    if row is None:
        raise NotFound(f"device {device_id} not found")
    changes = patch.model_dump(exclude_unset=True)
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    if (row.lon is None) != (row.lat is None):
        raise Invalid("give both lon and lat", errors=[FieldProblem("lon", "with lat")])
    if "lon" in changes or "lat" in changes:
        row.grid_code = grids.locate(row.lon, row.lat) if row.lon is not None else None  # type: ignore[arg-type]
    record_audit(
        session,
        principal,
        "device.update",
        "device",
        row.id,
        now=now,
        before=_jsonable(before),
        after=_jsonable(changes),
    )
    return row


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def save_rule(
    session: Session,
    principal: Principal,
    data: RuleIn,
    now: datetime,
    rule_id: int | None = None,
    class_codes: set[str] | None = None,
) -> AlarmRule:
    """Create or replace a rule after checking it against the registry and the catalog."""
    values: dict[str, Any] = data.model_dump(
        exclude={"device_type", "device", "property", "levels"}
    )
    values["levels"] = [{"severity": lv.severity, "raise": lv.raise_} for lv in data.levels]
    values["device_type_id"] = values["device_id"] = values["property_id"] = None
    type_id: int | None = None
    if data.device_type is not None:
        type_id = values["device_type_id"] = _device_type(
            session, data.device_type, "device_type"
        ).id
    else:
        assert data.device is not None
        device = _device(session, data.device, "device")
        values["device_id"] = device.id
        type_id = device.device_type_id
    if data.property is not None:
        prop = _property(session, data.property, "property")
        observed = session.scalar(
            select(DeviceTypeProperty.id).where(
                DeviceTypeProperty.device_type_id == type_id,
                DeviceTypeProperty.property_id == prop.id,
            )
        )
        if observed is None and data.device is None:
            raise Invalid(
                f"device type {data.device_type!r} does not observe {prop.code!r}",
                errors=[FieldProblem("property", "not observed by the device type")],
            )
        values["property_id"] = prop.id
    if (
        data.case_class_code is not None
        and class_codes is not None
        and (data.case_class_code not in class_codes)
    ):
        raise Invalid(
            f"no case class {data.case_class_code!r}",
            errors=[FieldProblem("case_class_code", "unknown class")],
        )
    if rule_id is None:
        row = AlarmRule(**values, created_at=now, updated_at=now, version=1)
        session.add(row)
        session.flush()
        record_audit(
            session,
            principal,
            "alarm_rule.create",
            "alarm_rule",
            row.id,
            now=now,
            after=data.model_dump(mode="json", by_alias=True),
        )
        return row
    row_found = session.get(AlarmRule, rule_id, with_for_update=True)
    if row_found is None:
        raise NotFound(f"alarm rule {rule_id} not found")
    before = rule_read(session, row_found).model_dump(mode="json")
    for key, value in values.items():
        setattr(row_found, key, value)
    row_found.updated_at = now
    row_found.version += 1
    # A changed rule judges from scratch: runs measured against the old levels mean nothing.
    session.execute(delete(RuleState).where(RuleState.rule_id == rule_id))
    record_audit(
        session,
        principal,
        "alarm_rule.update",
        "alarm_rule",
        rule_id,
        now=now,
        before=before,
        after=data.model_dump(mode="json", by_alias=True),
    )
    return row_found
