"""LocalWorkspaceSpawner: the embedded default, one local Jupyter server process per user."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode, default

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

    @default("default_url")
    def _default_default_url(self):
        return "/lab"
