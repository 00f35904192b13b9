"""The local serving backend: each model server is a process of the serving environment's
Python running runtime/ as the deployer's account, started by the job launcher (the one
privileged part, labworks_hub.launcher), listening on a Unix socket in a folder that only its
account and the platform can reach. The platform reaches it there and nowhere else."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from traitlets import Float
from traitlets.config import LoggingConfigurable

from ...launcher import LOG, SOCKET, Launcher, LauncherError, ServeRequest
from ...processes import alive
from ...userfiles import RefusedFile, UserFolder
from .client import ModelClient, ModelUnreachable
from .spec import ServerSpec

LOG_TAIL = 2000  # characters of a failed server's log shown as its reason

READY, STARTING, DEAD = "ready", "starting", "dead"


class LocalServing(LoggingConfigurable):
    """Model servers as local processes (see the module docstring)."""

    probe_timeout = Float(2.0, help="Seconds a readiness probe of a model server may take.").tag(
        config=True
    )

    def __init__(self, launcher: Launcher, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.launcher = launcher
        self._clients: dict[str, ModelClient] = {}
        self._children: dict[int, Any] = {}  # pid -> Popen, where the launcher is in-process

    async def start(self, spec: ServerSpec, generation: int, env: dict[str, str]) -> dict[str, Any]:
        request = ServeRequest(
            server_id=server_id(spec.deployment_id, spec.version), generation=generation,
            owner=spec.owner, endpoint=spec.endpoint, model_uri=spec.model_uri,
            version=spec.version, task=spec.task, env=env,
        )  # fmt: skip
        try:
            started = await asyncio.to_thread(self.launcher.serve, request)
        except (LauncherError, ValueError, OSError) as e:
            raise ServingError(f"cannot start the model server: {e}") from None
        if started.process is not None:  # ours to reap (the root launcher reaps its own)
            self._children[started.pid] = started.process
        return {
            "server_id": request.server_id, "generation": generation, "pid": started.pid,
            "start_ticks": started.start_ticks, "dir": started.dir, "files": started.files,
        }  # fmt: skip

    def client(self, state: dict[str, Any]) -> ModelClient:
        """A kept client of the server's socket (connections are reused across requests)."""
        path = str(Path(state["files"]) / SOCKET)
        client = self._clients.get(path)
        if client is None:
            client = self._clients[path] = ModelClient("http://model", socket=path)
        return client

    async def probe(self, state: dict[str, Any]) -> str:
        """READY once the server answers ready, DEAD when its process is gone."""
        child = self._children.get(state["pid"])
        if child is not None and child.poll() is not None:
            self._children.pop(state["pid"], None)
            return DEAD
        if child is None and not alive(state["pid"], state["start_ticks"]):
            return DEAD
        try:
            reply = await self.client(state).get("/v2/health/ready", timeout=self.probe_timeout)
        except ModelUnreachable:
            return STARTING
        return READY if reply.status_code == 200 else STARTING

    async def log_tail(self, state: dict[str, Any]) -> str:
        def read() -> str:
            try:
                with (
                    UserFolder(Path(state["dir"]), os.geteuid()) as folder,
                    folder.open(LOG) as log,
                ):
                    size = os.fstat(log.fileno()).st_size
                    log.seek(max(0, size - LOG_TAIL))
                    return log.read().decode("utf8", "replace")
            except (OSError, RefusedFile):
                return ""

        return await asyncio.to_thread(read)

    async def stop(self, state: dict[str, Any]) -> None:
        client = self._clients.pop(str(Path(state["files"]) / SOCKET), None)
        if client is not None:
            await client.aclose()
        try:
            await asyncio.to_thread(
                self.launcher.cancel, state["server_id"], state["generation"], state["pid"],
                state["start_ticks"],
            )  # fmt: skip
            await asyncio.to_thread(self.launcher.forget, state["server_id"], state["generation"])
        except LauncherError as e:
            self.log.warning("Model server %s: not stopped: %s", state["server_id"], e)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


class ServingError(Exception):
    """A model server could not be started; the message says why (user-facing)."""


def server_id(deployment_id: str, version: str) -> str:
    return f"srv-{deployment_id}-{version}"
