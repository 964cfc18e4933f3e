"""`/api/v1/auth`: log in, who am I, API keys; `/api/v1/audit`: the read-only audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from cityops.auth import service
from cityops.auth.models import ApiKey, AuditEntry
from cityops.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditRead,
    MeRead,
    TokenRead,
)
from cityops.auth.service import Principal
from cityops.deps import AdminDep, ContextDep, NowDep, PrincipalDep, UowDep, require_roles
from cityops.kit.pagination import Page, PageParams, paginate

router = APIRouter(tags=["auth"])


@router.post("/auth/token", summary="Log in")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: ContextDep,
    uow: UowDep,
    now: NowDep,
) -> TokenRead:
    """OAuth2 password flow: username and password for a bearer token."""
    account = service.authenticate(uow.session, form.username, form.password, now=now)
    ttl = timedelta(minutes=context.settings.token_ttl_minutes)
    token = service.issue_token(account, secret=context.settings.secret_key, ttl=ttl, now=now)
    service.record_audit(uow.session, None, "auth.login", "account", account.id, now=now,
                         after={"username": account.username})  # fmt: skip
    uow.commit()
    return TokenRead(access_token=token, expires_in=int(ttl.total_seconds()))


@router.get("/auth/me", summary="Who am I")
def me(principal: PrincipalDep) -> MeRead:
    """The caller's name, roles and scope."""
    a = principal.actor
    return MeRead(id=a.id, name=a.name, roles=sorted(a.roles), scope_code=a.scope_code,
                  department_id=a.department_id)  # fmt: skip


@router.get("/auth/api-keys", summary="List API keys")
def list_keys(uow: UowDep, _admin: AdminDep) -> list[ApiKeyRead]:
    """Every API key, revoked ones included (the key itself is never shown again)."""
    rows = uow.session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [ApiKeyRead.model_validate(r) for r in rows]


@router.post("/auth/api-keys", status_code=201, summary="Create an API key")
def create_key(body: ApiKeyCreate, uow: UowDep, admin: AdminDep, now: NowDep) -> ApiKeyCreated:
    """A key for a machine source; the response is the only time the key is shown."""
    row, key = service.create_api_key(uow.session, name=body.name, sources=body.sources,
                                      trusted=body.trusted, now=now)  # fmt: skip
    service.record_audit(uow.session, admin, "apikey.create", "api_key", row.id, now=now,
                         after={"name": row.name, "sources": row.sources})  # fmt: skip
    uow.commit()
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=key)


@router.delete("/auth/api-keys/{key_id}", summary="Revoke an API key")
def revoke_key(
    key_id: int, context: ContextDep, uow: UowDep, admin: AdminDep, now: NowDep
) -> ApiKeyRead:
    """Revoke: refused at once by this process, within seconds by the others."""
    row = service.revoke_api_key(uow.session, key_id, now=now)
    service.record_audit(uow.session, admin, "apikey.revoke", "api_key", row.id, now=now)
    uow.commit()
    context.api_keys.clear()
    return ApiKeyRead.model_validate(row)


AuditReader = Annotated[Principal, require_roles("supervisor")]


@router.get("/audit", summary="The audit trail")
def audit(
    uow: UowDep,
    _reader: AuditReader,
    page: Annotated[PageParams, Query()],
    entity: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
) -> Page[AuditRead]:
    """Who did what and when, newest first; it can be read, never changed, through the API."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    rows, total = paginate(uow.session, query, page)
    return Page(items=[AuditRead.model_validate(r) for r in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip
