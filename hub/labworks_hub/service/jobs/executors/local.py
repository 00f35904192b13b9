"""LocalExecutor: the embedded default, papermill in a subprocess on the platform's machine.

Everything privileged (preparing an attempt's files, starting its process as the owner's
account, stopping it, removing its files) goes through one seam, `launcher`
(labworks_hub.launcher): the launcher's socket where `labworks up` runs this service as its
own unprivileged account, else the same code in this process. Each attempt has a directory
`<runs_dir>/<run id>/<attempt>/` of the launcher's (0711): it holds `log.txt` (this
service's user's, 0600), which the job writes only through the stdout and stderr the launcher
opens for it, and `job/`, the job's own folder (its account's, group this service's, 2750),
where `python .../jobs/runner.py DIR/job` reads its input and writes the output notebook, its
pid and `result.json`. The job cannot replace the log; everything read from `job/` is opened
through labworks_hub.userfiles (no link followed, plain files of the job's account only), and
copied to the artifact store from the open file. The runner runs in its own session, so it
survives a restart of the platform service; the service records its pid and start time (from
/proc) and, after a restart, re-attaches to a process with the same pid *and* start time (a
pidfd wakes it when the process ends), or reads `result.json` if it ended meanwhile. A pid the
service did not record itself comes from the job's `pid` file: it is believed only for a
process of the job's account with the start time written there. Cancelling freezes the runner
and every descendant of the job's account (the kernel and whatever the notebook started,
whatever session they are in), then kills them all with SIGKILL. Attempts started before this
layout (their state has `dir` but no `files`) kept everything in their directory, the job's:
they are read the same careful way.

The job runs with a clean environment: the workspace variables the service hands over (and
the job's hub token, `spec.secret_env`, only in the process environment) plus a short
allow-list of the service's own (PATH, locale, time zone); none of the service's secrets.
With isolation on (root and useradd available), a job runs as its owner's system account
(`lw-<name>`, labworks_hub.isolation), the same account as the owner's workspace. It runs in
the notebook's folder in the owner's workspace home (`workspaces_dir/<owner>/<notebook_path>/..`,
reached without following a link, and entered as the account), with HOME the workspace home,
so relative paths work as in the lab; where that folder does not exist, in an empty `work/`
folder of the attempt. The output notebook and the log always go to the attempt directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Bool, Dict, Enum, Float, Instance, Integer, List, Unicode, default

from .... import kernel_pool
from ....catalog import local_env_hash
from ....isolation import IsolationError, IsolationStatus, SystemAccounts
from ....launcher import (
    EXIT,
    JOB,
    LOG,
    LOG_FLAGS,
    JobLauncher,
    Launcher,
    LauncherError,
    StartRequest,
)
from ....launcher_socket import LauncherClient
from ....processes import alive, proc_stat
from ....userfiles import RefusedFile, UserFolder
from ..artifacts import ArtifactStore
from ..queue import Capacity
from ..runner import PID, RESULT
from .base import SUCCEEDED, Executor, ExecutorError, Outcome, RunSpec

OUTPUT = "output.ipynb"
PID_BYTES, RESULT_BYTES = 64, 64 * 1024  # the most the runner's pid and result files hold
EXIT_BYTES = 64  # the launcher's exit record
__all__ = ["LocalExecutor", "local_env_hash"]


class LocalExecutor(Executor):
    """Runs each attempt as a local papermill process (see the module docstring)."""

    name: ClassVar[str] = "local"

    runs_dir = Unicode(
        help="Directory of the attempts' working files (default: <state dir>/jobs/runs)."
    ).tag(config=True)
    workspaces_dir = Unicode(
        help="Directory of the workspace homes, one per user, as the local spawner has them"
        " (default: <state dir>/users); a job runs in its notebook's folder there."
    ).tag(config=True)
    cpu_capacity = Float(
        None, allow_none=True,
        help="CPUs that running jobs may take together (profiles' cpu_limit); None: no limit.",
    ).tag(config=True)  # fmt: skip
    memory_capacity = Integer(
        None, allow_none=True,
        help="Bytes of memory running jobs may take together (mem_limit); None: no limit.",
    ).tag(config=True)  # fmt: skip
    gpus = List(
        Integer(), help="GPU indices jobs may use, one job per GPU (default: all NVML sees)."
    ).tag(config=True)
    python = Unicode(sys.executable, help="Python that runs papermill.").tag(config=True)
    keep_env = List(
        Unicode(),
        ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "JUPYTER_PATH"],
        help="Variables of the service's environment a job gets; nothing else leaks in.",
    ).tag(config=True)
    extra_env = Dict(value_trait=Unicode(), help="Variables added to every job's environment.").tag(
        config=True
    )
    isolation = Enum(
        ["auto", "on", "off"],
        "auto",
        help="Run each job as its owner's system account: auto (when the service runs as"
        " root and the accounts can run `python`), on (refuse jobs without it), off.",
    ).tag(config=True)
    accounts = Instance(SystemAccounts, ())
    launcher_socket = Unicode(
        help="Unix socket of the job launcher (labworks_hub.launcher) that starts and stops"
        " attempts for this service, which then needs no privileges; empty: start them"
        " in this process. `labworks up` sets it where the service runs as its own account.",
    ).tag(config=True)
    warm_kernels = Integer(
        kernel_pool.SIZE,
        help="Kernels kept started ahead for each (user, profile, kernel) that ran a job"
        " lately, each used by one job (docs/admin/jobs.md); 0 turns them off.",
    ).tag(config=True)
    warm_kernel_idle = Float(
        kernel_pool.IDLE, help="Seconds a warm kernel waits for a job before it shuts down."
    ).tag(config=True)
    keep_files = Bool(
        False, help="Keep attempts' working directories after they end (for debugging)."
    ).tag(config=True)

    _children: dict[int, subprocess.Popen]
    _watched: dict[int, int]
    _launcher: Launcher | None = None

    @default("runs_dir")
    def _default_runs_dir(self) -> str:
        return f"{getattr(self.parent, 'state_dir', '.')}/jobs/runs"

    @default("workspaces_dir")
    def _default_workspaces_dir(self) -> str:
        return f"{getattr(self.parent, 'state_dir', '.')}/users"

    @default("launcher_socket")
    def _default_launcher_socket(self) -> str:
        return os.environ.get("LABWORKS_LAUNCHER_SOCKET", "")

    @default("gpus")
    def _default_gpus(self) -> list[int]:
        from ....gpus import detect_gpus

        return [g.index for g in detect_gpus()]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._children = {}
        self._watched = {}

    def capacity(self) -> Capacity:
        return Capacity(self.slots, self.cpu_capacity, self.memory_capacity, tuple(self.gpus))

    def environment(self, spec_image: str) -> dict[str, Any]:
        if spec_image:
            raise ExecutorError(
                "the local executor runs jobs in the platform's own environment; leave out"
                " the image (images run with the Kubernetes executor)"
            )
        version = ".".join(map(str, sys.version_info[:3]))
        return {"kind": "local", "env_hash": local_env_hash(), "python": version}

    def check_kernel(self, kernel_name: str) -> str | None:
        specs = KernelSpecManager().find_kernel_specs()
        if kernel_name in specs:
            return None
        return f"no kernel named {kernel_name!r} here; installed: {', '.join(sorted(specs))}"

    async def start(self) -> None:
        await asyncio.to_thread(local_env_hash)  # computed once, off the event loop
        status = await asyncio.to_thread(self.isolation_status)
        (self.log.info if status.on else self.log.warning)("Jobs: %s", status.summary())

    @property
    def launcher(self) -> Launcher:
        """The privileged part, the one seam: the launcher's socket where one is set, else
        this process (which then runs jobs as its own user, or as owners' accounts as root)."""
        if self._launcher is None:
            self._launcher = (
                LauncherClient(self.launcher_socket)
                if self.launcher_socket
                else JobLauncher(
                    self.runs_dir,
                    self.workspaces_dir,
                    self.python,
                    self.isolation,
                    self.accounts,
                    warm_kernels=self.warm_kernels,
                    warm_idle=self.warm_kernel_idle,
                )
            )
        return self._launcher

    def isolation_status(self) -> IsolationStatus:
        """Decided once: can jobs run as their owners' system accounts here?"""
        return self.launcher.status()

    # --- starting --------------------------------------------------------------------------

    def job_env(self, spec: RunSpec) -> dict[str, str]:
        """The job's environment; the launcher adds HOME (and USER, LOGNAME as an account)."""
        env = {k: os.environ[k] for k in self.keep_env if k in os.environ}
        bindir = os.path.dirname(self.python)
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "/usr/local/bin:/usr/bin:/bin")])
        env.update(spec.env)
        env.update(
            PYTHONUNBUFFERED="1",
            CUDA_VISIBLE_DEVICES=",".join(map(str, spec.gpu_indices)),
        )
        env.update(self.extra_env)
        env.update(spec.secret_env)
        return env

    def start_note(self, spec: RunSpec) -> str:
        try:
            relative = self.launcher.folder(spec.owner, spec.notebook_path)
        except (LauncherError, ValueError) as e:
            self.log.warning("Job %s: cannot tell where it will run: %s", spec.run_id, e)
            return ""
        if relative is not None:
            top = relative == "."
            return (
                "in the workspace's top folder" if top else f"in the workspace folder {relative}/"
            )
        if not spec.notebook_path:
            return "in a new empty folder (the job names no notebook path)"
        where = posixpath.dirname(spec.notebook_path) or "."
        return f"in a new empty folder ({where} is not a folder of {spec.owner}'s workspace)"

    def _dir(self, state: dict[str, Any]) -> Path:
        if "dir" in state:
            return Path(state["dir"])
        return Path(self.runs_dir) / state["run_id"] / str(state["attempt"])

    def _files(self, state: dict[str, Any]) -> Path:
        """The job's own folder. An attempt of an earlier version (its state has `dir`, no
        `files`) kept its files in its directory; one not recorded yet has today's layout."""
        if "files" in state:
            return Path(state["files"])
        if "dir" in state:
            return Path(state["dir"])
        return self._dir(state) / JOB

    def _read(
        self, folder: Path, name: str, offset: int = 0, limit: int | None = None,
        max_size: int | None = None, ours: bool = False,
    ) -> bytes | None:  # fmt: skip
        """A file the job could have written, read as labworks_hub.userfiles says; None when
        it is missing or refused (refusals are logged). `ours`: a file of this process's user
        in the launcher's folder (an attempt's log), else one of the folder's owner."""
        try:
            owner = os.geteuid() if ours else None
            with UserFolder(folder, owner) as opened:
                return opened.read(name, offset, limit, max_size)
        except FileNotFoundError:
            return None
        except RefusedFile as e:
            self.log.warning("Job file not read: %s", e)
            return None

    def _process(self, state: dict[str, Any]) -> tuple[int, int] | None:
        """(pid, start ticks) of the attempt: from the state, else from the runner's pid file
        (the service may have stopped between starting the process and recording it), which
        the job can write: believed only for a process of the job's account."""
        if state.get("pid"):
            return int(state["pid"]), int(state["start_ticks"])
        files = self._files(state)
        try:
            pid, ticks = map(int, (self._read(files, PID, max_size=PID_BYTES) or b"").split())
            owner = files.lstat().st_uid  # its parent is the platform's: the job's account
        except (OSError, ValueError):
            return None
        if alive(pid, ticks) and not alive(pid, ticks, owner):
            self.log.warning("%s names pid %d, not a process of uid %d", files / PID, pid, owner)
            return None
        return pid, ticks

    async def submit(self, spec: RunSpec) -> dict[str, Any]:
        request = StartRequest(
            run_id=spec.run_id, attempt=spec.attempt, owner=spec.owner, notebook=spec.notebook,
            parameters=spec.parameters, kernel_name=spec.kernel_name,
            notebook_path=spec.notebook_path, env=self.job_env(spec),
        )  # fmt: skip
        try:
            started = await asyncio.to_thread(self.launcher.start, request)
        except (OSError, subprocess.SubprocessError, IsolationError, LauncherError) as e:
            raise ExecutorError(f"cannot start the job process: {e}") from None
        if started.process is not None:
            self._children[started.pid] = started.process
        self._watch(started.pid)
        self.log.info(
            "Job %s attempt %s: pid %s%s", spec.run_id, spec.attempt, started.pid,
            " (warm kernel)" if started.warm else "",
        )  # fmt: skip
        return started.to_dict()

    # --- watching --------------------------------------------------------------------------

    def _watch(self, pid: int) -> None:
        """Wake the service the moment `pid` exits (a pidfd on the event loop)."""
        try:
            fd = os.pidfd_open(pid)
        except (OSError, AttributeError):
            return  # gone already, or no pidfd: the service's periodic poll notices
        loop = asyncio.get_running_loop()

        def exited() -> None:
            loop.remove_reader(fd)
            os.close(fd)
            self._watched.pop(pid, None)
            child = self._children.get(pid)
            if child is not None:
                child.poll()  # reap it
            self.wakeup()

        self._watched[pid] = fd
        loop.add_reader(fd, exited)

    def _result(self, state: dict[str, Any]) -> dict[str, Any] | None:
        data = self._read(self._files(state), RESULT, max_size=RESULT_BYTES)
        try:
            result = json.loads(data) if data is not None else None
        except ValueError:
            return None
        return result if isinstance(result, dict) else None

    async def poll(self, state: dict[str, Any]) -> Outcome | None:
        process = await asyncio.to_thread(self._process, state)
        if process is None:
            return Outcome("failed", "the job process never started")
        pid, ticks = process
        child = self._children.get(pid)
        if child is not None and child.poll() is None:
            return None
        if child is None and alive(pid, ticks):
            return None
        result = await asyncio.to_thread(self._result, state)
        self._children.pop(pid, None)
        if result is not None:
            status = SUCCEEDED if result.get("status") == SUCCEEDED else "failed"
            return Outcome(status, str(result.get("reason", "")))
        if child is not None:
            returncode = child.returncode
        else:
            stat = await asyncio.to_thread(proc_stat, pid)
            if stat is not None and stat[2] == ticks and stat[0] == "Z":
                return None  # the launcher is writing down how it ended, then reaps it
            returncode = await asyncio.to_thread(self._exit_status, state)
        if returncode is not None and returncode < 0:
            name = signal.Signals(-returncode).name
            return Outcome("failed", f"the job process was killed by {name}")
        if returncode:
            return Outcome(
                "failed", f"the job process exited with status {returncode} (see the log)"
            )
        return Outcome("failed", "the job process ended without saying how (see the log)")

    def _exit_status(self, state: dict[str, Any]) -> int | None:
        """The exit status the root launcher recorded for the attempt (`EXIT`), if any."""
        data = self._read(self._dir(state), EXIT, max_size=EXIT_BYTES, ours=True)
        try:
            returncode = json.loads(data)["returncode"] if data is not None else None
        except (ValueError, KeyError, TypeError):
            return None
        return returncode if type(returncode) is int else None

    async def reattach(self, state: dict[str, Any]) -> bool:
        process = await asyncio.to_thread(self._process, state)
        if process is None:
            return False
        if alive(*process):
            self._watch(process[0])
            return True
        return await asyncio.to_thread(self._result, state) is not None

    async def cancel(self, state: dict[str, Any]) -> None:
        process = await asyncio.to_thread(self._process, state)
        if process is None:
            return
        pid, ticks = process
        try:
            await asyncio.to_thread(
                self.launcher.cancel, state["run_id"], state["attempt"], pid, ticks
            )
        except LauncherError as e:
            self.log.warning("Job %s: cannot stop pid %d: %s", state["run_id"], pid, e)
            return
        child = self._children.get(pid)
        if child is not None:
            await asyncio.to_thread(child.wait, 10)
        else:
            deadline = time.monotonic() + 10
            while alive(pid, ticks) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    # --- reading ---------------------------------------------------------------------------

    async def read_log(self, state: dict[str, Any], offset: int, limit: int) -> bytes | None:
        ours = "files" in state  # else an attempt of an earlier version: the job's folder
        return await asyncio.to_thread(self._read, self._dir(state), LOG, offset, limit, None, ours)

    async def read_output(self, state: dict[str, Any]) -> bytes | None:
        return await asyncio.to_thread(self._read, self._files(state), OUTPUT)

    async def collect(self, state: dict[str, Any], artifacts: ArtifactStore, prefix: str) -> bool:
        def copy() -> bool:
            kept = self._keep(self._files(state), OUTPUT, artifacts, prefix, state)
            self._keep(self._dir(state), LOG, artifacts, prefix, state, ours="files" in state)
            return kept

        return await asyncio.to_thread(copy)

    def _keep(
        self, folder: Path, name: str, artifacts: ArtifactStore, prefix: str,
        state: dict[str, Any], ours: bool = False,
    ) -> bool:  # fmt: skip
        """Copy `folder/name` into the artifact store from the file opened as userfiles says;
        a refused file is not kept, and the attempt's log says why (where the log is the
        platform's file: attempts of this version)."""
        try:
            owner = os.geteuid() if ours else None
            with UserFolder(folder, owner) as opened, opened.open(name) as source:
                artifacts.put_file(f"{prefix}/{name}", source)
            return True
        except FileNotFoundError:
            return False
        except RefusedFile as e:
            self.log.warning("Job file not kept: %s", e)
            if "files" in state:
                line = f"Labworks: {name} was not kept: {e} (a job's files must be plain files)\n"
                fd = os.open(self._dir(state) / LOG, LOG_FLAGS, 0o600)
                with os.fdopen(fd, "ab") as log:
                    log.write(line.encode())
            return False

    async def forget(self, state: dict[str, Any]) -> None:
        if self.keep_files:
            return
        try:
            await asyncio.to_thread(self.launcher.forget, state["run_id"], state["attempt"])
        except LauncherError as e:
            self.log.warning("Job %s: attempt files not removed: %s", state["run_id"], e)

    async def close(self) -> None:
        if isinstance(self._launcher, JobLauncher):
            self._launcher.close()
        loop = asyncio.get_running_loop()
        for fd in self._watched.values():
            loop.remove_reader(fd)
            os.close(fd)
        self._watched.clear()
