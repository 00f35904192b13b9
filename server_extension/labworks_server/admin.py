"""The Admin panel's routes on the user's own server: ``/labworks/admin/...``, relayed to the
platform service's admin API (``/api/v1/admin/...``).

The platform decides who is an administrator (everyone else gets its 403); this module only
relays, with the workspace owner's token. Administering is the logged-in person's act, and the
token is the owner's: so a visitor of a shared workspace is refused here (``LabworksHandler``),
even an administrator, who administers from their own workspace.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import tornado.web

from .handlers import LabworksHandler

NAME = r"([^/]+)"
RELAY_TIMEOUT = 60.0
"""Seconds to wait for the platform's answer to an admin change."""


def _admin_path(*parts: str) -> str:
    """The platform's path ``/admin/<part>/...``, each part quoted."""
    return "/".join(["/admin", *(quote(part, safe="") for part in parts)])


class AdminHandler(LabworksHandler):
    """Base of the admin routes: the workspace owner's, as the token is."""

    owner_may = "administer the platform from it; open your own workspace to do so"

    def name_field(self, field: str) -> dict[str, str]:
        """``{field: <a non-empty string>}`` from the JSON body, or a 400 saying what to send."""
        value = self.json_object().get(field)
        if not isinstance(value, str) or not value.strip():
            raise tornado.web.HTTPError(400, f'send {{"{field}": "<name>"}}')
        return {field: value}

    async def relay(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """Send ``method path`` (with ``body`` as JSON) to the platform and answer as it did:
        its status and JSON body, or its refusal with its message. Disabling or deleting a
        person stops their server and jobs, which may take a while: ``RELAY_TIMEOUT``."""
        data = None if body is None else json.dumps(body).encode()
        response = await self.platform.fetch(method, path, data, request_timeout=RELAY_TIMEOUT)
        if response.code >= 300:
            raise self.platform.refusal(response.code, response.body)
        self.set_status(response.code)
        if response.code == 204 or not response.body:
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        self.finish(response.body)


class UsersHandler(AdminHandler):
    """``GET /labworks/admin/users``: every account with its role, groups and state."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", _admin_path("users"))


class UserHandler(AdminHandler):
    """``DELETE /labworks/admin/users/<name>``: delete an account (what it owns is kept)."""

    @tornado.web.authenticated
    async def delete(self, name: str) -> None:
        await self.relay("DELETE", _admin_path("users", name))


class DisableHandler(AdminHandler):
    """``POST /labworks/admin/users/<name>/disable``: the account can no longer log in; its
    tokens, servers, jobs and schedules stop (``EnableHandler`` undoes it)."""

    action = "disable"

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        await self.relay("POST", _admin_path("users", name, self.action), {})


class EnableHandler(DisableHandler):
    """``POST /labworks/admin/users/<name>/enable``."""

    action = "enable"


class TransferHandler(AdminHandler):
    """``POST /labworks/admin/users/<name>/transfer`` with ``{"to": <user>}``: hand what
    ``name`` owns to another user; answers what moved."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = self.name_field("to")
        await self.relay("POST", _admin_path("users", name, "transfer"), body)


class GroupsHandler(AdminHandler):
    """``GET /labworks/admin/groups``: the groups with their members; ``POST`` with
    ``{"name": <group>}`` creates one."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", _admin_path("groups"))

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.name_field("name")
        await self.relay("POST", _admin_path("groups"), body)


class GroupHandler(AdminHandler):
    """``DELETE /labworks/admin/groups/<name>``."""

    @tornado.web.authenticated
    async def delete(self, group: str) -> None:
        await self.relay("DELETE", _admin_path("groups", group))


class MemberHandler(AdminHandler):
    """``PUT|DELETE /labworks/admin/groups/<group>/members/<user>``: add or remove a member."""

    @tornado.web.authenticated
    async def put(self, group: str, user: str) -> None:
        await self.relay("PUT", _admin_path("groups", group, "members", user), {})

    @tornado.web.authenticated
    async def delete(self, group: str, user: str) -> None:
        await self.relay("DELETE", _admin_path("groups", group, "members", user))


admin_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/admin/users", UsersHandler),
    (rf"/labworks/admin/users/{NAME}", UserHandler),
    (rf"/labworks/admin/users/{NAME}/disable", DisableHandler),
    (rf"/labworks/admin/users/{NAME}/enable", EnableHandler),
    (rf"/labworks/admin/users/{NAME}/transfer", TransferHandler),
    (r"/labworks/admin/groups", GroupsHandler),
    (rf"/labworks/admin/groups/{NAME}", GroupHandler),
    (rf"/labworks/admin/groups/{NAME}/members/{NAME}", MemberHandler),
]
