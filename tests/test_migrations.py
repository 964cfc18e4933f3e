"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from cityops.app import create_app
from cityops.config import Settings
from cityops.db import Base, import_all_models, include_name, make_engine
from cityops.migrate import NotMigrated, ensure_migrated, head_revision, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    base_url: str = request.getfixturevalue("postgres_url")
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    name = f"mig_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base_url.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_the_models_schema(fresh_engine: Engine) -> None:
    with pytest.raises(NotMigrated, match="cityops migrate"):
        ensure_migrated(fresh_engine)
    upgrade(fresh_engine)
    ensure_migrated(fresh_engine)
    import_all_models()
    with fresh_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": include_name}), Base.metadata
        )
    assert diff == []
    upgrade(fresh_engine)  # a second run is a no-op
    with fresh_engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()


def test_the_step_log_and_audit_trail_refuse_changes(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (at, actor, action, entity, entity_id) "
            "VALUES (CURRENT_TIMESTAMP, 'x', 'a', 'e', '1')"
        ))  # fmt: skip
    for statement in ("UPDATE audit_entries SET actor = 'y'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"), fresh_engine.begin() as conn:
            conn.execute(text(statement))


def test_steps_keep_a_request_key_once_and_stay_append_only(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    now = "CURRENT_TIMESTAMP"
    with fresh_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (family, urgency, state, description, lon, lat, region_code, "
            "needs_placement, source_kind, source, needs_verification, self_handled, "
            "signal_count, rework_count, extension_count, return_count, created_at, reported_at, "
            "stage_started_at, overdue, updated_at, version, signed_for_at) VALUES ('E', 'normal', "
            "'handling', '', 106.5, 29.5, '500103', false, 'hotline', 'hotline', false, false, "
            f"1, 0, 0, 0, {now}, {now}, {now}, false, {now}, 1, {now})"
        ))  # fmt: skip
    step = (
        "INSERT INTO case_steps (case_id, seq, action, to_state, at, actor_name, actor_role, "
        "note, data, attachments, request_key) VALUES ((SELECT max(id) FROM cases), :seq, "
        f"'sign_for', 'handling', {now}, 'x', 'department_handler', '', '{{}}', '[]', :key)"
    )
    with fresh_engine.begin() as conn:
        for seq, key in ((1, None), (2, None), (3, "k-1")):
            conn.execute(text(step), {"seq": seq, "key": key})
    with pytest.raises(DBAPIError, match=r"(?i)unique"), fresh_engine.begin() as conn:
        conn.execute(text(step), {"seq": 4, "key": "k-1"})
    with pytest.raises(DBAPIError, match="append-only"), fresh_engine.begin() as conn:
        conn.execute(text("UPDATE case_steps SET request_key = 'k-2' WHERE seq = 1"))


def test_the_app_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NotMigrated, match="run `cityops migrate`"):
        create_app(settings)
    upgrade(make_engine(settings.database_url))
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/health").json()["status"] == "ok"
