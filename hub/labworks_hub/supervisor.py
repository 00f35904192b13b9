"""`labworks up` as a supervisor: one instance per state directory, stable internal addresses,
and what a crashed instance left behind stopped at the next start.

- **One instance.** `labworks.lock` in the home is flock'ed for the life of `labworks up` and
  holds its pid; a second `labworks up` on the same home is refused, naming that pid. The
  kernel drops the lock when the process dies, however it dies.
- **A record of what the hub starts.** The hub (`SupervisedHub`) keeps `processes.json` in the
  home up to date (within half a second) with the proxy and every managed service it runs:
  role, pid and start time (clock ticks after boot, `/proc/<pid>/stat`). Workspaces and job
  processes are never on it.
- **Crash recovery: stop, not adopt.** A `kill -9` of `labworks up` leaves the proxy and the
  services running in sessions of their own. At the next start, once the lock is taken, every
  recorded process that still runs *with the recorded start time* gets SIGTERM, then SIGKILL
  after a grace period; a pid with another start time belongs to someone else now and is left
  alone. Signals go through a pidfd opened before the check, so the check and the signal name
  the same process. The new hub then starts its own proxy and services; workspaces and jobs
  that outlived the crash keep running untouched: the hub re-adopts the workspaces from its
  database, the platform service re-attaches the jobs.
- **Stable internal addresses.** The hub API, proxy API and platform service ports are chosen
  once, below the kernel's ephemeral port range (so no outgoing connection holds one at the
  next start), kept in `labworks.json` and reused at every start: workspaces and jobs that
  outlive a restart still reach the hub and the platform API. A kept port that something else
  holds is replaced with a loud warning.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import random
import select
import signal
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyterhub.app import JupyterHub
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Unicode

from .processes import start_time
from .redaction import redact_hub_log

INTERNAL_PORTS = {  # role -> what listens there
    "hub": "the hub API",
    "proxy_api": "the proxy's API",
    "service": "the platform service",
}


class SupervisorError(Exception):
    """`labworks up` cannot start on this home; the message says why and what to do."""


# --- one instance per home ------------------------------------------------------------------


def lock_instance(path: Path) -> None:
    """Take the home's lock for the rest of this process's life (its descriptor is never
    closed; the kernel drops the lock when the process ends, however it ends) and write our
    pid in it. SupervisorError names the pid of the instance that holds it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise SupervisorError(
            f"Labworks is already running on {path.parent} (labworks up, pid {holder});"
            " stop it first (Ctrl-C there, or kill it), or choose another --home"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())


# --- the record of started processes --------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One process the hub started. Pid and start time together name it for good."""

    role: str
    pid: int
    started: int


def read_record(path: Path) -> list[Recorded]:
    try:
        entries = json.loads(path.read_text())
        return [Recorded(e["role"], int(e["pid"]), int(e["started"])) for e in entries]
    except (OSError, ValueError, KeyError, TypeError):  # none, or unreadable: nothing to trust
        return []


def write_record(path: Path, entries: list[Recorded]) -> None:
    """Replace the record at once (a crash never leaves half a file), mode 0600."""
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([asdict(e) for e in entries], f)
    partial.replace(path)


def stop_leftovers(path: Path, grace: float = 10.0) -> list[Recorded]:
    """Stop what the record names and still runs as recorded (SIGTERM, SIGKILL after `grace`
    seconds); call only with the instance lock held. Returns what was stopped."""
    found: dict[int, Recorded] = {}  # pidfd -> its process
    for entry in read_record(path):
        try:
            fd = os.pidfd_open(entry.pid)
        except OSError:  # gone
            continue
        if start_time(entry.pid) == entry.started:
            found[fd] = entry
        else:  # the pid was reused: not ours
            os.close(fd)
    try:
        _signal_all(found, signal.SIGTERM)
        running = _wait_exited(found, grace)
        _signal_all(running, signal.SIGKILL)
        if _wait_exited(running, 10.0):
            names = ", ".join(f"{e.role} (pid {e.pid})" for e in running.values())
            raise SupervisorError(f"cannot stop what a crashed labworks up left running: {names}")
    finally:
        for fd in found:
            os.close(fd)
    write_record(path, [])
    return list(found.values())


def _signal_all(processes: dict[int, Recorded], sig: signal.Signals) -> None:
    for fd in processes:
        with contextlib.suppress(ProcessLookupError):  # exited meanwhile
            signal.pidfd_send_signal(fd, sig)


def _wait_exited(processes: dict[int, Recorded], timeout: float) -> dict[int, Recorded]:
    """Wait until every process has exited (its pidfd turns readable) or `timeout` passes;
    returns those still running."""
    running = dict(processes)
    deadline = time.monotonic() + timeout
    while running and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select(list(running), [], [], left)
        for fd in ready:
            running.pop(fd)
    return running


def boxed(lines: tuple[str, ...]) -> str:
    """`lines` framed, to stand out in a scrolling log."""
    width = max(len(line) for line in lines)
    edge = "+" + "-" * (width + 4) + "+"
    return "\n".join(["", edge, *(f"|  {line.ljust(width)}  |" for line in lines), edge, ""])


class SupervisedHub(JupyterHub):
    """JupyterHub that keeps the record of the processes it starts (the proxy and the managed
    services) in `process_record`, for the next `labworks up` to stop after a crash, and keeps
    OAuth states out of its log."""

    process_record = Unicode("", help="File of the processes this hub started.").tag(config=True)
    record_interval = Float(0.5, help="Seconds between looks at the started processes.")

    _recorded: list[Recorded] | None = None
    # Set by `labworks up` before the hub starts (never config: it may hold the first admin's
    # password): lines shown in a box once the hub runs, after JupyterHub's own start lines.
    welcome: tuple[str, ...] = ()

    def init_logging(self) -> None:
        super().init_logging()
        redact_hub_log()

    async def start(self) -> None:
        if self.process_record:
            recorder = PeriodicCallback(self.record_processes, self.record_interval * 1000)
            self._periodic_callbacks["labworks_record"] = recorder  # stopped with the others
            recorder.start()
        await super().start()
        if self.welcome:
            print(boxed(self.welcome), flush=True)

    async def cleanup(self) -> None:
        await super().cleanup()
        if self.process_record:
            self.record_processes()  # what was stopped drops out

    def started_processes(self) -> dict[str, int]:
        """Role -> pid of each process this hub started that still runs. Only unreaped
        children are named, so a pid here cannot have been reused yet."""
        children = {"proxy": getattr(self.proxy, "proxy_process", None)}
        for name, service in self._service_map.items():
            children[f"service:{name}"] = getattr(service, "proc", None)
        return {
            role: child.pid
            for role, child in children.items()
            if child is not None and child.poll() is None
        }

    def record_processes(self) -> None:
        entries = []
        for role, pid in sorted(self.started_processes().items()):
            started = start_time(pid)
            if started is not None:
                entries.append(Recorded(role, pid, started))
        if entries != self._recorded:
            write_record(Path(self.process_record), entries)
            self._recorded = entries


# --- stable internal ports ------------------------------------------------------------------


def bind_error(ip: str, port: int) -> OSError | None:
    """Why nothing can listen on ip:port now (EADDRINUSE: something does), or None."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError as e:
            return e
    return None


def _port_range() -> range:
    """Where internal ports are picked: below the kernel's ephemeral range."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(10000, low) if low > 11000 else range(10000, 65536)


def pick_port(ip: str, avoid: set[int]) -> int:
    candidates = _port_range()
    for _ in range(200):
        port = random.choice(candidates)  # noqa: S311 (not a secret)
        if port not in avoid and bind_error(ip, port) is None:
            return port
    raise SupervisorError(f"no free port for the platform's internal addresses on {ip}")


def stable_ports(
    saved: dict[str, int], avoid: set[int], ip: str = "127.0.0.1"
) -> tuple[dict[str, int], list[str]]:
    """The internal ports for this start, and a warning for each kept one that had to change.

    Kept ports are reused; a missing one (first start) is picked; a kept one that is busy (or
    in `avoid`, e.g. the public port) is picked anew."""
    ports: dict[str, int] = {}
    warnings = []
    for role, what in INTERNAL_PORTS.items():
        kept = saved.get(role)
        taken = avoid | set(ports.values())
        if isinstance(kept, int) and kept not in taken:
            error = bind_error(ip, kept)
            if error is None:
                ports[role] = kept
                continue
            if error.errno != errno.EADDRINUSE:
                raise SupervisorError(f"cannot listen on {ip}:{kept}: {error.strerror}")
        ports[role] = pick_port(ip, taken)
        if isinstance(kept, int):
            warnings.append(
                f"WARNING: port {kept} of {what}, kept since the first start, is taken by"
                f" another process; using {ports[role]} from now on. Workspaces and jobs still"
                " running from before this start lose their connection to it: restart them."
            )
    return ports, warnings
