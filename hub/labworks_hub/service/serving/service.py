"""The serving service: keeps each deployment's model servers running as its rows say.

Its loop (every `poll_interval`, and at once when told of a change) looks at every deployment
that should serve: a version without a server gets one started (with a hub token of the
deployer, to load the model through the tracking server, revoked once the server is ready or
gone); a started one is probed until it answers ready; one whose process died is started again,
up to `max_restarts` times in a row, after which the deployment fails with the server's last log
lines as the reason. Servers of versions a deployment no longer serves, and of deployments taken
down, are stopped. A restarted platform finds the servers that still run from their rows and
re-attaches (a server is a process of its own, like a job). The gateway (gateway.py) routes
requests with the table `routes` kept here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from ..access import Viewer, Visibility
from ..background import cancel
from ..hubapi import HubError, HubTokens, token_digest
from ..jobs.artifacts import ArtifactStore
from ..store import Store
from ..store import deployments as store
from ..store.deployments import (
    FAILED,
    LIVE,
    READY,
    STARTING,
    STOPPED,
    Deployment,
    ModelServer,
)
from ..store.models import utcnow
from ..tracking.env import tracking_uri
from .backend import ServingBackend
from .local import DEAD, ServingError
from .local import READY as PROBED_READY
from .payloads import PayloadLog
from .spec import CANARY, STABLE, ServerSpec
from .traffic import CanaryRule, Traffic

TOKEN_SCOPES = ["access:services!service=labworks"]


@dataclass
class Route:
    """What the gateway needs to know of a deployment, in memory."""

    deployment_id: str
    owner: str
    visibility: str
    stable: str
    canary: str | None
    percent: int
    sample: float = 0.0  # share of requests whose payloads are logged
    ready: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> server state
    keys: dict[str, str] = field(default_factory=dict)  # API key id -> sha256 of its secret

    def visible_to(self, viewer: Viewer) -> bool:
        return Visibility(self.visibility).visible_to(self.owner, viewer)

    def admits_key(self, key: str) -> bool:
        """Whether `key` (`lwk_<id>_<secret>`) is one of this deployment's API keys."""
        _, key_id, secret = [*key.split("_", 2), "", ""][:3]
        digest = self.keys.get(key_id)
        return digest is not None and hmac.compare_digest(digest, key_digest(secret))


KEY_PREFIX = "lwk_"


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf8", "replace")).hexdigest()


class ServingService(LoggingConfigurable):
    """See the module docstring."""

    poll_interval = Float(2.0, help="Seconds between looks at the model servers.").tag(config=True)
    ready_timeout = Float(
        300.0, help="Seconds a model server may take to load its model and answer ready."
    ).tag(config=True)
    max_restarts = Integer(
        3, help="Times in a row a model server that died is started again before giving up."
    ).tag(config=True)
    token_lifetime = Integer(
        900, help="Seconds the hub token a model server loads its model with may live."
    ).tag(config=True)
    canary_min_requests = Integer(
        20, help="Requests a canary answers before the canary rule judges it."
    ).tag(config=True)
    canary_max_error_margin = Float(
        0.05, help="How far a canary's error rate may exceed the stable version's."
    ).tag(config=True)
    canary_max_latency_ratio = Float(
        2.0, help="How many times the stable version's median latency a canary's may be."
    ).tag(config=True)
    payload_flush_seconds = Float(
        10.0, help="Seconds between writes of the payload logs' batches."
    ).tag(config=True)
    canary_promote_after = Integer(
        0, help="Healthy canary requests after which it is promoted; 0: only by its owner."
    ).tag(config=True)

    def __init__(
        self, store_: Store, backend: ServingBackend, hub: HubTokens | None,
        artifacts: ArtifactStore, api_url: str, public_url: str = "", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.store = store_
        self.payloads = PayloadLog(artifacts, self.payload_flush_seconds)
        self.backend = backend
        self.hub = hub
        self.api_url = api_url
        self.public_url = public_url
        self.routes: dict[str, Route] = {}  # deployment name -> route
        self.traffic: dict[tuple[str, str], Traffic] = {}  # (deployment id, version) -> counts
        self.token_revoked: Any = lambda digest: None  # told each revoke (auth refuses at once)
        self._tokens: dict[tuple[str, str], dict[str, str]] = {}  # (dep id, version) -> token
        self._event = asyncio.Event()
        self._lock = asyncio.Lock()  # one look at the servers at a time
        self._task: asyncio.Task | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh_routes()
        self.payloads.start()
        self._task = asyncio.create_task(self._loop(), name="labworks-serving")

    async def stop(self) -> None:
        """Stop looking; the model servers keep running and are re-attached at next start."""
        task, self._task = self._task, None
        await cancel(task)
        await self.payloads.stop()
        await self.backend.close()

    def wake(self) -> None:
        self._event.set()

    async def _loop(self) -> None:
        while True:
            self._event.clear()
            try:
                await self.tick()
            except Exception:
                self.log.exception("Serving loop step failed; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._event.wait()

    async def tick(self) -> None:
        async with self._lock:
            for deployment, servers in await self.store.run(_plan):
                await self._settle(deployment, servers)
                await self._judge_canary(deployment)
            await self.refresh_routes()

    async def settle_now(self, deployment_id: str) -> None:
        """Make one deployment's servers match its row now (taking it down stops them before
        the request that asked is answered)."""
        async with self._lock:
            for deployment, servers in await self.store.run(_plan, deployment_id):
                await self._settle(deployment, servers)
            await self.refresh_routes()

    # --- traffic and the canary rule -----------------------------------------------------------

    def count(self, deployment_id: str, version: str, seconds: float, ok: bool) -> None:
        """One answer of a version (the gateway tells each)."""
        key = (deployment_id, version)
        traffic = self.traffic.get(key)
        if traffic is None:
            traffic = self.traffic[key] = Traffic()
        traffic.add(seconds, ok)

    def figures(self, deployment_id: str, version: str) -> dict[str, Any]:
        return self.traffic.get((deployment_id, version), Traffic()).figures()

    def reset(self, deployment_id: str, version: str) -> None:
        """Judge a version afresh: it has just become a canary."""
        self.traffic.pop((deployment_id, version), None)

    @property
    def rule(self) -> CanaryRule:
        return CanaryRule(self.canary_min_requests, self.canary_max_error_margin,
                          self.canary_max_latency_ratio, self.canary_promote_after)  # fmt: skip

    async def _judge_canary(self, deployment: Deployment) -> None:
        canary = deployment.canary_version
        if deployment.status not in LIVE or not canary or not deployment.canary_percent:
            return
        stable = self.traffic.get((deployment.id, deployment.version), Traffic())
        verdict = self.rule.judge(stable, self.traffic.get((deployment.id, canary), Traffic()))
        if verdict is None:
            return
        action, why = verdict
        if await self.store.run(_apply_verdict, deployment.id, canary, action, why):
            self.log.warning("Deployment %s: canary version %s: %s (%s)",
                             deployment.name, canary, action, why)  # fmt: skip
            self.reset(deployment.id, canary)
            self.wake()

    async def refresh_routes(self) -> None:
        self.routes = await self.store.run(_routes)

    # --- one deployment -----------------------------------------------------------------------

    async def _settle(self, deployment: Deployment, servers: dict[str, ModelServer]) -> None:
        wanted = set(deployment.versions()) if deployment.status in LIVE else set()
        for version, server in servers.items():
            if version not in wanted and server.state:
                await self._stop(deployment.id, version, server.state)
        failed: list[str] = []
        for version in sorted(wanted):
            outcome = await self._keep_running(deployment, version, servers.get(version))
            if outcome:
                failed.append(outcome)
        await self.store.run(_conclude, deployment.id, sorted(wanted), failed)

    async def _keep_running(
        self, deployment: Deployment, version: str, server: ModelServer | None
    ) -> str:
        """Start, probe or restart the server of `version`; the reason it failed for good, or
        an empty string."""
        state = server.state if server is not None else {}
        if state:
            probed = await self.backend.probe(state)
            if probed == PROBED_READY:
                if server is not None and server.status != READY:
                    await self._revoke(deployment.id, version)
                    await self.store.run(_mark_ready, deployment.id, version)
                return ""
            started = server.started_at if server is not None else None
            waited = (utcnow() - started).total_seconds() if started else 0.0
            if probed != DEAD and waited < self.ready_timeout:
                return ""
            log = (await self.backend.log_tail(state)).strip()
            await self._stop(deployment.id, version, state)
            why = "did not answer ready in time" if probed != DEAD else "exited"
            restarts = server.restarts if server is not None else 0
            if restarts >= self.max_restarts:
                last = log.splitlines()[-1] if log else "(no output)"
                return f"the model server of version {version} {why}: {last}"
            self.log.warning("Model server %s v%s %s; starting it again. Its log ends:\n%s",
                             deployment.name, version, why, log[-1000:])  # fmt: skip
        generation = (server.generation if server is not None else 0) + 1
        spec = self._spec(deployment, version)
        try:
            env = await self._env(deployment, version)
            state = await self.backend.start(spec, generation, env)
        except (ServingError, HubError) as e:
            await self._revoke(deployment.id, version)
            return str(e)
        await self.store.run(_mark_started, deployment.id, version, generation, state)
        return ""

    def _spec(self, deployment: Deployment, version: str) -> ServerSpec:
        return ServerSpec(
            deployment_id=deployment.id, endpoint=deployment.name, owner=deployment.owner,
            model_name=deployment.model_name, version=version,
            model_uri=f"models:/{deployment.model_name}/{version}", storage_uri="",
            task=deployment.task,
            role=CANARY if version == deployment.canary_version else STABLE,
        )  # fmt: skip

    async def _env(self, deployment: Deployment, version: str) -> dict[str, str]:
        env = {
            "MLFLOW_TRACKING_URI": tracking_uri(self.api_url, self.public_url),
            "PYTHONUNBUFFERED": "1",
        }
        if self.hub is not None:
            token = await self.hub.create(
                deployment.owner, note=f"labworks model server {deployment.name} v{version}",
                expires_in=self.token_lifetime, scopes=TOKEN_SCOPES,
            )  # fmt: skip
            digest = token_digest(token.value)
            held = {"user": deployment.owner, "id": token.id, "digest": digest}
            self._tokens[(deployment.id, version)] = held
            env["MLFLOW_TRACKING_TOKEN"] = token.value
        return env

    async def _revoke(self, deployment_id: str, version: str) -> None:
        """The server loaded its model (or is gone): its token is not needed any more."""
        token = self._tokens.pop((deployment_id, version), None)
        if token is None or self.hub is None:
            return
        self.token_revoked(token["digest"])
        try:
            await self.hub.revoke(token["user"], token["id"])
        except HubError as e:
            self.log.warning("A model server's hub token %s stays until it expires: %s",
                             token["id"], e)  # fmt: skip

    async def _stop(self, deployment_id: str, version: str, state: dict[str, Any]) -> None:
        await self.backend.stop(state)
        await self._revoke(deployment_id, version)
        await self.store.run(_mark_stopped, deployment_id, version)


# --- store work (each in one transaction) -----------------------------------------------------


def _plan(
    session: Session, deployment_id: str | None = None
) -> list[tuple[Deployment, dict[str, ModelServer]]]:
    """Every deployment (or one) and its servers, detached (the loop works on them outside a
    session)."""
    work = []
    query = select(Deployment)
    if deployment_id is not None:
        query = query.where(Deployment.id == deployment_id)
    for deployment in session.scalars(query):
        servers = {s.version: s for s in store.servers(session, deployment.id)}
        session.expunge(deployment)
        for server in servers.values():
            session.expunge(server)
        work.append((deployment, servers))
    return work


def _routes(session: Session) -> dict[str, Route]:
    routes = {}
    for deployment in session.scalars(select(Deployment).where(Deployment.status.in_(LIVE))):
        route = Route(
            deployment.id, deployment.owner, deployment.visibility, deployment.version,
            deployment.canary_version, deployment.canary_percent, deployment.payload_sample,
        )  # fmt: skip
        for server in store.servers(session, deployment.id):
            if server.status == READY and server.state:
                route.ready[server.version] = dict(server.state)
        route.keys = {k.id: k.sha256 for k in store.keys(session, deployment.id)}
        routes[deployment.name] = route
    return routes


def _server(session: Session, deployment_id: str, version: str) -> ModelServer:
    server = session.get(ModelServer, (deployment_id, version))
    if server is None:
        server = ModelServer(deployment_id=deployment_id, version=version, state={})
        session.add(server)
    return server


def _mark_started(
    session: Session, deployment_id: str, version: str, generation: int, state: dict[str, Any]
) -> None:
    server = _server(session, deployment_id, version)
    if server.status == READY or server.generation:  # a start after a crash
        server.restarts = (server.restarts or 0) + 1
    server.status, server.reason, server.generation = STARTING, "", generation
    server.state, server.started_at = state, utcnow()


def _mark_ready(session: Session, deployment_id: str, version: str) -> None:
    server = _server(session, deployment_id, version)
    server.status, server.restarts, server.ready_at = READY, 0, utcnow()


def _mark_stopped(session: Session, deployment_id: str, version: str) -> None:
    server = session.get(ModelServer, (deployment_id, version))
    if server is not None:
        server.state, server.status = {}, STARTING


def _apply_verdict(
    session: Session, deployment_id: str, canary: str, action: str, why: str
) -> bool:
    """Roll the canary back (all requests to the stable version) or promote it, as the
    platform, with the reason; False when the deployment changed meanwhile."""
    deployment = session.get(Deployment, deployment_id)
    if deployment is None or deployment.canary_version != canary:
        return False
    previous = deployment.version
    if action == "promote":
        deployment.version = canary
    deployment.canary_version, deployment.canary_percent = None, 0
    version = deployment.version
    store.record(session, deployment, "labworks", action, why, version=version, canary=canary,
                 previous=previous)  # fmt: skip
    return True


def _conclude(session: Session, deployment_id: str, wanted: list[str], failed: list[str]) -> None:
    """The deployment's status from its servers': ready when every wanted one is, failed
    (with the reason) when one gave up; servers no longer wanted are removed."""
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        return
    servers = {s.version: s for s in store.servers(session, deployment_id)}
    if deployment.status == STOPPED and not any(s.state for s in servers.values()):
        session.delete(deployment)  # taken down, every server of it stopped (rows: cascade)
        return
    for version, server in servers.items():
        if version not in wanted and not server.state:
            session.delete(server)
    if deployment.status not in LIVE:
        return
    if failed:
        deployment.status, deployment.reason = FAILED, "; ".join(failed)
        store.record(session, deployment, "labworks", "failed", deployment.reason)
    elif all(servers.get(v) is not None and servers[v].status == READY for v in wanted):
        if deployment.status != READY:
            deployment.status, deployment.reason = READY, ""
            store.record(session, deployment, "labworks", "ready", versions=wanted)
    elif deployment.status == READY:
        deployment.status = STARTING
