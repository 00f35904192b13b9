"""The job launcher's protocol (labworks_hub.launcher, launcher_socket): who may ask, and what
it accepts."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from labworks_hub.isolation import NOBODY, Account, RunAs, become
from labworks_hub.launcher import JobLauncher, LauncherError, StartRequest
from labworks_hub.launcher_socket import LauncherClient, answer, handle

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a peer of another uid)")
START = {
    "run_id": "r1", "attempt": 1, "owner": "ana", "notebook": "{}", "parameters": {},
    "kernel_name": "python3", "notebook_path": "", "env": {"A": "1"},
}  # fmt: skip


@pytest.fixture
def launcher(tmp_path) -> JobLauncher:
    return JobLauncher(str(tmp_path / "runs"), str(tmp_path / "users"), sys.executable, "off")


def ask(
    launcher: JobLauncher, request: dict, peers: set[int], run_as: RunAs | None = None,
    base: Path | None = None,
):  # fmt: skip
    """Send `request` over a socket pair, from a process running as `run_as` when given."""
    server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with server, client:
        if run_as is None:
            client.sendall(json.dumps(request).encode() + b"\n")
            handle(server, launcher, peers)
            return json.loads(client.makefile().readline())
        # The peer's credentials are taken when the pair is made: a foreign peer is a process
        # of another uid that connects to a listening socket.
        assert base is not None
        path = base / "l.sock"
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
        path.chmod(0o777)
        listener.listen(1)
        listener.settimeout(60)
        code = (
            "import json, socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
            f"try:\n    s.sendall({json.dumps(json.dumps(request))!r}.encode() + b'\\n')\n"
            "except BrokenPipeError:\n    pass  # refused before it was read\n"
            "print(s.makefile().readline(), end='')\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                                text=True, preexec_fn=lambda: become(run_as))  # fmt: skip
        conn, _ = listener.accept()
        with conn, listener:
            handle(conn, launcher, peers)
        return json.loads(proc.communicate(timeout=30)[0])


@as_root
def test_a_foreign_peer_is_refused_before_its_request_is_read(launcher, open_base):
    (Path(launcher.runs_dir) / "r1" / "1").mkdir(parents=True)
    reply = ask(launcher, {"op": "forget", "run_id": "r1", "attempt": 1}, {0},
                RunAs(NOBODY, NOBODY, ()), open_base)  # fmt: skip
    assert reply["error"] == "forbidden" and f"uid {NOBODY}" in reply["message"]
    assert (Path(launcher.runs_dir) / "r1" / "1").is_dir()  # not forgotten
    assert ask(launcher, {"op": "status"}, {0})["on"] is False  # root is a peer


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"op": "forget", "run_id": "../../etc", "attempt": 1}, "run_id must be"),
        ({"op": "forget", "run_id": "r1", "attempt": True}, "attempt must be"),
        ({"op": "forget", "run_id": "r1", "attempt": 1, "dir": "/etc"}, "forget takes exactly"),
        ({"op": "start", **START, "dir": "/etc"}, "unknown fields: dir"),
        ({"op": "start", **START, "argv": ["sh"]}, "unknown fields: argv"),
        ({"op": "start", **START, "owner": "../root"}, "owner must be"),
        ({"op": "start", **START, "env": {"A=B": "1"}}, "not a variable name"),
        ({"op": "start", **START, "env": {"A": "1\x00"}}, "without NUL"),
        ({"op": "cancel", "run_id": "r1", "attempt": 1, "pid": -1, "start_ticks": 0}, "pid"),
        ({"op": "folder", "owner": "ana", "notebook_path": 5}, "notebook_path must be"),
        ({"op": "chmod", "path": "/etc/shadow"}, "unknown op"),
        ([1, 2], "a request is a JSON object"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(launcher, request_, message):
    reply = ask(launcher, request_, {os.geteuid()})
    assert reply["error"] == "bad_request" and message in reply["message"], reply


def test_paths_are_the_launchers_own(launcher, tmp_path):
    """Only (run_id, attempt) name an attempt: forget removes that folder and nothing else."""
    attempt = tmp_path / "runs" / "r1" / "1"
    (attempt / "job").mkdir(parents=True)
    other = tmp_path / "keep"
    other.mkdir()
    assert ask(launcher, {"op": "forget", "run_id": "r1", "attempt": 1}, {os.geteuid()}) == {}
    assert not (tmp_path / "runs" / "r1").exists() and other.exists()
    with pytest.raises(ValueError, match="run_id"):
        answer(launcher, {"op": "forget", "run_id": "..", "attempt": 1})


def test_the_launcher_opens_its_own_folders_and_nothing_above(open_base):
    """The runs dir and its parent (the state dir's `jobs/`) become 0711 so job accounts pass
    through; what holds them is left as it is. Opening two levels up once turned /tmp into
    0711 for every test whose runs dir was /tmp/<x>/runs, and the platform's uploads failed."""
    state = open_base / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    launcher = JobLauncher(str(state / "jobs" / "runs"), str(open_base), sys.executable, "off")
    launcher.status()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (state, state / "jobs",
                                                             state / "jobs" / "runs")}  # fmt: skip
    assert modes == {"state": 0o755, "jobs": 0o711, "runs": 0o711}


def test_a_request_is_checked_in_process_too():
    with pytest.raises(ValueError, match="owner"):
        StartRequest(**{**START, "owner": "a/b"})
    with pytest.raises(ValueError, match="missing fields: env"):
        StartRequest.from_dict({k: v for k, v in START.items() if k != "env"})


@as_root
def test_cancel_refuses_an_attempt_of_root_where_jobs_never_run_as_root(tmp_path):
    platform = Account("nobody", NOBODY, NOBODY, ())
    launcher = JobLauncher(str(tmp_path / "runs"), str(tmp_path), sys.executable, "off",
                           platform=platform)  # fmt: skip
    (tmp_path / "runs" / "r1" / "1" / "job").mkdir(parents=True)  # root's
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with pytest.raises(LauncherError, match="does not run as a job account"):
            launcher.cancel("r1", 1, sleeper.pid, 0)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


@as_root
def test_an_attempt_started_for_the_platform_has_the_split_layout(open_base):
    """With the platform account as reader: the log is its (0600), the job folder the job's
    with the platform's group (2750), the attempt folder root's; the job cannot reach the
    log by name."""
    platform = Account("nobody", NOBODY, NOBODY, ())
    base = open_base
    launcher = JobLauncher(str(base / "runs"), str(base), sys.executable, "off",
                           platform=platform)  # fmt: skip
    request = StartRequest(**{**START, "notebook": "not a notebook"})
    started = launcher.start(request)
    assert started.process is not None
    started.process.wait(60)
    directory, files = Path(started.dir), Path(started.files)
    layout = {p: (p.stat().st_uid, p.stat().st_gid, oct(p.stat().st_mode & 0o7777))
              for p in (directory, directory / "log.txt", files)}  # fmt: skip
    assert layout == {
        directory: (0, NOBODY, "0o751"),
        directory / "log.txt": (NOBODY, NOBODY, "0o600"),
        files: (NOBODY, NOBODY, "0o2750"),
    }
    assert started.uid == NOBODY  # isolation off: the platform's account, never root


def test_the_client_reaches_a_served_launcher(launcher, tmp_path):
    path = tmp_path / "s.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)

    def one() -> None:
        conn, _ = listener.accept()
        with conn:
            handle(conn, launcher, {os.geteuid()})

    thread = threading.Thread(target=one)
    thread.start()
    try:
        status = LauncherClient(str(path)).status()
    finally:
        thread.join(30)
        listener.close()
    assert status.on is False and "turned off" in status.reason


@as_root
def test_the_job_cannot_replace_its_log(open_base):
    """The job writes its log only through the stdout it was given: it cannot unlink the log
    and put a link to a root-only file in its place (the log API would then read that)."""
    secret = open_base / "secret"
    secret.write_text("root only")
    secret.chmod(0o600)
    attack = (
        "import os\nprint('job says hi', flush=True)\n"
        f"try:\n    os.unlink('../log.txt')\n    os.symlink({str(secret)!r}, '../log.txt')\n"
        "except OSError as e:\n    print('refused:', type(e).__name__, flush=True)\n"
    )
    cell = {"cell_type": "code", "id": "c0", "metadata": {}, "outputs": [],
            "execution_count": None, "source": attack}  # fmt: skip
    book = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    platform = Account("nobody", NOBODY, NOBODY, ())
    launcher = JobLauncher(str(open_base / "runs"), str(open_base), sys.executable, "off",
                           platform=platform)  # fmt: skip
    started = launcher.start(StartRequest(**{**START, "notebook": json.dumps(book)}))
    assert started.process is not None and started.process.wait(120) == 0
    log = Path(started.dir) / "log.txt"
    assert not log.is_symlink() and log.stat().st_uid == NOBODY
    text = log.read_text()
    assert "job says hi" in text and "refused: PermissionError" in text
    assert "root only" not in text


@as_root
def test_the_launcher_writes_down_how_each_job_process_ended(open_base):
    """The service is not the job process's parent, so the root launcher records its exit
    status (a file of the platform account's, 0640, in the attempt folder the job cannot
    write) before reaping it."""
    platform = Account("nobody", NOBODY, NOBODY, ())
    launcher = JobLauncher(str(open_base / "runs"), str(open_base), sys.executable, "off",
                           platform=platform)  # fmt: skip
    sleeper = launcher.start(StartRequest(**{**START, "notebook": "not a notebook"}))
    os.kill(sleeper.pid, signal.SIGKILL)
    record = Path(sleeper.dir) / "exit.json"
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    info = record.stat()
    assert (info.st_uid, oct(info.st_mode & 0o777)) == (NOBODY, "0o640")
    assert json.loads(record.read_text()) == {"returncode": -signal.SIGKILL}
    deadline = time.monotonic() + 30
    while sleeper.process.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)  # reaped by the launcher's thread, not here
    assert sleeper.process.returncode == -signal.SIGKILL
