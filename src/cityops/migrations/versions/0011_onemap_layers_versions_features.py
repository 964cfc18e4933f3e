"""one map: layers, their versions (each import) and their features

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "onemap_layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("line", sa.String(length=24), nullable=True),
        sa.Column("class_field", sa.String(length=60), nullable=True),
        sa.Column("class_scheme", sa.String(length=24), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onemap_layers")),
        sa.UniqueConstraint("name", name=op.f("uq_onemap_layers_name")),
    )
    op.create_table(
        "onemap_layer_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("source_format", sa.String(length=40), nullable=False),
        sa.Column("source_crs", sa.Text(), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column(
            "repaired",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("imported_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["onemap_layers.id"],
            name=op.f("fk_onemap_layer_versions_layer_id_onemap_layers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onemap_layer_versions")),
        sa.UniqueConstraint("layer_id", "version", name="uq_onemap_layer_version"),
    )
    op.create_table(
        "onemap_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("fid", sa.Integer(), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=True),
        sa.Column("source_class", sa.String(length=60), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["onemap_layer_versions.id"],
            name=op.f("fk_onemap_features_version_id_onemap_layer_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onemap_features")),
    )
    with op.batch_alter_table("onemap_features", schema=None) as batch_op:
        batch_op.create_index(
            "ix_onemap_features_version_bbox", ["version_id", "min_lon", "min_lat"], unique=False
        )
        batch_op.create_index(
            "ix_onemap_features_version_class", ["version_id", "class_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("onemap_features", schema=None) as batch_op:
        batch_op.drop_index("ix_onemap_features_version_class")
        batch_op.drop_index("ix_onemap_features_version_bbox")

    op.drop_table("onemap_features")
    op.drop_table("onemap_layer_versions")
    op.drop_table("onemap_layers")
