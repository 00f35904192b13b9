"""The inference gateway: `/services/labworks/models/v2/...`, the Open Inference Protocol v2 REST
paths of every deployment, in front of its model servers.

Each request is authenticated first (a hub token in `Authorization`; nothing anonymous, no
cookie: a page on another site cannot make a browser call a model), then the deployment is
looked up and must be visible to the caller (else 404, as if it did not exist). The body is
refused with 413 before it is read when it says it is over the limit, and while it is read
otherwise. The version is the one the path names, or the canary for its share of requests, or
the stable one. The request goes to that version's server without the caller's token or
cookies, under the server's own path (`/v2/models/<name>/...`: one server serves one version).
Each answer says which version gave it (`x-labworks-model-version`). Requests, errors and
latency are counted per version (traffic.py): the deployment's live figures and the canary
rule read them.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from ..access import Unavailable
from ..auth import HubIdentity
from ..errors import APIError
from . import payloads
from .client import ModelUnreachable, Reply
from .service import KEY_PREFIX, Route, ServingService

PATH = re.compile(
    r"^/v2/models/(?P<name>[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?:/versions/(?P<version>[0-9]{1,9}))?(?P<rest>|/ready|/infer)$"
)
PASSED_HEADERS = (b"content-type", b"accept", b"inference-header-content-length")
PASSED_BACK = ("content-type", "inference-header-content-length")  # binary outputs need both


class Refusal(Exception):
    def __init__(self, status: int, message: str, headers: tuple = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


class InferenceGateway:
    """ASGI app of `<prefix>models` (see the module docstring; `GatewayFirst` routes to it)."""

    def __init__(
        self, serving: Callable[[], ServingService], identity: HubIdentity, max_body: int
    ) -> None:
        self.serving = serving  # made on first use (routers/deployments.py)
        self.identity = identity
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        try:
            await self._serve(scope, receive, send)
        except Refusal as e:
            await _answer(send, e.status, {"error": e.message}, e.headers)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        token = _token(headers.get(b"authorization", b"").decode("latin-1"))
        if not token:
            raise Refusal(401, "authentication required: send Authorization: Bearer <hub token"
                          " or API key>", ((b"www-authenticate", b"Bearer"),))  # fmt: skip
        try:
            serving = self.serving()
        except Unavailable as e:
            raise Refusal(503, str(e)) from None
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        found = PATH.match(path)
        route = serving.routes.get(found["name"]) if found else None
        caller = await self._caller(token, route)
        if found is None or route is None or caller is None:
            raise Refusal(404, f"no model is served at {path} that you may use")
        started = time.perf_counter()
        method = scope["method"]
        wanted = "POST" if found["rest"] == "/infer" else "GET"
        if method != wanted:
            raise Refusal(405, f"use {wanted} here", ((b"allow", wanted.encode()),))
        version = self._version(route, found["name"], found["version"])
        body = await self._body(headers, receive) if method == "POST" else b""
        reply = await self._forward(serving, scope, route, found["name"], version,
                                    found["rest"], body)  # fmt: skip
        seconds = time.perf_counter() - started
        serving.count(route.deployment_id, version, seconds, reply.status_code < 500)
        if method == "POST" and route.sample and random.random() < route.sample:  # noqa: S311
            logged = payloads.record(route.deployment_id, version, caller, reply.status_code,
                                     seconds, body, reply.content)  # fmt: skip
            serving.payloads.add(logged)
        out = [(b"x-labworks-model-version", version.encode())]
        out += [(name.encode(), reply.headers[name].encode("latin-1")) for name in PASSED_BACK
                if name in reply.headers]  # fmt: skip
        await _send(send, reply.status_code, reply.content, out)

    async def _caller(self, token: str, route: Route | None) -> str | None:
        """Who calls (a user's name, or `key:<id>`) when they may call `route`; None when it
        is not theirs to see. A deployment's API key calls that deployment and nothing else."""
        if token.startswith(KEY_PREFIX):
            if route is None or not route.admits_key(token):
                raise Refusal(401, "invalid API key for this endpoint")
            return "key:" + token.split("_")[1]
        try:
            viewer = (await self.identity.caller_for_token(token)).viewer()
        except APIError as e:
            raise Refusal(e.status, e.message) from None
        return viewer.name if route is not None and route.visible_to(viewer) else None

    def _version(self, route: Route, name: str, asked: str | None) -> str:
        if asked is not None:
            if asked not in (route.stable, route.canary):
                raise Refusal(404, f"version {asked} of {name} is not served")
            version = asked
        elif route.canary and route.percent and random.uniform(0, 100) < route.percent:  # noqa: S311
            version = route.canary
        else:
            version = route.stable
        if version not in route.ready:
            raise Refusal(503, f"version {version} of {name} is starting; try again shortly",
                          ((b"retry-after", b"2"),))  # fmt: skip
        return version

    async def _body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        too_big = Refusal(413, f"the request body is over {self.max_body} bytes")
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Refusal(400, "Content-Length is not a number")
            if int(declared) > self.max_body:
                raise too_big
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refusal(400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _forward(
        self, serving: ServingService, scope: Scope, route: Route, name: str, version: str,
        rest: str, body: bytes,
    ) -> Reply:  # fmt: skip
        """The version's server's answer to the request, under its own path."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k in PASSED_HEADERS]  # fmt: skip
        try:
            return await serving.backend.client(route.ready[version]).request(
                scope["method"], f"/v2/models/{name}{rest}", content=body, headers=headers
            )
        except ModelUnreachable as e:
            serving.count(route.deployment_id, version, 0.0, False)
            serving.wake()  # look at that server now
            raise Refusal(503, f"version {version} of {name} did not answer ({e})",
                          ((b"retry-after", b"2"),)) from None  # fmt: skip


class GatewayFirst:
    """ASGI middleware, the outermost of the app's own: requests under `prefix` go to the
    gateway at once, without the API's middleware (its request guard, metrics and routing, a
    few milliseconds an inference call), since the gateway authenticates and limits them
    itself; everything else goes on to the app."""

    def __init__(self, app: Any, gateway: InferenceGateway, prefix: str) -> None:
        self.app = app
        self.gateway = gateway
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and path.startswith(self.prefix + "/"):
            await self.gateway(dict(scope, root_path=scope.get("root_path", "") + self.prefix),
                               receive, send)  # fmt: skip
            return
        await self.app(scope, receive, send)


def _token(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() in ("token", "bearer") else ""


async def _answer(send: Send, status: int, body: dict[str, Any], headers: tuple = ()) -> None:
    await _send(send, status, json.dumps(body).encode(),
                [(b"content-type", b"application/json"), *headers])  # fmt: skip


async def _send(send: Send, status: int, body: bytes, headers: list) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
