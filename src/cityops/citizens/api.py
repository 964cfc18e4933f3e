"""Open311 GeoReport v2 at `/open311/v2`: discovery, services and their definitions,
requests in (form-encoded, with an API key) and out, tokens, and the widely used updates
extension (mySociety's `servicerequestupdates`) both ways. Every path answers in JSON or
XML: by its `.json`/`.xml` suffix as the specification writes them, else by the Accept
header (JSON by default). Errors come in the specification's own format
(`errors/error/code, description`), with the HTTP status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cityops.auth.service import Principal
from cityops.bootstrap import Context
from cityops.cases.models import CaseStep
from cityops.cases.workflow import State
from cityops.citizens import repository, service
from cityops.citizens.models import CitizenRequest, CitizenService
from cityops.citizens.schemas import (
    CitizenRequestRead,
    ClassifyIn,
    ClassifyRead,
    ContactRead,
    SuggestionRead,
    form_to_request,
)
from cityops.citizens.service import STATE_NOTES, RequestQuery, Taken, mask_personal
from cityops.deps import ContextDep, PersonDep, PrincipalDep
from cityops.errors import BadRequest, DomainError, Forbidden, NotFound, Unauthorized

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
    residents back), masked for everyone else who may see the case."""
    actor = caller.actor
    full = service.sees_contacts(actor)
    with context.read_sessions() as session:
        rows = service.requests_of_case(session, actor, case_id)
        return [_request_read(r, full) for r in rows]


def _request_read(row: CitizenRequest, full: bool) -> CitizenRequestRead:
    contact = ContactRead(
        first_name=row.first_name if full else service.mask_name(row.first_name),
        last_name=row.last_name if full else service.mask_name(row.last_name),
        email=row.email if full else service.mask_email(row.email),
        phone=row.phone if full else service.mask_phone(row.phone),
        masked=not full,
    )
    return CitizenRequestRead(
        id=row.id, token=row.token, channel=row.channel, service_code=row.service_code,
        case_id=row.case_id,
        description=row.description if full else mask_personal(row.description),
        lon=row.lon, lat=row.lat, address_string=row.address_string, media_url=row.media_url,
        attributes=row.attributes, requested_at=row.requested_at, contact=contact,
    )  # fmt: skip
