"""Who else sees an experiment, a registered model or a dataset, from the lab: forwarded to the
platform.

``GET /labworks/(experiments|models)/<id>/visibility`` (and
``/labworks/datasets/<owner>/<name>/visibility``) answers the platform's description of the
thing (owner, visibility, whether it is yours); ``PUT`` with ``{"visibility": ...}`` changes it.
Owner of the workspace only (as the other sharing routes): the token used is theirs.
"""

from __future__ import annotations

from urllib.parse import quote

import tornado.web

from .datasets import NAME, OWNER
from .handlers import LabworksHandler
from .sharing import MANAGE_SHARING


class VisibilityHandler(LabworksHandler):
    """``/labworks/(experiments|models)/<id or name>/visibility``, and
    ``/labworks/datasets/<owner>/<name>/visibility`` (its key holds one ``/``)."""

    owner_may = MANAGE_SHARING

    @tornado.web.authenticated
    async def get(self, kind: str, *key: str) -> None:
        self.finish(await self.platform.get(_thing_path(kind, key)))

    @tornado.web.authenticated
    async def put(self, kind: str, *key: str) -> None:
        visibility = self.json_object().get("visibility")
        if not isinstance(visibility, str):
            raise tornado.web.HTTPError(
                400, 'send {"visibility": "private" | "group:<name>" | "public"}'
            )
        path = f"{_thing_path(kind, key)}/visibility"
        self.finish(await self.platform.put(path, {"visibility": visibility}))


def _thing_path(kind: str, key: tuple[str, ...]) -> str:
    """The platform's path of the thing: ``/<kind>/<part>[/<part>]``, each part quoted."""
    return "/".join([f"/{kind}", *(quote(part, safe="") for part in key)])


visibility_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/(experiments|models)/([^/]+)/visibility", VisibilityHandler),
    (rf"/labworks/(datasets)/{OWNER}/{NAME}/visibility", VisibilityHandler),
]
