"""`labworks up` as a supervisor: the instance lock, the record of started processes, stopping
what a crashed instance left (and nothing else), stable internal ports, and the platform
service's lifeline to its hub. Real processes, real sockets."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from labworks_hub.supervisor import (
    INTERNAL_PORTS,
    Recorded,
    SupervisedHub,
    SupervisorError,
    lock_instance,
    read_record,
    stable_ports,
    start_time,
    stop_leftovers,
    write_record,
)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start processes in sessions of their own, as JupyterHub starts the proxy and services;
    whatever still runs at the end is killed."""
    started: list[subprocess.Popen] = []

    def start(*argv: str, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def record_of(role: str, proc: subprocess.Popen) -> Recorded:
    started = start_time(proc.pid)
    assert started is not None
    return Recorded(role, proc.pid, started)


# --- one instance per home ------------------------------------------------------------------


def test_a_second_instance_is_refused_naming_the_first(tmp_path):
    lock_instance(tmp_path / "labworks.lock")
    refusal = rf"already running on {re.escape(str(tmp_path))} .*pid {os.getpid()}\)"
    with pytest.raises(SupervisorError, match=refusal):
        lock_instance(tmp_path / "labworks.lock")
    assert (tmp_path / "labworks.lock").stat().st_mode & 0o077 == 0


def test_the_lock_of_a_killed_instance_is_free(tmp_path):
    path = tmp_path / "labworks.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from pathlib import Path
            from labworks_hub.supervisor import lock_instance
            lock_instance(Path({str(path)!r}))
            print("held", flush=True)
            time.sleep(600)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(SupervisorError, match=f"pid {holder.pid}"):
            lock_instance(path)
    finally:
        holder.kill()
        holder.wait()
    lock_instance(path)  # kill -9 leaves no stale lock


# --- stopping what a crashed instance left ---------------------------------------------------


def test_leftovers_on_record_are_stopped(tmp_path, spawn):
    service = spawn("sleep", "600")
    stubborn = spawn(
        sys.executable, "-c", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)"
        "\nprint('ready', flush=True)\ntime.sleep(600)", stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    record = tmp_path / "processes.json"
    entries = [record_of("service:labworks", service), record_of("proxy", stubborn)]
    write_record(record, entries)
    assert record.stat().st_mode & 0o077 == 0

    stopped = stop_leftovers(record, grace=1.0)

    assert sorted(stopped, key=lambda e: e.role) == sorted(entries, key=lambda e: e.role)
    assert service.wait(5) == -signal.SIGTERM
    assert stubborn.wait(5) == -signal.SIGKILL  # SIGTERM ignored: killed after the grace
    assert read_record(record) == []


def test_a_reused_pid_is_left_alone(tmp_path, spawn):
    """The record names the pid with another start time: someone else's process now."""
    stranger = spawn("sleep", "600")
    entry = record_of("proxy", stranger)
    record = tmp_path / "processes.json"
    write_record(record, [Recorded(entry.role, entry.pid, entry.started - 1)])

    assert stop_leftovers(record, grace=1.0) == []

    assert stranger.poll() is None


def test_no_record_or_a_broken_one_stops_nothing(tmp_path):
    assert stop_leftovers(tmp_path / "processes.json") == []
    (tmp_path / "processes.json").write_text("{not json")
    assert stop_leftovers(tmp_path / "processes.json") == []


def test_the_hub_records_its_proxy_and_services_only_while_they_run(tmp_path, spawn):
    proxy, service = spawn("sleep", "600"), spawn("sleep", "600")
    hub = SupervisedHub(process_record=str(tmp_path / "processes.json"))
    hub.proxy = SimpleNamespace(proxy_process=proxy)
    hub._service_map = {
        "labworks": SimpleNamespace(proc=service),
        "external": SimpleNamespace(),  # not managed: no process
    }
    hub.record_processes()
    assert read_record(tmp_path / "processes.json") == [
        record_of("proxy", proxy),
        record_of("service:labworks", service),
    ]
    service.kill()
    service.wait()
    hub.record_processes()
    assert read_record(tmp_path / "processes.json") == [record_of("proxy", proxy)]


# --- stable internal ports -------------------------------------------------------------------


def test_internal_ports_are_kept_across_starts(tmp_path):
    public = 8000
    ports, warnings = stable_ports({}, avoid={public})
    assert set(ports) == set(INTERNAL_PORTS) and warnings == []
    assert len(set(ports.values())) == 3 and public not in ports.values()
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(p < low for p in ports.values())  # no outgoing connection can hold one
    assert stable_ports(ports, avoid={public}) == (ports, [])


def test_a_kept_port_held_by_another_process_is_replaced_loudly():
    ports, _ = stable_ports({}, avoid=set())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["service"]))
        squatter.listen()
        again, warnings = stable_ports(ports, avoid=set())
    assert again["hub"] == ports["hub"] and again["proxy_api"] == ports["proxy_api"]
    assert again["service"] != ports["service"]
    assert len(warnings) == 1
    assert f"port {ports['service']} of the platform service" in warnings[0]
    assert "lose their connection" in warnings[0]


def test_a_kept_port_equal_to_the_public_one_is_replaced():
    ports, _ = stable_ports({}, avoid=set())
    again, warnings = stable_ports(ports, avoid={ports["hub"]})
    assert again["hub"] != ports["hub"] and len(warnings) == 1


# --- the platform service's lifeline ---------------------------------------------------------

SERVICE = """
import asyncio, os, signal
from labworks_hub.service.lifeline import watch_parent

async def main():
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    watch_parent(lambda: print("taking no more work", flush=True))
    print("serving", os.getpid(), flush=True)
    await stopped.wait()
    print("shut down cleanly", flush=True)

asyncio.run(main())
"""

HUB = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=open(sys.argv[2], "w"),
                 start_new_session=True)
time.sleep(600)
"""


def test_the_service_stops_when_its_hub_is_killed(tmp_path):
    out = tmp_path / "service.out"
    hub = subprocess.Popen([sys.executable, "-c", HUB, SERVICE, str(out)])
    service_pid = 0
    try:
        wait_until(lambda: "serving" in (out.read_text() if out.exists() else ""), "service up")
        service_pid = int(out.read_text().split()[1])
        hub.kill()  # kill -9: the hub cannot stop its services
        hub.wait()
        wait_until(lambda: not alive(service_pid), "the orphaned service exits", timeout=10)
        assert out.read_text().splitlines()[1:] == ["taking no more work", "shut down cleanly"]
    finally:
        hub.kill()
        if service_pid and alive(service_pid):
            os.kill(service_pid, signal.SIGKILL)
