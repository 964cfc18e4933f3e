"""Fast multi-row writes for the ingest hot path, on SQLite and PostgreSQL.

The ORM spends tens of microseconds a row on bookkeeping that a batch of 20,000 new rows
does not need. Here ids are allocated up front (so no RETURNING is needed to link rows),
values are converted once to what the driver stores, and rows go to the driver's
`executemany` (psycopg pipelines it; sqlite3 loops in C). Values must already be valid:
this is for rows that services built and checked, never for raw input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Table, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from cityops.db import UTCDateTime


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def allocate_ids(session: Session, model: type[Any], count: int) -> list[int]:
    """Reserve `count` new primary keys of `table` for rows this transaction will insert.

    PostgreSQL takes them from the table's sequence. SQLite has no sequence, but every
    write transaction here begins IMMEDIATE and so holds the database's write lock: the
    ids after the current maximum stay free until it commits or rolls back.
    """
    table = _table(model)
    if count == 0:
        return []
    if _dialect(session) == "postgresql":
        seq = f"{table.name}_id_seq"
        rows = session.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
            {"seq": seq, "n": count},
        )
        return [int(r[0]) for r in rows]
    start = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar_one()
    return list(range(int(start) + 1, int(start) + 1 + count))


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _sqlite_datetime(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime stores ("2026-11-24 01:00:00.000000"), so
    # that rows written here and rows written by the ORM compare and order correctly.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _is_json(column_type: Any) -> bool:
    impl = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(impl, JSON)


def insert_rows(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name, every column present) in one executemany."""
    if not rows:
        return
    table = _table(model)
    dialect = _dialect(session)
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    converters: list[Callable[[Any], Any] | None] = []
    for c in columns:
        if isinstance(c.type, UTCDateTime):
            if dialect == "sqlite":
                converters.append(lambda v: None if v is None else _sqlite_datetime(v))
            else:
                converters.append(lambda v: None if v is None else v.astimezone(UTC))
        elif _is_json(c.type):
            converters.append(lambda v: None if v is None else orjson.dumps(v).decode())
        else:
            converters.append(None)
    if dialect == "postgresql":
        marks = ", ".join("%s::jsonb" if _is_json(c.type) else "%s" for c in columns)
    else:
        marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
    # A batch repeats the same few timestamps (its `now`) thousands of times: convert each
    # distinct value once.
    memo: dict[Any, Any] = {}

    def convert(conv: Callable[[Any], Any], value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            return conv(value)
        out = memo.get(value)
        if out is None:
            out = memo[value] = conv(value)
        return out

    pairs = list(zip(names, converters, strict=True))
    params = [
        tuple(row[name] if conv is None else convert(conv, row[name]) for name, conv in pairs)
        for row in rows
    ]
    session.connection().exec_driver_sql(sql, params)


def add_to_counts(
    session: Session, model: type[Any], increments: dict[int, int], *, column: str, now: datetime
) -> None:
    """`column += n` for each id, in one executemany; also bumps `version` and `updated_at`."""
    if not increments:
        return
    table = _table(model)
    params: list[tuple[int, Any, int]]
    if _dialect(session) == "postgresql":
        mark, stamp = "%s", now.astimezone(UTC)
        params = [(n, stamp, i) for i, n in increments.items()]
    else:
        mark = "?"
        params = [(n, _sqlite_datetime(now), i) for i, n in increments.items()]
    sql = (
        f"UPDATE {table.name} SET {column} = {column} + {mark}, version = version + 1, "
        f"updated_at = {mark} WHERE id = {mark}"
    )
    session.connection().exec_driver_sql(sql, params)
