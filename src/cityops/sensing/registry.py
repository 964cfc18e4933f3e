"""The devices, datastreams and rules the ingest path reads for every reading, in memory.

Loaded once per process (a city's hundred thousand devices fit in a few tens of MB) and
reloaded when this process edits the registry, or after the reference TTL when another
process may have. A device registered a moment ago in another process is not refused as
unknown: a miss is looked up in the database before a reading is rejected.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.sensing.models import (
    SEVERITY_BY_NAME,
    AlarmRule,
    Datastream,
    Device,
    DeviceTypeProperty,
    ObservedProperty,
    RuleKind,
    Severity,
)
from cityops.sensing.rules import Level, RuleSpec


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    code: str
    name: str
    type_id: int
    lon: float | None
    lat: float | None
    grid_code: str | None
    department_id: int | None
    interval_s: int
    active: bool


@dataclass(frozen=True, slots=True)
class StreamInfo:
    id: int
    device: DeviceInfo
    property_id: int
    property_code: str
    property_name: str
    unit: str
    # The physically possible range (of the device type): outside it the sensor is faulty.
    min_value: float | None
    max_value: float | None

    def possible(self, value: float) -> bool:
        return not (
            (self.min_value is not None and value < self.min_value)
            or (self.max_value is not None and value > self.max_value)
        )


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: int
    name: str
    kind: RuleKind
    device_type_id: int | None
    device_id: int | None
    property_id: int | None
    spec: RuleSpec | None  # threshold and rate rules
    silence_seconds: int | None
    silence_severity: Severity
    case_class_code: str | None
    case_severity: Severity | None

    def opens_case(self, severity: Severity) -> bool:
        return (
            self.case_class_code is not None
            and self.case_severity is not None
            and severity >= self.case_severity
        )


def rule_info(row: AlarmRule) -> RuleInfo:
    kind = RuleKind(row.kind)
    spec = None
    if kind is not RuleKind.SILENCE:
        levels = tuple(
            Level(SEVERITY_BY_NAME[level["severity"]], float(level["raise"]))
            for level in row.levels
        )
        spec = RuleSpec(
            id=row.id,
            kind=kind,
            direction=row.direction,
            levels=levels,
            clear_at=float(row.clear_at if row.clear_at is not None else levels[0].raise_at),
            for_seconds=row.for_seconds,
            for_count=row.for_count,
            clear_for_seconds=row.clear_for_seconds,
        )
    return RuleInfo(
        id=row.id,
        name=row.name,
        kind=kind,
        device_type_id=row.device_type_id,
        device_id=row.device_id,
        property_id=row.property_id,
        spec=spec,
        silence_seconds=row.silence_seconds,
        silence_severity=SEVERITY_BY_NAME.get(row.silence_severity, Severity.MINOR),
        case_class_code=row.case_class_code,
        case_severity=SEVERITY_BY_NAME[row.case_severity] if row.case_severity else None,
    )


@dataclass
class Registry:
    devices: dict[int, DeviceInfo]
    devices_by_code: dict[str, DeviceInfo]
    streams: dict[int, StreamInfo]
    by_key: dict[tuple[str, str], StreamInfo]
    rules: dict[int, RuleInfo]
    _for_stream: dict[int, tuple[RuleInfo, ...]] = field(default_factory=dict)
    _silence_for: dict[int, tuple[RuleInfo, ...]] = field(default_factory=dict)
    # When this process last wrote each device's `last_seen_at` (see `heard_from`).
    _heard: dict[int, datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stream(self, session: Session, device_code: str, property_code: str) -> StreamInfo | None:
        """The datastream of a device's property, looking in the database on a miss."""
        found = self.by_key.get((device_code, property_code))
        if found is None and device_code not in self.devices_by_code:
            found = self._load_device(session, device_code).get(property_code)
        return found

    def stream_by_id(self, session: Session, stream_id: int) -> StreamInfo | None:
        found = self.streams.get(stream_id)
        if found is None:
            code = session.scalar(
                select(Device.code)
                .join(Datastream, Datastream.device_id == Device.id)
                .where(Datastream.id == stream_id)
            )
            if code is not None:
                self._load_device(session, code)
                found = self.streams.get(stream_id)
        return found

    def _load_device(self, session: Session, code: str) -> dict[str, StreamInfo]:
        loaded = _load(session, Device.code == code)
        with self._lock:
            self.devices.update(loaded.devices)
            self.devices_by_code.update(loaded.devices_by_code)
            self.streams.update(loaded.streams)
            self.by_key.update(loaded.by_key)
        return {s.property_code: s for s in loaded.streams.values()}

    def rules_for(self, stream: StreamInfo) -> tuple[RuleInfo, ...]:
        """The threshold and rate rules that watch a datastream.

        A device's own rule of a kind on a property replaces its type's rules of that kind
        on that property: this tank sits lower, so its level differs.
        """
        found = self._for_stream.get(stream.id)
        if found is not None:
            return found
        device = stream.device
        mine = [
            r
            for r in self.rules.values()
            if r.spec is not None
            and r.property_id == stream.property_id
            and r.device_id == device.id
        ]
        own_kinds = {r.kind for r in mine}
        typed = [
            r
            for r in self.rules.values()
            if r.spec is not None
            and r.property_id == stream.property_id
            and r.device_id is None
            and r.device_type_id == device.type_id
            and r.kind not in own_kinds
        ]
        found = self._for_stream[stream.id] = tuple(sorted(mine + typed, key=lambda r: r.id))
        return found

    def heard_from(self, devices: Iterable[DeviceInfo], now: datetime) -> list[int]:
        """Which of `devices` need `last_seen_at` written at `now`: those not written by
        this process in the last quarter of their reporting interval (5 s at most).

        A device reporting many times a second would otherwise cost a row update per
        batch for a time its status (online within 1.5 intervals) cannot tell apart. The
        time kept is the one written, even if that transaction then failed: the column
        then lags by at most that window."""
        due = []
        heard = self._heard
        for device in devices:
            last = heard.get(device.id)
            if last is None or (now - last).total_seconds() >= min(5.0, device.interval_s / 4):
                heard[device.id] = now
                due.append(device.id)
        return due

    def silence_rules_for(self, device: DeviceInfo) -> tuple[RuleInfo, ...]:
        """The silence rules that watch a device: its own, else its type's. Asked for every
        device of every batch, so kept once found (a registry is rebuilt when rules change)."""
        found = self._silence_for.get(device.id)
        if found is not None:
            return found
        silence = [r for r in self.rules.values() if r.kind is RuleKind.SILENCE]
        mine = [r for r in silence if r.device_id == device.id]
        if not mine:
            mine = [r for r in silence
                    if r.device_id is None and r.device_type_id == device.type_id]  # fmt: skip
        found = self._silence_for[device.id] = tuple(mine)
        return found


def load_registry(session: Session) -> Registry:
    return _load(session, None)


def _load(session: Session, where: object) -> Registry:
    query = select(Device)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    devices: dict[int, DeviceInfo] = {}
    for d in session.scalars(query):
        devices[d.id] = DeviceInfo(
            id=d.id,
            code=d.code,
            name=d.name,
            type_id=d.device_type_id,
            lon=d.lon,
            lat=d.lat,
            grid_code=d.grid_code,
            department_id=d.department_id,
            interval_s=d.report_interval_s or d.device_type.report_interval_s,
            active=d.active,
        )
    ranges = {
        (row.device_type_id, row.property_id): (row.min_value, row.max_value)
        for row in session.scalars(select(DeviceTypeProperty))
    }
    props = {p.id: p for p in session.scalars(select(ObservedProperty))}
    streams: dict[int, StreamInfo] = {}
    rows = session.scalars(select(Datastream).where(Datastream.device_id.in_(list(devices))))
    if where is None:
        rows = session.scalars(select(Datastream))
    for s in rows:
        device = devices.get(s.device_id)
        if device is None:
            continue
        low, high = ranges.get((device.type_id, s.property_id), (None, None))
        prop = props[s.property_id]
        streams[s.id] = StreamInfo(
            s.id, device, s.property_id, prop.code, prop.name, s.unit_symbol, low, high
        )
    rules = {}
    if where is None:
        rules = {
            r.id: rule_info(r)
            for r in session.scalars(select(AlarmRule).where(AlarmRule.enabled.is_(True)))
        }
    return Registry(
        devices=devices,
        devices_by_code={d.code: d for d in devices.values()},
        streams=streams,
        by_key={(s.device.code, s.property_code): s for s in streams.values()},
        rules=rules,
    )


class LatestValues:
    """Each datastream's latest reading, kept in memory by the process that took it in.

    Fed after commit by the ingest path; a datastream this process has not seen falls back
    to the `last_time`/`last_value` columns its row keeps.
    """

    def __init__(self) -> None:
        self._values: dict[int, tuple[datetime, float]] = {}

    def get(self, stream_id: int) -> tuple[datetime, float] | None:
        return self._values.get(stream_id)

    def update(self, latest: dict[int, tuple[datetime, float]]) -> None:
        values = self._values
        for stream_id, (t, v) in latest.items():
            known = values.get(stream_id)
            if known is None or t > known[0]:
                values[stream_id] = (t, v)
