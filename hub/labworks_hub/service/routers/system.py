"""Service-level routes: health (no auth), who am I, Prometheus metrics, the API docs."""

from __future__ import annotations

import asyncio
from importlib.resources import files

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from ... import __version__
from ..auth import Caller, browser_caller, current_caller, require_scope
from ..errors import APIError
from ..store import StoreError

router = APIRouter()
# Swagger UI 5 as shipped by fastapi-offline, so the docs work without a CDN.
SWAGGER_STATIC = files("fastapi_offline") / "static"
SWAGGER_ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}


class Health(BaseModel):
    status: str
    version: str


class Me(BaseModel):
    name: str
    kind: str
    groups: list[str]
    admin: bool


@router.get("/health", response_model=Health, tags=["system"])
async def health(request: Request) -> Health:
    """Liveness and version; the only route that needs no token. 503 if the store is down."""
    try:
        await asyncio.to_thread(request.app.state.store.check)
    except StoreError as e:
        raise APIError(503, str(e)) from None
    return Health(status="ok", version=__version__)


@router.get("/me", response_model=Me, tags=["system"])
async def me(caller: Caller = Depends(current_caller)) -> Me:
    """The caller behind the token: name, groups, admin."""
    return Me(name=caller.name, kind=caller.kind, groups=list(caller.groups), admin=caller.admin)


@router.get("/metrics", tags=["system"], response_class=Response)
async def metrics(request: Request, _caller: Caller = Depends(require_scope("read:metrics"))):
    """Prometheus metrics of this service."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request, _caller: Caller = Depends(browser_caller)):
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
async def docs(request: Request, _caller: Caller = Depends(browser_caller)):
    api = request.app.state.settings.api_prefix
    return get_swagger_ui_html(
        openapi_url=api + "/openapi.json",
        title="Labworks API",
        swagger_js_url=api + "/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=api + "/docs/assets/swagger-ui.css",
        swagger_favicon_url=api + "/docs/assets/favicon.png",
    )


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str, _caller: Caller = Depends(browser_caller)):
    """The Swagger UI files the docs page loads."""
    if name not in SWAGGER_ASSETS:
        raise APIError(404, f"no such docs asset: {name}")
    return FileResponse(str(SWAGGER_STATIC / name))
