"""handlers sign for their tasks; actions and uploads carry idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:00:00

Plain ALTER TABLE ADD COLUMN and CREATE UNIQUE INDEX on both databases: no table is
rebuilt, so the append-only triggers on case_steps stay as they are (a batch rebuild on
SQLite would drop them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityops.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("signed_for_at", cityops.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("case_steps", sa.Column("request_key", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_case_steps_request_key", "case_steps", ["case_id", "request_key"], unique=True
    )
    op.add_column("case_attachments", sa.Column("request_key", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_case_attachments_request_key",
        "case_attachments",
        ["uploaded_by", "request_key"],
        unique=True,
    )


def downgrade() -> None:
    # SQLite (3.35 and later) drops a column in place once no index names it.
    op.drop_index("uq_case_attachments_request_key", table_name="case_attachments")
    op.drop_column("case_attachments", "request_key")
    op.drop_index("uq_case_steps_request_key", table_name="case_steps")
    op.drop_column("case_steps", "request_key")
    op.drop_column("cases", "signed_for_at")
