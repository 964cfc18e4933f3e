"""Case use cases: act on a case, read it, list and search, attach photos, sweep deadlines.

Services take the session first and keyword arguments after; they flush, never commit,
and queue events that the edge publishes after its commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases import repository, suggest
from cityops.cases.events import CaseEscalated, CaseTransitioned
from cityops.cases.models import Case, CaseAttachment, CaseStep
from cityops.cases.schemas import (
    ActionRequest,
    AttachmentRead,
    CaseDetail,
    CaseFilter,
    CaseRead,
    StepRead,
    SuggestionRead,
)
from cityops.cases.sla import CONTINUING, STAGE_OF_STATE, handling_due, stage_due, stage_name
from cityops.cases.workflow import (
    ACTION_NAMES_ZH,
    ADMIN,
    CENTRE_ROLES,
    DEPARTMENT_HANDLER,
    FIELD_ROLES,
    GRID_WORKER,
    Action,
    Actor,
    CaseFacts,
    IllegalTransition,
    State,
    allowed_actions,
    can_see,
    plan,
)
from cityops.catalog.models import TimeUnit
from cityops.catalog.service import CatalogSnapshot
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound
from cityops.kit.bus import collect
from cityops.kit.pagination import PageParams, paginate
from cityops.kit.storage import BlobStorage, StoredBlob, new_key
from cityops.org.models import Department, Person
from cityops.worktime.service import WorkCalendar


@dataclass
class CaseEnv:
    """Reference data and the time that case use cases read."""

    snapshot: CatalogSnapshot
    calendar: WorkCalendar
    now: datetime


def facts_of(case: Case) -> CaseFacts:
    pending = case.pending_request.get("kind") if case.pending_request else None
    return CaseFacts(
        state=State(case.state),
        region_code=case.region_code,
        department_id=case.department_id,
        assignee_id=case.assignee_id,
        reporter_id=case.reporter_id,
        needs_verification=case.needs_verification,
        verified=case.verified,
        pending_request=pending,
        has_class=case.class_code is not None,
        signed_for=case.signed_for_at is not None,
    )


def get_visible(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if `actor` may see it; NotFound otherwise (existence is not disclosed)."""
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, facts_of(case)):
        raise NotFound(f"case {case_id} not found")
    return case


def _stage_unit(env: CaseEnv, case: Case) -> TimeUnit:
    state = State(case.state)
    if state is State.HANDLING and case.class_code in env.snapshot.classes:
        return TimeUnit(env.snapshot.classes[case.class_code].limit_unit)
    stage = STAGE_OF_STATE.get(state)
    limit = env.snapshot.stage_limit(stage, case.class_code) if stage else None
    return TimeUnit(limit.unit) if limit else TimeUnit.NATURAL_HOURS


def to_read(env: CaseEnv, case: Case) -> CaseRead:
    read = CaseRead.model_validate(case)
    klass = env.snapshot.classes.get(case.class_code or "")
    light, used = (None, None)
    if case.stage_due_at is not None and State(case.state) not in (
        State.DEFERRED, State.CLOSED, State.EVALUATED, State.CANCELLED
    ):  # fmt: skip
        light, used = env.calendar.traffic_light(
            case.stage_started_at, case.stage_due_at, env.now, _stage_unit(env, case)
        )
    return read.model_copy(
        update={
            "class_name": klass.name if klass else None,
            "stage": stage_name(State(case.state)),
            "light": light,
            "used": used,
        }
    )


def detail(
    session: Session, env: CaseEnv, actor: Actor, case_id: int, storage_url: str
) -> CaseDetail:
    """A case with its steps, attachments and what `actor` may do next."""
    case = get_visible(session, actor, case_id)
    base = to_read(env, case)
    steps = [
        StepRead.model_validate(s).model_copy(
            update={"action_name": ACTION_NAMES_ZH.get(Action(s.action), s.action)}
        )
        for s in repository.steps_of(session, case_id)
    ]
    attachments = [
        attachment_read(a, storage_url.format(case_id=case_id, attachment_id=a.id))
        for a in repository.attachments_of(session, case_id)
    ]
    department = session.get(Department, case.department_id) if case.department_id else None
    assignee = session.get(Person, case.assignee_id) if case.assignee_id else None
    return CaseDetail(
        **base.model_dump(),
        department_name=department.name if department else None,
        assignee_name=assignee.name if assignee else None,
        steps=steps,
        attachments=attachments,
        allowed_actions=allowed_actions(facts_of(case), actor),
    )


def visible_to(actor: Actor) -> Any:
    """The WHERE clause of the cases `actor` may see (what `can_see` decides for one)."""
    return repository.visible_filter(
        is_admin=ADMIN in actor.roles or actor.is_system,
        person_id=actor.id,
        scope_code=actor.scope_code,
        department_id=actor.department_id if DEPARTMENT_HANDLER in actor.roles else None,
        region_roles=bool(actor.roles & (CENTRE_ROLES | FIELD_ROLES)),
    )


def list_cases(
    session: Session, env: CaseEnv, actor: Actor, filters: CaseFilter, page: PageParams
) -> tuple[list[CaseRead], int]:
    """The cases `actor` may see that match `filters`, newest first."""
    query = repository.apply_filters(
        select(Case).where(visible_to(actor)), **filters.model_dump(exclude_none=True)
    ).order_by(Case.created_at.desc(), Case.id.desc())
    rows, total = paginate(session, query, page)
    return [to_read(env, c) for c in rows], total


def queue_counts(session: Session, actor: Actor, filters: CaseFilter) -> dict[str, int]:
    """The size of each work queue among the open cases `actor` may see."""
    return repository.queue_counts(
        session, visible_to(actor), filters.model_dump(exclude_none=True)
    )


def dispatch_suggestions(
    session: Session, env: CaseEnv, actor: Actor, case_id: int
) -> list[SuggestionRead]:
    """Whom to dispatch the case to, best first (the dispatcher may choose anyone else)."""
    case = get_visible(session, actor, case_id)
    return [
        SuggestionRead.model_validate(s)
        for s in suggest.suggest(session, case, env.snapshot, env.now)
    ]


def act(session: Session, env: CaseEnv, actor: Actor, case_id: int, request: ActionRequest) -> Case:
    """Take an action on a case: check it, apply it, and append the step that records it.

    A request whose `request_key` a step of the case already carries was done before (a
    phone's queue resending it): nothing happens and the case is returned as it is now.
    """
    case = repository.get_for_update(session, case_id)
    if case is None or not can_see(actor, facts_of(case)):
        raise NotFound(f"case {case_id} not found")
    # Before the version and workflow checks: the first request already moved the case.
    if request.request_key is not None and _replayed(session, case, actor, request):
        return case
    if request.expected_version is not None and request.expected_version != case.version:
        raise Conflict(
            f"case {case_id} changed (version {case.version}, you expected "
            f"{request.expected_version}); reload it",
            current_version=case.version,
        )
    decision = plan(facts_of(case), actor, request.action, request.outcome)
    before = {"state": case.state, "department_id": case.department_id,
              "assignee_id": case.assignee_id}  # fmt: skip
    data = _apply(session, env, case, decision.action, request, decision.request_kind, actor)
    _attachments_belong(session, case_id, request.attachment_ids)
    step = _record_step(session, env, case, actor, decision.action, decision.from_state,
                        decision.to_state, request.note, data, request.attachment_ids,
                        request_key=request.request_key)  # fmt: skip
    record_audit_for_actor(session, actor, decision.action.value, case, before, env.now)
    collect(session, CaseTransitioned(case.id, step.id, step.action, step.from_state,
                                      step.to_state, case.region_code, case.department_id,
                                      case.assignee_id))  # fmt: skip
    return case


def _replayed(session: Session, case: Case, actor: Actor, request: ActionRequest) -> bool:
    """Whether `request` repeats the one that took a step of the case under its key.

    A key is the sender's own: someone else's key, or the same key for another action, is
    not a repeat but a client's mistake, and is refused rather than silently ignored.
    """
    key = request.request_key or ""
    earlier = repository.step_with_request_key(session, case.id, key)
    if earlier is None:
        return False
    if earlier.actor_id != actor.id or earlier.action != request.action:
        raise Conflict(
            f"request_key {key!r} was already used on case {case.id} for another request; "
            "make a new key for a new request",
            errors=[FieldProblem("request_key", "already used for another request")],
        )
    return True


def record_audit_for_actor(
    session: Session, actor: Actor, action: str, case: Case, before: dict[str, Any], now: datetime
) -> None:
    after = {"state": case.state, "department_id": case.department_id,
             "assignee_id": case.assignee_id}  # fmt: skip
    record_audit(session, Principal(actor=actor), f"case.{action}", "case", case.id,
                 now=now, before=before, after=after)  # fmt: skip


def _require(value: Any, path: str, message: str) -> None:
    if value is None or value == "":
        raise Invalid(message, errors=[FieldProblem(path, message)])


def _apply(
    session: Session,
    env: CaseEnv,
    case: Case,
    action: Action,
    req: ActionRequest,
    request_kind: str | None,
    actor: Actor,
) -> dict[str, Any]:
    """Change the case's projection for `action`; returns what the step should remember."""
    now = env.now
    data: dict[str, Any] = {}
    if req.outcome:
        data["outcome"] = req.outcome
    if req.location:
        data["location"] = req.location
    # The class is given (or corrected) by whoever reads the report first: the call-taker
    # accepting it or sending it to verify, else the shift leader filing it (a report the
    # classifier was not sure of arrives without one).
    if action in (Action.ACCEPT, Action.SEND_VERIFY, Action.FILE):
        needed = case.class_code is None and action is not Action.SEND_VERIFY
        if req.class_code is not None or needed:
            _require(req.class_code, "class_code", f"give the case's class to {action.value} it")
            code = (req.class_code or "").strip().upper()
            klass = env.snapshot.classes.get(code)
            if klass is None:
                raise Invalid(
                    f"unknown class {code}",
                    errors=[FieldProblem("class_code", "unknown or inactive class")],
                )
            data["class_code"] = {"from": case.class_code, "to": code}
            case.class_code, case.family, case.urgency = code, klass.family, klass.urgency
    if action is Action.VERIFY:
        case.verified = req.outcome == "confirmed"
    elif action is Action.FILE:
        case.filed_at = now
    elif action is Action.CANCEL:
        _require(req.note.strip(), "note", "say why the case is cancelled")
    elif action is Action.DISPATCH:
        data.update(_dispatch(session, env, case, req, now))
    elif action is Action.SIGN_FOR:
        case.signed_for_at = now
    elif request_kind and action.value.startswith("request_"):
        pending: dict[str, Any] = {"kind": request_kind, "by": actor.id, "by_name": actor.name,
                                   "at": now.isoformat(), "note": req.note}  # fmt: skip
        if request_kind == "extension":
            _require(req.extension_value, "extension_value", "how much more time is asked")
            pending["value"] = req.extension_value
            pending["unit"] = req.extension_unit or TimeUnit.WORKING_HOURS.value
        elif not req.note.strip():
            _require(None, "note", f"say why the {request_kind} is asked")
        case.pending_request = pending
        data["request"] = pending
    elif action is Action.APPROVE:
        pending = dict(case.pending_request or {})
        data["request"] = pending
        case.pending_request = None
        if request_kind == "extension" and case.handle_due_at is not None:
            case.handle_due_at = env.calendar.add(
                case.handle_due_at, float(pending["value"]), TimeUnit(pending["unit"])
            )
            case.stage_due_at = case.handle_due_at
            case.overdue = case.handle_due_at < now and case.overdue
            case.extension_count += 1
            data["handle_due_at"] = case.handle_due_at.isoformat()
        elif request_kind == "return":
            data["returned_from"] = {"department_id": case.department_id,
                                     "assignee_id": case.assignee_id}  # fmt: skip
            case.return_count += 1
            case.department_id = None
            case.assignee_id = None
            case.handle_due_at = None
            case.signed_for_at = None
    elif action is Action.REJECT:
        data["request"] = dict(case.pending_request or {})
        case.pending_request = None
    elif action is Action.RESUME:
        case.handle_due_at = handling_due(env.snapshot, env.calendar, case.class_code or "", now)
        case.signed_for_at = None
    elif action is Action.REPORT_HANDLED:
        case.handled_at = now
    elif action is Action.CHECK and req.outcome == "rework":
        case.rework_count += 1
        case.handled_at = None
        case.signed_for_at = None
        case.handle_due_at = handling_due(env.snapshot, env.calendar, case.class_code or "", now)
    elif action is Action.SELF_HANDLE:
        case.self_handled = True
        case.verified = True
        case.handled_at = now
    elif action is Action.CLOSE:
        case.closed_at = now
    elif action is Action.EVALUATE:
        _require(req.score, "score", "give a score from 1 to 5")
        case.evaluation = req.score
        data["score"] = req.score
    elif action is Action.REOPEN:
        # Back to the start of the loop: whoever handles it next is dispatched anew, and it
        # is closed (and evaluated) again at the end.
        data["closed_at"] = case.closed_at.isoformat() if case.closed_at else None
        case.closed_at = None
        case.evaluation = None
        case.handled_at = None
        case.department_id = None
        case.assignee_id = None
        case.signed_for_at = None
        case.handle_due_at = None
    return data


def _dispatch(
    session: Session, env: CaseEnv, case: Case, req: ActionRequest, now: datetime
) -> dict[str, Any]:
    if req.department_id is None and req.assignee_id is None:
        raise Invalid("dispatch to a department or a person", errors=[
            FieldProblem("department_id", "give department_id or assignee_id")])  # fmt: skip
    if req.department_id is not None:
        dept = session.get(Department, req.department_id)
        if dept is None or not dept.active:
            raise Invalid("unknown department", errors=[
                FieldProblem("department_id", "no such active department")])  # fmt: skip
    if req.assignee_id is not None:
        person = session.get(Person, req.assignee_id)
        if (
            person is None
            or not person.active
            or not (set(person.roles) & {GRID_WORKER, DEPARTMENT_HANDLER})
        ):
            raise Invalid("unknown assignee", errors=[FieldProblem(
                "assignee_id", "no such active grid worker or department handler")])  # fmt: skip
        req_dept = person.department_id if req.department_id is None else req.department_id
    else:
        req_dept = req.department_id
    case.department_id = req_dept
    case.assignee_id = req.assignee_id
    case.dispatched_at = now
    case.signed_for_at = None  # the task reaches this handler anew: they sign for it again
    case.handle_due_at = handling_due(env.snapshot, env.calendar, case.class_code or "", now)
    return {"department_id": req_dept, "assignee_id": req.assignee_id,
            "handle_due_at": case.handle_due_at.isoformat()}  # fmt: skip


def _attachments_belong(session: Session, case_id: int, ids: list[int]) -> None:
    if not ids:
        return
    found = set(
        session.scalars(
            select(CaseAttachment.id).where(
                CaseAttachment.case_id == case_id, CaseAttachment.id.in_(ids)
            )
        )
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid("attachments not on this case", errors=[
            FieldProblem(f"attachment_ids.{ids.index(m)}", f"attachment {m} is not on this case")
            for m in missing])  # fmt: skip


def _record_step(
    session: Session,
    env: CaseEnv,
    case: Case,
    actor: Actor,
    action: Action,
    from_state: State,
    to_state: State,
    note: str,
    data: dict[str, Any],
    attachment_ids: list[int],
    *,
    request_key: str | None = None,
) -> CaseStep:
    """Append the step and move the case's stage clock when the stage changes."""
    now = env.now
    stage_ends = to_state is not from_state and (from_state, to_state) not in CONTINUING
    step = _step(case, actor, action, from_state, to_state, now,
                 seq=repository.last_seq(session, case.id) + 1, stage_ends=stage_ends, note=note,
                 data=data, attachment_ids=attachment_ids, request_key=request_key)  # fmt: skip
    session.add(step)
    case.state = to_state.value
    case.updated_at = now
    if stage_ends:
        case.stage_started_at = now
        case.overdue = False
        if to_state is State.HANDLING:
            case.stage_due_at = case.handle_due_at
        else:
            case.stage_due_at = stage_due(env.snapshot, env.calendar, case.class_code, to_state,
                                          now)  # fmt: skip
    session.flush()
    return step


def _step(
    case: Case,
    actor: Actor,
    action: Action,
    from_state: State,
    to_state: State,
    now: datetime,
    *,
    seq: int,
    stage_ends: bool,
    note: str,
    data: dict[str, Any],
    attachment_ids: list[int],
    request_key: str | None = None,
) -> CaseStep:
    """The step row of `action` on the case, numbered `seq`; whether its stage ended on
    time is judged against the stage's deadline as it stood before the step."""
    ends_due = case.stage_due_at
    return CaseStep(
        case_id=case.id,
        seq=seq,
        action=action.value,
        from_state=from_state.value,
        to_state=to_state.value,
        at=now,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role="system" if actor.is_system else _main_role(actor),
        rule=actor.rule,
        department_id=case.department_id,
        stage_due_at=ends_due,
        on_time=(now <= ends_due) if (stage_ends and ends_due is not None) else None,
        note=note,
        data=data,
        attachments=attachment_ids,
        request_key=request_key,
    )


@dataclass(frozen=True)
class Picture:
    """A picture for a note: its bytes, or the blob it is stored as already (a camera's
    snapshot, referenced rather than copied), and a region of it to mark (normalised)."""

    data: bytes | StoredBlob
    filename: str
    content_type: str
    box: list[float] | None = None


@dataclass(frozen=True)
class SystemNote:
    """What the system records on a case (情况记录), with a picture as evidence or none, and
    what the step should remember beside the text (`data`)."""

    case_id: int
    text: str
    picture: Picture | None = None
    data: dict[str, Any] = field(default_factory=dict)


def add_system_notes(
    session: Session,
    env: CaseEnv,
    storage: BlobStorage,
    actor: Actor,
    notes: Sequence[SystemNote],
) -> list[CaseStep]:
    """Take a NOTE step for each note, in order, with its picture attached: what `act` and
    `add_attachment` would write one by one (the attachment, the step, the audit entry,
    the event), in a few statements whatever the number of notes. A note on a case that is
    gone or no longer open (closed meanwhile) is dropped, picture and all. The cases are
    locked in the order of their ids. Returns the steps taken, in order."""
    if not actor.is_system:
        raise ValueError("system notes are taken by the system")
    ids = sorted({n.case_id for n in notes})
    cases = {c.id: c for c in session.scalars(
        select(Case).where(Case.id.in_(ids)).order_by(Case.id).with_for_update(key_share=True)
    )} if ids else {}  # fmt: skip
    taken: list[tuple[SystemNote, Case, CaseAttachment | None]] = []
    for note in notes:
        case = cases.get(note.case_id)
        if case is None:
            continue
        try:
            decision = plan(facts_of(case), actor, Action.NOTE.value)
        except IllegalTransition:
            continue
        assert decision.from_state is decision.to_state  # a note moves nothing
        row = None
        if note.picture is not None:
            picture = note.picture
            blob = picture.data if isinstance(picture.data, StoredBlob) else storage.put(
                new_key(f"cases/{case.id}", picture.filename), picture.data,
                picture.content_type)  # fmt: skip
            row = CaseAttachment(
                case_id=case.id, key=blob.key, filename=picture.filename[:200],
                content_type=picture.content_type, size=blob.size, sha256=blob.sha256,
                uploaded_by=actor.id, uploaded_at=env.now, box=picture.box,
            )  # fmt: skip
            session.add(row)
        taken.append((note, case, row))
    if not taken:
        return []
    session.flush()  # the attachments' ids, for the steps that name them
    seqs = repository.last_seqs(session, {case.id for _, case, _ in taken})
    steps = []
    for note, case, row in taken:
        seqs[case.id] = seq = seqs.get(case.id, 0) + 1
        state = State(case.state)
        step = _step(case, actor, Action.NOTE, state, state, env.now, seq=seq,
                     stage_ends=False, note=note.text[:2000], data=dict(note.data),
                     attachment_ids=[row.id] if row is not None else [])  # fmt: skip
        session.add(step)
        steps.append((case, step))
        case.updated_at = env.now
    session.flush()
    for case, step in steps:
        unchanged = {"state": case.state, "department_id": case.department_id,
                     "assignee_id": case.assignee_id}  # fmt: skip
        record_audit_for_actor(session, actor, Action.NOTE.value, case, unchanged, env.now)
        collect(session, CaseTransitioned(case.id, step.id, step.action, step.from_state,
                                          step.to_state, case.region_code, case.department_id,
                                          case.assignee_id))  # fmt: skip
    return [step for _, step in steps]


ROLE_ORDER = ("shift_leader", "dispatcher", "call_taker", "inspector", "grid_worker",
              "department_handler", "supervisor", "admin")  # fmt: skip


def _main_role(actor: Actor) -> str:
    for role in ROLE_ORDER:
        if role in actor.roles:
            return role
    return next(iter(sorted(actor.roles)), "unknown")


def attachment_read(row: CaseAttachment, url: str) -> AttachmentRead:
    return AttachmentRead(
        id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
        sha256=row.sha256, uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at, url=url,
        box=row.box,
    )  # fmt: skip


def add_attachment(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    case_id: int,
    *,
    filename: str,
    content_type: str,
    data: bytes | StoredBlob,
    now: datetime,
    request_key: str | None = None,
    box: list[float] | None = None,
) -> tuple[CaseAttachment, bool]:
    """Store a photo or document for a case; the step that uses it names its id. `box`
    marks a region of a picture (normalised), drawn when it is shown. A file already in
    storage (a camera's snapshot, stored as it came in) is referenced, not copied.

    Returns the row and whether it was stored now. An upload under an idempotency key the
    uploader has used before was done before (a phone's queue resending it): the stored
    file is returned and the bytes are not stored again.
    """
    get_visible(session, actor, case_id)
    if request_key is not None:
        earlier = repository.attachment_with_request_key(session, actor.id, request_key)
        if earlier is not None:
            return _same_upload(earlier, case_id, request_key), False
    allowed = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf",
               "video/mp4")  # fmt: skip
    if content_type not in allowed:
        raise Invalid(f"files of type {content_type} are not accepted", errors=[
            FieldProblem("file", f"content type must be one of {', '.join(allowed)}")])  # fmt: skip
    if isinstance(data, StoredBlob):
        blob = data
    elif not data:
        raise Invalid("the file is empty", errors=[FieldProblem("file", "empty")])
    else:
        blob = storage.put(new_key(f"cases/{case_id}", filename), data, content_type)
    row = CaseAttachment(
        case_id=case_id, key=blob.key, filename=filename[:200], content_type=content_type,
        size=blob.size, sha256=blob.sha256, uploaded_by=actor.id, uploaded_at=now,
        request_key=request_key, box=box,
    )  # fmt: skip
    if request_key is None:
        session.add(row)
        session.flush()
        return row, True
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # The same upload sent twice at once: the other request stored it first (on
        # PostgreSQL this insert waited for it to commit). Keep its file, drop ours.
        if not isinstance(data, StoredBlob):
            storage.delete(blob.key)
        earlier = repository.attachment_with_request_key(session, actor.id, request_key)
        if earlier is None:
            raise
        return _same_upload(earlier, case_id, request_key), False
    return row, True


def _same_upload(earlier: CaseAttachment, case_id: int, request_key: str) -> CaseAttachment:
    if earlier.case_id != case_id:
        raise Conflict(
            f"the idempotency key {request_key!r} was already used for an upload to case "
            f"{earlier.case_id}; make a new key for a new upload",
            errors=[FieldProblem("request_key", "already used for another upload")],
        )
    return earlier


def sweep_overdue(session: Session, env: CaseEnv, *, limit: int = 1000) -> int:
    """Mark cases whose running stage is past its deadline and escalate them to the shift leader.

    Each escalation is a step by the system (rule `sla-overdue`), so it shows in the
    timeline and KPIs can count it; the shift leader is told after the commit.
    """
    system = Actor.system("sla-overdue")
    count = 0
    for case in repository.overdue_candidates(session, env.now, limit):
        case.overdue = True
        case.escalated_at = env.now
        state = State(case.state)
        stage = stage_name(state) or state.value
        step = _record_step(session, env, case, system, Action.ESCALATE, state, state,
                            f"{stage} 阶段超时，升级至值班长",
                            {"stage": stage, "due": case.stage_due_at.isoformat()
                             if case.stage_due_at else None, "escalated_to": "shift_leader"},
                            [])  # fmt: skip
        collect(session, CaseEscalated(case.id, stage, case.region_code))
        collect(session, CaseTransitioned(case.id, step.id, step.action, step.from_state,
                                          step.to_state, case.region_code, case.department_id,
                                          case.assignee_id))  # fmt: skip
        count += 1
    return count
