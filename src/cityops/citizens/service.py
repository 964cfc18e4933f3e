"""Citizens' use cases: the services residents report under, a resident's request taken in
(as an event for intake, which opens a case or joins the open case of the same problem),
and what residents may read of the cases: status, public notes, never anyone's contact.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.intake import IntakeEnv, intake
from cityops.cases.models import Case, CaseStep
from cityops.cases.service import CaseEnv, SystemNote, add_system_notes
from cityops.cases.workflow import SYSTEM, TERMINAL_STATES, Action, Actor, State
from cityops.catalog.models import CaseClass
from cityops.citizens import repository
from cityops.citizens.classify import Classifier, KnownClass, build, vocabulary
from cityops.citizens.intake import new_ticket, same_problem
from cityops.citizens.models import CitizenRequest, CitizenService, VocabularyTerm
from cityops.citizens.schemas import RequestIn, UpdateIn, VocabularyTermIn
from cityops.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    ImportFailed,
    ImportProblem,
    Invalid,
    NotFound,
)
from cityops.ingest.service import check_request, prepare, validation_problems
from cityops.kit.privacy import mask_personal
from cityops.kit.storage import BlobStorage

SEED = Path(__file__).parent / "seed" / "services.csv"
# GET requests: the range a query may span, and the most requests one answer holds.
MAX_RANGE = timedelta(days=90)
MAX_REQUESTS = 1000

# What a resident is told of each state (status_notes): plain words, not the workflow's.
STATE_NOTES = {
    State.REPORTED: "已收到您的诉求，等待受理。",
    State.VERIFYING: "已受理，正派人到现场核实。",
    State.ACCEPTED: "已核实，等待立案。",
    State.FILED: "已立案，正在派遣责任单位。",
    State.HANDLING: "已派遣至责任单位处置。",
    State.DEFERRED: "需较长时间处置，已列入计划。",
    State.HANDLED: "责任单位已处置，等待现场核查。",
    State.CHECKING: "正在现场核查处置结果。",
    State.CHECKED: "核查通过，即将办结。",
    State.CLOSED: "已办结。",
    State.EVALUATED: "已办结并完成评价。",
    State.CANCELLED: "经核实不属于受理范围或问题不存在，已作废。",
}

# The extension's richer statuses (mySociety's), by state: what GET servicerequestupdates
# says of a request; GET requests keeps to the specification's open and closed.
EXTENDED_STATUS = {
    State.REPORTED: "open",
    State.VERIFYING: "investigating",
    State.ACCEPTED: "action_scheduled",
    State.FILED: "action_scheduled",
    State.HANDLING: "in_progress",
    State.DEFERRED: "action_scheduled",
    State.HANDLED: "in_progress",
    State.CHECKING: "in_progress",
    State.CHECKED: "fixed",
    State.CLOSED: "fixed",
    State.EVALUATED: "fixed",
    State.CANCELLED: "no_further_action",
}
# Who a resident's follow-up is noted by on the case.
RESIDENT = Actor(id=None, name="市民", roles=frozenset({SYSTEM}), rule="open311-update")


def load_services(
    session: Session, now: datetime, path: Path = SEED, *, strict: bool = False
) -> int:
    """Add the services of a CSV (the seed by default) whose case class exists; an existing
    service (an admin's edit) is left as it is. Returns how many were added.

    `strict` (an import): a service naming a class the catalog lacks, or attributes that
    are not JSON, fails the whole file, every problem listed; otherwise (the seed on a
    smaller catalog) such a service is skipped."""
    classes = set(session.scalars(select(CaseClass.code).where(CaseClass.active.is_(True))))
    existing = set(session.scalars(select(CitizenService.code)))
    problems: list[ImportProblem] = []
    new: list[CitizenService] = []
    with path.open(encoding="utf-8") as f:
        for position, row in enumerate(csv.DictReader(f)):
            line = position + 2  # the header is line 1
            if row["class_code"] not in classes:
                if strict:
                    message = f"no active case class {row['class_code']!r}"
                    problems.append(ImportProblem(path.name, line, "class_code", message))
                continue
            try:
                attributes = _attributes(row["attributes"])
            except ValueError as exc:
                problems.append(ImportProblem(path.name, line, "attributes", f"not JSON: {exc}"))
                continue
            if row["code"] in existing:
                continue
            new.append(CitizenService(
                code=row["code"], class_code=row["class_code"], group=row["group"],
                name=row["name"], description=row["description"],
                keywords=[k.strip() for k in row["keywords"].split(";") if k.strip()],
                attributes=attributes, position=position, active=True,
                created_at=now, updated_at=now,
            ))  # fmt: skip
            existing.add(row["code"])
    if problems:
        raise ImportFailed(problems)
    session.add_all(new)
    session.flush()
    return len(new)


def _attributes(text: str) -> list[dict[str, Any]]:
    attributes = json.loads(text or "[]")
    if not isinstance(attributes, list) or not all(
        isinstance(a, dict) and "code" in a for a in attributes
    ):
        raise ValueError("a list of attributes, each with its code")
    for a in attributes:
        a.setdefault("variable", True)
        a.setdefault("datatype_description", "")
    return list(attributes)


def get_service(session: Session, code: str) -> CitizenService:
    service = session.get(CitizenService, code)
    if service is None or not service.active:
        raise NotFound(f"no service {code!r}")
    return service


@dataclass(frozen=True)
class Taken:
    """A request taken in: its row, and whether it repeated one sent before."""

    request: CitizenRequest
    repeat: bool


def submit_request(
    session: Session,
    env: IntakeEnv,
    principal: Principal,
    form: dict[str, Any],
    *,
    channel: str,
    classifier: Classifier,
    idempotency_key: str | None = None,
) -> Taken:
    """Take in a resident's request in the caller's transaction: checked whole (nothing is
    written for a bad one), then an event for intake and the request's own row.

    A request sent again under the same idempotency key is answered with the first one.
    """
    if principal.api_key_id is not None and not principal.sources:
        raise Forbidden("this API key may not submit requests")
    try:
        sent = RequestIn.model_validate(form)
    except ValidationError as exc:
        problems = [FieldProblem(p["path"], p["message"]) for p in validation_problems(exc)]
        raise Invalid(_summary(problems), errors=problems) from None
    service = session.get(CitizenService, sent.service_code)
    if service is None or not service.active:
        raise Invalid(f"service_code: no service {sent.service_code!r}",
                      errors=[FieldProblem("service_code", "unknown service")])  # fmt: skip
    attributes = _checked_attributes(service, sent.attributes)
    if sent.lat is None or sent.long is None:
        # address_string or address_id alone is allowed by the specification, but this
        # jurisdiction has no gazetteer to place an address on the map yet.
        raise Invalid(
            "lat and long are required: an address alone cannot be placed on the map here",
            errors=[FieldProblem("lat", "required"), FieldProblem("long", "required")],
        )
    source = _source(principal, channel)
    token = new_ticket()
    external_id = f"key-{idempotency_key}" if idempotency_key else f"token-{token}"
    if idempotency_key:
        earlier = repository.request_by_external_id(session, source, external_id)
        if earlier is not None:
            return Taken(earlier, repeat=True)
    description = sent.description or service.name
    event = {
        "source": source, "external_id": external_id[:120], "kind": "citizen",
        "location": {"lon": sent.long, "lat": sent.lat}, "occurred_at": env.now.isoformat(),
        "description": f"【{service.name}】{description}"[:2000],
        "address": sent.address_string, "class_code": service.class_code,
        "evidence": [{"url": str(sent.media_url), "kind": "photo"}] if sent.media_url else [],
    }  # fmt: skip
    if principal.api_key_id is None:
        event.pop("source")
    check_request(principal, [event], max_batch=1)
    signals, rejected = prepare(principal, [event], env.now)
    if rejected:
        problems = [FieldProblem(e["path"], e["message"]) for e in rejected[0].errors]
        raise Invalid(_summary(problems), errors=problems)
    # A report that says what an open case nearby says joins it, whatever its service.
    about = same_problem(session, classifier, description, sent.long, sent.lat, env.now)
    signal = replace(signals[0], join_case_id=about.id if about is not None else None)
    (result,) = intake(session, env, [signal])
    if result.status == "rejected":
        problems = [FieldProblem(e["path"], e["message"]) for e in result.errors]
        raise Invalid(_summary(problems), errors=problems)
    assert result.event_id is not None
    row = CitizenRequest(
        token=token, channel=channel, api_key_id=principal.api_key_id,
        service_code=service.code, event_id=result.event_id, case_id=result.case_id,
        description=sent.description, lon=sent.long, lat=sent.lat,
        address_string=sent.address_string, address_id=sent.address_id,
        media_url=str(sent.media_url) if sent.media_url else None, attributes=attributes,
        first_name=sent.first_name, last_name=sent.last_name, email=sent.email,
        phone=sent.phone, device_id=sent.device_id, account_id=sent.account_id,
        requested_at=env.now, joined=result.status == "merged",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return Taken(row, repeat=False)


def _summary(problems: list[FieldProblem]) -> str:
    return "; ".join(f"{p.path}: {p.message}" for p in problems) or "invalid request"


def _source(principal: Principal, channel: str) -> str:
    """The source the request's event is recorded under: the API key's own (`open311` if
    it holds that one), or the channel for people."""
    if principal.api_key_id is None:
        return f"{channel}-person-{principal.actor.id}"
    return "open311" if "open311" in principal.sources else sorted(principal.sources)[0]


def _checked_attributes(
    service: CitizenService, sent: dict[str, str | list[str]]
) -> dict[str, str | list[str]]:
    """The attributes sent, checked against the service's definition."""
    defined = {a["code"]: a for a in service.attributes}
    problems = [FieldProblem(f"attribute[{code}]", "not an attribute of this service")
                for code in sent if code not in defined]  # fmt: skip
    for code, definition in defined.items():
        value = sent.get(code)
        path = f"attribute[{code}]"
        if value in (None, "", []):
            if definition.get("required") and definition.get("variable", True):
                problems.append(FieldProblem(path, "required"))
            continue
        values = value if isinstance(value, list) else [value]
        kind = definition.get("datatype", "string")
        keys = {str(v["key"]) for v in definition.get("values", [])}
        if kind == "singlevaluelist" and (len(values) != 1 or values[0] not in keys):
            problems.append(FieldProblem(path, f"one of: {', '.join(sorted(keys))}"))
        elif kind == "multivaluelist" and any(v not in keys for v in values):
            problems.append(FieldProblem(path, f"each one of: {', '.join(sorted(keys))}"))
        elif kind == "number" and not all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values):
            problems.append(FieldProblem(path, "a number"))
        elif kind == "datetime" and not all(_is_datetime(v) for v in values):
            problems.append(FieldProblem(path, "a date and time (ISO 8601)"))
    if problems:
        raise Invalid(_summary(problems), errors=problems)
    return dict(sent)


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_closed(case: Case) -> bool:
    return State(case.state) in TERMINAL_STATES


def date_range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """`start_date`..`end_date` as Open311 reads them: the 90 days before the end (now by
    default) or after the start, and never more than 90 days."""
    end = end or (start + MAX_RANGE if start else now)
    start = start or end - MAX_RANGE
    if end < start:
        raise Invalid("end_date is before start_date",
                      errors=[FieldProblem("end_date", "before start_date")])  # fmt: skip
    if end - start > MAX_RANGE:
        raise Invalid(
            "start_date and end_date may not span more than 90 days",
            errors=[FieldProblem("start_date", "more than 90 days before end_date")],
        )
    return start, end


@dataclass(frozen=True)
class RequestQuery:
    """GET requests: ids (which override the rest), services, a range, statuses."""

    ids: list[int]
    service_codes: list[str]
    start: datetime | None
    end: datetime | None
    statuses: list[str]


def find_requests(session: Session, query: RequestQuery, now: datetime) -> list[repository.Found]:
    """The cases residents may follow, newest first: those of the listed ids, else those
    of the services asked for (all by default) reported within the range (the last 90 days
    by default, at most 90 days), of the statuses asked for."""
    services = repository.active_services(session)
    by_class: dict[str, CitizenService] = {}
    for s in services:
        by_class.setdefault(s.class_code, s)
    if query.ids:
        return repository.cases_for_residents(session, by_class, ids=query.ids)
    unknown = [c for c in query.service_codes if c not in {s.code for s in services}]
    if unknown:
        raise Invalid(f"service_code: unknown {', '.join(unknown)}",
                      errors=[FieldProblem("service_code", "unknown service")])  # fmt: skip
    wanted = {s.class_code: s for s in services if s.code in query.service_codes} if (
        query.service_codes) else by_class  # fmt: skip
    start, end = date_range(query.start, query.end, now)
    bad = [s for s in query.statuses if s not in ("open", "closed")]
    if bad:
        raise Invalid(f"status: {', '.join(bad)} (open or closed)",
                      errors=[FieldProblem("status", "open or closed")])  # fmt: skip
    states = None
    if query.statuses and set(query.statuses) != {"open", "closed"}:
        closed = "closed" in query.statuses
        states = [s.value for s in State if (s in TERMINAL_STATES) == closed]
    return repository.cases_for_residents(session, wanted, start=start, end=end, states=states,
                                          limit=MAX_REQUESTS)  # fmt: skip


@dataclass(frozen=True)
class Update:
    """A step of a case residents are told of: a change of state, or a resident's note."""

    step: CaseStep
    case: Case


def post_update(
    session: Session,
    env: CaseEnv,
    storage: BlobStorage,
    principal: Principal,
    form: dict[str, Any],
) -> tuple[CaseStep, bool]:
    """A resident's follow-up on a request (the updates extension), noted on the case for
    the centre to read; its step and whether it repeated one sent before (the client's
    `update_id` from the same key)."""
    try:
        sent = UpdateIn.model_validate(form)
    except ValidationError as exc:
        problems = [FieldProblem(p["path"], p["message"]) for p in validation_problems(exc)]
        raise Invalid(_summary(problems), errors=problems) from None
    if not _is_datetime(sent.updated_datetime):
        raise Invalid("updated_datetime: a W3C date and time",
                      errors=[FieldProblem("updated_datetime", "a W3C date and time")])  # fmt: skip
    case_id = int(sent.service_request_id)
    public = {s.class_code for s in repository.active_services(session)}
    case = session.get(Case, case_id)
    if case is None or case.class_code not in public:
        raise NotFound(f"no request {case_id}")
    for step in repository.resident_updates(session, case_id):
        if (step.data.get("client_update_id"), step.data.get("api_key_id")) == (
            sent.update_id, principal.api_key_id,
        ):  # fmt: skip
            return step, True
    if is_closed(case):
        raise Invalid(
            f"service_request_id: request {case_id} is closed; submit a new request",
            errors=[FieldProblem("service_request_id", "closed: submit a new request")],
        )
    media = str(sent.media_url) if sent.media_url else None
    text = f"市民补充：{sent.description}" + (f"（照片：{media}）" if media else "")
    data = {"public": True, "channel": "open311", "client_update_id": sent.update_id,
            "api_key_id": principal.api_key_id, "status": sent.status.lower(),
            "media_url": media}  # fmt: skip
    (step,) = add_system_notes(session, env, storage, RESIDENT,
                               [SystemNote(case_id, text, data=data)])  # fmt: skip
    return step, False


def find_updates(
    session: Session, start: datetime | None, end: datetime | None, now: datetime
) -> list[Update]:
    """The changes of state of the cases residents may follow, and residents' notes on
    them, in [start, end] (the last 90 days by default, at most 90 days), oldest first."""
    start, end = date_range(start, end, now)
    classes = {s.class_code for s in repository.active_services(session)}
    rows = repository.steps_between(session, classes, start, end, limit=MAX_REQUESTS)
    return [Update(step, case) for step, case in rows
            if step.from_state != step.to_state or step.data.get("public")]  # fmt: skip


def update_status(update: Update) -> str:
    return EXTENDED_STATUS[State(update.step.to_state)]


def update_description(update: Update) -> str:
    """What residents read of a step: the state's plain words, or a resident's note."""
    step = update.step
    if step.action == Action.NOTE.value:
        return mask_personal(step.note)
    return STATE_NOTES[State(step.to_state)]


# The most recent closed cases of a class that teach the classifier its residents' words.
CASES_PER_CLASS = 200


def load_classifier(session: Session) -> Classifier:
    """The classifier of the catalog's active classes, from their entries, the shipped
    vocabulary, the active services and the descriptions of recently closed cases."""
    from cityops.catalog.models import MajorClass

    majors = {(m.family, m.code): m.name for m in session.scalars(select(MajorClass))}
    classes = [
        KnownClass(c.code, c.name, majors.get((c.family, c.major_code), ""), c.filing_condition)
        for c in session.scalars(select(CaseClass).where(CaseClass.active.is_(True)))
    ]
    services = [(s.class_code, f"{s.name} {s.description} {' '.join(s.keywords)}")
                for s in repository.active_services(session)]  # fmt: skip
    cases = repository.closed_case_texts(session, per_class=CASES_PER_CLASS)
    return build(classes, district_vocabulary(session), services, cases)


VOCABULARY_SEED = Path(__file__).parent / "seed" / "vocabulary.csv"


def district_vocabulary(session: Session) -> dict[str, list[str]]:
    """The district's vocabulary, as its admins keep it; the shipped one until a
    vocabulary is loaded (`cityops import vocabulary`), so a new district starts with a
    classifier that knows residents' words."""
    terms: dict[str, list[str]] = {}
    for row in repository.vocabulary_terms(session):
        terms.setdefault(row.class_code, []).append(row.term)
    return terms or vocabulary(VOCABULARY_SEED)


def load_vocabulary(
    session: Session, now: datetime, path: Path = VOCABULARY_SEED, *, strict: bool = False
) -> int:
    """Add the terms of a CSV (`class_code`, `terms` separated by `;`; the shipped
    vocabulary by default) that the district lacks. Returns how many were added.

    `strict` (an import): a class the catalog lacks fails the whole file, every problem
    listed; otherwise (the seed on a smaller catalog) its terms are skipped."""
    classes = set(session.scalars(select(CaseClass.code).where(CaseClass.active.is_(True))))
    existing = {(t.class_code, t.term) for t in repository.vocabulary_terms(session)}
    problems: list[ImportProblem] = []
    new: list[VocabularyTerm] = []
    with path.open(encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f)):
            code = (row.get("class_code") or "").strip()
            if code not in classes:
                if strict:
                    problems.append(ImportProblem(path.name, n + 2, "class_code",
                                                  f"no active case class {code!r}"))  # fmt: skip
                continue
            for term in (t.strip() for t in (row.get("terms") or "").split(";")):
                if not term or (code, term) in existing:
                    continue
                if len(term) > MAX_TERM:
                    message = f"{term[:20]!r}… is over {MAX_TERM} characters"
                    problems.append(ImportProblem(path.name, n + 2, "terms", message))
                    continue
                existing.add((code, term))
                new.append(VocabularyTerm(class_code=code, term=term, created_at=now))
    if problems:
        raise ImportFailed(problems)
    session.add_all(new)
    session.flush()
    return len(new)


MAX_TERM = 80
VOCABULARY_ROLES = frozenset({"admin"})


def add_term(
    session: Session, actor: Actor, sent: VocabularyTermIn, now: datetime
) -> VocabularyTerm:
    """An admin teaches the classifier a word residents use for a class. The first edit of
    a district still on the shipped vocabulary copies it in first, so the edit adds to it
    rather than replacing it."""
    if not actor.roles & VOCABULARY_ROLES:
        raise Forbidden("the vocabulary is edited by admins")
    code = sent.class_code.strip().upper()
    klass = session.get(CaseClass, code)
    if klass is None or not klass.active:
        raise Invalid(f"class_code: no active case class {code!r}",
                      errors=[FieldProblem("class_code", "unknown or inactive class")])  # fmt: skip
    if not sent.term:
        raise Invalid("term: empty", errors=[FieldProblem("term", "empty")])
    if not repository.vocabulary_terms(session):
        load_vocabulary(session, now)
    if any(t.term == sent.term for t in repository.vocabulary_terms(session, code)):
        raise Conflict(f"term: {sent.term!r} is already a word of {code}",
                       errors=[FieldProblem("term", "already there")])  # fmt: skip
    row = VocabularyTerm(class_code=code, term=sent.term, created_at=now, created_by=actor.id)
    session.add(row)
    session.flush()
    record_audit(session, Principal(actor=actor), "vocabulary.add", "vocabulary_term", row.id,
                 now=now, after={"class_code": code, "term": sent.term})  # fmt: skip
    return row


def remove_term(session: Session, actor: Actor, term_id: int, now: datetime) -> None:
    if not actor.roles & VOCABULARY_ROLES:
        raise Forbidden("the vocabulary is edited by admins")
    row = session.get(VocabularyTerm, term_id)
    if row is None:
        raise NotFound(f"no term {term_id}")
    before = {"class_code": row.class_code, "term": row.term}
    record_audit(session, Principal(actor=actor), "vocabulary.remove", "vocabulary_term",
                 row.id, now=now, before=before)  # fmt: skip
    session.delete(row)
    session.flush()


# Who sees residents' contact details in full: those who call them back (回访).
CONTACT_ROLES = frozenset({"call_taker", "shift_leader", "admin"})


def sees_contacts(actor: Actor) -> bool:
    return bool(actor.roles & CONTACT_ROLES)


def mask_name(name: str | None) -> str | None:
    """李明 → 李*, 欧阳娜娜 → 欧***: the first character kept."""
    return name[:1] + "*" * (len(name) - 1) if name else name


def mask_phone(phone: str | None) -> str | None:
    """13800138000 → 138****8000."""
    if not phone:
        return phone
    digits = len(phone)
    return phone[:3] + "*" * max(0, digits - 7) + phone[-4:] if digits > 7 else "*" * digits


def mask_email(email: str | None) -> str | None:
    """li.ming@example.com → l******@example.com."""
    if not email or "@" not in email:
        return email
    user, _, domain = email.partition("@")
    return user[:1] + "*" * (len(user) - 1) + "@" + domain


def requests_of_case(session: Session, actor: Actor, case_id: int) -> list[CitizenRequest]:
    """The residents' requests a case stands for, if `actor` may see the case."""
    from cityops.cases.service import get_visible

    get_visible(session, actor, case_id)
    return repository.requests_of_case(session, case_id)
