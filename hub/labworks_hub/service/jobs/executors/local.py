"""LocalExecutor: the embedded default, papermill in a subprocess on the platform's machine.

Each attempt has a directory `<runs_dir>/<run id>/<attempt>/` of the platform's own (0711):
it holds `log.txt` (the platform's, 0600), which the job writes only through the stdout and
stderr this module opens for it, and `job/`, the job's own folder (its account's, 0700), where
`python .../jobs/runner.py DIR/job` reads its input and writes the output notebook, its pid and
`result.json`. The job cannot replace the log; everything read from `job/` is opened through
labworks_hub.userfiles (no link followed, plain files of the job's account only), and copied
to the artifact store from the open file. The runner runs in its own session, so it survives a
restart of the platform service; the service records its pid and start time (from /proc) and,
after a restart, re-attaches to a process with the same pid *and* start time, or reads
`result.json` if it ended meanwhile. A pid the service did not record itself comes from the
job's `pid` file: it is believed only for a process of the job's account with the start time
written there. Cancelling freezes the runner and every descendant of the job's account (the
kernel and whatever the notebook started, whatever session they are in), then kills them all
with SIGKILL. Attempts started before this layout (their state has `dir` but no `files`) kept
everything in their directory, the job's: they are read the same careful way.

The job runs with a clean environment: the workspace variables the service hands over (and
the job's hub token, `spec.secret_env`, only in the process environment) plus a short
allow-list of the service's own (PATH, locale, time zone); none of the service's secrets.
Every process is started by `launch()`, the one seam. With isolation on (the service runs as
root, as `labworks up` does), a job runs as its owner's system account (`lw-<name>`,
labworks_hub.isolation), the same account as the owner's workspace, in an attempt directory
only that account can read. It runs in the notebook's folder in the owner's workspace home
(`workspaces_dir/<owner>/<notebook_path>/..`, reached without following a link, and entered as
the account), with HOME the workspace home, so relative paths work as in the lab; where that
folder does not exist, in an empty `work/` folder of the attempt. The output notebook and the
log always go to the attempt directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import posixpath
import shutil
import signal
import subprocess
import sys
import time
from functools import lru_cache
from importlib.metadata import distributions
from pathlib import Path
from typing import Any, ClassVar

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Bool, Dict, Enum, Float, Instance, Integer, List, Unicode, default

from ....isolation import (
    Account,
    IsolationError,
    IsolationStatus,
    RunAs,
    SystemAccounts,
    become,
    give_home,
)
from ....userfiles import RefusedFile, UserFolder, find_folder
from .. import runner
from ..artifacts import ArtifactStore
from ..queue import Capacity
from ..runner import PID, RESULT
from .base import SUCCEEDED, Executor, ExecutorError, Outcome, RunSpec

LOG, OUTPUT, INPUT, SPEC = "log.txt", "output.ipynb", "input.ipynb", "spec.json"
JOB, WORK = "job", "work"  # the job's own folder; the empty folder a job without one runs in
PID_BYTES, RESULT_BYTES = 64, 64 * 1024  # the most the runner's pid and result files hold
LOG_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
RUNNER = runner.__file__  # run as a script: it starts without importing this package


@lru_cache(maxsize=1)
def _traversable(path: Path) -> None:
    """`path` and its parents up to the runs dir's state dir: 0711, so an account can reach
    its own attempt directory and list nothing on the way."""
    path.mkdir(parents=True, exist_ok=True)
    for part in (path, *list(path.parents)[:2]):
        if part.stat().st_uid == os.geteuid():
            part.chmod(0o711)


def local_env_hash() -> str:
    """sha256 over the sorted `name==version` of every installed distribution."""
    names = sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}" for d in distributions()})
    return "sha256:" + hashlib.sha256("\n".join(names).encode()).hexdigest()


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state letter, parent pid, start time in clock ticks) of a live process, else None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def proc_uid(pid: int) -> int | None:
    """The real uid of a live process, else None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def alive(pid: int, start_ticks: int, uid: int | None = None) -> bool:
    """Whether the process `pid` started at `start_ticks` still runs (zombies do not), as the
    real uid `uid` when given."""
    stat = proc_stat(pid)
    if stat is None or stat[2] != start_ticks or stat[0] in ("Z", "X"):
        return False
    return uid is None or proc_uid(pid) == uid


def descendants(*roots: int) -> set[int]:
    """Every live process below `roots`, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(root: int, start_ticks: int, uid: int | None = None) -> None:
    """Freeze the process and all its descendants (so none forks away), then SIGKILL them;
    with `uid`, only processes of that real uid (the job's account) are touched."""
    if not alive(root, start_ticks, uid):
        return
    frozen: dict[int, int] = {}
    others: set[int] = set()
    for _ in range(10):
        found = ({root} | descendants(root, *frozen)) - set(frozen) - others
        if not found:
            break
        for pid in found:
            stat = proc_stat(pid)
            if stat is not None and uid is not None and proc_uid(pid) != uid:
                others.add(pid)
            elif stat is not None:
                frozen[pid] = stat[2]
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
    for pid, ticks in frozen.items():
        if alive(pid, ticks):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


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
    keep_files = Bool(
        False, help="Keep attempts' working directories after they end (for debugging)."
    ).tag(config=True)

    _children: dict[int, subprocess.Popen]
    _watched: dict[int, int]
    _isolation: IsolationStatus | None = None

    @default("runs_dir")
    def _default_runs_dir(self) -> str:
        return f"{getattr(self.parent, 'state_dir', '.')}/jobs/runs"

    @default("workspaces_dir")
    def _default_workspaces_dir(self) -> str:
        return f"{getattr(self.parent, 'state_dir', '.')}/users"

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

    def isolation_status(self) -> IsolationStatus:
        """Decided once: can jobs run as their owners' system accounts here?"""
        if self._isolation is None:
            runs = Path(self.runs_dir)
            _traversable(runs)
            reason = (
                "turned off in the configuration (c.LocalExecutor.isolation = 'off')"
                if self.isolation == "off"
                else self.accounts.unavailable_reason(self.python, str(runs))
            )
            self._isolation = IsolationStatus(
                reason is None,
                reason or "",
                limits_reason="jobs share the queue's slots, not cgroups",
                required=self.isolation == "on",
            )
        return self._isolation

    def _account(self, owner: str) -> Account | None:
        status = self.isolation_status()
        if not status.on:
            if status.required:
                raise IsolationError(status.summary())
            return None
        return self.accounts.ensure(owner)

    # --- starting --------------------------------------------------------------------------

    def launch(
        self, argv: list[str], env: dict[str, str], cwd: str, run_as: RunAs | None, log: Path
    ) -> subprocess.Popen:
        """The one place a job process starts: in its own session, as `run_as` (the owner's
        system account) when given, in `cwd` entered as that account (a link in a workspace
        leads it nowhere it could not go itself), its output appended to `log`, a file of the
        platform's that the job holds only open."""

        def preexec() -> None:
            if run_as is not None:
                become(run_as)
            os.chdir(cwd)

        out = os.open(log, LOG_FLAGS, 0o600)
        try:
            return subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, close_fds=True, preexec_fn=preexec,
            )  # fmt: skip
        finally:
            os.close(out)

    def job_env(self, spec: RunSpec, home: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in self.keep_env if k in os.environ}
        bindir = os.path.dirname(self.python)
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "/usr/local/bin:/usr/bin:/bin")])
        env.update(spec.env)
        env.update(
            HOME=str(home),
            PYTHONUNBUFFERED="1",
            CUDA_VISIBLE_DEVICES=",".join(map(str, spec.gpu_indices)),
        )
        env.update(self.extra_env)
        env.update(spec.secret_env)
        return env

    def workspace_folder(self, spec: RunSpec) -> tuple[Path, Path] | None:
        """(workspace home, the notebook's folder in it) when that folder exists; None for a
        notebook from elsewhere (an absolute path, `..` or a link out of the home)."""
        if not spec.notebook_path:
            return None
        try:
            home = (Path(self.workspaces_dir) / spec.owner).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        folder = find_folder(home, posixpath.dirname(spec.notebook_path))
        return None if folder is None else (home, folder)

    def start_note(self, spec: RunSpec) -> str:
        found = self.workspace_folder(spec)
        if found is not None:
            relative = found[1].relative_to(found[0]).as_posix()
            top = relative == "."
            return (
                "in the workspace's top folder" if top else f"in the workspace folder {relative}/"
            )
        if not spec.notebook_path:
            return "in a new empty folder (the job names no notebook path)"
        where = posixpath.dirname(spec.notebook_path) or "."
        return f"in a new empty folder ({where} is not a folder of {spec.owner}'s workspace)"

    def _attempt_dir(self, run_id: str, attempt: int) -> Path:
        return Path(self.runs_dir) / run_id / str(attempt)

    def _dir(self, state: dict[str, Any]) -> Path:
        if "dir" in state:
            return Path(state["dir"])
        return self._attempt_dir(state["run_id"], state["attempt"])

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
        max_size: int | None = None,
    ) -> bytes | None:  # fmt: skip
        """A file the job could have written, read as labworks_hub.userfiles says; None when
        it is missing or refused (refusals are logged)."""
        try:
            with UserFolder(folder) as opened:
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

    def _prepare(self, spec: RunSpec) -> tuple[Path, Path, Path, Account | None]:
        """The attempt's directory (the platform's) with the job's folder and input in it,
        owned by the owner's account, if any; the folder to run in and the HOME to run with."""
        account = self._account(spec.owner)
        directory = self._attempt_dir(spec.run_id, spec.attempt)
        if directory.exists():
            shutil.rmtree(directory)  # never follows a link (shutil.rmtree.avoids_symlink_attacks)
        _traversable(directory.parent)
        directory.mkdir(mode=0o700)
        found = self.workspace_folder(spec)
        if found is None:
            home = cwd = directory / WORK
            give_home(cwd, account)
        else:
            home, cwd = found
        files = directory / JOB
        files.mkdir(mode=0o700)
        (files / INPUT).write_text(spec.notebook)
        payload = {"parameters": spec.parameters, "kernel_name": spec.kernel_name, "cwd": str(cwd)}
        (files / SPEC).write_text(json.dumps(payload))
        give_home(files, account)
        directory.chmod(0o711)  # the account reaches its folders, and cannot touch the log
        return directory, cwd, home, account

    async def submit(self, spec: RunSpec) -> dict[str, Any]:
        try:
            directory, cwd, home, account = await asyncio.to_thread(self._prepare, spec)
            files = directory / JOB
            argv = [self.python, "-P", RUNNER, str(files)]  # -P: not its folder on the path
            env = self.job_env(spec, home)
            run_as = None
            if account is not None:
                env["USER"] = env["LOGNAME"] = account.name
                run_as = RunAs(account.uid, account.gid, account.groups)
            proc = self.launch(argv, env, str(cwd), run_as, directory / LOG)
        except (OSError, subprocess.SubprocessError, IsolationError) as e:
            raise ExecutorError(f"cannot start the job process: {e}") from None
        stat = proc_stat(proc.pid)
        ticks = stat[2] if stat else 0
        self._children[proc.pid] = proc
        self._watch(proc.pid)
        self.log.info("Job %s attempt %s: pid %s", spec.run_id, spec.attempt, proc.pid)
        uid = account.uid if account is not None else os.geteuid()
        return {
            "dir": str(directory), "files": str(files), "uid": uid,
            "pid": proc.pid, "start_ticks": ticks,
        }  # fmt: skip

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
        if child is not None and child.returncode is not None and child.returncode < 0:
            name = signal.Signals(-child.returncode).name
            return Outcome("failed", f"the job process was killed by {name}")
        return Outcome("failed", "the job process ended without saying how (see the log)")

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
        await asyncio.to_thread(kill_tree, pid, ticks, state.get("uid"))
        child = self._children.get(pid)
        if child is not None:
            await asyncio.to_thread(child.wait, 10)
        else:
            deadline = time.monotonic() + 10
            while alive(pid, ticks) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    # --- reading ---------------------------------------------------------------------------

    async def read_log(self, state: dict[str, Any], offset: int, limit: int) -> bytes | None:
        return await asyncio.to_thread(self._read, self._dir(state), LOG, offset, limit)

    async def read_output(self, state: dict[str, Any]) -> bytes | None:
        return await asyncio.to_thread(self._read, self._files(state), OUTPUT)

    async def collect(self, state: dict[str, Any], artifacts: ArtifactStore, prefix: str) -> bool:
        def copy() -> bool:
            kept = self._keep(self._files(state), OUTPUT, artifacts, prefix, state)
            self._keep(self._dir(state), LOG, artifacts, prefix, state)
            return kept

        return await asyncio.to_thread(copy)

    def _keep(
        self, folder: Path, name: str, artifacts: ArtifactStore, prefix: str, state: dict[str, Any]
    ) -> bool:
        """Copy `folder/name` into the artifact store from the file opened as userfiles says;
        a refused file is not kept, and the attempt's log says why (where the log is the
        platform's file: attempts of this version)."""
        try:
            with UserFolder(folder) as opened, opened.open(name) as source:
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
        directory = self._dir(state)
        if self.keep_files:
            return
        await asyncio.to_thread(shutil.rmtree, directory, True)
        with contextlib.suppress(OSError):
            directory.parent.rmdir()  # the run's directory, once its last attempt is gone

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in self._watched.values():
            loop.remove_reader(fd)
            os.close(fd)
        self._watched.clear()
