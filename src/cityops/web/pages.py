"""Page routes: HTML shells that the browser fills from the same API everyone else uses.

The pages carry no data of their own: the app logs in through `/api/v1/auth/token`, reads
through the API and listens on `/api/v1/ws`, so every role and scope check is the API's.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

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


@router.get("/app/", response_class=HTMLResponse)
def worker_app(request: Request) -> HTMLResponse:
    """The grid worker's phone app: my tasks, live."""
    settings = request.app.state.context.settings
    return templates.TemplateResponse(
        request,
        "worker.html",
        {"lang": language(request), "timezone": settings.timezone, "tiles": settings.map_tile_url},
    )
