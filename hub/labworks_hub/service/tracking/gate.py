"""The front door of the tracking server: hub tokens in, MLflow's auth app behind.

Every request to `/services/labworks/mlflow/...` passes `TrackingGate` first. It takes the
hub token from `Authorization: Bearer|token <token>` (what the stock client sends from
MLFLOW_TRACKING_TOKEN) or the service's OAuth cookie, checks it with the hub through the
service's cached `HubIdentity`, makes the user known to MLflow's auth store with the roles of
their hub groups (TrackingServer.sync_user, cached), and hands the request to MLflow with the user
set for it (identity.py). MLflow's auth app then asks `identity.authorization()`, its configured
`authorization_function`, who is calling, and decides per experiment and registered model as
it always does, with one widening (model_files.py): a registered model's readers may read its
versions' files. No token: 401; a token of a service rather than a user: 403. Nothing of
the request body is read before the token is checked.

Two answers are the gate's own, the same on every route:
- MLflow's user, role and permission APIs (`ADMIN_ONLY`) answer hub admins only (who are
  MLflow admins, store/tracking.py `sync_user`); anyone else gets 403 before MLflow is asked.
  A user's own identity (`users/current`, `users/current/permissions`) stays theirs to read.
- "Not yours" and "not there" are one answer (`_not_found`): MLflow's denial (403 "Permission
  denied", from its Flask validators and its FastAPI artifact middleware) and its
  RESOURCE_DOES_NOT_EXIST both become the same 404 RESOURCE_DOES_NOT_EXIST body, so no route
  tells whether someone else's experiment, run, model or file exists. A refused write to
  something the caller may read (a reader logging to a shared experiment) stays a 403
  PERMISSION_DENIED (`READ_ONLY`), which tells them nothing they cannot read: MLflow's read
  check says so for the same request (decisions.tell_readers_apart,
  `identity.refused_a_reader`).

Refusals are the platform's (access.py kinds, errors.APIError) in MLflow's wire form
(`identity.mlflow_error`).
"""

from __future__ import annotations

import json
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ..access import Forbidden, NotFound, Refused, Unauthenticated
from ..auth import HubIdentity, OAuthRedirect, token_from_request
from ..errors import APIError
from ..settings import ServiceSettings
from .identity import Refusal, mlflow_error, serving
from .server import TrackingServer, build_tracking_server

NOT_FOUND = (
    "not found: there is no such experiment, run, model or file, or you may not use it this"
    " way; its owner can share it with `labworks experiments share`"
)
READ_ONLY = (
    "permission denied: you may read this but not do this to it (only its owner writes to it,"
    " and only from what they may read)"
)
ADMINS_ONLY = (
    "MLflow's user, role and permission APIs are for platform admins; share your experiments"
    " and models with `labworks experiments share` and `labworks models share`"
)
# MLflow's user, role and permission routes (REST and ajax, every API version), its sign-up
# pages and its workspaces (off here; each names other people's grants or settings).
ADMIN_ONLY = re.compile(r"(^|/)mlflow/(users|roles|workspaces)(/|$)|^/signup$|/permissions(/|$)")
OWN_IDENTITY = re.compile(r"/mlflow/users/current(/permissions)?$")


async def _respond(send: Send, refusal: Refusal, headers=()) -> None:
    body = mlflow_error(refusal)
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
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
            await _respond(send, Unauthenticated(message), [(b"www-authenticate", b"Bearer")])
            return
        try:
            caller = await self.identity.caller_for_token(token)
            if caller.kind != "user":
                raise Forbidden("experiment tracking is for users' tokens, not services'")
            viewer = caller.viewer()
            await self.server.ready()
            await self.server.sync_user(viewer)
        except (APIError, Refused) as e:
            await _respond(send, e)
            return
        path = _route_path(scope)
        if admin_only(path) and not viewer.admin:
            await _respond(send, Forbidden(ADMINS_ONLY))
            return
        inner = dict(scope, root_path="", path=path)
        inner["raw_path"] = path.encode()
        with serving(viewer.name) as refused_reader:
            await self.server.app(inner, receive, _not_found(send, refused_reader))


def _route_path(scope: Scope) -> str:
    """The path below the mount point (what MLflow routes on)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


def admin_only(path: str) -> bool:
    """Whether `path` (below the mount point) is one of MLflow's admin-only routes."""
    path = re.sub("/{2,}", "/", path)
    return bool(ADMIN_ONLY.search(path)) and not OWN_IDENTITY.search(path)


def _not_found(send: Send, refused_reader: list[bool]) -> Send:
    """MLflow's denials (403 "Permission denied") and its RESOURCE_DOES_NOT_EXIST answers
    become one 404 RESOURCE_DOES_NOT_EXIST with one message, unless the denial was of a write
    to something readable (`refused_reader` not empty): 403 READ_ONLY. Other answers pass."""
    held: Message | None = None
    body: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and _maybe_hidden(message):
            held = message
            return
        if held is None or message["type"] != "http.response.body":
            await send(message)
            return
        body.append(message.get("body", b""))
        if message.get("more_body"):
            return
        whole = b"".join(body)
        if held["status"] == 403 and refused_reader and _hides_existence(403, whole):
            await _respond(send, Forbidden(READ_ONLY))
        elif _hides_existence(held["status"], whole):
            await _respond(send, NotFound(NOT_FOUND))
        else:
            await send(held)
            await send({"type": "http.response.body", "body": whole})

    return wrapped


def _maybe_hidden(start: Message) -> bool:
    """A response whose body must be seen before it is sent: a 403 that is not JSON, or a
    JSON 404 (both are small)."""
    content_type = dict(start.get("headers") or []).get(b"content-type", b"")
    is_json = content_type.startswith(b"application/json")
    return (start["status"] == 403 and not is_json) or (start["status"] == 404 and is_json)


def _hides_existence(status: int, body: bytes) -> bool:
    if status == 403:
        return body.strip() == b"Permission denied"
    try:
        return json.loads(body).get("error_code") == "RESOURCE_DOES_NOT_EXIST"
    except (ValueError, AttributeError):
        return False


def install_tracking(app: Starlette, settings: ServiceSettings) -> TrackingServer:
    """Mount the tracking server at `<prefix>mlflow`, keeping artifacts in the platform's one
    artifact store (`app.state.artifacts`); it starts on first use (importing MLflow takes
    seconds, and a platform that is never asked pays nothing)."""
    server = build_tracking_server(settings, app.state.artifacts)
    server.platform_store = getattr(app.state, "store", None)  # the changelog (history.py)
    app.state.tracking = server
    app.mount(settings.prefix + "mlflow", TrackingGate(server, app.state.identity))
    return server
