"""What the API and pages read of the sensing tables: who sees which device, device and
alarm reads, the map's markers, a datastream's series for a chart."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.errors import NotFound
from cityops.sensing.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmRule,
    AlarmState,
    Datastream,
    Device,
    DeviceStatus,
    DeviceType,
    ObservedProperty,
    Reading,
    Rollup,
    RuleKind,
    Severity,
)
from cityops.sensing.readings import SensingEnv
from cityops.sensing.registry import DeviceInfo
from cityops.sensing.schemas import (
    AlarmEventRead,
    AlarmRead,
    DeviceMarker,
    DeviceRead,
    DeviceTypeRead,
    LatestValue,
    RuleRead,
    Series,
    SeriesThreshold,
    TypePropertyRead,
)

# A scope code this short is the whole district: it sees the devices placed in no grid too.
DISTRICT_CODE_LENGTH = 6
# A chart of raw readings shows at most this many; longer spans use the rollups.
MAX_RAW_POINTS = 20_000


def visible_devices(actor: Actor) -> ColumnElement[bool]:
    """Which devices a person sees: admins all; a department's handlers their department's;
    the centre and field staff those in their scope (devices with no grid: district scope)."""
    if actor.is_system or "admin" in actor.roles:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if "department_handler" in actor.roles and actor.department_id is not None:
        conditions.append(Device.department_id == actor.department_id)
    if actor.roles - {"department_handler"} and actor.scope_code:
        conditions.append(Device.grid_code.startswith(actor.scope_code))
        if len(actor.scope_code) <= DISTRICT_CODE_LENGTH:
            conditions.append(Device.grid_code.is_(None))
    return or_(*conditions) if conditions else false()


def device_status(device: DeviceInfo | Device, last_seen: datetime | None, now: datetime) -> str:
    interval = device.interval_s if isinstance(device, DeviceInfo) else _interval(device)
    return status_of(interval, last_seen, now)


def status_of(interval: int, last_seen: datetime | None, now: datetime) -> str:
    """online, stale, offline or never, from how long a device reporting every `interval`
    seconds has been silent."""
    if last_seen is None:
        return DeviceStatus.NEVER.value
    silent = (now - last_seen).total_seconds()
    if silent <= 1.5 * interval:
        return DeviceStatus.ONLINE.value
    if silent <= 3 * interval:
        return DeviceStatus.STALE.value
    return DeviceStatus.OFFLINE.value


def _interval(device: Device) -> int:
    return device.report_interval_s or device.device_type.report_interval_s


def rule_read(session: Session, row: AlarmRule) -> RuleRead:
    codes = {
        "device_type": session.scalar(
            select(DeviceType.code).where(DeviceType.id == row.device_type_id)
        )
        if row.device_type_id
        else None,
        "device": session.scalar(select(Device.code).where(Device.id == row.device_id))
        if row.device_id
        else None,
        "property": session.scalar(
            select(ObservedProperty.code).where(ObservedProperty.id == row.property_id)
        )
        if row.property_id
        else None,
    }
    return RuleRead.model_validate(
        {**{c.key: getattr(row, c.key) for c in AlarmRule.__table__.columns}, **codes}
    )


def device_type_read(row: DeviceType) -> DeviceTypeRead:
    return DeviceTypeRead(
        id=row.id,
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        description=row.description,
        report_interval_s=row.report_interval_s,
        metadata_url=row.metadata_url,
        properties=[
            TypePropertyRead(
                property=p.property.code,
                property_name=p.property.name,
                unit_symbol=p.unit_symbol,
                unit_name=p.unit_name,
                min_value=p.min_value,
                max_value=p.max_value,
            )
            for p in row.properties
        ],
    )


def device_reads(
    session: Session,
    rows: Sequence[Device],
    now: datetime,
    latest: Callable[[int], tuple[datetime, float] | None],
) -> list[DeviceRead]:
    """Devices with their latest values (from memory where this process has them) and
    their open alarms."""
    ids = [d.id for d in rows]
    streams: dict[int, list[tuple[Datastream, str, str]]] = defaultdict(list)
    if ids:
        for ds, code, name in session.execute(
            select(Datastream, ObservedProperty.code, ObservedProperty.name)
            .join(ObservedProperty, ObservedProperty.id == Datastream.property_id)
            .where(Datastream.device_id.in_(ids))
            .order_by(Datastream.id)
        ):
            streams[ds.device_id].append((ds, code, name))
    alarms: dict[int, list[int]] = defaultdict(list)
    if ids:
        for device_id, severity in session.execute(
            select(Alarm.device_id, Alarm.severity).where(
                Alarm.state != AlarmState.CLEARED.value, Alarm.device_id.in_(ids)
            )
        ):
            alarms[device_id].append(severity)
    out = []
    for d in rows:
        values = []
        for ds, code, name in streams[d.id]:
            mem = latest(ds.id)
            t, v = mem if mem is not None else (ds.last_time, ds.last_value)
            values.append(
                LatestValue(
                    datastream_id=ds.id,
                    property=code,
                    property_name=name,
                    unit=ds.unit_symbol,
                    time=t,
                    value=v,
                )
            )
        worst = max(alarms[d.id], default=0)
        out.append(
            DeviceRead(
                id=d.id,
                code=d.code,
                name=d.name,
                description=d.description,
                device_type=d.device_type.code,
                device_type_name=d.device_type.name,
                lon=d.lon,
                lat=d.lat,
                address=d.address,
                grid_code=d.grid_code,
                department_id=d.department_id,
                facility_code=d.facility_code,
                facility_class_code=d.facility_class_code,
                report_interval_s=_interval(d),
                active=d.active,
                status=device_status(d, d.last_seen_at, now),
                last_seen_at=d.last_seen_at,
                latest=values,
                open_alarms=len(alarms[d.id]),
                worst_severity=Severity(worst).label if worst else None,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class AlarmSummary:
    """A device's open alarms as a map colours it: how many, the worst that is not a fault
    (the place is in trouble) and whether a fault is open (the sensor is)."""

    open_alarms: int = 0
    alarm_severity: str | None = None
    fault: bool = False


def open_alarm_summaries(
    session: Session, device_ids: Collection[int] | None = None
) -> dict[int, AlarmSummary]:
    """The open alarms of these devices (all devices: None), summed up per device; a device
    with none is absent. Few alarms are open at any time: one query, no paging."""
    query = select(Alarm.device_id, Alarm.kind, Alarm.severity).where(
        Alarm.state != AlarmState.CLEARED.value
    )
    if device_ids is not None:
        if not device_ids:
            return {}
        query = query.where(Alarm.device_id.in_(sorted(device_ids)))
    counts: dict[int, int] = defaultdict(int)
    worst: dict[int, int] = defaultdict(int)
    faults: set[int] = set()
    for device_id, kind, severity in session.execute(query):
        counts[device_id] += 1
        if kind == AlarmKind.FAULT.value:
            faults.add(device_id)
        else:
            worst[device_id] = max(worst[device_id], severity)
    return {
        d: AlarmSummary(n, Severity(worst[d]).label if worst[d] else None, d in faults)
        for d, n in counts.items()
    }


def device_markers(session: Session, actor: Actor, now: datetime) -> list[DeviceMarker]:
    """Every active device `actor` may see, with its status and open alarms, for a map.

    Columns rather than ORM objects: a district's thousands of devices come in one answer.
    """
    interval = func.coalesce(Device.report_interval_s, DeviceType.report_interval_s)
    rows = session.execute(
        select(Device.id, Device.code, Device.name, DeviceType.code, Device.lon, Device.lat,
               Device.grid_code, Device.last_seen_at, interval)
        .join(DeviceType, DeviceType.id == Device.device_type_id)
        .where(Device.active.is_(True), visible_devices(actor))
        .order_by(Device.code)
    ).all()  # fmt: skip
    summaries = open_alarm_summaries(session)
    none = AlarmSummary()
    out = []
    for device_id, code, name, type_code, lon, lat, grid, last_seen, every in rows:
        summary = summaries.get(device_id, none)
        out.append(
            DeviceMarker(
                id=device_id,
                code=code,
                name=name,
                device_type=type_code,
                lon=lon,
                lat=lat,
                grid_code=grid,
                status=status_of(every, last_seen, now),
                last_seen_at=last_seen,
                open_alarms=summary.open_alarms,
                alarm_severity=summary.alarm_severity,  # type: ignore[arg-type]
                fault=summary.fault,
            )
        )
    return out


def alarm_reads(
    session: Session, rows: Sequence[Alarm], *, events: bool = False
) -> list[AlarmRead]:
    device_ids = {a.device_id for a in rows}
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(device_ids)))}
    props = dict(session.execute(select(ObservedProperty.id, ObservedProperty.code)).all())
    history: dict[int, list[AlarmEventRead]] = defaultdict(list)
    if events and rows:
        for e in session.scalars(
            select(AlarmEvent)
            .where(AlarmEvent.alarm_id.in_([a.id for a in rows]))
            .order_by(AlarmEvent.id)
        ):
            history[e.alarm_id].append(
                AlarmEventRead(
                    at=e.at,
                    kind=e.kind,
                    severity=Severity(e.severity).label,
                    value=e.value,
                    actor_id=e.actor_id,
                    note=e.note,
                )
            )
    out = []
    for a in rows:
        d = devices[a.device_id]
        out.append(
            AlarmRead(
                id=a.id,
                device_id=a.device_id,
                device_code=d.code,
                device_name=d.name,
                lon=d.lon,
                lat=d.lat,
                grid_code=d.grid_code,
                kind=a.kind,
                rule_id=a.rule_id,
                property=props.get(a.property_id) if a.property_id else None,
                severity=Severity(a.severity).label,
                state=a.state,
                message=a.message,
                raised_at=a.raised_at,
                trigger_value=a.trigger_value,
                peak_value=a.peak_value,
                acknowledged_at=a.acknowledged_at,
                cleared_at=a.cleared_at,
                clear_reason=a.clear_reason,
                case_id=a.case_id,
                events=history[a.id] if events else None,
            )
        )
    return out


def series(
    session: Session,
    env: SensingEnv,
    device: Device,
    property_code: str,
    start: datetime,
    end: datetime,
    resolution: str,
) -> Series:
    """A datastream's readings between two instants, raw or rolled up, with the thresholds
    of the rules that watch it (for the chart)."""
    row = session.execute(
        select(Datastream, ObservedProperty)
        .join(ObservedProperty, ObservedProperty.id == Datastream.property_id)
        .where(Datastream.device_id == device.id, ObservedProperty.code == property_code)
    ).first()
    if row is None:
        raise NotFound(f"device {device.code!r} does not observe {property_code!r}")
    ds, prop = row
    points: list[list[Any]]
    if resolution == "raw":
        points = [
            [t, v, f]
            for t, v, f in session.execute(
                select(Reading.observed_at, Reading.value, Reading.faulty)
                .where(
                    Reading.datastream_id == ds.id,
                    Reading.observed_at >= start,
                    Reading.observed_at < end,
                )
                .order_by(Reading.observed_at)
                .limit(MAX_RAW_POINTS)
            )
        ]
    else:
        points = [
            [t, lo, total / n, hi, n]
            for t, lo, hi, total, n in session.execute(
                select(
                    Rollup.start, Rollup.min_value, Rollup.max_value, Rollup.sum_value, Rollup.count
                )
                .where(
                    Rollup.datastream_id == ds.id,
                    Rollup.bucket == resolution,
                    Rollup.start >= start,
                    Rollup.start < end,
                )
                .order_by(Rollup.start)
            )
        ]
    stream = env.registry.stream_by_id(session, ds.id)
    thresholds = []
    if stream is not None:
        for rule in env.registry.rules_for(stream):
            if rule.spec is None or rule.kind is not RuleKind.THRESHOLD:
                continue
            for level in rule.spec.levels:
                thresholds.append(
                    SeriesThreshold(
                        rule=rule.name,
                        severity=level.severity.label,
                        value=level.raise_at,
                        kind="raise",
                    )
                )
            thresholds.append(
                SeriesThreshold(
                    rule=rule.name, severity="clear", value=rule.spec.clear_at, kind="clear"
                )
            )
    return Series(
        datastream_id=ds.id,
        property=prop.code,
        property_name=prop.name,
        unit=ds.unit_symbol,
        resolution=resolution,  # type: ignore[arg-type]
        points=points,
        thresholds=thresholds,
        min_value=stream.min_value if stream else None,
        max_value=stream.max_value if stream else None,
    )
