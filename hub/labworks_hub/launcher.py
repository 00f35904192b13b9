"""The launcher: the one privileged part of local jobs, and the seam the LocalExecutor calls.

Where the platform service runs as its own unprivileged account (`labworks up` as root, see
docs/admin/security.md), it cannot create a job's files for another account, start
a process as that account or signal it. The launcher does exactly that and nothing more, as
root, as a hub-managed service (`python -m labworks_hub.launcher_socket`). It listens on a
Unix socket in a root-owned folder, the socket the platform account's (0600), and answers
only that account and root (SO_PEERCRED). Each connection carries one JSON line and gets one back:
`{"op": "status" | "folder" | "start" | "cancel" | "forget", ...fields}` ->
`{...result}` or `{"error": code, "message": text}`. Every field is checked; unknown fields
are refused. A client never names a path: the launcher computes each one from
(run_id, attempt) under its own runs dir, and from (owner, notebook_path) in the workspaces.

`JobLauncher` is the privileged work itself, called in-process by the executor where the
service may do it itself (it runs as root, or isolation is off), and by the server
(labworks_hub.launcher_socket); `LauncherClient` there is the same interface over the socket
(`LABWORKS_LAUNCHER_SOCKET`). It keeps warm kernels (labworks_hub.kernel_pool).

An attempt's directory `<runs>/<run id>/<attempt>/` is the launcher's (0751, group the
platform account's, which opens it to read the log). It holds
`log.txt`, the platform account's (0600), opened here with O_NOFOLLOW and given to the job only
as its stdout and stderr, and `job/`, the job's own folder: its account's, group the platform
account's, mode 2750, where the runner (umask 027) leaves its files readable by that group.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import secrets
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .isolation import (
    Account,
    IsolationError,
    IsolationStatus,
    RunAs,
    SystemAccounts,
    become,
    give_home,
)
from .kernel_pool import IDLE, KernelPool, Key, Slot, shared_env, warm_key
from .processes import kill_tree, proc_stat
from .service.jobs import runner
from .userfiles import find_folder

LOG, JOB, WORK, WARM = "log.txt", "job", "work", "warm"
INPUT, SPEC = runner.INPUT, runner.SPEC
EXIT = "exit.json"  # the job process's exit status, written by the launcher (the platform's)
LOG_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
EXIT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
RUNNER = runner.__file__  # run as a script: it starts without importing this package
# The model server, run as a script by the serving environment's Python (it imports kserve,
# which the platform's environment has not: the folder service/serving/runtime/, run as a program).
RUNTIME = str(Path(__file__).resolve().parent / "service" / "serving" / "runtime")
SOCKET = "model.sock"  # a model server's socket, in its folder
SERVER_ID = re.compile(r"srv-[0-9a-f]{12}-[0-9]{1,9}")  # srv-<deployment id>-<version>
ENDPOINT = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
TASKS = ("classification", "regression", "multilabel", "seq2seq")
CONNECT_WAIT = 30  # seconds a client waits for the launcher's socket (it starts with the hub)
MAX_REQUEST = 64 << 20  # one request line (the notebook travels in it)
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class LauncherError(Exception):
    """A request was refused or failed; the message says why (user-facing)."""


def _traversable(path: Path, top: Path) -> None:
    """`path` and its parents up to `top` (the runs dir's parent, the state dir's `jobs/`):
    0711, so an account can reach its own attempt directory and list nothing on the way.
    Nothing above `top` is touched (a runs dir in /tmp must not close /tmp)."""
    if top != path and top not in path.parents:
        raise ValueError(f"{path} is not under {top}")
    path.mkdir(parents=True, exist_ok=True)
    for part in (path, *path.parents):
        if part.stat().st_uid == os.geteuid():
            part.chmod(0o711)
        if part == top:
            break


# --- requests -------------------------------------------------------------------------------


def check(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


def check_text(value: object, name: str, limit: int = 4096) -> str:
    check(isinstance(value, str) and len(value) <= limit and "\0" not in value,
           f"{name} must be text of at most {limit} characters without NUL")  # fmt: skip
    return str(value)


def check_attempt(run_id: object, attempt: object) -> tuple[str, int]:
    """(run_id, attempt) when they name an attempt; ValueError otherwise."""
    check(isinstance(run_id, str) and RUN_ID.fullmatch(run_id) is not None,
           "run_id must be 1 to 64 letters, digits, - or _")  # fmt: skip
    check(type(attempt) is int and 0 < attempt < 1_000_000, "attempt must be a positive integer")
    return str(run_id), int(attempt)  # type: ignore[call-overload]


def check_owner(owner: object) -> str:
    name = check_text(owner, "owner", 255)
    check(bool(name) and "/" not in name and name not in (".", "..")
           and name.isprintable(), "owner must be a hub user name")  # fmt: skip
    return name


@dataclass(frozen=True)
class StartRequest:
    """One attempt to start: everything but paths, which the launcher chooses."""

    run_id: str
    attempt: int
    owner: str
    notebook: str
    parameters: dict[str, Any]
    kernel_name: str
    notebook_path: str
    env: dict[str, str] = field(repr=False)  # holds the job's hub token

    def __post_init__(self) -> None:
        check_attempt(self.run_id, self.attempt)
        check_owner(self.owner)
        check_text(self.notebook, "notebook", MAX_REQUEST)
        check_text(self.kernel_name, "kernel_name", 255)
        check_text(self.notebook_path, "notebook_path")
        check(isinstance(self.parameters, dict), "parameters must be an object")
        check_env(self.env)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StartRequest:
        return cls(**fields_of(cls, data))


def check_env(env: object) -> None:
    check(isinstance(env, dict), "env must be an object")
    for name, value in env.items():  # type: ignore[attr-defined]
        check(isinstance(name, str) and ENV_NAME.fullmatch(name) is not None,
               f"env name {name!r} is not a variable name")  # fmt: skip
        check_text(value, f"env {name}", 1 << 20)


def fields_of(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`data` when it has exactly the dataclass's fields; ValueError naming the others."""
    unknown = set(data) - set(cls.__dataclass_fields__)
    check(not unknown, f"unknown fields: {', '.join(sorted(unknown))}")
    missing = set(cls.__dataclass_fields__) - set(data)
    check(not missing, f"missing fields: {', '.join(sorted(missing))}")
    return data


@dataclass(frozen=True)
class ServeRequest:
    """A model server to start as `owner`: one version of a deployment, its `generation`-th
    start. Its folder is an attempt's (`server_id`, `generation`), so `cancel` and `forget`
    stop and remove it as they do a job's."""

    server_id: str
    generation: int
    owner: str
    endpoint: str
    model_uri: str
    version: str
    task: str
    env: dict[str, str] = field(repr=False)  # holds a hub token, to load the model

    def __post_init__(self) -> None:
        check(SERVER_ID.fullmatch(str(self.server_id)) is not None, "server_id is srv-<id>-<n>")
        check_attempt(self.server_id, self.generation)
        check_owner(self.owner)
        check(isinstance(self.endpoint, str) and ENDPOINT.fullmatch(self.endpoint) is not None,
              "endpoint must be a DNS label")  # fmt: skip
        check(isinstance(self.version, str) and self.version.isdigit() and len(self.version) < 10,
              "version must be a number")  # fmt: skip
        check(check_text(self.model_uri, "model_uri", 1024).startswith("models:/"),
              "model_uri must be a models:/ URI")  # fmt: skip
        check(self.task in TASKS, f"task must be one of {', '.join(TASKS)}")
        check_env(self.env)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServeRequest:
        return cls(**fields_of(cls, data))


@dataclass(frozen=True)
class Started:
    """A started attempt: its process and where its files are."""

    pid: int
    start_ticks: int
    uid: int
    dir: str
    files: str
    process: subprocess.Popen | None = field(default=None, compare=False)  # in-process only
    warm: bool = False  # on a warm kernel (labworks_hub.kernel_pool)

    def to_dict(self) -> dict[str, Any]:
        names = ("pid", "start_ticks", "uid", "dir", "files", "warm")
        return {name: getattr(self, name) for name in names}


class Launcher(Protocol):
    """What the LocalExecutor asks of the privileged part (see the module docstring)."""

    def status(self) -> IsolationStatus: ...
    def folder(self, owner: str, notebook_path: str) -> str | None: ...
    def start(self, request: StartRequest) -> Started: ...
    def serve(self, request: ServeRequest) -> Started: ...
    def cancel(self, run_id: str, attempt: int, pid: int, start_ticks: int) -> None: ...
    def forget(self, run_id: str, attempt: int) -> None: ...


# --- the privileged work --------------------------------------------------------------------


class JobLauncher:
    """Prepares, starts, stops and removes attempts (see the module docstring).

    `platform` is the account the platform service runs as, where that is not this process's
    own: its logs are that account's, job folders its group's, and with isolation off jobs run
    as it (never as root). `warm_kernels` per key are kept started ahead, each waiting up to
    `warm_idle` seconds (labworks_hub.kernel_pool). Not thread-safe; one call at a time."""

    def __init__(
        self, runs_dir: str, workspaces_dir: str, python: str, isolation: str = "auto",
        accounts: SystemAccounts | None = None, platform: Account | None = None,
        warm_kernels: int = 0, warm_idle: float = IDLE, serving_python: str = "",
    ) -> None:  # fmt: skip
        self.pool = KernelPool(warm_kernels, warm_idle)
        self.runs_dir = Path(runs_dir)
        self.workspaces_dir = Path(workspaces_dir)
        self.python = python
        # the serving environment, beside the platform's (Makefile: .venv/lib/serving)
        self.serving_python = serving_python or str(
            Path(python).parent.parent / "lib" / "serving" / "bin" / "python"
        )
        self.isolation = isolation
        self.accounts = accounts or SystemAccounts()
        self.platform = platform
        self.reader = (platform.uid, platform.gid) if platform else (os.geteuid(), os.getegid())
        self._status: IsolationStatus | None = None
        # Slots of an earlier launcher on these runs: their runners read the end of their
        # input when it ended, and exited.
        shutil.rmtree(self.runs_dir / WARM, ignore_errors=True)

    def close(self) -> None:
        """Let the warm kernels go (each shuts down at the end of its input)."""
        self.pool.close()

    def status(self) -> IsolationStatus:
        """Decided once: can jobs run as their owners' system accounts here?"""
        if self._status is None:
            _traversable(self.runs_dir, self.runs_dir.parent)
            reason = (
                "turned off in the configuration (c.LocalExecutor.isolation = 'off')"
                if self.isolation == "off"
                else self.accounts.unavailable_reason(self.python, str(self.runs_dir))
            )
            self._status = IsolationStatus(
                reason is None,
                reason or "",
                limits_reason="jobs share the queue's slots, not cgroups",
                required=self.isolation == "on",
            )
        return self._status

    def account(self, owner: str) -> Account | None:
        """Who runs `owner`'s jobs: their system account (created on first use), else the
        platform's account, else (None) this process's own user."""
        status = self.status()
        if status.on:
            return self.accounts.ensure(owner)
        if status.required:
            raise IsolationError(status.summary())
        return self.platform

    def attempt_dir(self, run_id: str, attempt: int) -> Path:
        run_id, attempt = check_attempt(run_id, attempt)
        return self.runs_dir / run_id / str(attempt)

    def workspace_home(self, owner: str) -> Path | None:
        try:
            return (self.workspaces_dir / check_owner(owner)).resolve(strict=True)
        except (OSError, RuntimeError):
            return None

    def workspace_folder(self, owner: str, notebook_path: str) -> tuple[Path, Path] | None:
        """(workspace home, the notebook's folder in it) when that folder exists; None for a
        notebook from elsewhere (an absolute path, `..` or a link out of the home)."""
        home = self.workspace_home(owner) if notebook_path else None
        if home is None:
            return None
        folder = find_folder(home, posixpath.dirname(notebook_path))
        return None if folder is None else (home, folder)

    def folder(self, owner: str, notebook_path: str) -> str | None:
        found = self.workspace_folder(owner, notebook_path)
        return None if found is None else found[1].relative_to(found[0]).as_posix()

    def start(self, request: StartRequest) -> Started:
        """Start the attempt on a warm kernel of its key where there is one, else cold; then
        top the key's warm kernels up (labworks_hub.kernel_pool)."""
        account = self.account(request.owner)
        key = warm_key(request.owner, request.kernel_name, request.env)
        slot = self.pool.take(key)
        started = self._claim(slot, request) if slot is not None else None
        if started is None:
            started = self._start_cold(request, account)
        try:
            for _ in range(self.pool.missing(key)):
                self._spawn_warm(key, request, account)
        except (OSError, subprocess.SubprocessError) as e:  # the job has started: only say so
            print(f"[launcher] cannot start a warm kernel: {e}", file=sys.stderr, flush=True)
        return started

    def _start_cold(self, request: StartRequest, account: Account | None) -> Started:
        directory = self.attempt_dir(request.run_id, request.attempt)
        files, uid = self._prepare(directory, account)
        home, cwd = self._places(request, directory, account)
        (files / INPUT).write_text(request.notebook)
        (files / SPEC).write_text(json.dumps(self._spec(request, cwd)))
        for path in (files / INPUT, files / SPEC):
            os.chown(path, uid, self.reader[1], follow_symlinks=False)  # ours: no link here
            path.chmod(0o640)
        argv = [self.python, "-P", RUNNER, str(files)]  # -P: not its folder on the path
        env = self._env(request.env, home, account)
        proc = self._launch(directory, files, uid, argv, env, cwd, account, subprocess.DEVNULL)
        self._reap(proc, directory)
        return Started(proc.pid, _ticks(proc), uid, str(directory), str(files), proc)

    def serve(self, request: ServeRequest) -> Started:
        """Start a model server as the deployer's account, listening on `SOCKET` in its
        folder (the account's, the platform's group: the gateway connects, no one else)."""
        if not os.access(self.serving_python, os.X_OK):
            raise LauncherError(
                f"model serving is not installed: {self.serving_python} is missing (run"
                " `make install`, which builds the serving environment)"
            )
        account = self.account(request.owner)
        directory = self.attempt_dir(request.server_id, request.generation)
        files, uid = self._prepare(directory, account)
        work = directory / WORK
        give_home(work, account)
        argv = [self.serving_python, "-P", RUNTIME, "--socket", str(files / SOCKET),
                "--name", request.endpoint, "--version", request.version,
                "--model-uri", request.model_uri, "--task", request.task]  # fmt: skip
        env = self._env(request.env, work, account)
        proc = self._launch(directory, files, uid, argv, env, work, account, subprocess.DEVNULL)
        self._reap(proc, directory)
        return Started(proc.pid, _ticks(proc), uid, str(directory), str(files), proc)

    def _spawn_warm(self, key: Key, request: StartRequest, account: Account | None) -> None:
        """One more warm kernel for `key`, as the next job of that key will want it."""
        directory = self.runs_dir / WARM / secrets.token_hex(8)
        files, uid = self._prepare(directory, account)
        work = directory / WORK
        give_home(work, account)
        home = self.workspace_home(request.owner) or work
        argv = [self.python, "-P", RUNNER, "--warm", request.kernel_name,
                "--idle", f"{self.pool.idle:g}", str(files)]  # fmt: skip
        env = self._env({**shared_env(request.env), "CUDA_VISIBLE_DEVICES": ""}, home, account)
        proc = self._launch(directory, files, uid, argv, env, home, account, subprocess.PIPE)
        self.pool.add(Slot(key, directory, proc, uid))

    def _claim(self, slot: Slot, request: StartRequest) -> Started | None:
        """The attempt on `slot`: its folder becomes the attempt's, the runner gets its job
        over its stdin; None when the runner is gone (the caller starts the job cold)."""
        directory = self.attempt_dir(request.run_id, request.attempt)
        if directory.exists():
            shutil.rmtree(directory)
        _traversable(directory.parent, self.runs_dir.parent)
        os.rename(slot.directory, directory)  # both the launcher's, in folders of its own
        slot.directory = directory
        account = self.account(request.owner)
        home, cwd = self._places(request, directory, account)
        claim = {
            "files": str(directory / JOB), "spec": self._spec(request, cwd),
            "notebook": request.notebook, "env": self._env(request.env, home, account),
            "cwd": str(cwd),
        }  # fmt: skip
        if not slot.claim(claim):
            slot.discard()
            return None
        proc = slot.process
        self._reap(proc, directory)
        files = str(directory / JOB)
        return Started(proc.pid, _ticks(proc), slot.uid, str(directory), files, proc, warm=True)

    def _prepare(self, directory: Path, account: Account | None) -> tuple[Path, int]:
        """A new directory of the launcher's for an attempt or a warm slot, with its job
        folder, still the launcher's (`_launch` hands it over): (folder, the job's uid)."""
        if directory.exists():
            shutil.rmtree(directory)  # never follows a link (shutil.rmtree.avoids_symlink_attacks)
        _traversable(directory.parent, self.runs_dir.parent)
        directory.mkdir(mode=0o700)
        files = directory / JOB
        files.mkdir(mode=0o700)
        return files, account.uid if account is not None else os.geteuid()

    def _places(
        self, request: StartRequest, directory: Path, account: Account | None
    ) -> tuple[Path, Path]:
        """(HOME, working folder) of the attempt: the workspace home and the notebook's folder
        in it, else the attempt's own empty `work/` folder for both."""
        found = self.workspace_folder(request.owner, request.notebook_path)
        if found is not None:
            return found
        work = directory / WORK
        give_home(work, account)
        return work, work

    def _spec(self, request: StartRequest, cwd: Path) -> dict[str, Any]:
        return {"parameters": request.parameters, "kernel_name": request.kernel_name,
                "cwd": str(cwd)}  # fmt: skip

    def _env(self, env: dict[str, str], home: Path, account: Account | None) -> dict[str, str]:
        env = {**env, "HOME": str(home)}
        if account is not None:
            env["USER"] = env["LOGNAME"] = account.name
        return env

    def _launch(
        self, directory: Path, files: Path, uid: int, argv: list[str], env: dict[str, str],
        cwd: Path, account: Account | None, stdin: int,
    ) -> subprocess.Popen:  # fmt: skip
        """Hand the job folder to the account, open the log, start the runner."""
        os.chown(files, uid, self.reader[1], follow_symlinks=False)  # ours: no link here
        files.chmod(0o2750)
        log = os.open(directory / LOG, LOG_FLAGS | os.O_EXCL, 0o600)
        try:
            os.fchown(log, *self.reader)
            # The account reaches its folders and cannot touch the log; the reader opens it.
            os.chown(directory, os.geteuid(), self.reader[1])
            directory.chmod(0o751)
            run_as = None if account is None else RunAs(account.uid, account.gid, account.groups)
            return self.launch(argv, env, str(cwd), run_as, log, stdin)
        finally:
            os.close(log)

    def _reap(self, proc: subprocess.Popen, directory: Path) -> None:
        """The root launcher reaps its jobs (the service cannot), recording how they ended."""
        if self.platform is not None:
            threading.Thread(target=self.record_exit, args=(proc, directory), daemon=True).start()

    def record_exit(self, proc: subprocess.Popen, directory: Path) -> None:
        """Wait for the job process, then write its exit status (a negative number: the signal
        that killed it) to `EXIT` in its attempt folder, a file of the platform account's that
        the job cannot write, before reaping it: while the process is a zombie the service
        waits for the record."""
        try:
            ended = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            return
        if ended is not None:
            killed = ended.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
            returncode = -ended.si_status if killed else ended.si_status
            with contextlib.suppress(OSError):  # the attempt may be forgotten already
                fd = os.open(directory / EXIT, EXIT_FLAGS, 0o640)
                with os.fdopen(fd, "w") as record:
                    os.fchown(fd, *self.reader)
                    record.write(json.dumps({"returncode": returncode}))
        proc.wait()

    def launch(
        self, argv: list[str], env: dict[str, str], cwd: str, run_as: RunAs | None, log: int,
        stdin: int = subprocess.DEVNULL,
    ) -> subprocess.Popen:  # fmt: skip
        """The one place a job process starts: in its own session, as `run_as` (the owner's
        system account) when given, in `cwd` entered as that account (a link in a workspace
        leads it nowhere it could not go itself), its output appended to the open `log`, a
        file of the platform's that the job holds only open."""

        def preexec() -> None:
            if run_as is not None:
                become(run_as)
            os.chdir(cwd)

        return subprocess.Popen(
            argv, env=env, stdin=stdin, stdout=log, stderr=log,
            start_new_session=True, close_fds=True, preexec_fn=preexec,
        )  # fmt: skip

    def job_uid(self, run_id: str, attempt: int) -> int | None:
        """The account of the attempt's files: its `job/` folder's owner, or, in an attempt
        of an earlier version, its directory's; None when the attempt is gone."""
        directory = self.attempt_dir(run_id, attempt)
        for path in (directory / JOB, directory):
            with contextlib.suppress(OSError):
                return path.lstat().st_uid
        return None

    def cancel(self, run_id: str, attempt: int, pid: int, start_ticks: int) -> None:
        """Kill the process tree of `pid` (started at `start_ticks`), only processes of the
        attempt's account; a request naming a root process is refused."""
        uid = self.job_uid(run_id, attempt)
        if uid is None:
            return
        if uid == 0 and self.platform is not None:
            raise LauncherError(f"attempt {attempt} of {run_id} does not run as a job account")
        kill_tree(pid, start_ticks, uid)

    def forget(self, run_id: str, attempt: int) -> None:
        directory = self.attempt_dir(run_id, attempt)
        shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            directory.parent.rmdir()  # the run's directory, once its last attempt is gone


def _ticks(proc: subprocess.Popen) -> int:
    """The process's start time, by which it is told from a later one with its pid."""
    stat = proc_stat(proc.pid)
    return stat[2] if stat else 0
