"""Served models on the user's own server, for the Models panel.

``/labworks/deployments/...`` is relayed to the platform's deployments API
(``/api/v1/deployments/...``): list, serve a version, show one with its servers' live traffic
and its changes, split traffic with a canary, promote, share, take down. The answers pass
through unparsed. ``/labworks/deployments/<name>/metadata`` and ``.../infer`` ("Try it") are
relayed to the inference gateway beside the API (the Open Inference Protocol v2 paths
``<platform>/models/v2/models/<name>[/versions/<v>]``, ``/infer``), with the same token.
The registered models the panel lists come from ``/labworks/models`` (experiments.py); a
model's versions (task type, aliases, lineage), its alias and task changes and its history are
relayed from ``/labworks/models/<name>/...`` to the platform's ``/api/v1/models/<name>/...``.

Every route acts with the owner's token, so only the owner may use it; a GET is not activity
(the panel polls the deployments it shows).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import tornado.web

from .client import PlatformClient, PlatformError
from .handlers import CLIENT_SETTING, LabworksHandler
from .sweeps import SweepsBaseHandler, SweepVisibilityHandler
from .tracking import API_SUFFIX

GATEWAY_SETTING = "labworks_gateway_client"
GATEWAY_SUFFIX = "/models/v2/models"
# An endpoint name, as the platform allows it (a DNS label).
ENDPOINT = r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
# The fields of the platform's POST /deployments and PUT .../traffic the lab may send.
SERVE_FIELDS = ("model", "version", "name", "task")
TRAFFIC_FIELDS = ("canary_version", "percent", "reason")
VERSION = re.compile(r"[0-9]{1,9}")
# A registered model's name as one URL segment (encoded: it may hold '/'), a version, an alias.
MODEL = r"([^/]+)"
MODEL_VERSION = r"([0-9]{1,9})"
ALIAS = r"([^/]+)"
# The largest inference request the lab sends (the gateway's own limit; 413 here, unsent).
MAX_INFER_BYTES = 8 << 20
# Seconds an inference request may take (a model's first answer can be slow).
INFER_TIMEOUT = 60.0


def gateway_url(api_url: str) -> str:
    """The inference gateway's models root for a platform API root:
    ``.../api/v1`` becomes ``.../models/v2/models``."""
    root = api_url.rstrip("/")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    return root + GATEWAY_SUFFIX if root else ""


def _fields(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {key: body[key] for key in names if key in body}


class DeploymentsBaseHandler(SweepsBaseHandler):
    """The owner's routes, relayed as the sweeps routes are."""

    owner_may = "serve and call models from it; open your own workspace to use yours"

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """The platform's and the model's refusals (a bad input, a name taken) are answers,
        not bugs: one line each, no traceback."""
        if isinstance(value, PlatformError):
            self.log.warning("labworks: %s: %s %s", self.request.path, value.status,
                             value.message)  # fmt: skip
        else:
            super().log_exception(typ, value, tb)


class DeploymentsHandler(DeploymentsBaseHandler):
    """``GET /labworks/deployments``: the deployments the owner can call; ``POST`` serves a
    registered model's version: body ``{"model", "version", "name"?, "task"?}``."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/deployments")

    @tornado.web.authenticated
    async def post(self) -> None:
        await self.relay("POST", "/deployments", _fields(self.json_object(), SERVE_FIELDS), 201)


class DeploymentHandler(DeploymentsBaseHandler):
    """``GET /labworks/deployments/<name>``: the deployment with its servers (live traffic)
    and its changes; ``DELETE`` takes it down (202: its servers stop after)."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", f"/deployments/{name}")

    @tornado.web.authenticated
    async def delete(self, name: str) -> None:
        await self.relay("DELETE", f"/deployments/{name}", status=202)


class TrafficHandler(DeploymentsBaseHandler):
    """``PUT /labworks/deployments/<name>/traffic``: ``{"canary_version", "percent",
    "reason"}``; a share of the requests to a canary version (none: all to the stable one)."""

    @tornado.web.authenticated
    async def put(self, name: str) -> None:
        body = _fields(self.json_object(), TRAFFIC_FIELDS)
        await self.relay("PUT", f"/deployments/{name}/traffic", body)


class PromoteHandler(DeploymentsBaseHandler):
    """``POST /labworks/deployments/<name>/promote``: ``{"reason"}``; the canary becomes the
    stable version."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = _fields(self.json_object(), ("reason",))
        await self.relay("POST", f"/deployments/{name}/promote", body)


class DeploymentVisibilityHandler(SweepVisibilityHandler):
    """``GET /labworks/deployments/<name>/visibility``: the Share dialog's shape
    (``{"name", "owner", "visibility", "yours"}``); ``PUT`` with ``{"visibility"}`` changes
    who may call the endpoint and answers the same."""

    owner_may = DeploymentsBaseHandler.owner_may

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        self.finish(self._shared(await self.platform.get(f"/deployments/{name}")))

    @tornado.web.authenticated
    async def put(self, name: str) -> None:
        visibility = self.json_object().get("visibility")
        if not isinstance(visibility, str):
            raise tornado.web.HTTPError(
                400, 'send {"visibility": "private" | "group:<name>" | "public"}'
            )
        path = f"/deployments/{name}/visibility"
        self.finish(self._shared(await self.platform.put(path, {"visibility": visibility})))


class GatewayHandler(DeploymentsBaseHandler):
    """Base of the routes relayed to the inference gateway (``?version=V`` asks one version
    rather than the traffic split): its answer as it is, with the version that gave it
    (``X-Labworks-Model-Version``); its refusal ``{"error": text}`` through the one error
    mapper, status kept."""

    @property
    def gateway(self) -> PlatformClient:
        """The gateway's client, made once per server from the platform client."""
        client = self.settings.get(GATEWAY_SETTING)
        if client is None:
            platform: PlatformClient = self.settings[CLIENT_SETTING]
            client = platform.beside(
                gateway_url(platform.api_url), service="inference gateway", code="inference"
            )
            self.settings[GATEWAY_SETTING] = client
        return client

    def model_path(self, name: str, rest: str = "") -> str:
        """The gateway's path of the endpoint (of the version asked), then ``rest``."""
        version = self.get_query_argument("version", "")
        if version and not VERSION.fullmatch(version):
            raise tornado.web.HTTPError(400, '"version" must be a version number, e.g. 3')
        return f"/{name}" + (f"/versions/{version}" if version else "") + rest

    async def relay_gateway(self, method: str, path: str, body: bytes | None = None) -> None:
        response = await self.gateway.fetch(
            method, path, body, request_timeout=max(self.gateway.timeout, INFER_TIMEOUT)
        )
        if response.code >= 300:
            raise _refusal(self.gateway, response.code, response.body)
        version = response.headers.get("x-labworks-model-version")
        if version:
            self.set_header("X-Labworks-Model-Version", version)
        self.finish(response.body or b"{}", set_content_type="application/json")


def _refusal(gateway: PlatformClient, status: int, raw: bytes | None) -> PlatformError:
    """The gateway's (and the model server's) ``{"error": text}``, or the platform's own
    error shape, as a ``PlatformError``."""
    try:
        body = json.loads(raw or b"")
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" not in body:
        error = body.get("error")
        if isinstance(error, str) and error:
            return PlatformError(status, "inference_error", error)
    return gateway.refusal(status, raw)


class MetadataHandler(GatewayHandler):
    """``GET /labworks/deployments/<name>/metadata``: the model's OIP metadata (``name``,
    ``versions``, ``platform``, ``inputs`` and ``outputs`` with their datatypes and shapes)."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay_gateway("GET", self.model_path(name))


class InferHandler(GatewayHandler):
    """``POST /labworks/deployments/<name>/infer``: an OIP v2 inference request (a JSON object
    up to 8 MiB, sent as it is); the model's answer."""

    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        if len(self.request.body) > MAX_INFER_BYTES:
            raise tornado.web.HTTPError(
                413, f"the inference request is over {MAX_INFER_BYTES} bytes"
            )
        self.json_object()  # 400 unless it is a JSON object
        await self.relay_gateway("POST", self.model_path(name, "/infer"), self.request.body)


class ModelBaseHandler(DeploymentsBaseHandler):
    """Base of a registered model's routes: its name goes to the platform encoded again."""

    owner_may = "see and change registered models from it; open your own workspace for yours"

    def model(self, name: str, *rest: str) -> str:
        return "/".join(["/models", quote(name, safe=""), *(quote(p, safe="") for p in rest)])


class ModelVersionsHandler(ModelBaseHandler):
    """``GET /labworks/models/<name>/versions``: the model's versions, newest first, with
    their aliases and task tags."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", self.model(name, "versions"))


class ModelVersionHandler(ModelBaseHandler):
    """``GET /labworks/models/<name>/versions/<v>``: the version's task type (tagged or
    inferred), aliases and lineage."""

    @tornado.web.authenticated
    async def get(self, name: str, version: str) -> None:
        await self.relay("GET", self.model(name, "versions", version))


class ModelTaskHandler(ModelBaseHandler):
    """``PUT /labworks/models/<name>/versions/<v>/task``: ``{"task", "reason"}`` (owner)."""

    @tornado.web.authenticated
    async def put(self, name: str, version: str) -> None:
        body = _fields(self.json_object(), ("task", "reason"))
        await self.relay("PUT", self.model(name, "versions", version, "task"), body)


class ModelAliasHandler(ModelBaseHandler):
    """``PUT /labworks/models/<name>/aliases/<alias>``: ``{"version", "reason"}`` points the
    alias at a version; ``DELETE`` (``?reason=``) removes it. The owner only."""

    @tornado.web.authenticated
    async def put(self, name: str, alias: str) -> None:
        body = _fields(self.json_object(), ("version", "reason"))
        await self.relay("PUT", self.model(name, "aliases", alias), body)

    @tornado.web.authenticated
    async def delete(self, name: str, alias: str) -> None:
        query = urlencode({"reason": self.get_query_argument("reason", "")})
        await self.relay("DELETE", self.model(name, "aliases", alias) + "?" + query)


class ModelHistoryHandler(ModelBaseHandler):
    """``GET /labworks/models/<name>/history``: who registered, moved and changed what."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.relay("GET", self.model(name, "history"))


models_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (rf"/labworks/models/{MODEL}/versions", ModelVersionsHandler),
    (rf"/labworks/models/{MODEL}/versions/{MODEL_VERSION}", ModelVersionHandler),
    (rf"/labworks/models/{MODEL}/versions/{MODEL_VERSION}/task", ModelTaskHandler),
    (rf"/labworks/models/{MODEL}/aliases/{ALIAS}", ModelAliasHandler),
    (rf"/labworks/models/{MODEL}/history", ModelHistoryHandler),
    (r"/labworks/deployments", DeploymentsHandler),
    (rf"/labworks/deployments/{ENDPOINT}", DeploymentHandler),
    (rf"/labworks/deployments/{ENDPOINT}/traffic", TrafficHandler),
    (rf"/labworks/deployments/{ENDPOINT}/promote", PromoteHandler),
    (rf"/labworks/deployments/{ENDPOINT}/visibility", DeploymentVisibilityHandler),
    (rf"/labworks/deployments/{ENDPOINT}/metadata", MetadataHandler),
    (rf"/labworks/deployments/{ENDPOINT}/infer", InferHandler),
]
