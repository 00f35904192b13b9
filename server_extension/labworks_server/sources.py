"""Data sources on the user's own server, for the Sources section of the Data panel:
``/labworks/sources/...``, relayed to the platform's sources API (``/api/v1/sources/...``) with
the owner's token.

Every relayed request says where it comes from: ``X-Labworks-Origin: workspace:<user>/<server>``
(the platform records it in the source's audit as the caller's own account). The catalog, grants,
access requests, listings, previews, queries and the audit pass through unparsed, with only the
known query arguments and body fields; an audit asked as CSV comes back as CSV, an attachment.
Object bytes (``/objects``) and presigned URLs (``/url``) are the kernel SDK's, never the lab's:
a preview is the lab's way to look at a file. The platform's refusals (a 403 naming the source's
owner, a 404, a 503 from a database that does not answer) come through with their message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import tornado.web

from .client import PlatformClient
from .handlers import LabworksHandler
from .jobs import _query
from .sweeps import SweepsBaseHandler

SOURCE = r"([a-z0-9][a-z0-9._-]{0,62})"
PRINCIPAL = r"([^/]+)"  # "user:ana", "group:ml": the platform checks it
ORIGIN_HEADER = "X-Labworks-Origin"
PRINTABLE = "".join(map(chr, range(0x21, 0x7F)))
# The body fields of the platform's routes the lab may send.
REGISTER_FIELDS = ("name", "kind", "description", "tags", "owner", "config", "credentials")
UPDATE_FIELDS = ("description", "tags", "config", "credentials")
GRANT_FIELDS = ("principal", "access")
REQUEST_FIELDS = ("reason", "access")
QUERY_FIELDS = ("table", "sql", "limit")


def workspace_origin(env: Mapping[str, str]) -> str | None:
    """Where this server's calls come from: ``workspace:<user>/<server>`` (the server name is
    empty for the default server), anything but printable ASCII percent-encoded so that it fits
    a header, at most 200 characters; ``None`` outside JupyterHub."""
    user = env.get("JUPYTERHUB_USER") or ""
    if not user:
        return None
    origin = f"workspace:{user}/{env.get('JUPYTERHUB_SERVER_NAME') or ''}"
    return quote(origin, safe=PRINTABLE)[:200]


def source_path(name: str, *rest: str) -> str:
    """The platform's path of a source (and of ``rest`` below it), each part quoted."""
    return "/".join(["/sources", quote(name, safe=""), *(quote(p, safe="") for p in rest)])


def _fields(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {key: body[key] for key in names if key in body}


class SourcesBaseHandler(SweepsBaseHandler):
    """The owner's routes (the token is the owner's), relayed as the sweeps routes are, with
    the workspace's origin; a GET is not activity (the panel refreshes in the background)."""

    owner_may = "read data sources from it; open your own workspace to read yours"

    @property
    def platform(self) -> PlatformClient:
        """The extension's client, saying this workspace's origin when it has one."""
        client = super().platform
        origin = workspace_origin(os.environ)
        return client.with_headers({ORIGIN_HEADER: origin}) if origin else client


class SourceListHandler(SourcesBaseHandler):
    """``GET /labworks/sources``: every source of the catalog with my access to it;
    ``POST`` registers one: ``{"name", "kind", "description", "tags", "owner", "config",
    "credentials"}``."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/sources")

    @tornado.web.authenticated
    async def post(self) -> None:
        body = _fields(self.json_object(), REGISTER_FIELDS)
        await self.relay("POST", "/sources", body, status=201)


class SourceHandler(SourcesBaseHandler):
    """``GET /labworks/sources/<name>``; ``PATCH`` with ``{"description", "tags", "config",
    "credentials"}``; ``DELETE`` (the owner's and administrators')."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", source_path(name))

    @tornado.web.authenticated
    async def patch(self, name: str) -> None:
        body = _fields(self.json_object(), UPDATE_FIELDS)
        await self.relay("PATCH", source_path(name), body)

    @tornado.web.authenticated
    async def delete(self, name: str) -> None:
        await self.platform.delete(source_path(name))
        self.set_status(204)
        self.finish()


class GrantsHandler(SourcesBaseHandler):
    """``GET /labworks/sources/<name>/grants``; ``PUT`` with ``{"principal": "user:ana" |
    "group:ml", "access": "read" | "write"}`` grants (and answers that principal's pending
    request)."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", source_path(name, "grants"))

    @tornado.web.authenticated
    async def put(self, name: str) -> None:
        body = _fields(self.json_object(), GRANT_FIELDS)
        await self.relay("PUT", source_path(name, "grants"), body)


class GrantHandler(SourcesBaseHandler):
    """``DELETE /labworks/sources/<name>/grants/<user:U|group:G>``: revokes a grant."""

    @tornado.web.authenticated
    async def delete(self, name: str, principal: str) -> None:
        await self.platform.delete(source_path(name, "grants", principal))
        self.set_status(204)
        self.finish()


class AccessRequestHandler(SourcesBaseHandler):
    """``POST /labworks/sources/<name>/requests`` with ``{"reason", "access"}``: asks the
    source's owner for access (the platform notifies them)."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = _fields(self.json_object(), REQUEST_FIELDS)
        await self.relay("POST", source_path(name, "requests"), body, status=201)


class AccessRequestsHandler(SourcesBaseHandler):
    """``GET /labworks/sources/requests``: the requests on the sources I manage (pending
    first) and my own."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/sources/requests")


class BrowseHandler(SourcesBaseHandler):
    """``GET /labworks/sources/<name>/<action>`` with only the action's query arguments:
    ``list?prefix=P``, ``stat?path=P``, ``preview?path=P&limit=N``."""

    action = ""
    arguments: tuple[str, ...] = ()

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", source_path(name, self.action) + _query(self, self.arguments))


class ListHandler(BrowseHandler):
    """``GET /labworks/sources/<name>/list?prefix=P``: one level of files and folders, or of
    schemas and tables."""

    action = "list"
    arguments = ("prefix",)


class StatHandler(BrowseHandler):
    """``GET /labworks/sources/<name>/stat?path=P``: one entry."""

    action = "stat"
    arguments = ("path",)


class PreviewHandler(BrowseHandler):
    """``GET /labworks/sources/<name>/preview?path=P&limit=N``: the first rows of a file or a
    table with its columns, a text's start or an image's thumbnail (bounded by the platform)."""

    action = "preview"
    arguments = ("path", "limit")


class QueryHandler(SourcesBaseHandler):
    """``POST /labworks/sources/<name>/query`` with ``{"table"}`` or ``{"sql"}`` and
    ``"limit"``: the rows of a read-only query."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = _fields(self.json_object(), QUERY_FIELDS)
        await self.relay("POST", source_path(name, "query"), body)


class AuditHandler(SourcesBaseHandler):
    """``GET /labworks/sources/<name>/audit?since=ISO[&format=csv]``: who read what, by user
    and by object (the owner's and administrators'). CSV comes back as CSV, an attachment."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay_report(source_path(name, "audit") + _query(self, ("since", "format")))


sources_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/sources", SourceListHandler),
    (r"/labworks/sources/requests", AccessRequestsHandler),  # before a source named so
    (rf"/labworks/sources/{SOURCE}", SourceHandler),
    (rf"/labworks/sources/{SOURCE}/grants", GrantsHandler),
    (rf"/labworks/sources/{SOURCE}/grants/{PRINCIPAL}", GrantHandler),
    (rf"/labworks/sources/{SOURCE}/requests", AccessRequestHandler),
    (rf"/labworks/sources/{SOURCE}/list", ListHandler),
    (rf"/labworks/sources/{SOURCE}/stat", StatHandler),
    (rf"/labworks/sources/{SOURCE}/preview", PreviewHandler),
    (rf"/labworks/sources/{SOURCE}/query", QueryHandler),
    (rf"/labworks/sources/{SOURCE}/audit", AuditHandler),
]
