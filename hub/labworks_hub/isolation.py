"""Isolation of local workspaces: a system account per hub user and cgroup v2 limits.

`SystemAccounts` creates (or reuses) one locked system account per hub user, `lw-<name>`, in
the group `labworks-users`; `CgroupLimits` puts each server in `<cgroup2>/labworks/<account>`
with the profile's `memory.max` and `cpu.max`. `become()` is what a new server process runs
before it serves: join the cgroup, drop to the account, private umask. `check()` says whether
all this works on this machine and, when it does not, exactly why.

Every subprocess goes through `run()`, the one seam tests replace.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import hashlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

NOBODY = 65534  # the unprivileged uid/gid the reachability probe runs as
MAX_ACCOUNT_NAME = 32  # useradd's limit
CPU_PERIOD = 100_000  # microseconds, the kernel's default cpu.max period
REQUIRED_CONTROLLERS = ("memory", "cpu")
PROBE = (  # argv[1]: the workspaces directory; exit 3 when it cannot be entered
    "import os, sys, jupyter_server, jupyterhub;"
    " sys.exit(0 if os.access(sys.argv[1], os.X_OK) else 3)"
)


class IsolationError(Exception):
    """Isolation cannot be set up; the message says why and what to do."""


@dataclass(frozen=True)
class RunAs:
    """Who a workspace server runs as: ids, supplementary groups and the cgroup it joins."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    cgroup: str = ""  # directory of the workspace's cgroup; empty: no limits

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "groups": list(self.groups)}

    @classmethod
    def from_dict(cls, data: Any) -> RunAs:
        """The inverse of to_dict; ValueError on anything else."""
        if not isinstance(data, dict) or set(data) - {"uid", "gid", "groups", "cgroup"}:
            raise ValueError("run_as must be an object with uid, gid, groups, cgroup")
        ids = [data.get("uid"), data.get("gid"), *data.get("groups", [])]
        if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
            raise ValueError("run_as ids must be positive integers")
        if not isinstance(data.get("cgroup", ""), str):
            raise ValueError("run_as cgroup must be a path")
        return cls(data["uid"], data["gid"], tuple(data.get("groups", [])), data.get("cgroup", ""))


def become(run_as: RunAs) -> None:
    """In a new server process, before it runs anything of the user's: join the cgroup (as
    root), drop every privilege to the account, and make new files private."""
    if run_as.cgroup:
        with open(os.path.join(run_as.cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    os.setgroups(list(run_as.groups))
    os.setgid(run_as.gid)
    os.setuid(run_as.uid)
    if os.getresuid() != (run_as.uid,) * 3 or os.getresgid() != (run_as.gid,) * 3:
        raise PermissionError(f"could not drop privileges to uid {run_as.uid}")
    os.umask(0o077)


def run(
    argv: list[str], *, run_as: RunAs | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The one place isolation runs a program (useradd, groupadd, the probe)."""
    preexec = (lambda: become(run_as)) if run_as else None
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, preexec_fn=preexec, check=False
    )


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def run_tool(argv: list[str], what: str) -> None:
    """Run useradd/groupadd; /etc/passwd or /etc/group may be locked by a concurrent change for
    a moment (exit 1 or 10, "cannot lock ...; try again later"), so that is tried again."""
    deadline = time.monotonic() + 10
    while True:
        result = run(argv)
        if result.returncode == 0:
            return
        if result.returncode == 9 and argv[0] == "useradd":  # created meanwhile
            return
        if "cannot lock" not in result.stderr or time.monotonic() > deadline:
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise IsolationError(
                f"cannot {what}: {argv[0]} exited {result.returncode}"
                f"{': ' + detail[0] if detail else ''}"
            )
        time.sleep(0.1)


def accounts_unavailable(purpose: str) -> str | None:
    """Why this process cannot create and become system accounts (to `purpose`), if not."""
    if os.geteuid() != 0:
        return f"the hub runs as uid {os.geteuid()}, not root, so it cannot {purpose}"
    missing = [t for t in ("useradd", "groupadd") if shutil.which(t) is None]
    if missing:
        return f"{' and '.join(missing)} not found (install the passwd package)"
    return None


PLATFORM_COMMENT = "labworks platform service"


class PlatformAccount(LoggingConfigurable):
    """The system account the platform service (and the MLflow server in it) runs as, where
    `labworks up` runs as root: locked, no home, no login, its own group. Only the launcher
    (labworks_hub.launcher) and the preload server keep root. Elsewhere the service runs as
    the user who runs `labworks up`."""

    name = Unicode(
        "labworks",
        help="Name of the platform service's system account; '' runs the service as the"
        " hub's own user (root where isolation is on: not recommended).",
    ).tag(config=True)

    def unavailable_reason(self, home: Path) -> str | None:
        """None when the service can run as its own account here, from the state directory
        `home` and this Python environment; else why not."""
        if not self.name:
            return "turned off in the configuration (c.PlatformAccount.name = '')"
        reason = accounts_unavailable("run the platform service as an account of its own")
        if reason:
            return reason
        for needed in (home, Path(sys.prefix)):
            closed = first_closed_dir(needed)
            if closed is not None:
                return (
                    f"{closed} is mode {stat.S_IMODE(closed.stat().st_mode):04o}, so an account"
                    f" of its own could not reach {needed} (it and every parent need o+x)"
                )
        return None

    def ensure(self) -> Account:
        """The account, created on first use; IsolationError if it cannot be made or if an
        account of that name exists that Labworks did not make."""
        try:
            entry = pwd.getpwnam(self.name)
        except KeyError:
            run_tool(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                 "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", PLATFORM_COMMENT,
                 self.name],
                f"create the system account {self.name}",
            )  # fmt: skip
            try:
                entry = pwd.getpwnam(self.name)
            except KeyError:  # useradd said "in use": a group of that name, not ours
                raise IsolationError(
                    f"cannot create the system account {self.name}: its name is in use"
                ) from None
            self.log.info("Created system account %s (uid %d)", self.name, entry.pw_uid)
        if entry.pw_gecos != PLATFORM_COMMENT or entry.pw_uid == 0:
            raise IsolationError(
                f"the system account {self.name} exists but was not made by Labworks (comment"
                f" {entry.pw_gecos!r}); remove it or choose another c.PlatformAccount.name"
            )
        groups = tuple(sorted(set(os.getgrouplist(self.name, entry.pw_gid))))
        return Account(self.name, entry.pw_uid, entry.pw_gid, groups)


class SystemAccounts(LoggingConfigurable):
    """One locked system account per hub user (no home, no login shell, no password)."""

    group = Unicode("labworks-users", help="Primary group of every workspace account.").tag(
        config=True
    )
    prefix = Unicode("lw-", help="Prefix of workspace account names.").tag(config=True)

    def name_for(self, hub_name: str) -> str:
        """`<prefix><name>` when that is a plain POSIX name of at most 32 characters, else a
        readable part of the name and a hash of all of it. A crafted name that hits another
        user's account is refused by ensure(), which checks the account's comment."""
        plain = self.prefix + hub_name
        if re.fullmatch(r"[a-z_][a-z0-9_-]*", plain) and len(plain) <= MAX_ACCOUNT_NAME:
            return plain
        digest = hashlib.sha256(hub_name.encode()).hexdigest()[:10]
        readable = re.sub(r"[^a-z0-9_-]", "", hub_name.lower())
        room = MAX_ACCOUNT_NAME - len(self.prefix) - len(digest) - 1
        return f"{self.prefix}{readable[:room]}-{digest}".replace("--", "-")

    @staticmethod
    def comment_for(hub_name: str) -> str:
        """The GECOS field that marks an account as this hub user's."""
        if re.fullmatch(r"[A-Za-z0-9._@+-]{1,64}", hub_name):
            return f"labworks user {hub_name}"
        return f"labworks user sha256-{hashlib.sha256(hub_name.encode()).hexdigest()[:16]}"

    def ensure(self, hub_name: str) -> Account:
        """The account of `hub_name`, created on first use; IsolationError if it cannot be
        made or if an account of that name exists that is not this user's."""
        gid = self._ensure_group()
        name, comment = self.name_for(hub_name), self.comment_for(hub_name)
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            run_tool(
                ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", "--gid", self.group, "--comment", comment, name],
                f"create the system account {name}",
            )  # fmt: skip
            entry = pwd.getpwnam(name)
            self.log.info("Created system account %s (uid %d) for %s", name, entry.pw_uid, hub_name)
        if entry.pw_gecos != comment or entry.pw_gid != gid or entry.pw_uid == 0:
            raise IsolationError(
                f"the system account {name} exists but was not made by Labworks for"
                f" {hub_name!r} (comment {entry.pw_gecos!r}, gid {entry.pw_gid}); rename it or"
                " change c.SystemAccounts.prefix"
            )
        groups = tuple(sorted(set(os.getgrouplist(name, gid))))
        return Account(name, entry.pw_uid, gid, groups)

    def _ensure_group(self) -> int:
        try:
            return grp.getgrnam(self.group).gr_gid
        except KeyError:
            run_tool(["groupadd", "--system", "-f", self.group], f"create the group {self.group}")
            return grp.getgrnam(self.group).gr_gid

    def unavailable_reason(self, python: str, workspaces_dir: str) -> str | None:
        """None when workspaces can run as system accounts here; else why not. Runs `python`
        as an unprivileged user once, to see that it starts, imports Jupyter and reaches
        `workspaces_dir`."""
        reason = accounts_unavailable("start workspaces as other users")
        if reason:
            return reason
        closed = first_closed_dir(Path(workspaces_dir))
        if closed is not None:
            return (
                f"{closed} is mode {stat.S_IMODE(closed.stat().st_mode):04o}, so other users cannot"
                f" reach the workspaces in {workspaces_dir} (it and every parent need o+x)"
            )
        try:
            probe = run([python, "-c", PROBE, workspaces_dir], run_as=RunAs(NOBODY, NOBODY, ()))
        except (OSError, subprocess.SubprocessError) as e:
            return f"an unprivileged user cannot run {python}: {e}"
        if probe.returncode == 3:
            return f"an unprivileged user cannot reach {workspaces_dir}"
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
            return f"an unprivileged user cannot run {python} with Jupyter: {last}"
        return None


def first_closed_dir(path: Path) -> Path | None:
    """The first directory from / down to `path` that others cannot traverse, if any."""
    for directory in [*reversed(path.parents), path]:
        try:
            mode = directory.stat().st_mode
        except OSError:
            return None  # not there yet: created later by the hub, the probe decides
        if not mode & stat.S_IXOTH:
            return directory
    return None


class CgroupLimits(LoggingConfigurable):
    """Memory and CPU limits through cgroup v2: `<root>/<subtree>/<account>` per workspace."""

    root = Unicode(
        "",
        help="Mount point of the cgroup v2 hierarchy; empty: the cgroup2 mount found in"
        " /proc/self/mounts.",
    ).tag(config=True)
    subtree = Unicode("labworks", help="Group under the root that holds the workspaces.").tag(
        config=True
    )

    def mount_point(self) -> Path | None:
        if self.root:
            return Path(self.root)
        try:
            with open("/proc/self/mounts") as mounts:
                for line in mounts:
                    fields = line.split()
                    if len(fields) > 2 and fields[2] == "cgroup2":
                        return Path(fields[1])
        except OSError:
            pass
        return None

    def unavailable_reason(self) -> str | None:
        """None when limits work (and the parent group is ready); else what is missing."""
        root = self.mount_point()
        if root is None:
            return "no cgroup2 filesystem is mounted (cgroup v1 only)"
        try:
            available = (root / "cgroup.controllers").read_text().split()
        except OSError as e:
            return f"{root} is not a cgroup2 hierarchy ({e.strerror})"
        missing = [c for c in REQUIRED_CONTROLLERS if c not in available]
        if missing:
            offered = " ".join(available) if available else "no controllers"
            return (
                f"the cgroup2 hierarchy at {root} offers {offered} but not {' and '.join(missing)},"
                " which this machine still manages with cgroup v1 (hybrid or legacy setup; boot"
                " with systemd.unified_cgroup_hierarchy=1 to move them to cgroup v2)"
            )
        parent = root / self.subtree
        try:
            _enable_controllers(root)
            parent.mkdir(mode=0o755, exist_ok=True)
            _enable_controllers(parent)
        except OSError as e:
            return f"cannot enable {' and '.join(REQUIRED_CONTROLLERS)} for {parent}: {e.strerror}"
        return None

    def path_for(self, account: str) -> Path:
        root = self.mount_point()
        assert root is not None, "call unavailable_reason() first"
        return root / self.subtree / account

    def create(self, account: str, cpu_limit: float | None, mem_limit: int | None) -> Path:
        """The account's group with these limits (None or 0: unlimited); reused if present."""
        path = self.path_for(account)
        path.mkdir(mode=0o755, exist_ok=True)
        quota = max(1000, int(cpu_limit * CPU_PERIOD)) if cpu_limit else "max"
        (path / "memory.max").write_text(f"{int(mem_limit)}\n" if mem_limit else "max\n")
        (path / "cpu.max").write_text(f"{quota} {CPU_PERIOD}\n")
        return path

    def remove(self, path: Path, timeout: float = 5) -> None:
        """Kill what is left in the group (orphaned kernels, background jobs), then remove it."""
        if not path.is_dir():
            return
        deadline = time.monotonic() + timeout
        if self.pids(path):
            kill = path / "cgroup.kill"
            if kill.exists():
                kill.write_text("1\n")
            else:  # kernels before 5.14
                for pid in self.pids(path):
                    _kill(pid)
        while True:
            try:
                self._remove_dir(path)
                return
            except OSError as e:
                if e.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                    self.log.warning("cannot remove cgroup %s: %s", path, e.strerror)
                    return
            time.sleep(0.05)

    @staticmethod
    def pids(path: Path) -> list[int]:
        try:
            text = (path / "cgroup.procs").read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in text.split() if p.isdigit() and _alive(int(p))]

    @staticmethod
    def _remove_dir(path: Path) -> None:
        """rmdir: cgroupfs drops a group's interface files with it."""
        path.rmdir()


def _enable_controllers(group: Path) -> None:
    control = group / "cgroup.subtree_control"
    enabled = control.read_text().split()
    missing = [c for c in REQUIRED_CONTROLLERS if c not in enabled]
    if missing:
        control.write_text(" ".join(f"+{c}" for c in missing) + "\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class IsolationStatus:
    """What `labworks up` prints and the spawner acts on."""

    on: bool
    reason: str = ""  # why isolation is off
    limits: bool = False
    limits_reason: str = ""  # why cgroup limits are off
    required: bool = False  # isolation = "on": no workspace starts without it

    def summary(self) -> str:
        if self.on:
            limits = "on" if self.limits else f"OFF: {self.limits_reason}"
            return f"isolation on: per-user system accounts; cgroup v2 limits: {limits}"
        if self.required:
            return (
                f"isolation REQUIRED but unavailable: {self.reason}. No workspace will start"
                " until this is fixed."
            )
        return (
            f"isolation OFF: {self.reason}. Every workspace runs as uid {os.geteuid()}, the"
            " hub's own user: anyone who can log in can read every workspace and the state"
            " directory and act as any other user, admin included."
        )


def check(
    mode: str,
    python: str,
    workspaces_dir: str,
    accounts: SystemAccounts,
    limits: CgroupLimits,
) -> IsolationStatus:
    """Decide isolation for `mode` ("auto", "on" or "off") on this machine."""
    if mode == "off":
        return IsolationStatus(
            False, "turned off in the configuration (c.LocalWorkspaceSpawner.isolation = 'off')"
        )
    reason = accounts.unavailable_reason(python, workspaces_dir)
    if reason:
        return IsolationStatus(False, reason, required=mode == "on")
    limits_reason = limits.unavailable_reason()
    return IsolationStatus(True, limits=limits_reason is None, limits_reason=limits_reason or "")


def give_home(home: Path, account: Account | None, previous: int | None = None) -> None:
    """Create the workspace home (mode 0700) and, with an account, hand it over: a home left
    by another owner (isolation turned on later, an account re-created) is chowned through.
    With `previous`, what that uid owns in the home changes hands even where the home is the
    account's already (root's new files in the platform's folders).

    Nothing a user could have placed is followed: the home is opened with O_NOFOLLOW and
    changed through its descriptor, entries by name under their folder's descriptor; only
    entries of the home's previous owner change hands, and never a file with more than one
    link (its other names may lie outside the home: a hard link to someone else's file)."""
    home.mkdir(mode=0o700, exist_ok=True)
    if account is None:
        return
    try:
        fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise IsolationError(f"workspace home {home} is not a directory") from None
        raise
    try:
        info = os.fstat(fd)
        if (info.st_uid, info.st_gid) != (account.uid, account.gid) or previous is not None:
            _hand_over(fd, info.st_uid if previous is None else previous, account)
            os.fchown(fd, account.uid, account.gid)
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _hand_over(home_fd: int, previous: int, account: Account) -> None:
    """Chown what `previous` owns under the open home to `account` (see give_home)."""
    for _, dirs, files, dir_fd in os.fwalk(".", dir_fd=home_fd, follow_symlinks=False):
        for name in (*dirs, *files):
            try:
                entry = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            linked = not stat.S_ISDIR(entry.st_mode) and entry.st_nlink > 1
            if entry.st_uid == previous and not linked:
                os.chown(name, account.uid, account.gid, dir_fd=dir_fd, follow_symlinks=False)
