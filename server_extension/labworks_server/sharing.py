"""Workspace sharing on the user's own server: ``/labworks/shares``, forwarded to the platform.

A person this workspace is shared with uses the same server, but acts with the owner's token
here; so every route of this module, and of the gallery, answers to the owner only.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import tornado.web

from .handlers import LabworksHandler


class OwnerHandler(LabworksHandler):
    """A handler only the workspace's owner (``$JUPYTERHUB_USER``) may use."""

    def check_owner(self) -> None:
        """403 for anyone but the owner; outside JupyterHub (no owner set) everyone is."""
        owner = os.environ.get("JUPYTERHUB_USER")
        if owner and self.username != owner:
            raise tornado.web.HTTPError(
                403,
                f"only {owner}, who owns this workspace, can manage its sharing and gallery;"
                " open your own workspace to manage yours",
            )

    def json_object(self) -> dict[str, Any]:
        """The request body, which must be a JSON object (400 otherwise)."""
        body = self.get_json_body()
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "send a JSON object in the request body")
        return body


class SharesHandler(OwnerHandler):
    """``GET /labworks/shares``: who this workspace is shared with; ``POST`` shares it."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.check_owner()
        self.finish(await self.platform.get("/shares"))

    @tornado.web.authenticated
    async def post(self) -> None:
        self.check_owner()
        body = self.json_object()
        share = {key: body[key] for key in ("user", "group") if key in body}
        self.set_status(201)
        self.finish(await self.platform.post("/shares", share))


class ShareHandler(OwnerHandler):
    """``DELETE /labworks/shares/(user|group)/<name>``: stop sharing with them."""

    @tornado.web.authenticated
    async def delete(self, kind: str, name: str) -> None:
        self.check_owner()
        await self.platform.delete(f"/shares/{kind}/{quote(name, safe='')}")
        self.set_status(204)
        self.finish()


def limit_hub_auth_cache(serverapp: Any, seconds: int) -> bool:
    """Make the server ask JupyterHub about a visitor's token at least every ``seconds``.

    JupyterHub's ``HubOAuth`` caches the hub's answer for 5 minutes by default, so a revoked
    share would keep working that long. Returns whether a cache was shortened.
    """
    hub_auth = getattr(getattr(serverapp, "identity_provider", None), "hub_auth", None)
    if hub_auth is None or seconds <= 0:
        return False
    if 0 < hub_auth.cache_max_age <= seconds:
        return False
    hub_auth.cache_max_age = seconds
    hub_auth.cache.max_age = seconds  # the cache may exist already, made with the old age
    hub_auth.cache.purge_interval = seconds
    return True


sharing_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/shares", SharesHandler),
    (r"/labworks/shares/(user|group)/([^/]+)", ShareHandler),
]
