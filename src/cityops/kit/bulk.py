"""Fast multi-row writes and reads for the ingest hot path, on SQLite and PostgreSQL.

The ORM spends tens of microseconds a row on bookkeeping that a batch of 20,000 new rows
does not need. Here ids are allocated up front (so no RETURNING is needed to link rows),
values are converted once to what the driver stores, and rows go to the driver's
`executemany` (psycopg pipelines it; sqlite3 loops in C). Values must already be valid:
this is for rows that services built and checked, never for raw input.

The few reads of that path go the same way (`driver_rows`): building and caching a
SQLAlchemy statement costs about as much as running it, and a lone event pays that on
every request.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from cityops.db import UTCDateTime


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def allocate_ids(session: Session, counts: Sequence[tuple[type[Any], int]]) -> list[list[int]]:
    """Reserve new primary keys for rows this transaction will insert: for each (model,
    count), `count` ids of the model's table, in one round trip.

    PostgreSQL takes them from the tables' sequences. SQLite has no sequence, but every
    write transaction here begins IMMEDIATE and so holds the database's write lock: the
    ids after the current maximum stay free until it commits or rolls back.
    """
    wanted = [(_table(model).name, count) for model, count in counts if count]
    found: dict[str, list[int]] = {}
    if wanted and dialect_name(session) == "postgresql":
        columns = ", ".join(
            "ARRAY(SELECT nextval(CAST(? AS regclass)) FROM generate_series(1, ?))" for _ in wanted
        )
        params = [v for name, count in wanted for v in (f"{name}_id_seq", count)]
        ((*blocks,),) = driver_rows(session, f"SELECT {columns}", params)
        found = {name: list(block) for (name, _), block in zip(wanted, blocks, strict=True)}
    for name, count in wanted:
        if name not in found:
            ((start,),) = driver_rows(session, f"SELECT coalesce(max(id), 0) FROM {name}", [])
            found[name] = list(range(int(start) + 1, int(start) + 1 + count))
    return [found.get(_table(model).name, []) if count else [] for model, count in counts]


def driver_rows(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql`, written with `?` marks, run on the driver in the session's transaction.

    Datetime parameters are converted to what the database stores; datetime columns come
    back as the driver gives them (text on SQLite), so select them only to pass them on.
    """
    if dialect_name(session) == "postgresql":
        sql = sql.replace("?", "%s")
        values = tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in params)
    else:
        values = tuple(_sqlite_datetime(v) if isinstance(v, datetime) else v for v in params)
    # The driver's own cursor and fetchall: SQLAlchemy's result wrapper costs a call a row,
    # which is most of the time for the tens of thousands of rows a big batch reads. On
    # PostgreSQL the rows come in binary: numbers need no parsing from text (half the time
    # of reading 50,000 merge candidates).
    dbapi = session.connection().connection
    if dialect_name(session) == "postgresql":
        cursor = dbapi.driver_connection.cursor(binary=True)  # type: ignore[union-attr]
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql, values)
        return cast(list[tuple[Any, ...]], cursor.fetchall())
    finally:
        cursor.close()


def in_marks(count: int) -> str:
    """`?, ?, ?`: the marks of an IN list of `count` values, for `driver_rows`."""
    return ", ".join("?" * count)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _sqlite_datetime(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime stores ("2026-11-24 01:00:00.000000"), so
    # that rows written here and rows written by the ORM compare and order correctly.
    # Hot (every time of every reading): one C call and a slice where the value is in UTC
    # already, dropping the "+00:00".
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _is_json(column_type: Any) -> bool:
    impl = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(impl, JSON)


Converter = Callable[[Any], Any]


@functools.cache
def _insert_plan(
    table: Table, dialect: str, keys: frozenset[str]
) -> tuple[str, list[tuple[str, Converter | None]]]:
    """The INSERT of these columns and how each value is converted, worked out once."""
    columns = [c for c in table.columns if c.name in keys]
    plan: list[tuple[str, Converter | None]] = []
    for c in columns:
        conv: Converter | None = None
        if isinstance(c.type, UTCDateTime):
            conv = _sqlite_datetime if dialect == "sqlite" else _utc
        elif _is_json(c.type):
            conv = _json_text if dialect == "sqlite" else _jsonb
        plan.append((c.name, conv))
    if dialect == "postgresql":
        marks = ", ".join("%s::jsonb" if _is_json(c.type) else "%s" for c in columns)
    else:
        marks = ", ".join("?" for _ in columns)
    names = ", ".join(c.name for c in columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({marks})", plan


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _jsonb(value: Any) -> Jsonb:
    # psycopg takes the bytes as they are; a str would be decoded and encoded again.
    return Jsonb(value, dumps=orjson.dumps)


# Column types by table, as PostgreSQL numbers them (the built-in types' numbers are the
# same in every database): binary COPY must be told each column's type.
_column_oids: dict[str, dict[str, int]] = {}


def _oids(session: Session, table: str) -> dict[str, int]:
    if table not in _column_oids:
        rows = driver_rows(
            session,
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = CAST(? AS regclass) "
            "AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        _column_oids[table] = {name: int(oid) for name, oid in rows}
    return _column_oids[table]


# Up to this many rows in all, PostgreSQL gets INSERTs in one pipeline (one round trip)
# rather than a COPY a table (two round trips each): a lone event's case, step and event.
SMALL_WRITE = 64


def insert_rows(session: Session, tables: Sequence[tuple[type[Any], list[dict[str, Any]]]]) -> None:
    """Insert each (model, rows) pair's rows: dicts keyed by column name, every column
    present, in the order given (parents before the rows that refer to them).

    The dicts' datetime and JSON values are replaced by what the driver stores.
    """
    dialect = dialect_name(session)
    batches = [(model, rows, *_driver_params(model, dialect, rows)) for model, rows in tables
               if rows]  # fmt: skip
    if not batches:
        return
    if dialect != "postgresql":
        for _, _, sql, _, params in batches:
            session.connection().exec_driver_sql(sql, params)
        return
    driver = session.connection().connection.driver_connection
    if sum(len(rows) for _, rows, *_ in batches) <= SMALL_WRITE:
        with driver.pipeline(), driver.cursor() as cursor:  # type: ignore[union-attr]
            for _, _, sql, _, params in batches:
                cursor.executemany(sql, params)
        return
    # COPY streams the rows in one command: several times faster than an INSERT a row,
    # even pipelined; in binary, PostgreSQL parses no text and psycopg formats none.
    for model, _, _, names, params in batches:
        table = _table(model).name
        oids = _oids(session, table)
        copy_sql = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            copy.set_types([oids[name] for name in names])
            for values in params:
                copy.write_row(values)


def _driver_params(
    model: type[Any], dialect: str, rows: list[dict[str, Any]]
) -> tuple[str, list[str], list[tuple[Any, ...]]]:
    """The INSERT, its column names and each row's values as the driver takes them."""
    sql, plan = _insert_plan(_table(model), dialect, frozenset(rows[0]))
    # Only the datetime and JSON cells need converting: they are converted in place, and
    # every row is then read out in column order by one C call. A batch repeats the same
    # few instants (its `now`, the deadlines of its cases) thousands of times, so each
    # distinct datetime is converted once.
    for name, conv in plan:
        if conv is None:
            continue
        if conv is _json_text or conv is _jsonb:
            for row in rows:
                value = row[name]
                row[name] = None if value is None else conv(value)
        else:
            memo: dict[datetime, Any] = {}
            for row in rows:
                value = row[name]
                if value is not None:
                    out = memo.get(value)
                    if out is None:
                        out = memo[value] = conv(value)
                    row[name] = out
    names = [name for name, _ in plan]
    if len(names) == 1:
        return sql, names, [(r[names[0]],) for r in rows]
    getter = operator.itemgetter(*names)
    return sql, names, [getter(r) for r in rows]


def add_to_counts(
    session: Session, model: type[Any], increments: dict[int, int], *, column: str, now: datetime
) -> None:
    """`column += n` for each id; also bumps `version` and `updated_at`.

    Rows are locked in the order of their ids, so that two transactions touching some of
    the same rows lock them in the same order and cannot deadlock each other.
    """
    if not increments:
        return
    table = _table(model).name
    ordered = sorted(increments.items())
    conn = session.connection()
    if dialect_name(session) == "postgresql":
        # One locking read in id order, then one set-based UPDATE: thousands of single-row
        # UPDATEs cost PostgreSQL a statement each, even pipelined. The lock is the one the
        # UPDATE takes anyway (NO KEY UPDATE): it leaves alone the KEY SHARE locks that
        # foreign-key checks of other writers' new rows take on the same cases, where
        # FOR UPDATE would wait for them and could deadlock.
        ids = [i for i, _ in ordered]
        conn.exec_driver_sql(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (ids,)
        )
        conn.exec_driver_sql(
            f"UPDATE {table} AS t SET {column} = t.{column} + v.n, version = t.version + 1, "
            "updated_at = %s FROM unnest(CAST(%s AS bigint[]), CAST(%s AS integer[])) "
            "AS v(id, n) WHERE t.id = v.id",
            (now.astimezone(UTC), ids, [n for _, n in ordered]),
        )
        return
    # SQLite: the transaction holds the database's write lock already; executemany loops
    # in C.
    stamp = _sqlite_datetime(now)
    conn.exec_driver_sql(
        f"UPDATE {table} SET {column} = {column} + ?, version = version + 1, updated_at = ? "
        "WHERE id = ?",
        [(n, stamp, i) for i, n in ordered],
    )


def execute_many(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """Run `sql`, written with `?` marks, once per row on the driver (an UPDATE or an
    upsert of many rows); datetimes are converted to what the database stores. Returns
    the rows affected."""
    if not rows:
        return 0
    postgres = dialect_name(session) == "postgresql"
    if postgres:
        sql = sql.replace("?", "%s")
    # Column by column, like `insert_rows`: only the columns holding datetimes are
    # converted, each distinct instant once (a batch repeats its `now` and its buckets).
    columns = list(zip(*rows, strict=True))
    convert = _utc if postgres else _sqlite_datetime
    for i, column in enumerate(columns):
        if any(isinstance(v, datetime) for v in column):
            memo: dict[datetime, Any] = {}
            columns[i] = tuple(
                (memo[v] if v in memo else memo.setdefault(v, convert(v)))
                if isinstance(v, datetime)
                else v
                for v in column
            )
    params = list(zip(*columns, strict=True))
    result = session.connection().exec_driver_sql(sql, params)
    return int(result.rowcount)
