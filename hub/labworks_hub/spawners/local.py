"""LocalWorkspaceSpawner: the embedded default, one local Jupyter server process per user."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from pathlib import Path

import httpx
from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from tornado.web import HTTPError
from traitlets import Float, Unicode, default

from ..gpus import GPUSlots, NoGPUAvailable, detect_gpus
from ..profiles import GPUStatus, Profile
from .base import WorkspaceSpawnerMixin


class LocalWorkspaceSpawner(WorkspaceSpawnerMixin, SimpleLocalProcessSpawner):
    """Each user's server runs as a local process in `<workspaces_dir>/<name>`.

    Servers run as the hub's own OS user: there is no file isolation between users on this
    backend yet, and the hub says so at every start.
    """

    workspaces_dir = Unicode(help="Directory holding one home directory per user.").tag(config=True)

    @default("workspaces_dir")
    def _default_workspaces_dir(self):
        return str(Path.cwd() / ".labworks" / "users")

    @default("home_dir")
    def _default_home_dir(self):
        return str(Path(self.workspaces_dir) / self.user.name)

    @default("cmd")
    def _default_cmd(self):
        return [sys.executable, "-m", "jupyterhub.singleuser"]

    @default("args")
    def _default_args(self):
        # Servers run as the hub's OS user; when that is root, jupyter_server must be told.
        return ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []

    port: int  # jupyterhub.spawner.Spawner.port, for the type checker
    gpu_indices: list[int]
    _gpu_slots: GPUSlots | None = None  # shared by every local spawner of this hub

    preload_socket = Unicode(
        "",
        help="Unix socket of the preload server (labworks_hub.spawners.preload) that forks"
        " servers with Jupyter already imported; empty or absent: start a new process.",
    ).tag(config=True)

    poll_ready_interval = Float(
        0.05, help="Seconds between checks that a starting server answers HTTP."
    ).tag(config=True)

    @default("default_url")
    def _default_default_url(self):
        return "/lab"

    @classmethod
    def gpu_slots(cls) -> GPUSlots:
        if LocalWorkspaceSpawner._gpu_slots is None:
            LocalWorkspaceSpawner._gpu_slots = GPUSlots(detect_gpus())
        return LocalWorkspaceSpawner._gpu_slots

    def gpu_status(self) -> GPUStatus:
        return self.gpu_slots().status()

    def apply_profile(self, user_options: dict) -> Profile:
        """Also take this server's GPUs, one workspace per GPU."""
        profile = super().apply_profile(user_options)
        self.gpu_slots().release(self._log_name)
        self.gpu_indices = []
        if profile.gpu_count:
            try:
                self.gpu_indices = self.gpu_slots().acquire(self._log_name, profile.gpu_count)
            except NoGPUAvailable as e:
                raise HTTPError(400, f"profile {profile.name!r} is not available: {e}") from None
        return profile

    def workspace_env(self) -> dict[str, str]:
        env = super().workspace_env()
        if getattr(self, "gpu_indices", None) is not None:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, self.gpu_indices))
        return env

    def get_state(self):
        state = super().get_state()
        if getattr(self, "gpu_indices", None):
            state["gpu_indices"] = self.gpu_indices
        return state

    def load_state(self, state):
        super().load_state(state)
        self.gpu_indices = list(state.get("gpu_indices", []))
        if self.gpu_indices:
            self.gpu_slots().restore(self._log_name, self.gpu_indices)

    async def stop(self, now=False):
        await super().stop(now=now)
        self.gpu_slots().release(self._log_name)
        self.gpu_indices = []

    async def start(self):
        ip: str | None = None
        port: int | None = None
        if self.preload_socket and os.path.exists(self.preload_socket):
            try:
                ip, port = await self._start_preloaded()
            except (OSError, ValueError) as e:
                self.log.warning("Preload server not usable (%s); starting a new process", e)
        if port is None:
            ip, port = await super().start()
        await self._wait_until_answering(f"http://{ip}:{port}{self.server.base_url}api")
        return ip, port

    async def _start_preloaded(self) -> tuple[str, int]:
        """The same server LocalProcessSpawner.start would run, forked by the preload server."""
        if self.port == 0:
            self.port = random_port()
        env = self.get_env()
        argv = ["jupyterhub-singleuser", *self.get_args()]
        os.makedirs(self.home_dir, 0o755, exist_ok=True)
        request = json.dumps({"argv": argv, "env": env, "cwd": self.home_dir}).encode() + b"\n"
        reader, writer = await asyncio.open_unix_connection(self.preload_socket)
        try:
            writer.write(request)
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), timeout=30) or b"{}")
        finally:
            writer.close()
        if "pid" not in reply:
            raise ValueError(reply.get("error", "no answer"))
        self.log.info("Forked %s from the preload server: pid %s", shlex.join(argv), reply["pid"])
        self.pid = reply["pid"]
        self.proc = None  # not our child: poll() and stop() work through the pid
        return (self.ip or "127.0.0.1", self.port)

    async def _wait_until_answering(self, url: str) -> None:
        """Return as soon as the new server answers HTTP. The hub checks readiness with an
        exponential backoff (0.2 s doubling to 5 s), which adds up to seconds to every spawn;
        polling here finely makes the hub's first check succeed."""
        deadline = time.monotonic() + self.http_timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if await self.poll() is not None:
                    raise RuntimeError(
                        "the workspace server exited while starting; see the hub log for its output"
                    )
                try:
                    await client.get(url)
                    return
                except httpx.TransportError:
                    await asyncio.sleep(self.poll_ready_interval)
        # Not answering yet: leave the verdict to the hub's own http_timeout handling.
