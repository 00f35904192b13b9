"""HTTP handlers of the extension: one ``APIHandler`` per route, one error mapper for all."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from http import HTTPStatus
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

from .client import PlatformClient, PlatformError
from .gpu import probe_gpus
from .workspace import local_facts, viewer_facts, workspace_document

CSV = "text/csv"
CLIENT_SETTING = "labworks_client"
STARTED_SETTING = "labworks_started_at"


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_body(status: int, error: BaseException | None) -> tuple[int, str, str]:
    """Map an exception to ``(status, code, message)``: the extension's one error mapper.

    ``PlatformError`` keeps the platform's status and code; ``HTTPError`` keeps its status;
    anything else is a 500 whose details stay in the server log.
    """
    if isinstance(error, PlatformError):
        return error.status, error.code, error.message
    if isinstance(error, tornado.web.HTTPError):
        status = error.status_code
        message = error.log_message % error.args if error.log_message and error.args else None
        message = message or error.log_message or error.reason or HTTPStatus(status).phrase
        return status, _slug(status), message
    if status < 500:
        return status, _slug(status), HTTPStatus(status).phrase
    return 500, "internal_error", "internal server error; see the server log"


def refuse_visitor(user: str | None, owner_may: str) -> None:
    """403 unless ``user`` owns this workspace (``$JUPYTERHUB_USER``); outside JupyterHub (no
    owner set) everyone does. ``owner_may`` ends the message: "only X ... can <owner_may>"."""
    owner = os.environ.get("JUPYTERHUB_USER")
    if owner and user != owner:
        raise tornado.web.HTTPError(403, f"only {owner}, who owns this workspace, can {owner_may}")


class LabworksHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every Labworks handler: the owner check, JSON errors ``{"error", "message"}``
    and shared services.

    A person this workspace is shared with uses the same server, but every call to the
    platform carries the owner's token; so ``prepare()`` refuses anyone but the owner (403,
    saying who may and ``owner_may``) before any method runs. A route about the workspace
    itself (its facts, GPUs, idle clock) opts out with ``visitors_allowed = True``. Methods
    keep ``@tornado.web.authenticated``.
    """

    visitors_allowed = False
    """Whether a visitor of a shared workspace may use this route too."""

    owner_may = "use it; open your own workspace to use yours"
    """What only the owner may do, as the refusal puts it: "only X ... can <owner_may>"."""

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        """Authenticate (jupyter_server), then refuse visitors unless ``visitors_allowed``."""
        await super().prepare()
        if not self.visitors_allowed:
            refuse_visitor(self.username, self.owner_may)

    @property
    def platform(self) -> PlatformClient:
        """The platform service client built at extension load."""
        return self.settings[CLIENT_SETTING]

    @property
    def username(self) -> str | None:
        """The authenticated user (identity provider), else ``$JUPYTERHUB_USER``."""
        name = getattr(self.current_user, "username", None)
        return name or os.environ.get("JUPYTERHUB_USER") or None

    async def relay_report(self, path: str) -> None:
        """GET `path` of the platform and answer what it answered: JSON, or CSV (cost reports,
        source audits asked with `format=csv`) as the attachment it is."""
        response = await self.platform.fetch("GET", path)
        if response.code >= 300:
            raise self.platform.refusal(response.code, response.body)
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith(CSV):
            self.finish(response.body or b"{}", set_content_type="application/json")
            return
        disposition = response.headers.get("Content-Disposition")
        if disposition:
            self.set_header("Content-Disposition", disposition)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(response.body or b"", set_content_type=kind)

    def json_object(self) -> dict[str, Any]:
        """The request body, which must be a JSON object (400 otherwise)."""
        body = self.get_json_body()
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "send a JSON object in the request body")
        return body

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Render every error as ``{"error": code, "message": text}``."""
        exc_info = kwargs.get("exc_info")
        status, code, message = error_body(status_code, exc_info[1] if exc_info else None)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": code, "message": message}))


class WorkspaceHandler(LabworksHandler):
    """``GET /labworks/workspace``: the facts of this workspace (workspace-contract.md), for
    its visitors too: whose it is and who is asking."""

    visitors_allowed = True

    @tornado.web.authenticated
    async def get(self) -> None:
        started: datetime = self.settings[STARTED_SETTING]
        local = local_facts(os.environ, started)
        owner = os.environ.get("JUPYTERHUB_USER") or None
        may_write = self.authorizer.is_authorized(self, self.current_user, "write", "contents")
        viewer = viewer_facts(owner, self.username, bool(may_write))
        replies: list[dict[str, Any] | BaseException] = await asyncio.gather(
            self.platform.get("/me"), self.platform.get("/health"), return_exceptions=True
        )
        for reply in replies:  # report /me's failure first, whichever finished first
            if isinstance(reply, PlatformError):  # the contract's degraded answer, not an error
                self.log.warning("labworks: platform call failed: %s", reply.message)
                self.finish(workspace_document(owner, viewer, local, error=reply.message))
                return
            if isinstance(reply, BaseException):
                raise reply
        me, health = (r for r in replies if isinstance(r, dict))
        me = {**me, "version": health.get("version")}
        self.finish(workspace_document(owner, viewer, local, me=me))


class GpuHandler(LabworksHandler):
    """``GET /labworks/gpus``: this workspace's GPUs with live memory and utilization."""

    visitors_allowed = True

    @tornado.web.authenticated
    async def get(self) -> None:
        devices = await asyncio.to_thread(probe_gpus, dict(os.environ))
        self.finish({"gpus": devices})


handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/workspace", WorkspaceHandler),
    (r"/labworks/gpus", GpuHandler),
]
