"""Workspace sharing: who may open the caller's workspace, on top of JupyterHub's sharing API.

Every grant, list and revoke goes to the hub with the caller's own token, so the hub decides
(a user can share only their own server). The service's token is used for one thing only:
checking that the person or group named exists, to answer a clear 404.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, model_validator

from ..auth import Caller, current_caller, token_from_request
from ..errors import APIError
from ..settings import ServiceSettings
from ..store.accounts import AccountError, validate_name

log = logging.getLogger("labworks.service")
router = APIRouter(tags=["sharing"])
Kind = Literal["user", "group"]
MAX_SHARES = 200  # JupyterHub's largest page


class ShareRequest(BaseModel):
    """Exactly one of `user` or `group`."""

    user: str | None = None
    group: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ShareRequest:
        if bool(self.user) == bool(self.group):
            raise ValueError('give exactly one of "user" or "group"')
        return self

    @property
    def target(self) -> tuple[Kind, str]:
        return ("user", self.user) if self.user else ("group", self.group or "")


class Share(BaseModel):
    kind: Kind
    name: str
    created_at: str | None = None


class Shared(Share):
    url: str  # where the people shared with open the workspace, e.g. /user/ana/lab


class ShareList(BaseModel):
    owner: str
    url: str  # the path the people shared with open, e.g. /user/ana/lab
    shares: list[Share]


class HubShares:
    """JupyterHub's sharing API for one caller's default server."""

    def __init__(self, settings: ServiceSettings, owner: str, token: str) -> None:
        self.settings = settings
        self.owner = owner
        self._token = token

    @property
    def url(self) -> str:
        return f"{self.settings.hub_api_url}/shares/{quote(self.owner, safe='')}/"

    @property
    def lab_path(self) -> str:
        return f"{self.settings.base_url}user/{quote(self.owner, safe='')}/lab"

    async def list(self) -> list[Share]:
        body = await self._call("GET", self.url, params={"limit": MAX_SHARES})
        items = body.get("items", []) if isinstance(body, dict) else body
        return sorted(
            (_share(item) for item in items or []), key=lambda s: (s.kind != "user", s.name)
        )

    async def grant(self, kind: Kind, name: str) -> Share:
        await self._check_exists(kind, name)
        return _share(await self._call("POST", self.url, json={kind: name}))

    async def revoke(self, kind: Kind, name: str) -> None:
        if not any(s.kind == kind and s.name == name for s in await self.list()):
            raise APIError(404, f"your workspace is not shared with {kind} {name!r}")
        await self._call("PATCH", self.url, json={kind: name})

    async def _check_exists(self, kind: Kind, name: str) -> None:
        """404 for an unknown user or group, asked with the service's own token."""
        path = "users" if kind == "user" else "groups"
        url = f"{self.settings.hub_api_url}/{path}/{quote(name, safe='')}"
        reply = await self._send("GET", url, token=self.settings.api_token)
        if reply.status_code == 404:
            raise APIError(404, f"no such {kind}: {name!r}")
        if reply.status_code >= 400:
            log.warning("Hub answered %s looking up %s %r", reply.status_code, kind, name)

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        reply = await self._send(method, url, token=self._token, **kwargs)
        if reply.status_code < 400:
            return reply.json() if reply.content else None
        message = _hub_message(reply)
        if reply.status_code == 404 and "no such server" in message.lower():
            if method == "GET":
                return []  # never started: shared with nobody
            raise APIError(409, "your workspace has never been started; start it once, then share")
        if reply.status_code in (403, 404):
            raise APIError(403, f"JupyterHub refused: {message}")
        raise APIError(400 if reply.status_code == 400 else 502, f"JupyterHub answered: {message}")

    async def _send(self, method: str, url: str, *, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {token}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                return await client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as e:
            raise APIError(503, f"cannot reach JupyterHub for sharing: {e}") from None


def _share(item: dict) -> Share:
    kind: Kind = "group" if item.get("kind") == "group" else "user"
    return Share(
        kind=kind, name=(item.get(kind) or {}).get("name", ""), created_at=item.get("created_at")
    )


def _hub_message(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.reason_phrase
    return str(body.get("message") or reply.reason_phrase) if isinstance(body, dict) else ""


def hub_shares(request: Request, caller: Caller = Depends(current_caller)) -> HubShares:
    """The caller's sharing, with the caller's own token (users only: services own no server)."""
    if caller.kind != "user":
        raise APIError(400, "only users have a workspace to share")
    token = token_from_request(request) or ""
    return HubShares(request.app.state.settings, caller.name, token)


def _valid(kind: Kind, name: str) -> str:
    try:
        return validate_name(name, f"{kind} name")
    except AccountError as e:
        raise APIError(400, str(e)) from None


@router.get("/shares", response_model=ShareList)
async def list_shares(shares: HubShares = Depends(hub_shares)) -> ShareList:
    """Who your workspace is shared with."""
    return ShareList(owner=shares.owner, url=shares.lab_path, shares=await shares.list())


@router.post("/shares", response_model=Shared, status_code=201)
async def share(body: ShareRequest, shares: HubShares = Depends(hub_shares)) -> Shared:
    """Share your workspace with a user or a group: they can open it at /user/<you>/lab."""
    kind, name = body.target
    name = _valid(kind, name)
    if kind == "user" and name == shares.owner:
        raise APIError(400, "you cannot share your workspace with yourself")
    granted = await shares.grant(kind, name)
    return Shared(**granted.model_dump(), url=shares.lab_path)


@router.delete("/shares/{kind}/{name}", status_code=204)
async def revoke(kind: Kind, name: str, shares: HubShares = Depends(hub_shares)) -> None:
    """Stop sharing your workspace with a user or group; their access ends within seconds."""
    await shares.revoke(kind, _valid(kind, name))
