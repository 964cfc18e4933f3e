"""Sensing use cases: take in readings (durably, once each), judge them against the alarm
rules, raise and clear alarms, open cases; acknowledge and clear alarms by hand.

The ingest path is built for batches of tens of thousands of readings: items are checked by
hand rather than by a model each, the registry is in memory, a reading newer than its
datastream's latest cannot be a repeat (so only late readings are looked up), and rows go to
the driver in bulk. The caller commits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.intake import IntakeEnv
from cityops.cases.service import CaseEnv
from cityops.cases.workflow import Actor
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.geo.index import GridIndex
from cityops.kit.bulk import dialect_name, driver_rows, execute_many, in_marks, insert_rows
from cityops.kit.bus import collect
from cityops.sensing import alarms as alarm_rows
from cityops.sensing.events import ReadingsStored
from cityops.sensing.models import (
    Alarm,
    AlarmEvent,
    AlarmKind,
    AlarmRule,
    AlarmState,
    Datastream,
    DeadLetter,
    Device,
    DeviceStatus,
    DeviceType,
    DeviceTypeProperty,
    ObservedProperty,
    Reading,
    Rollup,
    RuleKind,
    RuleState,
    Severity,
)
from cityops.sensing.registry import DeviceInfo, Registry, RuleInfo, StreamInfo
from cityops.sensing.rules import Change, Transition, empty_state, reset, step
from cityops.sensing.schemas import (
    AlarmEventRead,
    AlarmRead,
    DeviceIn,
    DeviceMarker,
    DevicePatch,
    DeviceRead,
    DeviceTypeIn,
    DeviceTypeRead,
    LatestValue,
    ObservedPropertyIn,
    RuleIn,
    RuleRead,
    Series,
    SeriesThreshold,
    TypePropertyRead,
)

# A device clock a few minutes fast is common; a reading from further ahead is a bug.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# A fault clears once the sensor has given possible values for this many of its intervals.
FAULT_CLEAR_INTERVALS = 3
EPOCH_MS_LIMIT = 100_000_000_000
DISTRICT_CODE_LENGTH = 6
# A chart of raw readings shows at most this many; longer spans use the rollups.
MAX_RAW_POINTS = 20_000  # a number above this is epoch milliseconds, not seconds


@dataclass
class SensingEnv:
    """What the sensing services read, from the process's caches; `now` for the batch."""

    registry: Registry
    now: datetime
    tz: tzinfo
    intake_env: Callable[[], IntakeEnv]
    case_env: Callable[[], CaseEnv]
    # Readings older than this are refused: the next retention pass would delete them.
    reading_retention: timedelta | None = None


@dataclass(slots=True)
class ReadingResult:
    """What became of one reading: created, duplicate (sent before) or rejected."""

    index: int
    status: str
    faulty: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    index: int
    stream: StreamInfo
    time: datetime
    value: float
    faulty: bool


def _reject(index: int, path: str, message: str) -> ReadingResult:
    return ReadingResult(index, "rejected", errors=[{"path": path, "message": message}])


def parse_time(raw: Any) -> datetime:
    """An ISO 8601 time with its offset, or epoch seconds (or milliseconds), to the ms."""
    if isinstance(raw, str):
        t = datetime.fromisoformat(raw)
        if t.tzinfo is None:
            raise ValueError("needs a time zone (Z or +08:00)")
    elif isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError("needs a time zone")
        t = raw
    elif isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        seconds = raw / 1000 if abs(raw) >= EPOCH_MS_LIMIT else raw
        t = datetime.fromtimestamp(seconds, UTC)
    else:
        raise ValueError("an ISO 8601 time or epoch seconds")
    t = t.astimezone(UTC)
    # Milliseconds: what devices send, and what a reading's identity is made of.
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _check(
    session: Session, env: SensingEnv, index: int, raw: Any, times: dict[str, datetime]
) -> _Item | ReadingResult:
    # A dict is what JSON gives; the ABC check is for other mappings only (it is slower).
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return _reject(index, "body", "a reading is an object")
    if "__bad__" in raw:  # an NDJSON line that did not parse
        return _reject(index, "body", str(raw["__bad__"]))
    registry = env.registry
    stream_id = raw.get("datastream_id")
    if stream_id is not None:
        if not isinstance(stream_id, int) or isinstance(stream_id, bool):
            return _reject(index, "datastream_id", "an integer")
        stream = registry.stream_by_id(session, stream_id)
        if stream is None:
            return _reject(index, "datastream_id", f"no datastream {stream_id}")
    else:
        device, prop = raw.get("device"), raw.get("property")
        if not isinstance(device, str) or not device:
            return _reject(index, "device", "the device's code is required")
        if not isinstance(prop, str) or not prop:
            return _reject(index, "property", "the observed property's code is required")
        stream = registry.stream(session, device, prop)
        if stream is None:
            if device not in registry.devices_by_code:
                return _reject(index, "device", f"no device {device!r}")
            return _reject(index, "property", f"device {device!r} does not observe {prop!r}")
    if not stream.device.active:
        return _reject(index, "device", f"device {stream.device.code!r} is retired")
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _reject(index, "value", "a number")
    value = float(value)
    if not math.isfinite(value):
        return _reject(index, "value", "a finite number (not NaN or infinity)")
    unit = raw.get("unit")
    if unit is not None and unit != stream.unit:
        return _reject(index, "unit", f"{stream.property_code} is in {stream.unit!r}, not {unit!r}")
    raw_time = raw.get("time")
    # A fleet's batch repeats the same few timestamps thousands of times: parse each once.
    t = times.get(raw_time) if isinstance(raw_time, str) else None
    if t is None:
        try:
            t = parse_time(raw_time)
        except (ValueError, OverflowError, OSError) as exc:
            return _reject(index, "time", str(exc))
        if isinstance(raw_time, str):
            times[raw_time] = t
    if t > env.now + MAX_CLOCK_SKEW:
        return _reject(index, "time", "is in the future")
    if env.reading_retention is not None and t < env.now - env.reading_retention:
        return _reject(index, "time", f"older than retention ({env.reading_retention.days} days)")
    return _Item(index, stream, t, value, not stream.possible(value))


def ingest_readings(session: Session, env: SensingEnv, items: Sequence[Any]) -> list[ReadingResult]:
    """Check, store, roll up and judge a batch of readings; a result per item, in order.

    Each item names its datastream by `datastream_id`, or by `device` and `property` codes,
    and gives `time` and `value` (optionally `unit`, which must be the datastream's).
    A reading whose (datastream, time) is stored already is a duplicate and changes
    nothing.
    """
    results: list[ReadingResult | None] = [None] * len(items)
    good: list[_Item] = []
    times: dict[str, datetime] = {}
    for index, raw in enumerate(items):
        checked = _check(session, env, index, raw, times)
        if isinstance(checked, ReadingResult):
            results[index] = checked
        else:
            good.append(checked)
    if good:
        for item in _store(session, env, good):
            results[item.index] = ReadingResult(item.index, "created", item.faulty)
        for item in good:
            if results[item.index] is None:
                results[item.index] = ReadingResult(item.index, "duplicate", item.faulty)
    return [r for r in results if r is not None]


def _store(session: Session, env: SensingEnv, items: list[_Item]) -> list[_Item]:
    """Write the readings not stored before and act on them; returns those written."""
    now = env.now
    by_stream: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        by_stream[item.stream.id].append(item)
    heads = _lock_heads(session, sorted(by_stream))
    fresh: list[_Item] = []
    late: list[_Item] = []
    for stream_id, group in by_stream.items():
        group.sort(key=lambda i: i.time)
        head = heads.get(stream_id)
        previous: datetime | None = None
        for item in group:
            if item.time == previous:
                continue  # the same reading twice in one batch
            previous = item.time
            (fresh if head is None or item.time > head else late).append(item)
    insert_rows(
        session,
        [
            (
                Reading,
                [
                    {
                        "datastream_id": i.stream.id,
                        "observed_at": i.time,
                        "value": i.value,
                        "received_at": now,
                        "faulty": i.faulty,
                    }
                    for i in fresh
                ],
            )
        ],
    )
    written = fresh + _insert_late(session, late, now)
    if not written:
        return written
    _roll_up(session, written)
    latest = _advance_heads(session, env, written)
    _judge(session, env, written)
    collect(session, ReadingsStored(latest))
    return written


def _lock_heads(session: Session, stream_ids: list[int]) -> dict[int, datetime | None]:
    """The latest stored time of each datastream, locking the rows in id order.

    The lock serialises two processes taking readings of the same datastreams: the second
    sees the first's readings as stored, so a repeat across processes is still a repeat,
    and the rule state each reads is the one the other left.
    """
    if not stream_ids:
        return {}
    heads: dict[int, datetime | None] = {}
    postgres = dialect_name(session) == "postgresql"
    for start in range(0, len(stream_ids), 5000):
        chunk = stream_ids[start : start + 5000]
        if postgres:
            rows = driver_rows(
                session,
                "SELECT id, last_time FROM datastreams WHERE id = ANY(?) "
                "ORDER BY id FOR NO KEY UPDATE",
                [chunk],
            )
        else:
            rows = driver_rows(
                session,
                f"SELECT id, last_time FROM datastreams WHERE id IN ({in_marks(len(chunk))})",
                chunk,
            )
        for stream_id, last in rows:
            heads[stream_id] = _as_datetime(last)
    return heads


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None else None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _insert_late(session: Session, late: list[_Item], now: datetime) -> list[_Item]:
    """Readings not newer than their datastream's latest: new if not stored yet."""
    written = []
    for item in late:
        count = execute_many(
            session,
            "INSERT INTO readings (datastream_id, observed_at, value, received_at, faulty) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(item.stream.id, item.time, item.value, now, item.faulty)],
        )
        if count:
            written.append(item)
    return written


def _roll_up(session: Session, written: list[_Item]) -> None:
    """Add the readings to their minute and hour rollups (faulty values are no data)."""
    buckets: dict[tuple[int, str, datetime], list[float]] = {}
    # The readings of a batch share few minutes: each time's buckets are worked out once.
    starts: dict[datetime, tuple[datetime, datetime]] = {}
    for item in written:
        if item.faulty:
            continue
        t = item.time
        start = starts.get(t)
        if start is None:
            minute = t.replace(second=0, microsecond=0)
            start = starts[t] = (minute, minute.replace(minute=0))
        sid = item.stream.id
        for key in ((sid, "1m", start[0]), (sid, "1h", start[1])):
            agg = buckets.get(key)
            if agg is None:
                buckets[key] = [1, item.value, item.value, item.value]
            else:
                agg[0] += 1
                agg[1] = min(agg[1], item.value)
                agg[2] = max(agg[2], item.value)
                agg[3] += item.value
    if not buckets:
        return
    low, high = ("least", "greatest") if dialect_name(session) == "postgresql" else ("min", "max")
    execute_many(
        session,
        "INSERT INTO reading_rollups (datastream_id, bucket, start, count, min_value, max_value, "
        "sum_value) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (datastream_id, bucket, start) DO "
        "UPDATE SET count = reading_rollups.count + excluded.count, "
        f"min_value = {low}(reading_rollups.min_value, excluded.min_value), "
        f"max_value = {high}(reading_rollups.max_value, excluded.max_value), "
        "sum_value = reading_rollups.sum_value + excluded.sum_value",
        [
            (s, b, start, int(a[0]), a[1], a[2], a[3])
            for (s, b, start), a in sorted(buckets.items())
        ],
    )


def _advance_heads(
    session: Session, env: SensingEnv, written: list[_Item]
) -> dict[int, tuple[datetime, float]]:
    """Move each datastream's latest reading forward, and mark its device as heard from."""
    latest: dict[int, tuple[datetime, float]] = {}
    first: dict[int, datetime] = {}
    devices: dict[int, DeviceInfo] = {}
    for item in written:
        sid = item.stream.id
        devices[item.stream.device.id] = item.stream.device
        if sid not in latest or item.time > latest[sid][0]:
            latest[sid] = (item.time, item.value)
        if sid not in first or item.time < first[sid]:
            first[sid] = item.time
    execute_many(
        session,
        "UPDATE datastreams SET last_time = ?, last_value = ?, "
        "first_time = CASE WHEN first_time IS NULL OR first_time > ? THEN ? ELSE first_time END "
        "WHERE id = ? AND (last_time IS NULL OR last_time < ?)",
        [(t, v, first[s], first[s], s, t) for s, (t, v) in sorted(latest.items())],
    )
    # In id order, like every multi-row write here: two transactions lock rows alike.
    heard = sorted(env.registry.heard_from(devices.values(), env.now))
    execute_many(
        session, "UPDATE devices SET last_seen_at = ? WHERE id = ?", [(env.now, d) for d in heard]
    )
    return latest


# -- judging readings against the rules --------------------------------------------------


def _judge(session: Session, env: SensingEnv, written: list[_Item]) -> None:
    """Faults, silence that ended, and threshold and rate rules, in time order."""
    registry = env.registry
    watched: dict[int, list[_Item]] = defaultdict(list)
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
    watched: dict[int, list[_Item]],
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
    written: list[_Item],
    silence: dict[int, tuple[RuleInfo, ...]],
    open_now: dict[tuple[int, str], alarm_rows.OpenAlarm],
) -> None:
    """A device that speaks again clears its silence alarms."""
    heard: dict[int, _Item] = {}
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
    item: _Item,
    move: Transition,
    state: dict[str, Any],
    open_now: dict[tuple[int, str], alarm_rows.OpenAlarm],
    group: list[_Item],
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


# -- alarms by hand, and silence ---------------------------------------------------------


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


# -- the registry: device types, devices, rules -------------------------------------------


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
