"""Readings judged against the alarm rules: faults, silence, thresholds and rates; alarms
raised, escalated and cleared, and the cases they open.

The rules' semantics are in `rules` (pure); here they meet the stored state of each
(rule, device) and the open alarms. The caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityops.kit.bulk import dialect_name, driver_rows, execute_many, in_marks
from cityops.sensing import alarms as alarm_rows
from cityops.sensing.models import Alarm, AlarmKind, Device, Reading, RuleKind, Severity
from cityops.sensing.registry import RuleInfo
from cityops.sensing.rules import Change, Transition, empty_state, step

if TYPE_CHECKING:
    from cityops.sensing.readings import CheckedReading, SensingEnv


# A fault clears once the sensor has given possible values for this many of its intervals.
FAULT_CLEAR_INTERVALS = 3


def judge(session: Session, env: SensingEnv, written: list[CheckedReading]) -> None:
    """Faults, silence that ended, and threshold and rate rules, in time order."""
    registry = env.registry
    watched: dict[int, list[CheckedReading]] = defaultdict(list)
    for item in written:
        watched[item.stream.id].append(item)
    devices = {i.stream.device.id for i in written}
    faulty_streams = {i.stream.id for i in written if i.faulty}
    rules_of = {sid: registry.rules_for(group[0].stream) for sid, group in watched.items()}
    silence = {d: registry.silence_rules_for(registry.devices[d]) for d in devices}
    quiet = not faulty_streams and not any(rules_of.values()) and not any(silence.values())
    if quiet and not _may_have_faults(session, devices):
        return
    open_now = alarm_rows.open_alarms(session, devices)
    _faults(session, env, watched, open_now)
    _silence_ended(session, env, written, silence, open_now)
    pairs = sorted({(r.id, sid) for sid, rules in rules_of.items() for r in rules})
    if not pairs:
        return
    states = _rule_states(
        session, {(rule_id, watched[sid][0].stream.device.id) for rule_id, sid in pairs}
    )
    changed: dict[tuple[int, int], dict[str, Any]] = {}
    for rule_id, sid in pairs:
        rule = registry.rules[rule_id]
        assert rule.spec is not None
        group = sorted(watched[sid], key=lambda i: i.time)
        device = group[0].stream.device
        key = (rule_id, device.id)
        state = states.get(key)
        fresh_state = state is None
        if state is None:
            state = empty_state()
        judged_any = False
        for item in group:
            if item.faulty:
                continue
            moves, judged = step(rule.spec, state, item.time.timestamp(), item.value)
            judged_any |= judged
            for move in moves:
                _apply(session, env, rule, item, move, state, open_now, group)
        # A judged reading always moves the state on (its time at least); a late one never.
        if fresh_state or judged_any:
            changed[key] = state
    _save_states(session, changed)


def _may_have_faults(session: Session, devices: set[int]) -> bool:
    # With no rule in play and no faulty reading, only an open fault can need clearing.
    return any(key.startswith("fault:") for _, key in alarm_rows.open_alarms(session, devices))


def _faults(
    session: Session,
    env: SensingEnv,
    watched: dict[int, list[CheckedReading]],
    open_now: dict[tuple[int, str], alarm_rows.OpenAlarm],
) -> None:
    """A value outside the possible range raises a fault (the sensor, not the place, is
    in trouble); possible values for a few intervals since the last bad one clear it."""
    for group in watched.values():
        stream = group[0].stream
        device = stream.device
        key = f"fault:{stream.property_id}"
        alarm = open_now.get((device.id, key))
        bad = [i for i in group if i.faulty]
        if bad:
            last_bad = max(i.time for i in bad)
            if alarm is None:
                worst = bad[-1]
                message = (
                    f"{device.name} {stream.property_name} 读数 {worst.value:g} {stream.unit} "
                    f"超出量程 [{_fmt(stream.min_value)}, {_fmt(stream.max_value)}]，疑似传感器故障"
                )
                row = alarm_rows.raise_alarm(
                    session,
                    device=device,
                    key=key,
                    kind=AlarmKind.FAULT,
                    severity=Severity.WARNING,
                    message=message,
                    at=worst.time,
                    value=worst.value,
                    now=env.now,
                    property_id=stream.property_id,
                )
                row.last_trigger_at = last_bad
                open_now[(device.id, key)] = alarm_rows.OpenAlarm(
                    row.id, device.id, key, row.severity, None, last_bad
                )
            elif alarm.last_trigger_at is None or last_bad > alarm.last_trigger_at:
                session.execute(
                    update(Alarm)
                    .where(Alarm.id == alarm.id)
                    .values(last_trigger_at=last_bad, updated_at=env.now)
                )
                alarm.last_trigger_at = last_bad
            continue
        if alarm is not None and alarm.last_trigger_at is not None:
            newest = max(i.time for i in group)
            if newest - alarm.last_trigger_at >= timedelta(
                seconds=FAULT_CLEAR_INTERVALS * device.interval_s
            ):
                alarm_rows.clear(
                    session,
                    alarm,
                    device,
                    at=newest,
                    value=group[-1].value,
                    now=env.now,
                    reason="normal",
                )
                del open_now[(device.id, key)]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _silence_ended(
    session: Session,
    env: SensingEnv,
    written: list[CheckedReading],
    silence: dict[int, tuple[RuleInfo, ...]],
    open_now: dict[tuple[int, str], alarm_rows.OpenAlarm],
) -> None:
    """A device that speaks again clears its silence alarms."""
    heard: dict[int, CheckedReading] = {}
    for item in written:
        d = item.stream.device.id
        if d not in heard or item.time > heard[d].time:
            heard[d] = item
    for device_id, rules in silence.items():
        for rule in rules:
            alarm = open_now.pop((device_id, f"rule:{rule.id}"), None)
            if alarm is not None:
                item = heard[device_id]
                alarm_rows.clear(
                    session,
                    alarm,
                    item.stream.device,
                    at=item.time,
                    value=None,
                    now=env.now,
                    reason="normal",
                    note="设备恢复上报",
                )


def _apply(
    session: Session,
    env: SensingEnv,
    rule: RuleInfo,
    item: CheckedReading,
    move: Transition,
    state: dict[str, Any],
    open_now: dict[tuple[int, str], alarm_rows.OpenAlarm],
    group: list[CheckedReading],
) -> None:
    stream, device = item.stream, item.stream.device
    key = f"rule:{rule.id}"
    alarm = open_now.get((device.id, key))
    if move.change is Change.CLEARED:
        if alarm is None:
            return
        alarm_rows.clear(
            session, alarm, device, at=item.time, value=item.value, now=env.now, reason="normal"
        )
        del open_now[(device.id, key)]
        if alarm.case_id is not None:
            alarm_rows.note_on_case(
                session,
                env.case_env,
                alarm.case_id,
                f"告警已恢复：{device.name} {stream.property_name} "
                f"{item.value:g} {stream.unit}（规则「{rule.name}」，告警 {alarm.id}）",
            )
        return
    measure = "变化速率" if rule.kind is RuleKind.RATE else ""
    unit = f"{stream.unit}/分钟" if rule.kind is RuleKind.RATE else stream.unit
    message = (
        f"{device.name} {stream.property_name}{measure} {move.measure:.4g} {unit}，"
        f"{alarm_rows.SEVERITY_ZH[move.severity]}（{rule.name}）"
    )
    if alarm is None:
        row = alarm_rows.raise_alarm(
            session,
            device=device,
            key=key,
            kind=AlarmKind.ALARM,
            severity=move.severity,
            message=message,
            at=item.time,
            value=item.value,
            now=env.now,
            rule_id=rule.id,
            property_id=stream.property_id,
        )
        alarm = open_now[(device.id, key)] = alarm_rows.OpenAlarm(
            row.id, device.id, key, row.severity, None, item.time
        )
    elif move.severity > alarm.severity:
        alarm_rows.escalate(
            session,
            alarm,
            device,
            move.severity,
            at=item.time,
            value=item.value,
            peak=state.get("peak"),
            now=env.now,
        )
    if alarm.case_id is None and rule.opens_case(move.severity):
        recent = [(i.time, i.value) for i in group if i.time <= item.time and not i.faulty]
        if len(recent) < alarm_rows.EVIDENCE_READINGS:
            recent = (
                _earlier(
                    session, stream.id, group[0].time, alarm_rows.EVIDENCE_READINGS - len(recent)
                )
                + recent
            )
        alarm_rows.open_case(
            session,
            env.intake_env(),
            alarm,
            rule,
            stream,
            severity=move.severity,
            at=item.time,
            value=item.value,
            recent=recent,
            tz=env.tz,
        )


def _earlier(
    session: Session, stream_id: int, before: datetime, count: int
) -> list[tuple[datetime, float]]:
    rows = session.execute(
        select(Reading.observed_at, Reading.value)
        .where(
            Reading.datastream_id == stream_id,
            Reading.observed_at < before,
            Reading.faulty.is_(False),
        )
        .order_by(Reading.observed_at.desc())
        .limit(count)
    ).all()
    return [(t, v) for t, v in reversed(rows)]


def _rule_states(
    session: Session, keys: set[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, Any]]:
    """The stored states of these (rule, device) pairs, and only those: a rule may watch
    thousands of devices, and a lone alarm reading must not pay for all of them."""
    devices_of: dict[int, list[int]] = defaultdict(list)
    for rule_id, device_id in keys:
        devices_of[rule_id].append(device_id)
    postgres = dialect_name(session) == "postgresql"
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for rule_id, device_ids in sorted(devices_of.items()):
        device_ids.sort()
        for start in range(0, len(device_ids), 5000):
            chunk = device_ids[start : start + 5000]
            where = "device_id = ANY(?)" if postgres else f"device_id IN ({in_marks(len(chunk))})"
            rows = driver_rows(
                session,
                "SELECT device_id, CAST(state AS text) FROM alarm_rule_states "
                f"WHERE rule_id = ? AND {where}",
                [rule_id, chunk] if postgres else [rule_id, *chunk],
            )
            for device_id, state in rows:
                found[(rule_id, device_id)] = orjson.loads(state)
    return found


def _save_states(session: Session, changed: dict[tuple[int, int], dict[str, Any]]) -> None:
    if not changed:
        return
    cast = "CAST(? AS jsonb)" if dialect_name(session) == "postgresql" else "?"
    execute_many(
        session,
        f"INSERT INTO alarm_rule_states (rule_id, device_id, state) VALUES (?, ?, {cast}) "
        "ON CONFLICT (rule_id, device_id) DO UPDATE SET state = excluded.state",
        [(r, d, orjson.dumps(s).decode()) for (r, d), s in sorted(changed.items())],
    )


def sweep_silence(session: Session, env: SensingEnv) -> int:
    """Raise an alarm for each device silent for longer than its silence rule allows;
    returns how many were raised. Run every minute or so by the scheduler."""
    registry = env.registry
    open_now = alarm_rows.open_alarms(session)
    raised = 0
    rows = session.execute(
        select(Device.id, Device.last_seen_at, Device.created_at).where(Device.active.is_(True))
    ).all()
    for device_id, last_seen, created in rows:
        device = registry.devices.get(device_id)
        if device is None:
            continue
        for rule in registry.silence_rules_for(device):
            key = f"rule:{rule.id}"
            if (device_id, key) in open_now:
                continue
            limit = timedelta(seconds=rule.silence_seconds or 3 * device.interval_s)
            since = last_seen or created
            if env.now - since < limit:
                continue
            minutes = int((env.now - since).total_seconds() // 60)
            message = f"{device.name}（{device.code}）已 {minutes} 分钟未上报（{rule.name}）"
            row = alarm_rows.raise_alarm(
                session,
                device=device,
                key=key,
                kind=AlarmKind.ALARM,
                severity=rule.silence_severity,
                message=message,
                at=env.now,
                value=None,
                now=env.now,
                rule_id=rule.id,
            )
            open_now[(device_id, key)] = alarm_rows.OpenAlarm(
                row.id, device_id, key, row.severity, None, env.now
            )
            raised += 1
    return raised
