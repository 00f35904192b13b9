"""Workspace isolation: account names, real system accounts (the tests run as root), the
privilege drop in a real child process, and cgroup v2 limits on a fake cgroupfs tree.

This machine mounts cgroup v2 with only the hugetlb controller (memory and cpu are on cgroup
v1), so the limit writes are checked against a temporary directory laid out like cgroupfs;
cgroupfs behaviour a plain directory cannot have (interface files that vanish with rmdir) is
played by FakeCgroupfsLimits below.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from labworks_hub import isolation
from labworks_hub.isolation import (
    NOBODY,
    Account,
    CgroupLimits,
    IsolationError,
    PlatformAccount,
    RunAs,
    SystemAccounts,
    check,
    first_closed_dir,
    give_home,
    run,
)
from labworks_hub.spawners import LocalWorkspaceSpawner
from labworks_hub.spawners.local import isolation_status_from_config

_closed = first_closed_dir(Path(sys.prefix))
as_root = pytest.mark.skipif(
    os.geteuid() != 0 or _closed is not None,
    reason="needs root (system accounts, setuid)"
    if os.geteuid() != 0
    else f"other users cannot run this environment's Python: {_closed} is closed to them",
)
NOBODY_ACCOUNT = Account("nobody", NOBODY, NOBODY, (NOBODY,))


@pytest.fixture
def open_dir():
    """A directory every user may traverse (pytest's tmp_path lives under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="lw-iso-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path)


# --- account names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "bob-2", "data_team", "a" * 29])
def test_plain_names_map_to_prefixed_accounts(name):
    assert SystemAccounts().name_for(name) == f"lw-{name}"


@pytest.mark.parametrize("name", ["a.b", "Alice", "x" * 40, "émile", "o'neil", "a b", "1.2"])
def test_odd_or_long_names_get_a_short_hash(name):
    account = SystemAccounts().name_for(name)
    assert len(account) <= 32
    assert re.fullmatch(r"lw-[a-z0-9_-]*-[0-9a-f]{10}", account), account


def test_distinct_hub_names_never_share_an_account():
    names = ["ab", "a.b", "a..b", "A.B", "a_b", "a-b", "x" * 40, "x" * 41, "x" * 40 + "."]
    accounts = {SystemAccounts().name_for(n) for n in names}
    assert len(accounts) == len(names)


def test_comment_marks_the_owner_and_never_holds_a_colon():
    assert SystemAccounts.comment_for("alice") == "labworks user alice"
    odd = SystemAccounts.comment_for("a:b,c\nd")
    assert odd.startswith("labworks user sha256-")
    assert not set(":,\n") & set(odd)


# --- real system accounts ----------------------------------------------------------------------


@pytest.fixture
def accounts():
    """SystemAccounts with a test-only prefix and group, removed afterwards."""
    tag = secrets.token_hex(3)
    made = SystemAccounts(prefix=f"lwt{tag}-", group=f"lwt-{tag}")
    yield made
    for entry in _passwd():
        if entry[0].startswith(made.prefix):
            _shadow_tool(["userdel", entry[0]])
    _shadow_tool(["groupdel", made.group], check=False)


def _shadow_tool(argv: list[str], check: bool = True) -> None:
    """Run useradd/userdel/groupdel, waiting out a lock another test's platform holds."""
    for _ in range(100):
        done = subprocess.run(argv, capture_output=True, text=True)
        if "cannot lock" not in done.stderr:
            break
        time.sleep(0.1)
    assert done.returncode == 0 or not check, done.stderr


def _passwd() -> list[list[str]]:
    return [line.split(":") for line in Path("/etc/passwd").read_text().splitlines()]


@as_root
def test_ensure_creates_a_locked_system_account_once(accounts):
    first = accounts.ensure("alice")
    again = accounts.ensure("alice")
    assert first == again
    assert first.name == f"{accounts.prefix}alice"
    entry = next(e for e in _passwd() if e[0] == first.name)
    assert int(entry[2]) == first.uid and 0 < first.uid < 1000  # a system uid
    assert entry[4] == "labworks user alice"
    assert entry[5] == "/nonexistent"
    assert entry[6] == "/usr/sbin/nologin"
    shadow = next(line for line in Path("/etc/shadow").read_text().splitlines()
                  if line.startswith(first.name + ":"))  # fmt: skip
    assert shadow.split(":")[1] in ("!", "*", "!*")  # no password: nobody logs in as it
    assert first.groups == (first.gid,)
    assert accounts.ensure("bob").uid != first.uid


@as_root
def test_an_account_made_by_someone_else_is_not_taken_over(accounts):
    accounts.ensure("carol")  # creates the group
    name = accounts.name_for("mallory")
    _shadow_tool(["useradd", "--system", "--no-create-home", "--gid", accounts.group,
                  "--comment", "not labworks", name])  # fmt: skip
    with pytest.raises(IsolationError, match=f"{name} exists but was not made by Labworks"):
        accounts.ensure("mallory")


@as_root
def test_a_locked_passwd_file_is_waited_out(accounts):
    """useradd exits 1 while another program holds /etc/passwd.lock: the account is still made
    once the lock is let go, not refused."""
    accounts.ensure("dora")  # the group exists: only useradd's lock is in the way
    holder = subprocess.Popen(["sleep", "30"])
    lock = Path("/etc/passwd.lock")
    for _ in range(100):  # take shadow's lock only while no one else holds it
        try:
            with lock.open("x") as f:
                f.write(str(holder.pid))  # the pid of a live holder
            break
        except FileExistsError:
            time.sleep(0.1)
    else:
        pytest.fail("another program held /etc/passwd.lock for 10 s")
    release = threading.Timer(0.6, lock.unlink)
    release.start()
    try:
        started = time.monotonic()
        made = accounts.ensure("erin")
        assert time.monotonic() - started >= 0.5  # it waited for the lock
    finally:
        release.join()  # the lock is let go whatever happened
        holder.kill()
    assert made.name == accounts.name_for("erin")


def test_a_failing_useradd_is_a_clear_error(monkeypatch):
    calls = []

    def failing(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 1, "", f"{argv[0]}: no space left\n")

    monkeypatch.setattr(isolation, "run", failing)
    with pytest.raises(IsolationError) as info:
        SystemAccounts(group=f"lwt-missing-{secrets.token_hex(3)}").ensure("alice")
    assert "cannot create the group lwt-missing-" in str(info.value)
    assert "groupadd exited 1: groupadd: no space left" in str(info.value)
    assert calls[0][:3] == ["groupadd", "--system", "-f"]


# --- dropping privileges in a real child ---------------------------------------------------------

WHOAMI = "import os; print(os.getresuid(), os.getresgid(), os.getgroups(), oct(os.umask(0)))"


@as_root
def test_become_drops_every_privilege_and_joins_the_cgroup(tmp_path):
    group = tmp_path / "labworks" / "lw-x"
    group.mkdir(parents=True)
    (group / "cgroup.procs").write_text("")
    child = subprocess.Popen(
        [sys.executable, "-c", WHOAMI + "; import time; time.sleep(0.2)"],
        preexec_fn=lambda: isolation.become(RunAs(NOBODY, NOBODY, (NOBODY,), str(group))),
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, _ = child.communicate(timeout=30)
    assert out.split("\n")[0] == (
        f"({NOBODY}, {NOBODY}, {NOBODY}) ({NOBODY}, {NOBODY}, {NOBODY}) [{NOBODY}] 0o77"
    )
    assert (group / "cgroup.procs").read_text() == str(child.pid)


@as_root
def test_run_as_an_unprivileged_user_cannot_read_root_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    result = run([sys.executable, "-c", f"open({str(secret)!r})"], run_as=RunAs(NOBODY, NOBODY, ()))
    assert result.returncode == 1
    assert "PermissionError" in result.stderr


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("x", "must be an object"),
        ({"uid": 0, "gid": 5, "groups": []}, "positive integers"),
        ({"uid": 5, "gid": "5", "groups": []}, "positive integers"),
        ({"uid": 5, "gid": 5, "groups": [True]}, "positive integers"),
        ({"uid": 5, "gid": 5, "groups": [], "shell": "/bin/sh"}, "must be an object"),
        ({"uid": 5, "gid": 5, "groups": [], "cgroup": 3}, "cgroup must be a path"),
    ],
)
def test_run_as_from_a_request_is_validated(data, message):
    with pytest.raises(ValueError, match=message):
        RunAs.from_dict(data)


def test_run_as_roundtrips():
    run_as = RunAs(1001, 999, (999, 44), "/sys/fs/cgroup/labworks/lw-a")
    assert RunAs.from_dict(run_as.to_dict()) == run_as


# --- detection -----------------------------------------------------------------------------------


def test_first_closed_dir_names_the_blocking_directory(open_dir):
    closed = open_dir / "closed"
    (closed / "users").mkdir(parents=True)
    closed.chmod(0o700)
    assert first_closed_dir(closed / "users") == closed
    closed.chmod(0o711)
    assert first_closed_dir(closed / "users") is None


@as_root
def test_detection_runs_python_as_an_unprivileged_user(open_dir):
    users = open_dir / "users"
    users.mkdir(mode=0o711)
    accounts = SystemAccounts()
    assert accounts.unavailable_reason(sys.executable, str(users)) is None
    users.chmod(0o700)
    reason = accounts.unavailable_reason(sys.executable, str(users))
    assert reason == (
        f"{users} is mode 0700, so other users cannot reach the workspaces in {users}"
        " (it and every parent need o+x)"
    )
    users.chmod(0o711)
    reason = accounts.unavailable_reason("/bin/false", str(users))
    assert reason and reason.startswith("an unprivileged user cannot run /bin/false with Jupyter")


def test_detection_refuses_a_hub_that_is_not_root(monkeypatch, open_dir):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    reason = SystemAccounts().unavailable_reason(sys.executable, str(open_dir))
    assert (
        reason == "the hub runs as uid 1000, not root, so it cannot start workspaces as other users"
    )


@as_root
def test_check_modes(open_dir, cgroupfs):
    limits = CgroupLimits(root=str(cgroupfs))
    auto = check("auto", sys.executable, str(open_dir), SystemAccounts(), limits)
    assert auto.on and auto.limits
    assert auto.summary() == "isolation on: per-user system accounts; cgroup v2 limits: on"
    off = check("off", sys.executable, str(open_dir), SystemAccounts(), limits)
    assert not off.on and "turned off in the configuration" in off.summary()
    assert "act as any other user" in off.summary()
    open_dir.chmod(0o700)
    required = check("on", sys.executable, str(open_dir), SystemAccounts(), limits)
    assert not required.on and required.required
    assert required.summary().startswith(f"isolation REQUIRED but unavailable: {open_dir} is mode")


# --- cgroup v2 limits on a fake tree -----------------------------------------------------------


@pytest.fixture
def cgroupfs(tmp_path):
    """A cgroup2 root as the kernel lays it out, with the `labworks` group made earlier."""
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (root / "labworks").mkdir()
    (root / "labworks" / "cgroup.subtree_control").write_text("\n")
    return root


class FakeCgroupfsLimits(CgroupLimits):
    """rmdir on cgroupfs takes the group's interface files with it; a tmp dir cannot."""

    @staticmethod
    def _remove_dir(path: Path) -> None:
        for entry in path.iterdir():
            entry.unlink()
        path.rmdir()


def test_limits_need_a_cgroup2_root(tmp_path):
    reason = CgroupLimits(root=str(tmp_path)).unavailable_reason()
    assert reason == f"{tmp_path} is not a cgroup2 hierarchy (No such file or directory)"


def test_limits_name_the_missing_controllers(cgroupfs):
    (cgroupfs / "cgroup.controllers").write_text("hugetlb\n")
    reason = CgroupLimits(root=str(cgroupfs)).unavailable_reason()
    assert reason and reason.startswith(
        f"the cgroup2 hierarchy at {cgroupfs} offers hugetlb but not memory and cpu, which this"
        " machine still manages with cgroup v1"
    )


def test_detection_on_this_machine_is_precise():
    """This machine: cgroup v1 for memory/cpu, cgroup2 mounted with hugetlb only."""
    limits = CgroupLimits()
    root = limits.mount_point()
    if root is None or "memory" in (root / "cgroup.controllers").read_text():
        pytest.skip("this machine is not the hybrid cgroup setup the test is about")
    reason = limits.unavailable_reason()
    assert reason and f"the cgroup2 hierarchy at {root} offers" in reason
    assert "not memory and cpu" in reason


def test_detection_enables_memory_and_cpu_for_the_workspaces(cgroupfs):
    (cgroupfs / "cgroup.subtree_control").write_text("pids\n")
    assert CgroupLimits(root=str(cgroupfs)).unavailable_reason() is None
    assert (cgroupfs / "cgroup.subtree_control").read_text() == "+memory +cpu\n"
    assert (cgroupfs / "labworks" / "cgroup.subtree_control").read_text() == "+memory +cpu\n"


def test_an_unusable_cgroup_tree_is_reported(cgroupfs):
    shutil.rmtree(cgroupfs / "labworks")
    (cgroupfs / "labworks").write_text("")  # in the way of the group
    reason = CgroupLimits(root=str(cgroupfs)).unavailable_reason()
    assert reason == f"cannot enable memory and cpu for {cgroupfs}/labworks: File exists"


@pytest.mark.parametrize(
    ("cpu", "mem", "cpu_max", "memory_max"),
    [
        (2.0, 4 * 1024**3, "200000 100000\n", "4294967296\n"),
        (0.5, 512 * 1024**2, "50000 100000\n", "536870912\n"),
        (0.001, None, "1000 100000\n", "max\n"),
        (None, 0, "max 100000\n", "max\n"),
    ],
)
def test_limits_are_written_from_the_profile(cgroupfs, cpu, mem, cpu_max, memory_max):
    limits = CgroupLimits(root=str(cgroupfs))
    path = limits.create("lw-alice", cpu, mem)
    assert path == cgroupfs / "labworks" / "lw-alice"
    assert (path / "cpu.max").read_text() == cpu_max
    assert (path / "memory.max").read_text() == memory_max


def test_remove_kills_what_is_left_and_removes_the_group(cgroupfs):
    limits = FakeCgroupfsLimits(root=str(cgroupfs))
    path = limits.create("lw-bob", 1.0, 1024**3)
    orphan = subprocess.Popen(["sleep", "60"])
    (path / "cgroup.procs").write_text(f"{orphan.pid}\n")
    assert limits.pids(path) == [orphan.pid]
    limits.remove(path)
    assert orphan.wait(10) == -9
    assert not path.exists()
    limits.remove(path)  # already gone: nothing to do


# --- homes ---------------------------------------------------------------------------------------


@as_root
def test_give_home_hands_over_a_home_without_following_links(open_dir):
    home = open_dir / "alice"
    give_home(home, NOBODY_ACCOUNT)
    info = home.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (NOBODY, NOBODY, 0o700)
    # A home from before isolation, owned by root, with a link pointing out of it.
    old = open_dir / "bob"
    (old / "notebooks").mkdir(parents=True)
    (old / "notebooks" / "a.ipynb").write_text("{}")
    target = open_dir / "root-only"
    target.write_text("x")
    (old / "escape").symlink_to(target)
    give_home(old, NOBODY_ACCOUNT)
    for path in (old, old / "notebooks", old / "notebooks" / "a.ipynb"):
        assert path.stat().st_uid == NOBODY, path
    assert (old / "escape").lstat().st_uid == NOBODY
    assert target.stat().st_uid == 0  # the link's target was not touched


@as_root
@pytest.mark.parametrize("previous", [0, 12345])  # isolation turned on later; a new account
def test_give_home_never_hands_over_a_file_named_by_a_hard_link(open_dir, previous):
    old = open_dir / "dan"
    old.mkdir()
    (old / "mine.txt").write_text("x")
    target = open_dir / "root-only"
    target.write_text("secret")
    target.chmod(0o600)
    os.link(target, old / "shadow")  # made while it could (root then, or protected_hardlinks=0)
    for path in (old, old / "mine.txt"):
        os.chown(path, previous, previous)
    give_home(old, NOBODY_ACCOUNT)
    assert (old.stat().st_uid, (old / "mine.txt").stat().st_uid) == (NOBODY, NOBODY)
    assert target.stat().st_uid == 0  # not given away through the home


def test_give_home_refuses_a_link_as_home(open_dir):
    (open_dir / "carol").symlink_to("/etc")
    with pytest.raises(IsolationError, match="is not a directory"):
        give_home(open_dir / "carol", NOBODY_ACCOUNT)


# --- the spawner ---------------------------------------------------------------------------------


def make_spawner(workspaces: Path, mode: str, cgroup: Path | None = None) -> LocalWorkspaceSpawner:
    spawner = LocalWorkspaceSpawner(workspaces_dir=str(workspaces), isolation=mode)
    spawner.limits = FakeCgroupfsLimits(root=str(cgroup or workspaces / "no-cgroup"))
    spawner.user = SimpleNamespace(name="alice", groups=[])
    return spawner


@as_root
def test_required_isolation_refuses_to_start_with_the_reason(tmp_path):
    # tmp_path lives under /tmp/pytest-of-root (0700): no system user can reach it.
    spawner = make_spawner(tmp_path / "users", "on")
    with pytest.raises(IsolationError) as info:
        asyncio.run(spawner._isolate())
    message = str(info.value)
    assert message.startswith("isolation REQUIRED but unavailable:")
    assert "is mode 0700" in message
    assert not (tmp_path / "users" / "alice").exists()


@as_root
def test_without_isolation_a_root_hub_tells_jupyter_server(open_dir):
    spawner = make_spawner(open_dir / "users", "off")
    assert asyncio.run(spawner._isolate()) is None
    assert "--ServerApp.allow_root=True" in spawner.get_args()
    assert spawner.user_env({})["USER"] == "alice"
    home = open_dir / "users" / "alice"
    assert home.is_dir() and home.stat().st_uid == 0
    assert stat.S_IMODE((open_dir / "users").stat().st_mode) == 0o711


@as_root
def test_with_isolation_the_server_process_becomes_the_account(open_dir, cgroupfs, monkeypatch):
    """The Popen path: the spawner's preexec function in a real child process. The account is
    `nobody` here; real accounts are made in the integration test."""
    monkeypatch.setattr(SystemAccounts, "ensure", lambda self, name: NOBODY_ACCOUNT)
    spawner = make_spawner(open_dir / "users", "auto", cgroupfs)
    spawner.cpu_limit, spawner.mem_limit = 1.5, 2 * 1024**3
    spawner._run_as = asyncio.run(spawner._isolate())
    group = cgroupfs / "labworks" / "nobody"
    assert spawner._run_as == RunAs(NOBODY, NOBODY, (NOBODY,), str(group))
    assert (group / "cpu.max").read_text() == "150000 100000\n"
    assert spawner.get_state()["cgroup"] == str(group)
    assert "--ServerApp.allow_root=True" not in spawner.get_args()
    env = spawner.user_env({})
    assert (env["USER"], env["LOGNAME"], env["SHELL"]) == ("nobody", "nobody", "/bin/bash")
    home = open_dir / "users" / "alice"
    assert env["HOME"] == str(home)
    child = subprocess.run(
        [sys.executable, "-c", WHOAMI + "; print(os.getcwd()); print(os.getpid())"],
        preexec_fn=spawner.make_preexec_fn("alice"), capture_output=True, text=True, check=True,
    )  # fmt: skip
    ids, cwd, pid = child.stdout.splitlines()
    assert ids.startswith(f"({NOBODY}, {NOBODY}, {NOBODY}) ({NOBODY}, {NOBODY}, {NOBODY})")
    assert ids.endswith("0o77")
    assert cwd == str(home)
    assert (group / "cgroup.procs").read_text() == pid
    # The server is gone: the hub clears the state, which removes the group.
    spawner.clear_state()
    assert not group.exists() and "cgroup" not in spawner.get_state()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('c.LocalWorkspaceSpawner.isolation = "off"', "isolation OFF: turned off in the config"),
        ('c.JupyterHub.spawner_class = "labworks-kubernetes"', None),
    ],
)
def test_up_reads_the_isolation_setting_from_the_hub_config(open_dir, lines, expected):
    """What `labworks up` prints comes from the config the hub will load, overrides included."""
    (open_dir / "jupyterhub_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        'c.JupyterHub.spawner_class = "labworks-local"\n'
        f"c.LocalWorkspaceSpawner.workspaces_dir = {str(open_dir / 'users')!r}\n"
        "load_subconfig('jupyterhub_config.local.py')  # noqa: F821\n"
    )
    (open_dir / "jupyterhub_config.local.py").write_text(lines + "\n")
    status = isolation_status_from_config(open_dir / "jupyterhub_config.py")
    if expected is None:
        assert status is None
    else:
        assert status is not None and status.summary().startswith(expected)


@as_root
def test_the_platform_account_is_used_only_where_it_can_reach_the_state_directory(tmp_path):
    """A home below a folder others cannot enter (pytest's tmp_path is under a 0700 folder)
    keeps the service as root, with the reason; an enterable home gets its own account."""
    closed = tmp_path / "closed"
    (closed / "lw").mkdir(parents=True)
    closed.chmod(0o700)
    reason = PlatformAccount().unavailable_reason(closed / "lw")
    assert reason is not None and "could not reach" in reason and str(closed) in reason
    assert "c.PlatformAccount.name" in (PlatformAccount(name="").unavailable_reason(closed) or "")
    open_home = Path(tempfile.mkdtemp(prefix="lw-open-", dir="/tmp"))
    try:
        open_home.chmod(0o711)
        assert PlatformAccount().unavailable_reason(open_home) is None
    finally:
        open_home.rmdir()
