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
from .workspace import local_facts, workspace_document

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


class LabworksHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every Labworks handler: JSON errors ``{"error", "message"}`` and shared services."""

    @property
    def platform(self) -> PlatformClient:
        """The platform service client built at extension load."""
        return self.settings[CLIENT_SETTING]

    @property
    def username(self) -> str | None:
        """The authenticated user (identity provider), else ``$JUPYTERHUB_USER``."""
        name = getattr(self.current_user, "username", None)
        return name or os.environ.get("JUPYTERHUB_USER") or None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Render every error as ``{"error": code, "message": text}``."""
        exc_info = kwargs.get("exc_info")
        status, code, message = error_body(status_code, exc_info[1] if exc_info else None)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": code, "message": message}))


class WorkspaceHandler(LabworksHandler):
    """``GET /labworks/workspace``: the facts of this workspace (workspace-contract.md)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        started: datetime = self.settings[STARTED_SETTING]
        local = local_facts(os.environ, started)
        replies: list[dict[str, Any] | BaseException] = await asyncio.gather(
            self.platform.get("/me"), self.platform.get("/health"), return_exceptions=True
        )
        for reply in replies:  # report /me's failure first, whichever finished first
            if isinstance(reply, PlatformError):  # the contract's degraded answer, not an error
                self.log.warning("labworks: platform call failed: %s", reply.message)
                self.finish(workspace_document(self.username, local, error=reply.message))
                return
            if isinstance(reply, BaseException):
                raise reply
        me, health = (r for r in replies if isinstance(r, dict))
        me = {**me, "version": health.get("version")}
        self.finish(workspace_document(self.username, local, me=me))


class GpuHandler(LabworksHandler):
    """``GET /labworks/gpus``: this workspace's GPUs with live memory and utilization."""

    @tornado.web.authenticated
    async def get(self) -> None:
        devices = await asyncio.to_thread(probe_gpus, dict(os.environ))
        self.finish({"gpus": devices})


handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/workspace", WorkspaceHandler),
    (r"/labworks/gpus", GpuHandler),
]
