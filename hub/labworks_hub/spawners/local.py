"""LocalWorkspaceSpawner: the embedded default, one local Jupyter server process per user."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import httpx
from jupyterhub import orm
from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from tornado.web import HTTPError
from traitlets import Enum, Float, Instance, Unicode, default
from traitlets.config import Config, PyFileConfigLoader

from ..gpus import GPUAllocator, NoGPUAvailable, detect_gpus, workspace_holder
from ..isolation import (
    Account,
    CgroupLimits,
    IsolationError,
    IsolationStatus,
    RunAs,
    SystemAccounts,
    become,
    check,
    give_home,
)
from ..profiles import GPUStatus, Profile, gpu_model_matches
from ..service.store import Store
from .base import WorkspaceSpawnerMixin


class LocalWorkspaceSpawner(WorkspaceSpawnerMixin, SimpleLocalProcessSpawner):
    """Each user's server runs as a local process in `<workspaces_dir>/<name>`.

    With isolation on (the hub runs as root), the server and its kernels run as the user's
    system account, in a home only that account can enter, inside a cgroup v2 group with the
    profile's limits where the machine offers them. Otherwise everything runs as the hub's own
    OS user, and `labworks up` says so loudly.

    GPUs are leased in the platform store (`db_url`), shared with the platform service's jobs:
    taken in `apply_workspace_options`, given back by `stop()` or when `poll()` finds the
    server gone, re-taken after a hub restart at the first `poll()`; at the hub's first GPU
    use, leases of workspaces the hub does not run are freed.
    """

    workspaces_dir = Unicode(help="Directory holding one home directory per user.").tag(config=True)

    db_url = Unicode(
        "", help="Platform store URL, where GPU leases are shared with jobs (needed with GPUs)."
    ).tag(config=True)

    isolation = Enum(
        ["auto", "on", "off"],
        "auto",
        help="Run each workspace as its own system account. auto: when the hub runs as root and"
        " an unprivileged user can run this Python and reach workspaces_dir; on: refuse to start"
        " workspaces otherwise; off: every workspace runs as the hub's OS user.",
    ).tag(config=True)

    accounts = Instance(SystemAccounts)
    limits = Instance(CgroupLimits)
    _statuses: ClassVar[dict[tuple, IsolationStatus]] = {}  # decided once per process
    _announced: ClassVar[set[tuple]] = set()
    _account: Account | None = None  # set by start() when isolation is on
    _run_as: RunAs | None = None
    _cgroup = ""

    @default("accounts")
    def _default_accounts(self):
        return SystemAccounts(parent=self)

    @default("limits")
    def _default_limits(self):
        return CgroupLimits(parent=self)

    @default("workspaces_dir")
    def _default_workspaces_dir(self):
        return str(Path.cwd() / ".labworks" / "users")

    @default("home_dir")
    def _default_home_dir(self):
        return str(Path(self.workspaces_dir) / self.user.name)

    @default("cmd")
    def _default_cmd(self):
        return [sys.executable, "-m", "jupyterhub.singleuser"]

    port: int  # jupyterhub.spawner.Spawner.port, for the type checker
    gpu_indices: list[int]
    _gpu_slots: GPUAllocator | None = None  # shared by every local spawner of this hub
    _gpu_reconciled: ClassVar[bool] = False
    _gpu_snapshot: GPUStatus | None = None  # what the last look at the leases found
    _gpu_restore = False  # load_state found GPUs: re-take them at the first poll()

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
    def gpu_slots(cls, db_url: str = "", config: Config | None = None) -> GPUAllocator:
        """The hub's GPU allocator, made at the first call: NVML's GPUs, leased in the store."""
        if LocalWorkspaceSpawner._gpu_slots is None:
            gpus = detect_gpus()
            if gpus and not db_url:
                raise RuntimeError(
                    "this machine has GPUs: set c.LocalWorkspaceSpawner.db_url to the platform"
                    " store, where workspaces and jobs share them"
                )
            store = Store(db_url) if gpus else None
            LocalWorkspaceSpawner._gpu_slots = GPUAllocator(store, gpus, config=config)
        return LocalWorkspaceSpawner._gpu_slots

    @property
    def _gpu_holder(self) -> str:
        return workspace_holder(self.user.name, self.name)

    async def _gpus(self) -> GPUAllocator:
        """The allocator; the first time in this hub, leases of workspaces the hub does not run
        (it restarted after losing them) are freed."""
        allocator = self.gpu_slots(self.db_url, self.config)
        if not LocalWorkspaceSpawner._gpu_reconciled and self.db is not None and allocator.gpus:
            LocalWorkspaceSpawner._gpu_reconciled = True
            since = datetime.now(UTC)
            running = [
                workspace_holder(s.user.name, s.name)
                for s in self.db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None))
            ]
            await asyncio.to_thread(allocator.release_stale, "workspace:", running, since)
        return allocator

    def gpu_status(self) -> GPUStatus:
        """Free GPUs as last looked up (`_refresh_gpu_status`, before the form and a spawn)."""
        return self._gpu_snapshot or self.gpu_slots(self.db_url, self.config).status()

    async def _refresh_gpu_status(self) -> None:
        self._gpu_snapshot = await asyncio.to_thread((await self._gpus()).status)

    async def render_options_form(self) -> str:
        await self._refresh_gpu_status()
        return await super().render_options_form()

    async def apply_workspace_options(self, user_options: dict) -> Profile:
        """Also take this server's GPUs (one holder per GPU), after giving back any it had."""
        allocator = await self._gpus()
        await asyncio.to_thread(allocator.release, self._gpu_holder)
        self.gpu_indices = []
        await self._refresh_gpu_status()
        profile = await super().apply_workspace_options(user_options)
        if profile.gpu_count:
            candidates = [
                g.index for g in allocator.gpus
                if not profile.gpu_model or gpu_model_matches(profile.gpu_model, g.name)
            ]  # fmt: skip
            try:
                self.gpu_indices = await asyncio.to_thread(
                    allocator.acquire, self._gpu_holder, self.user.name, profile.gpu_count,
                    candidates,
                )  # fmt: skip
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
        if self._cgroup:
            state["cgroup"] = self._cgroup
        return state

    def load_state(self, state):
        super().load_state(state)
        self.gpu_indices = list(state.get("gpu_indices", []))
        self._gpu_restore = bool(self.gpu_indices)
        self._cgroup = state.get("cgroup", "")

    def clear_state(self):
        """No server process is left (stopped, found dead, or about to start): remove its
        cgroup, killing whatever it left running there. Its GPUs were given back by stop()
        or poll(), or are by apply_workspace_options()."""
        super().clear_state()
        self.gpu_indices = []
        self._gpu_restore = False
        self._remove_cgroup()

    async def poll(self):
        """The process's exit status, or None while it runs; a server found gone gives back
        its GPUs, a running one re-takes those it recorded (after a hub restart)."""
        had_gpus = bool(getattr(self, "gpu_indices", None))
        status = await super().poll()  # a dead server's state is cleared here
        if status is not None and had_gpus:
            await self._release_gpus()
        elif status is None and self._gpu_restore:
            self._gpu_restore = False
            allocator = await self._gpus()
            await asyncio.to_thread(
                allocator.restore, self._gpu_holder, self.user.name, self.gpu_indices
            )
        return status

    async def stop(self, now=False):
        await super().stop(now=now)
        await self._release_gpus()
        self._remove_cgroup()

    async def _release_gpus(self) -> None:
        allocator = await self._gpus()
        await asyncio.to_thread(allocator.release, self._gpu_holder)
        self.gpu_indices = []

    def _remove_cgroup(self) -> None:
        if self._cgroup:
            self.limits.remove(Path(self._cgroup))
            self._cgroup = ""

    def isolation_status(self, announce: bool = True) -> IsolationStatus:
        """Isolation on this machine with these settings, decided once per process; logged
        once when `announce`."""
        key = (
            self.isolation,
            sys.executable,
            self.workspaces_dir,
            self.accounts.group,
            self.limits.root,
            self.limits.subtree,
        )
        if key not in self._statuses:
            _make_workspaces_dir(Path(self.workspaces_dir))
            self._statuses[key] = check(
                self.isolation, sys.executable, self.workspaces_dir, self.accounts, self.limits
            )
        status = self._statuses[key]
        if announce and key not in self._announced:
            self._announced.add(key)
            log = self.log.info if status.on and status.limits else self.log.warning
            log("Workspace %s", status.summary())
        return status

    async def _isolate(self) -> RunAs | None:
        """Prepare the home and, with isolation on, the account and cgroup of this server."""
        status = await asyncio.to_thread(self.isolation_status)
        home = Path(self.home_dir)
        await asyncio.to_thread(_make_workspaces_dir, Path(self.workspaces_dir))
        if not status.on:
            if status.required:
                raise IsolationError(status.summary())
            await asyncio.to_thread(give_home, home, None)
            return None
        account = await asyncio.to_thread(self.accounts.ensure, self.user.name)
        await asyncio.to_thread(give_home, home, account)
        self._account = account
        if status.limits:
            limits = (self.cpu_limit, self.mem_limit)
            self._cgroup = str(await asyncio.to_thread(self.limits.create, account.name, *limits))
        return RunAs(account.uid, account.gid, account.groups, self._cgroup)

    def make_preexec_fn(self, name):
        run_as, home = self._run_as, self.home_dir

        def preexec():
            if run_as is not None:
                become(run_as)
            os.chdir(home)

        return preexec

    def user_env(self, env):
        env = super().user_env(env)  # HOME, USER, SHELL=/bin/bash
        if self._account is not None:
            env["USER"] = env["LOGNAME"] = self._account.name
        return env

    def get_args(self):
        args = super().get_args()
        if os.geteuid() == 0 and self._run_as is None:
            args.append("--ServerApp.allow_root=True")  # runs as root: jupyter_server must be told
        return args

    async def start(self):
        self._account = None
        self._run_as = await self._isolate()
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
        request: dict = {"argv": argv, "env": env, "cwd": self.home_dir}
        if self._run_as is not None:
            request["run_as"] = self._run_as.to_dict()
        reader, writer = await asyncio.open_unix_connection(self.preload_socket)
        try:
            writer.write(json.dumps(request).encode() + b"\n")
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


def _make_workspaces_dir(path: Path) -> None:
    """Homes live in a directory anyone may traverse but not list (0711): a user reaches
    their own home without learning the other users' names."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o711)


def isolation_status_from_config(config_file: str | os.PathLike) -> IsolationStatus | None:
    """The isolation the hub started with this config file will have; None when it does not
    use the local spawner. `labworks up` prints it before starting the hub."""
    loader = PyFileConfigLoader(os.path.basename(config_file), os.path.dirname(config_file))
    config: Config = loader.load_config()
    spawner_class = config.JupyterHub.get("spawner_class", "")
    names = ("labworks-local", f"{__name__}.LocalWorkspaceSpawner", LocalWorkspaceSpawner)
    if spawner_class not in names:
        return None
    return LocalWorkspaceSpawner(config=config).isolation_status(announce=False)
