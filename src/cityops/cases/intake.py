"""Intake: signals become new cases or join an open case of the same problem.

Built for batches: one query finds repeats, one finds merge candidates, one finds who is on
duty, and new rows go in with multi-row INSERTs. A single event takes the same path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cityops.cases import repository
from cityops.cases.events import CaseMerged, CaseOpened, CaseTransitioned
from cityops.cases.models import Case, CaseStep
from cityops.cases.sla import stage_due
from cityops.cases.workflow import OPEN_STATES, Action, State
from cityops.catalog.models import DispatchTarget
from cityops.catalog.service import CatalogSnapshot, RuleInfo, match_rule
from cityops.geo.index import GridIndex
from cityops.geo.nearest import earlier_within, metres_per_deg_lon, nearest_within
from cityops.ingest.models import SourceEvent
from cityops.ingest.schemas import STAFF_KINDS, EventIn, EventResult
from cityops.kit.bulk import add_to_counts, allocate_ids, insert_rows
from cityops.kit.bus import collect
from cityops.org.models import CODE_LENGTH, RegionLevel
from cityops.worktime.service import WorkCalendar


@dataclass(frozen=True)
class Signal:
    """A validated event ready for intake, with who sent it."""

    index: int
    event: EventIn
    source: str
    reporter_id: int | None
    reporter_name: str
    reporter_role: str
    # Where an automatic dispatch to a department goes instead of the class's responsible
    # department: a sensor's alarm goes to the owner of the facility it watches.
    department_id: int | None = None
    # The open case this signal is known to be about (a resident's report that reads like
    # one nearby, whatever class each was given): it joins that case if it is still open.
    join_case_id: int | None = None


@dataclass
class IntakeEnv:
    """The reference data intake reads, loaded once per batch (or cached per process)."""

    snapshot: CatalogSnapshot
    grids: GridIndex
    calendar: WorkCalendar
    district_code: str
    now: datetime
    # Every case of a batch is opened at the same instant: its deadlines and the rule it
    # falls under depend on a few keys only, so each is worked out once per batch.
    _due: dict[tuple[str | None, State], datetime | None] = field(default_factory=dict)
    _rules: dict[tuple[str | None, str, str, float | None], RuleInfo | None] = field(
        default_factory=dict
    )

    def stage_due(self, class_code: str | None, state: State) -> datetime | None:
        """When the stage `state` belongs to must end, for a case entering it now."""
        key = (class_code, state)
        if key not in self._due:
            self._due[key] = stage_due(self.snapshot, self.calendar, class_code, state, self.now)
        return self._due[key]

    def rule(
        self, class_code: str | None, kind: str, source: str, confidence: float | None
    ) -> RuleInfo | None:
        """The automation rule a signal falls under, if any."""
        key = (class_code, kind, source, confidence)
        if key not in self._rules:
            self._rules[key] = match_rule(self.snapshot.rules, *key)
        return self._rules[key]


@dataclass(slots=True)
class _Target:
    """A case an event may merge into: an open one, or one this batch opens."""

    case_id: int | None  # None until the new case of this batch is inserted
    state: str
    new_index: int | None = None  # position in the batch's new cases


def _step(
    *,
    seq: int,
    action: Action,
    from_state: State | None,
    to_state: State,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    actor_role: str,
    rule: str | None = None,
    department_id: int | None = None,
    stage_due_at: datetime | None = None,
    on_time: bool | None = None,
    data: dict[str, Any] | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "seq": seq,
        "action": action.value,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value,
        "at": at,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "actor_role": actor_role,
        "rule": rule,
        "department_id": department_id,
        "stage_due_at": stage_due_at,
        "on_time": on_time,
        "note": note,
        "data": data or {},
        "attachments": [],
        "request_key": None,
    }


def intake(session: Session, env: IntakeEnv, signals: Sequence[Signal]) -> list[EventResult]:
    """Record each signal once and turn it into a new case or a merge; results in order.

    The caller commits. Events are collected for publication after the commit.
    """
    now = env.now
    results: dict[int, EventResult] = {}

    # 1. Repeats: a (source, external_id) seen before returns its first result.
    keys = [(s.source, s.event.external_id) for s in signals]
    seen = repository.find_source_events(session, keys)
    fresh: list[Signal] = []
    first_in_batch: dict[tuple[str, str], int] = {}
    repeated_in_batch: dict[int, int] = {}  # index → index of the first with the same key
    for s, key in zip(signals, keys, strict=True):
        if key in seen:
            results[s.index] = _repeat(s.index, seen[key])
        elif key in first_in_batch:
            repeated_in_batch[s.index] = first_in_batch[key]
        else:
            first_in_batch[key] = s.index
            fresh.append(s)

    # 2. Class codes must name an active class.
    valid: list[Signal] = []
    for s in fresh:
        code = s.event.class_code
        if code is not None and code not in env.snapshot.classes:
            results[s.index] = EventResult(
                index=s.index,
                status="rejected",
                errors=[{"path": "class_code", "message": f"unknown or inactive class {code}"}],
            )
        else:
            valid.append(s)
    if not valid:
        return _ordered(results, signals, repeated_in_batch)

    # 3. Grids, merge candidates and people on duty, one query each.
    grid_codes = env.grids.locate_many(
        [s.event.location.lon for s in valid], [s.event.location.lat for s in valid]
    )
    existing = _open_targets(session, env, valid)
    nearby = _earlier_neighbours(env, valid, existing)
    # Who is on duty matters only for a signal that may open a case (one joining an open
    # case opens none) where a rule may dispatch it to the grid worker.
    wanted = {
        grid
        for s, grid, target in zip(valid, grid_codes, existing, strict=True)
        if grid and target is None and _may_dispatch_to_worker(env, s)
    }
    workers = repository.grid_workers_on_duty(session, wanted, at=now) if wanted else {}
    street_offices = env.snapshot.street_offices

    new_cases: list[dict[str, Any]] = []
    new_steps: list[list[dict[str, Any]]] = []
    new_events: list[dict[str, Any]] = []
    event_case: list[tuple[int, _Target]] = []  # (position in new_events, target)
    merges: dict[int, int] = defaultdict(int)

    opened: dict[int, _Target] = {}  # position in `valid` → the case it opened
    for pos, (s, grid) in enumerate(zip(valid, grid_codes, strict=True)):
        ev = s.event
        lon, lat = ev.location.lon, ev.location.lat
        code = ev.class_code
        event_row = {
            "source": s.source,
            "external_id": ev.external_id,
            "kind": ev.kind.value,
            "class_code": code,
            "lon": lon,
            "lat": lat,
            "occurred_at": ev.occurred_at,
            "received_at": now,
            "description": ev.description,
            "address": ev.address,
            "confidence": ev.confidence,
            "evidence": [e.model_dump(mode="json") for e in ev.evidence],
            "reporter_id": s.reporter_id,
            "grid_code": grid,
            "self_handled": ev.self_handled,
        }
        target = existing[pos]
        if target is None:  # the nearest earlier signal of the batch that opened a case
            target = next((opened[i] for i in nearby.get(pos, ()) if i in opened), None)
        if target is not None:
            event_row["outcome"] = "merged"
            new_events.append(event_row)
            event_case.append((len(new_events) - 1, target))
            if target.case_id is not None:
                merges[target.case_id] += 1
            else:
                assert target.new_index is not None
                new_cases[target.new_index]["signal_count"] += 1
            continue

        case_row, steps = _open_case(env, s, grid, workers, street_offices)
        new_cases.append(case_row)
        new_steps.append(steps)
        cand = opened[pos] = _Target(None, case_row["state"], new_index=len(new_cases) - 1)
        event_row["outcome"] = "opened"
        new_events.append(event_row)
        event_case.append((len(new_events) - 1, cand))

    # 4. Write: ids first (so rows link without RETURNING), then the rows of each table.
    step_rows = [st for steps in new_steps for st in steps]
    case_ids, step_ids, event_ids = allocate_ids(
        session,
        [(Case, len(new_cases)), (CaseStep, len(step_rows)), (SourceEvent, len(new_events))],
    )
    for case_id, row in zip(case_ids, new_cases, strict=True):
        row["id"] = case_id
    for case_id, steps in zip(case_ids, new_steps, strict=True):
        for st in steps:
            st["case_id"] = case_id
    for step_id, st in zip(step_ids, step_rows, strict=True):
        st["id"] = step_id
    for event_id, (pos, cand) in zip(event_ids, event_case, strict=True):
        if cand.case_id is None and cand.new_index is not None:
            cand.case_id = case_ids[cand.new_index]
        new_events[pos]["case_id"] = cand.case_id
        new_events[pos]["id"] = event_id
    insert_rows(session, [(Case, new_cases), (CaseStep, step_rows), (SourceEvent, new_events)])
    add_to_counts(session, Case, merges, column="signal_count", now=now)

    # 5. Results and events for after the commit.
    happened: list[object] = []
    for s, event_id, row, (_, target) in zip(valid, event_ids, new_events, event_case,
                                             strict=True):  # fmt: skip
        merged = row["outcome"] == "merged"
        results[s.index] = EventResult(
            index=s.index, status="merged" if merged else "created", event_id=event_id,
            case_id=target.case_id, case_state=target.state, grid_code=row["grid_code"],
            needs_placement=row["grid_code"] is None,
        )  # fmt: skip
        if merged:
            happened.append(CaseMerged(target.case_id or 0, event_id))
    step_iter = iter(step_ids)
    for case_id, row, steps in zip(case_ids, new_cases, new_steps, strict=True):
        happened.append(CaseOpened(case_id, row["class_code"], row["region_code"], row["state"]))
        happened.extend(CaseTransitioned(
            case_id, next(step_iter), st["action"], st["from_state"], st["to_state"],
            row["region_code"], row["department_id"], row["assignee_id"],
        ) for st in steps)  # fmt: skip
    collect(session, *happened)
    return _ordered(results, signals, repeated_in_batch)


def _open_targets(
    session: Session, env: IntakeEnv, valid: Sequence[Signal]
) -> list[_Target | None]:
    """For each signal, the open case it names (`join_case_id`), else the nearest open case
    it merges into, if any.

    A candidate has the signal's class, lies within the class's merge radius and was
    opened within its merge window. Self-handled reports never merge: the inspector fixed
    what they saw.
    """
    found: list[_Target | None] = [None] * len(valid)
    hit_ids: dict[int, int] = {}  # position in `valid` → the id of the case it joins
    named = {pos: s.join_case_id for pos, s in enumerate(valid) if s.join_case_id is not None}
    if named:
        states = repository.states_of(session, sorted(set(named.values())))
        still_open = {case_id for case_id, state in states.items() if State(state) in OPEN_STATES}
        hit_ids.update((pos, case_id) for pos, case_id in named.items() if case_id in still_open)
    by_class: dict[str, list[int]] = defaultdict(list)
    for pos, s in enumerate(valid):
        if s.event.class_code is not None and not s.event.self_handled and pos not in hit_ids:
            by_class[s.event.class_code].append(pos)
    if not by_class:
        return _targets(session, found, hit_ids)
    klasses = {code: env.snapshot.classes[code] for code in by_class}
    since = {code: env.now - timedelta(minutes=k.merge_window_minutes)
             for code, k in klasses.items()}  # fmt: skip
    points = [(code, valid[pos].event.location.lon, valid[pos].event.location.lat)
              for code, positions in by_class.items() for pos in positions]  # fmt: skip
    # Size the search margin for the point farthest from the equator, where a metre is
    # the most degrees of longitude.
    widest = max(abs(lat) for _, _, lat in points)
    margin_deg = max(k.merge_radius_m for k in klasses.values()) / metres_per_deg_lon(widest)
    candidates = repository.open_cases_near(session, since, points, margin_deg=margin_deg)
    for code, rows in candidates.items():
        positions = by_class[code]
        hits = nearest_within(
            rows[:, 1],
            rows[:, 2],
            np.fromiter((valid[p].event.location.lon for p in positions), float, len(positions)),
            np.fromiter((valid[p].event.location.lat for p in positions), float, len(positions)),
            klasses[code].merge_radius_m,
        )
        ids = rows[:, 0].astype(np.int64)
        for pos, hit in zip(positions, hits.tolist(), strict=True):
            if hit >= 0:
                hit_ids[pos] = int(ids[hit])
    return _targets(session, found, hit_ids)


def _targets(
    session: Session, found: list[_Target | None], hit_ids: dict[int, int]
) -> list[_Target | None]:
    # The state each joined case is in, for the results: read for the few cases joined
    # rather than for every candidate.
    if not hit_ids:
        return found
    states = repository.states_of(session, sorted(set(hit_ids.values())))
    targets: dict[int, _Target] = {}  # one per case, however many signals join it
    for pos, case_id in hit_ids.items():
        target = targets.get(case_id)
        if target is None:
            target = targets[case_id] = _Target(case_id, states[case_id])
        found[pos] = target
    return found


def _earlier_neighbours(
    env: IntakeEnv, valid: Sequence[Signal], existing: Sequence[_Target | None]
) -> dict[int, list[int]]:
    """For each signal that may open a case, the earlier signals of the batch within its
    class's merge radius that may have opened one, nearest first.

    Intake then walks the batch in order: a signal joins the nearest earlier one that did
    open a case, so several reports of one problem in one batch make one case.
    """
    by_class: dict[str, list[int]] = defaultdict(list)
    for pos, s in enumerate(valid):
        if s.event.class_code is not None and existing[pos] is None:
            by_class[s.event.class_code].append(pos)
    nearby: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for code, positions in by_class.items():
        if len(positions) < 2:
            continue
        later, earlier, metres = earlier_within(
            np.fromiter((valid[p].event.location.lon for p in positions), float, len(positions)),
            np.fromiter((valid[p].event.location.lat for p in positions), float, len(positions)),
            env.snapshot.classes[code].merge_radius_m,
        )
        for j, i, d in zip(later.tolist(), earlier.tolist(), metres.tolist(), strict=True):
            if not valid[positions[j]].event.self_handled:
                nearby[positions[j]].append((d, positions[i]))
    return {pos: [i for _, i in sorted(pairs)] for pos, pairs in nearby.items()}


def _may_dispatch_to_worker(env: IntakeEnv, s: Signal) -> bool:
    ev = s.event
    if ev.class_code is None or ev.self_handled:
        return False
    rule = env.rule(ev.class_code, ev.kind.value, s.source, ev.confidence)
    return (
        rule is not None and rule.auto_dispatch and rule.dispatch_to == DispatchTarget.GRID_WORKER
    )


def _open_case(
    env: IntakeEnv,
    s: Signal,
    grid: str | None,
    workers: dict[str, tuple[int, str]],
    street_offices: dict[str, int],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The row of a new case and its steps: report, then whatever automation may do."""
    ev, now, snapshot = s.event, env.now, env.snapshot
    code = ev.class_code
    klass = snapshot.classes[code] if code else None
    staff = ev.kind in STAFF_KINDS
    region_code = grid or env.district_code
    state = State.REPORTED
    row: dict[str, Any] = {
        "class_code": code,
        "family": klass.family if klass else "",
        "urgency": klass.urgency if klass else "normal",
        "state": state.value,
        "description": ev.description,
        "address": ev.address,
        "lon": ev.location.lon,
        "lat": ev.location.lat,
        "grid_code": grid,
        "region_code": region_code,
        "needs_placement": grid is None,
        "source_kind": ev.kind.value,
        "source": s.source,
        "reporter_id": s.reporter_id,
        "needs_verification": not staff,
        "verified": None,
        "self_handled": False,
        "department_id": None,
        "assignee_id": None,
        "pending_request": None,
        "signal_count": 1,
        "rework_count": 0,
        "extension_count": 0,
        "return_count": 0,
        "created_at": now,
        "reported_at": ev.occurred_at,
        "filed_at": None,
        "dispatched_at": None,
        "signed_for_at": None,
        "handle_due_at": None,
        "handled_at": None,
        "closed_at": None,
        "stage_started_at": now,
        "stage_due_at": None,
        "overdue": False,
        "escalated_at": None,
        "evaluation": None,
        "updated_at": now,
        "version": 1,
    }
    steps = [
        _step(seq=1, action=Action.REPORT, from_state=None, to_state=state, at=now,
              actor_id=s.reporter_id, actor_name=s.reporter_name, actor_role=s.reporter_role,
              data={"source": s.source, "external_id": ev.external_id},
              note=ev.description[:200])
    ]  # fmt: skip

    def advance(action: Action, to: State, rule: str | None, **data: Any) -> None:
        nonlocal state
        due = row["stage_due_at"]
        steps.append(_step(
            seq=len(steps) + 1, action=action, from_state=state, to_state=to, at=now,
            actor_id=None if rule else s.reporter_id,
            actor_name="系统" if rule else s.reporter_name,
            actor_role="system" if rule else s.reporter_role,
            rule=rule, department_id=data.get("department_id"), stage_due_at=due,
            on_time=None if due is None else now <= due, data=data,
        ))  # fmt: skip
        state = to
        row["state"] = to.value
        row["stage_started_at"] = now
        if to is not State.HANDLING:
            row["stage_due_at"] = env.stage_due(code, to)

    row["stage_due_at"] = env.stage_due(code, state)
    if ev.self_handled and staff:
        row["self_handled"] = True
        row["verified"] = True
        advance(Action.SELF_HANDLE, State.CHECKED, None)
        return row, steps

    rule = env.rule(code, ev.kind.value, s.source, ev.confidence)
    if rule is None or klass is None:
        return row, steps
    if rule.auto_accept:
        row["needs_verification"] = False
        advance(Action.ACCEPT, State.ACCEPTED, rule.name)
    else:
        return row, steps
    if rule.auto_file:
        row["filed_at"] = now
        advance(Action.FILE, State.FILED, rule.name)
    else:
        return row, steps
    if not rule.auto_dispatch:
        return row, steps
    worker = workers.get(grid) if grid else None
    department_id: int | None = None
    assignee: int | None = None
    if rule.dispatch_to == DispatchTarget.GRID_WORKER and worker is not None:
        assignee = worker[0]
        department_id = street_offices.get(region_code[: CODE_LENGTH[RegionLevel.STREET]])
    elif s.department_id is not None:
        department_id = s.department_id
    elif klass.department_code and klass.department_code in snapshot.department_ids:
        department_id = snapshot.department_ids[klass.department_code]
    if department_id is None and assignee is None:
        return row, steps  # nobody to send it to: a dispatcher decides
    row["department_id"] = department_id
    row["assignee_id"] = assignee
    row["dispatched_at"] = now
    due = env.stage_due(klass.code, State.HANDLING)
    row["handle_due_at"] = due
    advance(Action.DISPATCH, State.HANDLING, rule.name, department_id=department_id,
            assignee_id=assignee)  # fmt: skip
    row["stage_due_at"] = due
    return row, steps


def _repeat(index: int, first: repository.RecordedEvent) -> EventResult:
    return EventResult(
        index=index,
        status="merged" if first.outcome == "merged" else "created",
        duplicate=True,
        event_id=first.id,
        case_id=first.case_id,
        case_state=first.case_state,
        grid_code=first.grid_code,
        needs_placement=first.grid_code is None,
    )


def _ordered(
    results: dict[int, EventResult], signals: Sequence[Signal], repeats: dict[int, int]
) -> list[EventResult]:
    """Results in the order sent; a key repeated within the batch gets its first's result."""
    for index, first in repeats.items():
        results[index] = results[first].model_copy(update={"index": index, "duplicate": True})
    return [results[s.index] for s in signals]
