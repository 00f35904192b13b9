"""The front door of the tracking server: hub tokens in, MLflow's auth app behind.

Every request to `/services/labworks/mlflow/...` passes `TrackingGate` first. It takes the
hub token from `Authorization: Bearer|token <token>` (what the stock client sends from
MLFLOW_TRACKING_TOKEN) or the service's OAuth cookie, checks it with the hub through the
service's cached `HubIdentity`, makes the user known to MLflow's auth store with the roles of
their hub groups (TrackingServer.sync_user, cached), and hands the request to MLflow with the user
set for it. MLflow's auth app then asks `authorization()`, its configured
`authorization_function`, who is calling, and decides per experiment as it always does.
No token: 401; a token of a service rather than a user: 403.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ..auth import HubIdentity, OAuthRedirect, token_from_request
from ..errors import APIError
from ..settings import ServiceSettings
from .server import TrackingError, TrackingServer, build_tracking_server

_user: ContextVar[str | None] = ContextVar("labworks_tracking_user", default=None)

# MLflow's error codes for our answers, so the stock client reports them by name.
_MLFLOW_CODES = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 503: "TEMPORARILY_UNAVAILABLE"}
_CODES = {401: "unauthorized", 403: "forbidden", 503: "unavailable"}
DENIED = (
    "permission denied: you have no access to this experiment, run or model (or not this kind"
    " of access); its owner can share it with `labworks experiments share`"
)


def current_user() -> str | None:
    """The hub user of the request being served, as the gate authenticated it."""
    return _user.get()


def authorization() -> Any:
    """MLflow's `authorization_function` (basic_auth.ini): the user the gate authenticated
    from this request's hub token; a 401 response when there is none."""
    from flask import Response
    from werkzeug.datastructures import Authorization

    name = _user.get()
    if name is None:
        return Response(
            _error_body(401, "authentication required: send your hub API token"),
            status=401,
            content_type="application/json",
        )
    return Authorization("bearer", {"username": name})


def _error_body(status: int, message: str) -> bytes:
    body = {
        "error": _CODES.get(status, "error"),
        "error_code": _MLFLOW_CODES.get(status, "INTERNAL_ERROR"),
        "message": message,
    }
    return json.dumps(body).encode()


async def _respond(send: Send, status: int, message: str, headers=()) -> None:
    body = _error_body(status, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TrackingGate:
    """ASGI app mounted at the tracking prefix: authenticate, then serve with MLflow."""

    def __init__(self, server: TrackingServer, identity: HubIdentity) -> None:
        self.server = server
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        token = token_from_request(request)
        if not token:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                raise OAuthRedirect(request.url.path)  # a browser: log in through the hub
            message = "authentication required: set MLFLOW_TRACKING_TOKEN to your hub API token"
            await _respond(send, 401, message, [(b"www-authenticate", b"Bearer")])
            return
        try:
            caller = await self.identity.caller_for_token(token)
            if caller.kind != "user":
                raise APIError(403, "experiment tracking is for users' tokens, not services'")
            await self.server.ready()
            await self.server.sync_user(caller)
        except APIError as e:
            await _respond(send, e.status, e.message)
            return
        except TrackingError as e:
            await _respond(send, 503, f"the tracking server is not available: {e}")
            return
        inner = dict(scope, root_path="", path=_route_path(scope))
        inner["raw_path"] = inner["path"].encode()
        reset = _user.set(caller.name)
        try:
            await self.server.app(inner, receive, _json_denials(send))
        finally:
            _user.reset(reset)


def _route_path(scope: Scope) -> str:
    """The path below the mount point (what MLflow routes on)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


def _json_denials(send: Send) -> Send:
    """MLflow's plain "Permission denied" 403 becomes a JSON error that says what to do (with
    MLflow's error code, so the client raises it as PERMISSION_DENIED); other answers pass."""
    held: Message | None = None
    body: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] == 403:
            headers = dict(message.get("headers") or [])
            if not headers.get(b"content-type", b"").startswith(b"application/json"):
                held = message
                return
        if held is None or message["type"] != "http.response.body":
            await send(message)
            return
        body.append(message.get("body", b""))
        if message.get("more_body"):
            return
        if b"".join(body).strip() == b"Permission denied":
            await _respond(send, 403, DENIED)
        else:
            await send(held)
            await send({"type": "http.response.body", "body": b"".join(body)})

    return wrapped


def install_tracking(app: FastAPI, settings: ServiceSettings) -> TrackingServer:
    """Mount the tracking server at `<prefix>mlflow`; it starts on first use (importing
    MLflow takes seconds, and a platform that is never asked pays nothing)."""
    server = build_tracking_server(settings)
    app.state.tracking = server
    app.mount(settings.prefix + "mlflow", TrackingGate(server, app.state.identity))
    return server
