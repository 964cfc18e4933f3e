"""citizens: call-backs, phone codes, vocabulary, routing and ratings of requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 02:00:00

Requests already taken were chosen by their service, not joined, not verified, without
photos of their own: the new columns' defaults say so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_phone_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_phone_codes")),
    )
    with op.batch_alter_table("citizen_phone_codes", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_phone_codes_phone", ["phone", "created_at"], unique=False)

    op.create_table(
        "citizen_vocabulary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("term", sa.String(length=80), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_code"],
            ["catalog_classes.code"],
            name=op.f("fk_citizen_vocabulary_class_code_catalog_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_citizen_vocabulary_created_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_vocabulary")),
        sa.UniqueConstraint("class_code", "term", name="uq_citizen_vocabulary"),
    )
    op.create_table(
        "citizen_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=80), nullable=False),
        sa.Column("at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_citizen_callbacks_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_citizen_callbacks_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["citizen_requests.id"],
            name=op.f("fk_citizen_callbacks_request_id_citizen_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_callbacks")),
    )
    with op.batch_alter_table("citizen_callbacks", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_callbacks_request", ["request_id"], unique=False)

    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("routing", sa.String(length=16), nullable=False, server_default="chosen")
        )
        batch_op.add_column(
            sa.Column("joined", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("phone_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("taken_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "photo_ids",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
        batch_op.add_column(sa.Column("rating", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("rated_at", cityops.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("service_code", existing_type=sa.VARCHAR(length=40), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_citizen_requests_taken_by_people"), "people", ["taken_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_citizen_requests_taken_by_people"), type_="foreignkey"
        )
        batch_op.alter_column("service_code", existing_type=sa.VARCHAR(length=40), nullable=False)
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rating")
        batch_op.drop_column("photo_ids")
        batch_op.drop_column("taken_by")
        batch_op.drop_column("phone_verified")
        batch_op.drop_column("joined")
        batch_op.drop_column("routing")

    with op.batch_alter_table("citizen_callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_callbacks_request")

    op.drop_table("citizen_callbacks")
    op.drop_table("citizen_vocabulary")
    with op.batch_alter_table("citizen_phone_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_phone_codes_phone")

    op.drop_table("citizen_phone_codes")
