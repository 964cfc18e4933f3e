"""Alarm rows: raise, escalate, clear, and the case an alarm opens.

One open alarm per (device, key) at a time, guarded by a partial unique index: a value
that flaps, a rule judged twice, or two processes racing cannot leave two open alarms.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityops.cases.intake import IntakeEnv, Signal, intake
from cityops.cases.schemas import ActionRequest
from cityops.cases.service import CaseEnv, act
from cityops.cases.workflow import Action, Actor, IllegalTransition
from cityops.ingest.schemas import EventIn, Location, SourceKind
from cityops.kit.bus import collect
from cityops.sensing.events import AlarmChanged
from cityops.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmState, Severity
from cityops.sensing.registry import DeviceInfo, RuleInfo, StreamInfo

SEVERITY_ZH = {
    Severity.WARNING: "提示",
    Severity.MINOR: "一般",
    Severity.MAJOR: "较重",
    Severity.CRITICAL: "严重",
}
# How many readings up to the alarm a case quotes as evidence.
EVIDENCE_READINGS = 10
SOURCE = "sensing"


@dataclass(slots=True)
class OpenAlarm:
    id: int
    device_id: int
    key: str
    severity: int
    case_id: int | None
    last_trigger_at: datetime | None


def open_alarms(
    session: Session, device_ids: Collection[int] | None = None
) -> dict[tuple[int, str], OpenAlarm]:
    """The open alarms (of these devices), by (device, key).

    For given devices, only theirs are read (through the partial index of open alarms), so
    a lone reading pays for its own device and not for every open alarm in the district.
    """
    columns = (
        Alarm.id, Alarm.device_id, Alarm.key, Alarm.severity, Alarm.case_id, Alarm.last_trigger_at
    )  # fmt: skip
    is_open = Alarm.state != AlarmState.CLEARED.value
    if device_ids is None:
        queries = [select(*columns).where(is_open)]
    else:
        ordered = sorted(device_ids)
        queries = [
            select(*columns).where(is_open, Alarm.device_id.in_(ordered[start : start + 5000]))
            for start in range(0, len(ordered), 5000)
        ]
    return {
        (row.device_id, row.key): OpenAlarm(*row)
        for query in queries
        for row in session.execute(query)
    }


def _event(
    session: Session,
    alarm_id: int,
    at: datetime,
    kind: str,
    severity: int,
    value: float | None,
    actor_id: int | None = None,
    note: str = "",
) -> None:
    session.add(
        AlarmEvent(
            alarm_id=alarm_id,
            at=at,
            kind=kind,
            severity=severity,
            value=value,
            actor_id=actor_id,
            note=note,
        )
    )


def raise_alarm(
    session: Session,
    *,
    device: DeviceInfo,
    key: str,
    kind: AlarmKind,
    severity: Severity,
    message: str,
    at: datetime,
    value: float | None,
    now: datetime,
    rule_id: int | None = None,
    property_id: int | None = None,
) -> Alarm:
    alarm = Alarm(
        device_id=device.id,
        key=key,
        kind=kind.value,
        rule_id=rule_id,
        property_id=property_id,
        severity=int(severity),
        state=AlarmState.ACTIVE.value,
        message=message,
        raised_at=at,
        trigger_value=value,
        peak_value=value,
        last_trigger_at=at,
        updated_at=now,
    )
    session.add(alarm)
    session.flush()
    _event(session, alarm.id, at, "raised", int(severity), value, note=message)
    _changed(session, alarm.id, device, "raised", int(severity), AlarmState.ACTIVE)
    return alarm


def escalate(
    session: Session,
    alarm: OpenAlarm,
    device: DeviceInfo,
    severity: Severity,
    *,
    at: datetime,
    value: float,
    peak: float | None,
    now: datetime,
) -> None:
    session.execute(
        update(Alarm)
        .where(Alarm.id == alarm.id)
        .values(severity=int(severity), peak_value=peak, last_trigger_at=at, updated_at=now)
    )
    alarm.severity = int(severity)
    _event(session, alarm.id, at, "escalated", int(severity), value)
    _changed(session, alarm.id, device, "escalated", int(severity), AlarmState.ACTIVE)


def clear(
    session: Session,
    alarm: OpenAlarm,
    device: DeviceInfo,
    *,
    at: datetime,
    value: float | None,
    now: datetime,
    reason: str,
    actor_id: int | None = None,
    note: str = "",
    peak: float | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": AlarmState.CLEARED.value,
        "cleared_at": at,
        "cleared_by": actor_id,
        "clear_reason": reason,
        "updated_at": now,
    }
    if peak is not None:
        values["peak_value"] = peak
    session.execute(update(Alarm).where(Alarm.id == alarm.id).values(**values))
    _event(session, alarm.id, at, "cleared", alarm.severity, value, actor_id, note or reason)
    _changed(session, alarm.id, device, "cleared", alarm.severity, AlarmState.CLEARED)


def _changed(
    session: Session,
    alarm_id: int,
    device: DeviceInfo,
    change: str,
    severity: int,
    state: AlarmState,
) -> None:
    collect(
        session,
        AlarmChanged(
            alarm_id,
            device.id,
            change,
            severity,
            state.value,
            device.grid_code,
            device.department_id,
        ),
    )


def open_case(
    session: Session,
    intake_env: IntakeEnv,
    alarm: OpenAlarm,
    rule: RuleInfo,
    stream: StreamInfo,
    *,
    severity: Severity,
    at: datetime,
    value: float,
    recent: list[tuple[datetime, float]],
    tz: tzinfo,
) -> int | None:
    """Open (or join) a case of the rule's class for an alarm, through the automatic path
    of intake, quoting the readings up to the alarm. None when the device has no place."""
    device = stream.device
    if rule.case_class_code is None or device.lon is None or device.lat is None:
        return None
    shown = "，".join(f"{t.astimezone(tz):%H:%M:%S} {v:g}" for t, v in recent[-EVIDENCE_READINGS:])
    description = (
        f"【物联感知告警·{SEVERITY_ZH[severity]}】{device.name}（{device.code}）"
        f"{stream.property_name} {value:g} {stream.unit}，规则「{rule.name}」。"
        f"告警前读数（{stream.unit}）：{shown}。告警编号 {alarm.id}。"
    )
    event = EventIn(
        source=SOURCE,
        external_id=f"alarm-{alarm.id}",
        kind=SourceKind.SENSOR,
        location=Location(lon=device.lon, lat=device.lat),
        occurred_at=at,
        description=description[:2000],
        class_code=rule.case_class_code,
        confidence=1.0,
    )
    signal = Signal(
        index=0,
        event=event,
        source=SOURCE,
        reporter_id=None,
        reporter_name="物联感知",
        reporter_role="source",
        department_id=device.department_id,
    )
    (result,) = intake(session, intake_env, [signal])
    if result.case_id is None:
        return None
    session.execute(update(Alarm).where(Alarm.id == alarm.id).values(case_id=result.case_id))
    alarm.case_id = result.case_id
    _event(
        session,
        alarm.id,
        at,
        "case",
        int(severity),
        value,
        note=f"{result.status} case {result.case_id}",
    )
    _changed(session, alarm.id, device, "case", int(severity), AlarmState.ACTIVE)
    return result.case_id


def note_on_case(
    session: Session, case_env: Callable[[], CaseEnv], case_id: int, text: str
) -> None:
    """Record on the alarm's case that the alarm cleared (the case may be closed already)."""
    with contextlib.suppress(IllegalTransition):  # closed already: nothing left to tell
        act(
            session,
            case_env(),
            Actor.system("物联感知"),
            case_id,
            ActionRequest(action=Action.NOTE.value, note=text[:2000]),
        )
