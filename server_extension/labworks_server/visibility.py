"""Who else sees an experiment or a registered model, from the lab: forwarded to the platform.

``GET /labworks/(experiments|models)/<id>/visibility`` answers the platform's description of
the thing (owner, visibility, whether it is yours); ``PUT`` with ``{"visibility": ...}`` changes
it. Owner of the workspace only (as the other sharing routes): the token used is theirs.
"""

from __future__ import annotations

from urllib.parse import quote

import tornado.web

from .handlers import LabworksHandler
from .sharing import OwnerHandler


class VisibilityHandler(OwnerHandler):
    """``/labworks/(experiments|models)/<id or name>/visibility``."""

    @tornado.web.authenticated
    async def get(self, kind: str, key: str) -> None:
        self.check_owner()
        self.finish(await self.platform.get(f"/{kind}/{quote(key, safe='')}"))

    @tornado.web.authenticated
    async def put(self, kind: str, key: str) -> None:
        self.check_owner()
        visibility = self.json_object().get("visibility")
        if not isinstance(visibility, str):
            raise tornado.web.HTTPError(
                400, 'send {"visibility": "private" | "group:<name>" | "public"}'
            )
        path = f"/{kind}/{quote(key, safe='')}/visibility"
        self.finish(await self.platform.put(path, {"visibility": visibility}))


visibility_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/(experiments|models)/([^/]+)/visibility", VisibilityHandler),
]
