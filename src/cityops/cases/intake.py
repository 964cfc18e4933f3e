"""Intake: signals become new cases or join an open case of the same problem.

Built for batches: one query finds repeats, one finds merge candidates, one finds who is on
duty, and new rows go in with multi-row INSERTs. A single event takes the same path.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cityops.cases import repository
from cityops.cases.events import CaseMerged, CaseOpened, CaseTransitioned
from cityops.cases.models import Case, CaseStep
from cityops.cases.sla import handling_due, stage_due
from cityops.cases.workflow import Action, State
from cityops.catalog.models import DispatchTarget
from cityops.catalog.service import CatalogSnapshot, match_rule
from cityops.geo.index import GridIndex
from cityops.ingest.models import SourceEvent
from cityops.ingest.schemas import STAFF_KINDS, EventIn, EventResult
from cityops.kit.bulk import add_to_counts, allocate_ids, insert_rows
from cityops.kit.bus import collect
from cityops.worktime.service import WorkCalendar

METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON_EQUATOR = 111_320.0
# Merge candidates are bucketed in cells of this many degrees (about 55 m north-south); a
# class's merge radius larger than one cell widens the neighbourhood searched.
CELL_DEG = 0.0005


@dataclass(frozen=True)
class Signal:
    """A validated event ready for intake, with who sent it."""

    index: int
    event: EventIn
    source: str
    reporter_id: int | None
    reporter_name: str
    reporter_role: str


@dataclass
class IntakeEnv:
    """The reference data intake reads, loaded once per batch (or cached per process)."""

    snapshot: CatalogSnapshot
    grids: GridIndex
    calendar: WorkCalendar
    district_code: str
    now: datetime


@dataclass(slots=True)
class _Candidate:
    case_id: int | None  # None until the new case of this batch is inserted
    class_code: str
    lon: float
    lat: float
    state: str
    new_index: int | None = None  # position in the batch's new cases


_CELLS_PER_DEG = 1 / CELL_DEG


@dataclass
class _MergeIndex:
    """Open cases bucketed by class and cell, for nearest-within-radius lookups."""

    cells: dict[tuple[str, int, int], list[_Candidate]] = field(default_factory=dict)
    class_codes: set[str] = field(default_factory=set)

    def add(self, c: _Candidate) -> None:
        self.class_codes.add(c.class_code)
        key = (c.class_code, math.floor(c.lon * _CELLS_PER_DEG),
               math.floor(c.lat * _CELLS_PER_DEG))  # fmt: skip
        bucket = self.cells.get(key)
        if bucket is None:
            self.cells[key] = [c]
        else:
            bucket.append(c)

    def nearest(
        self, class_code: str, lon: float, lat: float, radius_m: float
    ) -> _Candidate | None:
        """The closest candidate within `radius_m`, if any.

        Every candidate is recent enough: the open cases were read within their class's
        merge window, and the cases this batch opens are opened now.

        Within a merge radius (metres to hundreds of metres) the plane approximation
        differs from the great circle by far less than a GPS fix's error, and is several
        times cheaper; this runs once per event of a 20,000-event batch.
        """
        if class_code not in self.class_codes:
            return None  # no open case of the class anywhere near the batch
        m_per_lon = METRES_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))
        reach_x = max(1, math.ceil(radius_m / m_per_lon / CELL_DEG))
        reach_y = max(1, math.ceil(radius_m / METRES_PER_DEG_LAT / CELL_DEG))
        cx, cy = math.floor(lon * _CELLS_PER_DEG), math.floor(lat * _CELLS_PER_DEG)
        best: _Candidate | None = None
        best_d2 = radius_m * radius_m
        cells = self.cells
        for dx in range(-reach_x, reach_x + 1):
            for dy in range(-reach_y, reach_y + 1):
                for c in cells.get((class_code, cx + dx, cy + dy), ()):
                    ex = (c.lon - lon) * m_per_lon
                    ey = (c.lat - lat) * METRES_PER_DEG_LAT
                    d2 = ex * ex + ey * ey
                    if d2 <= best_d2:
                        best, best_d2 = c, d2
        return best


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
    classes = {s.event.class_code for s in valid if s.event.class_code}
    merge_index = _MergeIndex()
    if classes:
        klasses = [env.snapshot.classes[c] for c in classes]
        since = {k.code: now - timedelta(minutes=k.merge_window_minutes) for k in klasses}
        points = [(s.event.class_code, s.event.location.lon, s.event.location.lat)
                  for s in valid if s.event.class_code and not s.event.self_handled]  # fmt: skip
        # A degree of longitude shrinks away from the equator: size the margin for the
        # point farthest from it (capped, so that the polar regions stay finite).
        widest = max((abs(lat) for _, _, lat in points), default=0.0)
        m_per_deg = METRES_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(widest)), 0.05)
        margin_deg = max(k.merge_radius_m for k in klasses) / m_per_deg
        for hit in repository.open_cases_near(session, since, points, margin_deg=margin_deg):
            merge_index.add(_Candidate(*hit))
    # Who is on duty matters only where a rule may dispatch to the grid worker.
    wanted = {
        grid
        for s, grid in zip(valid, grid_codes, strict=True)
        if grid and _may_dispatch_to_worker(env, s)
    }
    workers = repository.grid_workers_on_duty(session, wanted, at=now) if wanted else {}
    street_offices = env.snapshot.street_offices

    new_cases: list[dict[str, Any]] = []
    new_steps: list[list[dict[str, Any]]] = []
    new_events: list[dict[str, Any]] = []
    event_case: list[tuple[int, _Candidate]] = []  # (position in new_events, target)
    merges: dict[int, int] = defaultdict(int)

    for s, grid in zip(valid, grid_codes, strict=True):
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
        target = None
        if code is not None and not ev.self_handled:
            klass = env.snapshot.classes[code]
            target = merge_index.nearest(code, lon, lat, klass.merge_radius_m)
        if target is not None:
            event_row["outcome"] = "merged"
            new_events.append(event_row)
            event_case.append((len(new_events) - 1, target))
            if target.case_id is not None:
                merges[target.case_id] += 1
            else:
                assert target.new_index is not None
                new_cases[target.new_index]["signal_count"] += 1
            results[s.index] = EventResult(
                index=s.index, status="merged", case_state=target.state, grid_code=grid,
                needs_placement=grid is None,
            )  # fmt: skip
            continue

        case_row, steps = _open_case(env, s, grid, workers, street_offices)
        new_cases.append(case_row)
        new_steps.append(steps)
        cand = _Candidate(None, code or "", lon, lat, case_row["state"],
                          new_index=len(new_cases) - 1)  # fmt: skip
        if code is not None:
            merge_index.add(cand)
        event_row["outcome"] = "opened"
        new_events.append(event_row)
        event_case.append((len(new_events) - 1, cand))
        results[s.index] = EventResult(
            index=s.index, status="created", case_state=case_row["state"], grid_code=grid,
            needs_placement=grid is None,
        )  # fmt: skip

    # 4. Write: ids first (so rows link without RETURNING), then one executemany a table.
    case_ids = allocate_ids(session, Case, len(new_cases))
    for case_id, row in zip(case_ids, new_cases, strict=True):
        row["id"] = case_id
    step_rows = [st for steps in new_steps for st in steps]
    step_ids = allocate_ids(session, CaseStep, len(step_rows))
    for case_id, steps in zip(case_ids, new_steps, strict=True):
        for st in steps:
            st["case_id"] = case_id
    for step_id, st in zip(step_ids, step_rows, strict=True):
        st["id"] = step_id
    event_ids = allocate_ids(session, SourceEvent, len(new_events))
    for event_id, (pos, cand) in zip(event_ids, event_case, strict=True):
        if cand.case_id is None and cand.new_index is not None:
            cand.case_id = case_ids[cand.new_index]
        new_events[pos]["case_id"] = cand.case_id
        new_events[pos]["id"] = event_id
    insert_rows(session, Case, new_cases)
    insert_rows(session, CaseStep, step_rows)
    insert_rows(session, SourceEvent, new_events)
    add_to_counts(session, Case, merges, column="signal_count", now=now)

    # 5. Results and events for after the commit.
    for pos, s in enumerate(valid):  # one event row per valid signal, in order
        r = results[s.index]
        r.event_id = event_ids[pos]
        r.case_id = new_events[pos]["case_id"]
        if r.status == "merged":
            collect(session, CaseMerged(r.case_id or 0, r.event_id))
    step_iter = iter(step_ids)
    for case_id, row, steps in zip(case_ids, new_cases, new_steps, strict=True):
        collect(session, CaseOpened(case_id, row["class_code"], row["region_code"], row["state"]))
        for st in steps:
            collect(session, CaseTransitioned(
                case_id, next(step_iter), st["action"], st["from_state"], st["to_state"],
                row["region_code"], row["department_id"], row["assignee_id"],
            ))  # fmt: skip
    return _ordered(results, signals, repeated_in_batch)


def _may_dispatch_to_worker(env: IntakeEnv, s: Signal) -> bool:
    ev = s.event
    if ev.class_code is None or ev.self_handled:
        return False
    rule = match_rule(env.snapshot.rules, ev.class_code, ev.kind.value, s.source, ev.confidence)
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
    ev, now, snapshot, calendar = s.event, env.now, env.snapshot, env.calendar
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
            row["stage_due_at"] = stage_due(snapshot, calendar, code, to, now)

    row["stage_due_at"] = stage_due(snapshot, calendar, code, state, now)
    if ev.self_handled and staff:
        row["self_handled"] = True
        row["verified"] = True
        advance(Action.SELF_HANDLE, State.CHECKED, None)
        return row, steps

    rule = match_rule(snapshot.rules, code, ev.kind.value, s.source, ev.confidence)
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
        department_id = street_offices.get(region_code[:9])
    elif klass.department_code and klass.department_code in snapshot.department_ids:
        department_id = snapshot.department_ids[klass.department_code]
    if department_id is None and assignee is None:
        return row, steps  # nobody to send it to: a dispatcher decides
    row["department_id"] = department_id
    row["assignee_id"] = assignee
    row["dispatched_at"] = now
    due = handling_due(snapshot, calendar, klass.code, now)
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
