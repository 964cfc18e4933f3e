"""enforcement registries: laws and articles, items, agencies, officers

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 03:45:11.176845
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "enforcement_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column(
            "agency_kinds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_violation_exempt", sa.Boolean(), nullable=False),
        sa.Column("exemption_conditions", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_items")),
        sa.UniqueConstraint("code", name=op.f("uq_enforcement_items_code")),
    )
    with op.batch_alter_table("enforcement_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_items_kind"), ["kind"], unique=False)

    op.create_table(
        "enforcement_laws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=False),
        sa.Column("promulgated_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("superseded_on", sa.Date(), nullable=True),
        sa.Column("repealed_on", sa.Date(), nullable=True),
        sa.Column(
            "amendments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_laws")),
        sa.UniqueConstraint("code", "version", name="uq_enforcement_laws_code_version"),
    )
    with op.batch_alter_table("enforcement_laws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_laws_level"), ["level"], unique=False)

    op.create_table(
        "enforcement_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("law_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("paragraph", sa.Integer(), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["law_id"],
            ["enforcement_laws.id"],
            name=op.f("fk_enforcement_articles_law_id_enforcement_laws"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_articles")),
        sa.UniqueConstraint(
            "law_id", "number", "paragraph", "item", name="uq_enforcement_articles_place"
        ),
    )
    op.create_table(
        "enforcement_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_enforcement_agencies_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_enforcement_agencies_code")),
    )
    with op.batch_alter_table("enforcement_agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_agencies_kind"), ["kind"], unique=False)

    op.create_table(
        "enforcement_benchmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=12), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("circumstance", sa.Text(), nullable=False),
        sa.Column("fine_min", sa.BigInteger(), nullable=True),
        sa.Column("fine_max", sa.BigInteger(), nullable=True),
        sa.Column("times_min", sa.Float(), nullable=True),
        sa.Column("times_max", sa.Float(), nullable=True),
        sa.Column("base_name", sa.String(length=40), nullable=False),
        sa.Column("base_from", sa.BigInteger(), nullable=True),
        sa.Column("base_below", sa.BigInteger(), nullable=True),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["enforcement_articles.id"],
            name=op.f("fk_enforcement_benchmarks_article_id_enforcement_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["enforcement_items.id"],
            name=op.f("fk_enforcement_benchmarks_item_id_enforcement_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_benchmarks")),
        sa.UniqueConstraint("item_id", "position", name="uq_enforcement_benchmarks_position"),
    )
    op.create_table(
        "enforcement_checklist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["enforcement_articles.id"],
            name=op.f("fk_enforcement_checklist_items_article_id_enforcement_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["enforcement_items.id"],
            name=op.f("fk_enforcement_checklist_items_item_id_enforcement_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_checklist_items")),
        sa.UniqueConstraint("item_id", "code", name="uq_enforcement_checklist_code"),
    )
    op.create_table(
        "enforcement_item_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("paragraph", sa.Integer(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["enforcement_articles.id"],
            name=op.f("fk_enforcement_item_articles_article_id_enforcement_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["enforcement_items.id"],
            name=op.f("fk_enforcement_item_articles_item_id_enforcement_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_item_articles")),
        sa.UniqueConstraint(
            "item_id",
            "article_id",
            "role",
            "paragraph",
            "item_no",
            name="uq_enforcement_item_articles_cite",
        ),
    )
    with op.batch_alter_table("enforcement_item_articles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enforcement_item_articles_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "enforcement_agency_items",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["enforcement_agencies.id"],
            name=op.f("fk_enforcement_agency_items_agency_id_enforcement_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["enforcement_items.id"],
            name=op.f("fk_enforcement_agency_items_item_id_enforcement_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "item_id", name=op.f("pk_enforcement_agency_items")),
    )
    op.create_table(
        "enforcement_agency_regions",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=15), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["enforcement_agencies.id"],
            name=op.f("fk_enforcement_agency_regions_agency_id_enforcement_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_enforcement_agency_regions_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint(
            "agency_id", "region_code", name=op.f("pk_enforcement_agency_regions")
        ),
    )
    op.create_table(
        "enforcement_officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["enforcement_agencies.id"],
            name=op.f("fk_enforcement_officers_agency_id_enforcement_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_enforcement_officers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_officers")),
        sa.UniqueConstraint(
            "certificate_number", name=op.f("uq_enforcement_officers_certificate_number")
        ),
    )
    with op.batch_alter_table("enforcement_officers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enforcement_officers_agency", ["agency_id", "active"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enforcement_officers_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "enforcement_officer_regions",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=15), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["enforcement_officers.id"],
            name=op.f("fk_enforcement_officer_regions_officer_id_enforcement_officers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_enforcement_officer_regions_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint(
            "officer_id", "region_code", name=op.f("pk_enforcement_officer_regions")
        ),
    )


def downgrade() -> None:

    op.drop_table("enforcement_officer_regions")
    with op.batch_alter_table("enforcement_officers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_officers_person_id"))
        batch_op.drop_index("ix_enforcement_officers_agency")

    op.drop_table("enforcement_officers")
    op.drop_table("enforcement_agency_regions")
    op.drop_table("enforcement_agency_items")
    with op.batch_alter_table("enforcement_item_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_item_articles_article_id"))

    op.drop_table("enforcement_item_articles")
    op.drop_table("enforcement_checklist_items")
    op.drop_table("enforcement_benchmarks")
    with op.batch_alter_table("enforcement_agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_agencies_kind"))

    op.drop_table("enforcement_agencies")
    op.drop_table("enforcement_articles")
    with op.batch_alter_table("enforcement_laws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_laws_level"))

    op.drop_table("enforcement_laws")
    with op.batch_alter_table("enforcement_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_items_kind"))

    op.drop_table("enforcement_items")
