"""SQLite: readings and their rollups stored in their primary key's B-tree (WITHOUT ROWID)

A rowid table keeps each row twice over: in the table's own B-tree and in the index of its
(datastream, time) key. Readings are only ever found by that key, so storing the row in the
key's B-tree halves the writes of every reading (and of every rollup upsert) and the disk
they take. PostgreSQL has no such choice: nothing to do there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = {
    "readings": (
        "datastream_id INTEGER NOT NULL, observed_at DATETIME NOT NULL, value FLOAT NOT NULL, "
        "received_at DATETIME NOT NULL, faulty BOOLEAN NOT NULL, "
        "CONSTRAINT pk_readings PRIMARY KEY (datastream_id, observed_at)"
    ),
    "reading_rollups": (
        "datastream_id INTEGER NOT NULL, bucket VARCHAR(2) NOT NULL, "
        "start DATETIME NOT NULL, count INTEGER NOT NULL, min_value FLOAT NOT NULL, "
        "max_value FLOAT NOT NULL, sum_value FLOAT NOT NULL, "
        "CONSTRAINT pk_reading_rollups PRIMARY KEY (datastream_id, bucket, start)"
    ),
}


def _rebuild(rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    suffix = "" if rowid else " WITHOUT ROWID"
    for table, columns in COLUMNS.items():
        op.execute(f"ALTER TABLE {table} RENAME TO _{table}_old")
        op.execute(f"CREATE TABLE {table} ({columns}){suffix}")
        op.execute(f"INSERT INTO {table} SELECT * FROM _{table}_old")
        op.execute(f"DROP TABLE _{table}_old")


def upgrade() -> None:
    _rebuild(rowid=False)


def downgrade() -> None:
    _rebuild(rowid=True)
