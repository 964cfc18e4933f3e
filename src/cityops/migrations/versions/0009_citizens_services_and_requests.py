"""citizens' reports: the services residents report under (Open311), and their requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_services",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "keywords",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_code"],
            ["catalog_classes.code"],
            name=op.f("fk_citizen_services_class_code_catalog_classes"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_citizen_services")),
    )
    op.create_table(
        "citizen_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address_string", sa.String(length=250), nullable=True),
        sa.Column("address_id", sa.String(length=80), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_name", sa.String(length=60), nullable=True),
        sa.Column("last_name", sa.String(length=60), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("device_id", sa.String(length=80), nullable=True),
        sa.Column("account_id", sa.String(length=80), nullable=True),
        sa.Column("requested_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_citizen_requests_api_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_citizen_requests_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["source_events.id"],
            name=op.f("fk_citizen_requests_event_id_source_events"),
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["citizen_services.code"],
            name=op.f("fk_citizen_requests_service_code_citizen_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_requests")),
        sa.UniqueConstraint("token", name=op.f("uq_citizen_requests_token")),
    )
    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_requests_case", ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_requests_case")

    op.drop_table("citizen_requests")
    op.drop_table("citizen_services")
