"""Storage sized for a city: daily partitions of readings, and how long readings and rollups
are kept.

PostgreSQL keeps `readings` partitioned by UTC day of `observed_at` (migration 0004): a
partition `readings_YYYYMMDD` per day, made a few days ahead, and `readings_default` for
whatever no day's partition covers. Retention drops whole days (DETACH and DROP, with no
row-by-row delete and no bloat left for VACUUM). SQLite has no partitions: old readings are
deleted in short transactions. Rollups are an ordinary table on both databases, deleted in
the same chunks.

A pass is safe to repeat and to run from several processes: every step checks the state
again in its own transaction before acting, and on PostgreSQL holds a transaction-level
advisory lock, so that a second process gives up instead of colliding with the first.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cityops.db import UTCDateTime, session_scope

if TYPE_CHECKING:
    from cityops.config import Settings

log = logging.getLogger(__name__)

PARENT = "readings"
PARTITION_NAME = re.compile(r"^readings_(\d{8})$")
COLUMNS = "datastream_id, observed_at, value, received_at, faulty"
# pg_try_advisory_xact_lock's key: "cityops" and 1, one number no other lock of ours uses.
LOCK_KEY = 0x636974796F707301
# PostgreSQL's SQLSTATE when lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"
# The datastreams whose old rows one statement deletes (an IN list, each an index range).
STREAM_GROUP = 500

# What `progress` is told: the phase, the steps done and the steps in all.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of sensor data is kept (days; 0 keeps it forever), and how.

    Raw readings answer charts up to a few days long and the questions after an incident;
    minute rollups answer charts up to a week long; hourly rollups answer everything longer
    (the trends of years), at 24 rows a datastream a day.
    """

    readings_days: int = 30
    rollup_1m_days: int = 90
    rollup_1h_days: int = 3650
    # Days' partitions made ahead of today (PostgreSQL): a pass can be missed this long
    # before readings start landing in the default partition.
    days_ahead: int = 3
    # The longest a step waits for a table lock. A DETACH waiting behind a long query
    # would hold up every reader and writer queued behind it: it gives up instead, and the
    # next pass tries again.
    lock_timeout: timedelta = timedelta(seconds=5)
    # Rows one transaction deletes: a chunk takes milliseconds, so writers wait no longer.
    chunk_rows: int = 5000
    # SQLite's writers poll for the lock while they wait (up to 100 ms apart): a pause
    # after each chunk lets them in rather than starving them for the whole pass.
    chunk_pause: float = 0.05

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            readings_days=settings.reading_retention_days,
            rollup_1m_days=settings.rollup_1m_retention_days,
            rollup_1h_days=settings.rollup_1h_retention_days,
            days_ahead=settings.reading_partition_days_ahead,
        )


def cutoff(now: datetime, days: int) -> datetime | None:
    """Before this instant data kept `days` days is gone (None: kept forever)."""
    return now - timedelta(days=days) if days > 0 else None


@dataclass
class MaintenanceReport:
    """What one pass did, for the command line and the log."""

    partitioned: bool = False
    created: list[str] = field(default_factory=list)
    moved: int = 0
    dropped: list[str] = field(default_factory=list)
    # Rows deleted, by what they were.
    deleted: dict[str, int] = field(
        default_factory=lambda: {"readings": 0, "1m rollups": 0, "1h rollups": 0}
    )
    # Steps that did not get their table locks in time; the next pass does them.
    postponed: list[str] = field(default_factory=list)
    # Another process was maintaining the same database: this pass stopped.
    busy: bool = False

    @property
    def changes(self) -> int:
        """Partitions created and dropped, rows moved and deleted."""
        return len(self.created) + len(self.dropped) + self.moved + sum(self.deleted.values())

    def lines(self) -> list[str]:
        out = []
        if self.busy:
            out.append("another process is maintaining sensor storage: pass stopped early")
        if self.partitioned:
            created = ", ".join(self.created) or "none"
            out.append(f"partitions created: {created} ({self.moved} row(s) moved from default)")
            out.append(f"partitions dropped: {', '.join(self.dropped) or 'none'}")
        deleted = ", ".join(f"{what} {n}" for what, n in self.deleted.items())
        out.append(f"rows deleted: {deleted or 'none'}")
        if self.postponed:
            out.append(f"postponed (tables busy): {', '.join(self.postponed)}")
        return out


class _Busy(Exception):
    """Another process holds the maintenance lock."""


def partition_name(day: date) -> str:
    return f"{PARENT}_{day:%Y%m%d}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day's [start, end) instants."""
    start = datetime.combine(day, day_time(), UTC)
    return start, start + timedelta(days=1)


def maintain(
    sessions: sessionmaker[Session],
    policy: RetentionPolicy,
    now: datetime,
    *,
    read_sessions: sessionmaker[Session] | None = None,
    progress: Progress | None = None,
) -> MaintenanceReport:
    """One pass: partitions ahead and for readings waiting in the default partition, then
    readings and rollups older than their retention dropped or deleted.

    Each step commits on its own, so the caller passes session factories, not a session.
    """
    with sessions() as session:
        dialect = session.get_bind().dialect.name
        postgres = dialect == "postgresql"
        default = _default_partition(session) if postgres else None
        partitioned = postgres and _is_partitioned(session)
    run = _Pass(
        sessions=sessions,
        readers=read_sessions or sessions,
        policy=policy,
        dialect=dialect,
        report=MaintenanceReport(partitioned=partitioned),
        notify=progress or (lambda _phase, _done, _total: None),
    )
    try:
        if partitioned:
            run.partitions(now, default)
        else:
            run.delete_older("readings", "observed_at", cutoff(now, policy.readings_days))
        for bucket, days in (("1m", policy.rollup_1m_days), ("1h", policy.rollup_1h_days)):
            run.delete_older("reading_rollups", "start", cutoff(now, days), bucket)
    except _Busy:
        run.report.busy = True
    report = run.report
    if report.changes or report.postponed:
        log.info("sensor storage: %s", "; ".join(report.lines()))
    elif report.busy:  # every API process runs the job: all but one find it taken
        log.debug("sensor storage: %s", "; ".join(report.lines()))
    return report


@dataclass
class _Pass:
    """One pass's sessions, policy and report, shared by its steps."""

    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    policy: RetentionPolicy
    dialect: str
    report: MaintenanceReport
    notify: Progress

    @contextmanager
    def step(self) -> Iterator[Session]:
        """One step's transaction; on PostgreSQL with the maintenance lock and a timeout
        on waiting for table locks."""
        with session_scope(self.sessions) as session:
            if self.dialect == "postgresql":
                ms = str(int(self.policy.lock_timeout.total_seconds() * 1000))
                session.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": ms})
                # Transaction-level: released by the commit or rollback, never left behind
                # by a process that died or a connection returned to the pool mid-step.
                key = {"key": LOCK_KEY}
                if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), key):
                    raise _Busy
            yield session

    def partitions(self, now: datetime, default: str | None) -> None:
        """PostgreSQL: the days' partitions made and dropped."""
        report = self.report
        oldest = cutoff(now, self.policy.readings_days)
        if default is not None and oldest is not None:
            # Readings of days past the retention get no partition: they go from the
            # default partition here (row locks only: ingest goes on).
            with self.step() as session:
                result = session.connection().execute(
                    text(f"DELETE FROM {default} WHERE observed_at < :oldest"), {"oldest": oldest}
                )
                report.deleted["readings"] += result.rowcount
        with self.readers() as session:
            attached = _attached_days(session)
            waiting = _days_in_default(session, default, oldest) if default else set()
        today = now.astimezone(UTC).date()
        ahead = {today + timedelta(days=n) for n in range(self.policy.days_ahead + 1)}
        wanted = sorted((ahead | waiting) - attached)
        doomed = sorted(d for d in attached if oldest is not None and day_bounds(d)[1] <= oldest)
        total = len(wanted) + len(doomed)
        for done, day in enumerate(wanted, 1):
            name = partition_name(day)
            try:
                with self.step() as session:
                    moved = _create_partition(session, day, default)
            except OperationalError as exc:
                if not _lock_timed_out(exc):
                    raise
                report.postponed.append(f"create {name}")
            else:
                if moved is not None:  # None: another process made it meanwhile
                    report.created.append(name)
                    report.moved += moved
            self.notify("partitions", done, total)
        for done, day in enumerate(doomed, len(wanted) + 1):
            name = partition_name(day)
            try:
                with self.step() as session:
                    dropped = _drop_partition(session, day)
            except OperationalError as exc:
                if not _lock_timed_out(exc):
                    raise
                report.postponed.append(f"drop {name}")
            else:
                if dropped:
                    report.dropped.append(name)
            self.notify("partitions", done, total)

    def delete_older(
        self, table: str, column: str, before: datetime | None, bucket: str | None = None
    ) -> None:
        """Delete `table`'s rows older than `before`, at most `chunk_rows` a transaction.

        Both tables' primary keys begin with the datastream: the delete names a group of
        datastreams, so that each finds its old rows by an index range rather than by a
        scan of the table, and picks them by their address (PostgreSQL's ctid; SQLite's
        key), the cheapest way to delete them.
        """
        if before is None:
            return
        with self.readers() as session:
            ids = _stream_ids(session, table)
        where = f"datastream_id IN :ids AND {column} < :before"
        if bucket is not None:
            where += " AND bucket = :bucket"
        if self.dialect == "postgresql":
            sql = (
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE {where} LIMIT :limit))"
            )
        else:
            # SQLite keeps these tables in their key's B-tree (WITHOUT ROWID): the key is
            # the row's address.
            key = "datastream_id, observed_at" if bucket is None else "datastream_id, bucket, start"
            sql = (
                f"DELETE FROM {table} WHERE ({key}) IN ("
                f"SELECT {key} FROM {table} WHERE {where} LIMIT :limit)"
            )
        statement = text(sql).bindparams(
            bindparam("ids", expanding=True), bindparam("before", type_=UTCDateTime())
        )
        what = "readings" if bucket is None else f"{bucket} rollups"
        limit = self.policy.chunk_rows
        groups = [ids[i : i + STREAM_GROUP] for i in range(0, len(ids), STREAM_GROUP)]
        for done, group in enumerate(groups, 1):
            params: dict[str, object] = {"ids": group, "before": before, "limit": limit}
            if bucket is not None:
                params["bucket"] = bucket
            while True:
                try:
                    with self.step() as session:
                        count = session.connection().execute(statement, params).rowcount
                except OperationalError as exc:
                    # A row that an ingest transaction holds (a late reading's rollup).
                    if not _lock_timed_out(exc):
                        raise
                    self.report.postponed.append(f"delete {what}")
                    return
                self.report.deleted[what] += count
                if count and self.dialect == "sqlite":
                    # Each commit appends to the WAL; SQLite's automatic checkpoints copy it
                    # back as usual once no reader needs it, so nothing is forced here.
                    time.sleep(self.policy.chunk_pause)
                if count < limit:
                    break
            self.notify(what, done, len(groups))


def _lock_timed_out(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


# -- PostgreSQL: daily partitions ---------------------------------------------------------


_IS_PARTITIONED = text(
    "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:parent))"
)
_DEFAULT_PARTITION = text(
    "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partdefid "
    "WHERE p.partrelid = to_regclass(:parent)"
)
_PARTITIONS = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = to_regclass(:parent)"
)


def _is_partitioned(session: Session) -> bool:
    return bool(session.scalar(_IS_PARTITIONED, {"parent": PARENT}))


def _default_partition(session: Session) -> str | None:
    name = session.scalar(_DEFAULT_PARTITION, {"parent": PARENT})
    return str(name) if name is not None else None


def _attached_days(session: Session) -> set[date]:
    """The days that have a partition of their own."""
    names = session.scalars(_PARTITIONS, {"parent": PARENT})
    days = set()
    for name in names:
        match = PARTITION_NAME.match(name)
        if match:
            days.add(datetime.strptime(match.group(1), "%Y%m%d").date())
    return days


def _days_in_default(session: Session, default: str, since: datetime | None) -> set[date]:
    """The UTC days of the readings waiting in the default partition (within retention)."""
    sql = f"SELECT DISTINCT CAST(observed_at AT TIME ZONE 'UTC' AS date) FROM {default}"
    if since is None:
        return set(session.scalars(text(sql)))
    return set(session.scalars(text(sql + " WHERE observed_at >= :since"), {"since": since}))


def _bound(at: datetime) -> str:
    # A literal: partition bounds take no parameters. With its offset, so that the
    # session's TimeZone cannot shift it.
    return f"'{at.isoformat(' ')}'"


def _create_partition(session: Session, day: date, default: str | None) -> int | None:
    """Give `day` its partition, with its readings from the default partition; returns
    the rows moved, or None if another pass made it first.

    PostgreSQL refuses a partition whose range has rows in the default partition, and
    `CREATE TABLE ... PARTITION OF` would hold an ACCESS EXCLUSIVE lock on all of
    `readings` while it checks. So, in one transaction:
    1. lock the default partition (ACCESS EXCLUSIVE, which ATTACH takes anyway), so that
       no reading of that day can land there between the move and the attach;
    2. create the day's table on its own, with a CHECK of its range;
    3. move the day's rows out of the default partition into it (DELETE ... RETURNING
       feeding the INSERT);
    4. ATTACH it: SHARE UPDATE EXCLUSIVE on `readings` (reads and writes of the other
       partitions go on), and no scan of the new table, which the CHECK proves in range;
       the check of the default partition finds nothing left to move;
    5. drop the CHECK, which the partition's own constraint now repeats.
    Readers see the rows in the default partition before the commit and in the day's
    partition after it, never in both or in neither; a failure rolls every step back.
    Detaching the default partition instead would leave readings of days without a
    partition nowhere to go (inserts fail) while it is detached.
    """
    if day in _attached_days(session):
        return None
    name = partition_name(day)
    start, end = day_bounds(day)
    conn = session.connection()
    conn.exec_driver_sql(f"LOCK TABLE ONLY {PARENT} IN SHARE UPDATE EXCLUSIVE MODE")
    if default is not None:
        conn.exec_driver_sql(f"LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE")
    conn.exec_driver_sql(
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING ALL, CONSTRAINT {name}_range "
        f"CHECK (observed_at >= {_bound(start)} AND observed_at < {_bound(end)}))"
    )
    moved = 0
    if default is not None:
        move = text(
            f"WITH moved AS (DELETE FROM {default} WHERE observed_at >= :start AND "
            f"observed_at < :end RETURNING {COLUMNS}) "
            f"INSERT INTO {name} ({COLUMNS}) SELECT {COLUMNS} FROM moved"
        )
        moved = conn.execute(move, {"start": start, "end": end}).rowcount
    conn.exec_driver_sql(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
        f"FOR VALUES FROM ({_bound(start)}) TO ({_bound(end)})"
    )
    conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")
    return moved


def _drop_partition(session: Session, day: date) -> bool:
    """Drop a day past the retention: DETACH (a catalog change) then DROP (its files
    unlinked), both O(1) whatever the day's size, in one transaction so that a detached
    day is never left behind. DETACH needs a brief ACCESS EXCLUSIVE lock on `readings` and
    on the default partition (DETACH ... CONCURRENTLY would not, but PostgreSQL refuses it
    while a default partition exists): the lock timeout keeps it from holding up ingest
    queued behind it for longer."""
    if day not in _attached_days(session):
        return False
    name = partition_name(day)
    conn = session.connection()
    conn.exec_driver_sql(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
    conn.exec_driver_sql(f"DROP TABLE {name}")
    return True


# -- chunked deletes: SQLite readings, rollups everywhere ---------------------------------


def _stream_ids(session: Session, table: str) -> list[int]:
    """The datastreams with rows in `table`, one index seek each (a loose index scan):
    neither database would skip through the primary key's leading column by itself. Read
    from the table rather than `datastreams`, so rows of deleted datastreams go too."""
    loose_scan = text(
        f"WITH RECURSIVE ids(id) AS (SELECT min(datastream_id) FROM {table} "
        f"UNION ALL SELECT (SELECT min(datastream_id) FROM {table} "
        "WHERE datastream_id > ids.id) FROM ids WHERE ids.id IS NOT NULL) "
        "SELECT id FROM ids WHERE id IS NOT NULL"
    )
    return [int(i) for i in session.scalars(loose_scan)]
