"""Sensor storage upkeep: days' partitions, readings moved out of the default partition,
readings and rollups kept as long as their retention says, on a migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from tests.factories import EPOCH
from tests.sensing.conftest import Sensors
from typer.testing import CliRunner

from cityops.bootstrap import Context, build_context
from cityops.cli import app as cli_app
from cityops.config import Settings, get_settings
from cityops.db import Base, import_all_models, include_name, make_engine, session_scope
from cityops.migrate import upgrade
from cityops.sensing.jobs import run_maintenance
from cityops.sensing.models import (
    Datastream,
    Device,
    DeviceType,
    DeviceTypeProperty,
    ObservedProperty,
    Reading,
    Rollup,
)
from cityops.sensing.retention import LOCK_KEY, MaintenanceReport, RetentionPolicy

# Small chunks, so that a few rows take several transactions; no pause between them.
POLICY = RetentionPolicy(
    readings_days=30, rollup_1m_days=60, rollup_1h_days=0, days_ahead=3, chunk_rows=2,
    chunk_pause=0.0, lock_timeout=timedelta(milliseconds=200),
)  # fmt: skip


@dataclass
class Store:
    context: Context
    dialect: str

    @property
    def partitioned(self) -> bool:
        return self.dialect == "postgresql"

    def maintain(self, policy: RetentionPolicy = POLICY) -> MaintenanceReport:
        return run_maintenance(self.context, policy=policy)

    def ingest(self, *readings: tuple[datetime, float]) -> list[str]:
        items = [{"device": "G-1", "property": "level", "time": t.isoformat(), "value": v}
                 for t, v in readings]  # fmt: skip
        return [r.status for r in self.context.readings.write(items)]

    def placement(self) -> dict[str, int]:
        """Readings per table they are stored in (a partition on PostgreSQL)."""
        where = "tableoid::regclass::text" if self.partitioned else "'readings'"
        with self.context.sessions() as s:
            query = text(f"SELECT {where}, count(*) FROM readings GROUP BY 1")
            return dict(s.execute(query).all())

    def partitions(self) -> list[str]:
        with self.context.sessions() as s:
            return sorted(s.scalars(text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'readings'::regclass AND c.relname <> 'readings_default'"
            )))  # fmt: skip

    def rollups(self) -> dict[str, int]:
        with self.context.sessions() as s:
            query = select(Rollup.bucket, func.count()).group_by(Rollup.bucket)
            return dict(s.execute(query).all())


def days(*names: str) -> list[str]:
    return [f"readings_{n}" for n in names]


@pytest.fixture
def store(fresh_database_url: str, clock: Any, tmp_path: Path) -> Iterator[Store]:
    """A migrated database of its own (readings partitioned on PostgreSQL, as deployed),
    with one water-level gauge."""
    settings = Settings(database_url=fresh_database_url, storage_dir=tmp_path / "blobs")
    context = build_context(settings, clock=clock)
    upgrade(context.engine)
    with session_scope(context.sessions) as s:
        level = ObservedProperty(code="level", name="水位")
        gauge = DeviceType(code="gauge", name="水位计", report_interval_s=60)
        gauge.properties.append(DeviceTypeProperty(property=level, unit_symbol="m"))
        s.add(gauge)
        s.flush()
        device = Device(code="G-1", name="1号水位计", device_type_id=gauge.id, created_at=EPOCH)
        s.add(device)
        s.flush()
        s.add(Datastream(device_id=device.id, property_id=level.id, name="1号 水位",
                         unit_symbol="m"))  # fmt: skip
    yield Store(context, context.engine.dialect.name)
    context.engine.dispose()


def test_days_are_partitioned_ahead_and_a_second_pass_changes_nothing(store: Store) -> None:
    report = store.maintain()
    if store.partitioned:
        ahead = days("20261124", "20261125", "20261126", "20261127")
        assert (report.created, report.moved, report.dropped) == (ahead, 0, [])
        assert store.partitions() == ahead
        assert "partitions created: readings_20261124, readings_20261125" in report.lines()[0]
    else:
        assert not report.partitioned and report.created == []
    again = store.maintain()
    assert again.changes == 0 and not again.postponed and not again.busy
    assert again.deleted == {"readings": 0, "1m rollups": 0, "1h rollups": 0}
    # The partitions are not part of the schema the models describe.
    import_all_models()
    with store.context.engine.connect() as conn:
        migration = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(migration, Base.metadata) == []


def test_readings_of_any_day_are_taken_and_moved_out_of_the_default_partition(
    store: Store, clock: Any
) -> None:
    # Before the first pass, only the default partition exists.
    taken = store.ingest(
        (EPOCH - timedelta(days=10), 1.0),
        (EPOCH - timedelta(days=1), 2.0),
        (EPOCH - timedelta(minutes=30), 3.0),
    )
    assert taken == ["created"] * 3
    if store.partitioned:
        assert store.placement() == {"readings_default": 3}
    report = store.maintain()
    if store.partitioned:
        assert report.created == days("20261114", "20261123", "20261124", "20261125",
                                      "20261126", "20261127")  # fmt: skip
        assert report.moved == 3
        assert store.placement() == {
            "readings_20261114": 1, "readings_20261123": 1, "readings_20261124": 1
        }  # fmt: skip
    # Just before midnight UTC, a device a little fast reports from tomorrow; a late one
    # from two weeks ago, a day that has no partition.
    clock.current = datetime(2026, 11, 24, 23, 58, tzinfo=UTC)
    taken = store.ingest(
        (datetime(2026, 11, 25, 0, 2, tzinfo=UTC), 4.0),
        (datetime(2026, 11, 10, 12, 0, tzinfo=UTC), 5.0),
    )
    assert taken == ["created", "created"]
    if not store.partitioned:
        assert store.placement() == {"readings": 5}
        return
    placed = store.placement()
    assert (placed["readings_20261125"], placed["readings_default"]) == (1, 1)
    report = store.maintain()
    assert (report.created, report.moved) == (days("20261110"), 1)
    assert "readings_default" not in store.placement()
    with store.context.sessions() as s:  # all of them, through the parent table
        assert s.scalar(select(func.count()).select_from(Reading)) == 5


def test_days_past_the_retention_go_and_rollups_keep_their_own(store: Store, clock: Any) -> None:
    store.maintain()
    taken = store.ingest(
        *[(EPOCH - timedelta(days=1, minutes=m), float(m)) for m in range(3)],
        *[(EPOCH - timedelta(minutes=m), float(m)) for m in (1, 2)],
    )
    assert taken == ["created"] * 5
    assert store.rollups() == {"1m": 5, "1h": 3}
    # 31 days on: every reading is past the 30 days' retention, the rollups are not.
    clock.advance(days=31)
    report = store.maintain()
    assert store.placement() == {}
    if store.partitioned:
        # Today's partition goes whole; yesterday's readings, which came after the first
        # pass, waited in the default partition and are deleted from there.
        assert report.dropped == days("20261124")
        assert report.deleted["readings"] == 3
        assert store.partitions()[0] == "readings_20261125"
    else:
        assert report.deleted["readings"] == 5
    assert store.rollups() == {"1m": 5, "1h": 3}
    # 61 days on: the minute rollups are past their 60 days, the hourly ones kept forever.
    clock.advance(days=30)
    report = store.maintain()
    assert report.deleted["1m rollups"] == 5
    assert store.rollups() == {"1h": 3}
    assert store.maintain().changes == 0


def test_a_pass_gives_way_to_another_process_and_to_busy_tables(store: Store) -> None:
    if not store.partitioned:
        pytest.skip("SQLite: writers take turns on the database's own lock")
    other = create_engine(store.context.engine.url)
    with other.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        report = store.maintain()
        assert report.busy and report.created == []
        assert report.lines()[0].startswith("another process is maintaining")
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        conn.commit()
        # A long query on the default partition: a new day's partition would have to wait
        # for it, and everything queued behind the wait with it; it is put off instead.
        conn.execute(text("LOCK TABLE readings_default IN ACCESS SHARE MODE"))
        report = store.maintain()
        assert report.created == [] and len(report.postponed) == 4
        assert report.postponed[0] == "create readings_20261124"
        conn.rollback()
    other.dispose()
    assert len(store.maintain().created) == 4


def test_a_reading_older_than_the_retention_is_refused_with_its_reason(
    client: TestClient, sensors: Sensors
) -> None:
    def reading(age: timedelta) -> dict[str, Any]:
        return {"device": "GAS-1", "property": "ch4", "time": (EPOCH - age).isoformat(),
                "value": 1.0}  # fmt: skip

    r = client.post(
        "/api/v1/readings",
        headers={"X-API-Key": sensors.key},
        json=[reading(timedelta(days=30, seconds=1)), reading(timedelta(days=29))],
    )
    assert r.status_code == 200, r.text
    old, recent = r.json()["results"]
    assert old["status"] == "rejected"
    assert old["errors"] == [{"path": "time", "message": "older than retention (30 days)"}]
    assert recent["status"] == "created"


def test_without_partitions_old_rows_go_in_chunks_even_of_deleted_datastreams(
    context: Context, session: Session
) -> None:
    """A `readings` table that is not partitioned (SQLite; PostgreSQL built from the
    models rather than migrated) has its old rows deleted, whatever their datastream."""
    old, recent = EPOCH - timedelta(days=40), EPOCH - timedelta(days=1)
    for stream in (9001, 9002, 9003):  # no such datastreams: their rows go all the same
        for n in range(3):
            for t in (old, recent):
                at = t + timedelta(minutes=n)
                session.add(Reading(datastream_id=stream, observed_at=at, value=1.0,
                                    received_at=at))  # fmt: skip
                session.add(Rollup(datastream_id=stream, bucket="1m", start=at, count=1,
                                   min_value=1.0, max_value=1.0, sum_value=1.0))  # fmt: skip
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        assert not session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table)"))
    report = run_maintenance(context, policy=POLICY)
    assert not report.partitioned
    assert report.deleted == {"readings": 9, "1m rollups": 0, "1h rollups": 0}
    assert session.scalar(select(func.min(Reading.observed_at))) == recent
    assert session.scalar(select(func.count()).select_from(Reading)) == 9


runner = CliRunner()


@pytest.fixture
def cli_database(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("CITYOPS_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("CITYOPS_STORAGE_DIR", str(tmp_path / "blobs"))
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


def test_the_maintain_command_prints_the_report(cli_database: str) -> None:
    def maintain() -> str:
        result = runner.invoke(cli_app, ["sensors", "maintain"])
        assert result.exit_code == 0, result.output
        return result.output

    not_migrated = runner.invoke(cli_app, ["sensors", "maintain"])
    # The console wraps long lines (a long database path) at its width: read it unwrapped.
    said = " ".join(not_migrated.output.split())
    assert not_migrated.exit_code == 2 and "run `cityops migrate`" in said
    engine = make_engine(cli_database)
    upgrade(engine)
    engine.dispose()
    before = datetime.now(UTC).date()
    out = maintain()
    today = {before, datetime.now(UTC).date()}  # the pass may straddle midnight
    assert "rows deleted: readings 0, 1m rollups 0, 1h rollups 0" in out
    if cli_database.startswith("postgresql"):
        assert any(f"partitions created: readings_{d:%Y%m%d}, " in out for d in today)
        assert "partitions created: none (0 row(s) moved from default)" in maintain()
    else:
        assert "partitions" not in out
