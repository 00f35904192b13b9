"""The platform service's front door: checks made before a route runs or reads a body, and
what every answer carries. No business logic: routes still decide what a caller may do.

For a request that matches a route of the platform API, `RequestGuard`:

1. authenticates, when the route takes a body, before a byte of it is read (hub token or login
   cookie, through `auth.authenticate`, which keeps the caller on the request for
   `current_caller`): an anonymous or refused caller is answered at once (401/403/503);
2. refuses (403) a write (POST, PUT, PATCH, DELETE) authenticated by the login cookie unless it
   carries the login's XSRF token in `X-XSRFToken` and comes from this service's own origin
   (`Origin`, else `Referer`): what a cross-site page can send lacks both;
3. refuses (415) another content type than JSON on a JSON route (a cross-site form can post
   `text/plain` without asking first); routes that take raw bytes keep theirs;
4. limits the body (413): by its Content-Length at once, and by counting a chunked one's bytes as
   the route reads it, which it still does as a stream;
5. refuses (400) a NUL character in the path or query, which no field may hold (PostgreSQL
   cannot store one, so it would fail deep in a query).

Every answer of the service, the MLflow mount's included, gets `frame-ancestors 'none'`,
`X-Frame-Options: DENY` and `nosniff`. The MLflow mount is otherwise left to its gate
(tracking/gate.py), which authenticates before MLflow reads anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import (
    TOKEN_COOKIE,
    XSRF_COOKIE,
    XSRF_HEADER,
    authenticate,
    by_cookie,
    normal_origin,
    request_origin,
    xsrf_token,
)
from .errors import APIError, error_response

JSON_LIMIT = 2**20  # the body of a JSON route that carries no notebook
RAW = "application/octet-stream"  # what a route that takes raw bytes declares
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FRAME_ANCESTORS = "frame-ancestors 'none'"


@dataclass(frozen=True)
class BodyLimits:
    """The largest body, in bytes, of each kind of route. `notebook` and `raw` are asked per
    request: they live in the job service, which the app builds after the guard, and in the
    artifact store (`app.state.artifacts`), which the operator's configuration may replace."""

    notebook: Callable[[], int]  # routes reading a JSON body themselves (they carry notebooks)
    raw: Callable[[], int]  # routes taking raw bytes (dataset blobs)
    json: int = JSON_LIMIT  # every other route
    routes: Mapping[str, int] = field(default_factory=dict)  # route path -> a larger JSON limit


@dataclass(frozen=True)
class BodyRule:
    limit: int
    kind: str  # "json", "raw" or "none" (the route reads no body)


def body_rule(route: APIRoute, path: str, limits: BodyLimits) -> BodyRule:
    """What body `route` (at the full `path`) takes, from its declaration: a request body it
    documents itself (`openapi_extra`, as it reads the body itself) or a pydantic body."""
    declared = ((route.openapi_extra or {}).get("requestBody") or {}).get("content") or {}
    if RAW in declared:
        return BodyRule(limits.raw(), "raw")
    if declared:
        return BodyRule(limits.notebook(), "json")
    if route.body_field is not None:
        return BodyRule(limits.routes.get(path, limits.json), "json")
    return BodyRule(limits.json, "none")


class RequestGuard:
    """ASGI middleware of the platform service (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits
        self._routes: list[RouteContext] | None = None  # the app's, once it serves

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _secured(send)
        found = self._route_of(scope)
        route = found.original_route if found else None
        if found is None or not isinstance(route, APIRoute):  # 404, 405, the MLflow mount
            await self.app(scope, receive, send)
            return
        rule = body_rule(route, found.path_format or "", self.limits)
        refusal = await _refusal(Request(scope), rule)
        if refusal is not None:
            await error_response(refusal.status, refusal.message, refusal.code)(
                scope, receive, send
            )
            return
        await _limited(self.app, rule.limit)(scope, receive, send)

    def _route_of(self, scope: Scope) -> RouteContext | None:
        """The route the app's router will run for this request (its first full match)."""
        if self._routes is None:
            self._routes = list(iter_route_contexts(scope["app"].routes))
        for route in self._routes:
            match, _ = route.matches(dict(scope))
            if match == Match.FULL:
                return route
        return None


async def _refusal(request: Request, rule: BodyRule) -> APIError | None:
    """Why the request is refused before its route runs, or None."""
    if rule.kind != "none":
        try:
            await authenticate(request)
        except APIError as e:
            return e
    if request.method not in SAFE_METHODS and by_cookie(request):
        problem = _browser_write_problem(request)
        if problem:
            return APIError(403, problem)
    content_type = request.headers.get("content-type", "")
    if rule.kind == "json" and _has_body(request) and not _is_json(content_type):
        sent = content_type.split(";")[0].strip() or "none"
        return APIError(
            415, f"this route takes JSON: send 'Content-Type: application/json', not {sent}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > rule.limit:
        return _too_large(rule.limit)
    if "\x00" in request.url.path or b"%00" in request.scope.get("query_string", b""):
        return APIError(400, "the address holds a NUL character (%00), which no field may hold")
    return None


def _browser_write_problem(request: Request) -> str | None:
    """What a write authenticated by the login cookie lacks to be the user's own, or None."""
    ours = request_origin(request)
    sent = _origin_of(request.headers.get("origin") or request.headers.get("referer", ""))
    if sent != ours:
        return (
            f"a write with the login cookie must come from a page of {ours}, not from"
            f" {sent or 'a page that sent no Origin or Referer'}"
        )
    expected = xsrf_token(request.app.state.settings, request.cookies[TOKEN_COOKIE])
    if not secrets.compare_digest(request.headers.get(XSRF_HEADER, "").encode(), expected.encode()):
        return (
            f"a write with the login cookie needs the {XSRF_HEADER} header holding the"
            f" {XSRF_COOKIE} cookie (the API docs page sends it), or use a hub token:"
            " 'Authorization: token <hub token>'"
        )
    return None


def _origin_of(url: str) -> str | None:
    """The origin of an Origin or Referer value; None for none, `null` or garbage."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return normal_origin(parts.scheme, parts.netloc) if parts.scheme and parts.netloc else None


def _has_body(request: Request) -> bool:
    """Whether the request carries a body (a POST with none, e.g. a rerun, needs no type)."""
    length = request.headers.get("content-length", "")
    return "transfer-encoding" in request.headers or (length != "" and length != "0")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _too_large(limit: int) -> APIError:
    return APIError(
        413, f"the request body is over this route's limit of {_size(limit)} ({limit} bytes)"
    )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n} bytes"


def _limited(app: ASGIApp, limit: int) -> ASGIApp:
    """`app` reading a body of at most `limit` bytes: past it, the guard answers 413 itself, the
    app sees the client gone (Starlette's ClientDisconnect), and what it does next is dropped."""

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        received, started, cut = 0, False, False

        async def counted() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= limit:
                return message
            cut = True
            if not started:
                refusal = _too_large(limit)
                await error_response(refusal.status, refusal.message)(scope, receive, send)
            return {"type": "http.disconnect"}

        async def sending(message: Message) -> None:
            nonlocal started
            if cut:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, counted, sending)
        except Exception:
            if not cut:  # after the cut, the app failing to read the rest is expected
                raise

    return run


def _secured(send: Send) -> Send:
    """`send` adding the headers that keep every page of the service out of other sites'
    frames and stop browsers from guessing content types."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            policy = [
                d.strip()
                for d in headers.get("content-security-policy", "").split(";")
                if d.strip() and not d.strip().lower().startswith("frame-ancestors")
            ]
            headers["content-security-policy"] = "; ".join([*policy, FRAME_ANCESTORS])
            headers["x-frame-options"] = "DENY"
            headers["x-content-type-options"] = "nosniff"
        await send(message)

    return wrapped
