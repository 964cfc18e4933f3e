"""merge candidates are looked up by class and latitude

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_open_lookup", table_name="cases")
    op.create_index("ix_cases_merge_lookup", "cases", ["class_code", "lat"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_merge_lookup", table_name="cases")
    op.create_index(
        "ix_cases_open_lookup", "cases", ["class_code", "state", "created_at"], unique=False
    )
