"""Open311 GeoReport v2 at `/open311/v2`: discovery, services and their definitions,
requests in (form-encoded, with an API key) and out, tokens, and the widely used updates
extension (mySociety's `servicerequestupdates`) both ways. Every path answers in JSON or
XML: by its `.json`/`.xml` suffix as the specification writes them, else by the Accept
header (JSON by default). Errors come in the specification's own format
(`errors/error/code, description`), with the HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases.models import Case, CaseStep
from cityops.cases.service import Picture
from cityops.cases.workflow import State
from cityops.citizens import feedback, intake, repository, service
from cityops.citizens.models import CitizenCallback, CitizenRequest, CitizenService
from cityops.citizens.schemas import (
    CallbackIn,
    CallbackRead,
    CitizenRequestRead,
    ClassifyIn,
    ClassifyRead,
    ContactRead,
    DueCallbackRead,
    DueCallbacksRead,
    HotlineIn,
    HotlineRead,
    PhoneCodeIn,
    PhoneCodeRead,
    PhotoRead,
    ProgressRead,
    PublicReportIn,
    PublicServiceRead,
    PublicServicesRead,
    PublicSuggestionRead,
    PublicSuggestionsRead,
    RatingIn,
    RatingRead,
    SuggestionRead,
    TakenRead,
    TicketRead,
    VocabularyTermIn,
    VocabularyTermRead,
    form_to_request,
)
from cityops.citizens.service import STATE_NOTES, RequestQuery, Taken
from cityops.deps import ContextDep, PersonDep, PrincipalDep
from cityops.errors import (
    BadRequest,
    DomainError,
    FieldProblem,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from cityops.ingest.service import validation_problems
from cityops.kit.privacy import mask_personal
from cityops.notify.sms import SmsFailed

ROOT = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
CHANGESET = "2026-11-25T00:00:00+08:00"  # when what this endpoint offers last changed

router = APIRouter(prefix=ROOT, tags=["open311"])
# The centre's own endpoints for residents' reports, under /api/v1.
staff = APIRouter(prefix="/citizens", tags=["citizens"])
# Who may ask what a text is about: the centre's staff who take reports, and apps (keys).
CLASSIFY_ROLES = ("call_taker", "shift_leader", "dispatcher")


# -- formats ------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str | None]:
    """`E0102.json` → (`E0102`, `json`); a name without a known suffix has none."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in FORMATS:
        return stem, suffix
    return name, None


def wanted_format(request: Request, suffix: str | None = None) -> str:
    """The suffix's format, else XML if the client asks for it first, else JSON."""
    if suffix is None:
        _, suffix = _split(request.url.path.rstrip("/").rsplit("/", 1)[-1])
    if suffix is not None:
        return suffix
    accept = request.headers.get("accept", "")
    xml_at, json_at = accept.find("xml"), accept.find("json")
    return "xml" if xml_at >= 0 and (json_at < 0 or xml_at < json_at) else "json"


def _xml_value(parent: ET.Element, key: str, value: Any, item_tag: str) -> None:
    node = ET.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _xml_dict(ET.SubElement(node, item_tag), item)
            else:
                ET.SubElement(node, item_tag).text = _text(item)
    elif isinstance(value, dict):
        _xml_dict(node, value)
    else:
        node.text = _text(value)


# The element names of the items of XML lists, as the specification gives them.
_ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
              "values": "value"}  # fmt: skip


def _xml_dict(node: ET.Element, values: dict[str, Any]) -> None:
    for key, value in values.items():
        _xml_value(node, key, value, _ITEM_TAGS.get(key, "item"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(
    body: Any, fmt: str, *, root: str, item: str | None = None, status: int = 200
) -> Response:
    """`body` (a dict, or a list of dicts) as JSON, or as XML under `root` (a list's items
    each an `item` element)."""
    if fmt == "json":
        return Response(orjson.dumps(body), status_code=status,
                        media_type="application/json; charset=utf-8")  # fmt: skip
    top = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _xml_dict(ET.SubElement(top, item or "item"), entry)
    else:
        _xml_dict(top, body)
    data = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(data, status_code=status, media_type="text/xml; charset=utf-8")


def error_response(request: Request, exc: DomainError) -> Response:
    """An error as the specification gives it: one entry per problem field, or one for
    the whole request; the status of the error (400, 403, 404...)."""
    status = 400 if exc.status == 422 else exc.status
    errors = [{"code": status, "description": f"{e.path}: {e.message}"} for e in exc.errors]
    body = errors or [{"code": status, "description": exc.detail}]
    return render(body, wanted_format(request), root="errors", item="error", status=status)


# -- reference ---------------------------------------------------------------------------


def _jurisdiction(context: Context, request: Request) -> None:
    asked = request.query_params.get("jurisdiction_id")
    if asked and asked != context.settings.district_code:
        raise NotFound(f"jurisdiction_id: this endpoint serves {context.settings.district_code}")


@router.get("/discovery", summary="Open311 discovery")
@router.get("/discovery.{fmt}", include_in_schema=False)
def discovery(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    fmt = _format(request, fmt)
    base = str(request.base_url).rstrip("/") + ROOT + "/"
    body = {
        "changeset": CHANGESET,
        "contact": context.settings.open311_contact,
        "key_service": context.settings.open311_key_service,
        "endpoints": [{
            "specification": SPECIFICATION, "url": base, "changeset": CHANGESET,
            "type": "production", "formats": ["text/xml", "application/json"],
        }],
    }  # fmt: skip
    return render(body, fmt, root="discovery")


def _named(request: Request, context: Context, name: str) -> tuple[str, str]:
    """A path's last part (`E0102.json`, `17`, a token) as its name and the format to
    answer in; another district's `jurisdiction_id` is a 404."""
    stem, suffix = _split(name)
    _jurisdiction(context, request)
    return stem, wanted_format(request, suffix)


def _format(request: Request, fmt: str | None) -> str:
    if fmt is not None and fmt not in FORMATS:
        raise NotFound(f"format {fmt!r}: json or xml")
    return wanted_format(request, fmt)


def _service_entry(s: CitizenService) -> dict[str, Any]:
    return {
        "service_code": s.code, "service_name": s.name, "description": s.description,
        "metadata": bool(s.attributes), "type": "realtime",
        "keywords": ",".join(s.keywords), "group": s.group,
    }  # fmt: skip


@router.get("/services", summary="Open311 services: what residents may report")
@router.get("/services.{fmt}", include_in_schema=False)
def services(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    fmt = _format(request, fmt)
    _jurisdiction(context, request)
    with context.read_sessions() as session:
        body = [_service_entry(s) for s in repository.active_services(session)]
    return render(body, fmt, root="services", item="service")


@router.get("/services/{name}", summary="Open311 service definition (its attributes)")
def service_definition(request: Request, context: ContextDep, name: str) -> Response:
    code, fmt = _named(request, context, name)
    with context.read_sessions() as session:
        found = service.get_service(session, code)
        attributes = sorted(found.attributes, key=lambda a: a.get("order", 0))
    body = {"service_code": code, "attributes": [_attribute(a) for a in attributes]}
    return render(body, fmt, root="service_definition")


def _attribute(a: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "variable": a.get("variable", True), "code": a["code"],
        "datatype": a.get("datatype", "string"), "required": bool(a.get("required")),
        "datatype_description": a.get("datatype_description", ""), "order": a.get("order", 0),
        "description": a.get("description", ""),
    }  # fmt: skip
    if a.get("values"):
        entry["values"] = [{"key": v["key"], "name": v["name"]} for v in a["values"]]
    return entry


# -- requests ----------------------------------------------------------------------------


@router.post("/requests", summary="Open311: submit a service request (form-encoded)")
@router.post("/requests.{fmt}", include_in_schema=False)
async def post_request(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    """The fields of the specification, form-encoded (JSON is taken too); `api_key` in the
    form or the query. Answered after the commit with the `service_request_id`, which is
    the case the resident follows: a report of a problem already open joins its case."""
    fmt = _format(request, fmt)
    _jurisdiction(context, request)
    fields = await _fields(request)
    principal = await _principal(context, request, fields)
    form = form_to_request(fields)
    idempotency = request.headers.get("idempotency-key")
    taken = await run_in_threadpool(_submit, context, principal, form, idempotency)
    row = taken.request
    body = [{"service_request_id": str(row.case_id) if row.case_id else None,
             "token": row.token, "service_notice": _notice(taken),
             "account_id": row.account_id}]  # fmt: skip
    return render(body, fmt, root="service_requests", item="request",
                  status=200 if taken.repeat else 201)  # fmt: skip


async def _principal(context: Context, request: Request, fields: dict[str, Any]) -> Principal:
    """The API key's principal: `api_key` of the form (taken out of it) or of the query."""
    key = str(fields.pop("api_key", None) or request.query_params.get("api_key") or "")
    if not key:
        raise Forbidden("api_key: required to submit")
    try:
        principal = context.api_keys.cached(key)
        if principal is None:
            principal = await run_in_threadpool(context.api_keys.get, context.read_sessions, key)
    except Unauthorized:
        raise Forbidden("api_key: not a valid key") from None
    return principal


def _notice(taken: Taken) -> str:
    if taken.repeat:
        return "此诉求已收到，无需重复提交。"
    return "已收到您的诉求，可凭编号查询办理进度。"


async def _fields(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise BadRequest.at("body", "not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest.at("body", "a JSON object of the request's fields")
        return body
    form = await request.form()
    fields: dict[str, Any] = {}
    for k in form:
        values = [v for v in form.getlist(k) if isinstance(v, str)]
        if len(values) != len(form.getlist(k)):
            raise BadRequest.at(k, "a file: send photos by media_url")
        fields[k] = values if len(values) > 1 else values[0]
    return fields


def _submit(context: Context, principal: Principal, form: dict[str, Any],
            idempotency: str | None) -> Taken:  # fmt: skip
    def work(session: Session) -> Taken:
        env = context.intake_env(session, context.clock.now())
        return service.submit_request(session, env, principal, form, channel="open311",
                                      classifier=context.classifier.get(session),
                                      idempotency_key=idempotency)  # fmt: skip

    return context.in_transaction(work)


def _request_entry(found: repository.Found, zone: ZoneInfo) -> dict[str, Any]:
    case = found.case
    return {
        "service_request_id": str(case.id),
        "status": "closed" if service.is_closed(case) else "open",
        "status_notes": STATE_NOTES[State(case.state)],
        "service_name": found.service.name,
        "service_code": found.service.code,
        "description": mask_personal(case.description),
        "agency_responsible": found.agency or "",
        "service_notice": "",
        "requested_datetime": _w3c(case.reported_at, zone),
        "updated_datetime": _w3c(case.updated_at, zone),
        "expected_datetime": _w3c(case.handle_due_at, zone),
        "address": case.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
        "media_url": found.media_url or "",
    }


def _w3c(at: datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(timespec="seconds") if at is not None else ""


def _ids(text: str, name: str) -> list[int]:
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit():
            raise BadRequest.at(name, f"{part!r} is not a request id")
        ids.append(int(part))
    return ids


def _when(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest.at(name, "a W3C date and time, e.g. 2026-11-01T00:00:00Z") from None
    if at.tzinfo is None:
        raise BadRequest.at(name, "give its time zone (Z or +08:00)")
    return at


def _list(values: Sequence[str]) -> list[str]:
    return [v.strip() for text in values for v in text.split(",") if v.strip()]


@router.get("/requests", summary="Open311: service requests, newest first")
@router.get("/requests.{fmt}", include_in_schema=False)
def get_requests(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    """Filters: `service_request_id` (comma-separated; overrides the others),
    `service_code`, `start_date`/`end_date` (at most 90 days apart; the last 90 days by
    default), `status` (open, closed). At most 1,000 requests."""
    fmt = _format(request, fmt)
    _jurisdiction(context, request)
    params = request.query_params
    ids = _ids(",".join(params.getlist("service_request_id")), "service_request_id") if (
        params.get("service_request_id")) else []  # fmt: skip
    query = RequestQuery(ids=ids, service_codes=_list(params.getlist("service_code")),
                         start=_when(params.get("start_date"), "start_date"),
                         end=_when(params.get("end_date"), "end_date"),
                         statuses=_list(params.getlist("status")))  # fmt: skip
    zone = ZoneInfo(context.settings.timezone)
    with context.read_sessions() as session:
        found = service.find_requests(session, query, context.clock.now())
        body = [_request_entry(f, zone) for f in found]
    return render(body, fmt, root="service_requests", item="request")


@router.get("/requests/{name}", summary="Open311: one service request")
def get_request(request: Request, context: ContextDep, name: str) -> Response:
    stem, fmt = _named(request, context, name)
    if not stem.isdigit():
        raise NotFound(f"no request {stem!r}")
    zone = ZoneInfo(context.settings.timezone)
    with context.read_sessions() as session:
        found = service.find_requests(session, RequestQuery([int(stem)], [], None, None, []),
                                      context.clock.now())  # fmt: skip
        if not found:
            raise NotFound(f"no request {stem}")
        body = [_request_entry(found[0], zone)]
    return render(body, fmt, root="service_requests", item="request")


@router.get("/tokens/{name}", summary="Open311: the request id of a token")
def get_token(request: Request, context: ContextDep, name: str) -> Response:
    token, fmt = _named(request, context, name)
    with context.read_sessions() as session:
        row = repository.request_by_token(session, token)
        if row is None:
            raise NotFound(f"no token {token!r}")
        body = [{"service_request_id": str(row.case_id) if row.case_id else None,
                 "token": row.token}]  # fmt: skip
    return render(body, fmt, root="service_requests", item="request")


# -- the updates extension ---------------------------------------------------------------


@router.get("/servicerequestupdates", summary="Open311 updates extension: what happened")
@router.get("/servicerequestupdates.{fmt}", include_in_schema=False)
def get_updates(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    """Changes of state of the requests (with the extension's richer statuses: `open`,
    `investigating`, `action_scheduled`, `in_progress`, `fixed`, `no_further_action`) and
    residents' follow-ups, oldest first, in `start_date`..`end_date` (the last 90 days by
    default, at most 90 days)."""
    fmt = _format(request, fmt)
    _jurisdiction(context, request)
    params = request.query_params
    start = _when(params.get("start_date"), "start_date")
    end = _when(params.get("end_date"), "end_date")
    zone = ZoneInfo(context.settings.timezone)
    with context.read_sessions() as session:
        updates = service.find_updates(session, start, end, context.clock.now())
        body = [{
            "update_id": str(u.step.id), "service_request_id": str(u.case.id),
            "status": service.update_status(u), "description": service.update_description(u),
            "media_url": u.step.data.get("media_url") or "",
            "updated_datetime": _w3c(u.step.at, zone),
        } for u in updates]  # fmt: skip
    return render(body, fmt, root="service_request_updates", item="request_update")


@router.post("/servicerequestupdates", summary="Open311 updates extension: a follow-up")
@router.post("/servicerequestupdates.{fmt}", include_in_schema=False)
async def post_update(request: Request, context: ContextDep, fmt: str | None = None) -> Response:
    """A resident's follow-up on a request (`service_request_id`, the client's `update_id`,
    `status`, `updated_datetime`, `description`, `media_url`...), with `api_key`: noted on
    the case, where the centre sees it at once. A closed request takes none (400: submit a
    new request). Sent again with the same `update_id`, it is answered with the first."""
    fmt = _format(request, fmt)
    _jurisdiction(context, request)
    fields = await _fields(request)
    principal = await _principal(context, request, fields)
    form = {k: v for k, v in fields.items() if k != "jurisdiction_id" and v not in ("", None)}
    step, repeat = await run_in_threadpool(_post_update, context, principal, form)
    body = [{"update_id": str(step.id)}]
    return render(body, fmt, root="service_request_updates", item="request_update",
                  status=200 if repeat else 201)  # fmt: skip


def _post_update(
    context: Context, principal: Principal, form: dict[str, Any]
) -> tuple[CaseStep, bool]:
    def work(session: Session) -> tuple[CaseStep, bool]:
        env = context.case_env(session, context.clock.now())
        return service.post_update(session, env, context.storage, principal, form)

    return context.in_transaction(work)


# -- classification ----------------------------------------------------------------------


@staff.post("/classify", response_model=ClassifyRead,
            summary="The likeliest case classes of a report's text")  # fmt: skip
def classify(body: ClassifyIn, context: ContextDep, principal: PrincipalDep) -> ClassifyRead:
    """Top three classes with a confidence each; `automatic` when the first reaches
    `CITYOPS_CLASSIFY_AUTO_CONFIDENCE`. For the call-taker's intake and residents' apps."""
    if principal.api_key_id is None and not principal.has_role(*CLASSIFY_ROLES, "admin"):
        raise Forbidden(f"this needs one of the roles: {', '.join(CLASSIFY_ROLES)}")
    with context.read_sessions() as session:
        classifier = context.classifier.get(session)
    suggestions = classifier.suggest(body.text, k=3)
    threshold = context.settings.classify_auto_confidence
    return ClassifyRead(
        suggestions=[SuggestionRead(class_code=s.class_code, name=s.name,
                                    confidence=round(s.confidence, 4)) for s in suggestions],
        automatic=bool(suggestions) and suggestions[0].confidence >= threshold,
        threshold=threshold,
    )  # fmt: skip


# -- residents' requests for the centre --------------------------------------------------


@staff.get("/requests", response_model=list[CitizenRequestRead],
           summary="The residents' requests a case stands for")  # fmt: skip
def requests_of_case(
    case_id: int, context: ContextDep, caller: PersonDep
) -> list[CitizenRequestRead]:
    """Each with its contact: in full for call-takers, shift leaders and admins (who call
    residents back), masked for everyone else who may see the case; with the resident's
    rating and the call-backs made."""
    actor = caller.actor
    full = service.sees_contacts(actor)
    with context.read_sessions() as session:
        rows = service.requests_of_case(session, actor, case_id)
        callbacks = repository.callbacks_of(session, [r.id for r in rows])
        return [_request_read(r, full, callbacks.get(r.id, [])) for r in rows]


def _contact(row: CitizenRequest, *, full: bool) -> ContactRead:
    return ContactRead(
        first_name=row.first_name if full else service.mask_name(row.first_name),
        last_name=row.last_name if full else service.mask_name(row.last_name),
        email=row.email if full else service.mask_email(row.email),
        phone=row.phone if full else service.mask_phone(row.phone),
        masked=not full,
    )


def _request_read(
    row: CitizenRequest, full: bool, callbacks: Sequence[CitizenCallback]
) -> CitizenRequestRead:
    rating = None
    if row.rating is not None and row.rated_at is not None:
        rating = RatingRead(rating=row.rating, comment=row.rating_comment or "",  # type: ignore[arg-type]
                            at=row.rated_at)  # fmt: skip
    return CitizenRequestRead(
        id=row.id, token=row.token, channel=row.channel, service_code=row.service_code,
        case_id=row.case_id,
        description=row.description if full else mask_personal(row.description),
        lon=row.lon, lat=row.lat, address_string=row.address_string, media_url=row.media_url,
        attributes=row.attributes, requested_at=row.requested_at,
        contact=_contact(row, full=full), routing=row.routing, joined=row.joined,
        phone_verified=row.phone_verified, rating=rating,
        callbacks=[_callback_read(c) for c in callbacks],
    )  # fmt: skip


# -- the centre's own residents' endpoints: hotline, call-backs, vocabulary ---------------

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=64,
           description="A key of the sender's (e.g. a UUID): sent again, the request is "
           "answered with what the first one made"),
]  # fmt: skip


@staff.post("/hotline", status_code=201, response_model=HotlineRead,
            summary="Hotline intake: a caller's report, taken in by the call-taker")  # fmt: skip
def hotline(
    body: HotlineIn,
    response: Response,
    context: ContextDep,
    caller: PersonDep,
    idempotency_key: IdempotencyKey = None,
) -> HotlineRead:
    """The class is the call-taker's choice (`class_code`), else the classifier's when it
    is at least `CITYOPS_CLASSIFY_AUTO_CONFIDENCE` sure (`routing: automatic`), else left
    for the call-taker to give when accepting the case (`routing: call_taker`). A report
    of a problem already open nearby joins its case (`joined`)."""
    threshold = context.settings.classify_auto_confidence

    def work(session: Session) -> intake.Taken:
        env = context.intake_env(session, context.clock.now())
        classifier = context.classifier.get(session)
        return intake.hotline_report(
            session, env, context.storage, classifier, threshold, caller.actor, body,
            idempotency_key=idempotency_key,
        )  # fmt: skip

    taken = context.in_transaction(work)
    if taken.repeat:
        response.status_code = 200
    row = taken.request
    with context.read_sessions() as session:
        case = session.get(Case, row.case_id) if row.case_id else None
        state, code = (case.state, case.class_code) if case else (None, None)
    suggestions = taken.routed.suggestions if taken.routed else []
    return HotlineRead(
        request_id=row.id, ticket=row.token, case_id=row.case_id, case_state=state,
        class_code=code, routing=row.routing, joined=row.joined,
        suggestions=[SuggestionRead(class_code=s.class_code, name=s.name,
                                    confidence=round(s.confidence, 4)) for s in suggestions],
    )  # fmt: skip


@staff.get("/callbacks/due", response_model=DueCallbacksRead,
           summary="Residents waiting for a call-back (回访待办)")  # fmt: skip
def callbacks_due(context: ContextDep, caller: PersonDep) -> DueCallbacksRead:
    """Closed requests with a phone, no call-back and no rating of the resident's own, of
    the cases the caller may see, the longest closed first."""
    with context.read_sessions() as session:
        due = feedback.callbacks_due(session, caller.actor)
        services = {s.code: s.name for s in repository.active_services(session)}
        return DueCallbacksRead(items=[DueCallbackRead(
            request_id=r.id, ticket=r.token, case_id=c.id, closed_at=c.closed_at,
            service_name=services.get(r.service_code or ""), description=r.description,
            contact=_contact(r, full=True),
        ) for r, c in due])  # fmt: skip


@staff.post("/requests/{request_id}/callbacks", status_code=201, response_model=CallbackRead,
            summary="Record a call-back (回访); dissatisfied reopens the case")  # fmt: skip
def record_callback(
    request_id: int, body: CallbackIn, context: ContextDep, caller: PersonDep
) -> CallbackRead:
    def work(session: Session) -> CitizenCallback:
        env = context.case_env(session, context.clock.now())
        return feedback.record_callback(session, env, caller.actor, request_id, body)

    return _callback_read(context.in_transaction(work))


def _callback_read(row: CitizenCallback) -> CallbackRead:
    return CallbackRead(id=row.id, at=row.at, by=row.person_name, reached=row.reached,
                        rating=row.rating, note=row.note, reopened=row.reopened)  # type: ignore[arg-type]  # fmt: skip


@staff.get("/vocabulary", response_model=list[VocabularyTermRead],
           summary="The words residents use for each class, to classify")  # fmt: skip
def list_vocabulary(
    context: ContextDep, caller: PersonDep, class_code: str | None = None
) -> list[VocabularyTermRead]:
    """The district's own vocabulary (ids to remove a term by); empty while the district
    still uses the shipped one (`cityops import vocabulary` loads it)."""
    if not caller.has_role(*CLASSIFY_ROLES, "admin"):
        raise Forbidden(f"this needs one of the roles: {', '.join(CLASSIFY_ROLES)}, admin")
    with context.read_sessions() as session:
        return [VocabularyTermRead.model_validate(t)
                for t in repository.vocabulary_terms(session, class_code)]  # fmt: skip


@staff.post("/vocabulary", status_code=201, response_model=VocabularyTermRead,
            summary="Teach the classifier a word residents use for a class (admins)")  # fmt: skip
def add_term(body: VocabularyTermIn, context: ContextDep, caller: PersonDep) -> VocabularyTermRead:
    def work(session: Session) -> VocabularyTermRead:
        row = service.add_term(session, caller.actor, body, context.clock.now())
        return VocabularyTermRead.model_validate(row)

    read = context.in_transaction(work)
    context.classifier.invalidate()  # this process learns it now; others within the TTL
    return read


@staff.delete("/vocabulary/{term_id}", status_code=204, summary="Remove a word (admins)")
def remove_term(term_id: int, context: ContextDep, caller: PersonDep) -> Response:
    context.in_transaction(
        lambda session: service.remove_term(session, caller.actor, term_id, context.clock.now())
    )
    context.classifier.invalidate()
    return Response(status_code=204)


# -- the public page's endpoints: no account ---------------------------------------------

public = APIRouter(prefix="/public", tags=["residents"])


@public.get("/services", response_model=PublicServicesRead,
            summary="What residents may report, in the order offered")  # fmt: skip
def public_services(context: ContextDep) -> PublicServicesRead:
    with context.read_sessions() as session:
        return PublicServicesRead(items=[PublicServiceRead(
            code=s.code, name=s.name, group=s.group, description=s.description,
            keywords=list(s.keywords),
        ) for s in repository.active_services(session)])  # fmt: skip


@public.post("/suggest", response_model=PublicSuggestionsRead,
             summary="The likeliest services for what a resident typed")  # fmt: skip
def public_suggest(body: ClassifyIn, context: ContextDep) -> PublicSuggestionsRead:
    with context.read_sessions() as session:
        classifier = context.classifier.get(session)
        services = repository.active_services(session)
    by_class: dict[str, CitizenService] = {}
    for offered in services:
        by_class.setdefault(offered.class_code, offered)
    items: list[PublicSuggestionRead] = []
    for s in classifier.suggest(body.text, k=10):
        match = by_class.get(s.class_code)
        if match is not None and all(i.service_code != match.code for i in items):
            items.append(PublicSuggestionRead(service_code=match.code, name=match.name,
                                              confidence=round(s.confidence, 4)))  # fmt: skip
        if len(items) == 3:
            break
    return PublicSuggestionsRead(items=items)


@public.post("/phone-codes", status_code=202, response_model=PhoneCodeRead,
             summary="Send a code to a phone, to verify it with a report")  # fmt: skip
def send_phone_code(body: PhoneCodeIn, request: Request, context: ContextDep) -> PhoneCodeRead:
    """The code goes out through the configured SMS sender after it is recorded; asked
    again within a minute, or too often, 429."""
    client = request.client.host if request.client else ""
    secret = context.settings.secret_key
    code = context.in_transaction(lambda session: intake.issue_phone_code(
        session, secret, body.phone, client, context.clock.now()))  # fmt: skip
    try:
        context.sms.send(body.phone, intake.code_message(code))
    except SmsFailed as exc:
        raise Unavailable(f"the code could not be sent: {exc}; try again shortly") from None
    return PhoneCodeRead(expires_in=int(intake.CODE_TTL.total_seconds()),
                         resend_after=int(intake.RESEND_AFTER.total_seconds()))  # fmt: skip


@public.post("/reports", status_code=201, response_model=TakenRead,
             summary="A resident's report from the public page (multipart, no login)")  # fmt: skip
async def public_report(
    request: Request,
    response: Response,
    context: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> TakenRead:
    """Fields: `description`, `service_code` (none: the classifier chooses, or the
    call-taker), `lat`, `lon`, `address`, `name`, `phone` with the `code` sent to it, and
    up to three `photos` (JPEG, PNG or WebP). Answered after the commit with the ticket."""
    limit = context.settings.max_upload_bytes
    photos = []
    async with request.form() as form:
        fields = {k: v for k in form if k != "photos"
                  for v in [form.get(k)] if isinstance(v, str) and v.strip() != ""}  # fmt: skip
        for n, upload in enumerate(form.getlist("photos")):
            if isinstance(upload, str):
                if upload:
                    raise BadRequest.at(f"photos.{n}", "a file")
                continue
            data = await upload.read(limit + 1)
            kind = intake.photo_type(data) or "application/octet-stream"
            photos.append(Picture(data, upload.filename or f"photo-{n}", kind))
    return await run_in_threadpool(_public_report, context, fields, photos, idempotency_key,
                                   response)  # fmt: skip


def _public_report(context: Context, fields: dict[str, Any], photos: list[Picture],
                   idempotency_key: str | None, response: Response) -> TakenRead:  # fmt: skip
    try:
        sent = PublicReportIn.model_validate(fields)
    except ValidationError as exc:
        problems = [FieldProblem(p["path"], p["message"]) for p in validation_problems(exc)]
        raise Invalid("; ".join(f"{p.path}: {p.message}" for p in problems),
                      errors=problems) from None  # fmt: skip
    intake.check_photos(photos, context.settings.max_upload_bytes)
    if sent.phone and not sent.code:
        raise Invalid("code: give the code sent to your phone, or leave the phone out",
                      errors=[FieldProblem("code", "required with a phone")])  # fmt: skip
    if idempotency_key:
        with context.read_sessions() as session:
            earlier = repository.request_by_external_id(session, "web", f"key-{idempotency_key}")
            if earlier is not None:
                response.status_code = 200
                return _taken_read(session, earlier, repeat=True)
    secret = context.settings.secret_key
    if sent.phone and sent.code:
        phone, code = sent.phone, sent.code
        right = context.in_transaction(lambda session: intake.check_phone_code(
            session, secret, phone, code, context.clock.now()))  # fmt: skip
        if not right:
            raise Invalid("code: wrong or expired; ask for a new one",
                          errors=[FieldProblem("code", "wrong or expired")])  # fmt: skip
    threshold = context.settings.classify_auto_confidence

    def work(session: Session) -> TakenRead:
        now = context.clock.now()
        if sent.phone and sent.code:
            intake.use_phone_code(session, secret, sent.phone, sent.code, now)
        taken = intake.public_report(
            session, context.intake_env(session, now), context.storage,
            context.classifier.get(session), threshold, sent, photos,
            phone_verified=bool(sent.phone), idempotency_key=idempotency_key,
        )  # fmt: skip
        return _taken_read(session, taken.request, repeat=taken.repeat)

    return context.in_transaction(work)


def _taken_read(session: Session, row: CitizenRequest, *, repeat: bool) -> TakenRead:
    case = session.get(Case, row.case_id) if row.case_id else None
    state = State(case.state) if case else State.REPORTED
    name = None
    if row.service_code:
        offered = session.get(CitizenService, row.service_code)
        name = offered.name if offered else None
    if repeat:
        notice = f"此诉求已收到（编号 {row.token}），无需重复提交。"
    elif row.joined:
        notice = (f"您反映的问题此前已有人反映，已并入同一诉求一并办理。"
                  f"可凭编号 {row.token} 查询办理进度。")  # fmt: skip
    else:
        notice = f"已收到您的诉求，可凭编号 {row.token} 查询办理进度。"
    return TakenRead(
        ticket=row.token, status="closed" if state in feedback.RATED_STATES else "open",
        state=state.value, status_note=STATE_NOTES[state], service_code=row.service_code,
        service_name=name, joined=row.joined, notice=notice,
    )  # fmt: skip


@public.get("/tickets/{ticket}", response_model=TicketRead,
            summary="Follow a request by its ticket")  # fmt: skip
def read_ticket(ticket: str, context: ContextDep) -> TicketRead:
    with context.read_sessions() as session:
        return _ticket_read(feedback.read_ticket(session, ticket))


@public.post("/tickets/{ticket}/rating", response_model=TicketRead,
             summary="Rate how a closed request was handled; dissatisfied reopens it")  # fmt: skip
def rate_ticket(ticket: str, body: RatingIn, context: ContextDep) -> TicketRead:
    def work(session: Session) -> TicketRead:
        env = context.case_env(session, context.clock.now())
        return _ticket_read(feedback.rate(session, env, ticket, body))

    return context.in_transaction(work)


@public.get("/tickets/{ticket}/photos/{n}", response_model=None,
            summary="A photo the resident sent with the request")  # fmt: skip
def ticket_photo(ticket: str, n: int, context: ContextDep) -> Response:
    with context.read_sessions() as session:
        photo = feedback.ticket_photo(session, ticket, n)
    chunks: Iterator[bytes] = context.storage.open(photo.key)
    return StreamingResponse(chunks, media_type=photo.content_type,
                             headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip


def _ticket_read(found: feedback.Ticket) -> TicketRead:
    row, case = found.request, found.case
    state = State(case.state)
    rating = None
    if row.rating is not None and row.rated_at is not None:
        rating = RatingRead(rating=row.rating, comment=row.rating_comment or "",  # type: ignore[arg-type]
                            at=row.rated_at)  # fmt: skip
    return TicketRead(
        ticket=row.token,
        service_code=row.service_code,
        service_name=found.service.name if found.service else None,
        description=mask_personal(row.description),
        address=row.address_string,
        lat=row.lat,
        lon=row.lon,
        requested_at=row.requested_at,
        status="closed" if found.closed or state is State.CANCELLED else "open",
        state=state.value,
        status_note=STATE_NOTES[state],
        notes=[ProgressRead(at=at, text=text) for at, text in found.progress],
        answer=found.answer,
        photos=[
            PhotoRead(url=f"/api/v1/public/tickets/{row.token}/photos/{n}")
            for n in range(len(row.photo_ids))
        ],
        joined=row.joined,
        rating=rating,
        can_rate=found.can_rate,
    )
