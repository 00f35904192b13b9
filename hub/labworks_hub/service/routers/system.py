"""Service-level routes: health (no auth), who am I, Prometheus metrics, the API docs."""

from __future__ import annotations

import asyncio
import html
import json
from importlib.resources import files

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from ... import __version__
from ..auth import (
    TOKEN_COOKIE,
    XSRF_COOKIE,
    XSRF_HEADER,
    Caller,
    browser_caller,
    by_cookie,
    current_caller,
    require_scope,
    set_xsrf_cookie,
)
from ..errors import APIError
from ..store import StoreError

router = APIRouter()
# Swagger UI 5 as shipped by fastapi-offline, so the docs work without a CDN.
SWAGGER_STATIC = files("fastapi_offline") / "static"
SWAGGER_ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
# FastAPI's Swagger page, plus a request interceptor: "Try it out" with the login cookie sends
# the XSRF cookie's value in the XSRF header, as a write with the cookie needs (guard.py).
SWAGGER_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="shortcut icon" href="{assets}/favicon.png">
<title>Labworks API</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {openapi},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  requestInterceptor: (request) => {{
    const prefix = {cookie} + "=";
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    if (found) request.headers[{header}] = decodeURIComponent(found.slice(prefix.length));
    return request;
  }},
}});
</script>
</body>
</html>
"""


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
    """The Swagger UI; a browser logged in with the cookie gets (again) its XSRF cookie."""
    settings = request.app.state.settings
    api = settings.api_prefix
    page = HTMLResponse(
        SWAGGER_PAGE.format(
            assets=html.escape(api + "/docs/assets"),
            openapi=_js(api + "/openapi.json"),
            cookie=_js(XSRF_COOKIE),
            header=_js(XSRF_HEADER),
        )
    )
    if by_cookie(request):
        set_xsrf_cookie(page, request, settings, request.cookies[TOKEN_COOKIE])
    return page


def _js(value: str) -> str:
    """`value` as a JavaScript string literal that cannot end the <script> it is in."""
    return json.dumps(value).replace("<", "\\u003c")


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str, _caller: Caller = Depends(browser_caller)):
    """The Swagger UI files the docs page loads."""
    if name not in SWAGGER_ASSETS:
        raise APIError(404, f"no such docs asset: {name}")
    return FileResponse(str(SWAGGER_STATIC / name))
