"""Readings in: check, store (durably, once each), roll up and hand to the judge.

The ingest path is built for batches of tens of thousands of readings: items are checked by
hand rather than by a model each, the registry is in memory, a reading newer than its
datastream's latest cannot be a repeat (so only late readings are looked up), and rows go to
the driver in bulk. The caller commits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from cityops.cases.intake import IntakeEnv
from cityops.cases.service import CaseEnv
from cityops.kit.bulk import dialect_name, driver_rows, execute_many, in_marks, insert_rows
from cityops.kit.bus import collect
from cityops.sensing.events import ReadingsStored
from cityops.sensing.judging import judge
from cityops.sensing.models import Reading
from cityops.sensing.registry import DeviceInfo, Registry, StreamInfo

# A device clock a few minutes fast is common; a reading from further ahead is a bug.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# A number above this is epoch milliseconds, not seconds.
EPOCH_MS_LIMIT = 100_000_000_000


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
class CheckedReading:
    """A reading that passed its checks: its datastream, its time (UTC, to the ms), its value
    and whether the value is impossible for the sensor (faulty)."""

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
) -> CheckedReading | ReadingResult:
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
    return CheckedReading(index, stream, t, value, not stream.possible(value))


def ingest_readings(session: Session, env: SensingEnv, items: Sequence[Any]) -> list[ReadingResult]:
    """Check, store, roll up and judge a batch of readings; a result per item, in order.

    Each item names its datastream by `datastream_id`, or by `device` and `property` codes,
    and gives `time` and `value` (optionally `unit`, which must be the datastream's).
    A reading whose (datastream, time) is stored already is a duplicate and changes
    nothing.
    """
    results: list[ReadingResult | None] = [None] * len(items)
    good: list[CheckedReading] = []
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


def _store(session: Session, env: SensingEnv, items: list[CheckedReading]) -> list[CheckedReading]:
    """Write the readings not stored before and act on them; returns those written."""
    now = env.now
    by_stream: dict[int, list[CheckedReading]] = defaultdict(list)
    for item in items:
        by_stream[item.stream.id].append(item)
    heads = _lock_heads(session, sorted(by_stream))
    fresh: list[CheckedReading] = []
    late: list[CheckedReading] = []
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
    judge(session, env, written)
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


def _insert_late(
    session: Session, late: list[CheckedReading], now: datetime
) -> list[CheckedReading]:
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


def _roll_up(session: Session, written: list[CheckedReading]) -> None:
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
    session: Session, env: SensingEnv, written: list[CheckedReading]
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
