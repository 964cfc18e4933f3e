"""one map: conflict runs and their patches, with cases and resolutions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onemap_conflict_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "layers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("min_area_m2", sa.Float(), nullable=False),
        sa.Column("min_width_m", sa.Float(), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("patch_count", sa.Integer(), nullable=False),
        sa.Column("total_area_m2", sa.Float(), nullable=False),
        sa.Column("dropped_by_area", sa.Integer(), nullable=False),
        sa.Column("dropped_by_width", sa.Integer(), nullable=False),
        sa.Column("dropped_area_m2", sa.Float(), nullable=False),
        sa.Column(
            "repaired",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("started_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onemap_conflict_runs")),
    )
    op.create_table(
        "onemap_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.Column("layer_a", sa.String(length=60), nullable=False),
        sa.Column("feature_a", sa.Integer(), nullable=False),
        sa.Column("class_a", sa.String(length=40), nullable=False),
        sa.Column("layer_b", sa.String(length=60), nullable=False),
        sa.Column("feature_b", sa.Integer(), nullable=True),
        sa.Column("class_b", sa.String(length=40), nullable=False),
        sa.Column("difference", sa.String(length=16), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("street_code", sa.String(length=15), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("resolved_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["onemap_conflict_runs.id"],
            name=op.f("fk_onemap_conflicts_run_id_onemap_conflict_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onemap_conflicts")),
    )
    with op.batch_alter_table("onemap_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_onemap_conflicts_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_onemap_conflicts_run_bbox", ["run_id", "min_lon", "min_lat"], unique=False
        )
        batch_op.create_index(
            "ix_onemap_conflicts_run_street", ["run_id", "street_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("onemap_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_onemap_conflicts_run_street")
        batch_op.drop_index("ix_onemap_conflicts_run_bbox")
        batch_op.drop_index("ix_onemap_conflicts_case")

    op.drop_table("onemap_conflicts")
    op.drop_table("onemap_conflict_runs")
