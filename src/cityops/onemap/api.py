"""`/api/v1/onemap`: the one map's layers and classes for the page, conflict runs
(多规合一比对) with their summaries and exports, and each conflict patch: its detail, a case
for the planning department, and its resolution.

Reading is for any logged-in staff. Running a comparison and opening a case are for
planners, shift leaders and admins; a resolution is recorded by a planner or admin, or by a
handler of the department the patch's case went to.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from cityops.auth.service import Principal, record_audit
from cityops.bootstrap import Context
from cityops.cases.models import Case
from cityops.cases.schemas import ActionRequest
from cityops.cases.service import act
from cityops.cases.workflow import Action, Actor, IllegalTransition
from cityops.deps import ContextDep, PersonDep, require_roles
from cityops.errors import Forbidden, Invalid
from cityops.onemap import repository, service
from cityops.onemap.conflicts import Tolerances
from cityops.onemap.models import RESOLUTION_NAMES_ZH
from cityops.onemap.schemas import (
    CaseOpened,
    ConflictDetailRead,
    ConflictPage,
    LandUseClassRead,
    LayerRead,
    ResolutionIn,
    RunIn,
    RunRead,
    RunSummaryRead,
)

router = APIRouter(prefix="/onemap", tags=["onemap"])

PLANNING_ROLES = ("planner", "shift_leader")
Planner = Annotated[Principal, require_roles(*PLANNING_ROLES)]


@router.get("/layers", response_model=list[LayerRead], summary="The one map's layers")
def layers(context: ContextDep, _caller: PersonDep) -> list[LayerRead]:
    """Every layer with its current version's metadata and feature count by class."""
    with context.read_sessions() as session:
        return repository.layers(session)


@router.get("/classes", response_model=list[LandUseClassRead],
            summary="The 2023 land and sea use classes, with the map's colours")  # fmt: skip
def classes(_caller: PersonDep) -> list[LandUseClassRead]:
    return repository.classes()


@router.post("/conflicts/runs", status_code=201, response_model=RunRead,
             summary="Compare layers (多规合一比对) and keep what was found")  # fmt: skip
def start_run(body: RunIn, context: ContextDep, caller: Planner) -> RunRead:
    """Runs at once, in this request: fine for a district's layers (seconds). A whole city's
    runs from the command line (`cityops conflicts`), with progress and resumption."""

    def work(session: Session) -> RunRead:
        now = context.clock.now()
        row = service.run(session, body.layers, now=now, by=caller.label, note=body.note,
                          tolerances=Tolerances(body.min_area_m2, body.min_width_m))  # fmt: skip
        record_audit(session, caller, "onemap.run", "conflict_run", row.id, now=now,
                     after={"layers": body.layers, "patches": row.patch_count})  # fmt: skip
        return RunRead.model_validate(row)

    return context.in_transaction(work)


@router.get("/conflicts/runs", response_model=list[RunRead], summary="Conflict runs")
def runs(context: ContextDep, _caller: PersonDep) -> list[RunRead]:
    with context.read_sessions() as session:
        return [RunRead.model_validate(r) for r in service.list_runs(session)]


def _run_id(raw: str) -> int | None:
    if raw == "latest":
        return None
    if not raw.isdigit():
        raise Invalid("run_id: a number or `latest`")
    return int(raw)


@router.get("/conflicts/runs/{run_id}", response_model=RunSummaryRead,
            summary="A run with its summary by class pair and by street")  # fmt: skip
def run_summary(run_id: str, context: ContextDep, _caller: PersonDep) -> RunSummaryRead:
    """`latest` is the latest finished run."""
    with context.read_sessions() as session:
        row = service.get_run(session, _run_id(run_id))
        summary = service.summarise(session, row.id)
        return RunSummaryRead(run=RunRead.model_validate(row), by_pair=summary.by_pair,
                              by_street=summary.by_street)  # fmt: skip


@router.get("/conflicts/runs/{run_id}/patches", response_model=ConflictPage,
            summary="A run's conflict patches, the largest first")  # fmt: skip
def patches(
    run_id: str,
    context: ContextDep,
    _caller: PersonDep,
    street: Annotated[str | None, Query(max_length=15, description="A street's code")] = None,
    state: Annotated[str | None, Query(max_length=12)] = None,
    rule: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConflictPage:
    with context.read_sessions() as session:
        row = service.get_run(session, _run_id(run_id))
        total, items = repository.conflicts(session, row.id, street=street, state=state,
                                            rule=rule, limit=limit, offset=offset)  # fmt: skip
        return ConflictPage(total=total, items=items)


Export = Literal["gpkg", "geojson", "xlsx", "csv"]
MEDIA = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}  # fmt: skip


@router.get("/conflicts/runs/{run_id}/export", summary="A run's report as a file",
            response_class=FileResponse)  # fmt: skip
def export(
    run_id: str,
    context: ContextDep,
    _caller: PersonDep,
    f: Export = "gpkg",
    table: Literal["pairs", "streets"] = "pairs",
) -> FileResponse:
    """Patches as GeoPackage or GeoJSON (`f=gpkg|geojson`); the summary as XLSX or CSV
    (`f=xlsx|csv`), by class pair or by street (`table`)."""
    folder = Path(tempfile.mkdtemp(prefix="cityops-export-"))
    with context.read_sessions() as session:
        row = service.get_run(session, _run_id(run_id))
        name = f"conflicts-{row.id}"
        if f in ("gpkg", "geojson"):
            path = folder / f"{name}.{f}"
            service.write_patches(session, row.id, path)
        else:
            pairs, streets = service.write_summary(service.summarise(session, row.id),
                                                   folder / f"{name}.{f}")  # fmt: skip
            path = pairs if table == "pairs" else streets
    cleanup = BackgroundTask(_remove, folder)
    return FileResponse(path, media_type=MEDIA[f], filename=path.name, background=cleanup)


def _remove(folder: Path) -> None:
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


@router.get("/conflicts/{conflict_id}", response_model=ConflictDetailRead,
            summary="A conflict patch: its geometry, both sides, case and resolution")  # fmt: skip
def conflict(conflict_id: int, context: ContextDep, _caller: PersonDep) -> ConflictDetailRead:
    with context.read_sessions() as session:
        return repository.detail(session, conflict_id)


@router.post("/conflicts/{conflict_id}/case", response_model=CaseOpened,
             summary="Hand a conflict patch to the planning department as a case")  # fmt: skip
def open_case(conflict_id: int, context: ContextDep, caller: Planner) -> CaseOpened:
    """The case (class E0606) is filed and dispatched to the class's department by the
    automation rule `onemap-conflict-route`. Asked again, the same case."""

    def work(session: Session) -> CaseOpened:
        now = context.clock.now()
        env = context.intake_env(session, now)
        before = service.get_conflict(session, conflict_id).case_id
        case_id = service.open_case(session, env, caller.actor, conflict_id, now=now)
        if before is None:
            record_audit(session, caller, "onemap.open_case", "conflict", conflict_id, now=now,
                         after={"case_id": case_id})  # fmt: skip
        case = session.get(Case, case_id)
        return CaseOpened(conflict_id=conflict_id, case_id=case_id,
                          case_state=case.state if case else None)  # fmt: skip

    return context.in_transaction(work)


@router.post("/conflicts/{conflict_id}/resolution", response_model=ConflictDetailRead,
             summary="Record how a conflict patch was settled")  # fmt: skip
def resolve(
    conflict_id: int, body: ResolutionIn, context: ContextDep, caller: PersonDep
) -> ConflictDetailRead:
    """Noted on the patch's case too, while it is open."""

    def work(session: Session) -> None:
        now = context.clock.now()
        row = service.get_conflict(session, conflict_id)
        _may_resolve(session, caller, row.case_id)
        was = row.state
        row = service.resolve(session, caller.actor, conflict_id, body.resolution, body.note,
                              now=now)  # fmt: skip
        if was == row.state:
            return  # the same answer again
        record_audit(session, caller, "onemap.resolve", "conflict", conflict_id, now=now,
                     before={"state": was}, after={"resolution": body.resolution.value,
                                                   "note": row.resolution_note})  # fmt: skip
        if row.case_id is not None:
            text = (f"规划冲突图斑 {row.id} 已处理：{RESOLUTION_NAMES_ZH[body.resolution]}。"
                    f"{row.resolution_note}（{caller.actor.name}）")  # fmt: skip
            _note_on_case(session, context, row.case_id, text)

    context.in_transaction(work)
    with context.read_sessions() as session:
        return repository.detail(session, conflict_id)


def _may_resolve(session: Session, caller: Principal, case_id: int | None) -> None:
    if caller.has_role("planner", "admin"):
        return
    if caller.has_role("department_handler") and case_id is not None:
        case = session.get(Case, case_id)
        if case is not None and case.department_id == caller.actor.department_id:
            return
    raise Forbidden("a planner, or a handler of the department the patch's case went to")


def _note_on_case(session: Session, context: Context, case_id: int, text: str) -> None:
    # A closed case takes no more notes: the patch keeps the resolution all the same.
    with contextlib.suppress(IllegalTransition):
        act(session, context.case_env(session, context.clock.now()), Actor.system("一张图"),
            case_id, ActionRequest(action=Action.NOTE.value, note=text[:2000]))  # fmt: skip
