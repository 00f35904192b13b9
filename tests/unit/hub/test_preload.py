"""The preload server as a real process on a Unix socket: refusals and a real fork."""

from __future__ import annotations

import json
import os
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
