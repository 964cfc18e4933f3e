"""Engine, sessions and the declarative base shared by every context."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every context's models module, listed explicitly so that Alembic and the mapper
# configuration see all tables (habit 6: explicit registries).
MODEL_MODULES = (
    "cityops.auth.models",
    "cityops.org.models",
    "cityops.catalog.models",
    "cityops.worktime.models",
    "cityops.ingest.models",
    "cityops.cases.models",
    "cityops.sensing.models",
    "cityops.video.models",
    "cityops.citizens.models",
    "cityops.onemap.models",
    "cityops.enforcement.registries.models",
    "cityops.enforcement.businesses.models",
    "cityops.enforcement.documents.models",
    "cityops.enforcement.inspections.models",
    "cityops.enforcement.public.models",
    "cityops.enforcement.penalties.models",
    "cityops.enforcement.supervision.models",
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone; PostgreSQL `timestamptz` does. Normalising here means the rest of
    the code never compares naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


# PostgreSQL partitions of a partitioned table (readings_default, readings_20261124...):
# the models describe the parent, so comparisons of the schema with the models skip them.
PARTITION_PREFIXES = ("readings_",)


# Spatial indexes that are not models (SQLite R*Tree virtual tables with their shadow
# tables, PostgreSQL GiST indexes on an expression): see cityops.onemap.features.
SPATIAL_INDEX_PREFIX = "sx_"


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic's `include_name`: every object but a partition of a partitioned table and a
    spatial index (`sx_*`)."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(PARTITION_PREFIXES):
        return False
    return not (type_ in ("table", "index") and name.startswith(SPATIAL_INDEX_PREFIX))


def import_all_models() -> None:
    """Import every context's models so that `Base.metadata` knows all tables."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


READ_ONLY = "cityops_read_only"


def read_only(engine: Engine) -> Engine:
    """The same engine for work that only reads (no write lock taken on SQLite)."""
    return engine.execution_options(**{READ_ONLY: True})


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy documents this
        # recipe: disable it and emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers wait on busy_timeout
        # instead of failing with "database is locked" when one upgrades a read lock.
        # Read-only work (an engine with the READ_ONLY option) begins deferred and, in WAL
        # mode, never waits for a writer.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, synchronous: str = "FULL", pool_size: int = 10) -> Engine:
    """Create an engine with the settings each dialect needs."""
    if url.startswith("sqlite"):
        if ":///" in url and not url.endswith(":memory:"):
            from pathlib import Path

            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        # Connections are kept: opening one sets the pragmas, which waits on a busy writer.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=max(pool_size, 20),
            max_overflow=40,
        )
        _sqlite_pragmas(engine, synchronous)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the edge commits, then reads)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


# SQLSTATEs of a transaction PostgreSQL rolled back so that another could go on: running it
# again is the documented remedy.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed transaction may simply be run again.

    A unique-key race (another transaction inserted the same key first: the retry finds
    its row), a deadlock or a serialization failure.
    """
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    return False


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert(
    session: Session, model: type[Base], existing: Any, keys: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, bool]:
    """Update `existing` with `values`, or add a new `model` row from `keys` and `values`.

    Returns the row and whether it was created; the importers' one way to upsert.
    """
    if existing is None:
        row = model(**keys, **values)
        session.add(row)
        return row, True
    for key, value in values.items():
        setattr(existing, key, value)
    return existing, False
