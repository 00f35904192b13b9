"""The front door of the tracking server: hub tokens in, MLflow's auth app behind.

Every request to `/services/labworks/mlflow/...` passes `TrackingGate` first. It takes the
hub token from `Authorization: Bearer|token <token>` (what the stock client sends from
MLFLOW_TRACKING_TOKEN) or the service's OAuth cookie, checks it with the hub through the
service's cached `HubIdentity`, makes the user known to MLflow's auth store with the roles of
their hub groups (TrackingServer.sync_user, cached), and hands the request to MLflow with the user
set for it. MLflow's auth app then asks `authorization()`, its configured
`authorization_function`, who is calling, and decides per experiment and registered model as
it always does, with one widening (`share_model_files`): a registered model's readers may read
its versions' files. No token: 401; a token of a service rather than a user: 403.
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
