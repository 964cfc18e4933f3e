"""The FastAPI application: routers listed explicitly, one error handler, context on state."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from cityops import __version__, problems
from cityops.auth.api import router as auth_router
from cityops.bootstrap import Context, build_context
from cityops.cases.api import router as cases_router
from cityops.catalog.api import router as catalog_router
from cityops.citizens import api as open311
from cityops.config import Settings, get_settings
from cityops.enforcement.businesses.api import router as businesses_router
from cityops.enforcement.documents.api import router as documents_router
from cityops.enforcement.inspections.api import router as inspections_router
from cityops.enforcement.inspections.plans_api import router as plans_router
from cityops.enforcement.penalties.api import router as penalties_router
from cityops.enforcement.public import api as enforcement_public
from cityops.enforcement.registries.api import router as enforcement_router
from cityops.enforcement.supervision.api import router as supervision_router
from cityops.ingest.api import router as ingest_router
from cityops.ingest.sensorthings.api import router as sta_router
from cityops.kpi.api import router as kpi_router
from cityops.migrate import ensure_migrated
from cityops.notify.api import router as notify_router
from cityops.onemap import ogcapi
from cityops.onemap.api import router as onemap_router
from cityops.org.api import router as org_router
from cityops.sensing.api import router as sensing_router
from cityops.video.api import router as video_router
from cityops.web.pages import STATIC_DIR
from cityops.web.pages import router as web_router
from cityops.worktime.api import router as calendar_router

API_PREFIX = "/api/v1"

# Every context's router, in one place (habit 6: explicit registries).
# Routes are matched in order: the ingest route, the busiest by far, is tried first.
ROUTERS: list[APIRouter] = [
    ingest_router,
    sensing_router,
    video_router,
    auth_router,
    org_router,
    catalog_router,
    calendar_router,
    cases_router,
    kpi_router,
    notify_router,
    open311.staff,
    open311.public,
    onemap_router,
    enforcement_router,
    businesses_router,
    documents_router,
    inspections_router,
    plans_router,
    penalties_router,
    supervision_router,
    enforcement_public.staff,
    enforcement_public.public,
]
# Open standards, each at its own prefix outside /api/v1 (OGC SensorThings at /sta/v1.1).
STANDARDS: list[APIRouter] = [sta_router, open311.router, ogcapi.router]
# The pages, served at the root.
PAGES: list[APIRouter] = [web_router]


def create_app(
    settings: Settings | None = None, *, context: Context | None = None, check_schema: bool = True
) -> FastAPI:
    """Build the application. Refuses to start on a database that is not migrated."""
    settings = settings or get_settings()
    context = context or build_context(settings)
    if check_schema:
        ensure_migrated(context.engine)
    logging.basicConfig(level=settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The objects built at start-up live as long as the process: keep them out of the
        # collector's scans, and collect less often, so that a full collection does not
        # stall requests for tens of milliseconds under load.
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        context.start_delivery(asyncio.get_running_loop())
        sweepers = context.scheduled_work() if settings.run_scheduler else []
        for sweeper in sweepers:
            sweeper.start()
        consumer = None
        if settings.mqtt_enabled:  # one process only: see `cityops mqtt`
            from cityops.ingest.mqtt import ReadingsConsumer

            consumer = ReadingsConsumer(context)
            consumer.start()
        yield
        if consumer is not None:
            consumer.stop()
        for sweeper in sweepers:
            sweeper.stop()
        context.stop_delivery()

    app = FastAPI(
        lifespan=lifespan,
        title="cityops",
        version=__version__,
        description="城市运行和治理中心 — the closed loop of city management",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.context = context
    problems.install(
        app, {open311.ROOT + "/": open311.error_response, ogcapi.ROOT: ogcapi.error_response}
    )
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in STANDARDS:
        app.include_router(router)
    for router in PAGES:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get(f"{API_PREFIX}/health", tags=["meta"], summary="Liveness and version")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
