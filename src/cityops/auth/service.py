"""Log-in, tokens, API keys and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.models import Account, ApiKey, AuditEntry
from cityops.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from cityops.cases.workflow import Actor
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound, Unauthorized
from cityops.org.models import Person, Role

TOKEN_ALGORITHM = "HS256"
API_KEY_PREFIX = "cok_"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a person (by token) or a machine source (by API key)."""

    actor: Actor
    api_key_id: int | None = None
    sources: frozenset[str] = frozenset()
    trusted: bool = False

    @property
    def label(self) -> str:
        if self.api_key_id is not None:
            return f"apikey:{self.api_key_id}:{self.actor.name}"
        return f"person:{self.actor.id}:{self.actor.name}"

    def has_role(self, *roles: str) -> bool:
        return bool(self.actor.roles & set(roles))


def actor_of(person: Person) -> Actor:
    return Actor(
        id=person.id,
        name=person.name,
        roles=frozenset(person.roles or ()),
        scope_code=person.scope_code,
        department_id=person.department_id,
    )


def authenticate(session: Session, username: str, password: str, *, now: datetime) -> Account:
    """The active account with these credentials, or Unauthorized (one message for both cases)."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.active:
        # Hash anyway so that a wrong username takes as long as a wrong password.
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("wrong username or password")
    if not verify_password(account.password_hash, password):
        raise Unauthorized("wrong username or password")
    person = session.get(Person, account.person_id)
    if person is None or not person.active:
        raise Unauthorized("wrong username or password")
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now
    return account


_DUMMY_HASH = hash_password("not-a-real-password")


def issue_token(account: Account, *, secret: str, ttl: timedelta, now: datetime) -> str:
    """A signed bearer token naming the account and its token version."""
    claims = {
        "sub": str(account.id),
        "ver": account.token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


def principal_from_token(session: Session, token: str, *, secret: str, now: datetime) -> Principal:
    """Check a bearer token and load who it belongs to, with current roles and scope.

    Roles and scope are read from the database on every request rather than from the
    token, so that a change of role or a lock-out takes effect at once. Expiry is judged
    by the application's clock, the same one that issued the token, not the wall clock
    the JWT library would read.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["exp", "sub", "ver"], "verify_exp": False, "verify_iat": False},
        )
        account_id = int(claims["sub"])
        version = int(claims["ver"])
        expires = int(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("invalid or expired token") from exc
    if now.timestamp() >= expires:
        raise Unauthorized("invalid or expired token")
    row = session.execute(
        select(Account, Person)
        .join(Person, Person.id == Account.person_id)
        .where(Account.id == account_id)
    ).first()
    if row is None:
        raise Unauthorized("invalid or expired token")
    account, person = row
    if not account.active or not person.active or account.token_version != version:
        raise Unauthorized("invalid or expired token")
    return Principal(actor=actor_of(person))


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, *, name: str, sources: list[str], trusted: bool, now: datetime
) -> tuple[ApiKey, str]:
    """A new API key for machine sources; returns the row and the key, shown only once."""
    sources = [s.strip() for s in sources if s.strip()]
    if not sources:
        raise Invalid(
            "an API key needs at least one source",
            errors=[FieldProblem("sources", "at least one source name")],
        )
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=_hash_key(key),
        sources=sources,
        trusted=trusted,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, key


def principal_from_api_key(session: Session, key: str) -> Principal:
    """The machine principal for an `X-API-Key` value, or Unauthorized."""
    try:
        prefix = key.removeprefix(API_KEY_PREFIX).split("_", 1)[0]
    except IndexError:
        raise Unauthorized("invalid API key") from None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if (
        row is None
        or row.revoked_at is not None
        or not secrets.compare_digest(row.key_hash, _hash_key(key))
    ):
        raise Unauthorized("invalid API key")
    actor = Actor(id=None, name=row.name, roles=frozenset({"source"}))
    return Principal(
        actor=actor, api_key_id=row.id, sources=frozenset(row.sources), trusted=row.trusted
    )


class ApiKeyCache:
    """Principals of recently seen API keys, so that a camera posting every few milliseconds
    does not cost a database lookup each time. A revocation takes effect at once in the
    process that made it and within `ttl` seconds in the others."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal, float]] = {}

    def cached(self, key: str) -> Principal | None:
        """The principal of `key` if seen within the TTL, without touching the database."""
        entry = self._entries.get(_hash_key(key))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def get(self, session_factory: Callable[[], Session], key: str) -> Principal:
        cached = self.cached(key)
        if cached is not None:
            return cached
        digest, now = _hash_key(key), time.monotonic()
        with session_factory() as session:
            principal = principal_from_api_key(session, key)
        if len(self._entries) > 10_000:  # keys are few; anything more is noise or an attack
            self._entries.clear()
        self._entries[digest] = (principal, now + self.ttl)
        return principal

    def clear(self) -> None:
        self._entries.clear()


def revoke_api_key(session: Session, key_id: int, *, now: datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    row.revoked_at = now
    return row


def create_account(session: Session, *, person: Person, username: str, password: str) -> Account:
    """A login for `person`; the username must be free and the password long enough."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldProblem("password", f"at least {MIN_PASSWORD_LENGTH} characters"))
    if not username.strip():
        problems.append(FieldProblem("username", "must not be empty"))
    if problems:
        raise Invalid("cannot create the account", errors=problems)
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken")
    account = Account(person_id=person.id, username=username, password_hash=hash_password(password))
    session.add(account)
    session.flush()
    return account


def record_audit(
    session: Session,
    principal: Principal | None,
    action: str,
    entity: str,
    entity_id: str | int,
    *,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append who did what to the audit trail, in the caller's transaction."""
    session.add(
        AuditEntry(
            at=now,
            actor=principal.label if principal else "system",
            actor_id=principal.actor.id if principal else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


ALL_ROLES = frozenset(r.value for r in Role)
