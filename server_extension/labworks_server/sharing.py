"""Workspace sharing on the user's own server: ``/labworks/shares``, forwarded to the platform.

A person this workspace is shared with uses the same server, but acts with the owner's token
here; so every route of this module answers to the owner only (``LabworksHandler``), saying
``MANAGE_SHARING`` to anyone else (the gallery and visibility routes say the same).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import tornado.web

from .handlers import LabworksHandler

MANAGE_SHARING = "manage its sharing and gallery; open your own workspace to manage yours"


class SharesHandler(LabworksHandler):
    """``GET /labworks/shares``: who this workspace is shared with; ``POST`` shares it."""

    owner_may = MANAGE_SHARING

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(await self.platform.get("/shares"))

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        share = {key: body[key] for key in ("user", "group") if key in body}
        self.set_status(201)
        self.finish(await self.platform.post("/shares", share))


class ShareHandler(LabworksHandler):
    """``DELETE /labworks/shares/(user|group)/<name>``: stop sharing with them."""

    owner_may = MANAGE_SHARING

    @tornado.web.authenticated
    async def delete(self, kind: str, name: str) -> None:
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
