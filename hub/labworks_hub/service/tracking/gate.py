"""The front door of the tracking server: hub tokens in, MLflow's auth app behind.

Every request to `/services/labworks/mlflow/...` passes `TrackingGate` first. It takes the
hub token from `Authorization: Bearer|token <token>` (what the stock client sends from
MLFLOW_TRACKING_TOKEN) or the service's OAuth cookie, checks it with the hub through the
service's cached `HubIdentity`, makes the user known to MLflow's auth store with the roles of
their hub groups (TrackingServer.sync_user, cached), and hands the request to MLflow with the user
set for it. MLflow's auth app then asks `authorization()`, its configured
`authorization_function`, who is calling, and decides per experiment and registered model as
it always does, with one widening (`share_model_files`): a registered model's readers may read
its versions' files. No token: 401; a token of a service rather than a user: 403. Nothing of
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
  check says so for the same request (decisions.tell_readers_apart, `refused_a_reader`).
"""

from __future__ import annotations

import json
import re
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
# Per request: set (mutated in MLflow's threads) when a refused write was to a readable thing.
_refused_reader: ContextVar[list[bool] | None] = ContextVar("labworks_refused", default=None)

# MLflow's error codes for our answers, so the stock client reports them by name.
_MLFLOW_CODES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    503: "TEMPORARILY_UNAVAILABLE",
}
_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 503: "unavailable"}
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


def current_user() -> str | None:
    """The hub user of the request being served, as the gate authenticated it."""
    return _user.get()


def refused_a_reader() -> None:
    """Mark the request being served: MLflow refused a write to something the caller may
    read, so its "Permission denied" is answered 403 READ_ONLY rather than 404."""
    noted = _refused_reader.get()
    if noted is not None:
        noted.append(True)


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


def share_model_files(auth: Any) -> None:
    """Let the readers of a registered model read its versions' files.

    The stock client loads `models:/<name>/<version>` from where the version's files are (the
    logged model's or run's artifacts, `mlflow-artifacts:/<experiment>/...`), and MLflow's auth
    decides those reads by the experiment alone. So a model shared with a group could not be
    loaded by its members unless its whole experiment was shared too. This wraps MLflow's two
    artifact-proxy read checks (downloads, served by FastAPI; listings, by Flask): what MLflow
    denies is allowed when the path lies inside the files of a live model version whose
    registered model the user may read. Writes and deletes are never widened.

    Raises:
        RuntimeError: this MLflow does not have the checks this function knows.
    """
    fastapi_check = getattr(auth, "_authorize_fastapi_artifact_proxy", None)
    flask_check = getattr(auth, "_authorize_flask_artifact_proxy", None)
    if fastapi_check is None or flask_check is None:
        raise RuntimeError("mlflow.server.auth has no artifact proxy checks where expected")

    def fastapi(path: str, username: str, query_path: str | None, action: str) -> bool:
        if fastapi_check(path, username, query_path, action):
            return True
        wanted = auth._artifact_proxy_path_from_request_path(path, query_path)
        return action == "read" and _model_files_readable(auth, username, wanted)

    def flask(action: str) -> bool:
        if flask_check(action):
            return True
        user = current_user()
        wanted = auth._artifact_proxy_path()
        return action == "read" and user is not None and _model_files_readable(auth, user, wanted)

    auth._authorize_fastapi_artifact_proxy = fastapi
    auth._authorize_flask_artifact_proxy = flask


ARTIFACTS_SCHEME = "mlflow-artifacts:"


def _model_files_readable(auth: Any, username: str, path: str | None) -> bool:
    """Whether `path` (below the artifact root) is inside the files of a live model version
    of a registered model `username` may read."""
    from mlflow.entities.model_registry.model_version_stages import STAGE_DELETED_INTERNAL
    from mlflow.server.handlers import _get_model_registry_store
    from mlflow.store.model_registry.dbmodels.models import SqlModelVersion
    from sqlalchemy import and_, or_, select

    canonical = auth._canonical_artifact_proxy_path(path) if path else None
    parts = [p for p in (canonical or "").split("/") if p]
    if len(parts) < 2:  # an experiment's root: never a model's files
        return False
    places = set()
    for end in range(2, len(parts) + 1):
        prefix = "/".join(parts[:end])
        places |= {f"{ARTIFACTS_SCHEME}/{prefix}", f"{ARTIFACTS_SCHEME}/{prefix}/"}
    query: Any = select(SqlModelVersion.name).where(
        SqlModelVersion.current_stage != STAGE_DELETED_INTERNAL,
        or_(
            SqlModelVersion.storage_location.in_(places),
            and_(SqlModelVersion.storage_location.is_(None), SqlModelVersion.source.in_(places)),
        ),
    )
    with _get_model_registry_store().ManagedSessionMaker() as session:
        names = {row[0] for row in session.execute(query)}
    return any(
        auth._get_role_permission_or_default(
            auth._role_permission_for_known_workspace(username, "registered_model", name, None)
        ).can_read
        for name in sorted(names)
    )


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
        path = _route_path(scope)
        if admin_only(path) and not caller.admin:
            await _respond(send, 403, ADMINS_ONLY)
            return
        inner = dict(scope, root_path="", path=path)
        inner["raw_path"] = path.encode()
        noted: list[bool] = []
        reset, reset_noted = _user.set(caller.name), _refused_reader.set(noted)
        try:
            await self.server.app(inner, receive, _not_found(send, noted))
        finally:
            _user.reset(reset)
            _refused_reader.reset(reset_noted)


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
            await _respond(send, 403, READ_ONLY)
        elif _hides_existence(held["status"], whole):
            await _respond(send, 404, NOT_FOUND)
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


def install_tracking(app: FastAPI, settings: ServiceSettings) -> TrackingServer:
    """Mount the tracking server at `<prefix>mlflow`; it starts on first use (importing
    MLflow takes seconds, and a platform that is never asked pays nothing)."""
    server = build_tracking_server(settings)
    app.state.tracking = server
    app.mount(settings.prefix + "mlflow", TrackingGate(server, app.state.identity))
    return server
