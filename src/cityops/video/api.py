"""`/api/v1/detections` (video analytics in), `/api/v1/cameras` (the registry, zones, known
false positives, the latest snapshot) and the detection log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import select

from cityops.auth.service import Principal
from cityops.deps import AdminDep, ContextDep, NowDep, PersonDep, PrincipalDep, UowDep
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound, PayloadTooLarge
from cityops.kit.bus import UnitOfWork
from cityops.kit.pagination import Page, PageParams, paginate
from cityops.video import registry, repository
from cityops.video.models import Camera, Detection, FalsePositive, Zone
from cityops.video.schemas import (
    CameraIn,
    CameraPatch,
    CameraRead,
    DetectionBatchResult,
    DetectionRead,
    FalsePositiveIn,
    FalsePositiveRead,
    ZoneIn,
    ZoneRead,
)

router = APIRouter(tags=["video"])

# Snapshots inline in base64 make bodies large: a batch of a few dozen fits.
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_DETECTIONS = 1000
# Who may mark a detection as a known false positive: those who verify what cameras see.
VERIFY_ROLES = ("call_taker", "shift_leader", "dispatcher", "admin")


@router.post(
    "/detections",
    summary="Take in detections from video analytics (an object or an array)",
    response_model=DetectionBatchResult,
)
async def post_detections(
    request: Request, context: ContextDep, principal: PrincipalDep
) -> Response:
    """Each detection names its camera by code, the frame's time, the label and score, the
    box (normalised) or the zones, and the track it belongs to; snapshots as base64 or a
    URL. Answered after the commit, a result per detection in the order sent, with its
    verdict in each zone; a repeat of a `(source, detection_id)` is a `duplicate`."""
    if principal.api_key_id is None:
        raise Forbidden("detections come from a source's API key")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not JSON: {exc}",
                      errors=[FieldProblem("body", "not JSON")]) from None  # fmt: skip
    items = [payload] if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not items:
        raise Invalid("send a detection or a non-empty array of them",
                      errors=[FieldProblem("body", "object or array")])  # fmt: skip
    if len(items) > MAX_DETECTIONS:
        raise PayloadTooLarge(
            f"{len(items)} detections; at most {MAX_DETECTIONS} a request",
            errors=[FieldProblem("body", f"at most {MAX_DETECTIONS}")],
        )
    results = await context.detections.submit(principal, items)
    batch = DetectionBatchResult(
        accepted=sum(r.status == "created" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=results,
    )
    return Response(batch.model_dump_json(), media_type="application/json")


@router.get("/detections", summary="The detection log, newest first")
def list_detections(
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    camera: str | None = None,
    since: datetime | None = None,
    verdict: str | None = None,
) -> Page[DetectionRead]:
    query = (
        select(Detection)
        .join(Camera, Camera.id == Detection.camera_id)
        .where(repository.visible_cameras(caller.actor))
        .order_by(Detection.time.desc(), Detection.id.desc())
    )
    if camera:
        query = query.where(Camera.code == camera)
    if since:
        query = query.where(Detection.time >= since)
    rows, total = paginate(uow.session, query, page)
    items = [repository.detection_read(r) for r in rows]
    if verdict:
        items = [d for d in items if any(v["verdict"] == verdict for v in d.verdicts)]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# -- the registry -------------------------------------------------------------------------


def _visible(uow: UnitOfWork, caller: Principal, code: str) -> Camera:
    camera = uow.session.scalar(
        select(Camera).where(Camera.code == code, repository.visible_cameras(caller.actor))
    )
    if camera is None:
        raise NotFound(f"camera {code!r} not found")
    return camera


def _read(request: Request, camera: Camera, caller: Principal) -> CameraRead:
    url = str(request.url_for("camera_snapshot", code=camera.code))
    return repository.camera_read(camera, caller.actor, url)


@router.get("/cameras", summary="Cameras in your scope")
def list_cameras(
    request: Request,
    uow: UowDep,
    caller: PersonDep,
    page: Annotated[PageParams, Query()],
    grid: Annotated[str | None, Query(pattern=r"^\d{6,15}$")] = None,
    text: Annotated[str | None, Query(max_length=60)] = None,
) -> Page[CameraRead]:
    query = select(Camera).where(repository.visible_cameras(caller.actor)).order_by(Camera.code)
    if grid:
        query = query.where(Camera.grid_code.startswith(grid))
    if text:
        query = query.where(Camera.code.contains(text) | Camera.name.contains(text))
    rows, total = paginate(uow.session, query, page)
    return Page(items=[_read(request, c, caller) for c in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.post("/cameras", status_code=201, summary="Register a camera")
def create_camera(
    request: Request, data: CameraIn, uow: UowDep, admin: AdminDep, context: ContextDep,
    now: NowDep,
) -> CameraRead:  # fmt: skip
    row = registry.create_camera(uow.session, admin, data, now, context.grids.get(uow.session))
    uow.commit()
    return _read(request, row, admin)


@router.get("/cameras/{code}", summary="A camera")
def get_camera(request: Request, code: str, uow: UowDep, caller: PersonDep) -> CameraRead:
    return _read(request, _visible(uow, caller, code), caller)


@router.patch(
    "/cameras/{code}", summary="Change a camera (its status: online, offline, maintenance)"
)
def update_camera(
    request: Request, code: str, patch: CameraPatch, uow: UowDep, admin: AdminDep,
    context: ContextDep, now: NowDep,
) -> CameraRead:  # fmt: skip
    row = registry.update_camera(uow.session, admin, code, patch, now,
                                 context.grids.get(uow.session))  # fmt: skip
    uow.commit()
    return _read(request, row, admin)


@router.get(
    "/cameras/{code}/snapshot",
    name="camera_snapshot",
    summary="The latest snapshot",
    response_model=None,
)
def camera_snapshot(
    code: str, uow: UowDep, caller: PersonDep, context: ContextDep
) -> StreamingResponse | RedirectResponse:
    camera = _visible(uow, caller, code)
    if camera.last_snapshot_key is None:
        raise NotFound(f"camera {code!r} has sent no snapshot yet")
    url = context.storage.url(camera.last_snapshot_key, 300)
    if url:
        return RedirectResponse(url, status_code=307)
    chunks: Iterator[bytes] = context.storage.open(camera.last_snapshot_key)
    return StreamingResponse(chunks, media_type="image/jpeg",
                             headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/cameras/{code}/zones", summary="A camera's zones and their rules")
def list_zones(code: str, uow: UowDep, caller: PersonDep) -> list[ZoneRead]:
    camera = _visible(uow, caller, code)
    rows = uow.session.scalars(select(Zone).where(Zone.camera_id == camera.id).order_by(Zone.code))
    return [ZoneRead.model_validate(z) for z in rows]


@router.put("/cameras/{code}/zones/{zone}", summary="Create or replace a zone (checked on save)")
def put_zone(
    code: str, zone: str, data: ZoneIn, uow: UowDep, admin: AdminDep, context: ContextDep,
    now: NowDep, response: Response,
) -> ZoneRead:  # fmt: skip
    if data.code != zone:
        raise Invalid("the zone's code differs from the path's",
                      errors=[FieldProblem("code", f"must be {zone!r}")])  # fmt: skip
    classes = set(context.catalog.get(uow.session).classes)
    row, created = registry.save_zone(uow.session, admin, code, data, now, classes)
    uow.commit()
    response.status_code = 201 if created else 200
    return ZoneRead.model_validate(row)


@router.delete("/cameras/{code}/zones/{zone}", status_code=204, summary="Retire a zone")
def delete_zone(code: str, zone: str, uow: UowDep, admin: AdminDep, now: NowDep) -> Response:
    registry.delete_zone(uow.session, admin, code, zone, now)
    uow.commit()
    return Response(status_code=204)


@router.get("/cameras/{code}/false-positives", summary="Known false positives of a camera")
def list_false_positives(code: str, uow: UowDep, caller: PersonDep) -> list[FalsePositiveRead]:
    camera = _visible(uow, caller, code)
    rows = uow.session.scalars(
        select(FalsePositive).where(FalsePositive.camera_id == camera.id).order_by(FalsePositive.id)
    )
    return [FalsePositiveRead.model_validate(r) for r in rows]


@router.post("/cameras/{code}/false-positives", status_code=201,
             summary="Mark a detection (or a label and box) as a known false positive")  # fmt: skip
def add_false_positive(
    code: str, data: FalsePositiveIn, uow: UowDep, caller: PersonDep, now: NowDep
) -> FalsePositiveRead:
    if not caller.has_role(*VERIFY_ROLES):
        raise Forbidden("only the centre's staff mark false positives")
    _visible(uow, caller, code)
    row = registry.add_false_positive(uow.session, caller, code, data, now)
    uow.commit()
    return FalsePositiveRead.model_validate(row)
