"""Devices, their readings and rollups, alarm rules, their per-device state, and alarms.

The STA mapping (OGC SensorThings) in one line each: a device is a Thing (and its
Location), a device type a Sensor, an observed property an ObservedProperty, a datastream
a Datastream, a reading an Observation.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityops.db import Base


class Severity(IntEnum):
    """Alarm severities, in rising order (提示 · 一般 · 较重 · 严重)."""

    WARNING = 1
    MINOR = 2
    MAJOR = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


SEVERITY_BY_NAME = {s.label: s for s in Severity}


class DeviceStatus(StrEnum):
    ONLINE = "online"  # reported within 1.5 expected intervals
    STALE = "stale"  # late, not yet given up on (up to 3 intervals)
    OFFLINE = "offline"  # silent for longer
    NEVER = "never"  # registered, not heard from yet


class ObservedProperty(Base):
    """What is measured: combustible gas, temperature, water level..."""

    __tablename__ = "observed_properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    definition: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class DeviceType(Base):
    """A model of device: what it observes, in which units, within which physical range."""

    __tablename__ = "device_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # How often a healthy device of this type reports; status and silence alarms use it.
    report_interval_s: Mapped[int] = mapped_column(Integer, default=300)
    # STA Sensor: the datasheet or description of the model, and its encoding type.
    metadata_url: Mapped[str] = mapped_column(String(300), default="")
    encoding_type: Mapped[str] = mapped_column(String(80), default="text/html")
    properties: Mapped[list[DeviceTypeProperty]] = relationship(
        back_populates="device_type", cascade="all, delete-orphan", order_by="DeviceTypeProperty.id"
    )


class DeviceTypeProperty(Base):
    """One property a device type observes, its unit and physically possible range."""

    __tablename__ = "device_type_properties"
    __table_args__ = (UniqueConstraint("device_type_id", "property_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("device_types.id", ondelete="CASCADE"))
    property_id: Mapped[int] = mapped_column(ForeignKey("observed_properties.id"))
    unit_symbol: Mapped[str] = mapped_column(String(20))
    unit_name: Mapped[str] = mapped_column(String(40), default="")
    unit_definition: Mapped[str] = mapped_column(String(200), default="")
    # A reading outside [min, max] cannot be real: the sensor is faulty.
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    device_type: Mapped[DeviceType] = relationship(back_populates="properties")
    property: Mapped[ObservedProperty] = relationship(lazy="joined")


class Device(Base):
    """One installed device (a Thing): where it is, whose it is, what facility it watches."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the device calls itself in payloads and MQTT topics.
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    device_type_id: Mapped[int] = mapped_column(ForeignKey("device_types.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The facility (部件) it watches: its identification code and catalog class.
    facility_code: Mapped[str | None] = mapped_column(String(40))
    facility_class_code: Mapped[str | None] = mapped_column(String(8))
    # Overrides the type's interval for this device, where it reports more or less often.
    report_interval_s: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None]
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    device_type: Mapped[DeviceType] = relationship(lazy="joined")


class Datastream(Base):
    """The readings of one property of one device, with the latest kept on the row."""

    __tablename__ = "datastreams"
    __table_args__ = (UniqueConstraint("device_id", "property_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    property_id: Mapped[int] = mapped_column(ForeignKey("observed_properties.id"))
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    unit_symbol: Mapped[str] = mapped_column(String(20))
    unit_name: Mapped[str] = mapped_column(String(40), default="")
    unit_definition: Mapped[str] = mapped_column(String(200), default="")
    observation_type: Mapped[str] = mapped_column(
        String(120),
        default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
    )
    last_time: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    first_time: Mapped[datetime | None]


class Reading(Base):
    """One value of one datastream at one instant; (datastream, time) identifies it.

    On PostgreSQL the table is partitioned by day of `observed_at` (migration 0004) so that
    retention drops whole partitions; on SQLite old rows are deleted in chunks.
    """

    __tablename__ = "readings"
    # SQLite keeps each row in its key's B-tree, not twice over (migration 0005).
    __table_args__ = ({"sqlite_with_rowid": False},)

    datastream_id: Mapped[int] = mapped_column(primary_key=True)
    observed_at: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime]
    # ok, or faulty: outside the physically possible range (kept, never alarmed on).
    faulty: Mapped[bool] = mapped_column(default=False)


class Rollup(Base):
    """min/max/sum/count of a datastream's readings per minute ("1m") or hour ("1h")."""

    __tablename__ = "reading_rollups"
    __table_args__ = ({"sqlite_with_rowid": False},)

    datastream_id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(2), primary_key=True)
    start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    min_value: Mapped[float] = mapped_column(Float)
    max_value: Mapped[float] = mapped_column(Float)
    sum_value: Mapped[float] = mapped_column(Float)


class RuleKind(StrEnum):
    THRESHOLD = "threshold"  # the value crosses a level
    RATE = "rate"  # the value changes faster than a level (units per minute)
    SILENCE = "silence"  # the device stops reporting


class AlarmRule(Base):
    """An alarm rule of a device type or of one device, as data editable through the API."""

    __tablename__ = "alarm_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    device_type_id: Mapped[int | None] = mapped_column(ForeignKey("device_types.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    # The property watched (threshold and rate rules).
    property_id: Mapped[int | None] = mapped_column(ForeignKey("observed_properties.id"))
    direction: Mapped[str] = mapped_column(String(6), default="above")
    # [{"severity": "warning", "raise": 25.0}, {"severity": "major", "raise": 50.0}]:
    # rising severity, each level's raise threshold further from normal than the last.
    levels: Mapped[list[Any]] = mapped_column(default=list)
    # Back on this side of `clear_at` the alarm clears: short of the lowest raise
    # threshold (hysteresis), so that a value hovering at a threshold raises one alarm.
    clear_at: Mapped[float | None] = mapped_column(Float)
    for_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    for_count: Mapped[int] = mapped_column(Integer, default=1)
    clear_for_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Silence rules: alarm after this long without a reading (default 3 intervals).
    silence_seconds: Mapped[int | None] = mapped_column(Integer)
    silence_severity: Mapped[str] = mapped_column(String(8), default="minor")
    # An alarm at or above this severity opens a case of this class.
    case_class_code: Mapped[str | None] = mapped_column(String(8))
    case_severity: Mapped[str | None] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class RuleState(Base):
    """Where a rule stands on one device: the runs in progress and the active alarm.

    Kept in the database, so that every process and every restart judges the next reading
    from the same past.
    """

    __tablename__ = "alarm_rule_states"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alarm_rules.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlarmState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class AlarmKind(StrEnum):
    ALARM = "alarm"  # a rule's condition
    FAULT = "fault"  # the sensor reports impossible values


class Alarm(Base):
    """One alarm, from raised to cleared; at most one open per (device, key)."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(
            "uq_alarms_open_device_key",
            "device_id",
            "key",
            unique=True,
            sqlite_where=text("state != 'cleared'"),
            postgresql_where=text("state != 'cleared'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    # "rule:<id>" or "fault:<property code>": what the alarm is about on the device.
    key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(6))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_rules.id", ondelete="SET NULL"))
    property_id: Mapped[int | None] = mapped_column(ForeignKey("observed_properties.id"))
    severity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=AlarmState.ACTIVE.value, index=True)
    message: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(index=True)
    # The reading that raised it, and the worst one while it was active.
    trigger_value: Mapped[float | None] = mapped_column(Float)
    peak_value: Mapped[float | None] = mapped_column(Float)
    # The last reading that met the condition (a fault clears after good readings since).
    last_trigger_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    clear_reason: Mapped[str | None] = mapped_column(String(12))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    updated_at: Mapped[datetime]


class AlarmEvent(Base):
    """The alarm's history: raised, escalated, acknowledged, cleared, case opened."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(12))
    severity: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(String(300), default="")


class DeadLetter(Base):
    """A message a consumer could not take, kept with the reason (MQTT, NDJSON lines...)."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # mqtt, http
    topic: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(index=True)
