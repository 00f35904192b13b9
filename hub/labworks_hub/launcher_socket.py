"""The launcher's socket: the server side (`serve`, one request per connection, its peer
checked first), `LauncherClient`, the Launcher interface over it, and `main`: `python -m
labworks_hub.launcher_socket` is the root launcher service. The protocol and the privileged
work are labworks_hub.launcher's."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .isolation import Account, IsolationError, IsolationStatus
from .kernel_pool import IDLE, SIZE
from .launcher import (
    CONNECT_WAIT,
    MAX_REQUEST,
    JobLauncher,
    LauncherError,
    ServeRequest,
    Started,
    StartRequest,
    check,
    check_attempt,
    check_owner,
    check_text,
)


def _reply(conn: socket.socket, body: dict[str, Any]) -> None:
    conn.sendall(json.dumps(body).encode() + b"\n")


def _read_line(conn: socket.socket) -> bytes:
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST:
            raise ValueError(f"a request holds at most {MAX_REQUEST} bytes")
    return bytes(data)


def peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _integer(value: object, name: str) -> int:
    check(type(value) is int and value >= 0, f"{name} must be a non-negative integer")
    return int(value)  # type: ignore[call-overload]


def answer(launcher: JobLauncher, request: Any) -> dict[str, Any]:
    """The reply to one request (ValueError: it is malformed; LauncherError, IsolationError
    and OSError: it failed)."""
    check(isinstance(request, dict), "a request is a JSON object")
    op = request.pop("op", None)
    if op == "start":
        return launcher.start(StartRequest.from_dict(request)).to_dict()
    if op == "serve":
        return launcher.serve(ServeRequest.from_dict(request)).to_dict()
    fields = {"status": set(), "folder": {"owner", "notebook_path"},
              "cancel": {"run_id", "attempt", "pid", "start_ticks"},
              "forget": {"run_id", "attempt"}}  # fmt: skip
    check(op in fields, f"unknown op {op!r}")
    check(set(request) == fields[op], f"{op} takes exactly: {', '.join(sorted(fields[op]))}")
    if op == "status":
        status = launcher.status()
        return {"on": status.on, "reason": status.reason, "required": status.required}
    if op == "folder":
        path = check_text(request["notebook_path"], "notebook_path")
        return {"folder": launcher.folder(check_owner(request["owner"]), path)}
    run_id, attempt = check_attempt(request["run_id"], request["attempt"])
    if op == "cancel":
        pid = _integer(request["pid"], "pid")
        launcher.cancel(run_id, attempt, pid, _integer(request["start_ticks"], "start_ticks"))
    else:
        launcher.forget(run_id, attempt)
    return {}


def handle(conn: socket.socket, launcher: JobLauncher, peers: set[int]) -> None:
    """Answer one connection: its peer checked first, then one request."""
    uid = peer_uid(conn)
    if uid not in peers:
        _reply(conn, {"error": "forbidden", "message": f"uid {uid} may not use the launcher"})
        return
    try:
        reply = answer(launcher, json.loads(_read_line(conn)))
    except ValueError as e:
        reply = {"error": "bad_request", "message": str(e)}
    except (LauncherError, IsolationError, OSError, subprocess.SubprocessError) as e:
        reply = {"error": "failed", "message": str(e)}
    _reply(conn, reply)


def listen(path: Path, owner: Account) -> socket.socket:
    """The launcher's socket: in a folder of root's (0711) that it (re)creates, the socket
    `owner`'s (0600). Only root can connect before the chown."""
    folder = path.parent
    folder.mkdir(mode=0o711, exist_ok=True)
    info = folder.lstat()
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.geteuid():
        raise LauncherError(f"{folder} must be a folder of uid {os.geteuid()}")
    folder.chmod(0o711)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chown(path, owner.uid, owner.gid)
    listener.listen(16)
    return listener


def serve(listener: socket.socket, launcher: JobLauncher, peers: set[int]) -> None:
    """Answer connections one at a time, forever; each job started is reaped by a thread of
    its own (`JobLauncher.record_exit`)."""
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(30)  # a client that sends nothing does not hold the launcher
            with contextlib.suppress(OSError):
                handle(conn, launcher, peers)


class LauncherClient:
    """The Launcher interface over the launcher's socket (blocking: call it off the loop)."""

    def __init__(self, path: str, timeout: float = 120) -> None:
        self.path = path
        self.timeout = timeout

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                self._connect(conn)
                conn.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
                reply = json.loads(_read_line(conn))
        except (OSError, ValueError) as e:
            raise LauncherError(f"cannot reach the job launcher at {self.path}: {e}") from None
        if "error" in reply:
            raise LauncherError(str(reply.get("message")))
        return reply

    def _connect(self, conn: socket.socket) -> None:
        """Connect, waiting up to CONNECT_WAIT seconds for a launcher that is starting."""
        deadline = time.monotonic() + CONNECT_WAIT
        while True:
            try:
                conn.connect(self.path)
                return
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def status(self) -> IsolationStatus:
        reply = self.call("status")
        limits = "jobs share the queue's slots, not cgroups"
        return IsolationStatus(reply["on"], reply["reason"], False, limits, reply["required"])

    def folder(self, owner: str, notebook_path: str) -> str | None:
        return self.call("folder", owner=owner, notebook_path=notebook_path)["folder"]

    def start(self, request: StartRequest) -> Started:
        return Started(**self.call("start", **asdict(request)))

    def serve(self, request: ServeRequest) -> Started:
        return Started(**self.call("serve", **asdict(request)))

    def cancel(self, run_id: str, attempt: int, pid: int, start_ticks: int) -> None:
        self.call("cancel", run_id=run_id, attempt=attempt, pid=pid, start_ticks=start_ticks)

    def forget(self, run_id: str, attempt: int) -> None:
        self.call("forget", run_id=run_id, attempt=attempt)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="The job launcher: starts and stops local jobs as their owners' accounts."
    )
    parser.add_argument("--socket", required=True, help="path of the Unix socket")
    parser.add_argument("--platform-user", required=True, help="the platform service's account")
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--workspaces-dir", required=True)
    parser.add_argument("--python", default=sys.executable, help="Python that runs jobs")
    parser.add_argument("--isolation", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--warm-kernels", type=int, default=SIZE, help="warm kernels per key")
    parser.add_argument("--warm-idle", type=float, default=IDLE, help="seconds each one waits")
    parser.add_argument("--serving-python", default="", help="Python that runs model servers")
    args = parser.parse_args(argv)
    entry = pwd.getpwnam(args.platform_user)
    groups = tuple(sorted(set(os.getgrouplist(entry.pw_name, entry.pw_gid))))
    platform = Account(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)
    launcher = JobLauncher(
        args.runs_dir, args.workspaces_dir, args.python, args.isolation, platform=platform,
        warm_kernels=args.warm_kernels, warm_idle=args.warm_idle,
        serving_python=args.serving_python,
    )  # fmt: skip
    listener = listen(Path(args.socket), platform)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    print(f"[launcher] ready on {args.socket}", file=sys.stderr, flush=True)
    try:
        serve(listener, launcher, {0, platform.uid})
    except KeyboardInterrupt:
        pass
    finally:  # also on SystemExit from SIGTERM
        listener.close()
        launcher.close()


if __name__ == "__main__":
    main()
