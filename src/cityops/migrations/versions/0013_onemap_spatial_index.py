"""one map: spatial indexes on the boxes of layer features and conflict patches

A box query on the bounding-box columns alone can use a B-tree on one of them only: at a
million parcels it reads half the layer. SQLite gets an R*Tree (`sx_<table>`) kept in step
by triggers, PostgreSQL a GiST index on the built-in `box` of the row (no PostGIS needed).
Neither is a model: `cityops.db.include_name` leaves `sx_*` out of the comparison.

On SQLite a later batch migration that copies one of these tables anew drops its triggers
with the old table: such a migration must run `spatial_index_statements` again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

from alembic import op

from cityops.onemap.features import INDEXED_TABLES, SPATIAL_INDEX_PREFIX, spatial_index_statements

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in INDEXED_TABLES:
        for statement in spatial_index_statements(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in INDEXED_TABLES:
        name = f"{SPATIAL_INDEX_PREFIX}{table}"
        if dialect == "sqlite":
            for trigger in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {name}")
