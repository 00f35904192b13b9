"""LocalWorkspaceSpawner: the embedded default, one local Jupyter server process per user."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Float, Unicode, default

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

    poll_ready_interval = Float(
        0.05, help="Seconds between checks that a starting server answers HTTP."
    ).tag(config=True)

    @default("default_url")
    def _default_default_url(self):
        return "/lab"

    async def start(self):
        ip, port = await super().start()
        await self._wait_until_answering(f"http://{ip}:{port}{self.server.base_url}api")
        return ip, port

    async def _wait_until_answering(self, url: str) -> None:
        """Return as soon as the new server answers HTTP. The hub checks readiness with an
        exponential backoff (0.2 s doubling to 5 s), which adds up to seconds to every spawn;
        polling here finely makes the hub's first check succeed."""
        deadline = time.monotonic() + self.http_timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"the workspace server exited with code {self.proc.returncode} while"
                        f" starting; see the hub log for its output"
                    )
                try:
                    await client.get(url)
                    return
                except httpx.TransportError:
                    await asyncio.sleep(self.poll_ready_interval)
        # Not answering yet: leave the verdict to the hub's own http_timeout handling.
