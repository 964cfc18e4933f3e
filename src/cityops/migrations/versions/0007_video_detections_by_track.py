"""a track's detections are looked up by source, track and time

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 23:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A track reaching a case without a picture takes its latest snapshot: without this
    # index that is a scan of the detection log for every such signal.
    op.create_index(
        "ix_video_detections_track_time",
        "video_detections",
        ["source", "track_id", "time"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_video_detections_track_time", table_name="video_detections")
