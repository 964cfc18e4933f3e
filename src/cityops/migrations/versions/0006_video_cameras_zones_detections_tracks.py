"""video: cameras, their zones and rules, known false positives, detections, tracks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 20:32:36.500807
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("direction_deg", sa.Float(), nullable=True),
        sa.Column("stream_url", sa.String(length=500), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.Column("last_seen_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_snapshot_key", sa.String(length=200), nullable=True),
        sa.Column("last_snapshot_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_cameras_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("code", name=op.f("uq_cameras_code")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "video_detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("detection_id", sa.String(length=160), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=120), nullable=True),
        sa.Column("time", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "box",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("stationary", sa.Boolean(), nullable=True),
        sa.Column(
            "verdicts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("snapshot_key", sa.String(length=200), nullable=True),
        sa.Column("snapshot_url", sa.Text(), nullable=True),
        sa.Column("received_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_video_detections_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_detections")),
    )
    with op.batch_alter_table("video_detections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_video_detections_camera_time", ["camera_id", "time"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_detections_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            "uq_video_detections_source_key", ["source", "detection_id"], unique=True
        )

    op.create_table(
        "video_false_positives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column(
            "box",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("min_overlap", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_video_false_positives_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_video_false_positives_created_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_false_positives")),
    )
    with op.batch_alter_table("video_false_positives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_false_positives_camera_id"), ["camera_id"], unique=False
        )

    op.create_table(
        "camera_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("min_dwell_s", sa.Integer(), nullable=False),
        sa.Column(
            "active_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_case_id", sa.Integer(), nullable=True),
        sa.Column("last_signal_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_zones_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["last_case_id"], ["cases.id"], name=op.f("fk_camera_zones_last_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_zones")),
    )
    with op.batch_alter_table("camera_zones", schema=None) as batch_op:
        batch_op.create_index("uq_camera_zones_code", ["camera_id", "code"], unique=True)

    op.create_table(
        "video_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("track_id", sa.String(length=120), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stationary_since", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("ended_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_video_tracks_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_video_tracks_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["camera_zones.id"],
            name=op.f("fk_video_tracks_zone_id_camera_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_tracks")),
    )
    with op.batch_alter_table("video_tracks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_tracks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_video_tracks_zone_id"), ["zone_id"], unique=False)
        batch_op.create_index("uq_video_tracks_key", ["source", "track_id", "zone_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("video_tracks", schema=None) as batch_op:
        batch_op.drop_index("uq_video_tracks_key")
        batch_op.drop_index(batch_op.f("ix_video_tracks_zone_id"))
        batch_op.drop_index(batch_op.f("ix_video_tracks_case_id"))

    op.drop_table("video_tracks")
    with op.batch_alter_table("camera_zones", schema=None) as batch_op:
        batch_op.drop_index("uq_camera_zones_code")

    op.drop_table("camera_zones")
    with op.batch_alter_table("video_false_positives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_false_positives_camera_id"))

    op.drop_table("video_false_positives")
    with op.batch_alter_table("video_detections", schema=None) as batch_op:
        batch_op.drop_index("uq_video_detections_source_key")
        batch_op.drop_index(batch_op.f("ix_video_detections_received_at"))
        batch_op.drop_index("ix_video_detections_camera_time")

    op.drop_table("video_detections")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_grid_code"))

    op.drop_table("cameras")
