"""Login accounts, API keys for machine sources, and the append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import DDL, Boolean, ForeignKey, Integer, String, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from cityops.db import Base


class Account(Base):
    """A person's login: username and argon2 password hash."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to invalidate every token issued before (password change, lock-out).
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None]


class ApiKey(Base):
    """A key for a machine source (camera gateway, sensor platform, integration).

    Only the SHA-256 of the key is stored; `prefix` finds the row. A key may post events
    only as the sources listed in `sources`.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    sources: Mapped[list[Any]] = mapped_column(default=list)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what, when, with the record before and after. Never updated or deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


def append_only_statements(table: str, dialect: str) -> list[str]:
    """SQL that makes `table` refuse UPDATE and DELETE (used by create_all and migrations)."""
    message = f"{table} is append-only"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


def make_append_only(table: Table) -> None:
    """Attach the append-only triggers to `table` whenever it is created."""
    for dialect in ("sqlite", "postgresql"):
        for statement in append_only_statements(table.name, dialect):
            ddl = DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl)


make_append_only(cast(Table, AuditEntry.__table__))
