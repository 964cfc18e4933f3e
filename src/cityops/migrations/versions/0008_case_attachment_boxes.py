"""a case attachment may mark a region of its picture (a detection's box)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_attachments") as batch:
        batch.add_column(
            sa.Column(
                "box",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("case_attachments") as batch:
        batch.drop_column("box")
