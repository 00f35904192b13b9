"""The preload server as a real process on a Unix socket: refusals and a real fork."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


@pytest.fixture
def preload():
    workdir = Path(tempfile.mkdtemp(prefix="lw-pre-", dir="/tmp"))
    path = workdir / "p.sock"
    out = open(workdir / "out.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "labworks_hub.spawners.preload", str(path)],
        stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not path.exists():
        assert proc.poll() is None, (workdir / "out.log").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield path, workdir
    proc.terminate()
    assert proc.wait(30) == 0
    out.close()
    assert not path.exists()  # cleaned up on SIGTERM
    shutil.rmtree(workdir)


def ask(path: Path, request: bytes) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(request + b"\n")
        return json.loads(s.makefile().readline())


def test_socket_is_private(preload):
    path, _ = preload
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (b"not json", "bad request"),
        (json.dumps({"argv": "x", "env": {}, "cwd": "/"}).encode(), "argv must be a list"),
        (json.dumps({"argv": [], "env": {}, "cwd": "/nope/x"}).encode(), "No such file"),
        (
            json.dumps(
                {"argv": [], "env": {"JUPYTERHUB_SINGLEUSER_APP": "notebook"}, "cwd": "/"}
            ).encode(),
            "differ from the preload server's",
        ),
    ],
)
def test_bad_requests_are_refused(preload, request_body, message):
    path, _ = preload
    reply = ask(path, request_body)
    assert "pid" not in reply
    assert message in reply["error"]


def test_forks_a_process_that_runs_jupyterhub_singleuser(preload, tmp_path):
    """The env reaching a real workspace is checked end to end in test_platform.py."""
    path, workdir = preload
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    request = {"argv": ["jupyterhub-singleuser", "--version"], "env": env, "cwd": str(tmp_path)}
    reply = ask(path, json.dumps(request).encode())
    pid = reply["pid"]
    assert pid > 0
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    import jupyterhub

    assert jupyterhub.__version__ in (workdir / "out.log").read_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def open_dir():
    """A directory every user may traverse (pytest's tmp_path is under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="lw-pre-open-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path)


def _wait_for_exit(pid: int) -> None:
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to change users")
def test_run_as_drops_to_the_account_before_entering_the_home(preload, open_dir):
    path, workdir = preload
    env = {"PATH": os.environ["PATH"]}
    nobody = {"uid": 65534, "gid": 65534, "groups": [65534], "cgroup": str(open_dir / "cg")}
    (open_dir / "cg").mkdir()
    (open_dir / "cg" / "cgroup.procs").write_text("")
    root_only = open_dir / "root-only"
    root_only.mkdir(mode=0o700)
    home = open_dir / "home"
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)

    # As root the child could enter root_only; as nobody it must fail there.
    request = {"argv": ["jupyterhub-singleuser", "--version"], "env": {**env, "HOME": str(home)},
               "cwd": str(root_only), "run_as": nobody}  # fmt: skip
    refused = ask(path, json.dumps(request).encode())["pid"]
    _wait_for_exit(refused)
    assert (open_dir / "cg" / "cgroup.procs").read_text() == str(refused)
    assert (
        f"PermissionError: [Errno 13] Permission denied: '{root_only}'"
        in (workdir / "out.log").read_text()
    )

    ran = ask(path, json.dumps({**request, "cwd": str(home)}).encode())["pid"]
    _wait_for_exit(ran)
    assert (open_dir / "cg" / "cgroup.procs").read_text() == str(ran)
    import jupyterhub

    assert (workdir / "out.log").read_text().count(jupyterhub.__version__) == 1


def test_a_bad_run_as_is_refused(preload):
    path, _ = preload
    request = {"argv": [], "env": {}, "cwd": "/", "run_as": {"uid": 0, "gid": 0, "groups": []}}
    reply = ask(path, json.dumps(request).encode())
    assert reply == {"error": "bad request: run_as ids must be positive integers"}
