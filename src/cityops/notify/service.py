"""Frames: what a connected client is told when cases change, built from committed rows.

A frame carries a case as the API shows it (`CaseRead`), the actions taken on it in the
transaction that changed it, and the id of the last of those steps. Step ids grow with
every step, so the id is also the cursor a client resumes from: after a reconnect it is
sent what changed after the last frame it saw. A frame says where the case stands now,
so applying one twice, or an older one after a newer one, changes nothing a client keeps
(the client keeps the newest id per case).

Alarm frames (`type: alarm`) go through the same hub to the people who may see the
device. An alarm is not a step, so its frame has no id: a client's resume cursor stays
where the case frames left it, and a client that reconnects reloads its alarms instead
of being sent what it missed.

Detection frames (`type: detection`) are the video wall's: each detection a camera's
analytics sent, as the API shows it, with its verdict in each zone. Like alarm frames they
have no id; unlike them they go only to those who may see the camera, the centre's staff
of its scope, never to a field worker's phone or a department.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseStep
from cityops.cases.service import CaseEnv, facts_of, to_read, visible_to
from cityops.cases.workflow import ADMIN, GRID_WORKER, Actor, CaseFacts, State, can_see, in_region
from cityops.org.models import CODE_LENGTH, RegionLevel
from cityops.sensing.events import AlarmChanged
from cityops.sensing.models import Alarm
from cityops.sensing.repository import alarm_reads, open_alarm_summaries
from cityops.video.events import DetectionRecorded
from cityops.video.repository import VIDEO_ROLES, recorded_read

# Reading many cases at a time, this many per query.
CHUNK = 500
# On PostgreSQL, step ids are drawn when a transaction writes and become visible when it
# commits, so a step can turn up after steps with higher ids. A client resuming from id N
# is therefore also sent the cases changed a little before step N was taken. (SQLite has
# one writer at a time: its ids are in commit order.)
RESUME_OVERLAP = timedelta(seconds=30)
# A client away for longer than this many changed cases is told to reload its lists
# rather than sent every one.
RESUME_LIMIT = 500
DESCRIPTION_CHARS = 300
# Reload frames are per street: a street code is a region code cut to this length.
STREET_CODE_LENGTH = CODE_LENGTH[RegionLevel.STREET]


# The hub's id of an alarm frame: below every step id, so it moves no cursor.
ALARM_FRAME_ID = 0
# The case id of a detection frame, which no case has. The hub carries a frame between
# processes as its ids, its facts and its JSON, nothing more: this is what tells every
# process to route the frame as a camera's (`sees_camera`), not as a case's.
DETECTION_FRAME_CASE = -1

# Built once: it runs on every commit that changes cases, often for a single case.
_CASES_BY_ID = select(Case).where(Case.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Change:
    """A step taken on a case, as the bus reports it after the commit."""

    case_id: int
    step_id: int
    action: str


@dataclass(frozen=True, slots=True)
class Frame:
    """One case's change (or an alarm's, with id and case_id 0, or a detection's, with id 0
    and case_id `DETECTION_FRAME_CASE`), encoded once for every client allowed to see it."""

    id: int
    case_id: int
    facts: CaseFacts
    data: bytes

    def visible_to(self, actor: Actor) -> bool:
        if self.case_id == DETECTION_FRAME_CASE:
            return sees_camera(actor, self.facts)
        return receives(actor, self.facts)


def receives(actor: Actor, facts: CaseFacts) -> bool:
    """Whether `actor` is told of changes to a case: what the API lets them see, except that
    a grid worker's phone rings only for their own tasks (assigned to them, or reported by
    them), not for every case of the community they may look up."""
    if actor.roles and actor.roles <= {GRID_WORKER}:
        return actor.id is not None and actor.id in (facts.assignee_id, facts.reporter_id)
    return can_see(actor, facts)


def sees_camera(actor: Actor, facts: CaseFacts) -> bool:
    """Whether `actor` is told of a camera's detections: who may see the camera
    (`video.repository.visible_cameras`), that is admins and the centre's staff whose scope
    holds its grid (`camera_facts` makes a camera in no grid the district's, which only a
    scope of the whole district holds). Not its owner department, and never a field
    worker, whatever their scope: they get the cases, not the cameras."""
    if actor.is_system or ADMIN in actor.roles:
        return True
    return bool(actor.roles & VIDEO_ROLES) and in_region(actor, facts.region_code)


def reload_frame(last_id: int) -> bytes:
    """Tells a client that it missed too much to be told case by case: reload the lists."""
    return orjson.dumps({"type": "reload", "id": last_id})


def frames_for(
    session: Session, env: CaseEnv, changes: Iterable[Change], *, detail_limit: int | None = None
) -> list[Frame]:
    """One frame per changed case, in the order of each case's last step.

    Past `detail_limit` changed cases (a bulk import, a camera gateway's backlog), only the
    cases sent to a department or a person get a frame of their own, because someone must
    act on each; the others are summed up in one `reload` frame per street, which tells
    the consoles there to reload their lists rather than redraw them thousands of times.
    """
    actions: dict[int, list[str]] = {}
    last: dict[int, int] = {}
    for change in sorted(changes, key=lambda c: c.step_id):
        actions.setdefault(change.case_id, []).append(change.action)
        last[change.case_id] = change.step_id
    if detail_limit is None or len(last) <= detail_limit:
        return _frames(session, env, last, actions)
    ids = sorted(last)
    detailed: dict[int, int] = {}
    streets: dict[str, tuple[int, int]] = {}  # street → (last step id, cases)
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Case.id, Case.region_code, Case.department_id, Case.assignee_id).where(
                Case.id.in_(ids[i : i + CHUNK])
            )
        )
        for case_id, region, department_id, assignee_id in rows:
            if department_id is not None or assignee_id is not None:
                detailed[case_id] = last[case_id]
                continue
            street = region[:STREET_CODE_LENGTH]
            top, count = streets.get(street, (0, 0))
            streets[street] = (max(top, last[case_id]), count + 1)
    frames = _frames(session, env, detailed, actions)
    for street, (top, count) in sorted(streets.items()):
        data = orjson.dumps({"type": "reload", "id": top, "region_code": street, "count": count})
        facts = CaseFacts(state=State.REPORTED, region_code=street)
        frames.append(Frame(top, 0, facts, data))
    return frames


def frames_since(
    session: Session, env: CaseEnv, actor: Actor, after_id: int
) -> tuple[list[Frame], bool]:
    """What `actor` missed after step `after_id`: frames of the cases they may see that
    changed since, and whether there were more than `RESUME_LIMIT` of them (the client
    should then reload instead)."""
    taken_at = session.scalar(select(CaseStep.at).where(CaseStep.id == after_id))
    query = select(CaseStep.case_id, CaseStep.id, CaseStep.action).join(
        Case, Case.id == CaseStep.case_id
    )
    overlap = session.get_bind().dialect.name == "postgresql"
    if taken_at is None or not overlap:  # SQLite's ids are in commit order
        query = query.where(CaseStep.id > after_id)
    else:
        query = query.where(
            (CaseStep.id > after_id) | (CaseStep.at >= taken_at - RESUME_OVERLAP),
            CaseStep.id != after_id,
        )
    query = query.where(visible_to(actor))
    if actor.roles and actor.roles <= {GRID_WORKER}:  # as `receives` decides
        query = query.where((Case.assignee_id == actor.id) | (Case.reporter_id == actor.id))
    rows = session.execute(query.order_by(CaseStep.id).limit(RESUME_LIMIT * 8 + 1)).all()
    changes = [Change(case_id, step_id, action) for case_id, step_id, action in rows]
    if len({c.case_id for c in changes}) > RESUME_LIMIT or len(rows) > RESUME_LIMIT * 8:
        return [], True
    return frames_for(session, env, changes), False


def _frames(
    session: Session, env: CaseEnv, last: dict[int, int], actions: dict[int, list[str]]
) -> list[Frame]:
    ids = sorted(last)
    cases: dict[int, Case] = {}
    for i in range(0, len(ids), CHUNK):
        for row in session.scalars(_CASES_BY_ID, {"ids": ids[i : i + CHUNK]}):
            cases[row.id] = row
    frames = []
    for case_id in sorted(last, key=last.__getitem__):
        found = cases.get(case_id)
        if found is None:
            continue
        case = to_read(env, found).model_dump(mode="json")
        # A frame stays small (a PostgreSQL notification holds 8,000 bytes); the whole
        # text is in the case's detail.
        case["description"] = case["description"][:DESCRIPTION_CHARS]
        body = {"type": "case", "id": last[case_id], "actions": actions[case_id], "case": case}
        frames.append(Frame(last[case_id], case_id, facts_of(found), orjson.dumps(body)))
    return frames


def alarm_facts(grid_code: str | None, department_id: int | None, district_code: str) -> CaseFacts:
    """Who is told of a device's alarms, in the terms the hub routes by: the people who
    may see the device (`sensing.repository.visible_devices`), that is its owner department,
    and those whose scope holds its grid; a device with no grid is the district's."""
    return CaseFacts(
        state=State.REPORTED, region_code=grid_code or district_code, department_id=department_id
    )


def alarm_frames(
    session: Session,
    changes: Iterable[AlarmChanged],
    *,
    district_code: str,
    detail_limit: int | None = None,
) -> list[Frame]:
    """One frame per changed alarm, in the order the alarms first changed: the alarm as the
    API shows it (`AlarmRead`), what happened to it in the transaction, and its device's
    open alarms after it (what colours the device on a map).

    Past `detail_limit` changed alarms (a gateway's devices all going silent at once), one
    `reload` alarm frame per grid and owner department tells the pages there to reload
    their alarms rather than redraw them thousands of times.
    """
    what: dict[int, list[str]] = {}
    last: dict[int, AlarmChanged] = {}
    for change in changes:
        what.setdefault(change.alarm_id, []).append(change.change)
        last[change.alarm_id] = change
    if detail_limit is not None and len(last) > detail_limit:
        return _alarm_reloads(last.values(), district_code)
    rows: list[Alarm] = []
    ids = list(last)
    for i in range(0, len(ids), CHUNK):
        # The committing transaction changed some of these rows with UPDATE statements:
        # read them afresh rather than trust the copies the session holds.
        query = select(Alarm).where(Alarm.id.in_(ids[i : i + CHUNK]))
        rows.extend(session.scalars(query.execution_options(populate_existing=True)))
    reads = {a.id: a for a in alarm_reads(session, rows)}
    summaries = open_alarm_summaries(session, {c.device_id for c in last.values()})
    frames = []
    for alarm_id, change in last.items():
        read = reads.get(alarm_id)
        if read is None:
            continue
        summary = summaries.get(change.device_id)
        device = {
            "id": change.device_id,
            "open_alarms": summary.open_alarms if summary else 0,
            "alarm_severity": summary.alarm_severity if summary else None,
            "fault": summary.fault if summary else False,
        }
        body = {"type": "alarm", "changes": what[alarm_id],
                "alarm": read.model_dump(mode="json"), "device": device}  # fmt: skip
        facts = alarm_facts(change.grid_code, change.department_id, district_code)
        frames.append(Frame(ALARM_FRAME_ID, 0, facts, orjson.dumps(body)))
    return frames


def _alarm_reloads(changes: Iterable[AlarmChanged], district_code: str) -> list[Frame]:
    # Per grid (not per street as for cases) and owner department: the frame reaches exactly
    # the people who may see those devices, grid inspectors included; a district has only
    # so many grids, however many alarms change.
    groups: dict[tuple[str, int], int] = {}
    for c in changes:
        key = (c.grid_code or district_code, c.department_id or 0)
        groups[key] = groups.get(key, 0) + 1
    frames = []
    for (region, department_id), count in sorted(groups.items()):
        body = {"type": "alarm", "reload": True, "region_code": region, "count": count}
        facts = alarm_facts(region, department_id or None, district_code)
        frames.append(Frame(ALARM_FRAME_ID, 0, facts, orjson.dumps(body)))
    return frames


def camera_facts(grid_code: str | None, district_code: str) -> CaseFacts:
    """Who is told of a camera's detections, in the terms the hub routes by: those whose
    scope holds its grid (`sees_camera` narrows them to the centre's staff). No department:
    the hub would otherwise offer the frame to the owner department's handlers."""
    return CaseFacts(state=State.REPORTED, region_code=grid_code or district_code)


def detection_frames(
    recorded: Iterable[DetectionRecorded],
    *,
    district_code: str,
    detail_limit: int | None = None,
) -> list[Frame]:
    """One frame per detection taken in, in the order they were judged: the detection as
    the API shows it (`DetectionRead`, its verdict in each zone included) and its camera.

    Past `detail_limit` detections (a gateway sending its backlog), one summary frame per
    camera instead: how many, their verdicts counted, the latest time and whether a
    snapshot came, with `reload: true`, which tells the wall to reload that camera's
    detections rather than draw hundreds of rows one by one.
    """
    events = list(recorded)
    if detail_limit is not None and len(events) > detail_limit:
        return _detection_summaries(events, district_code)
    frames = []
    for event in events:
        camera = {"id": event.camera_id, "code": event.camera_code}
        # The event carries the row as it was inserted (and it is never updated).
        detection = recorded_read(event).model_dump(mode="json")
        body = {"type": "detection", "camera": camera, "detection": detection}
        facts = camera_facts(event.grid_code, district_code)
        frames.append(Frame(ALARM_FRAME_ID, DETECTION_FRAME_CASE, facts, orjson.dumps(body)))
    return frames


def _detection_summaries(events: list[DetectionRecorded], district_code: str) -> list[Frame]:
    cameras: dict[int, list[DetectionRecorded]] = {}
    for event in events:
        cameras.setdefault(event.camera_id, []).append(event)
    frames = []
    for camera_id, taken in sorted(cameras.items()):
        verdicts: dict[str, int] = {}
        for event in taken:
            for verdict in event.verdicts:
                verdicts[verdict["verdict"]] = verdicts.get(verdict["verdict"], 0) + 1
        first = taken[0]
        body = {
            "type": "detection", "reload": True,
            "camera": {"id": camera_id, "code": first.camera_code},
            "count": len(taken), "verdicts": dict(sorted(verdicts.items())),
            "latest": max(e.time for e in taken).isoformat(),
            "has_snapshot": any(e.has_snapshot for e in taken),
        }  # fmt: skip
        facts = camera_facts(first.grid_code, district_code)
        frames.append(Frame(ALARM_FRAME_ID, DETECTION_FRAME_CASE, facts, orjson.dumps(body)))
    return frames
