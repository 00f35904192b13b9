"""The preload server: imports the Jupyter server stack once and forks a ready interpreter for
each workspace server.

Starting `jupyterhub-singleuser` spends seconds importing jupyter_server, JupyterLab and the hub's
own modules before it serves anything; a fork of a process that already holds them takes
milliseconds. `labworks up` runs this as a hub-managed service; LocalWorkspaceSpawner asks it
over a private Unix socket and falls back to a plain process start when it is not there.

Protocol: the client sends one JSON line `{"argv", "env", "cwd", "run_as"?}` and reads one JSON
line back, `{"pid": N}` or `{"error": text}`. The child gets exactly `env` (nothing of this
process's environment) and a new session; with `run_as` (isolation.RunAs.to_dict) it joins the
cgroup and becomes that system account (groups, gid, uid, umask 077) first. It then enters `cwd`
and runs `jupyterhub.singleuser.main` with `argv`. Only this process's OS user can use the socket.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import sys
import traceback

from ..isolation import RunAs, become

PRELOAD = (
    "jupyterhub.singleuser",
    "jupyter_server.serverapp",
    "jupyterlab",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "notebook_shim",
    "labworks_server",
)
# jupyterhub.singleuser reads these at import: a child needing other values than the ones this
# process was started with must be started the plain way.
IMPORT_TIME_ENV = ("JUPYTERHUB_SINGLEUSER_APP", "JUPYTERHUB_SINGLEUSER_EXTENSION")
MAX_REQUEST = 1 << 20


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as e:  # an optional server extension missing here
            print(f"[preload] not preloading {name}: {e}", file=sys.stderr)


def child(
    request: dict, run_as: RunAs | None, listener: socket.socket, conn: socket.socket
) -> None:
    """Runs in the forked child: become the workspace server; never returns."""
    code = 1
    try:
        listener.close()
        conn.close()
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.environ.clear()
        os.environ.update(request["env"])
        if run_as is not None:
            become(run_as)
        os.chdir(request["cwd"])
        sys.argv = list(request["argv"])
        from jupyterhub.singleuser import main

        result = main()
        code = result if isinstance(result, int) else 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def handle(conn: socket.socket, listener: socket.socket) -> None:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    try:
        request = json.loads(data)
        if not (isinstance(request.get("argv"), list) and isinstance(request.get("env"), dict)):
            raise ValueError("argv must be a list and env an object")
        if any(request["env"].get(k, "") != os.environ.get(k, "") for k in IMPORT_TIME_ENV):
            raise ValueError(f"{' or '.join(IMPORT_TIME_ENV)} differ from the preload server's")
        os.stat(request["cwd"])
        run_as = RunAs.from_dict(request["run_as"]) if "run_as" in request else None
        if run_as is not None and os.geteuid() != 0:
            raise ValueError("run_as needs a preload server running as root")
    except (ValueError, KeyError, TypeError, OSError) as e:
        conn.sendall(json.dumps({"error": f"bad request: {e}"}).encode() + b"\n")
        return
    pid = os.fork()
    if pid == 0:
        child(request, run_as, listener, conn)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def serve(path: str) -> None:
    preload()
    # Children are workspace servers that the spawner watches by pid: never leave zombies.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old_umask)
    listener.listen(16)
    print(f"[preload] ready on {path}", file=sys.stderr, flush=True)
    try:
        while True:
            conn, _ = listener.accept()
            with conn:
                handle(conn, listener)
    except KeyboardInterrupt:
        pass
    finally:  # also on SystemExit from SIGTERM
        listener.close()
        if os.path.exists(path):
            os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("socket", help="path of the Unix socket to listen on")
    serve(parser.parse_args().socket)


if __name__ == "__main__":
    main()
