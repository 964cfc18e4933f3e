"""sensors: device types and devices, readings and rollups, alarm rules, their state, alarms

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 16:12:27.028350
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityops.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("received_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dead_letters_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "device_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("report_interval_s", sa.Integer(), nullable=False),
        sa.Column("metadata_url", sa.String(length=300), nullable=False),
        sa.Column("encoding_type", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_types")),
        sa.UniqueConstraint("code", name=op.f("uq_device_types_code")),
    )
    op.create_table(
        "observed_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("definition", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_properties")),
        sa.UniqueConstraint("code", name=op.f("uq_observed_properties_code")),
    )
    op.create_table(
        "reading_rollups",
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=2), nullable=False),
        sa.Column("start", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.Column("sum_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "datastream_id", "bucket", "start", name=op.f("pk_reading_rollups")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Partitioned by day: retention drops a day's partition instead of deleting rows.
        # The default partition takes what no day's partition covers (very late readings);
        # `cityops sensors maintain` creates the days ahead and moves any such rows over.
        op.execute(
            "CREATE TABLE readings ("
            " datastream_id integer NOT NULL,"
            " observed_at timestamp with time zone NOT NULL,"
            " value double precision NOT NULL,"
            " received_at timestamp with time zone NOT NULL,"
            " faulty boolean NOT NULL,"
            " CONSTRAINT pk_readings PRIMARY KEY (datastream_id, observed_at)"
            ") PARTITION BY RANGE (observed_at)"
        )
        op.execute("CREATE TABLE readings_default PARTITION OF readings DEFAULT")
    else:
        op.create_table(
            "readings",
            sa.Column("datastream_id", sa.Integer(), nullable=False),
            sa.Column("observed_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("value", sa.Float(), nullable=False),
            sa.Column("received_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("faulty", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("datastream_id", "observed_at", name=op.f("pk_readings")),
        )
    op.create_table(
        "device_type_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("unit_symbol", sa.String(length=20), nullable=False),
        sa.Column("unit_name", sa.String(length=40), nullable=False),
        sa.Column("unit_definition", sa.String(length=200), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_device_type_properties_device_type_id_device_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["observed_properties.id"],
            name=op.f("fk_device_type_properties_property_id_observed_properties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_type_properties")),
        sa.UniqueConstraint(
            "device_type_id",
            "property_id",
            name=op.f("uq_device_type_properties_device_type_id_property_id"),
        ),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("facility_code", sa.String(length=40), nullable=True),
        sa.Column("facility_class_code", sa.String(length=8), nullable=True),
        sa.Column("report_interval_s", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_devices_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_devices_device_type_id_device_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("code", name=op.f("uq_devices_code")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_devices_device_type_id"), ["device_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_devices_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "alarm_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("device_type_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column(
            "levels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("clear_at", sa.Float(), nullable=True),
        sa.Column("for_seconds", sa.Float(), nullable=False),
        sa.Column("for_count", sa.Integer(), nullable=False),
        sa.Column("clear_for_seconds", sa.Float(), nullable=False),
        sa.Column("silence_seconds", sa.Integer(), nullable=True),
        sa.Column("silence_severity", sa.String(length=8), nullable=False),
        sa.Column("case_class_code", sa.String(length=8), nullable=True),
        sa.Column("case_severity", sa.String(length=8), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_alarm_rules_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["device_type_id"],
            ["device_types.id"],
            name=op.f("fk_alarm_rules_device_type_id_device_types"),
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["observed_properties.id"],
            name=op.f("fk_alarm_rules_property_id_observed_properties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_rules")),
    )
    with op.batch_alter_table("alarm_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_rules_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alarm_rules_device_type_id"), ["device_type_id"], unique=False
        )

    op.create_table(
        "datastreams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit_symbol", sa.String(length=20), nullable=False),
        sa.Column("unit_name", sa.String(length=40), nullable=False),
        sa.Column("unit_definition", sa.String(length=200), nullable=False),
        sa.Column("observation_type", sa.String(length=120), nullable=False),
        sa.Column("last_time", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("first_time", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_datastreams_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["observed_properties.id"],
            name=op.f("fk_datastreams_property_id_observed_properties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datastreams")),
        sa.UniqueConstraint(
            "device_id", "property_id", name=op.f("uq_datastreams_device_id_property_id")
        ),
    )
    op.create_table(
        "alarm_rule_states",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_alarm_rule_states_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alarm_rules.id"],
            name=op.f("fk_alarm_rule_states_rule_id_alarm_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "device_id", name=op.f("pk_alarm_rule_states")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("raised_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger_value", sa.Float(), nullable=True),
        sa.Column("peak_value", sa.Float(), nullable=True),
        sa.Column("last_trigger_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("cleared_at", cityops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.Integer(), nullable=True),
        sa.Column("clear_reason", sa.String(length=12), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["people.id"], name=op.f("fk_alarms_acknowledged_by_people")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_alarms_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["cleared_by"], ["people.id"], name=op.f("fk_alarms_cleared_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_alarms_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["observed_properties.id"],
            name=op.f("fk_alarms_property_id_observed_properties"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alarm_rules.id"],
            name=op.f("fk_alarms_rule_id_alarm_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarms_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_alarms_open_device_key",
            ["device_id", "key"],
            unique=True,
            sqlite_where=sa.text("state != 'cleared'"),
            postgresql_where=sa.text("state != 'cleared'"),
        )

    op.create_table(
        "alarm_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at", cityops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["people.id"], name=op.f("fk_alarm_events_actor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_alarm_events_alarm_id_alarms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
    )
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_events_alarm_id"), ["alarm_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_events_alarm_id"))

    op.drop_table("alarm_events")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alarms_open_device_key",
            sqlite_where=sa.text("state != 'cleared'"),
            postgresql_where=sa.text("state != 'cleared'"),
        )
        batch_op.drop_index(batch_op.f("ix_alarms_state"))
        batch_op.drop_index(batch_op.f("ix_alarms_raised_at"))
        batch_op.drop_index(batch_op.f("ix_alarms_device_id"))
        batch_op.drop_index(batch_op.f("ix_alarms_case_id"))

    op.drop_table("alarms")
    op.drop_table("alarm_rule_states")
    op.drop_table("datastreams")
    with op.batch_alter_table("alarm_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_rules_device_type_id"))
        batch_op.drop_index(batch_op.f("ix_alarm_rules_device_id"))

    op.drop_table("alarm_rules")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_grid_code"))
        batch_op.drop_index(batch_op.f("ix_devices_device_type_id"))

    op.drop_table("devices")
    op.drop_table("device_type_properties")
    op.drop_table("readings")
    op.drop_table("reading_rollups")
    op.drop_table("observed_properties")
    op.drop_table("device_types")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_received_at"))

    op.drop_table("dead_letters")
