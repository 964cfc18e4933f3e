"""What the sensing API takes and gives: the registry, alarm rules, alarms, series."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from cityops.kit.schemas import ReadSchema, Schema
from cityops.sensing.models import SEVERITY_BY_NAME, RuleKind

Code = Annotated[
    str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
SeverityName = Literal["warning", "minor", "major", "critical"]


class ObservedPropertyIn(Schema):
    code: Code
    name: str = Field(min_length=1, max_length=80)
    name_en: str = Field(default="", max_length=80)
    definition: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


class ObservedPropertyRead(ReadSchema):
    id: int
    code: str
    name: str
    name_en: str
    definition: str
    description: str


class TypePropertyIn(Schema):
    property: Code = Field(description="An observed property's code")
    unit_symbol: str = Field(min_length=1, max_length=20)
    unit_name: str = Field(default="", max_length=40)
    unit_definition: str = Field(default="", max_length=200)
    min_value: float | None = Field(default=None, description="Lowest physically possible value")
    max_value: float | None = Field(default=None, description="Highest physically possible value")

    @model_validator(mode="after")
    def _range(self) -> TypePropertyIn:
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value >= self.max_value
        ):
            raise ValueError("min_value must be below max_value")
        return self


class DeviceTypeIn(Schema):
    code: Code
    name: str = Field(min_length=1, max_length=80)
    name_en: str = Field(default="", max_length=80)
    description: str = Field(default="", max_length=2000)
    report_interval_s: int = Field(default=300, ge=1, le=7 * 86400)
    metadata_url: str = Field(default="", max_length=300)
    properties: list[TypePropertyIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _unique(self) -> DeviceTypeIn:
        codes = [p.property for p in self.properties]
        if len(set(codes)) != len(codes):
            raise ValueError("a property is listed twice")
        return self


class TypePropertyRead(ReadSchema):
    property: str
    property_name: str
    unit_symbol: str
    unit_name: str
    min_value: float | None
    max_value: float | None


class DeviceTypeRead(ReadSchema):
    id: int
    code: str
    name: str
    name_en: str
    description: str
    report_interval_s: int
    metadata_url: str
    properties: list[TypePropertyRead]


class DeviceIn(Schema):
    code: Code = Field(description="What the device calls itself in payloads and topics")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    device_type: Code = Field(description="A device type's code")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str = Field(default="", max_length=200)
    department_id: int | None = Field(default=None, description="The owner department")
    facility_code: str | None = Field(default=None, max_length=40, description="部件 code")
    facility_class_code: str | None = Field(default=None, max_length=8)
    report_interval_s: int | None = Field(default=None, ge=1, le=7 * 86400)
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _place(self) -> DeviceIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class DevicePatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=200)
    department_id: int | None = None
    facility_code: str | None = Field(default=None, max_length=40)
    facility_class_code: str | None = Field(default=None, max_length=8)
    report_interval_s: int | None = Field(default=None, ge=1, le=7 * 86400)
    active: bool | None = None


class LatestValue(ReadSchema):
    datastream_id: int
    property: str
    property_name: str
    unit: str
    time: datetime | None
    value: float | None


class DeviceRead(ReadSchema):
    id: int
    code: str
    name: str
    description: str
    device_type: str
    device_type_name: str
    lon: float | None
    lat: float | None
    address: str
    grid_code: str | None
    department_id: int | None
    facility_code: str | None
    facility_class_code: str | None
    report_interval_s: int
    active: bool
    status: str
    last_seen_at: datetime | None
    latest: list[LatestValue]
    open_alarms: int
    worst_severity: str | None


class DeviceMarker(ReadSchema):
    """A device as a map draws it: where it is and what colours it, for every device in
    view in one answer (the full `DeviceRead` with latest values is per device)."""

    id: int
    code: str
    name: str
    device_type: str
    lon: float | None
    lat: float | None
    grid_code: str | None
    status: str
    last_seen_at: datetime | None
    open_alarms: int
    alarm_severity: SeverityName | None = Field(
        description="The worst open alarm that is not a fault (the place is in trouble)"
    )
    fault: bool = Field(description="Whether a fault is open (the sensor is in trouble)")


class Level(Schema):
    severity: SeverityName
    raise_: float = Field(alias="raise", description="The threshold that raises this level")


class RuleIn(Schema):
    """An alarm rule, checked on save: levels in rising severity, each further from normal;
    the clear threshold on the normal side of the lowest level (hysteresis)."""

    name: str = Field(min_length=1, max_length=120)
    kind: RuleKind
    device_type: Code | None = Field(default=None, description="A device type's code")
    device: Code | None = Field(default=None, description="One device's code")
    property: Code | None = Field(default=None, description="Threshold and rate rules")
    direction: Literal["above", "below"] = "above"
    levels: list[Level] = Field(default_factory=list, max_length=4)
    clear_at: float | None = None
    for_seconds: float = Field(default=0, ge=0, le=86400)
    for_count: int = Field(default=1, ge=1, le=1000)
    clear_for_seconds: float = Field(default=0, ge=0, le=86400)
    silence_seconds: int | None = Field(default=None, ge=10, le=30 * 86400)
    silence_severity: SeverityName = "minor"
    case_class_code: str | None = Field(default=None, max_length=8)
    case_severity: SeverityName | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> RuleIn:
        if (self.device_type is None) == (self.device is None):
            raise ValueError("give device_type or device, not both and not neither")
        if (self.case_class_code is None) != (self.case_severity is None):
            raise ValueError("case_class_code and case_severity go together")
        if self.kind is RuleKind.SILENCE:
            if self.levels or self.property:
                raise ValueError("a silence rule has no property and no levels")
            return self
        if self.property is None:
            raise ValueError("property is required for threshold and rate rules")
        if not self.levels:
            raise ValueError("levels: at least one")
        ranks = [SEVERITY_BY_NAME[level.severity] for level in self.levels]
        if ranks != sorted(set(ranks)):
            raise ValueError("levels: in rising severity, each severity once")
        above = self.direction == "above"
        values = [level.raise_ for level in self.levels]
        if any((b <= a) if above else (b >= a) for a, b in itertools.pairwise(values)):
            side = "higher" if above else "lower"
            raise ValueError(f"levels: each raise threshold {side} than the one before")
        if self.clear_at is None:
            raise ValueError("clear_at is required: where the alarm clears")
        lowest = values[0]
        if (self.clear_at >= lowest) if above else (self.clear_at <= lowest):
            side = "below" if above else "above"
            raise ValueError(f"clear_at must be {side} the lowest raise threshold ({lowest:g})")
        if self.case_severity and SEVERITY_BY_NAME[self.case_severity] > max(ranks):
            raise ValueError("case_severity: no level of the rule reaches it")
        return self


class RuleRead(ReadSchema):
    id: int
    name: str
    kind: str
    device_type: str | None
    device: str | None
    property: str | None
    direction: str
    levels: list[dict[str, Any]]
    clear_at: float | None
    for_seconds: float
    for_count: int
    clear_for_seconds: float
    silence_seconds: int | None
    silence_severity: str
    case_class_code: str | None
    case_severity: str | None
    enabled: bool
    version: int
    updated_at: datetime


class AlarmEventRead(ReadSchema):
    at: datetime
    kind: str
    severity: str
    value: float | None
    actor_id: int | None
    note: str


class AlarmRead(ReadSchema):
    id: int
    device_id: int
    device_code: str
    device_name: str
    lon: float | None
    lat: float | None
    grid_code: str | None
    kind: str
    rule_id: int | None
    property: str | None
    severity: str
    state: str
    message: str
    raised_at: datetime
    trigger_value: float | None
    peak_value: float | None
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    clear_reason: str | None
    case_id: int | None
    events: list[AlarmEventRead] | None = None


class AlarmAction(Schema):
    note: str = Field(default="", max_length=300)


class SeriesThreshold(ReadSchema):
    rule: str
    severity: str
    value: float
    kind: Literal["raise", "clear"]


class Series(ReadSchema):
    """A datastream's readings for a chart: raw points, or min/avg/max per bucket."""

    datastream_id: int
    property: str
    property_name: str
    unit: str
    resolution: Literal["raw", "1m", "1h"]
    # raw: [time, value, faulty]; 1m/1h: [start, min, avg, max, count]
    points: list[list[Any]]
    thresholds: list[SeriesThreshold]
    min_value: float | None
    max_value: float | None


class DeadLetterRead(ReadSchema):
    id: int
    channel: str
    topic: str
    payload: str
    reason: str
    received_at: datetime
