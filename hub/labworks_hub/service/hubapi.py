"""JupyterHub's REST API on behalf of users: the API tokens the platform gives notebook jobs
(HubTokens), and the administration of people and groups (HubAdmin).

The platform service asks the hub, with its own token, for a token of a job's owner
(POST /users/{name}/tokens, which needs the `tokens` scope on the service's role) and revokes
it when the job ends (DELETE /users/{name}/tokens/{id}). The token's value is returned once and
never logged or stored; its id ("a42") is what the caller keeps to revoke it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx


class HubError(Exception):
    """The hub could not be reached or refused; the message has no token in it."""


def token_digest(token: str) -> str:
    """sha256 of a token: names it in memory without keeping the token."""
    return hashlib.sha256(token.encode("utf8", "replace")).hexdigest()


@dataclass(frozen=True)
class HubToken:
    id: str  # the hub's token id, e.g. "a42": safe to keep and log
    value: str = field(repr=False)


class HubTokens:
    """Create and revoke users' hub API tokens with the platform service's own token."""

    def __init__(self, api_url: str, service_token: str, timeout: float = 15.0) -> None:
        self.api_url = api_url.rstrip("/")
        self._service_token = service_token
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> httpx.AsyncClient:
        """One client, kept: making one costs about 40 ms (its TLS context), more than a call
        on loopback, and each job makes two calls. A client belongs to the event loop it first
        ran on, so another loop (tests run several) gets its own."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http, self._http_loop = httpx.AsyncClient(timeout=self.timeout), loop
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and self._http_loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = self._http_loop = None

    def _url(self, user: str, *rest: str) -> str:
        return "/".join([self.api_url, "users", quote(user, safe=""), "tokens", *rest])

    async def _send(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {self._service_token}", "Accept": "application/json"}
        try:
            return await self._client().request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as e:
            raise HubError(f"cannot reach JupyterHub at {self.api_url}: {e}") from None

    async def create(self, user: str, *, note: str, expires_in: int, scopes: list[str]) -> HubToken:
        """A new token of `user` with just `scopes`, expiring after `expires_in` seconds."""
        body = {"note": note, "expires_in": expires_in, "scopes": scopes}
        reply = await self._send("POST", self._url(user), json=body)
        if reply.status_code != 201:
            raise HubError(f"JupyterHub refused a token for {user!r}: {_message(reply)}")
        model = reply.json()
        return HubToken(id=str(model["id"]), value=str(model["token"]))

    async def revoke(self, user: str, token_id: str) -> None:
        """Delete the token; one that is gone already (expired, deleted) is fine."""
        reply = await self._send("DELETE", self._url(user, quote(token_id, safe="")))
        if reply.status_code not in (204, 404):
            raise HubError(f"JupyterHub did not revoke token {token_id}: {_message(reply)}")


def _message(reply: httpx.Response) -> str:
    try:
        message = reply.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return f"{reply.status_code} {message or reply.reason_phrase}".strip()


class HubAdmin:
    """What the platform's administration asks of the hub with the service's own token: stop
    a user's servers and remove the hub user (their tokens and login sessions go with it), and
    mirror groups and memberships. Scopes of the service's role (hubconfig.py): read:users,
    delete:users, delete:servers, admin:groups, groups, delete:groups."""

    def __init__(self, api_url: str, service_token: str, timeout: float = 60.0) -> None:
        self._hub = HubTokens(api_url, service_token, timeout)
        self.api_url = self._hub.api_url

    async def _call(self, method: str, *path: str, ok: tuple[int, ...], **kwargs) -> int:
        url = "/".join([self.api_url, *(quote(p, safe="") for p in path)])
        reply = await self._hub._send(method, url, **kwargs)
        if reply.status_code not in ok:
            raise HubError(f"JupyterHub refused {method} /{'/'.join(path)}: {_message(reply)}")
        return reply.status_code

    async def has_user(self, name: str) -> bool:
        return await self._call("GET", "users", name, ok=(200, 404)) == 200

    async def remove_user(self, name: str) -> None:
        """Stop the user's server and delete the hub user: every API and OAuth token and login
        cookie of theirs stops working now. They come back at their next login, if allowed."""
        if not await self.has_user(name):
            return
        await self._call("DELETE", "users", name, "server", ok=(202, 204, 400, 404))
        for _ in range(120):  # 400 while a stop is under way: wait for it, up to a minute
            if await self._call("DELETE", "users", name, ok=(204, 400, 404)) != 400:
                return
            await asyncio.sleep(0.5)
        raise HubError(f"the server of {name!r} did not stop within a minute")

    async def create_group(self, name: str) -> None:
        await self._call("POST", "groups", name, ok=(201, 409))

    async def delete_group(self, name: str) -> None:
        await self._call("DELETE", "groups", name, ok=(204, 404))

    async def set_member(self, group: str, user: str, member: bool) -> None:
        """Put `user` in the hub group or take them out; a user the hub does not know yet
        gets their groups at their first login."""
        if not await self.has_user(user):
            return
        body = {"users": [user]}
        if member:
            await self.create_group(group)
            await self._call("POST", "groups", group, "users", ok=(200,), json=body)
        else:
            await self._call("DELETE", "groups", group, "users", ok=(200, 404), json=body)
