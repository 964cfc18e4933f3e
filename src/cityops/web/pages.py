"""Page routes: HTML shells that the browser fills from the same API everyone else uses.

The pages carry no data of their own: the app logs in through `/api/v1/auth/token`, reads
through the API and listens on `/api/v1/ws`, so every role and scope check is the API's.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from cityops.onemap.api import PLANNING_ROLES
from cityops.sensing.api import ALARM_ROLES
from cityops.video.api import VERIFY_ROLES

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)


def language(request: Request) -> str:
    """Chinese unless the browser or the `lang` query asks for English."""
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "en" if asked.lower().startswith("en") else "zh"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


def _page(request: Request, template: str, **extra: object) -> HTMLResponse:
    settings = request.app.state.context.settings
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": language(request),
            "timezone": settings.timezone,
            "tiles": settings.map_tile_url,
            **extra,
        },
    )


@router.get("/app/", response_class=HTMLResponse)
def worker_app(request: Request) -> HTMLResponse:
    """The field staff's phone app: my tasks, live."""
    return _page(request, "worker.html")


@router.get("/console/", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    """The dispatcher's console: the centre's work queues, live."""
    return _page(request, "console.html")


@router.get("/sensors/", response_class=HTMLResponse)
def sensors(request: Request) -> HTMLResponse:
    """The sensors: devices on a map coloured by state, a device's readings charted against
    its thresholds, and the alarms, live."""
    # The page shows acknowledge and clear only to the roles the API lets do them.
    return _page(request, "sensors.html", alarm_roles=" ".join((*ALARM_ROLES, "admin")))


@router.get("/video/", response_class=HTMLResponse)
def video(request: Request) -> HTMLResponse:
    """The video wall: cameras on a map and as tiles of their latest snapshots with their
    zones drawn, the detections live with their verdicts, and the zone editor for admins."""
    # The page offers "mark as a false positive" only to the roles the API lets do it.
    return _page(request, "video.html", verify_roles=" ".join(VERIFY_ROLES))


@router.get("/onemap/", response_class=HTMLResponse)
def onemap(request: Request) -> HTMLResponse:
    """The one map (国土空间“一张图”): the layers in a tree, styled by land-use class, with
    their attributes on a click; the latest comparison's conflict patches highlighted with
    their report; and the cockpit view of conflicts by street."""
    # The page offers "open a case" only to the roles the API lets do it.
    return _page(request, "onemap.html", planning_roles=" ".join((*PLANNING_ROLES, "admin")))


# Where a map opens when there is nothing of the district's to fit it to.
FALLBACK_CENTRE = (29.561, 106.572)


def _district_centre(request: Request) -> tuple[float, float]:
    """The middle of the district's grids (lat, lon): where a resident's map opens."""
    context = request.app.state.context
    with context.read_sessions() as session:
        grids = context.grids.get(session)
    if not len(grids):
        return FALLBACK_CENTRE
    minx, miny, maxx, maxy = shapely.total_bounds(grids.geometries)
    return (miny + maxy) / 2, (minx + maxx) / 2


@router.get("/report/", response_class=HTMLResponse)
def report(request: Request) -> HTMLResponse:
    """The residents' phone page: report a problem without an account, get a ticket."""
    lat, lon = _district_centre(request)
    return _page(request, "report.html", centre_lat=f"{lat:.6f}", centre_lon=f"{lon:.6f}")


@router.get("/report/track", response_class=HTMLResponse)
def track(request: Request) -> HTMLResponse:
    """The residents' tracking page: a ticket's progress and answer, and its rating.
    The ticket comes in `?ticket=`; the page asks the public API for the rest."""
    return _page(request, "track.html")


@router.get("/app/manifest.webmanifest")
def worker_manifest(request: Request) -> JSONResponse:
    """Makes the phone app installable (a PWA) on the home screen, in the user's language."""
    zh = language(request) == "zh"
    manifest = {
        "name": "城市运行网格任务" if zh else "cityops field tasks",
        "short_name": "网格任务" if zh else "Field tasks",
        "lang": "zh-CN" if zh else "en",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "background_color": "#f3f5f8",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JSONResponse(manifest, media_type="application/manifest+json")


@router.get("/app/sw.js")
def worker_service_worker() -> FileResponse:
    """The service worker, served under /app/ so that it may control the app's pages."""
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},  # a new version takes effect on the next visit
    )


@router.get("/enforcement/", response_class=HTMLResponse)
def enforcement_desk(request: Request) -> HTMLResponse:
    """The enforcement desk (执法工作台): inspection plans and random draws, joint
    inspections and their invitations, inspections and penalty cases with their deadlines."""
    return _page(request, "enforcement_desk.html")


@router.get("/enforcement/app/", response_class=HTMLResponse)
def enforcement_app(request: Request) -> HTMLResponse:
    """The officer's phone page (移动执法): today's inspections, checklists, photos,
    signatures and the documents."""
    return _page(request, "enforcement_app.html")


@router.get("/enforcement/supervision/", response_class=HTMLResponse)
def enforcement_supervision(request: Request) -> HTMLResponse:
    """The supervisor's page (执法监督): flags with their evidence, trends per agency and
    the drill-down to the inspection or case."""
    return _page(request, "enforcement_supervision.html")


@router.get("/enforcement/public/", response_class=HTMLResponse)
def enforcement_public(request: Request) -> HTMLResponse:
    """The public entrance (办事入口): published inspection results and penalty decisions,
    a business's own notices and deadlines with proof of rectification, complaints."""
    return _page(request, "enforcement_public.html")
