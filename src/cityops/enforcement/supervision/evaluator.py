"""Running the rules: each active rule's check over all its subjects, then its flags brought in
line with the hits — new hits raised, changed evidence rewritten, flags whose subject now
complies cleared, cleared flags that fire again raised again (a closed case reopened). A
flag is never duplicated: there is one per rule and subject."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cityops.enforcement.supervision.checks.common import Check, Env, Hit
from cityops.enforcement.supervision.models import (
    Flag,
    FlagState,
    FlagStep,
    RuleKind,
    SupervisionRule,
)
from cityops.enforcement.supervision.rules import DEFAULT_RULES, parse_params
from cityops.enforcement.supervision.workflow import Event
from cityops.kit.bulk import allocate_ids, insert_rows

SYSTEM = "系统"
WORK_MEM = "64MB"


@dataclass
class RuleOutcome:
    """What one rule's pass found and changed."""

    code: str
    kind: str
    hits: int = 0
    raised: int = 0
    raised_again: int = 0
    updated: int = 0
    cleared: int = 0
    seconds: float = 0.0
    # CPU time of the evaluating thread: SQLite's work is in it, a database server's not.
    cpu_seconds: float = 0.0


@dataclass
class Evaluation:
    """A pass over the rules: per rule, and the time it all took."""

    at: datetime
    rules: list[RuleOutcome] = field(default_factory=list)
    seconds: float = 0.0


def load_default_rules(session: Session, *, now: datetime) -> int:
    """Insert the shipped rules that are missing (by code); rows that exist are left as a
    district set them. Returns how many were added."""
    have = set(session.scalars(select(SupervisionRule.code)))
    added = 0
    for rule in DEFAULT_RULES:
        if rule.code in have:
            continue
        session.add(
            SupervisionRule(
                code=rule.code,
                title=rule.title,
                kind=rule.kind.value,
                parameters=rule.full_parameters(),
                severity=rule.severity.value,
                active=True,
                legal_source=rule.legal_source,
                description=rule.description,
                updated_at=now,
            )
        )
        added += 1
    session.flush()
    return added


def evaluate(
    session: Session,
    env: Env,
    checks: Mapping[RuleKind, Check],
    *,
    codes: Sequence[str] | None = None,
    reader: Session | None = None,
) -> Evaluation:
    """Run the active rules (or those named, active or not) and sync their flags; flushes.

    With a `reader` (a read-only session of the same database) the checks run there and
    `session` writes only the flags: on SQLite a writer holds the database's one write
    lock, which the checks' seconds must not keep from the rest of the application."""
    started = time.perf_counter()
    source = reader or session
    query = select(SupervisionRule.id, SupervisionRule.kind, SupervisionRule.parameters)
    if codes is not None:
        query = query.where(SupervisionRule.code.in_(codes))
    else:
        query = query.where(SupervisionRule.active.is_(True))
    if env.dialect == "postgresql":
        # The checks hash and sort hundreds of thousands of rows once a pass: room enough
        # to keep them in memory (the default 4 MB spills them to disk), for this
        # transaction only.
        source.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    found: list[tuple[int, list[Hit], float, float]] = []
    for rule_id, kind, parameters in source.execute(query.order_by(SupervisionRule.id)).all():
        began, cpu = time.perf_counter(), time.thread_time()
        hits = checks[RuleKind(kind)](source, parse_params(kind, parameters), env)
        found.append((rule_id, hits, time.perf_counter() - began, time.thread_time() - cpu))
    if reader is not None:
        reader.rollback()  # the snapshot is read: let it go before writing
    result = Evaluation(at=env.now)
    for rule_id, hits, seconds, cpu_seconds in found:
        began, cpu = time.perf_counter(), time.thread_time()
        rule = session.get(SupervisionRule, rule_id)
        assert rule is not None  # read a moment ago; rules are never deleted
        outcome = sync_flags(session, rule, hits, env.now)
        outcome.seconds = seconds + time.perf_counter() - began
        outcome.cpu_seconds = cpu_seconds + time.thread_time() - cpu
        rule.evaluated_at, rule.last_hits = env.now, outcome.hits
        rule.last_ms = round(outcome.seconds * 1000)
        result.rules.append(outcome)
    session.flush()
    result.seconds = time.perf_counter() - started
    return result


def missing_default_rules(session: Session) -> list[str]:
    """The codes of shipped rules not stored yet."""
    have = set(session.scalars(select(SupervisionRule.code)))
    return [r.code for r in DEFAULT_RULES if r.code not in have]


def digest(hit: Hit) -> str:
    """What a hit's evidence hashes to, with what else a flag copies from it."""
    facts = [
        hit.agency_id,
        hit.region_code,
        hit.business_id,
        hit.occurred_on,
        hit.evidence,
        hit.message,
    ]
    body = orjson.dumps(
        facts, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME, default=str
    )
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def sync_flags(
    session: Session, rule: SupervisionRule, hits: Sequence[Hit], now: datetime
) -> RuleOutcome:
    """Bring the rule's flags in line with its hits (see the module's docstring)."""
    outcome = RuleOutcome(code=rule.code, kind=rule.kind, hits=len(hits))
    found = {(h.subject_type.value, h.subject_id): h for h in hits}
    existing = session.execute(
        select(
            Flag.id,
            Flag.subject_type,
            Flag.subject_id,
            Flag.cleared_at,
            Flag.state,
            Flag.digest,
            Flag.times_raised,
        ).where(Flag.rule_id == rule.id)
    ).all()
    known = {(row.subject_type, row.subject_id): row for row in existing}
    updates: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []

    def step(flag_id: int, kind: Event, state: str, data: dict[str, Any] | None = None) -> None:
        steps.append(
            {
                "flag_id": flag_id,
                "kind": kind.value,
                "at": now,
                "actor_id": None,
                "actor_name": SYSTEM,
                "state_after": state,
                "note": "",
                "data": data or {},
            }
        )

    for key, hit in found.items():
        row = known.get(key)
        if row is None:
            continue
        sign = digest(hit)
        if row.cleared_at is not None:
            state = FlagState.OPEN.value if row.state == FlagState.CLOSED else row.state
            values = _hit_values(hit, sign, now) | {
                "id": row.id,
                "cleared_at": None,
                "times_raised": row.times_raised + 1,
                "state": state,
                "updated_at": now,
            }
            if state != row.state:  # a closed case, fired anew: back to the supervisor
                values |= {"closed_at": None, "resolution": ""}
            updates.append(values)
            step(row.id, Event.RAISED_AGAIN, row.state, {"message": hit.message})
            if state != row.state:
                step(row.id, Event.REOPENED, state)
            outcome.raised_again += 1
        elif row.digest != sign:
            updates.append(_hit_values(hit, sign, now) | {"id": row.id})
            outcome.updated += 1
    for key, row in known.items():
        if key not in found and row.cleared_at is None:
            updates.append({"id": row.id, "cleared_at": now, "updated_at": now})
            step(row.id, Event.CLEARED, row.state)
            outcome.cleared += 1
    if updates:
        # Bulk UPDATE by primary key, grouped by the columns set (one statement each).
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in updates:
            groups.setdefault(tuple(sorted(values)), []).append(values)
        for rows in groups.values():
            session.execute(update(Flag), rows)
    new = [hit for key, hit in found.items() if key not in known]
    if new:
        (ids,) = allocate_ids(session, [(Flag, len(new))])
        rows = []
        for flag_id, hit in zip(ids, new, strict=True):
            rows.append(
                {
                    "id": flag_id,
                    "rule_id": rule.id,
                    "subject_type": hit.subject_type.value,
                    "subject_id": hit.subject_id,
                    "raised_at": now,
                    "cleared_at": None,
                    "times_raised": 1,
                    "state": FlagState.OPEN.value,
                    "assignee_id": None,
                    "correction_due": None,
                    "answer": "",
                    "answered_at": None,
                    "resolution": "",
                    "closed_at": None,
                    **_hit_values(hit, digest(hit), now),
                }
            )
            step(flag_id, Event.RAISED, FlagState.OPEN.value)
        insert_rows(session, [(Flag, rows)])
        outcome.raised = len(new)
    if steps:
        (step_ids,) = allocate_ids(session, [(FlagStep, len(steps))])
        for step_id, values in zip(step_ids, steps, strict=True):
            values["id"] = step_id
        insert_rows(session, [(FlagStep, steps)])
    # The rows were written past the ORM: flags it holds must be read again.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Flag):
            session.expire(obj)
    return outcome


def _hit_values(hit: Hit, sign: str, now: datetime) -> dict[str, Any]:
    return {
        "agency_id": hit.agency_id,
        "region_code": hit.region_code,
        "business_id": hit.business_id,
        "occurred_on": hit.occurred_on,
        "evidence": hit.evidence,
        "message": hit.message,
        "digest": sign,
        "evidence_at": now,
        "updated_at": now,
    }
